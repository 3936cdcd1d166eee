/*
 * selftest_vm.c - the virtualization core's in-kernel self-test: VMs created,
 * run, stopped and destroyed many times must give back every page.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/err.h"
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
	/* One round first: the heap keeps a partly used slab per size class. */
	err = cycle_once(0, true);
	pmm_get_stats(&before);
	for (unsigned i = 1; !err && i <= rounds; i++)
		err = cycle_once(i, i % 2 == 0);
	pmm_get_stats(&after);
	snprintf(detail, len, "%u VMs created and destroyed (half of them run), "
		 "free pages %llu -> %llu%s%s", rounds,
		 (unsigned long long)before.free_pages,
		 (unsigned long long)after.free_pages, err ? ": " : "",
		 err ? err_str(err) : "");
	if (err)
		return err;
	return before.free_pages == after.free_pages ? 0 : KEEL_EIO;
}
