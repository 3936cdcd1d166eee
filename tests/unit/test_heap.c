/*
 * test_heap.c - kmalloc/kzalloc/kfree (mm/heap.c) over the real pmm on an
 * arena: every size class and large blocks, 16-byte alignment, no overlap,
 * reuse, slabs going back to the pmm, bad and double kfree reported.
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

#define FAKE_BASE (1ULL << 30)
#define ARENA_BYTES (16ULL << 20)
#define MAX_PHYS (FAKE_BASE + ARENA_BYTES)

static uint8_t *arena;
static uint8_t *meta;
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
	memset(arena, 0x5A, ARENA_BYTES); /* no leftovers of an earlier test */
	mm_direct_offset = (uint64_t)(uintptr_t)arena - FAKE_BASE;
	pmm_init(MAX_PHYS, meta);
	pmm_add_range(FAKE_BASE, ARENA_BYTES);
	free_at_start = free_pages();
	heap_init();
	test_log_reset();
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(pmm_bad_frees(), 0);
	free(arena);
	free(meta);
	return 0;
}

static bool in_arena(const void *p, size_t n)
{
	return (const uint8_t *)p >= arena &&
	       (const uint8_t *)p + n <= arena + ARENA_BYTES;
}

/* Many sizes at once: aligned, inside the arena, no two overlapping (each
 * keeps its own fill pattern), and everything freed gives the pages back
 * (but for at most one cached slab per class: 1+1+1+1+1+2+4+8 pages). */
