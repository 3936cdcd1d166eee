/*
 * test_pmm.c - the buddy allocator (mm/pmm.c) over a malloc'd arena that poses
 * as physical memory at a fake base: exhaustion, holes, fragmentation and
 * merging, statistics, every kind of bad free, the guest reserve, zeroing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/log.h"
#include "mm/mm.h"
#include "tests/unit/shim/host_shim.h"

#define FAKE_BASE (1ULL << 30) /* the arena is "physical" [1 GiB, +8 MiB) */
#define ARENA_BYTES (8ULL << 20)
#define ARENA_PAGES (ARENA_BYTES / PAGE_SIZE)
#define MAX_PHYS (FAKE_BASE + ARENA_BYTES)

static uint8_t *arena;
static uint8_t *meta;

static int setup(void **state)
{
	arena = aligned_alloc(PAGE_SIZE, ARENA_BYTES);
	meta = calloc(1, pmm_metadata_bytes(MAX_PHYS));
	assert_non_null(arena);
	assert_non_null(meta);
	memset(arena, 0x5A, ARENA_BYTES);
	mm_direct_offset = (uint64_t)(uintptr_t)arena - FAKE_BASE;
	pmm_init(MAX_PHYS, meta);
	test_log_reset();
	return 0;
}

static int teardown(void **state)
{
	free(arena);
	free(meta);
	return 0;
}

/* The invariants every state must satisfy. */
static void check_stats(void)
{
	struct pmm_stats st;
	uint64_t sum = 0;

	pmm_get_stats(&st);
	for (unsigned o = 0; o <= PMM_MAX_ORDER; o++)
		sum += st.free_blocks[o] << o;
	assert_int_equal(sum, st.free_pages);
	assert_true(st.free_pages <= st.managed_pages);
}

static uint64_t free_pages(void)
{
	struct pmm_stats st;

	pmm_get_stats(&st);
	return st.free_pages;
}

static unsigned page_index(uint64_t pa)
{
	assert_true(pa >= FAKE_BASE && pa < MAX_PHYS);
	return (unsigned)((pa - FAKE_BASE) / PAGE_SIZE);
}

static void test_metadata_size(void **state)
{
	assert_int_equal(pmm_metadata_bytes(0), 0);
	assert_int_equal(pmm_metadata_bytes(PAGE_SIZE - 1), 0);
	assert_int_equal(pmm_metadata_bytes(1ULL << 30), 262144);
}

/* Three ranges with holes, one with unaligned edges: every page in them is
 * handed out exactly once, none outside them. */
static void test_exhaustion_with_holes(void **state)
{
	static uint8_t seen[ARENA_PAGES];
	struct pmm_stats st, st0;
	uint64_t pa, n = 0, expect;
	uint64_t *got = calloc(ARENA_PAGES, sizeof(*got));

	/* [4K, 1M - 2K): rounds inward to [4K, 1M - 4K): 254 pages */
	pmm_add_range(FAKE_BASE + 0x1000, 0x100000 - 0x800 - 0x1000);
	/* [2M + 1, 6M): rounds to [2M + 4K, 6M): 1023 pages */
	pmm_add_range(FAKE_BASE + 0x200001, 0x400000 - 1);
	/* [6M + 12K, 8M): 509 pages */
	pmm_add_range(FAKE_BASE + 0x603000, 0x200000 - 0x3000);
	expect = 254 + 1023 + 509;
	check_stats();
	pmm_get_stats(&st0);
	assert_int_equal(st0.managed_pages, expect);
	assert_int_equal(st0.free_pages, expect);

	memset(seen, 0, sizeof(seen));
	while ((pa = pmm_alloc_page(0)) != 0) {
		unsigned i = page_index(pa);
		uint64_t off = pa - FAKE_BASE;

		assert_int_equal(pa % PAGE_SIZE, 0);
		assert_int_equal(seen[i], 0);
		seen[i] = 1;
		assert_true((off >= 0x1000 && off < 0xFF000) ||
			    (off >= 0x201000 && off < 0x600000) ||
			    (off >= 0x603000 && off < 0x800000));
		got[n++] = pa;
	}
	assert_int_equal(n, expect);
	pmm_get_stats(&st);
	assert_int_equal(st.free_pages, 0);
	assert_int_equal(st.failed_allocs, 1);
	check_stats();

	/* Everything back: the same canonical blocks as after the adds. */
	for (uint64_t i = 0; i < n; i++)
		pmm_free_page(got[(i * 7919) % n]); /* 7919 prime, n not a multiple */
	pmm_get_stats(&st);
	assert_int_equal(st.free_pages, expect);
	assert_memory_equal(st.free_blocks, st0.free_blocks,
			    sizeof(st.free_blocks));
	assert_int_equal(pmm_bad_frees(), 0);
	assert_int_equal(test_log_count[LOG_ERROR], 0);
	free(got);
}

