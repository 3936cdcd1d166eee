/*
 * test_boot_paging.c - unit tests of boot/paging.c: the tables are built in
 * host memory and walked in software like the MMU would (AMD APM vol. 2
 * 5.3): identity, direct map and kernel translations, their ends, large
 * leaves, 5-level wrapping, the exact table count, and bad layouts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot_info.h"
#include "boot/paging.h"
#include "kernel/err.h"

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)

static struct paging_pool pool;

static void pool_make(unsigned count)
{
	pool.pages = count ? aligned_alloc(4096, (size_t)count * 4096) : NULL;
	if (count)
		memset(pool.pages, 0xCC, (size_t)count * 4096); /* dirty */
	pool.count = count;
	pool.used = 0;
}

static void pool_free(void)
{
	free(pool.pages);
	pool.pages = NULL;
}

static bool in_pool(uint64_t table)
{
	uint64_t lo = (uint64_t)(uintptr_t)pool.pages;

	return table >= lo && table < lo + (uint64_t)pool.used * 4096 &&
	       table % 4096 == 0;
}

/* Translate va; 0 when not mapped. *leaf = size of the leaf page. */
static bool walk(uint64_t cr3, bool la57, uint64_t va, uint64_t *pa,
		 uint64_t *leaf)
{
	uint64_t table = cr3;

	for (int level = la57 ? 5 : 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t e;

		assert_true(in_pool(table));
		e = ((uint64_t *)(uintptr_t)table)[(va >> shift) & 511];
		if (!(e & PTE_P))
			return false;
		assert_true(e & PTE_RW);
		assert_false(e & (1ULL << 63)); /* executable (no NX) */
		if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
			uint64_t size = 1ULL << shift;

			*pa = (e & PTE_ADDR_MASK & ~(size - 1)) + (va & (size - 1));
			*leaf = size;
			return true;
		}
		assert_false(e & PTE_PS); /* no PS above the PDPT */
		table = e & PTE_ADDR_MASK;
	}
	return false;
}

static void expect_map(uint64_t cr3, bool la57, uint64_t va, uint64_t pa,
		       uint64_t leaf)
{
	uint64_t got, got_leaf;

	assert_true(walk(cr3, la57, va, &got, &got_leaf));
	assert_int_equal(got, pa);
	assert_int_equal(got_leaf, leaf);
}

static void expect_unmapped(uint64_t cr3, bool la57, uint64_t va)
{
	uint64_t got, leaf;

	assert_false(walk(cr3, la57, va, &got, &leaf));
}

static struct paging_layout layout(uint64_t top, bool gib)
{
	struct paging_layout l = {
		.map_top = top,
		.gib_pages = gib,
		.kernel_virt = KERNEL_LINK_BASE,
		.kernel_phys = 0x3DA00000,
		.kernel_size = 5 * MIB + 4096, /* mapped as 6 MiB */
	};
	return l;
}

static uint64_t build(const struct paging_layout *l)
{
	unsigned n = paging_tables_needed(l);
	uint64_t cr3 = 0;

	assert_true(n > 0);
	pool_make(n);
	assert_int_equal(paging_build(l, &pool, &cr3), 0);
	assert_int_equal(pool.used, n); /* the count is exact */
	return cr3;
}

static void check_common(const struct paging_layout *l, uint64_t cr3)
{
	uint64_t leaf = l->gib_pages ? GIB : 2 * MIB;
	uint64_t top = (l->map_top + GIB - 1) & ~(GIB - 1);
	bool v = l->la57;

	expect_map(cr3, v, 0, 0, leaf);
	expect_map(cr3, v, 0x12345678, 0x12345678, leaf);
	expect_map(cr3, v, top - 1, top - 1, leaf);
	expect_unmapped(cr3, v, top);
	expect_map(cr3, v, DIRECT_MAP_BASE, 0, leaf);
	expect_map(cr3, v, DIRECT_MAP_BASE + 0xFEE00010, 0xFEE00010, leaf);
	expect_map(cr3, v, DIRECT_MAP_BASE + top - 8, top - 8, leaf);
	expect_unmapped(cr3, v, DIRECT_MAP_BASE + top);
	expect_unmapped(cr3, v, DIRECT_MAP_BASE - 4096);

	expect_map(cr3, v, l->kernel_virt, l->kernel_phys, 2 * MIB);
	expect_map(cr3, v, l->kernel_virt + 0x123456,
		   l->kernel_phys + 0x123456, 2 * MIB);
	expect_map(cr3, v, l->kernel_virt + 6 * MIB - 1,
		   l->kernel_phys + 6 * MIB - 1, 2 * MIB);
	expect_unmapped(cr3, v, l->kernel_virt + 6 * MIB);
	expect_unmapped(cr3, v, l->kernel_virt - 1);
}

static void test_4g_2m_pages(void **state)
{
	struct paging_layout l = layout(4 * GIB, false);
	uint64_t cr3;

	(void)state;
	/* PML4, one PDPT for the low maps, 4 PDs, kernel PDPT and PD. */
	assert_int_equal(paging_tables_needed(&l), 8);
	cr3 = build(&l);
	check_common(&l, cr3);
	pool_free();
}

