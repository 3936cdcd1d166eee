/*
 * pt.c - the 4-level page-table builder shared by the kernel's own tables and
 * the nested tables (NPT and EPT): map, unmap, protect, translate and destroy,
 * with 4 KiB, 2 MiB and 1 GiB leaves. A struct pt_format encodes entries (x86,
 * NPT and EPT formats at the end); everything else (walking, splitting large
 * leaves, freeing tables) lives here. Table pages come from the pmm. No lock:
 * the owner of a struct pgtable serialises its use, and flushes TLBs after a
 * change (how depends on the format). Addresses mapped are checked as
 * canonical linear addresses even for nested tables, which limits
 * guest-physical addresses to below 2^47.
 */
#include "kernel/err.h"
#include "mm/mm.h"

#define PT_ENTRIES 512
#define PT_LEVELS 4
#define PT_MAX_PHYS (1ULL << 52) /* SDM 4.1.4: MAXPHYADDR is at most 52 */

/* Permission of an interior entry: open, the leaves carry the real rights
 * (SDM 4.6: access rights are the intersection along the walk). */
#define PT_INTERIOR (PT_R | PT_W | PT_X)

static uint64_t pt_level_size(unsigned level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

static unsigned pt_index(uint64_t va, unsigned level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

static uint64_t *pt_table(uint64_t pa)
{
	return phys_to_virt(pa);
}

/* SDM 4.5: bits 63:47 of a linear address must all equal bit 47. */
static bool pt_canonical(uint64_t va)
{
	return (uint64_t)(((int64_t)(va << 16)) >> 16) == va;
}

static bool pt_leaf_allowed(const struct pt_format *fmt, unsigned level)
{
	return level == 1 || (level == 2 && fmt->large_2m) ||
	       (level == 3 && fmt->large_1g);
}

static uint64_t pt_alloc_table(struct pgtable *pt)
{
	uint64_t pa = pmm_alloc_page(PMM_ZERO);

	if (pa)
		pt->table_pages++;
	return pa;
}

static void pt_free_table(struct pgtable *pt, uint64_t pa)
{
	pmm_free_page(pa);
	pt->table_pages--;
}

static bool pt_table_empty(const uint64_t *tbl)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (tbl[i])
			return false;
	return true;
}

/* Free a table of the given level and every table below it. */
static void pt_free_subtree(struct pgtable *pt, uint64_t table, unsigned level)
{
	uint64_t *tbl = pt_table(table);

	for (unsigned i = 0; level > 1 && i < PT_ENTRIES; i++) {
		uint64_t pa;
		unsigned prot;
		bool leaf;

		if (pt->fmt->decode(tbl[i], level, &pa, &prot, &leaf) && !leaf)
			pt_free_subtree(pt, pa, level - 1);
	}
	pt_free_table(pt, table);
}

/*
 * Build a table of level-1 that maps exactly what a leaf at 'level' mapped,
 * with the same rights. Returns its address, or 0 (nothing allocated) when out
 * of memory. Where the format has no leaves one level down, split further.
 */
static uint64_t pt_split(struct pgtable *pt, uint64_t pa, unsigned prot,
			 unsigned level)
{
	const struct pt_format *fmt = pt->fmt;
	unsigned child = level - 1;
	uint64_t size = pt_level_size(child);
	uint64_t table = pt_alloc_table(pt);
	uint64_t *tbl;

	if (!table)
		return 0;
	tbl = pt_table(table);
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t cpa = pa + i * size;

		if (pt_leaf_allowed(fmt, child)) {
			tbl[i] = fmt->encode(cpa, prot, child, true);
		} else {
			uint64_t sub = pt_split(pt, cpa, prot, child);

			if (!sub) {
				pt_free_subtree(pt, table, child);
				return 0;
			}
			tbl[i] = fmt->encode(sub, PT_INTERIOR | (prot & PT_USER),
					     child, false);
		}
	}
	return table;
}

/*
 * The table below *ent (an entry of a level 'level' table), made if needed:
 * an empty entry gets a new table when 'create', a large leaf is split. The
 * interior entry is widened to PT_USER when 'prot' asks for it. Returns 0
 * when there is no table (empty entry and !create) or out of memory (*err).
 */