static void test_fragmentation_and_merge(void **state)
{
	uint64_t pages[512], big;
	struct pmm_stats st;

	/* one naturally aligned 2 MiB block (order 9) */
	pmm_add_range(FAKE_BASE + 0x200000, 0x200000);
	pmm_get_stats(&st);
	assert_int_equal(st.free_blocks[9], 1);
	for (int i = 0; i < 512; i++) {
		pages[i] = pmm_alloc_page(0);
		assert_int_not_equal(pages[i], 0);
	}
	assert_int_equal(pmm_alloc_page(0), 0);

	for (int i = 0; i < 512; i += 2)
		pmm_free_page(pages[i]);
	pmm_get_stats(&st);
	assert_int_equal(st.free_pages, 256);
	check_stats();
	/* 256 free pages, no two of them buddies: nothing bigger than a page */
	for (unsigned o = 1; o <= 9; o++)
		assert_int_equal(pmm_alloc(o, 0), 0);
	assert_int_equal(st.free_blocks[0], 256);

	/* freeing the odd pages merges everything back to one block */
	for (int i = 1; i < 512; i += 2)
		pmm_free_page(pages[i]);
	pmm_get_stats(&st);
	assert_int_equal(st.free_blocks[9], 1);
	assert_int_equal(st.free_blocks[0], 0);
	check_stats();
	big = pmm_alloc(9, 0);
	assert_int_equal(big, FAKE_BASE + 0x200000);
	assert_int_equal(pmm_alloc_page(0), 0);
	pmm_free(big, 9);
	assert_int_equal(free_pages(), 512);
}

/* Adjacent ranges added separately merge into larger blocks. */
static void test_add_range_merges(void **state)
{
	struct pmm_stats st;

	pmm_add_range(FAKE_BASE + 0x200000, 0x100000);
	pmm_add_range(FAKE_BASE + 0x300000, 0x100000);
	pmm_get_stats(&st);
	assert_int_equal(st.free_blocks[9], 1);
	assert_int_equal(st.free_blocks[8], 0);
	assert_int_equal(pmm_alloc(9, 0), FAKE_BASE + 0x200000);
}

static void test_overlapping_add_is_refused(void **state)
{
	struct pmm_stats st;

	pmm_add_range(FAKE_BASE + 0x100000, 0x100000);
	test_log_reset();
	pmm_add_range(FAKE_BASE + 0x180000, 0x100000); /* half overlaps */
	pmm_get_stats(&st);
	assert_int_equal(st.managed_pages, 256 + 128);
	assert_int_equal(test_log_count[LOG_ERROR], 1);
	assert_non_null(strstr(test_log_last, "overlaps"));
	check_stats();
}

static void test_double_free(void **state)
{
	uint64_t pa, before;

	pmm_add_range(FAKE_BASE, ARENA_BYTES);
	pa = pmm_alloc_page(0);
	assert_int_not_equal(pa, 0);
	pmm_free_page(pa);
	before = free_pages();
	test_log_reset();

	pmm_free_page(pa);
	assert_int_equal(pmm_bad_frees(), 1);
	assert_int_equal(free_pages(), before);
	assert_int_equal(test_log_count[LOG_ERROR], 1);
	assert_non_null(strstr(test_log_last, "double free"));
	check_stats();

	/* Still a working allocator afterwards. */
	assert_int_equal(pmm_alloc_page(0), pa);
}

/* A page that merged into a bigger free block is not double-freed as a
 * "head" any more, but still detected. */
