/*
 * test_pt.c - the page-table builder (mm/pt.c) with the x86 format, its table
 * pages taken from the real pmm over an arena: leaf size choice, unaligned
 * ranges, splitting large leaves, unmap and protect, bad input, running out of
 * memory half-way, freeing every table, and the entry encoding bit by bit;
 * then the NPT and EPT formats: encoding, round trips, and a map, split,
 * protect, unmap run through each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/err.h"
#include "mm/mm.h"
#include "tests/unit/shim/host_shim.h"

#define FAKE_BASE (1ULL << 30)
#define ARENA_BYTES (4ULL << 20) /* 1024 table pages */
#define MAX_PHYS (FAKE_BASE + ARENA_BYTES)

#define VA 0xFFFF800000000000ULL /* canonical, 512 GiB aligned */
#define G1 HUGE_PAGE_SIZE
#define M2 LARGE_PAGE_SIZE
#define K4 PAGE_SIZE

static uint8_t *arena;
static uint8_t *meta;
static struct pgtable pt;
static uint64_t free_at_start;

static uint64_t free_pages(void)
{
	struct pmm_stats st;

	pmm_get_stats(&st);
	return st.free_pages;
}

static int setup(void **state)
{
	arena = aligned_alloc(PAGE_SIZE, ARENA_BYTES);
	meta = calloc(1, pmm_metadata_bytes(MAX_PHYS));
	assert_non_null(arena);
	assert_non_null(meta);
	mm_direct_offset = (uint64_t)(uintptr_t)arena - FAKE_BASE;
	pmm_init(MAX_PHYS, meta);
	pmm_add_range(FAKE_BASE, ARENA_BYTES);
	free_at_start = free_pages();
	assert_int_equal(pt_init(&pt, &pt_format_x86), 0);
	assert_int_equal(pt.table_pages, 1);
	test_log_reset();
	return 0;
}

static int teardown(void **state)
{
	pt_destroy(&pt);
	assert_int_equal(pt.table_pages, 0);
	assert_int_equal(free_pages(), free_at_start);
	assert_int_equal(pmm_bad_frees(), 0);
	free(arena);
	free(meta);
	return 0;
}

/* Expect va to translate to pa through a leaf of 'level' with 'prot'. */
static void expect_map(uint64_t va, uint64_t pa, unsigned level, unsigned prot)
{
	uint64_t got_pa = 0;
	unsigned got_prot = 0, got_level = 0;

	assert_int_equal(pt_translate(&pt, va, &got_pa, &got_prot, &got_level), 0);
	assert_int_equal(got_pa, pa);
	assert_int_equal(got_level, level);
	assert_int_equal(got_prot, prot);
}

static void expect_unmapped(uint64_t va)
{
	uint64_t pa;
	unsigned prot, level;

	assert_int_equal(pt_translate(&pt, va, &pa, &prot, &level), KEEL_ENOENT);
}

static const unsigned RW = PT_R | PT_W;

static void test_leaf_sizes(void **state)
{
	/* 1 GiB aligned on both sides: one 1 GiB leaf */
	assert_int_equal(pt_map(&pt, VA + G1, 5 * G1, G1, RW), 0);
	expect_map(VA + G1, 5 * G1, 3, RW);
	expect_map(VA + G1 + 0x12345678, 5 * G1 + 0x12345678, 3, RW);
	expect_map(VA + 2 * G1 - K4, 6 * G1 - K4, 3, RW);
	expect_unmapped(VA + 2 * G1);
	assert_int_equal(pt.table_pages, 2); /* root + PDPT */

	/* 2 MiB aligned but not 1 GiB: 2 MiB leaves */
	assert_int_equal(pt_map(&pt, VA + 4 * G1 + 6 * M2, 0x40000000 + 2 * M2,
				2 * M2, RW | PT_X),
			 0);
	expect_map(VA + 4 * G1 + 6 * M2, 0x40000000 + 2 * M2, 2, RW | PT_X);
	expect_map(VA + 4 * G1 + 8 * M2 - 1, 0x40000000 + 4 * M2 - 1, 2,
		   RW | PT_X);
	expect_unmapped(VA + 4 * G1 + 8 * M2);

	/* va 2 MiB aligned, pa only 4 KiB aligned: 4 KiB leaves */
	assert_int_equal(pt_map(&pt, VA + 8 * G1, 0x1000, M2, PT_R), 0);
	expect_map(VA + 8 * G1, 0x1000, 1, PT_R);
	expect_map(VA + 8 * G1 + M2 - K4, M2, 1, PT_R);

	/* a 1 GiB-aligned range with pa only 2 MiB aligned: 2 MiB leaves */
	assert_int_equal(pt_map(&pt, VA + 16 * G1, G1 + M2, G1, RW), 0);
	expect_map(VA + 16 * G1, G1 + M2, 2, RW);
	expect_map(VA + 17 * G1 - M2, 2 * G1, 2, RW);
}