static uint64_t pt_child(struct pgtable *pt, uint64_t *ent, unsigned level,
			 unsigned prot, bool create, bool *created, int *err)
{
	const struct pt_format *fmt = pt->fmt;
	unsigned want = PT_INTERIOR | (prot & PT_USER);
	uint64_t pa, table;
	unsigned eprot;
	bool leaf;

	*created = false;
	*err = 0;
	if (!fmt->decode(*ent, level, &pa, &eprot, &leaf)) {
		if (!create)
			return 0;
		table = pt_alloc_table(pt);
		if (!table) {
			*err = KEEL_ENOMEM;
			return 0;
		}
		*ent = fmt->encode(table, want, level, false);
		*created = true;
		return table;
	}
	if (leaf) {
		/* Reproduce the large leaf one level down, then the caller
		 * changes only its part of it. */
		table = pt_split(pt, pa, eprot, level);
		if (!table) {
			*err = KEEL_ENOMEM;
			return 0;
		}
		*ent = fmt->encode(table, want | (eprot & PT_USER), level,
				   false);
		return table;
	}
	if ((want & ~eprot) & PT_USER)
		*ent = fmt->encode(pa, eprot | want, level, false);
	return pa;
}

static int pt_map_level(struct pgtable *pt, uint64_t table, unsigned level,
			uint64_t va, uint64_t last, uint64_t pa, unsigned prot)
{
	const struct pt_format *fmt = pt->fmt;
	uint64_t *tbl = pt_table(table);
	uint64_t size = pt_level_size(level);
	uint64_t cur = va;

	for (;;) {
		uint64_t *ent = &tbl[pt_index(cur, level)];
		uint64_t e_start = cur & ~(size - 1), e_last = e_start + (size - 1);
		uint64_t c_last = last < e_last ? last : e_last;
		uint64_t cpa = pa + (cur - va);

		if (cur == e_start && c_last == e_last &&
		    pt_leaf_allowed(fmt, level) && !(cpa & (size - 1))) {
			uint64_t old = *ent, opa;
			unsigned oprot;
			bool oleaf;

			*ent = fmt->encode(cpa, prot, level, true);
			if (level > 1 &&
			    fmt->decode(old, level, &opa, &oprot, &oleaf) && !oleaf)
				pt_free_subtree(pt, opa, level - 1);
		} else {
			bool created;
			int err;
			uint64_t child = pt_child(pt, ent, level, prot, true,
						  &created, &err);

			if (!child)
				return err;
			err = pt_map_level(pt, child, level - 1, cur, c_last,
					   cpa, prot);
			if (err) {
				if (created && pt_table_empty(pt_table(child))) {
					*ent = 0;
					pt_free_table(pt, child);
				}
				return err;
			}
		}
		if (c_last == last)
			return 0;
		cur = c_last + 1;
	}
}

/*
 * Unmap (prot == 0, unmap true) or re-protect the present leaves of
 * [va, last] in a table. Tables left empty by an unmap are freed.
 */
static int pt_change_level(struct pgtable *pt, uint64_t table, unsigned level,
			   uint64_t va, uint64_t last, bool unmap,
			   unsigned prot)
{
	const struct pt_format *fmt = pt->fmt;
	uint64_t *tbl = pt_table(table);
	uint64_t size = pt_level_size(level);
	uint64_t cur = va;

	for (;;) {
		uint64_t *ent = &tbl[pt_index(cur, level)];
		uint64_t e_start = cur & ~(size - 1), e_last = e_start + (size - 1);
		uint64_t c_last = last < e_last ? last : e_last;
		bool whole = cur == e_start && c_last == e_last;
		uint64_t epa;
		unsigned eprot;
		bool leaf;

		if (!fmt->decode(*ent, level, &epa, &eprot, &leaf)) {
			/* nothing mapped here */
		} else if (whole && leaf) {
			*ent = unmap ? 0 : fmt->encode(epa, prot, level, true);
		} else if (whole && unmap) {
			*ent = 0;
			pt_free_subtree(pt, epa, level - 1);
		} else {
			bool created;
			int err;
			uint64_t child = pt_child(pt, ent, level,
						  unmap ? 0 : prot, false,
						  &created, &err);

			if (!child)
				return err;
			err = pt_change_level(pt, child, level - 1, cur, c_last,
					      unmap, prot);
			if (unmap && pt_table_empty(pt_table(child))) {
				*ent = 0;
				pt_free_table(pt, child);
			}
			if (err)
				return err;
		}
		if (c_last == last)
			return 0;
		cur = c_last + 1;
	}
}