static void test_double_free_after_merge(void **state)
{
	uint64_t a, b;

	pmm_add_range(FAKE_BASE + 0x200000, 0x2000); /* two buddies */
	a = pmm_alloc_page(0);
	b = pmm_alloc_page(0);
	pmm_free_page(a);
	pmm_free_page(b);
	assert_int_equal(free_pages(), 2);
	test_log_reset();
	pmm_free_page(a > b ? a : b); /* now a tail of the order-1 block */
	assert_int_equal(pmm_bad_frees(), 1);
	assert_int_equal(free_pages(), 2);
	assert_int_equal(test_log_count[LOG_ERROR], 1);
}

static void test_bad_frees(void **state)
{
	uint64_t pa, before;
	unsigned bad = 0;

	pmm_add_range(FAKE_BASE + 0x200000, 0x200000);
	pa = pmm_alloc(2, 0);
	assert_int_not_equal(pa, 0);
	assert_int_equal(pa % (4 * PAGE_SIZE), 0);
	before = free_pages();
	test_log_reset();

	pmm_free(pa, 1); /* wrong order (smaller) */
	assert_int_equal(pmm_bad_frees(), ++bad);
	assert_non_null(strstr(test_log_last, "wrong order"));
	assert_non_null(strstr(test_log_last, "order 2"));
	pmm_free(pa, 3); /* wrong order (bigger): misaligned or wrong */
	assert_int_equal(pmm_bad_frees(), ++bad);
	pmm_free(pa + PAGE_SIZE, 0); /* inside the block */
	assert_int_equal(pmm_bad_frees(), ++bad);
	assert_non_null(strstr(test_log_last, "not the start"));
	pmm_free(pa + 8, 0); /* misaligned */
	assert_int_equal(pmm_bad_frees(), ++bad);
	assert_non_null(strstr(test_log_last, "misaligned"));
	pmm_free(FAKE_BASE + 0x1000, 0); /* never added: a hole */
	assert_int_equal(pmm_bad_frees(), ++bad);
	assert_non_null(strstr(test_log_last, "not managed"));
	pmm_free(MAX_PHYS + 0x1000, 0); /* beyond the end */
	assert_int_equal(pmm_bad_frees(), ++bad);
	assert_non_null(strstr(test_log_last, "beyond"));
	pmm_free(pa, PMM_MAX_ORDER + 1);
	assert_int_equal(pmm_bad_frees(), ++bad);
	pmm_free(0, 0); /* page 0 is never managed */
	assert_int_equal(pmm_bad_frees(), ++bad);

	assert_int_equal(test_log_count[LOG_ERROR], bad);
	assert_int_equal(free_pages(), before);
	check_stats();

	/* The block is still allocated and frees correctly. */
	pmm_free(pa, 2);
	assert_int_equal(free_pages(), before + 4);
	assert_int_equal(pmm_bad_frees(), bad);
}

static void test_reserve_and_guest(void **state)
{
	struct pmm_stats st;
	uint64_t pa[16];

	pmm_add_range(FAKE_BASE + 0x200000, 0x40000); /* 64 pages */
	pmm_set_reserve(54 * PAGE_SIZE - 100);	      /* rounds up: 54 */
	pmm_get_stats(&st);
	assert_int_equal(st.reserve_pages, 54);

	for (int i = 0; i < 10; i++) {
		pa[i] = pmm_alloc_page(PMM_GUEST);
		assert_int_not_equal(pa[i], 0);
	}
	assert_int_equal(pmm_alloc_page(PMM_GUEST), 0); /* would dip in */
	pmm_get_stats(&st);
	assert_int_equal(st.failed_allocs, 1);
	assert_int_equal(st.free_pages, 54);
	/* Keel itself may use the reserve. */
	pa[10] = pmm_alloc_page(0);
	assert_int_not_equal(pa[10], 0);
	pmm_free_page(pa[10]);
	/* a bigger guest block that would cross the line is refused too */
	pmm_free_page(pa[9]);
	pmm_free_page(pa[8]);
	assert_int_equal(pmm_alloc(2, PMM_GUEST), 0);
	assert_int_not_equal(pmm_alloc(1, PMM_GUEST), 0);
	pmm_set_reserve(0);
	assert_int_not_equal(pmm_alloc(2, PMM_GUEST), 0);
	check_stats();
}

