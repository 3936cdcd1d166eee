/*
 * load.c - a VM's guest-physical layout and its first instruction.
 *
 * Layout: RAM from 0 up to min(mem, 3 GiB), the rest of mem above 4 GiB; with
 * firmware, the legacy holes of a PC are left out of RAM (0xA0000-0xBFFFF,
 * nothing; 0xE0000-0xFFFFF, the last 128 KiB of the firmware ROM) and the ROM
 * ends at 4 GiB. Four ways to start (enum vm_start_mode): the x86 reset state
 * (the backend's vcpu_create made it); 64-bit mode at an ELF64 image's entry,
 * on page tables and a GDT Keel writes below 0x8000; a Linux bzImage at its
 * 64-bit entry and a Multiboot kernel in 32-bit protected mode, both with the
 * structures of kernel/virt/boot_proto.h's layout below 0x30000.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/time.h"
#include "kernel/virt/acpi_gen.h"
#include "kernel/virt/boot_proto.h"
#include "kernel/virt/virt_internal.h"

#define LOW_RAM_MAX VM_LOW_RAM_MAX /* 3 GiB: the rest is the PCI/MMIO hole */
#define HIGH_RAM_BASE 0x100000000ULL
#define FW_ALIAS_MAX (128u << 10)
#define FW_MAX (16u << 20)

/* The 64-bit start: structures Keel writes into guest RAM. */
#define BOOT_PML4 0x1000ULL
#define BOOT_PDPT 0x2000ULL
#define BOOT_PD 0x3000ULL /* four pages: 0x3000-0x6FFF */
#define BOOT_GDT BOOT_GDT_ADDR
#define BOOT_RESERVED_END VM_BOOT_RESERVED_END

/* Descriptors (SDM vol.3 3.4.5): flat, 4 GiB, accessed. */
#define GDT_CODE64 0x00AF9B000000FFFFULL /* L, P, DPL 0, execute/read */
#define GDT_CODE32 0x00CF9B000000FFFFULL /* D, G, execute/read */
#define GDT_DATA 0x00CF93000000FFFFULL	 /* D/B, G, read/write */

static bool is_elf64(const void *p, size_t size)
{
	const uint8_t *b = p;
	return size >= 16 && !memcmp(b, "\177ELF", 4) && b[4] == 2;
}

/* How a kernel file starts, in this order: a Linux bzImage ("HdrS" at
 * 0x202, boot.rst), a Multiboot kernel (a header in the first 8 KiB, even
 * one Keel will refuse: the loader says why), an ELF64 executable. */
int vm_kernel_format(const void *image, size_t size, enum vm_start_mode *mode,
		     const char **why)
{
	struct mb_header h;

	if (size >= LINUX_HDR_MAGIC + 4 &&
	    !memcmp((const uint8_t *)image + LINUX_HDR_MAGIC, "HdrS", 4))
		*mode = VM_START_LINUX;
	else if (mb_header_find(image, size, &h, why) != KEEL_ENOENT)
		*mode = VM_START_MULTIBOOT;
	else if (is_elf64(image, size))
		*mode = VM_START_LONG64;
	else
		return KEEL_ENOTSUP;
	return 0;
}

static int add_ram(struct vm *vm, uint64_t gpa, uint64_t size)
{
	if (!size)
		return 0;
	int err = gmem_add(vm, gpa, size, GMEM_RAM);
	if (err)
		log_err("vm %s: no memory for %llu MiB of guest RAM at %#llx: %s",
			vm->name, (unsigned long long)(size >> 20),
			(unsigned long long)gpa, err_str(err));
	return err;
}

