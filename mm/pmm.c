/*
 * pmm.c - the physical page allocator: a binary buddy allocator over
 * [0, max_phys) with one state byte per 4 KiB page in a caller-provided array,
 * and per-order free lists threaded through the free blocks themselves (reached
 * through the direct map, phys_to_virt). Owns pmm_lock, the innermost mm lock.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"

uint64_t mm_direct_offset;

/*
 * Page state byte: bits 0-1 the state, bits 3-7 the block order (heads only).
 * Every managed page is either the head of a block (free or allocated) or a
 * TAIL inside one, so a split or a merge only rewrites the heads involved and
 * pmm_free can classify any address in O(1).
 */
#define PG_NONE 0u	  /* never given to the allocator */
#define PG_TAIL 1u	  /* managed, inside a block whose head is below */
#define PG_FREE 2u	  /* head of a free block */
#define PG_ALLOC 3u	  /* head of an allocated block */
#define PG_STATE(b) ((b)&3u)
#define PG_ORDER(b) ((unsigned)(b) >> 3)
#define PG_MAKE(state, order) ((uint8_t)((state) | ((order) << 3)))

/* Free-list links, stored in the first bytes of every free block. Physical
 * addresses, 0 ends a list (page 0 is never managed). */
struct pmm_link {
	uint64_t next;
	uint64_t prev;
};

static struct spinlock pmm_lock = SPINLOCK_INIT;
static uint8_t *pmm_state;  /* one byte per page of [0, max_phys) */
static uint64_t pmm_npages; /* pages covered by pmm_state */
static uint64_t pmm_free_head[PMM_MAX_ORDER + 1];
static struct pmm_stats pmm_st;
static uint64_t pmm_bad;

static struct pmm_link *pmm_link_of(uint64_t pfn)
{
	return phys_to_virt(pfn << PAGE_SHIFT);
}

static void pmm_list_push(uint64_t pfn, unsigned order)
{
	struct pmm_link *l = pmm_link_of(pfn);
	uint64_t pa = pfn << PAGE_SHIFT;

	l->prev = 0;
	l->next = pmm_free_head[order];
	if (l->next)
		pmm_link_of(l->next >> PAGE_SHIFT)->prev = pa;
	pmm_free_head[order] = pa;
	pmm_state[pfn] = PG_MAKE(PG_FREE, order);
	pmm_st.free_blocks[order]++;
}

static void pmm_list_remove(uint64_t pfn, unsigned order)
{
	struct pmm_link *l = pmm_link_of(pfn);

	if (l->prev)
		pmm_link_of(l->prev >> PAGE_SHIFT)->next = l->next;
	else
		pmm_free_head[order] = l->next;
	if (l->next)
		pmm_link_of(l->next >> PAGE_SHIFT)->prev = l->prev;
	pmm_st.free_blocks[order]--;
}

/* Insert a free block, merging it with its buddy as long as the buddy is a
 * free block of the same order. The block's pages other than its head are
 * already PG_TAIL. */
static void pmm_insert_merge(uint64_t pfn, unsigned order)
{
	while (order < PMM_MAX_ORDER) {
		uint64_t buddy = pfn ^ (1ULL << order);

		if (buddy >= pmm_npages ||
		    pmm_state[buddy] != PG_MAKE(PG_FREE, order))
			break;
		pmm_list_remove(buddy, order);
		if (buddy < pfn) {
			pmm_state[pfn] = PG_TAIL;
			pfn = buddy;
		} else {
			pmm_state[buddy] = PG_TAIL;
		}
		order++;
	}
	pmm_list_push(pfn, order);
}

uint64_t pmm_metadata_bytes(uint64_t max_phys)
{
	return max_phys >> PAGE_SHIFT;
}

void pmm_init(uint64_t max_phys, void *metadata)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);

	pmm_npages = max_phys >> PAGE_SHIFT;
	pmm_state = metadata;
	memset(pmm_state, 0, pmm_npages);
	memset(pmm_free_head, 0, sizeof(pmm_free_head));
	memset(&pmm_st, 0, sizeof(pmm_st));
	pmm_bad = 0;
	spin_unlock_irqrestore(&pmm_lock, flags);
}

