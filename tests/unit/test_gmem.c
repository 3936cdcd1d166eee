/*
 * test_gmem.c - guest memory (mm/gmem.c) over the real pmm and page-table
 * builder on an arena: 2 MiB blocks and 4 KiB pages and their mix, the
 * fallback when no block is free, translation checked page by page against
 * the nested table, copies across pages, blocks and regions, ROM and
 * aliases, bad input, running out of memory at every step, and every page
 * given back by gmem_destroy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/virt/virt.h"
#include "mm/mm.h"
#include "tests/unit/shim/host_shim.h"

#define FAKE_BASE (1ULL << 30)
#define ARENA_BYTES (32ULL << 20) /* 16 blocks of 2 MiB */
#define MAX_PHYS (FAKE_BASE + ARENA_BYTES)

#define G1 HUGE_PAGE_SIZE
#define M2 LARGE_PAGE_SIZE
#define K4 PAGE_SIZE
#define G4 (4 * G1)

static uint8_t *arena;
static uint8_t *meta;
static struct vm *vm;
static uint64_t free_at_start; /* after pt_init: the root is the VM's */

static uint64_t free_pages(void)
{
	struct pmm_stats st;

	pmm_get_stats(&st);
	return st.free_pages;
}

static int setup_fmt(const struct pt_format *fmt)
{
	arena = aligned_alloc(PAGE_SIZE, ARENA_BYTES);
	meta = calloc(1, pmm_metadata_bytes(MAX_PHYS));
	vm = calloc(1, sizeof(*vm));
	assert_non_null(arena);
	assert_non_null(meta);
	assert_non_null(vm);
	memset(arena, 0x5A, ARENA_BYTES); /* so "zero-filled" means something */
	mm_direct_offset = (uint64_t)(uintptr_t)arena - FAKE_BASE;
	pmm_init(MAX_PHYS, meta);
	pmm_add_range(FAKE_BASE, ARENA_BYTES);
	strcpy(vm->name, "t");
	assert_int_equal(pt_init(&vm->npt, fmt), 0);
	free_at_start = free_pages();
	test_log_reset();
	return 0;
}

static int setup(void **state)
{
	return setup_fmt(&pt_format_npt);
}

static int setup_ept(void **state)
{
	return setup_fmt(&pt_format_ept);
}

static int teardown(void **state)
{
	gmem_destroy(vm);
	assert_int_equal(vm->region_count, 0);
	assert_int_equal(vm->npt.table_pages, 1); /* the root only */
	assert_int_equal(free_pages(), free_at_start);
	assert_int_equal(pmm_bad_frees(), 0);
	pt_destroy(&vm->npt);
	free(vm);
	free(arena);
	free(meta);
	return 0;
}

static unsigned prot_of(enum gmem_kind kind)
{
	return kind == GMEM_ROM ? PT_R | PT_X | PT_USER
				: PT_R | PT_W | PT_X | PT_USER;
}

/*
 * Every page of [gpa, gpa+size): translate gives a host address in the
 * arena, the nested table maps the page to the same address with the
 * region's rights, and the last byte of the page translates consistently.
 */
static void expect_mapped(uint64_t gpa, uint64_t size, enum gmem_kind kind)
{
	for (uint64_t g = gpa; g < gpa + size; g += K4) {
		enum gmem_kind k = GMEM_RAM + GMEM_ROM + 1;
		uint64_t hpa = gmem_translate(vm, g, &k), npa = 0;
		unsigned prot = 0, level = 0;

		assert_true(hpa >= FAKE_BASE && hpa < MAX_PHYS);
		assert_int_equal(hpa & (K4 - 1), 0);
		assert_int_equal(k, kind);
		assert_int_equal(gmem_translate(vm, g + K4 - 1, NULL), hpa + K4 - 1);
		assert_int_equal(pt_translate(&vm->npt, g + 0x123, &npa, &prot,
					      &level),
				 0);
		assert_int_equal(npa, hpa + 0x123);
		assert_int_equal(prot, prot_of(kind));
	}
}

static void expect_unmapped(uint64_t gpa)
{
	uint64_t pa;
	unsigned prot, level;
	enum gmem_kind k = GMEM_ROM;

	assert_int_equal(gmem_translate(vm, gpa, &k), 0);
	assert_int_equal(k, GMEM_ROM); /* untouched */
	assert_int_equal(pt_translate(&vm->npt, gpa, &pa, &prot, &level),
			 KEEL_ENOENT);
}

