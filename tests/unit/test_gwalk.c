/*
 * test_gwalk.c - the guest page walk (kernel/virt/gwalk.c) on page tables
 * built by hand in a fake guest-physical memory: every paging mode and page
 * size, the #PF error code of each fault (not present, R/W with and without
 * WP, U/S, NX, reserved bits), unreadable tables, and the A/D bits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/err.h"
#include "kernel/virt/emulate.h"
#include "tests/unit/shim/host_shim.h"

#define MEM_SIZE (1u << 20) /* guest RAM: [0, 1 MiB) */
#define TABLES 0x10000u	    /* where the builder takes table pages */

#define P (1ULL << 0)
#define RW (1ULL << 1)
#define US (1ULL << 2)
#define A (1ULL << 5)
#define D (1ULL << 6)
#define PS (1ULL << 7)
#define XD (1ULL << 63)

#define ERR_P 1u
#define ERR_W 2u
#define ERR_U 4u
#define ERR_RSVD 8u
#define ERR_I 16u

#define CR0_PE 1ULL
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define CR4_SMEP (1ULL << 20)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

static uint8_t mem[MEM_SIZE];
static uint64_t next_table;
static unsigned reads, writes;
static bool rom; /* write_gpa fails, as for tables in ROM */

static int fake_read_gpa(void *ctx, uint64_t gpa, uint64_t *val)
{
	assert_ptr_equal(ctx, mem);
	assert_int_equal(gpa & 7, 0); /* aligned 8 bytes, 4-byte entries too */
	reads++;
	if (gpa >= MEM_SIZE)
		return KEEL_ERANGE;
	memcpy(val, mem + gpa, 8);
	return 0;
}

static int fake_write_gpa(void *ctx, uint64_t gpa, uint64_t val)
{
	assert_ptr_equal(ctx, mem);
	assert_int_equal(gpa & 7, 0);
	assert_true(gpa < MEM_SIZE);
	writes++;
	if (rom)
		return KEEL_ERANGE;
	memcpy(mem + gpa, &val, 8);
	return 0;
}

static struct gwalk_ops ops = {fake_read_gpa, fake_write_gpa, mem, 0};

static int setup(void **state)
{
	memset(mem, 0, sizeof(mem));
	next_table = TABLES;
	reads = writes = 0;
	rom = false;
	ops.maxphyaddr = 0;
	return 0;
}

static uint64_t get(uint64_t gpa, unsigned size)
{
	uint64_t v = 0;

	memcpy(&v, mem + gpa, size);
	return v;
}

static void put(uint64_t gpa, uint64_t v, unsigned size)
{
	memcpy(mem + gpa, &v, size);
}

/* One path of a page-table tree for gva: levels tables from the top (index
 * bits per level: 10 for 32-bit paging, else 9), the entries above the leaf
 * with upper flags, the leaf at depth leaf_depth (0 = top) = leaf. Returns
 * CR3's table; ent[] gets the GPA of each entry on the path. */
struct path {
	uint64_t cr3;
	uint64_t ent[5];
};

static struct path build(unsigned levels, unsigned top_shift, bool narrow,
			 uint64_t gva, uint64_t upper, unsigned leaf_depth,
			 uint64_t leaf)
{
	struct path p;
	unsigned shift = top_shift, esize = narrow ? 4 : 8;
	unsigned bits = narrow ? 10 : 9;
	uint64_t table = next_table;

	next_table += 0x1000;
	p.cr3 = table;
	for (unsigned d = 0; d < levels; d++) {
		uint64_t idx = (gva >> shift) & ((1u << bits) - 1);
		p.ent[d] = table + idx * esize;
		if (d == leaf_depth) {
			put(p.ent[d], leaf, esize);
			break;
		}
		table = next_table;
		next_table += 0x1000;
		put(p.ent[d], table | upper, esize);
		shift -= bits;
	}
	return p;
}