static void test_many_sizes(void **state)
{
	enum { N = 600 };
	static uint8_t *p[N];
	static size_t sz[N];
	uint32_t rng = 99;

	for (int i = 0; i < N; i++) {
		rng = rng * 1103515245 + 12345;
		sz[i] = i < 40 ? (size_t)i * 60 : (rng >> 8) % (i % 10 ? 2100 : 20000);
		p[i] = kmalloc(sz[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		assert_true(in_arena(p[i], sz[i]));
		memset(p[i], i & 0xFF, sz[i]);
	}
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < sz[i]; k++)
			if (p[i][k] != (uint8_t)(i & 0xFF))
				fail_msg("object %d (size %zu) overwritten at %zu",
					 i, sz[i], k);
	for (int i = N - 1; i >= 0; i -= 2)
		kfree(p[i]);
	for (int i = N - 2; i >= 0; i -= 2)
		kfree(p[i]);
	assert_int_equal(test_log_count[LOG_ERROR], 0);
	assert_true(free_pages() >= free_at_start - 19);
	assert_true(free_pages() <= free_at_start);
}

static void test_reuse(void **state)
{
	void *a = kmalloc(100), *b;

	assert_non_null(a);
	kfree(a);
	b = kmalloc(120); /* same class (128) */
	assert_ptr_equal(a, b);
	kfree(b);
	b = kmalloc(4000); /* large: a block of its own */
	assert_ptr_not_equal(a, b);
	kfree(b);
}

static void test_kzalloc_clears(void **state)
{
	uint8_t *p = kmalloc(300), *q;

	memset(p, 0xFF, 300);
	kfree(p);
	q = kzalloc(300);
	assert_ptr_equal(p, q); /* the dirty one came back... */
	for (int i = 0; i < 300; i++)
		assert_int_equal(q[i], 0); /* ...clean */
	kfree(q);

	p = kmalloc(50000);
	memset(p, 0xFF, 50000);
	kfree(p);
	q = kzalloc(50000);
	for (int i = 0; i < 50000; i++)
		assert_int_equal(q[i], 0);
	kfree(q);
}

static void test_large_blocks(void **state)
{
	uint64_t before = free_pages();
	void *p = kmalloc(10000); /* 10000 + header: 4 pages */

	assert_non_null(p);
	assert_int_equal(free_pages(), before - 4);
	kfree(p);
	assert_int_equal(free_pages(), before);

	p = kmalloc(4096 - 16); /* header + size is exactly one page */
	assert_int_equal(free_pages(), before - 1);
	kfree(p);
	p = kmalloc(4096 - 15);
	assert_int_equal(free_pages(), before - 2);
	kfree(p);

	assert_null(kmalloc(SIZE_MAX));
	assert_null(kmalloc(SIZE_MAX - 8));
	assert_null(kmalloc(64ULL << 30)); /* bigger than the biggest block */
	assert_null(kmalloc(32ULL << 20)); /* bigger than the arena */
	assert_int_equal(free_pages(), before);
}

static void test_zero_size(void **state)
{
	void *a = kmalloc(0), *b = kmalloc(0);

	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	kfree(a);
	kfree(b);
	kfree(NULL); /* fine, silently */
	assert_int_equal(test_log_count[LOG_ERROR], 0);
}

static void test_bad_kfree(void **state)
{
	uint8_t *p = kmalloc(64), *big = kmalloc(9000);
	uint64_t before;

	memset(p, 0x11, 64);
	memset(big, 0x22, 9000);
	kfree(p + 1); /* misaligned */
	assert_int_equal(test_log_count[LOG_ERROR], 1);
	assert_non_null(strstr(test_log_last, "not a heap pointer"));
	kfree(p + 32); /* inside an object: its header would be payload */
	assert_int_equal(test_log_count[LOG_ERROR], 2);
	assert_non_null(strstr(test_log_last, "not a heap pointer"));
	kfree(big + 4096); /* inside a large block */
	assert_int_equal(test_log_count[LOG_ERROR], 3);

	kfree(p);
	assert_int_equal(test_log_count[LOG_ERROR], 3);
	kfree(p); /* double free */
	assert_int_equal(test_log_count[LOG_ERROR], 4);
	assert_non_null(strstr(test_log_last, "double free"));
	/* and the free list is intact: two allocations, two objects */
	{
		void *a = kmalloc(64), *b = kmalloc(64);

		assert_ptr_equal(a, p);
		assert_ptr_not_equal(a, b);
		kfree(a);
		kfree(b);
	}

	before = free_pages();
	kfree(big);
	assert_int_equal(free_pages(), before + 4);
	kfree(big);
	assert_int_equal(test_log_count[LOG_ERROR], 5);
	assert_int_equal(free_pages(), before + 4);
}

/* A forged header that claims a slab: refused, not followed blindly. */
static void test_forged_header(void **state)
{
	uint64_t *p = kmalloc(256);

	p[0] = 0x4B48454D; /* HEAP_MAGIC_USED, class 0, order 0 */
	p[1] = (uint64_t)(uintptr_t)(p + 4); /* not a slab */
	kfree(p + 2);
	assert_int_equal(test_log_count[LOG_ERROR], 1);
	assert_non_null(strstr(test_log_last, "corrupted"));
	kfree(p);
	assert_int_equal(test_log_count[LOG_ERROR], 1);
}

/* Empty slabs go back to the pmm (all but one per class). */
static void test_slabs_returned(void **state)
{
	enum { N = 400 }; /* 16-byte objects: 126 per slab: 4 slabs */
	static void *p[N];

	for (int i = 0; i < N; i++)
		assert_non_null(p[i] = kmalloc(16));
	assert_int_equal(free_pages(), free_at_start - 4);
	for (int i = 0; i < N; i++)
		kfree(p[i]);
	assert_int_equal(free_pages(), free_at_start - 1);
	/* and the one kept is used again */
	p[0] = kmalloc(10);
	assert_int_equal(free_pages(), free_at_start - 1);
	kfree(p[0]);
}

static void test_out_of_memory(void **state)
{
	static uint64_t hog[4096];
	unsigned n = 0;
	void *last = NULL;

	while (free_pages() > 0)
		hog[n++] = pmm_alloc_page(0);
	assert_null(kmalloc(16));
	assert_null(kmalloc(5000));
	pmm_free_page(hog[--n]);
	last = kmalloc(16); /* a slab fits again */
	assert_non_null(last);
	assert_int_equal(free_pages(), 0);
	kfree(last);
	while (n)
		pmm_free_page(hog[--n]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_many_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kzalloc_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_kfree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slabs_returned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