static unsigned npt_level(uint64_t gpa)
{
	uint64_t pa;
	unsigned prot, level = 0;

	assert_int_equal(pt_translate(&vm->npt, gpa, &pa, &prot, &level), 0);
	return level;
}

static bool all_zero(uint64_t gpa, uint64_t size)
{
	for (uint64_t g = gpa; g < gpa + size; g += K4) {
		const uint64_t *p = phys_to_virt(gmem_translate(vm, g, NULL));

		for (unsigned i = 0; i < K4 / 8; i++)
			if (p[i])
				return false;
	}
	return true;
}

/* 2 MiB aligned RAM: one block per chunk, 2 MiB leaves, exact accounting. */
static void test_aligned_ram_in_blocks(void **state)
{
	const struct gmem_region *r = &vm->regions[0];

	assert_int_equal(gmem_add(vm, 0, 8 * M2, GMEM_RAM), 0);
	assert_int_equal(vm->region_count, 1);
	assert_int_equal(r->count, 8);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_not_equal(r->blocks[i], 0);
		assert_int_equal(r->blocks[i] & (M2 - 1), 0);
		assert_int_equal(r->pages[i], 0);
		assert_int_equal(gmem_translate(vm, i * M2 + 0x4321, NULL),
				 r->blocks[i] + 0x4321);
		assert_int_equal(npt_level(i * M2), 2);
	}
	expect_mapped(0, 8 * M2, GMEM_RAM);
	expect_unmapped(8 * M2);
	assert_true(all_zero(0, 8 * M2));
	assert_int_equal(gmem_total(vm), 8 * M2);
	/* 8 blocks, one page of arrays, PDPT + PD */
	assert_int_equal(free_at_start - free_pages(), 8 * 512 + 1 + 2);
	assert_int_equal(vm->npt.table_pages, 3);
	assert_int_equal(test_log_count[LOG_WARN], 0);
}

/* [1 MiB, 5 MiB): pages, a block, pages. */
static void test_unaligned_ram_mixes(void **state)
{
	const struct gmem_region *r = &vm->regions[0];
	const uint64_t *head, *tail;

	assert_int_equal(gmem_add(vm, M2 / 2, 2 * M2, GMEM_RAM), 0);
	assert_int_equal(r->count, 3);
	assert_int_equal(r->blocks[0], 0);
	assert_int_not_equal(r->blocks[1], 0);
	assert_int_equal(r->blocks[2], 0);
	assert_int_not_equal(r->pages[0], 0);
	assert_int_equal(r->pages[1], 0);
	assert_int_not_equal(r->pages[2], 0);
	head = phys_to_virt(r->pages[0]);
	tail = phys_to_virt(r->pages[2]);
	/* the list holds entries for the region's pages only */
	assert_int_equal(head[255], 0);
	assert_int_not_equal(head[256], 0);
	assert_int_not_equal(tail[255], 0);
	assert_int_equal(tail[256], 0);
	assert_int_equal(gmem_translate(vm, M2 / 2 + 5, NULL), head[256] + 5);
	assert_int_equal(gmem_translate(vm, 2 * M2 + M2 / 2 - 1, NULL),
			 tail[255] + K4 - 1);

	expect_mapped(M2 / 2, 2 * M2, GMEM_RAM);
	expect_unmapped(M2 / 2 - K4);
	expect_unmapped(M2 / 2 + 2 * M2);
	assert_int_equal(npt_level(M2 / 2), 1);
	assert_int_equal(npt_level(M2), 2);
	assert_int_equal(npt_level(2 * M2), 1);
	assert_true(all_zero(M2 / 2, 2 * M2));
	/* 512 pages + one block, two lists, the arrays, PDPT + PD + 2 PTs */
	assert_int_equal(free_at_start - free_pages(), 512 + 512 + 2 + 1 + 4);
	assert_int_equal(test_log_count[LOG_WARN], 0);
}

/* Hog every free page (2 MiB blocks where possible), then give back 'frag'
 * of the blocks as scattered single pages (every other page of each) and
 * 'whole' of them intact. hog[] holds blocks, pg[] single pages kept. */
static uint64_t hog[16], pg[16384];
static unsigned nhog, npg;

