/*
 * main.c - bring-up, in one visible order: configuration, consoles, CPU
 * tables, memory, ACPI, interrupt controllers and time, scheduler, the other
 * CPUs, virtualization detection, then the ready line and the service threads.
 * Both boot paths (kernel/arch/entry.S: UEFI and Multiboot2) arrive here.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/e1000e.h"
#include "drivers/fbcon.h"
#include "drivers/netdev.h"
#include "drivers/pci.h"
#include "drivers/serial.h"
#include "drivers/virtio.h"
#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/arch/x86.h"
#include "kernel/boot.h"
#include "kernel/config.h"
#include "kernel/err.h"
#include "kernel/cpu.h"
#include "kernel/ioapic.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/shell.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/wallclock.h"
#include "kernel/trap.h"
#include "kernel/virt/virt.h"
#include "kernel/virt_detect.h"
#include "mgmt/mgmt.h"
#include "mm/mm.h"

#ifndef KEEL_VERSION
#define KEEL_VERSION "dev"
#endif

uint64_t kernel_phys_base = KERNEL_LOAD_PHYS;
struct keel_config keel_cfg;
static struct boot_info boot_info_copy;
static unsigned cfg_warnings;

extern uint64_t __stack_chk_guard;

uint64_t kernel_virt_to_phys(const void *p)
{
	return (uint64_t)p - KERNEL_LINK_BASE + kernel_phys_base;
}

/* UEFI path: the loader's boot_info is in loader memory; keep a copy. */
__attribute__((no_stack_protector)) void uefi_start(uint64_t bi_phys)
{
	mm_direct_offset = DIRECT_MAP_BASE;
	const struct boot_info *src = phys_to_virt(bi_phys);
	struct boot_info *bi = &boot_info_copy;

	if (src->magic != BOOT_INFO_MAGIC || src->version != BOOT_INFO_VERSION ||
	    src->size != sizeof(*src)) {
		/* Nothing can be trusted; say so on the default serial port. */
		serial_init(0x3F8, 115200);
		kprint_line("keel: boot_info from the loader has magic %#llx "
			    "version %u size %u; expected version %u size %zu. "
			    "Loader and kernel do not match.",
			    (unsigned long long)src->magic, src->version, src->size,
			    BOOT_INFO_VERSION, sizeof(*src));
		for (;;)
			cpu_halt();
	}
	memcpy(bi, src, sizeof(*bi));
	kernel_phys_base = bi->kernel_phys;
	uint64_t seed = __builtin_ia32_rdtsc() * 0x9E3779B97F4A7C15ULL;
	for (uint32_t i = 0; i + 8 <= bi->seed_len; i += 8) {
		uint64_t w;
		memcpy(&w, bi->seed + i, 8);
		seed ^= w;
	}
	__stack_chk_guard ^= seed;
	kernel_main(bi);
}

static void cfg_warn(void *ctx, const char *msg)
{
	cfg_warnings++;
	log_warn("%s", msg);
}

static void config_load(const struct boot_info *bi)
{
	config_defaults(&keel_cfg);
	if (bi->cfg_file && bi->cfg_file_len)
		config_apply(&keel_cfg, phys_to_virt(bi->cfg_file),
			     bi->cfg_file_len, CFG_FORM_FILE, "keel.cfg", cfg_warn,
			     NULL);
	if (bi->cmdline && bi->cmdline_len)
		config_apply(&keel_cfg, phys_to_virt(bi->cmdline),
			     bi->cmdline_len, CFG_FORM_CMDLINE, "command line",
			     cfg_warn, NULL);
}

static void report_modules(const struct boot_info *bi)
{
	for (uint32_t i = 0; i < bi->module_count; i++) {
		const struct boot_module *m = &bi->modules[i];
		if (m->flags & BOOT_MODULE_MISSING)
			log_warn("keel: module %s: not found on the boot volume", m->path);
		else if (m->flags & BOOT_MODULE_TOO_BIG)
			log_warn("keel: module %s: could not be loaded (no memory)",
				 m->path);
		else
			log_info("keel: module %s %llu bytes%s%s", m->path,
				 (unsigned long long)m->size, m->args[0] ? " args " : "",
				 m->args);
	}
	/* A module named in keel.cfg that no loader passed (Multiboot2 with a
	 * forgotten module2 line) is as missing as one not found. */
	for (unsigned i = 0; i < keel_cfg.module_count; i++) {
		bool found = false;
		for (uint32_t j = 0; j < bi->module_count && !found; j++)
			found = config_path_equal(keel_cfg.modules[i].path,
						  bi->modules[j].path);
		if (!found)
			log_warn("keel: module %s: named in keel.cfg but not loaded",
				 keel_cfg.modules[i].path);
	}
}

static void kernel_main_late(void *arg);

/* Continue on 'stack' (a guarded stack from mm/); never returns. */
static void __attribute__((noreturn))
call_on_stack(void (*fn)(void *), void *arg, void *stack)
{
	__asm__ volatile("movq %0, %%rsp\n\t"
			 "xorl %%ebp, %%ebp\n\t"
			 "call *%1\n\t"
			 "ud2"
			 :
			 : "r"(stack), "r"(fn), "D"(arg)
			 : "memory");
	__builtin_unreachable();
}