static void test_1g_pages_above_512g(void **state)
{
	struct paging_layout l = layout(600 * GIB + 5, true);
	uint64_t cr3;

	(void)state;
	/* PML4, two PDPTs (601 GiB), kernel PDPT and PD. */
	assert_int_equal(paging_tables_needed(&l), 5);
	cr3 = build(&l);
	check_common(&l, cr3);
	expect_map(cr3, false, 513 * GIB + 77, 513 * GIB + 77, GIB);
	expect_map(cr3, false, DIRECT_MAP_BASE + 600 * GIB, 600 * GIB, GIB);
	pool_free();
}

static void test_2m_pages_odd_top(void **state)
{
	struct paging_layout l = layout(5 * GIB + 2 * MIB, false);
	uint64_t cr3;

	(void)state;
	assert_int_equal(paging_tables_needed(&l), 1 + 1 + 6 + 2);
	cr3 = build(&l);
	check_common(&l, cr3); /* mapped up to 6 GiB */
	pool_free();
}

/* A kernel range that crosses a 1 GiB and a 512 GiB boundary needs a PD
 * (and a PDPT) for each side. */
static void test_kernel_crossing_boundaries(void **state)
{
	struct paging_layout l = layout(4 * GIB, true);
	uint64_t cr3;

	(void)state;
	l.kernel_virt = 0xFFFFFFFF80000000ULL + GIB - 2 * MIB;
	l.kernel_size = 4 * MIB;
	assert_int_equal(paging_tables_needed(&l), 1 + 1 + 1 + 2);
	cr3 = build(&l);
	expect_map(cr3, false, l.kernel_virt, l.kernel_phys, 2 * MIB);
	expect_map(cr3, false, l.kernel_virt + 2 * MIB, l.kernel_phys + 2 * MIB,
		   2 * MIB);
	expect_unmapped(cr3, false, l.kernel_virt + 4 * MIB);
	pool_free();

	l.kernel_virt = 0xFFFFFF8000000000ULL - 2 * MIB; /* PML4 510 -> 511 */
	assert_int_equal(paging_tables_needed(&l), 1 + 1 + 2 + 2);
	cr3 = build(&l);
	expect_map(cr3, false, l.kernel_virt + 2 * MIB + 5,
		   l.kernel_phys + 2 * MIB + 5, 2 * MIB);
	expect_map(cr3, false, l.kernel_virt, l.kernel_phys, 2 * MIB);
	pool_free();
}

static void test_la57(void **state)
{
	struct paging_layout l = layout(4 * GIB, false);
	uint64_t cr3;

	(void)state;
	l.la57 = true;
	assert_int_equal(paging_tables_needed(&l), 9);
	cr3 = build(&l);
	check_common(&l, cr3);
	/* Under 5-level paging the upper half's bits 56:48 are all ones. */
	expect_map(cr3, true, 0xFFFFFFFF80200000ULL, l.kernel_phys, 2 * MIB);
	pool_free();
}

/* Every pool one page too small fails cleanly, never writes past it. */
static void test_pool_too_small(void **state)
{
	struct paging_layout l = layout(4 * GIB, false);
	unsigned n = paging_tables_needed(&l);

	(void)state;
	for (unsigned c = 0; c < n; c++) {
		uint64_t cr3 = 0;

		pool_make(c);
		assert_int_equal(paging_build(&l, &pool, &cr3), KEEL_ENOMEM);
		assert_true(pool.used <= c);
		pool_free();
	}
}

static void test_bad_layouts(void **state)
{
	struct paging_layout l;
	uint64_t cr3;

	(void)state;
	pool_make(16);
#define BAD(stmt)                                                     \
	do {                                                          \
		l = layout(4 * GIB, false);                           \
		stmt;                                                 \
		assert_int_equal(paging_tables_needed(&l), 0);        \
		assert_int_equal(paging_build(&l, &pool, &cr3),       \
				 KEEL_ERANGE);                        \
	} while (0)
	BAD(l.kernel_virt += 4096);
	BAD(l.kernel_phys += 4096);
	BAD(l.kernel_size = 0);
	BAD(l.kernel_size = UINT64_MAX);
	BAD(l.map_top = 0);
	BAD(l.map_top = UINT64_MAX);
	BAD(l.map_top = 128ULL << 40);	 /* 256 PDPTs: into the upper half */
	BAD(l.kernel_virt = 0x200000);	 /* lower half */
	BAD(l.kernel_virt = DIRECT_MAP_BASE); /* on the direct map */
	BAD(l.kernel_virt = 0xFFFFFFFFFFE00000ULL; l.kernel_size = 4 * MIB);
	/* The direct map may grow up to the kernel's PML4 entry, not onto it. */
	BAD(l.map_top = 255ULL * 512 * GIB + 1);
#undef BAD
	l = layout(255ULL * 512 * GIB, true);
	assert_int_equal(paging_tables_needed(&l), 1 + 255 + 2);
	pool_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4g_2m_pages),
		cmocka_unit_test(test_1g_pages_above_512g),
		cmocka_unit_test(test_2m_pages_odd_top),
		cmocka_unit_test(test_kernel_crossing_boundaries),
		cmocka_unit_test(test_la57),
		cmocka_unit_test(test_pool_too_small),
		cmocka_unit_test(test_bad_layouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