/* Add the pages [s, e), all currently PG_NONE, as maximal aligned blocks. */
static void pmm_add_run(uint64_t s, uint64_t e)
{
	for (uint64_t p = s; p < e; p++)
		pmm_state[p] = PG_TAIL;
	pmm_st.managed_pages += e - s;
	pmm_st.free_pages += e - s;
	while (s < e) {
		unsigned order = 0;

		while (order < PMM_MAX_ORDER &&
		       !(s & ((2ULL << order) - 1)) && s + (2ULL << order) <= e)
			order++;
		pmm_insert_merge(s, order);
		s += 1ULL << order;
	}
}

void pmm_add_range(uint64_t base, uint64_t len)
{
	uint64_t s, e, p, overlap = 0, flags;

	if (len == 0 || base + len < base)
		return;
	s = ALIGN_UP(base, PAGE_SIZE) >> PAGE_SHIFT;
	e = ALIGN_DOWN(base + len, PAGE_SIZE) >> PAGE_SHIFT;
	if (s == 0)
		s = 1; /* page 0: 0 is pmm_alloc's failure value */

	flags = spin_lock_irqsave(&pmm_lock);
	if (e > pmm_npages)
		e = pmm_npages;
	/* Pages already given are skipped (a caller bug, reported below), the
	 * runs between them are added. */
	p = s;
	while (p < e) {
		uint64_t run = p;

		while (run < e && PG_STATE(pmm_state[run]) == PG_NONE)
			run++;
		if (run > p)
			pmm_add_run(p, run);
		p = run;
		while (p < e && PG_STATE(pmm_state[p]) != PG_NONE) {
			overlap++;
			p++;
		}
	}
	spin_unlock_irqrestore(&pmm_lock, flags);
	if (overlap)
		log_err("pmm: range %#llx+%#llx overlaps memory already added (%llu pages skipped)",
			(unsigned long long)base, (unsigned long long)len,
			(unsigned long long)overlap);
}

uint64_t pmm_alloc(unsigned order, unsigned flags)
{
	uint64_t irq, pfn, pa;
	unsigned j;

	irq = spin_lock_irqsave(&pmm_lock);
	pmm_st.alloc_calls++;
	if (order > PMM_MAX_ORDER)
		goto fail;
	/* The reserve keeps Keel's own allocations (page tables, stacks, heap)
	 * possible when guests have taken everything else. */
	if ((flags & PMM_GUEST) &&
	    pmm_st.free_pages < pmm_st.reserve_pages + (1ULL << order))
		goto fail;
	for (j = order; j <= PMM_MAX_ORDER && !pmm_free_head[j]; j++)
		;
	if (j > PMM_MAX_ORDER)
		goto fail;

	pfn = pmm_free_head[j] >> PAGE_SHIFT;
	pmm_list_remove(pfn, j);
	/* Split: keep the lower half, free the upper half, until small enough. */
	while (j > order) {
		j--;
		pmm_list_push(pfn + (1ULL << j), j);
	}
	pmm_state[pfn] = PG_MAKE(PG_ALLOC, order);
	pmm_st.free_pages -= 1ULL << order;
	spin_unlock_irqrestore(&pmm_lock, irq);

	pa = pfn << PAGE_SHIFT;
	if (flags & PMM_ZERO)
		memset(phys_to_virt(pa), 0, PAGE_SIZE << order);
	return pa;

fail:
	pmm_st.failed_allocs++;
	spin_unlock_irqrestore(&pmm_lock, irq);
	return 0;
}

void pmm_free(uint64_t pa, unsigned order)
{
	const char *why = NULL;
	int had_order = -1; /* order it was allocated with, for "wrong order" */
	uint64_t pfn = pa >> PAGE_SHIFT, flags;

	flags = spin_lock_irqsave(&pmm_lock);
	pmm_st.free_calls++;
	if (order > PMM_MAX_ORDER) {
		why = "order too large";
	} else if (pa & ((PAGE_SIZE << order) - 1)) {
		why = "misaligned for its order";
	} else if (pfn >= pmm_npages) {
		why = "beyond the end of memory";
	} else {
		uint8_t st = pmm_state[pfn];

		switch (PG_STATE(st)) {
		case PG_NONE:
			why = "not managed memory";
			break;
		case PG_TAIL:
			why = "not the start of an allocated block";
			break;
		case PG_FREE:
			why = "double free";
			break;
		default:
			if (PG_ORDER(st) != order) {
				why = "wrong order";
				had_order = (int)PG_ORDER(st);
			}
			break;
		}
	}
	if (why) {
		pmm_bad++;
		spin_unlock_irqrestore(&pmm_lock, flags);
		if (had_order >= 0)
			log_err("pmm: bad free of %#llx order %u: wrong order (allocated with order %d), ignored",
				(unsigned long long)pa, order, had_order);
		else
			log_err("pmm: bad free of %#llx order %u: %s, ignored",
				(unsigned long long)pa, order, why);
		return;
	}

	/* The head becomes a tail until pmm_insert_merge re-marks the head of
	 * whatever block it ends up in. */
	pmm_state[pfn] = PG_TAIL;
	pmm_st.free_pages += 1ULL << order;
	pmm_insert_merge(pfn, order);
	spin_unlock_irqrestore(&pmm_lock, flags);
}

