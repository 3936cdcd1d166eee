/*
 * loader.h - what the UEFI loader's own files share (boot/ internal; the
 * contract with the kernel is boot_info.h). Firmware calls return EFI_STATUS
 * here rather than KEEL_E* codes: the loader hands them back to the firmware
 * when it gives up (UEFI 2.10 7.4, EFI_IMAGE_ENTRY_POINT).
 */
#ifndef KEEL_BOOT_LOADER_H
#define KEEL_BOOT_LOADER_H

#include <efi.h>
#include <efilib.h>

#include "boot/boot_info.h"
#include "boot/elf.h"
#include "kernel/config.h"

#define LOADER_PAGE 4096ULL

/* The volume the loader itself came from: a FAT file system, or the PXE
 * base code that fetched it (then files come from the same TFTP server). */
struct boot_volume {
	EFI_FILE_HANDLE root;		 /* NULL when booted by PXE */
	EFI_PXE_BASE_CODE_PROTOCOL *pxe; /* NULL when booted from a disk */
	EFI_IP_ADDRESS server;		 /* TFTP server (PXE only) */
};

/* A file read into whole pages; data[size] is a NUL so texts can be used
 * as C strings. */
struct loaded_file {
	void *data;
	UINT64 size;
	UINT64 pages;
};

struct loader {
	EFI_HANDLE image;
	EFI_LOADED_IMAGE *image_info;
	struct boot_volume vol;
	struct boot_info *bi;	 /* MMAP_EFI_BOOTINFO pages */
	struct keel_config *cfg; /* pool memory: too big for the stack */
	struct elf_kernel kernel;
	UINT64 kernel_alloc; /* bytes at bi->kernel_phys, 2 MiB multiple */
};

/* loader.c: pages of the given memory type (an EFI_MEMORY_TYPE or one of
 * the MMAP_EFI_* OS-loader types), anywhere in memory. */
EFI_STATUS loader_alloc_pages(UINT32 type, UINT64 bytes, void **out);
void loader_free_pages(void *p, UINT64 bytes);

/* fs.c */
EFI_STATUS fs_open_volume(struct boot_volume *vol, EFI_HANDLE device);
/* Read path (keel.cfg form, '\' or '/') into pages of mem_type. Returns
 * EFI_NOT_FOUND when there is no such file, EFI_OUT_OF_RESOURCES when it
 * does not fit in memory (out->size is the file's size then). */
EFI_STATUS fs_read_file(struct boot_volume *vol, const char *path,
			UINT32 mem_type, struct loaded_file *out);
void fs_free_file(struct loaded_file *f);

/* options.c: defaults, \keel\keel.cfg, then the load options. */
void options_read(struct loader *ld);

/* kernel.c: the embedded or overriding kernel, placed and checked. */
EFI_STATUS kernel_load(struct loader *ld);

/* modules.c: every file the configuration names. */
void modules_load(struct loader *ld);

/* bootinfo.c: ACPI, SMBIOS, GOP, boot device, RNG seed. */
void bootinfo_collect(struct loader *ld);

/* handover.c: page tables, ExitBootServices, jump. Returns only on error. */
EFI_STATUS handover_start_kernel(struct loader *ld);

#endif
