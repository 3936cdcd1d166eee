/*
 * mmap.c - turns the firmware's memory map (UEFI 2.10 section 7.2,
 * GetMemoryMap) into boot_info's: firmware types folded into the kernel's
 * few, sorted, adjacent runs merged. It runs after ExitBootServices, so it
 * calls nothing and allocates nothing.
 */
#include <string.h>

#include "boot/mmap.h"

#define MMAP_PAGE 4096ULL

uint32_t mmap_boot_type(uint32_t efi_type)
{
	switch (efi_type) {
	case MMAP_EFI_CONVENTIONAL:
		return BOOT_MEM_USABLE;
	case MMAP_EFI_LOADER_CODE:
	case MMAP_EFI_LOADER_DATA:
	case MMAP_EFI_BS_CODE:
	case MMAP_EFI_BS_DATA:
		return BOOT_MEM_RECLAIMABLE;
	case MMAP_EFI_ACPI_RECLAIM:
		return BOOT_MEM_ACPI_RECLAIM;
	case MMAP_EFI_ACPI_NVS:
		return BOOT_MEM_ACPI_NVS;
	case MMAP_EFI_UNUSABLE:
		return BOOT_MEM_BAD;
	case MMAP_EFI_KERNEL:
		return BOOT_MEM_KERNEL;
	case MMAP_EFI_MODULE:
		return BOOT_MEM_MODULE;
	case MMAP_EFI_BOOTINFO:
		return BOOT_MEM_BOOTINFO;
	default:
		/* Runtime services, MMIO, reserved, persistent, PAL code,
		 * unaccepted and unknown types: never handed out. */
		return BOOT_MEM_RESERVED;
	}
}

/* Descriptor i, bounds-checked; 0 when it lies outside the map or its range
 * wraps (a broken map loses that entry rather than corrupting the rest). */
static int mmap_read_desc(const void *map, size_t map_size, size_t desc_size,
			  size_t i, struct mmap_efi_desc *d)
{
	if (desc_size < sizeof(*d) || i >= map_size / desc_size)
		return 0;
	memcpy(d, (const char *)map + i * desc_size, sizeof(*d));
	if (d->pages == 0 || d->phys_start % MMAP_PAGE != 0)
		return 0;
	if (d->pages > (UINT64_MAX - d->phys_start) / MMAP_PAGE)
		return 0;
	return 1;
}

/* Insert e into the sorted out[0..count), merging with its neighbours. */
static unsigned mmap_insert(struct boot_mmap_entry *out, unsigned count,
			    unsigned max, const struct boot_mmap_entry *e,
			    unsigned *dropped)
{
	unsigned pos = count;

	while (pos > 0 && out[pos - 1].base > e->base)
		pos--;
	if (pos > 0 && out[pos - 1].type == e->type &&
	    out[pos - 1].base + out[pos - 1].length == e->base) {
		struct boot_mmap_entry *prev = &out[pos - 1];

		prev->length += e->length;
		if (pos < count && out[pos].type == prev->type &&
		    prev->base + prev->length == out[pos].base) {
			prev->length += out[pos].length;
			memmove(&out[pos], &out[pos + 1],
				(count - pos - 1) * sizeof(*out));
			count--;
		}
		return count;
	}
	if (pos < count && out[pos].type == e->type &&
	    e->base + e->length == out[pos].base) {
		out[pos].base = e->base;
		out[pos].length += e->length;
		return count;
	}
	if (count == max) {
		(*dropped)++;
		return count;
	}
	memmove(&out[pos + 1], &out[pos], (count - pos) * sizeof(*out));
	out[pos] = *e;
	return count + 1;
}

unsigned mmap_translate(const void *map, size_t map_size, size_t desc_size,
			struct boot_mmap_entry *out, unsigned max,
			unsigned *dropped)
{
	struct mmap_efi_desc d;
	struct boot_mmap_entry e;
	unsigned count = 0;

	*dropped = 0;
	if (desc_size == 0)
		return 0;
	for (size_t i = 0; i < map_size / desc_size; i++) {
		if (!mmap_read_desc(map, map_size, desc_size, i, &d))
			continue;
		e.base = d.phys_start;
		e.length = d.pages * MMAP_PAGE;
		e.type = mmap_boot_type(d.type);
		e.reserved = 0;
		count = mmap_insert(out, count, max, &e, dropped);
	}
	return count;
}

uint64_t mmap_ram_top(const void *map, size_t map_size, size_t desc_size)
{
	struct mmap_efi_desc d;
	uint64_t top = 0;

	if (desc_size == 0)
		return 0;
	for (size_t i = 0; i < map_size / desc_size; i++) {
		if (!mmap_read_desc(map, map_size, desc_size, i, &d))
			continue;
		if (d.type == MMAP_EFI_RESERVED || d.type == MMAP_EFI_MMIO ||
		    d.type == MMAP_EFI_MMIO_PORT)
			continue;
		if (d.phys_start + d.pages * MMAP_PAGE > top)
			top = d.phys_start + d.pages * MMAP_PAGE;
	}
	return top;
}