static struct vcpu_sregs sregs_for(uint64_t cr0, uint64_t cr3, uint64_t cr4,
				   uint64_t efer)
{
	struct vcpu_sregs s;

	memset(&s, 0, sizeof(s));
	s.cr0 = cr0 | CR0_PE;
	s.cr3 = cr3;
	s.cr4 = cr4;
	s.efer = efer;
	return s;
}

static enum gwalk_result walk(const struct vcpu_sregs *s, uint64_t gva,
			      unsigned access, uint64_t *gpa, uint32_t *err)
{
	*gpa = 0xDEAD;
	*err = 0xDEAD;
	return gwalk_translate(&ops, s, gva, access, gpa, err);
}

/* Expect a #PF with this error code, and no A/D written. */
static void expect_pf(const struct vcpu_sregs *s, uint64_t gva,
		      unsigned access, uint32_t want)
{
	uint64_t gpa;
	uint32_t err;
	unsigned w = writes;

	assert_int_equal(walk(s, gva, access, &gpa, &err), GWALK_PAGE_FAULT);
	assert_int_equal(err, want);
	assert_int_equal(writes, w);
}

static uint64_t expect_ok(const struct vcpu_sregs *s, uint64_t gva,
			  unsigned access)
{
	uint64_t gpa;
	uint32_t err;

	assert_int_equal(walk(s, gva, access, &gpa, &err), GWALK_OK);
	assert_int_equal(err, 0);
	return gpa;
}

/* ---------------------------------------------------------- paging off -- */

static void test_paging_off(void **state)
{
	struct vcpu_sregs s = sregs_for(0, 0x1000, 0, 0);
	uint64_t gpa;
	uint32_t err;

	assert_int_equal(walk(&s, 0x123456789ULL, GWALK_WRITE, &gpa, &err),
			 GWALK_OK);
	assert_int_equal(gpa, 0x23456789);
	assert_int_equal(reads, 0);
	s.cr0 = 0; /* real mode */
	assert_int_equal(walk(&s, 0xFFFF0, 0, &gpa, &err), GWALK_OK);
	assert_int_equal(gpa, 0xFFFF0);
}

/* -------------------------------------------------------- 32-bit paging -- */

#define GVA32 ((3u << 22) | (7u << 12) | 0x123u)

static void test_32bit_4k(void **state)
{
	struct path p = build(2, 22, true, GVA32, P | RW | US, 1,
			      0x55000 | P | RW | US);
	struct vcpu_sregs s = sregs_for(CR0_PG, p.cr3, 0, 0);
	uint64_t neighbour = p.ent[1] ^ 4; /* the other half of the qword */

	put(neighbour, 0xCAFEB000 | P, 4);
	assert_int_equal(expect_ok(&s, GVA32, 0), 0x55123);
	assert_int_equal(get(p.ent[0], 4) & (A | D), A);
	assert_int_equal(get(p.ent[1], 4) & (A | D), A);
	assert_int_equal(get(neighbour, 4), 0xCAFEB000 | P);
	/* a write sets D on the leaf only */
	assert_int_equal(expect_ok(&s, GVA32, GWALK_WRITE), 0x55123);
	assert_int_equal(get(p.ent[0], 4) & (A | D), A);
	assert_int_equal(get(p.ent[1], 4) & (A | D), A | D);
	assert_int_equal(get(neighbour, 4), 0xCAFEB000 | P);
	/* all set already: nothing written */
	writes = 0;
	expect_ok(&s, GVA32, GWALK_WRITE);
	assert_int_equal(writes, 0);
	/* the upper 32 bits of gva do not matter */
	assert_int_equal(expect_ok(&s, 0xABCD00000000ULL | GVA32, 0), 0x55123);
}