/* The kept part [pfn, pfn + pages) of a block of 2^order pages as
 * naturally aligned blocks, largest first: each one's head is marked
 * allocated with its own order, so pmm_free_contig frees them one by one
 * and pmm_free still catches a wrong free. */
uint64_t pmm_alloc_contig(uint64_t pages, unsigned flags)
{
	unsigned order = 0, j;
	uint64_t irq, pfn, p, end, top, pa;

	irq = spin_lock_irqsave(&pmm_lock);
	pmm_st.alloc_calls++;
	if (!pages || pages > (1ULL << PMM_MAX_ORDER))
		goto fail;
	while ((1ULL << order) < pages)
		order++;
	if ((flags & PMM_GUEST) &&
	    pmm_st.free_pages < pmm_st.reserve_pages + pages)
		goto fail;
	for (j = order; j <= PMM_MAX_ORDER && !pmm_free_head[j]; j++)
		;
	if (j > PMM_MAX_ORDER)
		goto fail;
	pfn = pmm_free_head[j] >> PAGE_SHIFT;
	pmm_list_remove(pfn, j);
	while (j > order) {
		j--;
		pmm_list_push(pfn + (1ULL << j), j);
	}
	/* Every page of the block is a TAIL now but its head. */
	pmm_state[pfn] = PG_TAIL;
	end = pfn + pages;
	top = pfn + (1ULL << order);
	p = pfn;
	for (j = order + 1; j-- > 0;) {
		if (end - p >= (1ULL << j)) {
			pmm_state[p] = PG_MAKE(PG_ALLOC, j);
			p += 1ULL << j;
		}
	}
	pmm_st.free_pages -= 1ULL << order;
	/* The tail [end, top) goes back: aligned blocks, smallest first,
	 * merged with their free buddies where there are any. */
	while (p < top) {
		j = 0;
		while (!(p & (1ULL << j)) && p + (2ULL << j) <= top)
			j++;
		pmm_st.free_pages += 1ULL << j;
		pmm_insert_merge(p, j);
		p += 1ULL << j;
	}
	spin_unlock_irqrestore(&pmm_lock, irq);

	pa = pfn << PAGE_SHIFT;
	if (flags & PMM_ZERO)
		memset(phys_to_virt(pa), 0, pages << PAGE_SHIFT);
	return pa;

fail:
	pmm_st.failed_allocs++;
	spin_unlock_irqrestore(&pmm_lock, irq);
	return 0;
}

void pmm_free_contig(uint64_t pa, uint64_t pages)
{
	uint64_t p = pa >> PAGE_SHIFT, end = p + pages;

	for (unsigned j = PMM_MAX_ORDER + 1; j-- > 0;) {
		if (end - p >= (1ULL << j)) {
			pmm_free(p << PAGE_SHIFT, j);
			p += 1ULL << j;
		}
	}
}

void pmm_set_reserve(uint64_t bytes)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);

	pmm_st.reserve_pages = ALIGN_UP(bytes, PAGE_SIZE) >> PAGE_SHIFT;
	spin_unlock_irqrestore(&pmm_lock, flags);
}

void pmm_get_stats(struct pmm_stats *st)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);

	*st = pmm_st;
	spin_unlock_irqrestore(&pmm_lock, flags);
}

uint64_t pmm_bad_frees(void)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);
	uint64_t n = pmm_bad;

	spin_unlock_irqrestore(&pmm_lock, flags);
	return n;
}