static void fragment(unsigned frag, unsigned whole)
{
	uint64_t pa;

	nhog = npg = 0;
	while ((pa = pmm_alloc(9, 0)))
		hog[nhog++] = pa;
	while ((pa = pmm_alloc_page(0)))
		pg[npg++] = pa;
	assert_true(nhog >= frag + whole);
	assert_int_equal(free_pages(), 0);
	/* Free the blocks, take them back page by page, then give back the
	 * odd pages: their buddies stay taken, so nothing merges. */
	for (unsigned i = 0; i < frag; i++)
		pmm_free(hog[--nhog], 9);
	for (unsigned j = 0; j < frag * 512; j++) {
		pg[npg] = pmm_alloc_page(0);
		assert_int_not_equal(pg[npg], 0);
		npg++;
	}
	for (unsigned j = npg - frag * 512; j < npg; j++) {
		if ((pg[j] >> PAGE_SHIFT) & 1) {
			pmm_free_page(pg[j]);
			pg[j] = 0;
		}
	}
	for (unsigned i = 0; i < whole; i++)
		pmm_free(hog[--nhog], 9);
}

static void unfragment(void)
{
	for (unsigned i = 0; i < nhog; i++)
		pmm_free(hog[i], 9);
	for (unsigned i = 0; i < npg; i++)
		if (pg[i])
			pmm_free_page(pg[i]);
	nhog = npg = 0;
}

/* No 2 MiB block free: aligned RAM falls back to pages; with one block
 * free, the first chunk gets it and the rest fall back. */
static void test_fallback_to_pages(void **state)
{
	const struct gmem_region *r = &vm->regions[0];
	struct pmm_stats st;
	uint8_t buf[64];

	fragment(6, 0); /* 1536 scattered free pages */
	pmm_get_stats(&st);
	for (unsigned o = 9; o <= PMM_MAX_ORDER; o++)
		assert_int_equal(st.free_blocks[o], 0);

	assert_int_equal(gmem_add(vm, 4 * M2, 2 * M2, GMEM_RAM), 0);
	assert_int_equal(r->count, 2);
	assert_int_equal(r->blocks[0], 0);
	assert_int_equal(r->blocks[1], 0);
	assert_int_not_equal(r->pages[0], 0);
	assert_int_not_equal(r->pages[1], 0);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	assert_non_null(strstr(test_log_last, "2 of 2 2 MiB chunks"));
	expect_mapped(4 * M2, 2 * M2, GMEM_RAM);
	assert_int_equal(npt_level(4 * M2), 1);
	assert_true(all_zero(4 * M2, 2 * M2));

	/* a copy across scattered pages and the chunk boundary */
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(gmem_write(vm, 5 * M2 - 30, buf, sizeof(buf)), 0);
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(*(uint8_t *)phys_to_virt(
					 gmem_translate(vm, 5 * M2 - 30 + i, NULL)),
				 buf[i]);
	gmem_destroy(vm);
	unfragment();

	/* one block free among fragments: a mix inside one aligned region */
	fragment(6, 1);
	test_log_reset();
	assert_int_equal(gmem_add(vm, 0, 3 * M2, GMEM_RAM), 0);
	assert_int_not_equal(r->blocks[0], 0);
	assert_int_equal(r->blocks[1], 0);
	assert_int_equal(r->blocks[2], 0);
	assert_int_equal(r->pages[0], 0);
	assert_non_null(strstr(test_log_last, "2 of 3 2 MiB chunks"));
	expect_mapped(0, 3 * M2, GMEM_RAM);
	assert_int_equal(npt_level(0), 2);
	assert_int_equal(npt_level(M2), 1);
	gmem_destroy(vm);
	unfragment();
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + seed) ^ (i >> 8));
}

