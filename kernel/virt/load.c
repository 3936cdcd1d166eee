/*
 * load.c - a VM's guest-physical layout and its first instruction.
 *
 * Layout: RAM from 0 up to min(mem, 3 GiB), the rest of mem above 4 GiB; with
 * firmware, the legacy holes of a PC are left out of RAM (0xA0000-0xBFFFF,
 * nothing; 0xE0000-0xFFFFF, the last 128 KiB of the firmware ROM) and the ROM
 * ends at 4 GiB. Two ways to start (enum vm_start_mode): the x86 reset state
 * (the backend's vcpu_create made it), or 64-bit mode at an ELF64 image's
 * entry, on page tables and a GDT Keel writes below 0x8000.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/virt/virt_internal.h"

#define LOW_RAM_MAX VM_LOW_RAM_MAX /* 3 GiB: the rest is the PCI/MMIO hole */
#define HIGH_RAM_BASE 0x100000000ULL
#define FW_ALIAS_MAX (128u << 10)
#define FW_MAX (16u << 20)

/* The 64-bit start: structures Keel writes into guest RAM. */
#define BOOT_PML4 0x1000ULL
#define BOOT_PDPT 0x2000ULL
#define BOOT_PD 0x3000ULL /* four pages: 0x3000-0x6FFF */
#define BOOT_GDT 0x7000ULL
#define BOOT_RESERVED_END VM_BOOT_RESERVED_END

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
	if (low < 2 * BOOT_RESERVED_END)
		return KEEL_EINVAL;
	err = add_ram(vm, 0, low);
	if (!err)
		err = add_ram(vm, HIGH_RAM_BASE, high);
	return err;
}

/* ---------------------------------------------------------- ELF64 start -- */

/* Copy the segments of an image elf64_guest_check accepted. */
static int elf64_load(struct vm *vm, const void *image, size_t size)
{
	struct elf64_ehdr eh;
	static const uint8_t zeros[4096];

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
		for (uint64_t off = ph.filesz; !err && off < ph.memsz;) {
			uint64_t n = ph.memsz - off;
			if (n > sizeof(zeros))
				n = sizeof(zeros);
			err = gmem_write(vm, ph.paddr + off, zeros, n);
			off += n;
		}
		if (err) {
			log_err("vm %s: segment at %#llx (%llu bytes) does not fit in "
				"guest RAM", vm->name, (unsigned long long)ph.paddr,
				(unsigned long long)ph.memsz);
			return err;
		}
	}
	return 0;
}

/* Identity map of the low 4 GiB with 2 MiB pages, and a flat GDT. */
static int long64_tables(struct vm *vm)
{
	uint64_t pml4e = BOOT_PDPT | 0x7, pdpte[4], gdt[3];
	int err = gmem_write(vm, BOOT_PML4, &pml4e, sizeof(pml4e));

	for (unsigned i = 0; i < 4; i++)
		pdpte[i] = (BOOT_PD + i * PAGE_SIZE) | 0x7;
	if (!err)
		err = gmem_write(vm, BOOT_PDPT, pdpte, sizeof(pdpte));
	for (uint64_t i = 0; !err && i < 2048; i++) {
		uint64_t pde = (i << 21) | 0x87; /* P | RW | US | PS */
		err = gmem_write(vm, BOOT_PD + i * 8, &pde, sizeof(pde));
	}
	gdt[0] = 0;
	gdt[1] = 0x00AF9B000000FFFFULL; /* 0x08: 64-bit code, accessed */
	gdt[2] = 0x00CF93000000FFFFULL; /* 0x10: data, accessed */
	if (!err)
		err = gmem_write(vm, BOOT_GDT, gdt, sizeof(gdt));
	return err;
}

static void long64_state(struct vcpu *vcpu, uint64_t entry)
{
	struct vcpu_sregs s;
	struct vcpu_regs r;
	struct vcpu_segment data = {.sel = 0x10, .attr = 0x0C93,
				    .limit = 0xFFFFFFFF, .base = 0};

	virt->get_sregs(vcpu, &s);
	s.cs = (struct vcpu_segment){.sel = 0x08, .attr = 0x0A9B,
				     .limit = 0xFFFFFFFF, .base = 0};
	s.ds = s.es = s.ss = s.fs = s.gs = data;
	s.tr = (struct vcpu_segment){.sel = 0, .attr = 0x008B, .limit = 0x67};
	s.ldtr = (struct vcpu_segment){.sel = 0, .attr = 0x0082, .limit = 0};
	s.gdtr = (struct vcpu_dtable){.base = BOOT_GDT, .limit = 23};
	s.idtr = (struct vcpu_dtable){.base = 0, .limit = 0};
	s.cr0 = 0x80050033; /* PG | WP | NE | ET | MP | PE */
	s.cr3 = BOOT_PML4;
	s.cr4 = 0x620;	    /* OSXMMEXCPT | OSFXSR | PAE */
	s.efer = 0x500;	    /* LMA | LME */
	s.cpl = 0;
	virt->set_sregs(vcpu, &s);
	memset(&r, 0, sizeof(r));
	r.rip = entry;
	r.rflags = 0x2;
	virt->set_regs(vcpu, &r);
}

int vm_boot_state(struct vm *vm, const struct vm_config *cfg)
{
	const char *why;
	uint64_t entry;
	int err;

	if (cfg->start == VM_START_RESET)
		return 0; /* vcpu_create left every vCPU in the reset state */
	err = elf64_guest_check(cfg->image, cfg->image_size, &entry, &why);
	if (err) {
		log_err("vm %s: kernel image: %s", vm->name, why);
		return err;
	}
	err = elf64_load(vm, cfg->image, cfg->image_size);
	if (!err)
		err = long64_tables(vm);
	for (unsigned i = 0; !err && i < vm->vcpu_count; i++)
		long64_state(vm->vcpus[i], entry);
	return err;
}
