/*
 * boot_info.h - the contract between a boot path and the kernel.
 *
 * The UEFI loader (boot/) and the kernel's Multiboot2 entry (kernel/mb2.c) both
 * fill one struct boot_info and hand it to kernel_main(). Every address in it is
 * physical. The struct is versioned: a kernel refuses a boot_info whose magic,
 * version or size it does not know. Append fields at the end and bump the version.
 */
#ifndef KEEL_BOOT_INFO_H
#define KEEL_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC 0x544F4F424C45454BULL /* "KEELBOOT" little-endian */
#define BOOT_INFO_VERSION 1

#define BOOT_MMAP_MAX 512
#define BOOT_MODULES_MAX 32
#define BOOT_PATH_MAX 128
#define BOOT_ARGS_MAX 256
#define BOOT_DEVICE_MAX 256
#define BOOT_SEED_MAX 64

/*
 * Kernel virtual layout (both boot paths set it up before entering the kernel).
 * The kernel is linked at KERNEL_LINK_BASE; it may be loaded at any 2 MiB-aligned
 * physical address (boot_info.kernel_phys), the UEFI loader picks one, Multiboot2
 * uses KERNEL_LOAD_PHYS.
 */
#define KERNEL_VIRT_BASE 0xFFFFFFFF80000000ULL
#define KERNEL_LOAD_PHYS 0x200000ULL
#define KERNEL_LINK_BASE (KERNEL_VIRT_BASE + KERNEL_LOAD_PHYS)
#define DIRECT_MAP_BASE 0xFFFF800000000000ULL

/*
 * The kernel image starts (first byte of its lowest PT_LOAD segment, at
 * KERNEL_LINK_BASE) with this header, so the UEFI loader finds the 64-bit
 * entry point; the ELF e_entry is the 32-bit Multiboot2 entry.
 * The loader enters entry64 with:
 *   - interrupts off, long mode, CR3 = loader-built tables mapping
 *     [0, top of RAM) identically and at DIRECT_MAP_BASE (2 MiB or 1 GiB pages),
 *     and [image_start, image_end) at kernel_phys (2 MiB pages, 2 MiB aligned);
 *   - EFER.NXE set; RSP on a loader stack of at least 64 KiB (16-byte aligned,
 *     minus 8 as after a call); RDI = physical address of struct boot_info.
 */
#define KERNEL_HEADER_MAGIC "KEELKRNL"
#define KERNEL_HEADER_VERSION 1

struct kernel_header {
	char magic[8];	     /* KERNEL_HEADER_MAGIC, not NUL-terminated */
	uint32_t version;    /* KERNEL_HEADER_VERSION */
	uint32_t size;	     /* sizeof(struct kernel_header) */
	uint64_t entry64;    /* virtual address of the UEFI-path entry */
	uint64_t image_start; /* virtual, = KERNEL_LINK_BASE */
	uint64_t image_end;   /* virtual, end of everything incl. bss, page aligned */
};

enum boot_method {
	BOOT_METHOD_UEFI = 1,
	BOOT_METHOD_MULTIBOOT2 = 2,
};

/* Memory map entry types (the loader translates firmware types into these). */
enum boot_mem_type {
	BOOT_MEM_USABLE = 1,	  /* free RAM */
	BOOT_MEM_RECLAIMABLE = 2, /* firmware boot services / loader memory:
				     free once the kernel runs on its own page
				     tables and has copied boot_info */
	BOOT_MEM_KERNEL = 3,	  /* the kernel image */
	BOOT_MEM_MODULE = 4,	  /* files loaded for the kernel (modules, keel.cfg) */
	BOOT_MEM_BOOTINFO = 5,	  /* this struct (reclaimable after the copy) */
	BOOT_MEM_ACPI_RECLAIM = 6,
	BOOT_MEM_ACPI_NVS = 7,
	BOOT_MEM_RESERVED = 8, /* runtime services, MMIO, firmware-reserved */
	BOOT_MEM_BAD = 9,
};

struct boot_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* enum boot_mem_type */
	uint32_t reserved;
};

#define BOOT_MODULE_MISSING (1u << 0) /* named in keel.cfg, not found */
#define BOOT_MODULE_TOO_BIG (1u << 1) /* could not be loaded (no memory):
					 size is the file's, phys is 0 */

struct boot_module {
	uint64_t phys; /* 0 when missing */
	uint64_t size;
	uint32_t flags;
	uint32_t reserved;
	char path[BOOT_PATH_MAX];  /* as written in keel.cfg, NUL-terminated */
	char args[BOOT_ARGS_MAX];  /* text after the path, if any */
};

enum boot_fb_format {
	BOOT_FB_NONE = 0,
	BOOT_FB_RGBX = 1, /* byte 0 red, 1 green, 2 blue */
	BOOT_FB_BGRX = 2, /* byte 0 blue, 1 green, 2 red */
	BOOT_FB_BITMASK = 3,
};

struct boot_framebuffer {
	uint64_t phys; /* 0: no framebuffer */
	uint64_t size;
	uint32_t width, height;
	uint32_t pitch; /* bytes per line */
	uint32_t bpp;	/* bits per pixel (32 on everything GOP gives us) */
	uint32_t format; /* enum boot_fb_format */
	uint32_t red_mask, green_mask, blue_mask;
	uint32_t reserved;
};

struct boot_info {
	uint64_t magic;	  /* BOOT_INFO_MAGIC */
	uint32_t version; /* BOOT_INFO_VERSION */
	uint32_t size;	  /* sizeof(struct boot_info) */
	uint32_t method;  /* enum boot_method */
	uint32_t reserved0;
	char loader[64]; /* "keel-uefi 0.1", "grub 2.06", ... */

	uint64_t kernel_phys; /* where KERNEL_LINK_BASE is loaded */
	uint64_t kernel_size; /* bytes, rounded to pages, bss included */

	uint64_t acpi_rsdp;   /* 0: none found */
	uint64_t smbios;      /* entry point structure, 0: none */
	uint32_t smbios_major; /* 2 or 3 (which entry point) */
	uint32_t reserved1;

	struct boot_framebuffer fb;

	char boot_device[BOOT_DEVICE_MAX]; /* device path as text */
	uint32_t boot_from_network;	   /* 1 when loaded by PXE/HTTP */
	uint32_t seed_len;		   /* bytes valid in seed[] */
	uint8_t seed[BOOT_SEED_MAX];	   /* EFI_RNG_PROTOCOL output */

	/* Configuration text: keel.cfg as read (file form, one key per line), then
	 * the command line (load options / Multiboot2 command line, space
	 * separated). Either may be 0/0. NUL-terminated as well. */
	uint64_t cfg_file;
	uint64_t cfg_file_len;
	uint64_t cmdline;
	uint64_t cmdline_len;

	uint32_t mmap_count;
	uint32_t module_count;
	struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
	struct boot_module modules[BOOT_MODULES_MAX];
};

#endif
