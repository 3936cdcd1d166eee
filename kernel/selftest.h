/*
 * selftest.h - in-kernel self-tests run at boot when keel.cfg says
 * selftest=<name>[,<name>...] (or "all"): threads, sleep, preempt, spinlock,
 * xcall, pmm, heap; and only by name fault, stack, vmcycle, net (a DHCP
 * exchange through the first NIC), netlink (its link pulled down and up by
 * the test). Each prints "selftest <name>: ok ..." or
 * "selftest <name>: FAILED ...", then "selftest: N passed, N failed".
 */
#ifndef KEEL_SELFTEST_H
#define KEEL_SELFTEST_H

void selftest_start(const char *names);

#endif