/* A range is page aligned, not empty, and canonical from end to end without
 * crossing the non-canonical hole. */
static int pt_check_range(uint64_t va, uint64_t len, uint64_t *last)
{
	if (!len || ((va | len) & (PAGE_SIZE - 1)))
		return KEEL_EINVAL;
	*last = va + (len - 1);
	if (*last < va || !pt_canonical(va) || !pt_canonical(*last) ||
	    ((va ^ *last) >> 63))
		return KEEL_EINVAL;
	return 0;
}

int pt_init(struct pgtable *pt, const struct pt_format *fmt)
{
	pt->fmt = fmt;
	pt->table_pages = 0;
	pt->root = pt_alloc_table(pt);
	return pt->root ? 0 : KEEL_ENOMEM;
}

int pt_map(struct pgtable *pt, uint64_t va, uint64_t pa, uint64_t len,
	   unsigned prot)
{
	uint64_t last;
	int err = pt_check_range(va, len, &last);

	if (err)
		return err;
	if ((pa & (PAGE_SIZE - 1)) || pa >= PT_MAX_PHYS ||
	    len > PT_MAX_PHYS - pa)
		return KEEL_EINVAL;
	if (!pt->root)
		return KEEL_EINVAL;
	return pt_map_level(pt, pt->root, PT_LEVELS, va, last, pa, prot);
}

int pt_unmap(struct pgtable *pt, uint64_t va, uint64_t len)
{
	uint64_t last;
	int err = pt_check_range(va, len, &last);

	if (err)
		return err;
	if (!pt->root)
		return KEEL_EINVAL;
	return pt_change_level(pt, pt->root, PT_LEVELS, va, last, true, 0);
}

int pt_protect(struct pgtable *pt, uint64_t va, uint64_t len, unsigned prot)
{
	uint64_t last;
	int err = pt_check_range(va, len, &last);

	if (err)
		return err;
	if (!pt->root)
		return KEEL_EINVAL;
	return pt_change_level(pt, pt->root, PT_LEVELS, va, last, false, prot);
}

int pt_translate(const struct pgtable *pt, uint64_t va, uint64_t *pa,
		 unsigned *prot, unsigned *level)
{
	uint64_t table = pt->root;

	if (!pt_canonical(va) || !table)
		return KEEL_EINVAL;
	for (unsigned l = PT_LEVELS; l >= 1; l--) {
		uint64_t epa;
		unsigned eprot;
		bool leaf;

		if (!pt->fmt->decode(pt_table(table)[pt_index(va, l)], l, &epa,
				     &eprot, &leaf))
			return KEEL_ENOENT;
		if (leaf) {
			if (pa)
				*pa = epa + (va & (pt_level_size(l) - 1));
			if (prot)
				*prot = eprot;
			if (level)
				*level = l;
			return 0;
		}
		table = epa;
	}
	return KEEL_ENOENT; /* a level-1 entry that is not a leaf: bad format */
}

void pt_destroy(struct pgtable *pt)
{
	if (pt->root)
		pt_free_subtree(pt, pt->root, PT_LEVELS);
	pt->root = 0;
}

/* ---- x86 long-mode paging (SDM vol. 3, 4.5, tables 4-15 .. 4-20). ---- */

#define X86_PTE_P (1ULL << 0)
#define X86_PTE_RW (1ULL << 1)
#define X86_PTE_US (1ULL << 2)
#define X86_PTE_PWT (1ULL << 3)
#define X86_PTE_PCD (1ULL << 4)
#define X86_PTE_PS (1ULL << 7) /* level 2 and 3: this entry is a leaf */
#define X86_PTE_G (1ULL << 8)
#define X86_PTE_NX (1ULL << 63) /* needs EFER.NXE */
#define X86_PTE_ADDR 0x000FFFFFFFFFF000ULL

