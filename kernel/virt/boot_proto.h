/*
 * boot_proto.h - direct kernel boot: the guest's memory map (e820), the Linux
 * x86 boot protocol (bzImage, 64-bit entry) and Multiboot (v1). Everything
 * here is pure (no kernel calls): load.c writes what these functions plan,
 * and tests/unit/test_bootproto.c runs the same code on the host.
 */
#ifndef KEEL_BOOT_PROTO_H
#define KEEL_BOOT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Little-endian fields of boot images and structures, at any alignment
 * (x86 byte order: a copy is the conversion). */
static inline uint16_t get16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static inline uint32_t get32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static inline uint64_t get64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static inline void put16(uint8_t *p, size_t off, uint16_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static inline void put32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static inline void put64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

/*
 * Guest-physical layout of a Linux or Multiboot start (all below 1 MiB):
 *
 *   0x01000-0x06FFF  page tables (Linux only; the ELF64 start's identity map)
 *   0x07000-0x07FFF  GDT
 *   0x08000-0x08FFF  Linux: boot_params (the zero page)
 *   0x08000-0x1FFFF  Multiboot: the info structure, module list, memory map
 *                    and strings
 *   0x20000-0x2FFFF  Linux: the kernel command line
 *   0x9FC00-0x9FFFF  reserved in the e820 map (where a PC has its EBDA)
 *   0xE0000-0xFFFFF  reserved: the ACPI tables (written by load.c)
 *
 * The e820 map marks 0x0-0x9FBFF usable, Keel's structures included: Linux
 * copies boot_params and the command line before it allocates anything,
 * builds its own page tables and GDT, and keeps the first 64 KiB reserved
 * (CONFIG_X86_RESERVE_LOW) anyway. A Multiboot kernel must not load below
 * BOOT_AREA_END (Keel refuses it) and must not reuse the info area before it
 * has read it (Multiboot 0.6.96, 3.3).
 */
#define BOOT_GDT_ADDR 0x7000ULL
#define BOOT_ZERO_PAGE 0x8000ULL
#define BOOT_MB_INFO 0x8000ULL
#define BOOT_MB_INFO_END 0x20000ULL
#define BOOT_CMDLINE 0x20000ULL
#define BOOT_CMDLINE_END 0x30000ULL
#define BOOT_AREA_END 0x30000ULL /* Keel's structures lie below */
#define BOOT_EBDA 0x9FC00ULL
#define BOOT_ACPI_BASE 0xE0000ULL
#define BOOT_ACPI_SIZE 0x20000ULL /* up to 1 MiB */
#define BOOT_HIGH_MEM 0x100000ULL /* 1 MiB */
#define BOOT_4G 0x100000000ULL
#define BOOT_IOAPIC_BASE 0xFEC00000ULL
#define BOOT_LAPIC_BASE 0xFEE00000ULL

/* ---------------------------------------------------------------- e820 -- */

/* An entry of the BIOS INT 15h E820 map, as boot_params.e820_table holds it
 * (zero-page.rst; ACPI 6.5, 15.1 "Address Range Types"). */
struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_RAM 1
#define E820_RESERVED 2
#define BOOT_E820_MAX 8

/*
 * The map of a guest with RAM [0, low) and [4 GiB, 4 GiB + high), sorted by
 * address, no two entries overlapping: usable [0, 0x9FC00), reserved
 * [0x9FC00, 0xA0000) and [0xE0000, 0x100000), usable [1 MiB, low), the
 * IOAPIC's and the LAPIC's page reserved, usable high RAM. Returns the number
 * of entries written (at most max; BOOT_E820_MAX is always enough).
 */
unsigned boot_e820_build(uint64_t low, uint64_t high,
			 struct boot_e820_entry *map, unsigned max);
/* True when [addr, addr + size) lies inside one usable entry. */
bool boot_e820_usable(const struct boot_e820_entry *map, unsigned n,
		      uint64_t addr, uint64_t size);
/* The lowest align-aligned address >= from where [addr, addr + size) lies
 * inside one usable entry and below limit: 0 and *addr, or KEEL_ENOMEM. */
int boot_e820_fit(const struct boot_e820_entry *map, unsigned n, uint64_t from,
		  uint64_t size, uint64_t align, uint64_t limit, uint64_t *addr);

/* --------------------------------------------------------------- Linux -- */

/* Offsets in a bzImage and in boot_params (boot.rst, "THE REAL-MODE KERNEL
 * HEADER"; zero-page.rst). The setup header is at the same offset in both. */
#define LINUX_HDR_START 0x1F1	  /* setup_sects: first byte of the header */
#define LINUX_HDR_MAX_END 0x290	  /* edd_mbr_sig_buffer follows it */
#define LINUX_ZP_ACPI_RSDP 0x070  /* u64 acpi_rsdp_addr */
#define LINUX_ZP_EXT_RAMDISK_IMAGE 0x0C0
#define LINUX_ZP_EXT_RAMDISK_SIZE 0x0C4
#define LINUX_ZP_EXT_CMD_LINE_PTR 0x0C8
#define LINUX_ZP_E820_ENTRIES 0x1E8
#define LINUX_ZP_E820_TABLE 0x2D0
#define LINUX_ZP_E820_MAX 128
#define LINUX_HDR_SETUP_SECTS 0x1F1
#define LINUX_HDR_BOOT_FLAG 0x1FE	  /* u16 0xAA55 */
#define LINUX_HDR_JUMP 0x200
#define LINUX_HDR_MAGIC 0x202		  /* "HdrS" */
#define LINUX_HDR_VERSION 0x206
#define LINUX_HDR_TYPE_OF_LOADER 0x210
#define LINUX_HDR_LOADFLAGS 0x211
#define LINUX_HDR_RAMDISK_IMAGE 0x218
#define LINUX_HDR_RAMDISK_SIZE 0x21C
#define LINUX_HDR_HEAP_END_PTR 0x224
#define LINUX_HDR_CMD_LINE_PTR 0x228
#define LINUX_HDR_INITRD_ADDR_MAX 0x22C
#define LINUX_HDR_KERNEL_ALIGNMENT 0x230
#define LINUX_HDR_RELOCATABLE 0x234
#define LINUX_HDR_XLOADFLAGS 0x236
#define LINUX_HDR_CMDLINE_SIZE 0x238
#define LINUX_HDR_HARDWARE_SUBARCH 0x23C
#define LINUX_HDR_SETUP_DATA 0x250
#define LINUX_HDR_PREF_ADDRESS 0x258
#define LINUX_HDR_INIT_SIZE 0x260

#define LINUX_LOADED_HIGH 0x01	 /* loadflags */
#define LINUX_QUIET 0x20
#define LINUX_KEEP_SEGMENTS 0x40
#define LINUX_CAN_USE_HEAP 0x80
#define LINUX_XLF_KERNEL_64 0x0001 /* xloadflags */
#define LINUX_VERSION_MIN 0x020C   /* 2.12: xloadflags */
#define LINUX_ENTRY64_OFFSET 0x200 /* boot.rst, "64-bit BOOT PROTOCOL" */
#define LINUX_BOOT_CS 0x10	   /* __BOOT_CS */
#define LINUX_BOOT_DS 0x18	   /* __BOOT_DS */

/* What linux_image_check read from a bzImage's setup header. */
struct linux_image {
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	size_t setup_size;  /* (setup_sects + 1) * 512: where the kernel begins */
	size_t kernel_size; /* bytes of the protected-mode kernel in the file */
	size_t hdr_end;	    /* file offset one past the setup header */
	uint64_t pref_address;
	uint32_t kernel_alignment;
	uint32_t init_size;
	uint32_t initrd_addr_max; /* the highest address an initrd byte may have */
	uint32_t cmdline_size;	  /* longest command line, without the NUL */
};

/* Where a Linux start puts things (guest-physical). */
struct linux_layout {
	uint64_t kernel;      /* the protected-mode kernel's load address */
	uint64_t entry;	      /* kernel + 0x200: the 64-bit entry */
	uint64_t initrd;      /* 0 without an initrd */
	uint64_t initrd_size;
	uint64_t cmdline;
	uint64_t boot_params;
};

/* A bzImage Keel can start at its 64-bit entry: 0 and *li, or KEEL_EINVAL
 * and why. */
int linux_image_check(const void *image, size_t size, struct linux_image *li,
		      const char **why);
/* The initrd's address: as high as possible below initrd_addr_max + 1 and
 * 4 GiB, 4 KiB aligned, at or above 1 MiB, in one usable entry, not over the
 * kernel's [kernel_lo, kernel_hi). 0 and *addr, or KEEL_ENOMEM. */
int linux_initrd_place(const struct boot_e820_entry *map, unsigned n,
		       uint64_t size, uint64_t addr_max, uint64_t kernel_lo,
		       uint64_t kernel_hi, uint64_t *addr);
/* Plan a start: the kernel at pref_address (init_size bytes of usable RAM
 * from there), the initrd (initrd_size 0: none), the command line of
 * cmdline_len bytes (without its NUL) and boot_params at their fixed
 * addresses. 0 and *lay, or KEEL_EINVAL / KEEL_ENOMEM and why. */
int linux_layout_plan(const struct linux_image *li,
		      const struct boot_e820_entry *map, unsigned n,
		      uint64_t initrd_size, size_t cmdline_len,
		      struct linux_layout *lay, const char **why);
/* Fill the 4 KiB zero page: the image's setup header, then what the boot
 * loader sets (type_of_loader, loadflags, command line, initrd, e820 map,
 * ACPI RSDP; 0 for none). */
/* The command line Keel boots Linux with: the admin's, plus
 * "tsc_early_khz=<khz>" unless it is there already (or khz is 0). Linux
 * calibrates the TSC against the PIT or the PM timer with loops that time
 * port reads; under nested emulation every read is an exit, far slower
 * than the loops allow, so calibration fails and the TSC is declared
 * unusable. Keel knows the rate: it says so, as firmware does through
 * CPUID 0x15 on Intel. 0, or KEEL_ERANGE when dst (cap bytes) is short. */
int linux_cmdline_compose(char *dst, size_t cap, const char *src,
			  uint64_t tsc_khz);
void linux_boot_params_build(uint8_t *zp, const void *image,
			     const struct linux_image *li,
			     const struct linux_layout *lay,
			     const struct boot_e820_entry *map, unsigned n,
			     uint64_t acpi_rsdp);

/* ----------------------------------------------------------- Multiboot -- */

/* Multiboot Specification 0.6.96, 3.1 and 3.2. */
#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u /* EAX at entry */
#define MB_SEARCH 8192		  /* the header lies in the first 8 KiB */
#define MB_HF_PAGE_ALIGN (1u << 0) /* modules on 4 KiB boundaries */
#define MB_HF_MEMINFO (1u << 1)	   /* mem_* and mmap_* wanted */
#define MB_HF_VIDEO (1u << 2)	   /* a video mode wanted */
#define MB_HF_REQUIRED 0x0000FFFFu /* bits a loader must understand */
#define MB_HF_AOUT (1u << 16)	   /* the address fields are valid */

/* Multiboot info flags (3.3). */
#define MB_INFO_MEM (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)
#define MB_INFO_VBE (1u << 11)
#define MB_INFO_FRAMEBUFFER (1u << 12)

struct mb_header {
	size_t offset;	/* of the magic, in the file */
	uint32_t flags;
	/* flags bit 16 */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
	/* flags bit 2 */
	uint32_t mode_type, width, height, depth;
};

/* The boot information structure (3.3), as the guest sees it. */
struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; /* KiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off,
		vbe_interface_len;
	uint64_t framebuffer_addr;
	uint32_t framebuffer_pitch, framebuffer_width, framebuffer_height;
	uint8_t framebuffer_bpp, framebuffer_type;
	uint8_t color_info[6];
} __attribute__((packed));

struct mb_mod_entry {
	uint32_t mod_start, mod_end; /* end: one past the last byte (as GRUB) */
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));