static void test_zero(void **state)
{
	uint64_t pa;
	uint8_t *p;

	pmm_add_range(FAKE_BASE + 0x200000, 0x200000);
	pa = pmm_alloc(3, PMM_ZERO);
	assert_int_not_equal(pa, 0);
	p = phys_to_virt(pa);
	for (uint64_t i = 0; i < 8 * PAGE_SIZE; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xEE, 8 * PAGE_SIZE);
	pmm_free(pa, 3);
	/* without PMM_ZERO the old contents stay (the link words aside) */
	pa = pmm_alloc(3, 0);
	p = phys_to_virt(pa);
	assert_int_equal(p[PAGE_SIZE + 100], 0xEE);
}

/* Random orders until exhaustion: every block naturally aligned and
 * disjoint; then free in another order: back to the start. */
static void test_alignment_random(void **state)
{
	static uint8_t seen[ARENA_PAGES];
	struct { uint64_t pa; unsigned order; } blk[ARENA_PAGES];
	struct pmm_stats st0, st;
	uint32_t rng = 12345;
	unsigned n = 0, fails = 0;

	pmm_add_range(FAKE_BASE + 0x3000, ARENA_BYTES - 0x5000);
	pmm_get_stats(&st0);
	memset(seen, 0, sizeof(seen));
	while (fails < 64) {
		unsigned order;
		uint64_t pa;

		rng = rng * 1103515245 + 12345;
		order = (rng >> 16) % 10;
		pa = pmm_alloc(order, 0);
		if (!pa) {
			fails++;
			continue;
		}
		assert_int_equal(pa % (PAGE_SIZE << order), 0);
		for (unsigned i = 0; i < (1u << order); i++) {
			unsigned k = page_index(pa) + i;

			assert_int_equal(seen[k], 0);
			seen[k] = 1;
		}
		blk[n].pa = pa;
		blk[n].order = order;
		n++;
	}
	check_stats();
	for (unsigned i = 0; i < n; i++) {
		unsigned k = (i * 31) % n;

		if (n % 31 == 0)
			k = n - 1 - i;
		pmm_free(blk[k].pa, blk[k].order);
	}
	pmm_get_stats(&st);
	assert_int_equal(st.free_pages, st0.free_pages);
	assert_memory_equal(st.free_blocks, st0.free_blocks,
			    sizeof(st.free_blocks));
	assert_int_equal(pmm_bad_frees(), 0);
}

/* Memory posing at physical 0: page 0 is never handed out. */
static void test_page_zero_never_used(void **state)
{
	struct pmm_stats st;
	uint64_t pa;
	unsigned n = 0;

	mm_direct_offset = (uint64_t)(uintptr_t)arena;
	pmm_init(ARENA_BYTES, meta);
	pmm_add_range(0, 0x10000);
	pmm_get_stats(&st);
	assert_int_equal(st.managed_pages, 15);
	while ((pa = pmm_alloc_page(0)) != 0) {
		assert_true(pa >= PAGE_SIZE && pa < 0x10000);
		n++;
	}
	assert_int_equal(n, 15);
}

static void test_bad_alloc_and_empty_ranges(void **state)
{
	struct pmm_stats st;

	assert_int_equal(pmm_alloc(PMM_MAX_ORDER + 1, 0), 0);
	assert_int_equal(pmm_alloc_page(0), 0); /* nothing added */
	pmm_add_range(FAKE_BASE + 0x1800, 0x800); /* less than a page */
	pmm_add_range(FAKE_BASE + 0x2000, 0);
	pmm_add_range(UINT64_MAX - 0x1000, 0x2000); /* wraps */
	pmm_add_range(MAX_PHYS, 0x100000);	    /* beyond max_phys */
	pmm_add_range(MAX_PHYS - 0x1000, 0x100000); /* clipped: 1 page */
	pmm_get_stats(&st);
	assert_int_equal(st.managed_pages, 1);
	assert_int_equal(st.alloc_calls, 2);
	assert_int_equal(st.failed_allocs, 2);
	assert_int_equal(pmm_alloc_page(0), MAX_PHYS - 0x1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metadata_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion_with_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragmentation_and_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_range_merges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlapping_add_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_free_after_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_frees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_and_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alignment_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_zero_never_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_alloc_and_empty_ranges, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
