/*
 * gmem.c - guest memory: a VM's RAM and ROM regions, the host memory behind
 * them (2 MiB blocks where the guest-physical layout allows, 4 KiB pages
 * otherwise; see struct gmem_region in kernel/virt/virt.h), their mappings in
 * the VM's nested page table, and copies between guest-physical memory and
 * the host. Regions are added while the VM is built, before any vCPU runs,
 * and go only in gmem_destroy, when none runs: lookups (the exit path) take
 * no lock and allocate nothing.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/virt/virt.h"
#include "mm/mm.h"

#define GMEM_CHUNK LARGE_PAGE_SIZE
#define GMEM_CHUNK_ORDER 9 /* 2 MiB = 2^9 pages */
#define GMEM_LIST_ENTRIES (GMEM_CHUNK / PAGE_SIZE)
/* pt.c takes only canonical addresses, so the lower half of a 48-bit space. */
#define GMEM_GPA_LIMIT (1ULL << 47)

/* The smallest pmm order that holds 'bytes'. */
static unsigned gmem_order(uint64_t bytes)
{
	unsigned order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

/* Chunk entries of a region: one per 2 MiB of guest-physical space it
 * touches. blocks[] and pages[] share one pmm block, blocks first. */
static uint64_t gmem_chunks(uint64_t gpa, uint64_t size)
{
	return (ALIGN_UP(gpa + size, GMEM_CHUNK) - ALIGN_DOWN(gpa, GMEM_CHUNK)) /
	       GMEM_CHUNK;
}

static unsigned gmem_array_order(uint64_t count)
{
	return gmem_order(count * 2 * sizeof(uint64_t));
}

static const struct gmem_region *gmem_find(const struct vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < vm->region_count; i++) {
		const struct gmem_region *r = &vm->regions[i];

		if (gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

/*
 * Host address of byte 'off' of a region that owns its memory, and in *run
 * how many bytes from there are contiguous in host memory: to the end of
 * the 2 MiB block or 4 KiB page, and not past the region.
 */
static uint64_t gmem_backing(const struct gmem_region *r, uint64_t off,
			     uint64_t *run)
{
	uint64_t pos = (r->gpa & (GMEM_CHUNK - 1)) + off;
	uint64_t i = pos / GMEM_CHUNK, in = pos & (GMEM_CHUNK - 1);
	uint64_t hpa, n;

	if (r->blocks[i]) {
		hpa = r->blocks[i] + in;
		n = GMEM_CHUNK - in;
	} else {
		const uint64_t *list = phys_to_virt(r->pages[i]);

		hpa = list[in / PAGE_SIZE] + (in & (PAGE_SIZE - 1));
		n = PAGE_SIZE - (in & (PAGE_SIZE - 1));
	}
	*run = n < r->size - off ? n : r->size - off;
	return hpa;
}

/* gmem_backing for any region: an alias is looked up in its owner. */
static uint64_t gmem_resolve(const struct vm *vm, const struct gmem_region *r,
			     uint64_t off, uint64_t *run)
{
	uint64_t hpa;

	if (!r->alias_of)
		return gmem_backing(r, off, run);
	hpa = gmem_backing(&vm->regions[r->alias_of - 1], r->alias_off + off,
			   run);
	if (*run > r->size - off)
		*run = r->size - off;
	return hpa;
}

/* NPT checks every guest access as a user access (APM vol. 2, 15.25.5), so
 * PT_USER always; EPT ignores it. ROM is read and execute: a guest write
 * faults, and the exit path drops it. */
static unsigned gmem_prot(enum gmem_kind kind)
{
	if (kind == GMEM_ROM)
		return PT_R | PT_X | PT_USER;
	return PT_R | PT_W | PT_X | PT_USER;
}

/* Map a region in vm->npt, one host-contiguous run per pt_map so that
 * pt.c picks 2 MiB (or 1 GiB) leaves wherever both sides are aligned. */
static int gmem_map(struct vm *vm, const struct gmem_region *r)
{
	uint64_t off = 0;

	while (off < r->size) {
		uint64_t run, n, hpa = gmem_resolve(vm, r, off, &run);
		int err;

		while (off + run < r->size &&
		       gmem_resolve(vm, r, off + run, &n) == hpa + run)
			run += n;
		err = pt_map(&vm->npt, r->gpa + off, hpa, run,
			     gmem_prot(r->kind));
		if (err)
			return err;
		off += run;
	}
	return 0;
}

/* Leaves never cross a region's edges (gmem_map maps inside it), so this
 * splits nothing and cannot run out of memory. */
static void gmem_unmap(struct vm *vm, const struct gmem_region *r)
{
	int err;

	if (!vm->npt.root)
		return;
	err = pt_unmap(&vm->npt, r->gpa, r->size);
	if (err)
		log_err("gmem: vm %s: unmapping %#llx+%#llx: %s", vm->name,
			(unsigned long long)r->gpa, (unsigned long long)r->size,
			err_str(err));
}

/* Give back everything a region owns (a partly built one too). */
static void gmem_free_backing(struct gmem_region *r)
{
	if (!r->blocks)
		return;
	for (uint64_t i = 0; i < r->count; i++) {
		if (r->blocks[i])
			pmm_free(r->blocks[i], GMEM_CHUNK_ORDER);
		if (r->pages[i]) {
			const uint64_t *list = phys_to_virt(r->pages[i]);

			for (unsigned j = 0; j < GMEM_LIST_ENTRIES; j++)
				if (list[j])
					pmm_free_page(list[j]);
			pmm_free_page(r->pages[i]);
		}
	}
	pmm_free(virt_to_phys(r->blocks), gmem_array_order(r->count));
	r->blocks = r->pages = NULL;
	r->count = 0;
}

/*
 * Host memory for a new region, zeroed: a 2 MiB block for each chunk that
 * lies wholly inside it while the pmm has one, 4 KiB pages for the rest.
 * The arrays and page lists are Keel's own (no PMM_GUEST), taken straight
 * from the pmm so that a VM's memory is exactly accounted for. Returns 0 or
 * KEEL_ENOMEM with nothing kept.
 */
static int gmem_alloc_backing(struct vm *vm, struct gmem_region *r)
{
	uint64_t base = ALIGN_DOWN(r->gpa, GMEM_CHUNK), end = r->gpa + r->size;
	uint64_t count = gmem_chunks(r->gpa, r->size), paged = 0, whole = 0;
	uint64_t arr = pmm_alloc(gmem_array_order(count), PMM_ZERO);

	if (!arr)
		return KEEL_ENOMEM;
	r->blocks = phys_to_virt(arr);
	r->pages = r->blocks + count;
	r->count = count;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t cs = base + i * GMEM_CHUNK, ce = cs + GMEM_CHUNK;
		uint64_t s = cs > r->gpa ? cs : r->gpa, e = ce < end ? ce : end;
		uint64_t *list;

		if (s == cs && e == ce) {
			whole++;
			r->blocks[i] = pmm_alloc(GMEM_CHUNK_ORDER,
						 PMM_GUEST | PMM_ZERO);
			if (r->blocks[i])
				continue;
			paged++;
		}
		r->pages[i] = pmm_alloc_page(PMM_ZERO);
		if (!r->pages[i])
			goto fail;
		list = phys_to_virt(r->pages[i]);
		for (uint64_t g = s; g < e; g += PAGE_SIZE) {
			uint64_t pa = pmm_alloc_page(PMM_GUEST | PMM_ZERO);

			if (!pa)
				goto fail;
			list[(g - cs) / PAGE_SIZE] = pa;
		}
	}
	if (paged)
		log_warn("gmem: vm %s: %llu of %llu 2 MiB chunks at %#llx in 4 KiB pages (no free 2 MiB block)",
			 vm->name, (unsigned long long)paged,
			 (unsigned long long)whole, (unsigned long long)r->gpa);
	return 0;

fail:
	gmem_free_backing(r);
	return KEEL_ENOMEM;
}

/* Checks common to a new region or alias at [gpa, gpa+size). */
static int gmem_check_new(const struct vm *vm, uint64_t gpa, uint64_t size,
			  enum gmem_kind kind)
{
	if (!size || ((gpa | size) & (PAGE_SIZE - 1)) ||
	    (kind != GMEM_RAM && kind != GMEM_ROM) || !vm->npt.root)
		return KEEL_EINVAL;
	if (gpa >= GMEM_GPA_LIMIT || size > GMEM_GPA_LIMIT - gpa)
		return KEEL_ERANGE;
	for (unsigned i = 0; i < vm->region_count; i++) {
		const struct gmem_region *r = &vm->regions[i];

		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return KEEL_EEXIST;
	}
	/* No KEEL_ENOSPC in err.h: a full table is "out of range". */
	if (vm->region_count >= VM_MAX_REGIONS)
		return KEEL_ERANGE;
	return 0;
}

/* Map a region built in *r and append it; on failure undo both. */
static int gmem_commit(struct vm *vm, struct gmem_region *r)
{
	int err = gmem_map(vm, r);

	if (err) {
		gmem_unmap(vm, r);
		gmem_free_backing(r);
		return err;
	}
	vm->regions[vm->region_count++] = *r;
	return 0;
}

int gmem_add(struct vm *vm, uint64_t gpa, uint64_t size, enum gmem_kind kind)
{
	struct gmem_region r = { .gpa = gpa, .size = size, .kind = kind };
	int err = gmem_check_new(vm, gpa, size, kind);

	if (err)
		return err;
	err = gmem_alloc_backing(vm, &r);
	if (err)
		return err;
	return gmem_commit(vm, &r);
}

int gmem_alias(struct vm *vm, uint64_t gpa, uint64_t size, uint64_t src_gpa,
	       enum gmem_kind kind)
{
	struct gmem_region r = { .gpa = gpa, .size = size, .kind = kind };
	const struct gmem_region *src;
	uint64_t off;
	int err = gmem_check_new(vm, gpa, size, kind);

	if (err)
		return err;
	if (src_gpa & (PAGE_SIZE - 1))
		return KEEL_EINVAL;
	src = gmem_find(vm, src_gpa);
	if (!src)
		return KEEL_ENOENT;
	off = src_gpa - src->gpa;
	if (size > src->size - off)
		return KEEL_ERANGE;
	/* An alias of an alias points at the owner: one hop on lookups. */
	if (src->alias_of) {
		r.alias_of = src->alias_of;
		r.alias_off = src->alias_off + off;
	} else {
		r.alias_of = (unsigned)(src - vm->regions) + 1;
		r.alias_off = off;
	}
	return gmem_commit(vm, &r);
}

uint64_t gmem_translate(const struct vm *vm, uint64_t gpa,
			enum gmem_kind *kind)
{
	const struct gmem_region *r = gmem_find(vm, gpa);
	uint64_t run;

	if (!r)
		return 0;
	if (kind)
		*kind = r->kind;
	return gmem_resolve(vm, r, gpa - r->gpa, &run);
}

/* Whether every byte of [gpa, gpa+len) is guest memory (len > 0). Regions
 * do not overlap, so each step moves to the end of a different one. */
static bool gmem_covers(const struct vm *vm, uint64_t gpa, size_t len)
{
	uint64_t last = gpa + (len - 1);

	if (last < gpa)
		return false;
	for (;;) {
		const struct gmem_region *r = gmem_find(vm, gpa);
		uint64_t r_last;

		if (!r)
			return false;
		r_last = r->gpa + (r->size - 1);
		if (r_last >= last)
			return true;
		gpa = r_last + 1;
	}
}

/* The host address of gpa (known to be guest memory) and how many of the
 * next 'len' bytes follow it in host memory. */
static void *gmem_piece(const struct vm *vm, uint64_t gpa, size_t len,
			size_t *n)
{
	const struct gmem_region *r = gmem_find(vm, gpa);
	uint64_t run, hpa = gmem_resolve(vm, r, gpa - r->gpa, &run);

	*n = run < len ? (size_t)run : len;
	return phys_to_virt(hpa);
}

int gmem_read(const struct vm *vm, uint64_t gpa, void *buf, size_t len)
{
	uint8_t *p = buf;

	if (!len)
		return 0;
	if (!gmem_covers(vm, gpa, len))
		return KEEL_ERANGE;
	while (len) {
		size_t n;
		const void *src = gmem_piece(vm, gpa, len, &n);

		memcpy(p, src, n);
		p += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int gmem_write(struct vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!len)
		return 0;
	if (!gmem_covers(vm, gpa, len))
		return KEEL_ERANGE;
	while (len) {
		size_t n;
		void *dst = gmem_piece(vm, gpa, len, &n);

		memcpy(dst, p, n);
		p += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

/* Every mapping goes before any memory: at no point does vm->npt point at a
 * freed page. */
void gmem_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < vm->region_count; i++)
		gmem_unmap(vm, &vm->regions[i]);
	for (unsigned i = 0; i < vm->region_count; i++)
		if (!vm->regions[i].alias_of)
			gmem_free_backing(&vm->regions[i]);
	memset(vm->regions, 0, sizeof(vm->regions));
	vm->region_count = 0;
}

uint64_t gmem_total(const struct vm *vm)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < vm->region_count; i++)
		if (!vm->regions[i].alias_of)
			total += vm->regions[i].size;
	return total;
}