int vm_load(struct vm *vm, const struct vm_config *cfg)
{
	uint64_t low = cfg->mem < LOW_RAM_MAX ? cfg->mem : LOW_RAM_MAX;
	uint64_t high = cfg->mem - low;
	int err;

	vm->mem_bytes = cfg->mem;
	if (cfg->start == VM_START_RESET) {
		size_t fw = cfg->firmware_size;
		if (!fw || fw > FW_MAX || (fw & (PAGE_SIZE - 1))) {
			log_err("vm %s: firmware image of %zu bytes: it must be a "
				"multiple of 4 KiB and at most 16 MiB", vm->name, fw);
			return KEEL_EINVAL;
		}
		uint64_t alias = fw < FW_ALIAS_MAX ? fw : FW_ALIAS_MAX;
		err = add_ram(vm, 0, low < 0xA0000 ? low : 0xA0000);
		if (!err && low > 0xC0000)
			err = add_ram(vm, 0xC0000,
				      (low < 0x100000 - alias ? low : 0x100000 - alias) -
					      0xC0000);
		if (!err && low > 0x100000)
			err = add_ram(vm, 0x100000, low - 0x100000);
		if (!err)
			err = add_ram(vm, HIGH_RAM_BASE, high);
		if (!err)
			err = gmem_add(vm, HIGH_RAM_BASE - fw, fw, GMEM_ROM);
		if (!err)
			err = gmem_write(vm, HIGH_RAM_BASE - fw, cfg->firmware, fw);
		if (!err)
			err = gmem_alias(vm, 0x100000 - alias, alias,
					 HIGH_RAM_BASE - alias, GMEM_ROM);
		return err;
	}
	/* A kernel start: RAM from 0, 0xA0000-0xFFFFF included (zeros where a
	 * PC has its VGA window and option ROMs, so that Linux's ROM scan
	 * reads RAM and finds nothing; the ACPI tables at 0xE0000); the e820
	 * map (boot_e820_build) says which parts a kernel may use. */
	if (low < 2 * BOOT_RESERVED_END)
		return KEEL_EINVAL;
	err = add_ram(vm, 0, low);
	if (!err)
		err = add_ram(vm, HIGH_RAM_BASE, high);
	return err;
}

/* ---------------------------------------------------------- ELF64 start -- */

/* Zero [gpa, gpa + len) of guest RAM (a BSS). */
static int gmem_zero(struct vm *vm, uint64_t gpa, uint64_t len)
{
	static const uint8_t zeros[4096];
	int err = 0;

	for (uint64_t off = 0; !err && off < len;) {
		uint64_t n = len - off < sizeof(zeros) ? len - off : sizeof(zeros);
		err = gmem_write(vm, gpa + off, zeros, n);
		off += n;
	}
	return err;
}

/* Copy the segments of an image elf64_guest_check accepted. */
static int elf64_load(struct vm *vm, const void *image, size_t size)
{
	struct elf64_ehdr eh;

	memcpy(&eh, image, sizeof(eh));
	for (unsigned n = 0; n < eh.phnum; n++) {
		struct elf64_phdr ph;
		memcpy(&ph, (const uint8_t *)image + eh.phoff + n * sizeof(ph),
		       sizeof(ph));
		if (ph.type != ELF_PT_LOAD)
			continue;
		int err = gmem_write(vm, ph.paddr,
				     (const uint8_t *)image + ph.offset,
				     ph.filesz);
		if (!err)
			err = gmem_zero(vm, ph.paddr + ph.filesz,
					ph.memsz - ph.filesz);
		if (err) {
			log_err("vm %s: segment at %#llx (%llu bytes) does not fit in "
				"guest RAM", vm->name, (unsigned long long)ph.paddr,
				(unsigned long long)ph.memsz);
			return err;
		}
	}
	return 0;
}

/* Identity map of the low 4 GiB with 2 MiB pages. Not 1 GiB pages: the
 * guest's CPU need not have them (CPUID 0x80000001 EDX[26], absent on
 * qemu64). RAM above 4 GiB is not mapped: a Linux guest maps it itself. */
static int long64_tables(struct vm *vm)
{
	uint64_t pml4e = BOOT_PDPT | 0x7, pdpte[4];
	int err = gmem_write(vm, BOOT_PML4, &pml4e, sizeof(pml4e));

	for (unsigned i = 0; i < 4; i++)
		pdpte[i] = (BOOT_PD + i * PAGE_SIZE) | 0x7;
	if (!err)
		err = gmem_write(vm, BOOT_PDPT, pdpte, sizeof(pdpte));
	for (uint64_t i = 0; !err && i < 2048; i++) {
		uint64_t pde = (i << 21) | 0x87; /* P | RW | US | PS */
		err = gmem_write(vm, BOOT_PD + i * 8, &pde, sizeof(pde));
	}
	return err;
}

