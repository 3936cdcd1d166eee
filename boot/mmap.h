/*
 * mmap.h - the UEFI memory map turned into boot_info's (boot/mmap.c), and the
 * memory types the loader allocates with. Pure code: host unit tests run it.
 */
#ifndef KEEL_BOOT_MMAP_H
#define KEEL_BOOT_MMAP_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"

/*
 * UEFI 2.10 section 7.2 (EFI_BOOT_SERVICES.AllocatePages): memory types
 * 0x80000000-0xFFFFFFFF are for UEFI OS loaders. Memory the kernel keeps is
 * allocated with these, so the final map tells it apart from loader scratch
 * (EfiLoaderData), which the kernel may reuse.
 */
#define MMAP_EFI_KERNEL 0x80000000u
#define MMAP_EFI_MODULE 0x80000001u
#define MMAP_EFI_BOOTINFO 0x80000002u

/* UEFI 2.10 section 7.2, EFI_MEMORY_TYPE. */
enum mmap_efi_type {
	MMAP_EFI_RESERVED = 0,
	MMAP_EFI_LOADER_CODE = 1,
	MMAP_EFI_LOADER_DATA = 2,
	MMAP_EFI_BS_CODE = 3,
	MMAP_EFI_BS_DATA = 4,
	MMAP_EFI_RT_CODE = 5,
	MMAP_EFI_RT_DATA = 6,
	MMAP_EFI_CONVENTIONAL = 7,
	MMAP_EFI_UNUSABLE = 8,
	MMAP_EFI_ACPI_RECLAIM = 9,
	MMAP_EFI_ACPI_NVS = 10,
	MMAP_EFI_MMIO = 11,
	MMAP_EFI_MMIO_PORT = 12,
	MMAP_EFI_PAL_CODE = 13,
	MMAP_EFI_PERSISTENT = 14,
	MMAP_EFI_UNACCEPTED = 15,
};

/* The EFI_MEMORY_DESCRIPTOR fields the loader reads; the firmware's stride
 * (DescriptorSize) may be larger, so the map is walked with it. */
struct mmap_efi_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t pages;
	uint64_t attribute;
};

/* enum boot_mem_type for an EFI memory type. */
uint32_t mmap_boot_type(uint32_t efi_type);

/*
 * Translate map[0..map_size) (descriptors desc_size apart) into out[], sorted
 * by base, adjacent entries of one type merged. Returns the number of entries;
 * entries that do not fit in max are left out and counted in *dropped.
 */
unsigned mmap_translate(const void *map, size_t map_size, size_t desc_size,
			struct boot_mmap_entry *out, unsigned max,
			unsigned *dropped);

/* Highest end of any RAM-backed descriptor (not reserved, MMIO or I/O port
 * space): how far the direct map must reach. */
uint64_t mmap_ram_top(const void *map, size_t map_size, size_t desc_size);

#endif
