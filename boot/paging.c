/*
 * paging.c - builds the 4-level tables the kernel is entered on: [0, map_top)
 * identity-mapped and again at DIRECT_MAP_BASE (the two share their PDPTs),
 * and the kernel image at its link address (boot_info.h, struct
 * kernel_header). Every leaf is present, writable and executable: the kernel
 * replaces these tables at once (AMD APM vol. 2 5.3, Intel SDM vol. 3 4.5).
 */
#include <string.h>

#include "boot/boot_info.h"
#include "boot/paging.h"
#include "kernel/err.h"

#define PAGING_512G (512ULL << 30)
#define PAGING_LOWER_HALF 256 /* PML4 entries below the canonical hole */

static unsigned paging_pml4_index(uint64_t va) { return (va >> 39) & 511; }
static unsigned paging_pdpt_index(uint64_t va) { return (va >> 30) & 511; }
static unsigned paging_pd_index(uint64_t va) { return (va >> 21) & 511; }

static uint64_t paging_round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* 1 GiB regions of the identity/direct map and the PDPTs that hold them. */
static uint64_t paging_low_gib(const struct paging_layout *l)
{
	return paging_round_up(l->map_top, PAGING_1G) / PAGING_1G;
}

static uint64_t paging_low_pdpts(const struct paging_layout *l)
{
	return (paging_low_gib(l) + 511) / 512;
}

static int paging_layout_ok(const struct paging_layout *l)
{
	uint64_t size = paging_round_up(l->kernel_size, PAGING_2M);

	if (l->map_top == 0 || l->map_top > UINT64_MAX - PAGING_1G ||
	    l->kernel_size == 0 || l->kernel_size > UINT64_MAX - PAGING_2M)
		return 0;
	if (l->kernel_virt % PAGING_2M != 0 || l->kernel_phys % PAGING_2M != 0)
		return 0;
	/* The direct map at DIRECT_MAP_BASE (PML4 entry 256) must end below the
	 * kernel's PML4 entry, and the kernel range must not wrap. */
	if (paging_low_pdpts(l) >= PAGING_LOWER_HALF)
		return 0;
	if (l->kernel_virt < DIRECT_MAP_BASE || size - 1 > UINT64_MAX - l->kernel_virt)
		return 0;
	if (paging_pml4_index(l->kernel_virt) <
	    PAGING_LOWER_HALF + paging_low_pdpts(l))
		return 0;
	return 1;
}

unsigned paging_tables_needed(const struct paging_layout *l)
{
	uint64_t last, n;

	if (!paging_layout_ok(l))
		return 0;
	last = l->kernel_virt + paging_round_up(l->kernel_size, PAGING_2M) - 1;
	n = 1 + (l->la57 ? 1 : 0) + paging_low_pdpts(l);
	if (!l->gib_pages)
		n += paging_low_gib(l);
	n += paging_pml4_index(last) - paging_pml4_index(l->kernel_virt) + 1;
	n += (last >> 30) - (l->kernel_virt >> 30) + 1;
	return (unsigned)n;
}

static uint64_t *paging_alloc(struct paging_pool *pool)
{
	uint64_t *t;

	if (pool->used == pool->count)
		return NULL;
	t = pool->pages[pool->used++];
	memset(t, 0, 4096);
	return t;
}

static uint64_t paging_phys(const uint64_t *table)
{
	return (uint64_t)(uintptr_t)table;
}

static uint64_t *paging_table(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & PTE_ADDR_MASK);
}

/* The table entry e points to, made if absent; NULL when the pool is empty
 * or e is a large-page leaf. */
static uint64_t *paging_next(uint64_t *e, struct paging_pool *pool)
{
	uint64_t *t;

	if (*e & PTE_P)
		return (*e & PTE_PS) ? NULL : paging_table(*e);
	t = paging_alloc(pool);
	if (t)
		*e = paging_phys(t) | PTE_P | PTE_RW;
	return t;
}

static int paging_map_low(const struct paging_layout *l, uint64_t *pml4,
			  struct paging_pool *pool)
{
	uint64_t n_gib = paging_low_gib(l);

	for (uint64_t i = 0; i < paging_low_pdpts(l); i++) {
		uint64_t *pdpt = paging_alloc(pool);

		if (!pdpt)
			return KEEL_ENOMEM;
		pml4[i] = paging_phys(pdpt) | PTE_P | PTE_RW;
		pml4[PAGING_LOWER_HALF + i] = pml4[i];
		for (uint64_t j = 0; j < 512 && i * 512 + j < n_gib; j++) {
			uint64_t base = (i * 512 + j) * PAGING_1G;
			uint64_t *pd;

			if (l->gib_pages) {
				pdpt[j] = base | PTE_P | PTE_RW | PTE_PS;
				continue;
			}
			pd = paging_alloc(pool);
			if (!pd)
				return KEEL_ENOMEM;
			pdpt[j] = paging_phys(pd) | PTE_P | PTE_RW;
			for (uint64_t k = 0; k < 512; k++)
				pd[k] = (base + k * PAGING_2M) | PTE_P | PTE_RW |
					PTE_PS;
		}
	}
	return 0;
}

static int paging_map_kernel(const struct paging_layout *l, uint64_t *pml4,
			     struct paging_pool *pool)
{
	uint64_t size = paging_round_up(l->kernel_size, PAGING_2M);

	for (uint64_t off = 0; off < size; off += PAGING_2M) {
		uint64_t va = l->kernel_virt + off;
		uint64_t *pdpt, *pd;

		pdpt = paging_next(&pml4[paging_pml4_index(va)], pool);
		if (!pdpt)
			return KEEL_ENOMEM;
		pd = paging_next(&pdpt[paging_pdpt_index(va)], pool);
		if (!pd)
			return KEEL_ENOMEM;
		pd[paging_pd_index(va)] =
			(l->kernel_phys + off) | PTE_P | PTE_RW | PTE_PS;
	}
	return 0;
}

int paging_build(const struct paging_layout *l, struct paging_pool *pool,
		 uint64_t *cr3)
{
	uint64_t *pml4;
	int err;

	if (!paging_layout_ok(l))
		return KEEL_ERANGE;
	pml4 = paging_alloc(pool);
	if (!pml4)
		return KEEL_ENOMEM;
	err = paging_map_low(l, pml4, pool);
	if (err)
		return err;
	err = paging_map_kernel(l, pml4, pool);
	if (err)
		return err;
	*cr3 = paging_phys(pml4);
	if (l->la57) {
		/* CR4.LA57 cannot be cleared in long mode (SDM vol. 3 4.1.1),
		 * so wrap the PML4 in a PML5: entry 0 holds the lower half
		 * and entry 511 the upper half, where DIRECT_MAP_BASE and
		 * the kernel (bits 56:48 all ones) stay canonical. */
		uint64_t *pml5 = paging_alloc(pool);

		if (!pml5)
			return KEEL_ENOMEM;
		pml5[0] = *cr3 | PTE_P | PTE_RW;
		pml5[511] = pml5[0];
		*cr3 = paging_phys(pml5);
	}
	return 0;
}
