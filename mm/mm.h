/*
 * mm.h - what the rest of Keel may use of mm/: the physical page allocator, the
 * page-table builder (the kernel's tables, NPT and EPT), the kernel address
 * space (direct map, MMIO mappings, stacks with guard pages) and the kernel
 * heap. Guest memory (mm/gmem.c) is declared with the VM in kernel/virt/virt.h.
 *
 * Lock order: the heap lock or the kernel page-table lock (kmem.c), then the
 * pmm lock (innermost: page-table changes allocate table pages).
 */
#ifndef KEEL_MM_H
#define KEEL_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096ULL
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define LARGE_PAGE_SIZE (2ULL << 20) /* 2 MiB */
#define HUGE_PAGE_SIZE (1ULL << 30)  /* 1 GiB */

#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))

/* ---- Direct map: all RAM at a fixed virtual base. ---- */

/* Offset added to a physical address to reach it through the direct map.
 * In the kernel this is DIRECT_MAP_BASE; host unit tests point it at an arena. */
extern uint64_t mm_direct_offset;

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)(pa + mm_direct_offset);
}

static inline uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)(uintptr_t)va - mm_direct_offset;
}

/* ---- Physical page allocator (buddy, 4 KiB .. 2^PMM_MAX_ORDER pages). ---- */

#define PMM_MAX_ORDER 18 /* 1 GiB blocks */

/* pmm_alloc flags */
#define PMM_ZERO (1u << 0)  /* clear the block */
#define PMM_GUEST (1u << 1) /* memory for a guest: refused when it would dip into
			       the reserve kept for Keel (mem_reserve=) */

struct pmm_stats {
	uint64_t managed_pages; /* every page ever added (usable RAM) */
	uint64_t free_pages;
	uint64_t reserve_pages; /* kept back from PMM_GUEST allocations */
	uint64_t alloc_calls, free_calls, failed_allocs;
	uint64_t free_blocks[PMM_MAX_ORDER + 1]; /* free blocks of each order */
};

/* Set up the allocator for physical addresses [0, max_phys). Needs
 * pmm_metadata_bytes(max_phys) bytes of zeroed, direct-mapped memory. */
uint64_t pmm_metadata_bytes(uint64_t max_phys);
void pmm_init(uint64_t max_phys, void *metadata);
/* Give [base, base+len) to the allocator (rounded inwards to pages). Ranges
 * must not overlap what was given before. Page 0 is never accepted. */
void pmm_add_range(uint64_t base, uint64_t len);
/* Returns the physical address of 2^order contiguous, naturally aligned pages,
 * or 0 when none are free. */
uint64_t pmm_alloc(unsigned order, unsigned flags);
/* Free a block from pmm_alloc with the same order. A double free, a free of a
 * page never allocated, or a wrong order is detected, logged and ignored. */
void pmm_free(uint64_t pa, unsigned order);
/* Convenience: one page. */
static inline uint64_t pmm_alloc_page(unsigned flags) { return pmm_alloc(0, flags); }
static inline void pmm_free_page(uint64_t pa) { pmm_free(pa, 0); }
void pmm_set_reserve(uint64_t bytes);
void pmm_get_stats(struct pmm_stats *st);
/* Number of detected bad frees since boot (double frees, wrong order, ...). */
uint64_t pmm_bad_frees(void);
/* Contiguous memory of any page count up to 2^PMM_MAX_ORDER (large buffers
 * such as uploaded images): a block of the next power of two whose unused
 * tail goes back to the allocator at once. The reserve check of PMM_GUEST
 * counts only the pages kept. Freed with pmm_free_contig and the same
 * count. 0 when no block is free. */
uint64_t pmm_alloc_contig(uint64_t pages, unsigned flags);
void pmm_free_contig(uint64_t pa, uint64_t pages);

/* ---- Page-table builder: 4 levels, 4 KiB / 2 MiB / 1 GiB leaves. ----
 * The format (x86 paging, NPT, EPT) only changes how an entry is
 * encoded; walking, splitting and freeing are shared. */

