/*
 * selftest_vm.c - the virtualization core's in-kernel self-test: VMs created,
 * run, stopped and destroyed many times must give back every page.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/err.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/virt/virt.h"

/* A 4 KiB firmware whose reset vector spins: jmp $ at 0xFFFFFFF0. */
static uint8_t spin_rom[4096] __attribute__((aligned(4096)));

static int cycle_once(unsigned round, bool run)
{
	struct vm_config cfg = {.cpus = 2, .mem = 16ULL << 20,
				.firmware = spin_rom,
				.firmware_size = sizeof(spin_rom),
				.start = VM_START_RESET};
	struct vm *vm;

	snprintf(cfg.name, sizeof(cfg.name), "cycle%u", round);
	int err = vm_create(&cfg, &vm);
	if (err)
		return err;
	if (run) {
		err = vm_start(vm);
		if (!err) {
			thread_sleep_ns(5000000);
			vm_stop(vm, VM_STOP_POWEROFF, "self-test");
		}
		vm_wait(vm);
	}
	int derr = vm_destroy(vm);
	return err ? err : derr;
}

static void settle_body(void *arg)
{
	completion_done(arg);
}

/* A finished thread's stack is freed by the next switch on its CPU: run a
 * short thread everywhere so every CPU has switched, and the count of
 * stacks still waiting is the same (one per CPU) at each measurement. */
static void settle(void)
{
	static struct completion done[MAX_CPUS];

	for (unsigned c = 0; c < MAX_CPUS; c++) {
		if (!percpu_data[c].online)
			continue;
		completion_init(&done[c]);
		if (!thread_create("vmcycle-settle", c, settle_body, &done[c]))
			completion_done(&done[c]);
	}
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (percpu_data[c].online)
			completion_wait(&done[c]);
	thread_sleep_ns(10000000);
}

int virt_selftest_cycle(unsigned rounds, char *detail, size_t len)
{
	struct pmm_stats before, after;
	int err;

	spin_rom[0xFF0] = 0xEB; /* jmp $ */
	spin_rom[0xFF1] = 0xFE;
	if (!virt) {
		snprintf(detail, len, "no virtualization backend");
		return KEEL_ENOTSUP;
	}
	/* A round of each kind first: the heap keeps a partly used slab per
	 * size class, and page tables of the stack area stay once made. */
	err = cycle_once(0, true);
	if (!err)
		err = cycle_once(0, false);
	settle();
	pmm_get_stats(&before);
	for (unsigned i = 1; !err && i <= rounds; i++) {
		struct pmm_stats st;
		err = cycle_once(i, i % 2 == 0);
		pmm_get_stats(&st);
		log_debug("vmcycle: round %u: %llu free pages", i,
			  (unsigned long long)st.free_pages);
	}
	settle();
	pmm_get_stats(&after);
	snprintf(detail, len, "%u VMs created and destroyed (half of them run), "
		 "free pages %llu -> %llu%s%s", rounds,
		 (unsigned long long)before.free_pages,
		 (unsigned long long)after.free_pages, err ? ": " : "",
		 err ? err_str(err) : "");
	if (err)
		return err;
	/* Exact up to the heap's slab granularity: which slab page the last
	 * few small objects (thread structures waiting to be reaped) sit in
	 * may differ by one or two pages. A leak of anything per VM would be
	 * 50 pages or more. */
	int64_t diff = (int64_t)before.free_pages - (int64_t)after.free_pages;
	return diff <= 2 && diff >= -2 ? 0 : KEEL_EIO;
}