/*
 * Memory types through the PAT (SDM 11.12.3): kmem.c programs IA32_PAT with
 * PA1 = WC and keeps PA0 = WB, PA3 = UC. Index = PAT:PCD:PWT, and the PAT bit
 * is never set, so PT_WC = PWT (index 1) and PT_UC = PCD|PWT (index 3).
 */
static uint64_t x86_encode(uint64_t pa, unsigned prot, unsigned level,
			   bool leaf)
{
	uint64_t e = (pa & X86_PTE_ADDR) | X86_PTE_P;

	if (!leaf) /* interior: writable, no NX; the leaf decides */
		return e | X86_PTE_RW | ((prot & PT_USER) ? X86_PTE_US : 0);
	if (prot & PT_W)
		e |= X86_PTE_RW;
	if (prot & PT_USER)
		e |= X86_PTE_US;
	if (!(prot & PT_X))
		e |= X86_PTE_NX;
	if (prot & PT_GLOBAL)
		e |= X86_PTE_G;
	if (prot & PT_UC)
		e |= X86_PTE_PCD | X86_PTE_PWT;
	else if (prot & PT_WC)
		e |= X86_PTE_PWT;
	if (level > 1)
		e |= X86_PTE_PS;
	return e;
}

static bool x86_decode(uint64_t e, unsigned level, uint64_t *pa,
		       unsigned *prot, bool *leaf)
{
	if (!(e & X86_PTE_P))
		return false;
	/* PS is reserved in a PML4E (SDM table 4-15): never a leaf there. */
	*leaf = level == 1 || (level <= 3 && (e & X86_PTE_PS));
	if (!*leaf) {
		*pa = e & X86_PTE_ADDR;
		*prot = PT_INTERIOR | ((e & X86_PTE_US) ? PT_USER : 0);
		return true;
	}
	/* Bit 12 is the PAT bit in a large leaf, not an address bit. */
	*pa = e & X86_PTE_ADDR & ~(pt_level_size(level) - 1);
	*prot = PT_R;
	if (e & X86_PTE_RW)
		*prot |= PT_W;
	if (!(e & X86_PTE_NX))
		*prot |= PT_X;
	if (e & X86_PTE_US)
		*prot |= PT_USER;
	if (e & X86_PTE_G)
		*prot |= PT_GLOBAL;
	if (e & X86_PTE_PCD) /* index 2 (UC-) or 3 (UC) */
		*prot |= PT_UC;
	else if (e & X86_PTE_PWT)
		*prot |= PT_WC;
	return true;
}

const struct pt_format pt_format_x86 = {
	.name = "x86-64",
	.encode = x86_encode,
	.decode = x86_decode,
	.large_2m = true,
	.large_1g = true, /* kmem.c clears it when CPUID lacks Page1GB */
};

/*
 * ---- AMD nested paging (APM vol. 2, 15.25.5). ----
 * NPT entries are long-mode paging entries, walked with the host's
 * EFER.NXE and PAT, so the x86 encoding serves with two differences: every
 * guest access is checked as a user access (APM 15.25.5; the svm-tcg recipe,
 * 4.5, shows the NPF without U/S), so U/S is set on every entry, interior
 * and leaf; and G means nothing in a nested table, so it is never set.
 * 1 GiB leaves need CPUID Fn8000_0001_EDX[Page1GB]: a backend whose CPU
 * lacks it uses a copy of this format with large_1g false.
 */
static uint64_t npt_encode(uint64_t pa, unsigned prot, unsigned level,
			   bool leaf)
{
	return x86_encode(pa, (prot | PT_USER) & ~PT_GLOBAL, level, leaf);
}

static bool npt_decode(uint64_t e, unsigned level, uint64_t *pa,
		       unsigned *prot, bool *leaf)
{
	if (!x86_decode(e, level, pa, prot, leaf))
		return false;
	*prot &= ~PT_GLOBAL;
	return true;
}

const struct pt_format pt_format_npt = {
	.name = "npt",
	.encode = npt_encode,
	.decode = npt_decode,
	.large_2m = true,
	.large_1g = true,
};