/* The ELF64 start's GDT: 0x08 64-bit code, 0x10 data. */
static const uint64_t long64_gdt[] = {0, GDT_CODE64, GDT_DATA};

static int boot_gdt_write(struct vm *vm, const uint64_t *gdt, size_t bytes)
{
	return gmem_write(vm, BOOT_GDT, gdt, bytes);
}

/* 64-bit mode at entry, CS = cs, the data segments = ds, RSI = rsi, on the
 * identity map and the GDT (gdt_limit) written before. */
static void long64_state(struct vcpu *vcpu, uint64_t entry, uint16_t cs,
			 uint16_t ds, uint16_t gdt_limit, uint64_t rsi)
{
	struct vcpu_sregs s;
	struct vcpu_regs r;
	struct vcpu_segment data = {.sel = ds, .attr = 0x0C93,
				    .limit = 0xFFFFFFFF, .base = 0};

	virt->get_sregs(vcpu, &s);
	s.cs = (struct vcpu_segment){.sel = cs, .attr = 0x0A9B,
				     .limit = 0xFFFFFFFF, .base = 0};
	s.ds = s.es = s.ss = s.fs = s.gs = data;
	s.tr = (struct vcpu_segment){.sel = 0, .attr = 0x008B, .limit = 0x67};
	s.ldtr = (struct vcpu_segment){.sel = 0, .attr = 0x0082, .limit = 0};
	s.gdtr = (struct vcpu_dtable){.base = BOOT_GDT, .limit = gdt_limit};
	s.idtr = (struct vcpu_dtable){.base = 0, .limit = 0};
	s.cr0 = 0x80050033; /* PG | WP | NE | ET | MP | PE */
	s.cr3 = BOOT_PML4;
	s.cr4 = 0x620;	    /* OSXMMEXCPT | OSFXSR | PAE */
	s.efer = 0x500;	    /* LMA | LME */
	s.cpl = 0;
	virt->set_sregs(vcpu, &s);
	memset(&r, 0, sizeof(r));
	r.rip = entry;
	r.rsi = rsi;
	r.rflags = 0x2; /* IF clear */
	virt->set_regs(vcpu, &r);
}

static int long64_boot(struct vm *vm, const struct vm_config *cfg)
{
	const char *why;
	uint64_t entry;
	int err;

	err = elf64_guest_check(cfg->image, cfg->image_size, &entry, &why);
	if (err) {
		log_err("vm %s: kernel image: %s", vm->name, why);
		return err;
	}
	err = elf64_load(vm, cfg->image, cfg->image_size);
	if (!err)
		err = long64_tables(vm);
	if (!err)
		err = boot_gdt_write(vm, long64_gdt, sizeof(long64_gdt));
	for (unsigned i = 0; !err && i < vm->vcpu_count; i++)
		long64_state(vm->vcpus[i], entry, 0x08, 0x10,
			     sizeof(long64_gdt) - 1, 0);
	return err;
}

/* ------------------------------------------------- Linux and Multiboot -- */

static unsigned vm_e820(const struct vm *vm, struct boot_e820_entry *map)
{
	uint64_t low = vm->mem_bytes < LOW_RAM_MAX ? vm->mem_bytes : LOW_RAM_MAX;

	return boot_e820_build(low, vm->mem_bytes - low, map, BOOT_E820_MAX);
}

/* The ACPI tables (kernel/virt/acpi_gen.h) at 0xE0000, which the e820 map
 * reserves: Linux finds them through boot_params.acpi_rsdp_addr or by
 * scanning 0xE0000-0xFFFFF for the RSDP; for Multiboot they are harmless.
 * *rsdp_gpa is the RSDP's guest-physical address. */
