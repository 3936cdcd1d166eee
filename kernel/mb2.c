/*
 * mb2.c - the Multiboot2 path (GRUB on BIOS machines, and the Bochs test path):
 * turn the Multiboot2 boot information (Multiboot2 spec 3.6) into the same
 * struct boot_info the UEFI loader builds. Runs on the boot page tables of
 * kernel/arch/entry.S, which map the low 4 GiB at DIRECT_MAP_BASE. Everything
 * the kernel keeps (command line, RSDP copy) is copied into kernel memory, so
 * the MBI itself can be reused once mm/ is up. Nothing in the MBI is trusted:
 * every tag is bounded by the total size.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/boot.h"
#include "kernel/log.h"
#include "mm/mm.h"

#define MB2_BOOT_MAGIC 0x36D76289

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_SMBIOS 13
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

static struct boot_info mb2_bi;
static char mb2_cmdline[4096];
static char mb2_cfg[16384];
static uint8_t mb2_rsdp[64] __attribute__((aligned(16)));
static uint8_t mb2_smbios[64] __attribute__((aligned(16)));

extern char __kernel_start[], __kernel_end[];
extern uint64_t __stack_chk_guard;

static void copy_str(char *dst, size_t cap, const char *src, size_t max)
{
	size_t n = strnlen(src, max);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static uint32_t mb2_mem_type(uint32_t t)
{
	switch (t) {
	case 1: return BOOT_MEM_USABLE;
	case 3: return BOOT_MEM_ACPI_RECLAIM;
	case 4: return BOOT_MEM_ACPI_NVS;
	case 5: return BOOT_MEM_BAD;
	default: return BOOT_MEM_RESERVED;
	}
}

static void mb2_mmap(struct boot_info *bi, const uint8_t *tag, uint32_t size)
{
	uint32_t esize = *(const uint32_t *)(tag + 8);
	if (esize < 24 || size < 16)
		return;
	for (uint32_t off = 16; off + esize <= size; off += esize) {
		const uint8_t *e = tag + off;
		if (bi->mmap_count >= BOOT_MMAP_MAX)
			break;
		struct boot_mmap_entry *m = &bi->mmap[bi->mmap_count++];
		memcpy(&m->base, e, 8);
		memcpy(&m->length, e + 8, 8);
		m->type = mb2_mem_type(*(const uint32_t *)(e + 16));
	}
}

/* A module's string is "<path> [args]": the path is the name keel.cfg uses
 * (\keel\guests\x.bin); a module named keel.cfg is the configuration file. */
static void mb2_module(struct boot_info *bi, const uint8_t *tag, uint32_t size)
{
	uint32_t start = *(const uint32_t *)(tag + 8);
	uint32_t end = *(const uint32_t *)(tag + 12);
	const char *str = (const char *)(tag + 16);
	size_t slen = size > 16 ? size - 16 : 0;

	while (slen && *str == ' ')
		str++, slen--;
	size_t plen = 0;
	while (plen < slen && str[plen] && str[plen] != ' ')
		plen++;
	const char *base = str;
	for (size_t i = 0; i < plen; i++)
		if (str[i] == '/' || str[i] == '\\')
			base = str + i + 1;
	if (end > start && (size_t)(str + plen - base) == 8 &&
	    !strncmp(base, "keel.cfg", 8)) {
		size_t n = end - start;
		if (n >= sizeof(mb2_cfg))
			n = sizeof(mb2_cfg) - 1;
		memcpy(mb2_cfg, phys_to_virt(start), n);
		mb2_cfg[n] = 0;
		bi->cfg_file = kernel_virt_to_phys(mb2_cfg);
		bi->cfg_file_len = n;
		return;
	}
	if (bi->module_count >= BOOT_MODULES_MAX)
		return;
	struct boot_module *m = &bi->modules[bi->module_count++];
	m->phys = start;
	m->size = end > start ? end - start : 0;
	copy_str(m->path, sizeof(m->path), str, plen);
	if (plen < slen)
		copy_str(m->args, sizeof(m->args), str + plen + 1, slen - plen - 1);
}

