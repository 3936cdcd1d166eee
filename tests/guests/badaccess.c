/*
 * badaccess.c - the "badaccess" test guest: a load from guest-physical
 * 0xC0000000, which is neither RAM (RAM ends at 3 GiB at most) nor a device.
 * Keel must stop this VM with reason=bad-access and the address in the
 * detail; the load must never complete.
 */
#include "tests/guests/guest.h"

#define BAD_GPA 0xC0000000UL

void guest_main(void *start_info)
{
	uint32_t v;

	guest_cpu_init();
	gprintln("badaccess: reading gpa %#lx (expect reason=bad-access)",
		 BAD_GPA);
	v = *(volatile uint32_t *)BAD_GPA;
	gprintln("badaccess: FAIL the read gave %#x and the VM runs on", v);
	guest_exit(1);
}