static int vm_load_acpi(struct vm *vm, uint64_t *rsdp_gpa)
{
	struct acpi_gen_config c;
	size_t rsdp_off, len;
	void *buf = kmalloc(BOOT_ACPI_SIZE);
	int err;

	if (!buf)
		return KEEL_ENOMEM;
	acpi_gen_defaults(&c, vm->vcpu_count);
	len = acpi_gen_build(&c, buf, BOOT_ACPI_SIZE, BOOT_ACPI_BASE, &rsdp_off);
	if (!len) {
		log_err("vm %s: the ACPI tables for %u vCPUs do not fit in %llu "
			"KiB", vm->name, vm->vcpu_count,
			(unsigned long long)(BOOT_ACPI_SIZE >> 10));
		err = KEEL_ERANGE;
	} else {
		err = gmem_write(vm, BOOT_ACPI_BASE, buf, len);
		*rsdp_gpa = BOOT_ACPI_BASE + rsdp_off;
	}
	kfree(buf);
	return err;
}

/* The Linux start (boot.rst, "64-bit BOOT PROTOCOL"): the protected-mode
 * kernel at pref_address, initrd, command line and zero page where
 * linux_layout_plan put them, the low 4 GiB identity-mapped, a GDT with
 * __BOOT_CS and __BOOT_DS, vCPU 0 at the 64-bit entry with RSI = the zero
 * page and interrupts off. */
static const uint64_t linux_gdt[] = {0, 0, GDT_CODE64, GDT_DATA};

static int linux_boot_write(struct vm *vm, const struct vm_config *cfg,
			    const char *cmdline, struct boot_e820_entry *map,
			    unsigned n, struct linux_image *li_in)
{
	struct linux_image li = *li_in;
	struct linux_layout lay;
	uint64_t initrd_size = cfg->initrd ? cfg->initrd_size : 0;
	uint64_t rsdp = 0;
	const char *why;
	int err;

	err = linux_layout_plan(&li, map, n, initrd_size, strlen(cmdline), &lay,
				&why);
	if (err) {
		log_err("vm %s: Linux kernel: %s (pref_address %#llx, init_size "
			"%u MiB, initrd %llu KiB, command line %zu of %u bytes, "
			"guest RAM %llu MiB)", vm->name, why,
			(unsigned long long)li.pref_address, li.init_size >> 20,
			(unsigned long long)(initrd_size >> 10), strlen(cmdline),
			li.cmdline_size, (unsigned long long)(vm->mem_bytes >> 20));
		return err;
	}
	uint8_t *zp = kzalloc(PAGE_SIZE);
	if (!zp)
		return KEEL_ENOMEM;
	err = vm_load_acpi(vm, &rsdp);
	if (!err) {
		linux_boot_params_build(zp, cfg->image, &li, &lay, map, n, rsdp);
		err = gmem_write(vm, lay.boot_params, zp, PAGE_SIZE);
	}
	kfree(zp);
	if (!err)
		err = gmem_write(vm, lay.kernel,
				 (const uint8_t *)cfg->image + li.setup_size,
				 li.kernel_size);
	if (!err && initrd_size)
		err = gmem_write(vm, lay.initrd, cfg->initrd, initrd_size);
	if (!err)
		err = gmem_write(vm, lay.cmdline, cmdline, strlen(cmdline) + 1);
	if (!err)
		err = long64_tables(vm);
	if (!err)
		err = boot_gdt_write(vm, linux_gdt, sizeof(linux_gdt));
	if (err) {
		log_err("vm %s: Linux kernel: writing it into guest RAM: %s",
			vm->name, err_str(err));
		return err;
	}
	long64_state(vm->vcpus[0], lay.entry, LINUX_BOOT_CS, LINUX_BOOT_DS,
		     sizeof(linux_gdt) - 1, lay.boot_params);
	log_info("vm %s: Linux boot protocol %u.%02u: kernel at %#llx (%zu KiB, "
		 "init_size %u KiB), initrd at %#llx (%llu KiB), entry %#llx",
		 vm->name, li.version >> 8, li.version & 0xFF,
		 (unsigned long long)lay.kernel, li.kernel_size >> 10,
		 li.init_size >> 10, (unsigned long long)lay.initrd,
		 (unsigned long long)(initrd_size >> 10),
		 (unsigned long long)lay.entry);
	return 0;
}

