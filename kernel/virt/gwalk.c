/*
 * gwalk.c - the guest's own page walk (emulate.h): linear to guest-physical
 * through the guest's CR3 in every paging mode of SDM vol.3 chapter 4
 * (32-bit, PAE, 4-level, 5-level), with its faults and accessed/dirty bits.
 * Paging entries are read and written through struct gwalk_ops only.
 */
#include "kernel/arch/x86.h"
#include "kernel/virt/emulate.h"

#ifndef CR4_PSE
#define CR4_PSE (1ULL << 4)
#endif
#ifndef CR4_LA57
#define CR4_LA57 (1ULL << 12)
#endif
#ifndef CR4_SMEP
#define CR4_SMEP (1ULL << 20)
#endif

/* Paging-entry bits (SDM vol.3 tables 4-4..4-20). */
#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_A (1ULL << 5)
#define PTE_D (1ULL << 6)
#define PTE_PS (1ULL << 7)
#define PTE_XD (1ULL << 63)

/* #PF error code (SDM vol.3 4.7). */
#define PFERR_P (1u << 0)
#define PFERR_RSVD (1u << 3)

#define GWALK_LEVELS 5

/* Bits lo..hi set (lo > hi: none). */
static uint64_t bit_range(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return 0;
	return (hi >= 63 ? ~0ULL : (1ULL << (hi + 1)) - 1) & ~((1ULL << lo) - 1);
}

/* One paging entry as read: where, its value, and for the 4-byte entries of
 * 32-bit paging the aligned 8 bytes around it (what read_gpa gives). */
struct gw_entry {
	uint64_t gpa;	/* of the 8 bytes read */
	uint64_t qword;
	unsigned shift; /* 0, or 32 for the upper half */
	uint64_t val;
};

static int gw_read(const struct gwalk_ops *ops, uint64_t gpa, bool wide,
		   struct gw_entry *e)
{
	e->gpa = gpa & ~7ULL;
	e->shift = wide ? 0 : (unsigned)(gpa & 4) * 8;
	if (ops->read_gpa(ops->ctx, e->gpa, &e->qword))
		return -1;
	e->val = wide ? e->qword : (uint32_t)(e->qword >> e->shift);
	return 0;
}

/* Set bits in an entry the walk used. A write that fails (page tables in
 * ROM) is dropped, as the hardware's would be. */
static void gw_set(const struct gwalk_ops *ops, struct gw_entry *e,
		   uint64_t bits)
{
	if ((e->val & bits) == bits)
		return;
	e->val |= bits;
	e->qword |= bits << e->shift;
	ops->write_gpa(ops->ctx, e->gpa, e->qword);
}

