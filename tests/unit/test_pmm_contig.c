/*
 * test_pmm_contig.c - pmm_alloc_contig / pmm_free_contig (mm/pmm.c), the
 * large contiguous buffers of uploaded images: the unused tail of the
 * power-of-two block goes back at once, the kept part frees block by block
 * to exactly the state before, the guest reserve counts only what is kept.
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
	pmm_add_range(FAKE_BASE, ARENA_BYTES);
	test_log_reset();
	return 0;
}

static int teardown(void **state)
{
	free(arena);
	free(meta);
	return 0;
}

static void stats(struct pmm_stats *st)
{
	uint64_t sum = 0;

	pmm_get_stats(st);
	for (unsigned o = 0; o <= PMM_MAX_ORDER; o++)
		sum += st->free_blocks[o] << o;
	assert_int_equal(sum, st->free_pages);
}

/* Every count from 1 to 600 pages: exactly that many are taken, the rest
 * is free at once, and freeing restores the canonical blocks. */
static void test_counts(void **state)
{
	struct pmm_stats st0, st;

	stats(&st0);
	for (uint64_t n = 1; n <= 600; n++) {
		uint64_t pa = pmm_alloc_contig(n, 0);

		assert_int_not_equal(pa, 0);
		assert_true(pa >= FAKE_BASE && pa + n * PAGE_SIZE <= MAX_PHYS);
		stats(&st);
		assert_int_equal(st.free_pages, st0.free_pages - n);
		/* The pages are ours: no other allocation lands inside. */
		uint64_t other = pmm_alloc_page(0);
		assert_true(other < pa || other >= pa + n * PAGE_SIZE);
		pmm_free_page(other);
		pmm_free_contig(pa, n);
		stats(&st);
		assert_int_equal(st.free_pages, st0.free_pages);
		assert_memory_equal(st.free_blocks, st0.free_blocks,
				    sizeof(st.free_blocks));
	}
	assert_int_equal(pmm_bad_frees(), 0);
	assert_int_equal(test_log_count[LOG_ERROR], 0);
}

/* 5 MiB out of 8: the 3 MiB tail of the 8 MiB block is free at once, as a
 * 2 MiB and a 1 MiB block (a buddy allocator finds no 3 MiB block in it). */
static void test_tail_returned(void **state)
{
	uint64_t five = (5ULL << 20) / PAGE_SIZE, two = (2ULL << 20) / PAGE_SIZE,
		 one = (1ULL << 20) / PAGE_SIZE;
	uint64_t a = pmm_alloc_contig(five, 0);
	uint64_t b = pmm_alloc_contig(two, 0);
	uint64_t c = pmm_alloc_contig(one, 0);
	struct pmm_stats st;

	assert_int_not_equal(a, 0);
	assert_int_not_equal(b, 0);
	assert_int_not_equal(c, 0);
	stats(&st);
	assert_int_equal(st.free_pages, 0);
	assert_int_equal(pmm_alloc_page(0), 0);
	/* Written end to end: they do not overlap. */
	memset(phys_to_virt(a), 1, five * PAGE_SIZE);
	memset(phys_to_virt(b), 2, two * PAGE_SIZE);
	memset(phys_to_virt(c), 3, one * PAGE_SIZE);
	assert_int_equal(*(uint8_t *)phys_to_virt(a + five * PAGE_SIZE - 1), 1);
	assert_int_equal(*(uint8_t *)phys_to_virt(b + two * PAGE_SIZE - 1), 2);
	pmm_free_contig(b, two);
	pmm_free_contig(a, five);
	pmm_free_contig(c, one);
	stats(&st);
	assert_int_equal(st.free_pages, ARENA_PAGES);
	assert_int_equal(st.free_blocks[11], 1); /* one 8 MiB block again */
	assert_int_equal(pmm_bad_frees(), 0);
}

static void test_limits_and_flags(void **state)
{
	struct pmm_stats st;
	uint64_t pa;

	assert_int_equal(pmm_alloc_contig(0, 0), 0);
	assert_int_equal(pmm_alloc_contig((1ULL << PMM_MAX_ORDER) + 1, 0), 0);
	assert_int_equal(pmm_alloc_contig(ARENA_PAGES + 1, 0), 0);
	/* The reserve: 3 MiB kept back; 5 MiB may go, 5 MiB + 1 page not. */
	pmm_set_reserve(3ULL << 20);
	assert_int_equal(pmm_alloc_contig((5ULL << 20) / PAGE_SIZE + 1, PMM_GUEST), 0);
	pa = pmm_alloc_contig((5ULL << 20) / PAGE_SIZE, PMM_GUEST | PMM_ZERO);
	assert_int_not_equal(pa, 0);
	for (uint64_t i = 0; i < (5ULL << 20); i += 4093)
		assert_int_equal(((uint8_t *)phys_to_virt(pa))[i], 0);
	pmm_free_contig(pa, (5ULL << 20) / PAGE_SIZE);
	stats(&st);
	assert_int_equal(st.free_pages, ARENA_PAGES);
	assert_true(st.failed_allocs >= 4);
	/* A kept block freed with pmm_free's wrong order is still caught. */
	pa = pmm_alloc_contig(3, 0); /* blocks of 2 and 1 pages */
	pmm_free(pa, 2);
	assert_int_equal(pmm_bad_frees(), 1);
	pmm_free_contig(pa, 3);
	assert_int_equal(pmm_bad_frees(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tail_returned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_and_flags, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