void kernel_main(struct boot_info *bi)
{
	int err;

	config_load(bi);
	log_set_level((enum log_level)keel_cfg.loglevel);
	panic_set_reboot(keel_cfg.panic == CFG_PANIC_REBOOT);
	if (keel_cfg.console & CFG_CONSOLE_SERIAL) {
		err = serial_init(keel_cfg.serial_port, keel_cfg.serial_baud);
		if (err && keel_cfg.serial_port != 0x3F8 &&
		    serial_init(0x3F8, 115200) == 0)
			log_warn("keel: no UART at serial_port=%#x, using 0x3f8",
				 keel_cfg.serial_port);
	}
	log_info("keel: Keel %s starting (%s, loader %s, kernel at %#llx)",
		 KEEL_VERSION, bi->method == BOOT_METHOD_UEFI ? "uefi" : "multiboot2",
		 bi->loader, (unsigned long long)bi->kernel_phys);
	log_info("keel: boot device %s%s; %u bytes of firmware entropy; "
		 "ACPI RSDP %#llx, SMBIOS %s %#llx", bi->boot_device,
		 bi->boot_from_network ? " (network)" : "", bi->seed_len,
		 (unsigned long long)bi->acpi_rsdp,
		 bi->smbios ? (bi->smbios_major >= 3 ? "3" : "2") : "none",
		 (unsigned long long)bi->smbios);
	if (cfg_warnings)
		log_warn("keel: %u configuration problem(s) above; defaults used "
			 "for those keys", cfg_warnings);

	cpu_features_detect();
	idt_init();
	cpu_init(0, 0);
	if (!cpu_features.nx)
		panic("this CPU has no NX bit; Keel needs it");

	err = mm_init(bi, keel_cfg.mem_reserve);
	if (err)
		panic("memory manager: %s", err_str(err));
	heap_init();
	void *stack = mm_alloc_stack(THREAD_STACK_SIZE);
	if (!stack)
		panic("no memory for the boot stack");
	call_on_stack(kernel_main_late, bi, stack);
	__builtin_unreachable();
}

static void kernel_main_late(void *arg)
{
	struct boot_info *bi = arg;
	int err;

	if (cpu_setup_ist())
		panic("no memory for IST stacks");
	idt_set_ist(2, IST_NMI);
	idt_set_ist(8, IST_DF);
	idt_set_ist(18, IST_MC);
	if (keel_cfg.console & CFG_CONSOLE_FB) {
		err = fbcon_init(&bi->fb);
		if (err && bi->fb.phys)
			log_warn("keel: framebuffer console: %s", err_str(err));
	}
	log_info("cpu: %s %s family %u model %u stepping %u", cpu_features.vendor,
		 cpu_features.brand, cpu_features.family, cpu_features.model,
		 cpu_features.stepping);
	report_modules(bi);

	err = acpi_init(bi->acpi_rsdp);
	if (err)
		log_err("keel: no usable ACPI tables (%s): one CPU, no power "
			"management", err_str(err));
	pic_disable();
	if (lapic_init(keel_cfg.x2apic))
		panic("the local APIC did not come up");
	percpu_data[0].apic_id = lapic_id();
	ioapic_init();
	if (time_init())
		panic("no timer to calibrate the TSC against");
	wallclock_init(); /* logs why when the CMOS clock cannot be read */
	lapic_timer_calibrate();
	lapic_timer_setup();
	sched_init_cpu();
	virt_detect_cpu(0);
	percpu_data[0].online = true;
	cpu_count_online = 1;
	irq_enable();

	unsigned cpus = smp_boot(bi, keel_cfg.cpus, keel_cfg.x2apic);
	/* Before the ready line, so a press right after it is not lost. */
	if (!power_button_enable())
		log_info("keel: no ACPI power button; use the poweroff command");
	enum virt_kind virt = virt_detect_summary();
	struct pmm_stats st;
	pmm_get_stats(&st);
	log_info("keel: %u cpu(s) online, %llu MiB usable, %llu MiB free, "
		 "%s APIC, timer %s", cpus,
		 (unsigned long long)(mm_usable_bytes() >> 20),
		 (unsigned long long)((st.free_pages * PAGE_SIZE) >> 20),
		 lapic_is_x2apic() ? "x2" : "x",
		 lapic_timer_uses_deadline() ? "TSC-deadline" : "one-shot");
	kprint_line("keel: ready cpus=%u mem_mib=%llu virt=%s boot=%s", cpus,
		    (unsigned long long)(mm_usable_bytes() >> 20),
		    virt_kind_name(virt),
		    bi->method == BOOT_METHOD_UEFI ? "uefi" : "multiboot2");

	/* Host devices: the drivers, then one enumeration that probes them. */
	virtio_net_register();
	e1000e_register();
	pci_init();
	if (!netdev_count())
		log_info("net: no network device found; carrying on without one");
	if (virt_init() == 0 || keel_cfg.vm_count)
		boot_vms_start(bi, &keel_cfg);
	mgmt_start(bi, &keel_cfg);
	shell_start();
	if (keel_cfg.selftest[0])
		selftest_start(keel_cfg.selftest);
	sched_start();
}