/* Without 1 GiB leaves in the format, 2 MiB is the biggest. */
static void test_format_without_1g(void **state)
{
	struct pt_format fmt = pt_format_x86;
	struct pgtable p2;

	fmt.large_1g = false;
	assert_int_equal(pt_init(&p2, &fmt), 0);
	assert_int_equal(pt_map(&p2, VA, 0, G1, RW), 0);
	{
		uint64_t pa;
		unsigned prot, level;

		assert_int_equal(pt_translate(&p2, VA + G1 - 1, &pa, &prot, &level), 0);
		assert_int_equal(level, 2);
		assert_int_equal(pa, G1 - 1);
	}
	assert_int_equal(p2.table_pages, 3); /* root, PDPT, one PD */
	pt_destroy(&p2);
}

static void test_unaligned_range(void **state)
{
	uint64_t va = VA + G1 + M2 - K4, pa = 4 * M2 - K4;

	/* 4 KiB, then a 2 MiB leaf, then 4 KiB */
	assert_int_equal(pt_map(&pt, va, pa, K4 + M2 + K4, RW), 0);
	expect_map(va, pa, 1, RW);
	expect_map(va + K4, pa + K4, 2, RW);
	expect_map(va + K4 + M2 - K4, pa + M2, 2, RW);
	expect_map(va + K4 + M2, pa + K4 + M2, 1, RW);
	expect_unmapped(va - K4);
	expect_unmapped(va + 2 * K4 + M2);

	/* one page across nothing special, and the last page of the space */
	assert_int_equal(pt_map(&pt, 0xFFFFFFFFFFFFF000ULL, 0x7000, K4, PT_R), 0);
	expect_map(0xFFFFFFFFFFFFFFFFULL, 0x7FFF, 1, PT_R);
	assert_int_equal(pt_map(&pt, 0x00007FFFFFFFF000ULL, 0x8000, K4, PT_R), 0);
	expect_map(0x00007FFFFFFFF000ULL, 0x8000, 1, PT_R);
}

/* Mapping one page over a 1 GiB leaf splits it: the neighbours keep their
 * mapping and protection, at the finest level the split needed. */
static void test_map_over_1g_splits(void **state)
{
	uint64_t va = VA + 3 * G1, pa = 7 * G1;

	assert_int_equal(pt_map(&pt, va, pa, G1, RW | PT_GLOBAL), 0);
	expect_map(va, pa, 3, RW | PT_GLOBAL);
	assert_int_equal(pt_map(&pt, va + 5 * M2 / 2, 0x123000, K4, PT_R | PT_X), 0);

	expect_map(va + 5 * M2 / 2, 0x123000, 1, PT_R | PT_X);
	expect_map(va + 5 * M2 / 2 - K4, pa + 5 * M2 / 2 - K4, 1, RW | PT_GLOBAL);
	expect_map(va + 5 * M2 / 2 + K4, pa + 5 * M2 / 2 + K4, 1, RW | PT_GLOBAL);
	expect_map(va + 2 * M2, pa + 2 * M2, 1, RW | PT_GLOBAL);
	expect_map(va + 2 * M2 - 1, pa + 2 * M2 - 1, 2, RW | PT_GLOBAL);
	expect_map(va, pa, 2, RW | PT_GLOBAL);
	expect_map(va + G1 - 1, pa + G1 - 1, 2, RW | PT_GLOBAL);
	/* root, PDPT, the PD from the split, the PT from the second split */
	assert_int_equal(pt.table_pages, 4);

	/* Mapping the whole 1 GiB again makes it one leaf and frees the rest. */
	assert_int_equal(pt_map(&pt, va, pa, G1, PT_R), 0);
	expect_map(va + 5 * M2 / 2, pa + 5 * M2 / 2, 3, PT_R);
	assert_int_equal(pt.table_pages, 2);
}

static void test_unmap_hole_in_2m(void **state)
{
	uint64_t va = VA + 2 * M2, pa = 10 * M2;

	assert_int_equal(pt_map(&pt, va, pa, M2, RW), 0);
	assert_int_equal(pt.table_pages, 3);
	assert_int_equal(pt_unmap(&pt, va + 2 * K4, K4), 0);
	expect_unmapped(va + 2 * K4);
	expect_unmapped(va + 3 * K4 - 1);
	expect_map(va + K4, pa + K4, 1, RW);
	expect_map(va + 3 * K4, pa + 3 * K4, 1, RW);
	expect_map(va + M2 - K4, pa + M2 - K4, 1, RW);
	assert_int_equal(pt.table_pages, 4);

	/* unmapping everything frees the tables below the root */
	assert_int_equal(pt_unmap(&pt, va - M2, 3 * M2), 0);
	expect_unmapped(va);
	assert_int_equal(pt.table_pages, 1);
	/* unmapping nothing is fine */
	assert_int_equal(pt_unmap(&pt, va, M2), 0);
}