static void test_read_write(void **state)
{
	static uint8_t out[3 * 4096 + 100], in[sizeof(out)];
	uint8_t keep[16];

	/* blocks at [0, 4 MiB), pages at [4 MiB, 4 MiB + 64 KiB), adjacent */
	assert_int_equal(gmem_add(vm, 0, 2 * M2, GMEM_RAM), 0);
	assert_int_equal(gmem_add(vm, 2 * M2, 16 * K4, GMEM_RAM), 0);
	assert_int_equal(gmem_add(vm, 8 * M2, M2, GMEM_ROM), 0);

	/* across the 2 MiB block boundary */
	fill(out, sizeof(out), 1);
	assert_int_equal(gmem_write(vm, M2 - 5000, out, sizeof(out)), 0);
	assert_int_equal(gmem_read(vm, M2 - 5000, in, sizeof(in)), 0);
	assert_memory_equal(in, out, sizeof(out));
	/* the bytes really are where translate says, one by one */
	for (size_t i = 0; i < sizeof(out); i += 97)
		assert_int_equal(*(uint8_t *)phys_to_virt(gmem_translate(
					 vm, M2 - 5000 + i, NULL)),
				 out[i]);
	/* across the two regions, and within scattered 4 KiB pages */
	fill(out, sizeof(out), 2);
	assert_int_equal(gmem_write(vm, 2 * M2 - 7000, out, sizeof(out)), 0);
	memset(in, 0, sizeof(in));
	assert_int_equal(gmem_read(vm, 2 * M2 - 7000, in, sizeof(in)), 0);
	assert_memory_equal(in, out, sizeof(out));
	for (size_t i = 0; i < sizeof(out); i += 89)
		assert_int_equal(*(uint8_t *)phys_to_virt(gmem_translate(
					 vm, 2 * M2 - 7000 + i, NULL)),
				 out[i]);
	/* single bytes at the edges */
	assert_int_equal(gmem_write(vm, 0, "A", 1), 0);
	assert_int_equal(gmem_write(vm, 2 * M2 + 16 * K4 - 1, "Z", 1), 0);
	assert_int_equal(gmem_read(vm, 2 * M2 + 16 * K4 - 1, in, 1), 0);
	assert_int_equal(in[0], 'Z');
	/* ROM takes gmem_write (firmware loading) */
	assert_int_equal(gmem_write(vm, 9 * M2 - 4, "rom!", 4), 0);
	assert_int_equal(gmem_read(vm, 9 * M2 - 4, in, 4), 0);
	assert_memory_equal(in, "rom!", 4);

	/* any byte outside guest memory: KEEL_ERANGE, nothing copied */
	assert_int_equal(gmem_read(vm, 0, keep, 0), 0);
	memcpy(keep, "0123456789abcdef", 16);
	assert_int_equal(gmem_read(vm, 2 * M2 + 16 * K4 - 8, keep, 16), KEEL_ERANGE);
	assert_memory_equal(keep, "0123456789abcdef", 16);
	assert_int_equal(gmem_write(vm, 2 * M2 + 16 * K4 - 8, keep, 16),
			 KEEL_ERANGE);
	assert_int_equal(gmem_read(vm, 2 * M2 + 16 * K4 - 8, in, 8), 0);
	assert_int_equal(in[7], 'Z'); /* the first 8 bytes were not written */
	assert_int_equal(gmem_read(vm, 8 * M2 - 1, keep, 2), KEEL_ERANGE);
	assert_int_equal(gmem_read(vm, 9 * M2, keep, 1), KEEL_ERANGE);
	assert_int_equal(gmem_read(vm, G4, keep, 1), KEEL_ERANGE);
	assert_int_equal(gmem_write(vm, UINT64_MAX - 3, keep, 8), KEEL_ERANGE);
	assert_int_equal(gmem_read(vm, UINT64_MAX, keep, 16), KEEL_ERANGE);
	assert_int_equal(gmem_read(vm, 0, keep, SIZE_MAX), KEEL_ERANGE);
	assert_memory_equal(keep, "0123456789abcdef", 16);
	assert_int_equal(gmem_total(vm), 2 * M2 + 16 * K4 + M2);
}

/* Firmware as DESIGN.md section 10 lays it out: ROM ending at 4 GiB, its
 * last 128 KiB also at 0xE0000; plus aliases at odd offsets of RAM. */