/*
 * ---- Intel EPT (SDM vol. 3, 29.3.2, tables 29-1 .. 29-6). ----
 * Bits 2:0 are read, write and execute; an entry with none of them is not
 * present. Leaves carry the EPT memory type in bits 5:3 and ignore-PAT in
 * bit 6; bit 7 makes a PDPTE or PDE a leaf (reserved in a PML4E, ignored in
 * a PTE). Accessed/dirty flags (bits 8, 9) and mode-based execute (bit 10)
 * are not enabled, so they stay 0.
 */
#define EPT_R (1ULL << 0)
#define EPT_W (1ULL << 1)
#define EPT_X (1ULL << 2)
#define EPT_MT_SHIFT 3
#define EPT_MT_MASK (7ULL << EPT_MT_SHIFT)
#define EPT_IPAT (1ULL << 6)
#define EPT_LARGE (1ULL << 7)
#define EPT_ADDR 0x000FFFFFFFFFF000ULL

/* SDM 29.3.7.1 / 11.11: the memory types an EPT leaf may name. */
#define EPT_MT_UC 0ULL
#define EPT_MT_WC 1ULL
#define EPT_MT_WB 6ULL

/*
 * Every leaf is readable: a write-only leaf is an EPT misconfiguration
 * (SDM 29.3.3.1) and execute-only needs a capability (IA32_VMX_EPT_VPID_CAP
 * bit 0) that the other formats have no way to express. RAM is WB with
 * ignore-PAT set, as KVM does: the host maps the same pages WB through the
 * direct map, and a guest PAT or CR0.CD asking for UC would alias them with
 * a different memory type (SDM 11.12.4). UC and WC leaves (devices) leave
 * the guest's PAT in play; with UC it cannot weaken anything anyway.
 */
static uint64_t ept_encode(uint64_t pa, unsigned prot, unsigned level,
			   bool leaf)
{
	uint64_t e = (pa & EPT_ADDR) | EPT_R;

	if (!leaf) /* interior: open, the leaf decides (SDM 29.3.2) */
		return e | EPT_W | EPT_X;
	if (prot & PT_W)
		e |= EPT_W;
	if (prot & PT_X)
		e |= EPT_X;
	if (prot & PT_UC)
		e |= EPT_MT_UC << EPT_MT_SHIFT;
	else if (prot & PT_WC)
		e |= EPT_MT_WC << EPT_MT_SHIFT;
	else
		e |= (EPT_MT_WB << EPT_MT_SHIFT) | EPT_IPAT;
	if (level > 1)
		e |= EPT_LARGE;
	return e;
}

/* EPT has no user/supervisor distinction: every guest access is allowed,
 * which is what PT_USER means in the other formats, so decode reports it. */
static bool ept_decode(uint64_t e, unsigned level, uint64_t *pa,
		       unsigned *prot, bool *leaf)
{
	uint64_t mt;

	if (!(e & (EPT_R | EPT_W | EPT_X)))
		return false;
	/* Bit 7 is reserved in a PML4E: never a leaf there. */
	*leaf = level == 1 || (level <= 3 && (e & EPT_LARGE));
	if (!*leaf) {
		*pa = e & EPT_ADDR;
		*prot = PT_INTERIOR | PT_USER;
		return true;
	}
	*pa = e & EPT_ADDR & ~(pt_level_size(level) - 1);
	*prot = PT_USER;
	if (e & EPT_R)
		*prot |= PT_R;
	if (e & EPT_W)
		*prot |= PT_W;
	if (e & EPT_X)
		*prot |= PT_X;
	mt = (e & EPT_MT_MASK) >> EPT_MT_SHIFT;
	if (mt == EPT_MT_UC)
		*prot |= PT_UC;
	else if (mt == EPT_MT_WC)
		*prot |= PT_WC;
	return true;
}

/* 1 GiB leaves need IA32_VMX_EPT_VPID_CAP bit 17: see pt_format_npt. */
const struct pt_format pt_format_ept = {
	.name = "ept",
	.encode = ept_encode,
	.decode = ept_decode,
	.large_2m = true,
	.large_1g = true,
};