static void test_32bit_faults(void **state)
{
	struct path p = build(2, 22, true, GVA32, P | RW, 1, 0x55000 | P);
	struct vcpu_sregs s = sregs_for(CR0_PG, p.cr3, 0, 0);

	/* read-only page: supervisor writes fault only with WP */
	expect_ok(&s, GVA32, GWALK_WRITE);
	s.cr0 |= CR0_WP;
	expect_pf(&s, GVA32, GWALK_WRITE, ERR_P | ERR_W);
	/* supervisor page: user accesses fault, by flag or by CPL 3 */
	expect_pf(&s, GVA32, GWALK_USER, ERR_P | ERR_U);
	s.cpl = 3;
	expect_pf(&s, GVA32, 0, ERR_P | ERR_U);
	s.cpl = 0;
	/* user page, read-only: user writes fault even without WP */
	put(p.ent[1], 0x55000 | P | US, 4);
	put(p.ent[0], get(p.ent[0], 4) | US, 4);
	s.cr0 &= ~CR0_WP;
	expect_ok(&s, GVA32, GWALK_USER);
	expect_pf(&s, GVA32, GWALK_USER | GWALK_WRITE, ERR_P | ERR_W | ERR_U);
	/* R/W clear at the PDE only: still read-only */
	put(p.ent[1], 0x55000 | P | US | RW, 4);
	put(p.ent[0], get(p.ent[0], 4) & ~RW, 4);
	expect_pf(&s, GVA32, GWALK_USER | GWALK_WRITE, ERR_P | ERR_W | ERR_U);
	/* no NX in 32-bit paging: fetches are fine, and a not-present
	 * fetch has no I/D bit (without SMEP) */
	expect_ok(&s, GVA32, GWALK_FETCH);
	put(p.ent[1], 0, 4);
	expect_pf(&s, GVA32, GWALK_FETCH, 0);
	s.cr4 |= CR4_SMEP;
	expect_pf(&s, GVA32, GWALK_FETCH, ERR_I);
	/* not-present PDE */
	put(p.ent[0], 0, 4);
	expect_pf(&s, GVA32, GWALK_WRITE | GWALK_USER, ERR_W | ERR_U);
}

static void test_32bit_4m(void **state)
{
	struct path p = build(2, 22, true, GVA32, 0, 0,
			      0x00C00000 | PS | P | RW);
	struct vcpu_sregs s = sregs_for(CR0_PG, p.cr3, CR4_PSE, 0);

	assert_int_equal(expect_ok(&s, GVA32, GWALK_WRITE), 0xC07123);
	assert_int_equal(get(p.ent[0], 4) & (A | D), A | D);
	/* PSE-36: PDE bits 20:13 are PA 39:32 */
	put(p.ent[0], 0x00C00000 | (0x85u << 13) | PS | P, 4);
	assert_int_equal(expect_ok(&s, GVA32, 0), 0x8500C07123ULL);
	/* ...reserved above MAXPHYADDR, and bit 21 always */
	ops.maxphyaddr = 36;
	expect_pf(&s, GVA32, 0, ERR_P | ERR_RSVD);
	put(p.ent[0], 0x00C00000 | (0x05u << 13) | PS | P, 4);
	assert_int_equal(expect_ok(&s, GVA32, 0), 0x500C07123ULL);
	put(p.ent[0], 0x00C00000 | (1u << 21) | PS | P, 4);
	expect_pf(&s, GVA32, GWALK_WRITE, ERR_P | ERR_W | ERR_RSVD);
	/* without CR4.PSE the PS bit is ignored: the PDE names a page
	 * table at 0xC00000, outside guest memory */
	ops.maxphyaddr = 0;
	put(p.ent[0], 0x00C00000 | PS | P, 4);
	s.cr4 = 0;
	uint64_t gpa;
	uint32_t err;
	assert_int_equal(walk(&s, GVA32, 0, &gpa, &err), GWALK_BAD_GPA);
	assert_int_equal(gpa, 0xC00000 + 7 * 4);
}

/* ------------------------------------------------------------------ PAE -- */

#define GVAPAE ((1ULL << 30) | (5ULL << 21) | (9ULL << 12) | 0xABC)