static void test_unmap_frees_empty_tables(void **state)
{
	assert_int_equal(pt_map(&pt, VA + 123 * K4, 0x5000, K4, RW), 0);
	assert_int_equal(pt_map(&pt, VA + 124 * K4, 0x6000, K4, RW), 0);
	assert_int_equal(pt.table_pages, 4);
	assert_int_equal(pt_unmap(&pt, VA + 123 * K4, K4), 0);
	assert_int_equal(pt.table_pages, 4); /* the PT still holds one page */
	expect_map(VA + 124 * K4, 0x6000, 1, RW);
	assert_int_equal(pt_unmap(&pt, VA + 124 * K4, K4), 0);
	assert_int_equal(pt.table_pages, 1);
	assert_int_equal(free_pages(), free_at_start - 1);
}

/* Replacing small pages with a large leaf frees the old table. */
static void test_map_over_small_pages(void **state)
{
	for (int i = 0; i < 8; i++)
		assert_int_equal(pt_map(&pt, VA + i * K4, 0x100000 + i * K4, K4,
					RW),
				 0);
	assert_int_equal(pt.table_pages, 4);
	assert_int_equal(pt_map(&pt, VA, 6 * M2, M2, PT_R), 0);
	expect_map(VA + 3 * K4, 6 * M2 + 3 * K4, 2, PT_R);
	assert_int_equal(pt.table_pages, 3);
}

static void test_protect(void **state)
{
	uint64_t va = VA + 5 * M2, pa = 20 * M2;

	assert_int_equal(pt_map(&pt, va, pa, M2, RW), 0);
	assert_int_equal(pt_protect(&pt, va + 7 * K4, K4, PT_R | PT_X), 0);
	expect_map(va + 7 * K4, pa + 7 * K4, 1, PT_R | PT_X);
	expect_map(va + 6 * K4, pa + 6 * K4, 1, RW);
	expect_map(va + 8 * K4, pa + 8 * K4, 1, RW);

	/* the whole range, now made of 4 KiB leaves */
	assert_int_equal(pt_protect(&pt, va, M2, PT_R | PT_UC), 0);
	expect_map(va + 7 * K4, pa + 7 * K4, 1, PT_R | PT_UC);
	expect_map(va + M2 - K4, pa + M2 - K4, 1, PT_R | PT_UC);

	/* a whole large leaf stays large */
	assert_int_equal(pt_map(&pt, VA + G1, 0, G1, RW), 0);
	assert_int_equal(pt_protect(&pt, VA + G1, G1, PT_R | PT_WC), 0);
	expect_map(VA + G1 + 0x4000, 0x4000, 3, PT_R | PT_WC);

	/* holes in the range are skipped, not mapped */
	assert_int_equal(pt_protect(&pt, VA + 4 * G1, M2, RW), 0);
	expect_unmapped(VA + 4 * G1);
}

static void test_user_interior(void **state)
{
	const uint64_t *root = phys_to_virt(pt.root);
	uint64_t va = 0x400000;

	assert_int_equal(pt_map(&pt, va, 0x9000, K4, PT_R), 0);
	assert_int_equal(root[0] & 4, 0); /* no US anywhere yet */
	assert_int_equal(pt_map(&pt, va + K4, 0xA000, K4, PT_R | PT_USER), 0);
	assert_int_equal(root[0] & 7, 7); /* P|RW|US on the way down */
	expect_map(va, 0x9000, 1, PT_R);  /* the leaf keeps its own rights */
	expect_map(va + K4, 0xA000, 1, PT_R | PT_USER);
}

static void test_bad_input(void **state)
{
	uint64_t pa;
	unsigned prot, level;

	/* non-canonical */
	assert_int_equal(pt_map(&pt, 0x0000800000000000ULL, 0, K4, RW), KEEL_EINVAL);
	assert_int_equal(pt_map(&pt, 0xFFFF7FFFFFFFF000ULL, 0, K4, RW), KEEL_EINVAL);
	/* crosses from canonical into the hole */
	assert_int_equal(pt_map(&pt, 0x00007FFFFFFFF000ULL, 0, 2 * K4, RW),
			 KEEL_EINVAL);
	/* wraps around the top */
	assert_int_equal(pt_map(&pt, 0xFFFFFFFFFFFFF000ULL, 0, 2 * K4, RW),
			 KEEL_EINVAL);
	/* misaligned va, pa, len; empty */
	assert_int_equal(pt_map(&pt, VA + 1, 0, K4, RW), KEEL_EINVAL);
	assert_int_equal(pt_map(&pt, VA, 0x800, K4, RW), KEEL_EINVAL);
	assert_int_equal(pt_map(&pt, VA, 0, 100, RW), KEEL_EINVAL);
	assert_int_equal(pt_map(&pt, VA, 0, 0, RW), KEEL_EINVAL);
	/* physical address beyond 52 bits, or overflowing */
	assert_int_equal(pt_map(&pt, VA, 1ULL << 52, K4, RW), KEEL_EINVAL);
	assert_int_equal(pt_map(&pt, VA, (1ULL << 52) - K4, 2 * K4, RW),
			 KEEL_EINVAL);
	assert_int_equal(pt_map(&pt, VA, UINT64_MAX & PAGE_MASK, 2 * K4, RW),
			 KEEL_EINVAL);
	assert_int_equal(pt_unmap(&pt, 0x0000800000000000ULL, K4), KEEL_EINVAL);
	assert_int_equal(pt_unmap(&pt, VA, 0), KEEL_EINVAL);
	assert_int_equal(pt_protect(&pt, VA + 4, K4, RW), KEEL_EINVAL);
	assert_int_equal(pt_translate(&pt, 0x1234000000000000ULL, &pa, &prot,
				      &level),
			 KEEL_EINVAL);
	/* nothing was built by any of it */
	assert_int_equal(pt.table_pages, 1);
	expect_unmapped(VA);
}

