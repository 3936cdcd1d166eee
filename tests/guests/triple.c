/*
 * triple.c - the "triple" test guest: with an IDT limit of 0, INT3 raises
 * #BP, whose delivery raises #GP, whose delivery raises #DF, which cannot be
 * delivered either: a triple fault (Intel SDM vol. 3A, 6.15, interrupt 8).
 * Keel must stop this VM, and only it, with reason=triple-fault.
 */
#include "tests/guests/guest.h"

void guest_main(void *start_info)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = { 0, 0 };

	gprintln("triple: IDT limit 0, then INT3 (expect reason=triple-fault)");
	asm volatile("lidt %0\n\tint3" : : "m"(idtr) : "memory");
	gprintln("triple: FAIL still running after INT3");
	guest_exit(1);
}