/* PAE: the PDPT is 32-byte aligned anywhere below 4 GiB (CR3[31:5]). */
static struct path build_pae(uint64_t gva, uint64_t upper, unsigned leaf_depth,
			     uint64_t leaf)
{
	struct path inner = build(2, 21, false, gva, upper, leaf_depth, leaf);
	struct path p;
	uint64_t pdpt = next_table + 0x20;

	next_table += 0x1000;
	put(pdpt + ((gva >> 30) & 3) * 8, inner.cr3 | P, 8);
	p.cr3 = pdpt;
	p.ent[0] = pdpt + ((gva >> 30) & 3) * 8;
	p.ent[1] = inner.ent[0];
	p.ent[2] = inner.ent[1];
	return p;
}

static void test_pae_4k(void **state)
{
	struct path p = build_pae(GVAPAE, P | RW | US, 1,
				  0x1234567000ULL | P | RW | US);
	struct vcpu_sregs s = sregs_for(CR0_PG, p.cr3, CR4_PAE, 0);
	uint64_t pdpte = get(p.ent[0], 8);

	assert_int_equal(expect_ok(&s, GVAPAE, GWALK_WRITE), 0x1234567ABCULL);
	assert_int_equal(get(p.ent[0], 8), pdpte); /* PDPTEs have no A bit */
	assert_int_equal(get(p.ent[1], 8) & (A | D), A);
	assert_int_equal(get(p.ent[2], 8) & (A | D), A | D);
	/* CR3 bits above 31 and below 5 are not the PDPT's address */
	s.cr3 = p.cr3 | 0x1F | (1ULL << 40);
	assert_int_equal(expect_ok(&s, GVAPAE, 0), 0x1234567ABCULL);
	/* MAXPHYADDR 36: bit 36 of the leaf is now reserved */
	ops.maxphyaddr = 36;
	expect_pf(&s, GVAPAE, 0, ERR_P | ERR_RSVD);
	ops.maxphyaddr = 40;
	expect_ok(&s, GVAPAE, 0);
	/* bits 62:52 are reserved in PAE entries (not in long mode) */
	ops.maxphyaddr = 0;
	put(p.ent[2], get(p.ent[2], 8) | (1ULL << 55), 8);
	expect_pf(&s, GVAPAE, 0, ERR_P | ERR_RSVD);
}

static void test_pae_pdpte(void **state)
{
	struct path p = build_pae(GVAPAE, P | RW, 1, 0x77000 | P | RW);
	struct vcpu_sregs s = sregs_for(CR0_PG, p.cr3, CR4_PAE, 0);
	uint64_t pdpte = get(p.ent[0], 8);

	/* R/W (bit 1) and bits 8:5 of a PDPTE are reserved */
	put(p.ent[0], pdpte | RW, 8);
	expect_pf(&s, GVAPAE, 0, ERR_P | ERR_RSVD);
	put(p.ent[0], pdpte | A, 8);
	expect_pf(&s, GVAPAE, 0, ERR_P | ERR_RSVD);
	put(p.ent[0], pdpte | XD, 8);
	s.efer = EFER_NXE; /* XD is reserved in a PDPTE even with NXE */
	expect_pf(&s, GVAPAE, 0, ERR_P | ERR_RSVD);
	put(p.ent[0], pdpte & ~P, 8);
	expect_pf(&s, GVAPAE, GWALK_WRITE, ERR_W);
	put(p.ent[0], pdpte, 8);
	assert_int_equal(expect_ok(&s, GVAPAE, 0), 0x77ABC);
	/* the PDPT itself outside guest memory */
	s.cr3 = 0xFFFFF000;
	uint64_t gpa;
	uint32_t err;
	assert_int_equal(walk(&s, GVAPAE, 0, &gpa, &err), GWALK_BAD_GPA);
	assert_int_equal(gpa, 0xFFFFF008);
}