struct mb_mmap_entry {
	uint32_t size; /* of the rest of the entry: 20 */
	uint64_t base_addr, length;
	uint32_t type; /* 1 available, anything else reserved */
} __attribute__((packed));

/* Find the header: 0 and *h; KEEL_ENOENT and why when there is none (no
 * magic with a valid checksum, 4-byte aligned, within the first 8 KiB);
 * KEEL_EINVAL and why for a header Keel must refuse (a required flag it does
 * not know, fields past 8 KiB or the end of the file). */
int mb_header_find(const void *image, size_t size, struct mb_header *h,
		   const char **why);

#define MB_MAX_SEGMENTS 16

/* A byte range to copy from the file, then zeros up to memsz. */
struct mb_segment {
	uint64_t file_off, filesz, memsz;
	uint32_t addr;
};

struct mb_plan {
	unsigned count;
	struct mb_segment seg[MB_MAX_SEGMENTS];
	uint32_t entry;
	uint64_t end; /* one past the highest byte loaded */
};

/* What to load where: the a.out kludge's addresses (flags bit 16), else the
 * ELF's PT_LOAD segments at their physical addresses (ELF32 EM_386, or ELF64
 * EM_X86_64 below 4 GiB). Every segment must lie in usable RAM at or above
 * BOOT_AREA_END and the entry inside a loaded segment. 0 and *p, or
 * KEEL_EINVAL and why. */
int mb_plan_build(const void *image, size_t size, const struct mb_header *h,
		  const struct boot_e820_entry *map, unsigned n,
		  struct mb_plan *p, const char **why);

/* Module i goes at starts[i]: one after the other from 'after' (the
 * kernel's end), each on a 4 KiB boundary (flags bit 0 or not), in usable
 * RAM below 4 GiB. 0, or KEEL_ENOMEM and why. */
int mb_modules_place(const struct boot_e820_entry *map, unsigned n,
		     uint64_t after, const uint64_t *sizes, unsigned count,
		     uint32_t *starts, const char **why);

struct mb_info_module {
	uint32_t start, end;
	const char *cmdline;
};

struct mb_info_input {
	const struct boot_e820_entry *map;
	unsigned map_count;
	const char *cmdline; /* NULL: flags bit 2 clear */
	const struct mb_info_module *mods;
	unsigned mod_count;
};

/* Build the info structure at the start of buf, which the guest sees at
 * base, followed by the module list, the memory map and the strings. 0 and
 * *used (bytes of buf written), or KEEL_ERANGE when cap is too small. */
int mb_info_build(const struct mb_info_input *in, void *buf, size_t cap,
		  uint32_t base, size_t *used);

#endif