static void mb2_framebuffer(struct boot_info *bi, const uint8_t *tag,
			    uint32_t size)
{
	if (size < 31)
		return;
	uint8_t fbtype = tag[29];
	uint8_t bpp = tag[28];
	if (fbtype != 1 || bpp != 32) /* direct RGB, 32 bpp only */
		return;
	memcpy(&bi->fb.phys, tag + 8, 8);
	memcpy(&bi->fb.pitch, tag + 16, 4);
	memcpy(&bi->fb.width, tag + 20, 4);
	memcpy(&bi->fb.height, tag + 24, 4);
	bi->fb.bpp = 32;
	bi->fb.size = (uint64_t)bi->fb.pitch * bi->fb.height;
	if (size >= 36) {
		uint8_t rpos = tag[31], gpos = tag[33], bpos = tag[35];
		bi->fb.format = (rpos == 16 && gpos == 8 && bpos == 0) ? BOOT_FB_BGRX :
				(rpos == 0 && gpos == 8 && bpos == 16) ? BOOT_FB_RGBX :
									 BOOT_FB_BITMASK;
		bi->fb.red_mask = 0xFFu << rpos;
		bi->fb.green_mask = 0xFFu << gpos;
		bi->fb.blue_mask = 0xFFu << bpos;
	}
}

__attribute__((no_stack_protector)) void mb2_start(uint32_t magic,
						   uint32_t mbi_phys)
{
	struct boot_info *bi = &mb2_bi;

	mm_direct_offset = DIRECT_MAP_BASE;
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof(*bi);
	bi->method = BOOT_METHOD_MULTIBOOT2;
	bi->kernel_phys = KERNEL_LOAD_PHYS;
	bi->kernel_size = (uintptr_t)__kernel_end - (uintptr_t)__kernel_start;
	strlcpy(bi->loader, "multiboot2", sizeof(bi->loader));
	__stack_chk_guard ^= __builtin_ia32_rdtsc() * 0x9E3779B97F4A7C15ULL;

	if (magic != MB2_BOOT_MAGIC || mbi_phys == 0 || (mbi_phys & 7)) {
		log_err("mb2: bad Multiboot2 magic %#x or boot information at %#x",
			magic, mbi_phys);
		kernel_main(bi);
	}
	const uint8_t *mbi = phys_to_virt(mbi_phys);
	uint32_t total = *(const uint32_t *)mbi;
	if (total < 16 || total > 1024 * 1024)
		total = 16;
	for (uint32_t off = 8; off + 8 <= total;) {
		const uint8_t *tag = mbi + off;
		uint32_t type = ((const struct mb2_tag *)tag)->type;
		uint32_t size = ((const struct mb2_tag *)tag)->size;
		if (type == MB2_TAG_END || size < 8 || off + size > total)
			break;
		switch (type) {
		case MB2_TAG_CMDLINE:
			copy_str(mb2_cmdline, sizeof(mb2_cmdline),
				 (const char *)tag + 8, size - 8);
			bi->cmdline = kernel_virt_to_phys(mb2_cmdline);
			bi->cmdline_len = strlen(mb2_cmdline);
			break;
		case MB2_TAG_LOADER: {
			char name[64];
			copy_str(name, sizeof(name), (const char *)tag + 8, size - 8);
			strlcpy(bi->loader, name, sizeof(bi->loader));
			break;
		}
		case MB2_TAG_MODULE:
			if (size >= 16)
				mb2_module(bi, tag, size);
			break;
		case MB2_TAG_MMAP:
			mb2_mmap(bi, tag, size);
			break;
		case MB2_TAG_FRAMEBUFFER:
			mb2_framebuffer(bi, tag, size);
			break;
		case MB2_TAG_ACPI_NEW:
		case MB2_TAG_ACPI_OLD:
			/* A copy of the RSDP; prefer the ACPI 2.0 one. */
			if (type == MB2_TAG_ACPI_NEW || !bi->acpi_rsdp) {
				size_t n = size - 8 < sizeof(mb2_rsdp) ? size - 8 :
									 sizeof(mb2_rsdp);
				memcpy(mb2_rsdp, tag + 8, n);
				bi->acpi_rsdp = kernel_virt_to_phys(mb2_rsdp);
			}
			break;
		case MB2_TAG_SMBIOS:
			if (size > 16) {
				size_t n = size - 16 < sizeof(mb2_smbios) ?
						   size - 16 : sizeof(mb2_smbios);
				memcpy(mb2_smbios, tag + 16, n);
				bi->smbios = kernel_virt_to_phys(mb2_smbios);
				bi->smbios_major = tag[8];
			}
			break;
		}
		off += (size + 7) & ~7u;
	}
	snprintf(bi->boot_device, sizeof(bi->boot_device), "multiboot2 (%s)",
		 bi->loader);
	kernel_main(bi);
}