static void test_pae_2m_and_nx(void **state)
{
	struct path p = build_pae(GVAPAE, P | RW, 0,
				  0x40000000 | PS | P | RW | XD);
	struct vcpu_sregs s = sregs_for(CR0_PG, p.cr3, CR4_PAE, EFER_NXE);

	assert_int_equal(expect_ok(&s, GVAPAE, 0), 0x40009ABC);
	expect_pf(&s, GVAPAE, GWALK_FETCH, ERR_P | ERR_I);
	/* without NXE, bit 63 is a reserved bit; fetches carry no I/D */
	s.efer = 0;
	expect_pf(&s, GVAPAE, 0, ERR_P | ERR_RSVD);
	expect_pf(&s, GVAPAE, GWALK_FETCH, ERR_P | ERR_RSVD);
	/* 2 MiB PDE: bits 20:13 reserved */
	put(p.ent[1], 0x40000000 | PS | P | (1ULL << 13), 8);
	expect_pf(&s, GVAPAE, 0, ERR_P | ERR_RSVD);
	put(p.ent[1], 0x40000000 | PS | P | (1ULL << 12), 8); /* PAT: fine */
	assert_int_equal(expect_ok(&s, GVAPAE, GWALK_WRITE), 0x40009ABC);
	assert_int_equal(get(p.ent[1], 8) & (A | D), A | D);
}

/* ------------------------------------------------------- 4-level paging -- */

#define GVA64 0xFFFF8A5A5A5A5123ULL
#define LM_EFER (EFER_LMA | EFER_NXE)

static void test_long_4k(void **state)
{
	struct path p = build(4, 39, false, GVA64, P | RW | US, 3,
			      0xABCDE000ULL | P | RW | US);
	struct vcpu_sregs s = sregs_for(CR0_PG | CR0_WP, p.cr3, CR4_PAE,
					LM_EFER);

	assert_int_equal(expect_ok(&s, GVA64, 0), 0xABCDE123ULL);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(get(p.ent[i], 8) & (A | D), A);
	assert_int_equal(expect_ok(&s, GVA64, GWALK_WRITE | GWALK_USER),
			 0xABCDE123ULL);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(get(p.ent[i], 8) & (A | D), A);
	assert_int_equal(get(p.ent[3], 8) & (A | D), A | D);
	/* bits 62:52 are ignored in long mode (software bits, PKEY) */
	put(p.ent[3], get(p.ent[3], 8) | (0x7FFULL << 52), 8);
	assert_int_equal(expect_ok(&s, GVA64, 0), 0xABCDE123ULL);
	/* CR3's low bits (PCID) and bit 63 are not part of the address */
	s.cr3 = p.cr3 | 0xFFF | (1ULL << 63);
	assert_int_equal(expect_ok(&s, GVA64, 0), 0xABCDE123ULL);
	/* tables whose A/D writes fail (ROM) still translate */
	put(p.ent[3], 0xABCDE000ULL | P | RW, 8);
	rom = true;
	writes = 0;
	assert_int_equal(expect_ok(&s, GVA64, GWALK_WRITE), 0xABCDE123ULL);
	assert_int_equal(writes, 1);
}