static void test_rom_and_aliases(void **state)
{
	static uint8_t rom[128 * 1024], in[sizeof(rom)];
	const uint64_t rom_gpa = G4 - sizeof(rom);

	assert_int_equal(gmem_add(vm, 0, 0xA0000, GMEM_RAM), 0);
	assert_int_equal(gmem_add(vm, 0x100000, 3 * M2, GMEM_RAM), 0);
	assert_int_equal(gmem_add(vm, rom_gpa, sizeof(rom), GMEM_ROM), 0);
	fill(rom, sizeof(rom), 3);
	assert_int_equal(gmem_write(vm, rom_gpa, rom, sizeof(rom)), 0);

	assert_int_equal(gmem_alias(vm, 0xE0000, 0x20000, rom_gpa, GMEM_ROM), 0);
	assert_int_equal(vm->regions[3].alias_of, 3);
	assert_int_equal(vm->regions[3].alias_off, 0);
	assert_null(vm->regions[3].blocks);
	expect_mapped(0xE0000, 0x20000, GMEM_ROM);
	expect_mapped(rom_gpa, sizeof(rom), GMEM_ROM);
	for (uint64_t off = 0; off < sizeof(rom); off += K4)
		assert_int_equal(gmem_translate(vm, 0xE0000 + off + 9, NULL),
				 gmem_translate(vm, rom_gpa + off + 9, NULL));
	assert_int_equal(gmem_read(vm, 0xE0000, in, sizeof(in)), 0);
	assert_memory_equal(in, rom, sizeof(rom));
	/* a write through the alias shows at the original */
	assert_int_equal(gmem_write(vm, 0xFFFF0, "\xEA\x5B\xE0", 3), 0);
	assert_int_equal(gmem_read(vm, G4 - 16, in, 3), 0);
	assert_memory_equal(in, "\xEA\x5B\xE0", 3);

	/* an alias of an alias points at the owner; RAM seen as ROM */
	assert_int_equal(gmem_alias(vm, 0xD0000, K4, 0xE0000 + 5 * K4, GMEM_ROM), 0);
	assert_int_equal(vm->regions[4].alias_of, 3);
	assert_int_equal(vm->regions[4].alias_off, 5 * K4);
	assert_int_equal(gmem_translate(vm, 0xD0000, NULL),
			 gmem_translate(vm, rom_gpa + 5 * K4, NULL));
	/* an alias whose offset is not 2 MiB aligned against its source: runs
	 * broken at the source's block boundary, mapped with 4 KiB leaves */
	assert_int_equal(gmem_alias(vm, 16 * M2 + 3 * K4, M2 + 2 * K4,
				    0x100000 + 0x80000, GMEM_RAM),
			 0);
	expect_mapped(16 * M2 + 3 * K4, M2 + 2 * K4, GMEM_RAM);
	for (uint64_t off = 0; off < M2 + 2 * K4; off += K4)
		assert_int_equal(gmem_translate(vm, 16 * M2 + 3 * K4 + off, NULL),
				 gmem_translate(vm, 0x180000 + off, NULL));
	assert_int_equal(gmem_write(vm, 0x180000 + M2 - 2, "xyzw", 4), 0);
	assert_int_equal(gmem_read(vm, 16 * M2 + 3 * K4 + M2 - 2, in, 4), 0);
	assert_memory_equal(in, "xyzw", 4);
	/* an alias of a whole aligned block keeps a 2 MiB leaf */
	assert_int_equal(gmem_alias(vm, 20 * M2, M2, 2 * M2, GMEM_RAM), 0);
	assert_int_equal(npt_level(20 * M2 + 77), 2);
	expect_mapped(20 * M2, M2, GMEM_RAM);

	/* aliases add no memory */
	assert_int_equal(gmem_total(vm), 0xA0000 + 3 * M2 + sizeof(rom));

	/* bad aliases */
	assert_int_equal(gmem_alias(vm, 30 * M2, K4, 0xA0000, GMEM_RAM),
			 KEEL_ENOENT);
	assert_int_equal(gmem_alias(vm, 30 * M2, 2 * K4, 0xA0000 - K4, GMEM_RAM),
			 KEEL_ERANGE);
	assert_int_equal(gmem_alias(vm, 30 * M2, 2 * K4, G4 - K4, GMEM_ROM),
			 KEEL_ERANGE);
	assert_int_equal(gmem_alias(vm, 30 * M2, K4, 0x10, GMEM_RAM), KEEL_EINVAL);
	assert_int_equal(gmem_alias(vm, 0xE0000 + K4, K4, 0, GMEM_RAM), KEEL_EEXIST);
	assert_int_equal(gmem_alias(vm, 30 * M2, 0, 0, GMEM_RAM), KEEL_EINVAL);
	assert_int_equal(vm->region_count, 7);
	assert_int_equal(gmem_alias(vm, 30 * M2, K4, 0, GMEM_RAM), 0);
	assert_int_equal(gmem_alias(vm, 31 * M2, K4, 0, GMEM_RAM), KEEL_ERANGE);
}