enum gwalk_result gwalk_translate(const struct gwalk_ops *ops,
				  const struct vcpu_sregs *sregs, uint64_t gva,
				  unsigned access, uint64_t *gpa,
				  uint32_t *pf_error)
{
	bool nxe = sregs->efer & EFER_NXE;
	bool lma = sregs->efer & EFER_LMA;
	bool pae = sregs->cr4 & CR4_PAE;
	bool user = (access & GWALK_USER) || sregs->cpl == 3;
	bool write = access & GWALK_WRITE, fetch = access & GWALK_FETCH;
	unsigned m = ops->maxphyaddr ? ops->maxphyaddr : 52;
	struct gw_entry e[GWALK_LEVELS];
	unsigned n = 0, shift, idx_bits = 9, entry_size = 8;
	uint64_t table, rsvd_base, addr_mask, page_mask;
	bool rw = true, us = true, xd = false;
	uint32_t err;

	*pf_error = 0;
	if (!(sregs->cr0 & CR0_PG)) {
		*gpa = (uint32_t)gva;
		return GWALK_OK;
	}
	if (m < 32 || m > 52)
		m = 52;
	addr_mask = bit_range(12, m - 1);
	/* The error code's W and U say what the access was; I/D only where
	 * instruction fetches can fault (SDM 4.7: PAE/4-level with NXE, or
	 * SMEP). */
	err = (write ? GWALK_WRITE : 0) | (user ? GWALK_USER : 0);
	if (fetch && ((pae && nxe) || (sregs->cr4 & CR4_SMEP)))
		err |= GWALK_FETCH;

	if (lma) {
		/* 4-level and 5-level paging (SDM 4.5): bits 51:M reserved,
		 * XD reserved without NXE. */
		bool la57 = sregs->cr4 & CR4_LA57;
		shift = la57 ? 48 : 39;
		table = sregs->cr3 & addr_mask;
		rsvd_base = bit_range(m, 51) | (nxe ? 0 : PTE_XD);
	} else if (pae) {
		/* PAE paging (SDM 4.4): the PDPTE comes from CR3[31:5]; the
		 * CPU loads the four at MOV CR3, we read the one we need. Its
		 * bits 63:M, 8:5 and 2:1 are reserved; it has no R/W, U/S,
		 * XD or A bit. */
		struct gw_entry pdpte;
		uint64_t at = (sregs->cr3 & 0xFFFFFFE0ULL) + ((gva >> 27) & 0x18);

		gva = (uint32_t)gva;
		if (gw_read(ops, at, true, &pdpte)) {
			*gpa = at;
			return GWALK_BAD_GPA;
		}
		if (!(pdpte.val & PTE_P)) {
			*pf_error = err;
			return GWALK_PAGE_FAULT;
		}
		if (pdpte.val & (bit_range(m, 63) | bit_range(5, 8) |
				 bit_range(1, 2))) {
			*pf_error = err | PFERR_P | PFERR_RSVD;
			return GWALK_PAGE_FAULT;
		}
		shift = 21;
		table = pdpte.val & addr_mask;
		rsvd_base = bit_range(m, 62) | (nxe ? 0 : PTE_XD);
	} else {
		/* 32-bit paging (SDM 4.3): 4-byte entries, no reserved bits
		 * but in 4 MiB PDEs, no XD. */
		gva = (uint32_t)gva;
		shift = 22;
		idx_bits = 10;
		entry_size = 4;
		table = sregs->cr3 & 0xFFFFF000ULL;
		rsvd_base = 0;
	}

	for (;;) {
		uint64_t at = table + ((gva >> shift) & ((1ULL << idx_bits) - 1)) *
					      entry_size;
		struct gw_entry *cur = &e[n++];
		bool last = shift == 12, large = false;
		uint64_t rsvd = rsvd_base;

		if (gw_read(ops, at, entry_size == 8, cur)) {
			*gpa = at;
			return GWALK_BAD_GPA;
		}
		if (!(cur->val & PTE_P)) {
			*pf_error = err;
			return GWALK_PAGE_FAULT;
		}
		if (!last && (cur->val & PTE_PS)) {
			if (entry_size == 4) {
				/* 4 MiB page with CR4.PSE (else PS is
				 * ignored): bit 21 reserved, bits 20:13 are
				 * PA 39:32 up to MAXPHYADDR (PSE-36). */
				if (sregs->cr4 & CR4_PSE) {
					unsigned pa_hi = m > 40 ? 40 : m;
					large = true;
					rsvd = (1ULL << 21) |
					       bit_range(13 + pa_hi - 32, 20);
				}
			} else if (shift == 21 || shift == 30) {
				/* 2 MiB or 1 GiB page: the bits between 12
				 * (PAT) and the page address are reserved. */
				large = true;
				rsvd |= bit_range(13, shift - 1);
			} else {
				rsvd |= PTE_PS; /* PML4E/PML5E (SDM 4.5) */
			}
		}
		if (cur->val & rsvd) {
			*pf_error = err | PFERR_P | PFERR_RSVD;
			return GWALK_PAGE_FAULT;
		}
		rw = rw && (cur->val & PTE_RW);
		us = us && (cur->val & PTE_US);
		if (nxe && (cur->val & PTE_XD))
			xd = true;
		if (last || large)
			break;
		table = entry_size == 8 ? cur->val & addr_mask :
					  cur->val & 0xFFFFF000ULL;
		shift -= idx_bits;
	}

	/* Access rights (SDM 4.6): user accesses need U/S at every level;
	 * writes need R/W at every level, for supervisor accesses only with
	 * CR0.WP; fetches fault on XD (with NXE). SMEP/SMAP/PKU are not
	 * modelled. */
	if ((user && !us) || (write && !rw && (user || (sregs->cr0 & CR0_WP))) ||
	    (fetch && xd)) {
		*pf_error = err | PFERR_P;
		return GWALK_PAGE_FAULT;
	}

	page_mask = (1ULL << shift) - 1;
	if (entry_size == 4) {
		uint64_t v = e[n - 1].val;
		*gpa = (v & 0xFFFFF000ULL & ~page_mask) | (gva & page_mask);
		if (shift == 22) /* PA 39:32 (the reserved check bounded it) */
			*gpa |= ((v >> 13) & 0xFF) << 32;
	} else {
		*gpa = (e[n - 1].val & addr_mask & ~page_mask) | (gva & page_mask);
	}

	/* SDM 4.8: A on every entry used, D on the leaf of a write; set only
	 * once the translation succeeds. */
	for (unsigned i = 0; i < n; i++)
		gw_set(ops, &e[i],
		       PTE_A | ((i == n - 1 && write) ? PTE_D : 0));
	return GWALK_OK;
}