static void test_long_large_pages(void **state)
{
	struct path p = build(4, 39, false, GVA64, P | RW, 1,
			      0x40000000ULL | PS | P | RW);
	struct vcpu_sregs s = sregs_for(CR0_PG, p.cr3, CR4_PAE, LM_EFER);

	/* 1 GiB */
	assert_int_equal(expect_ok(&s, GVA64, GWALK_WRITE),
			 0x40000000ULL | (GVA64 & 0x3FFFFFFF));
	assert_int_equal(get(p.ent[1], 8) & (A | D), A | D);
	assert_int_equal(get(p.ent[0], 8) & (A | D), A);
	put(p.ent[1], 0x40000000ULL | PS | P | (1ULL << 29), 8);
	expect_pf(&s, GVA64, 0, ERR_P | ERR_RSVD);
	/* 2 MiB */
	setup(NULL);
	p = build(4, 39, false, GVA64, P | RW, 2, 0x7FE00000ULL | PS | P);
	s.cr3 = p.cr3;
	assert_int_equal(expect_ok(&s, GVA64, 0),
			 0x7FE00000ULL | (GVA64 & 0x1FFFFF));
	put(p.ent[2], 0x7FE00000ULL | PS | P | (1ULL << 20), 8);
	expect_pf(&s, GVA64, 0, ERR_P | ERR_RSVD);
	/* PS in a PML4E is reserved */
	put(p.ent[2], 0x7FE00000ULL | PS | P, 8);
	put(p.ent[0], get(p.ent[0], 8) | PS, 8);
	expect_pf(&s, GVA64, 0, ERR_P | ERR_RSVD);
	/* bits 51:M reserved at any level */
	put(p.ent[0], get(p.ent[0], 8) & ~PS, 8);
	ops.maxphyaddr = 40;
	put(p.ent[1], get(p.ent[1], 8) | (1ULL << 45), 8);
	expect_pf(&s, GVA64, 0, ERR_P | ERR_RSVD);
	ops.maxphyaddr = 0; /* now bit 45 is an address bit: no such PD */
	uint64_t gpa;
	uint32_t err;
	assert_int_equal(walk(&s, GVA64, 0, &gpa, &err), GWALK_BAD_GPA);
	put(p.ent[1], get(p.ent[1], 8) & ~(1ULL << 45), 8);
	expect_ok(&s, GVA64, 0);
	/* and XD without NXE */
	s.efer = EFER_LMA;
	put(p.ent[2], get(p.ent[2], 8) | XD, 8);
	expect_pf(&s, GVA64, 0, ERR_P | ERR_RSVD);
}

static void test_long_permissions(void **state)
{
	struct path p = build(4, 39, false, GVA64, P | RW | US, 3,
			      0x88000 | P | RW | US);
	struct vcpu_sregs s = sregs_for(CR0_PG | CR0_WP, p.cr3, CR4_PAE,
					LM_EFER);
	uint64_t e;

	/* XD at the PML4E: fetches fault (with I/D), reads do not */
	put(p.ent[0], get(p.ent[0], 8) | XD, 8);
	expect_ok(&s, GVA64, 0);
	expect_pf(&s, GVA64, GWALK_FETCH, ERR_P | ERR_I);
	expect_pf(&s, GVA64, GWALK_FETCH | GWALK_USER, ERR_P | ERR_I | ERR_U);
	put(p.ent[0], get(p.ent[0], 8) & ~XD, 8);
	expect_ok(&s, GVA64, GWALK_FETCH);
	/* U/S clear at the PDPTE: user faults, supervisor does not (no
	 * SMEP/SMAP modelled) */
	e = get(p.ent[1], 8);
	put(p.ent[1], e & ~US, 8);
	expect_pf(&s, GVA64, GWALK_USER, ERR_P | ERR_U);
	expect_ok(&s, GVA64, GWALK_WRITE);
	expect_ok(&s, GVA64, GWALK_FETCH);
	s.cpl = 3;
	expect_pf(&s, GVA64, GWALK_FETCH, ERR_P | ERR_U | ERR_I);
	s.cpl = 0;
	/* R/W clear at the PD */
	put(p.ent[1], e, 8);
	put(p.ent[2], get(p.ent[2], 8) & ~RW, 8);
	expect_pf(&s, GVA64, GWALK_WRITE, ERR_P | ERR_W);
	expect_pf(&s, GVA64, GWALK_WRITE | GWALK_USER, ERR_P | ERR_W | ERR_U);
	s.cr0 &= ~CR0_WP;
	expect_ok(&s, GVA64, GWALK_WRITE);
	expect_pf(&s, GVA64, GWALK_WRITE | GWALK_USER, ERR_P | ERR_W | ERR_U);
	/* a fetch fault without NXE carries no I/D */
	s.efer = EFER_LMA;
	put(p.ent[3], 0, 8);
	expect_pf(&s, GVA64, GWALK_FETCH, 0);
	s.efer = LM_EFER;
	expect_pf(&s, GVA64, GWALK_FETCH, ERR_I);
}