#define PT_R (1u << 0)
#define PT_W (1u << 1)
#define PT_X (1u << 2)
#define PT_USER (1u << 3)
#define PT_GLOBAL (1u << 4)
#define PT_UC (1u << 5) /* uncached (MMIO) */
#define PT_WC (1u << 6) /* write-combining (framebuffer) */

struct pt_format {
	const char *name;
	/* Encode a leaf at level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) or, with
	 * leaf=false, a pointer to a next-level table. */
	uint64_t (*encode)(uint64_t pa, unsigned prot, unsigned level, bool leaf);
	/* Decode an entry: returns false when not present. */
	bool (*decode)(uint64_t entry, unsigned level, uint64_t *pa,
		       unsigned *prot, bool *leaf);
	bool large_2m; /* 2 MiB leaves allowed */
	bool large_1g; /* 1 GiB leaves allowed */
};

extern const struct pt_format pt_format_x86; /* long-mode paging */
extern const struct pt_format pt_format_npt; /* AMD nested paging */
extern const struct pt_format pt_format_ept; /* Intel EPT */

struct pgtable {
	uint64_t root; /* physical address of the top (PML4) table */
	const struct pt_format *fmt;
	uint64_t table_pages; /* tables currently allocated */
};

int pt_init(struct pgtable *pt, const struct pt_format *fmt);
/* Map [va, va+len) to [pa, pa+len) with prot, using the largest leaves that
 * alignment and the format allow; existing mappings in the range are replaced
 * (large pages split as needed). Returns 0 or a negative KEEL_E* code. */
int pt_map(struct pgtable *pt, uint64_t va, uint64_t pa, uint64_t len,
	   unsigned prot);
int pt_unmap(struct pgtable *pt, uint64_t va, uint64_t len);
int pt_protect(struct pgtable *pt, uint64_t va, uint64_t len, unsigned prot);
/* Translate one address: 0 and *pa, *prot, *level (1..3) of its leaf, or
 * KEEL_ENOENT when unmapped. */
int pt_translate(const struct pgtable *pt, uint64_t va, uint64_t *pa,
		 unsigned *prot, unsigned *level);
/* Free every table (not the mapped memory). */
void pt_destroy(struct pgtable *pt);

/* ---- Kernel address space. ---- */

struct boot_info;
/* Build the kernel's own page tables (direct map of RAM, kernel image W^X),
 * switch to them, then hand reclaimable boot memory to the allocator. */
int mm_init(const struct boot_info *bi, uint64_t mem_reserve);
/* Map device memory uncached (or write-combining with PT_WC) and return its
 * virtual address, or NULL. */
void *mm_map_mmio(uint64_t pa, uint64_t len, unsigned prot);
/* A kernel stack of 'size' bytes with an unmapped guard page below it.
 * Returns the top of the stack (highest address) or NULL. */
void *mm_alloc_stack(size_t size);
void mm_free_stack(void *top, size_t size);
/* True when va lies in the unmapped guard part below an allocated stack. */
bool mm_is_stack_guard(uint64_t va);
/* Physical address of the kernel's PML4 (APs load it). */
uint64_t mm_kernel_cr3(void);
/* Per-CPU paging set-up every AP runs early (the BSP's runs in mm_init):
 * EFER.NXE, IA32_PAT with PA1 = write-combining (what PT_WC selects), CR0.WP,
 * CR3 = mm_kernel_cr3() if not loaded yet, CR4.PGE; flushes this CPU's TLB.
 * The kernel tables use NX: EFER.NXE must be set before their CR3 is loaded. */
void mm_init_ap(void);
/* Identity-map [pa, pa+len) (page-rounded) read/write/execute in the kernel
 * tables, e.g. for the AP trampoline, which turns paging on below 1 MiB; and
 * remove it again (flushes this CPU's TLB only). pa+len must stay below
 * 2^47. Returns 0 or a negative KEEL_E* code. */
int mm_map_identity(uint64_t pa, uint64_t len);
void mm_unmap_identity(uint64_t pa, uint64_t len);
/* Usable RAM managed by Keel, in bytes. */
uint64_t mm_usable_bytes(void);

/* ---- Kernel heap. ---- */

void heap_init(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

#endif