static void test_bad_input(void **state)
{
	uint64_t before = free_pages();

	assert_int_equal(gmem_add(vm, 0, 0, GMEM_RAM), KEEL_EINVAL);
	assert_int_equal(gmem_add(vm, 0x800, K4, GMEM_RAM), KEEL_EINVAL);
	assert_int_equal(gmem_add(vm, 0, K4 + 1, GMEM_RAM), KEEL_EINVAL);
	assert_int_equal(gmem_add(vm, 0, K4, (enum gmem_kind)7), KEEL_EINVAL);
	assert_int_equal(gmem_add(vm, 1ULL << 47, K4, GMEM_RAM), KEEL_ERANGE);
	assert_int_equal(gmem_add(vm, (1ULL << 47) - K4, 2 * K4, GMEM_RAM),
			 KEEL_ERANGE);
	assert_int_equal(gmem_add(vm, UINT64_MAX & PAGE_MASK, 2 * K4, GMEM_RAM),
			 KEEL_ERANGE);
	assert_int_equal(gmem_add(vm, K4, UINT64_MAX & PAGE_MASK, GMEM_RAM),
			 KEEL_ERANGE);
	assert_int_equal(free_pages(), before);
	assert_int_equal(vm->region_count, 0);

	/* overlaps, from every side */
	assert_int_equal(gmem_add(vm, M2, M2, GMEM_RAM), 0);
	before = free_pages();
	assert_int_equal(gmem_add(vm, M2 - K4, 2 * K4, GMEM_RAM), KEEL_EEXIST);
	assert_int_equal(gmem_add(vm, 2 * M2 - K4, 2 * K4, GMEM_RAM), KEEL_EEXIST);
	assert_int_equal(gmem_add(vm, M2 + K4, K4, GMEM_ROM), KEEL_EEXIST);
	assert_int_equal(gmem_add(vm, 0, 4 * M2, GMEM_RAM), KEEL_EEXIST);
	assert_int_equal(gmem_add(vm, M2, M2, GMEM_RAM), KEEL_EEXIST);
	assert_int_equal(free_pages(), before);
	/* touching is fine */
	assert_int_equal(gmem_add(vm, M2 - K4, K4, GMEM_RAM), 0);
	assert_int_equal(gmem_add(vm, 2 * M2, K4, GMEM_ROM), 0);

	/* VM_MAX_REGIONS */
	for (unsigned i = vm->region_count; i < VM_MAX_REGIONS; i++)
		assert_int_equal(gmem_add(vm, G1 + i * M2, K4, GMEM_RAM), 0);
	before = free_pages();
	assert_int_equal(gmem_add(vm, 2 * G1, K4, GMEM_RAM), KEEL_ERANGE);
	assert_int_equal(gmem_alias(vm, 2 * G1, K4, M2, GMEM_RAM), KEEL_ERANGE);
	assert_int_equal(free_pages(), before);
	assert_int_equal(vm->region_count, VM_MAX_REGIONS);
	/* nothing is guest memory just outside */
	expect_unmapped(M2 - 2 * K4);
	expect_unmapped(2 * M2 + K4);
}

/* Take all but 'left' free pages out of the pmm, as single pages. */
static uint64_t page_hog[8192];
static unsigned page_hogged;

static void hog_to(uint64_t left)
{
	page_hogged = 0;
	while (free_pages() > left) {
		page_hog[page_hogged] = pmm_alloc_page(0);
		assert_int_not_equal(page_hog[page_hogged], 0);
		page_hogged++;
	}
}

static void unhog(void)
{
	for (unsigned i = 0; i < page_hogged; i++)
		pmm_free_page(page_hog[i]);
	page_hogged = 0;
}

/*
 * With every amount of free memory short of enough, gmem_add fails with
 * KEEL_ENOMEM and leaves nothing behind: not a page, not a table, not a
 * region. The region, [3 MiB, 4 MiB + 20 KiB), touches no whole 2 MiB chunk
 * (so what the pmm has left in blocks does not matter): 261 guest pages, 2
 * lists, the arrays and 2 page tables below the existing PD, so failures
 * happen in the backing and in pt_map alike.
 */
