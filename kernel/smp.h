/*
 * smp.h - starting the application processors and running a function on
 * another CPU.
 */
#ifndef KEEL_SMP_H
#define KEEL_SMP_H

#include <stdbool.h>

struct boot_info;

/* Start every enabled CPU of the MADT (at most max_cpus in all, 0 = no
 * limit). Returns the number of CPUs online, BSP included. */
unsigned smp_boot(const struct boot_info *bi, unsigned max_cpus, bool x2apic);

/* Run fn(arg) on 'cpu' and wait until it returned. The caller must have
 * interrupts enabled unless cpu is itself. Returns 0 or KEEL_EINVAL (no such
 * CPU online). */
int xcall_run(unsigned cpu, void (*fn)(void *), void *arg);
/* Run fn(arg) on every online CPU (this one too) and wait for all. */
void xcall_all(void (*fn)(void *), void *arg);

#endif
