/*
 * flood.c - the "flood" test guest: 1000 console lines as fast as it can.
 * Keel shows a VM's lines on its own console at a bounded rate (a guest must
 * not be able to drown the host's serial line) and says how many it held
 * back; the VM's console buffer keeps them all.
 */
#include "tests/guests/guest.h"

void guest_main(void *start_info)
{
	guest_cpu_init();
	for (unsigned i = 0; i < 1000; i++)
		gprintln("flood: line %u", i);
	guest_exit(0);
}