static void test_enomem_every_step(void **state)
{
	const uint64_t gpa = 3 * M2 / 2, size = M2 / 2 + 5 * K4;
	uint64_t n, need = 0;
	unsigned tables;

	/* another region first, so some tables already exist */
	assert_int_equal(gmem_add(vm, 0, M2, GMEM_RAM), 0);
	tables = vm->npt.table_pages;
	for (n = 0; n < 300; n++) {
		uint64_t start;
		int err;

		hog_to(n);
		start = free_pages();
		err = gmem_add(vm, gpa, size, GMEM_RAM);
		if (!err) {
			need = n;
			unhog();
			break;
		}
		assert_int_equal(err, KEEL_ENOMEM);
		assert_int_equal(free_pages(), start);
		assert_int_equal(vm->region_count, 1);
		assert_int_equal(vm->npt.table_pages, tables);
		expect_unmapped(gpa);
		expect_unmapped(gpa + size - K4);
		unhog();
	}
	assert_int_equal(need, (size / K4) + 2 + 1 + 2);
	expect_mapped(gpa, size, GMEM_RAM);
	expect_mapped(0, M2, GMEM_RAM);

	/* out of memory for the block arrays of an alias-free region */
	hog_to(0);
	assert_int_equal(gmem_add(vm, 8 * M2, K4, GMEM_RAM), KEEL_ENOMEM);
	/* an alias allocates only tables */
	assert_int_equal(gmem_alias(vm, 9 * M2, K4, 0, GMEM_RAM), KEEL_ENOMEM);
	unhog();
	hog_to(1); /* the PT for 9 MiB.. sits in the existing PD */
	assert_int_equal(gmem_alias(vm, 9 * M2, K4, 0, GMEM_RAM), 0);
	unhog();
	assert_int_equal(vm->region_count, 3);
}

/* Everything back after destroy, several times over, whatever the mix. */
static void test_destroy_returns_everything(void **state)
{
	for (int round = 0; round < 3; round++) {
		assert_int_equal(gmem_add(vm, 0, 0x9F000, GMEM_RAM), 0);
		assert_int_equal(gmem_add(vm, M2, 4 * M2 + 3 * K4, GMEM_RAM), 0);
		assert_int_equal(gmem_add(vm, G1, M2, GMEM_RAM), 0);
		assert_int_equal(gmem_add(vm, G4 - 64 * K4, 64 * K4, GMEM_ROM), 0);
		assert_int_equal(gmem_alias(vm, 0xF0000, 16 * K4, G4 - 16 * K4,
					    GMEM_ROM),
				 0);
		assert_int_equal(gmem_alias(vm, 64 * G1, 3 * M2, M2 + K4,
					    GMEM_RAM),
				 0);
		assert_true(free_pages() < free_at_start - 5 * 512);
		gmem_destroy(vm);
		assert_int_equal(vm->region_count, 0);
		assert_int_equal(free_pages(), free_at_start);
		assert_int_equal(vm->npt.table_pages, 1);
		assert_int_equal(gmem_total(vm), 0);
		expect_unmapped(0);
		expect_unmapped(G4 - K4);
		expect_unmapped(0xF0000);
	}
	gmem_destroy(vm); /* twice is harmless */
	assert_int_equal(pmm_bad_frees(), 0);
}

/* The same layout through EPT: the builder is shared, the rights read back
 * the same way. */
static void test_ept_layout(void **state)
{
	assert_int_equal(gmem_add(vm, 0, 0xA0000, GMEM_RAM), 0);
	assert_int_equal(gmem_add(vm, M2, 2 * M2, GMEM_RAM), 0);
	assert_int_equal(gmem_add(vm, G4 - M2, M2, GMEM_ROM), 0);
	assert_int_equal(gmem_alias(vm, 0xE0000, 0x20000, G4 - 0x20000, GMEM_ROM),
			 0);
	expect_mapped(0, 0xA0000, GMEM_RAM);
	expect_mapped(M2, 2 * M2, GMEM_RAM);
	expect_mapped(G4 - M2, M2, GMEM_ROM);
	expect_mapped(0xE0000, 0x20000, GMEM_ROM);
	assert_int_equal(npt_level(M2), 2);
	assert_int_equal(npt_level(G4 - 1), 2);
	expect_unmapped(0xA0000);
	expect_unmapped(3 * M2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aligned_ram_in_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unaligned_ram_mixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_to_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rom_and_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem_every_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_returns_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_layout, setup_ept, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
