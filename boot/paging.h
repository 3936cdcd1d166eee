/*
 * paging.h - the page tables the kernel is entered on (boot/paging.c).
 * Pure code: tables come from a pool the caller allocated, so host unit tests
 * build and walk them unchanged.
 */
#ifndef KEEL_BOOT_PAGING_H
#define KEEL_BOOT_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PAGING_2M (2ULL << 20)
#define PAGING_1G (1ULL << 30)

/* Page-table entry bits (AMD APM vol. 2 5.3, Intel SDM vol. 3 4.5). */
#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ULL

/* What to map (boot_info.h, comment at struct kernel_header). */
struct paging_layout {
	uint64_t map_top;     /* [0, map_top) identity and at DIRECT_MAP_BASE */
	bool gib_pages;	      /* 1 GiB leaves for those (CPUID 0x80000001 EDX.26) */
	uint64_t kernel_virt; /* image_start, 2 MiB aligned */
	uint64_t kernel_phys; /* 2 MiB aligned */
	uint64_t kernel_size; /* bytes; mapped rounded up to 2 MiB */
	bool la57;	      /* firmware runs with CR4.LA57: add a PML5 */
};

/* Zeroed 4 KiB pages to take tables from; phys(page) == (uintptr_t)page,
 * which holds in the loader (UEFI identity-maps all memory, UEFI 2.10
 * 2.3.4) and for the host tests' walker. */
struct paging_pool {
	uint64_t (*pages)[512];
	unsigned count;
	unsigned used;
};

/* Tables paging_build() takes for this layout, or 0 when it cannot be mapped
 * (direct map above 127 TiB, kernel range colliding with it). */
unsigned paging_tables_needed(const struct paging_layout *l);

/* Build the tables; *cr3 = physical address of the PML4. 0 or KEEL_E*. */
int paging_build(const struct paging_layout *l, struct paging_pool *pool,
		 uint64_t *cr3);

#endif