/* Take all but 'left' free pages out of the pmm. Returns them in hog[]. */
static unsigned hog_pages(uint64_t *hog, unsigned left)
{
	unsigned n = 0;

	while (free_pages() > left) {
		hog[n] = pmm_alloc_page(0);
		assert_int_not_equal(hog[n], 0);
		n++;
	}
	return n;
}

static void unhog(uint64_t *hog, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pmm_free_page(hog[i]);
}

/* Out of table pages half-way: what was mapped stays mapped, the rest is
 * not, and every table is accounted for. */
static void test_enomem_midway(void **state)
{
	static uint64_t hog[1024];
	uint64_t va = VA + G1 + M2 - 4 * K4;
	unsigned n = hog_pages(hog, 3); /* PDPT, PD, one PT; not the second PT */
	uint64_t before = free_pages();

	assert_int_equal(pt_map(&pt, va, 0x200000, 8 * K4, RW), KEEL_ENOMEM);
	assert_int_equal(free_pages(), 0);
	assert_int_equal(pt.table_pages, 1 + before);
	for (int i = 0; i < 4; i++)
		expect_map(va + i * K4, 0x200000 + i * K4, 1, RW);
	for (int i = 4; i < 8; i++)
		expect_unmapped(va + i * K4);

	/* Splitting needs a table too: the 1 GiB leaf stays whole. (Mapping
	 * it needs none: the PDPT is there.) */
	assert_int_equal(pt_map(&pt, VA + 8 * G1, 0, G1, RW), 0);
	assert_int_equal(free_pages(), 0);
	assert_int_equal(pt_map(&pt, VA + 8 * G1 + M2, 0x3000, K4, PT_R),
			 KEEL_ENOMEM);
	expect_map(VA + 8 * G1 + M2, M2, 3, RW);
	assert_int_equal(pt_unmap(&pt, VA + 8 * G1, K4), KEEL_ENOMEM);
	expect_map(VA + 8 * G1, 0, 3, RW);
	assert_int_equal(pt_protect(&pt, VA + 8 * G1, K4, PT_R), KEEL_ENOMEM);
	expect_map(VA + 8 * G1, 0, 3, RW);

	/* With one page a split to 2 MiB works, a second one to 4 KiB not:
	 * the 2 MiB split stays, which maps the same thing. */
	unhog(hog, 1);
	assert_int_equal(pt_map(&pt, VA + 8 * G1 + M2, 0x3000, K4, PT_R),
			 KEEL_ENOMEM);
	expect_map(VA + 8 * G1 + M2, M2, 2, RW);
	expect_map(VA + 8 * G1 + G1 - 1, G1 - 1, 2, RW);
	assert_int_equal(free_pages(), 0);

	unhog(hog + 1, n - 1);
	assert_int_equal(pt_map(&pt, va, 0x200000, 8 * K4, RW), 0);
	expect_map(va + 7 * K4, 0x200000 + 7 * K4, 1, RW);
	/* teardown checks that pt_destroy gives every table back */
}

/* A freshly created table that got nothing is given back on failure. */
static void test_enomem_frees_empty_new_table(void **state)
{
	static uint64_t hog[1024];
	unsigned n = hog_pages(hog, 1);

	/* needs PDPT + PD + PT: gets the PDPT, fails on the PD */
	assert_int_equal(pt_map(&pt, VA, 0x1000, K4, RW), KEEL_ENOMEM);
	assert_int_equal(pt.table_pages, 1);
	assert_int_equal(free_pages(), 1);
	expect_unmapped(VA);
	unhog(hog, n);
}