static int linux_boot(struct vm *vm, const struct vm_config *cfg)
{
	struct boot_e820_entry map[BOOT_E820_MAX];
	unsigned n = vm_e820(vm, map);
	char *cmdline;
	struct linux_image li;
	const char *why;
	int err;

	if (cfg->module_count) {
		log_err("vm %s: modules are for Multiboot kernels; a Linux kernel "
			"takes an initrd", vm->name);
		return KEEL_EINVAL;
	}
	err = linux_image_check(cfg->image, cfg->image_size, &li, &why);
	if (err) {
		log_err("vm %s: Linux kernel: %s", vm->name, why);
		return err;
	}
	size_t cap = (cfg->cmdline ? strlen(cfg->cmdline) : 0) + 48;
	cmdline = kmalloc(cap);
	if (!cmdline)
		return KEEL_ENOMEM;
	linux_cmdline_compose(cmdline, cap, cfg->cmdline ? cfg->cmdline : "",
			      time_tsc_hz() / 1000);
	err = linux_boot_write(vm, cfg, cmdline, map, n, &li);
	kfree(cmdline);
	return err;
}

/* The Multiboot machine state (Multiboot 0.6.96, 3.2): 32-bit protected
 * mode, paging off, flat 4 GiB CS (execute/read) and data segments from
 * Keel's GDT, EFLAGS.IF and VM clear, EAX the magic, EBX the info. */
static const uint64_t mb_gdt[] = {0, GDT_CODE32, GDT_DATA};

static void protected32_state(struct vcpu *vcpu, uint32_t entry, uint32_t eax,
			      uint32_t ebx)
{
	struct vcpu_sregs s;
	struct vcpu_regs r;
	struct vcpu_segment data = {.sel = 0x10, .attr = 0x0C93,
				    .limit = 0xFFFFFFFF, .base = 0};

	virt->get_sregs(vcpu, &s);
	s.cs = (struct vcpu_segment){.sel = 0x08, .attr = 0x0C9B,
				     .limit = 0xFFFFFFFF, .base = 0};
	s.ds = s.es = s.ss = s.fs = s.gs = data;
	s.tr = (struct vcpu_segment){.sel = 0, .attr = 0x008B, .limit = 0x67};
	s.ldtr = (struct vcpu_segment){.sel = 0, .attr = 0x0082, .limit = 0};
	s.gdtr = (struct vcpu_dtable){.base = BOOT_GDT,
				      .limit = sizeof(mb_gdt) - 1};
	s.idtr = (struct vcpu_dtable){.base = 0, .limit = 0};
	s.cr0 = 0x11; /* ET | PE: paging off, caches on */
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	s.cpl = 0;
	virt->set_sregs(vcpu, &s);
	memset(&r, 0, sizeof(r));
	r.rip = entry;
	r.rax = eax;
	r.rbx = ebx;
	r.rflags = 0x2;
	virt->set_regs(vcpu, &r);
}

static int multiboot_load(struct vm *vm, const struct vm_config *cfg,
			  const struct mb_plan *plan, const uint32_t *starts)
{
	int err = 0;

	for (unsigned i = 0; !err && i < plan->count; i++) {
		const struct mb_segment *sg = &plan->seg[i];
		err = gmem_write(vm, sg->addr,
				 (const uint8_t *)cfg->image + sg->file_off,
				 sg->filesz);
		if (!err)
			err = gmem_zero(vm, sg->addr + sg->filesz,
					sg->memsz - sg->filesz);
	}
	for (unsigned i = 0; !err && i < cfg->module_count; i++)
		err = gmem_write(vm, starts[i], cfg->modules[i].data,
				 cfg->modules[i].size);
	return err;
}

static int multiboot_info_write(struct vm *vm, const struct vm_config *cfg,
				const struct boot_e820_entry *map, unsigned n,
				const uint32_t *starts)
{
	struct mb_info_module mods[VM_MAX_MODULES];
	struct mb_info_input in = {.map = map, .map_count = n,
				   .cmdline = cfg->cmdline ? cfg->cmdline : "",
				   .mods = mods, .mod_count = cfg->module_count};
	size_t cap = BOOT_MB_INFO_END - BOOT_MB_INFO, used;
	void *buf = kmalloc(cap);
	int err;

	if (!buf)
		return KEEL_ENOMEM;
	for (unsigned i = 0; i < cfg->module_count; i++)
		mods[i] = (struct mb_info_module){
			.start = starts[i],
			.end = starts[i] + (uint32_t)cfg->modules[i].size,
			.cmdline = cfg->modules[i].cmdline};
	err = mb_info_build(&in, buf, cap, BOOT_MB_INFO, &used);
	if (err)
		log_err("vm %s: the Multiboot information does not fit in %zu KiB",
			vm->name, cap >> 10);
	else
		err = gmem_write(vm, BOOT_MB_INFO, buf, used);
	kfree(buf);
	return err;
}

