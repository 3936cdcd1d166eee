/*
 * bench.c - the "bench" test guest: BENCH_ITERS exits of each kind Keel's
 * `make bench` measures (CPUID, OUT to an emulated port, an MMIO write, a
 * hypercall), each loop between two bench markers on TESTDEV_BENCH
 * (README.md, "Bench markers"), then ends with status 0.
 */
#include "tests/guests/guest.h"

#ifndef BENCH_ITERS
#define BENCH_ITERS 100000
#endif

/* VMMCALL on AMD (APM vol. 3), VMCALL on Intel (SDM vol. 2C): the one the
 * CPU under the guest has; Keel answers either with RAX = 0. */
static bool cpu_is_amd(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	return (r[1] == 0x68747541 && r[3] == 0x69746E65) || /* AuthenticAMD */
	       (r[1] == 0x6F677948 && r[3] == 0x6E65476E);   /* HygonGenuine */
}

static void hypercall(bool amd)
{
	uint64_t rax = 0;

	if (amd)
		asm volatile("vmmcall" : "+a"(rax) : : "memory");
	else
		asm volatile("vmcall" : "+a"(rax) : : "memory");
}

static void marker(uint32_t k)
{
	outl(TESTDEV_BENCH, k);
}

static void run(uint32_t k, const char *name, unsigned kind, bool amd)
{
	uint64_t t0, t1;
	uint32_t r[4];

	t0 = rdtsc();
	marker(k);
	for (unsigned i = 0; i < BENCH_ITERS; i++) {
		switch (kind) {
		case 0:
			cpuid(0, 0, r);
			break;
		case 1:
			outl(TESTDEV_ECHO, i);
			break;
		case 2:
			*(volatile uint32_t *)SCRATCH_BASE = i;
			break;
		default:
			hypercall(amd);
		}
	}
	marker(k + 1);
	t1 = rdtsc();
	gprintln("bench: %s markers %u-%u iterations %u tsc %lu", name, k,
		 k + 1, BENCH_ITERS, t1 - t0);
}

void guest_main(void *start_info)
{
	bool amd = cpu_is_amd();

	guest_cpu_init();
	gprintln("bench: %u exits of each kind; markers 0-1 cpuid, 2-3 pio-out, "
		 "4-5 mmio-write, 6-7 hypercall (%s)", BENCH_ITERS,
		 amd ? "vmmcall" : "vmcall");
	run(0, "cpuid", 0, amd);
	run(2, "pio-out", 1, amd);
	run(4, "mmio-write", 2, amd);
	run(6, "hypercall", 3, amd);
	gprintln("bench: done");
	guest_exit(0);
}