static void test_destroy_returns_everything(void **state)
{
	struct pgtable p2;
	uint64_t start = free_pages();

	assert_int_equal(pt_init(&p2, &pt_format_x86), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(pt_map(&p2, VA + i * 3 * M2 + i * K4, i * M2,
					M2 + 5 * K4, RW),
				 0);
	assert_int_equal(pt_map(&p2, 0, 0, 3 * G1, RW | PT_X), 0);
	assert_int_equal(pt_map(&p2, 7 * M2, 0x1000, K4, PT_R), 0); /* split */
	assert_true(p2.table_pages > 40);
	assert_int_equal(free_pages(), start - p2.table_pages);
	pt_destroy(&p2);
	assert_int_equal(p2.table_pages, 0);
	assert_int_equal(p2.root, 0);
	assert_int_equal(free_pages(), start);
	pt_destroy(&p2); /* twice is harmless */
	assert_int_equal(free_pages(), start);
}

/* ---- the x86 entry format, bit by bit (SDM vol. 3, tables 4-15..4-20) ---- */

#define P (1ULL << 0)
#define RWB (1ULL << 1)
#define US (1ULL << 2)
#define PWT (1ULL << 3)
#define PCD (1ULL << 4)
#define PS (1ULL << 7)
#define G (1ULL << 8)
#define NX (1ULL << 63)

static void test_x86_encode_bits(void **state)
{
	const struct pt_format *f = &pt_format_x86;

	assert_int_equal(f->encode(0x5000, PT_R, 1, true), 0x5000 | P | NX);
	assert_int_equal(f->encode(0x5000, PT_R | PT_W | PT_X, 1, true),
			 0x5000 | P | RWB);
	assert_int_equal(f->encode(0x5000, PT_R | PT_USER | PT_GLOBAL, 1, true),
			 0x5000 | P | US | G | NX);
	assert_int_equal(f->encode(M2, PT_R | PT_W, 2, true),
			 M2 | P | RWB | PS | NX);
	assert_int_equal(f->encode(G1, PT_R | PT_X, 3, true), G1 | P | PS);
	assert_int_equal(f->encode(0x5000, PT_R | PT_UC, 1, true),
			 0x5000 | P | PCD | PWT | NX);
	assert_int_equal(f->encode(0x5000, PT_R | PT_WC, 1, true),
			 0x5000 | P | PWT | NX);
	assert_int_equal(f->encode(0x5000, PT_R | PT_WC | PT_UC, 1, true),
			 0x5000 | P | PCD | PWT | NX); /* UC wins */
	/* interior: permissive, never NX or PS */
	assert_int_equal(f->encode(0x7000, PT_R, 4, false), 0x7000 | P | RWB);
	assert_int_equal(f->encode(0x7000, PT_R, 2, false), 0x7000 | P | RWB);
	assert_int_equal(f->encode(0x7000, PT_USER, 3, false),
			 0x7000 | P | RWB | US);
	/* addresses up to bit 51 */
	assert_int_equal(f->encode(0x000FFFFFFFFFF000ULL, PT_R | PT_X, 1, true),
			 0x000FFFFFFFFFF000ULL | P);
}

static void test_x86_round_trip(void **state)
{
	const struct pt_format *f = &pt_format_x86;
	static const unsigned caches[] = { 0, PT_UC, PT_WC };

	for (unsigned level = 1; level <= 3; level++) {
		uint64_t pa = 3ULL << (12 + 9 * (level - 1));

		for (unsigned bits = 0; bits < 16; bits++) {
			for (unsigned c = 0; c < 3; c++) {
				unsigned prot = PT_R | caches[c] |
						((bits & 1) ? PT_W : 0) |
						((bits & 2) ? PT_X : 0) |
						((bits & 4) ? PT_USER : 0) |
						((bits & 8) ? PT_GLOBAL : 0);
				uint64_t e = f->encode(pa, prot, level, true);
				uint64_t dpa = 0;
				unsigned dprot = 0;
				bool leaf = false;

				assert_true(f->decode(e, level, &dpa, &dprot, &leaf));
				assert_true(leaf);
				assert_int_equal(dpa, pa);
				assert_int_equal(dprot, prot);
				assert_int_equal(!!(e & NX), !(prot & PT_X));
				assert_int_equal(!!(e & PS), level > 1);
			}
		}
	}
}

static void test_x86_decode_edges(void **state)
{
	const struct pt_format *f = &pt_format_x86;
	uint64_t pa = 0;
	unsigned prot = 0;
	bool leaf = true;

	/* not present, whatever else is set */
	assert_false(f->decode(0, 1, &pa, &prot, &leaf));
	assert_false(f->decode(0x5000 | RWB | PS, 2, &pa, &prot, &leaf));
	/* a table pointer */
	assert_true(f->decode(0x7000 | P | RWB, 2, &pa, &prot, &leaf));
	assert_false(leaf);
	assert_int_equal(pa, 0x7000);
	/* PS in a PML4E is reserved: still a table */
	assert_true(f->decode(0x7000 | P | RWB | PS, 4, &pa, &prot, &leaf));
	assert_false(leaf);
	/* bit 12 of a large leaf is the PAT bit, not address */
	assert_true(f->decode(M2 | (1ULL << 12) | P | PS, 2, &pa, &prot, &leaf));
	assert_true(leaf);
	assert_int_equal(pa, M2);
	/* bit 7 of a 4 KiB leaf is the PAT bit, not PS: still a leaf at 0x5000 */
	assert_true(f->decode(0x5000 | P | PS, 1, &pa, &prot, &leaf));
	assert_true(leaf);
	assert_int_equal(pa, 0x5000);
	/* PCD alone (UC-) is uncached too */
	assert_true(f->decode(0x5000 | P | PCD, 1, &pa, &prot, &leaf));
	assert_int_equal(prot, PT_R | PT_X | PT_UC);
}

/* ---- the nested formats: NPT (APM vol. 2, 15.25.5) and EPT (SDM 29.3.2) ---- */

#define EPT_RB (1ULL << 0)
#define EPT_WB (1ULL << 1)
#define EPT_XB (1ULL << 2)
#define EPT_MT(t) ((uint64_t)(t) << 3)
#define EPT_IPAT (1ULL << 6)
#define EPT_PS (1ULL << 7)

/* Every prot a caller can ask for: R plus any of W, X, USER, GLOBAL, and
 * one of the three caching modes. */
static unsigned prot_case(unsigned i)
{
	static const unsigned caches[] = { 0, PT_UC, PT_WC };

	return PT_R | caches[(i >> 4) % 3] | ((i & 1) ? PT_W : 0) |
	       ((i & 2) ? PT_X : 0) | ((i & 4) ? PT_USER : 0) |
	       ((i & 8) ? PT_GLOBAL : 0);
}
#define PROT_CASES 48

static void test_npt_encode_bits(void **state)
{
	const struct pt_format *f = &pt_format_npt;

	/* U/S on every entry, G never, the rest as x86 */
	assert_int_equal(f->encode(0x5000, PT_R, 1, true), 0x5000 | P | US | NX);
	assert_int_equal(f->encode(0x5000, PT_R | PT_W | PT_X | PT_GLOBAL, 1, true),
			 0x5000 | P | RWB | US);
	assert_int_equal(f->encode(M2, PT_R | PT_W | PT_X | PT_USER, 2, true),
			 M2 | P | RWB | US | PS);
	assert_int_equal(f->encode(G1, PT_R | PT_X, 3, true), G1 | P | US | PS);
	assert_int_equal(f->encode(0x5000, PT_R | PT_UC, 1, true),
			 0x5000 | P | US | PCD | PWT | NX);
	assert_int_equal(f->encode(0x5000, PT_R | PT_WC, 1, true),
			 0x5000 | P | US | PWT | NX);
	for (unsigned level = 2; level <= 4; level++)
		assert_int_equal(f->encode(0x7000, 0, level, false),
				 0x7000 | P | RWB | US);
	assert_int_equal(f->encode(0x000FFFFFFFFFF000ULL, PT_R | PT_X, 1, true),
			 0x000FFFFFFFFFF000ULL | P | US);
}

static void test_npt_round_trip(void **state)
{
	const struct pt_format *f = &pt_format_npt;

	for (unsigned level = 1; level <= 3; level++) {
		uint64_t pa = 5ULL << (12 + 9 * (level - 1));

		for (unsigned i = 0; i < PROT_CASES; i++) {
			unsigned prot = prot_case(i), dprot = 0;
			uint64_t e = f->encode(pa, prot, level, true), dpa = 0;
			bool leaf = false;

			assert_true(f->decode(e, level, &dpa, &dprot, &leaf));
			assert_true(leaf);
			assert_int_equal(dpa, pa);
			assert_int_equal(dprot, (prot | PT_USER) & ~PT_GLOBAL);
			assert_true(e & US);
			assert_false(e & G);
			assert_int_equal(!!(e & PS), level > 1);
		}
	}
}

static void test_ept_encode_bits(void **state)
{
	const struct pt_format *f = &pt_format_ept;
	const uint64_t wb = EPT_MT(6) | EPT_IPAT;

	assert_int_equal(f->encode(0x5000, PT_R, 1, true), 0x5000 | EPT_RB | wb);
	assert_int_equal(f->encode(0x5000, PT_R | PT_W, 1, true),
			 0x5000 | EPT_RB | EPT_WB | wb);
	assert_int_equal(f->encode(0x5000, PT_R | PT_X, 1, true),
			 0x5000 | EPT_RB | EPT_XB | wb);
	/* U/S and G have no EPT bit */
	assert_int_equal(f->encode(0x5000, PT_R | PT_W | PT_X | PT_USER | PT_GLOBAL,
				   1, true),
			 0x5000 | EPT_RB | EPT_WB | EPT_XB | wb);
	/* no R asked: still readable (W-only is a misconfiguration) */
	assert_int_equal(f->encode(0x5000, PT_W, 1, true),
			 0x5000 | EPT_RB | EPT_WB | wb);
	/* large leaves: bit 7 */
	assert_int_equal(f->encode(M2, PT_R | PT_W | PT_X, 2, true),
			 M2 | EPT_RB | EPT_WB | EPT_XB | EPT_PS | wb);
	assert_int_equal(f->encode(G1, PT_R, 3, true), G1 | EPT_RB | EPT_PS | wb);
	/* memory types: UC = 0 and WC = 1, guest PAT not ignored */
	assert_int_equal(f->encode(0x5000, PT_R | PT_W | PT_UC, 1, true),
			 0x5000 | EPT_RB | EPT_WB);
	assert_int_equal(f->encode(0x5000, PT_R | PT_WC, 1, true),
			 0x5000 | EPT_RB | EPT_MT(1));
	assert_int_equal(f->encode(0x5000, PT_R | PT_WC | PT_UC, 1, true),
			 0x5000 | EPT_RB); /* UC wins */
	/* interior: R|W|X, nothing else */
	for (unsigned level = 2; level <= 4; level++)
		assert_int_equal(f->encode(0x7000, PT_R, level, false),
				 0x7000 | EPT_RB | EPT_WB | EPT_XB);
	assert_int_equal(f->encode(0x000FFFFFFFFFF000ULL, PT_R, 1, true),
			 0x000FFFFFFFFFF000ULL | EPT_RB | wb);
}

static void test_ept_round_trip(void **state)
{
	const struct pt_format *f = &pt_format_ept;

	for (unsigned level = 1; level <= 3; level++) {
		uint64_t pa = 7ULL << (12 + 9 * (level - 1));

		for (unsigned i = 0; i < PROT_CASES; i++) {
			unsigned prot = prot_case(i), dprot = 0;
			unsigned want = (prot | PT_USER) & ~PT_GLOBAL;
			uint64_t e = f->encode(pa, prot, level, true), dpa = 0;
			bool leaf = false;

			if ((want & PT_UC) && (want & PT_WC))
				want &= ~PT_WC;
			assert_true(f->decode(e, level, &dpa, &dprot, &leaf));
			assert_true(leaf);
			assert_int_equal(dpa, pa);
			assert_int_equal(dprot, want);
			assert_int_equal(!!(e & EPT_PS), level > 1);
			assert_int_equal(!!(e & EPT_IPAT),
					 !(prot & (PT_UC | PT_WC)));
		}
	}
}

static void test_ept_decode_edges(void **state)
{
	const struct pt_format *f = &pt_format_ept;
	uint64_t pa = 0;
	unsigned prot = 0;
	bool leaf = true;

	/* none of R/W/X: not present, whatever else is set */
	assert_false(f->decode(0, 1, &pa, &prot, &leaf));
	assert_false(f->decode(0x5000 | EPT_MT(6) | EPT_IPAT | EPT_PS, 2, &pa,
			       &prot, &leaf));
	/* execute-only is present (a CPU with the capability makes it) */
	assert_true(f->decode(0x5000 | EPT_XB | EPT_MT(6), 1, &pa, &prot, &leaf));
	assert_true(leaf);
	assert_int_equal(prot, PT_X | PT_USER);
	/* a table pointer; bit 7 of a PML4E is reserved: still a table */
	assert_true(f->decode(0x7000 | EPT_RB | EPT_WB | EPT_XB, 3, &pa, &prot,
			      &leaf));
	assert_false(leaf);
	assert_int_equal(pa, 0x7000);
	assert_true(f->decode(0x7000 | 7 | EPT_PS, 4, &pa, &prot, &leaf));
	assert_false(leaf);
	assert_int_equal(prot, PT_R | PT_W | PT_X | PT_USER);
	/* bit 7 of a PTE is ignored: a 4 KiB leaf */
	assert_true(f->decode(0x5000 | EPT_RB | EPT_PS, 1, &pa, &prot, &leaf));
	assert_true(leaf);
	assert_int_equal(pa, 0x5000);
	/* a 2 MiB leaf: bits 20:12 are not address */
	assert_true(f->decode(M2 | 0x1F000 | EPT_RB | EPT_PS | EPT_MT(6), 2, &pa,
			      &prot, &leaf));
	assert_true(leaf);
	assert_int_equal(pa, M2);
	/* other memory types (WT = 4, WP = 5) read back as neither UC nor WC */
	assert_true(f->decode(0x5000 | EPT_RB | EPT_MT(4), 1, &pa, &prot, &leaf));
	assert_int_equal(prot, PT_R | PT_USER);
	/* accessed/dirty bits are not address or rights */
	assert_true(f->decode(0x5000 | EPT_RB | (3ULL << 8), 1, &pa, &prot,
			      &leaf));
	assert_int_equal(pa, 0x5000);
	assert_int_equal(prot, PT_R | PT_USER | PT_UC);
}

static void expect_map_in(const struct pgtable *p, uint64_t va, uint64_t pa,
			  unsigned level, unsigned prot)
{
	uint64_t got_pa = 0;
	unsigned got_prot = 0, got_level = 0;

	assert_int_equal(pt_translate(p, va, &got_pa, &got_prot, &got_level), 0);
	assert_int_equal(got_pa, pa);
	assert_int_equal(got_level, level);
	assert_int_equal(got_prot, prot);
}

/*
 * A guest-physical layout through a nested format: RAM in 1 GiB, 2 MiB and
 * 4 KiB leaves, a split, a protection change, unmaps, and every table given
 * back. 'u' is what decode adds to every leaf (PT_USER for both formats).
 */
static void nested_run(const struct pt_format *f, uint64_t interior_bits)
{
	const unsigned rwx = PT_R | PT_W | PT_X | PT_USER;
	uint64_t start = free_pages(), pa;
	const uint64_t *root;
	struct pgtable p2;
	unsigned prot, level;

	assert_int_equal(pt_init(&p2, f), 0);
	root = phys_to_virt(p2.root);
	/* 0..1 GiB: 2 MiB leaves (pa 2 MiB aligned only) */
	assert_int_equal(pt_map(&p2, 0, 3 * M2, G1, rwx), 0);
	/* 4 GiB..5 GiB: one 1 GiB leaf */
	assert_int_equal(pt_map(&p2, 4 * G1, 2 * G1, G1, rwx), 0);
	/* a ROM page below 4 GiB and one 4 KiB page off a 2 MiB boundary */
	assert_int_equal(pt_map(&p2, 4 * G1 - K4, 0x9000, K4, PT_R | PT_X | PT_USER), 0);
	assert_int_equal((root[0] & interior_bits), interior_bits);

	expect_map_in(&p2, 0, 3 * M2, 2, rwx);
	expect_map_in(&p2, G1 - 1, 3 * M2 + G1 - 1, 2, rwx);
	expect_map_in(&p2, 4 * G1 + 0x123456, 2 * G1 + 0x123456, 3, rwx);
	expect_map_in(&p2, 4 * G1 - 1, 0x9FFF, 1, PT_R | PT_X | PT_USER);
	assert_int_equal(pt_translate(&p2, G1, &pa, &prot, &level), KEEL_ENOENT);
	assert_int_equal(pt_translate(&p2, 4 * G1 - 2 * K4, &pa, &prot, &level),
			 KEEL_ENOENT);
	assert_int_equal(pt_translate(&p2, 5 * G1, &pa, &prot, &level), KEEL_ENOENT);

	/* one page over the 1 GiB leaf: split to 2 MiB, then to 4 KiB */
	assert_int_equal(pt_map(&p2, 4 * G1 + M2 + K4, 0xA000, K4, PT_R | PT_USER), 0);
	expect_map_in(&p2, 4 * G1 + M2 + K4, 0xA000, 1, PT_R | PT_USER);
	expect_map_in(&p2, 4 * G1 + M2, 2 * G1 + M2, 1, rwx);
	expect_map_in(&p2, 4 * G1 + 2 * M2, 2 * G1 + 2 * M2, 2, rwx);

	/* protect part of a 2 MiB leaf; the rest keeps its rights */
	assert_int_equal(pt_protect(&p2, 5 * M2, 2 * K4, PT_R | PT_USER | PT_UC), 0);
	expect_map_in(&p2, 5 * M2 + K4, 3 * M2 + 5 * M2 + K4, 1,
		      PT_R | PT_USER | PT_UC);
	expect_map_in(&p2, 5 * M2 + 2 * K4, 3 * M2 + 5 * M2 + 2 * K4, 1, rwx);

	/* unmap a hole and whole ranges */
	assert_int_equal(pt_unmap(&p2, 7 * M2, M2), 0);
	assert_int_equal(pt_translate(&p2, 7 * M2 + K4, &pa, &prot, &level),
			 KEEL_ENOENT);
	expect_map_in(&p2, 8 * M2, 3 * M2 + 8 * M2, 2, rwx);
	assert_int_equal(pt_unmap(&p2, 0, G1), 0);
	assert_int_equal(pt_unmap(&p2, 4 * G1 - K4, G1 + K4), 0);
	assert_int_equal(pt_translate(&p2, 4 * G1 + M2 + K4, &pa, &prot, &level),
			 KEEL_ENOENT);
	assert_int_equal(p2.table_pages, 1); /* only the root is left */

	assert_int_equal(pt_map(&p2, 2 * M2, 0x1000, 3 * K4, rwx), 0);
	pt_destroy(&p2);
	assert_int_equal(free_pages(), start);
}

static void test_npt_map_run(void **state)
{
	nested_run(&pt_format_npt, P | RWB | US);
}

static void test_ept_map_run(void **state)
{
	nested_run(&pt_format_ept, EPT_RB | EPT_WB | EPT_XB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_leaf_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_without_1g, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unaligned_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_over_1g_splits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_hole_in_2m, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_frees_empty_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_over_small_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_interior, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem_midway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem_frees_empty_new_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_returns_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_x86_encode_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_x86_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_x86_decode_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_npt_encode_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_npt_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_encode_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_decode_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_npt_map_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_map_run, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