/* A fault leaves every A/D bit as it was; so does an unreadable table. */
static void test_long_faults_set_nothing(void **state)
{
	struct path p = build(4, 39, false, GVA64, P | RW | US, 3,
			      0x88000 | P | US);
	struct vcpu_sregs s = sregs_for(CR0_PG | CR0_WP, p.cr3, CR4_PAE,
					LM_EFER);
	uint64_t before[4], gpa;
	uint32_t err;

	for (unsigned i = 0; i < 4; i++)
		before[i] = get(p.ent[i], 8);
	expect_pf(&s, GVA64, GWALK_WRITE, ERR_P | ERR_W);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(get(p.ent[i], 8), before[i]);
	/* not present at the PT level: the error code has the access bits */
	put(p.ent[3], 0x88000 | US, 8);
	expect_pf(&s, GVA64, GWALK_WRITE | GWALK_USER, ERR_W | ERR_U);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(get(p.ent[i], 8), before[i]);
	/* a PD pointing outside guest memory */
	put(p.ent[1], 0x7FF00000ULL | P | RW | US, 8);
	assert_int_equal(walk(&s, GVA64, 0, &gpa, &err), GWALK_BAD_GPA);
	assert_int_equal(gpa, 0x7FF00000ULL + ((GVA64 >> 21) & 511) * 8);
	assert_int_equal(get(p.ent[0], 8), before[0]);
	/* CR3 outside guest memory */
	s.cr3 = 0x40000000;
	assert_int_equal(walk(&s, GVA64, 0, &gpa, &err), GWALK_BAD_GPA);
	assert_int_equal(gpa, 0x40000000 + ((GVA64 >> 39) & 511) * 8);
}

/* ------------------------------------------------------- 5-level paging -- */

#define GVA57 0xFF5A5A5A5A5A5678ULL

static void test_5level(void **state)
{
	struct path p = build(5, 48, false, GVA57, P | RW | US, 4,
			      0x12345000ULL | P | RW);
	struct vcpu_sregs s = sregs_for(CR0_PG, p.cr3, CR4_PAE | CR4_LA57,
					LM_EFER);

	assert_int_equal(expect_ok(&s, GVA57, GWALK_WRITE), 0x12345678ULL);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(get(p.ent[i], 8) & (A | D), A);
	assert_int_equal(get(p.ent[4], 8) & (A | D), A | D);
	/* PS in a PML5E is reserved */
	put(p.ent[0], get(p.ent[0], 8) | PS, 8);
	expect_pf(&s, GVA57, 0, ERR_P | ERR_RSVD);
	put(p.ent[0], get(p.ent[0], 8) & ~(PS | P), 8);
	expect_pf(&s, GVA57, 0, 0);
	/* without LA57 the top table is a PML4 indexed by bits 47:39
	 * (0xB4 here, empty) instead of a PML5 by bits 56:48 (0x15A) */
	put(p.ent[0], get(p.ent[0], 8) | P, 8);
	expect_ok(&s, GVA57, 0);
	s.cr4 = CR4_PAE;
	expect_pf(&s, GVA57, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_paging_off, setup),
		cmocka_unit_test_setup(test_32bit_4k, setup),
		cmocka_unit_test_setup(test_32bit_faults, setup),
		cmocka_unit_test_setup(test_32bit_4m, setup),
		cmocka_unit_test_setup(test_pae_4k, setup),
		cmocka_unit_test_setup(test_pae_pdpte, setup),
		cmocka_unit_test_setup(test_pae_2m_and_nx, setup),
		cmocka_unit_test_setup(test_long_4k, setup),
		cmocka_unit_test_setup(test_long_large_pages, setup),
		cmocka_unit_test_setup(test_long_permissions, setup),
		cmocka_unit_test_setup(test_long_faults_set_nothing, setup),
		cmocka_unit_test_setup(test_5level, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