static int multiboot_boot(struct vm *vm, const struct vm_config *cfg)
{
	struct boot_e820_entry map[BOOT_E820_MAX];
	unsigned n = vm_e820(vm, map);
	uint64_t sizes[VM_MAX_MODULES];
	uint32_t starts[VM_MAX_MODULES];
	struct mb_header h;
	struct mb_plan plan;
	uint64_t rsdp;
	const char *why;
	int err;

	if (cfg->initrd) {
		log_err("vm %s: an initrd is for Linux kernels; a Multiboot "
			"kernel takes modules (vm.%s.module=)", vm->name, vm->name);
		return KEEL_EINVAL;
	}
	if (cfg->module_count > VM_MAX_MODULES)
		return KEEL_EINVAL;
	err = mb_header_find(cfg->image, cfg->image_size, &h, &why);
	if (!err)
		err = mb_plan_build(cfg->image, cfg->image_size, &h, map, n, &plan,
				    &why);
	if (err) {
		log_err("vm %s: Multiboot kernel: %s", vm->name, why);
		return err;
	}
	if (h.flags & MB_HF_VIDEO)
		log_info("vm %s: the Multiboot kernel asks for video mode type %u "
			 "%ux%ux%u; Keel has no framebuffer and says so (info "
			 "flags bits 11 and 12 clear)", vm->name, h.mode_type,
			 h.width, h.height, h.depth);
	for (unsigned i = 0; i < cfg->module_count; i++)
		sizes[i] = cfg->modules[i].size;
	err = mb_modules_place(map, n, plan.end, sizes, cfg->module_count,
			       starts, &why);
	if (err) {
		log_err("vm %s: Multiboot kernel: %s (kernel ends at %#llx, guest "
			"RAM %llu MiB)", vm->name, why,
			(unsigned long long)plan.end,
			(unsigned long long)(vm->mem_bytes >> 20));
		return err;
	}
	err = multiboot_load(vm, cfg, &plan, starts);
	if (!err)
		err = multiboot_info_write(vm, cfg, map, n, starts);
	if (!err)
		err = vm_load_acpi(vm, &rsdp);
	if (!err)
		err = boot_gdt_write(vm, mb_gdt, sizeof(mb_gdt));
	if (err) {
		log_err("vm %s: Multiboot kernel: writing it into guest RAM: %s",
			vm->name, err_str(err));
		return err;
	}
	protected32_state(vm->vcpus[0], plan.entry, MB_BOOT_MAGIC,
			  (uint32_t)BOOT_MB_INFO);
	log_info("vm %s: Multiboot kernel: %u segment(s) up to %#llx, %u "
		 "module(s), entry %#x", vm->name, plan.count,
		 (unsigned long long)plan.end, cfg->module_count, plan.entry);
	return 0;
}

int vm_boot_state(struct vm *vm, const struct vm_config *cfg)
{
	int err;

	switch (cfg->start) {
	case VM_START_RESET:
		return 0; /* vcpu_create left every vCPU in the reset state */
	case VM_START_LONG64:
		return long64_boot(vm, cfg);
	case VM_START_LINUX:
		err = linux_boot(vm, cfg);
		break;
	case VM_START_MULTIBOOT:
		err = multiboot_boot(vm, cfg);
		break;
	default:
		return KEEL_EINVAL;
	}
	/* Only vCPU 0 runs the kernel; the others are APs in the state after
	 * INIT, waiting for the start-up IPI the kernel sends them (SDM vol.3
	 * 9.4.3, MP spec B.4). */
	for (unsigned i = 1; !err && i < vm->vcpu_count; i++) {
		vm->vcpus[i]->sipi_vector = -1;
		vm->vcpus[i]->mp_state = VCPU_MP_WAIT_SIPI;
	}
	return err;
}
