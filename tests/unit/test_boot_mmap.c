/*
 * test_boot_mmap.c - unit tests of boot/mmap.c, the UEFI memory map turned
 * into boot_info's: type folding, sorting, merging, the firmware's larger
 * descriptor stride, the BOOT_MMAP_MAX cap, broken descriptors, RAM top.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/mmap.h"

#define STRIDE 48 /* what OVMF reports: larger than the 40-byte struct */
#define MAXD 64
#define P 4096ULL

static unsigned char map[MAXD * STRIDE];
static size_t nd;

static void add(uint32_t type, uint64_t base, uint64_t pages)
{
	struct mmap_efi_desc d = { .type = type, .phys_start = base,
				   .pages = pages };

	assert_true(nd < MAXD);
	memset(map + nd * STRIDE, 0xEE, STRIDE); /* padding is not read */
	memcpy(map + nd * STRIDE, &d, sizeof(d));
	nd++;
}

static int reset(void **state)
{
	(void)state;
	nd = 0;
	return 0;
}

static void expect(const struct boot_mmap_entry *e, uint64_t base,
		   uint64_t length, uint32_t type)
{
	assert_int_equal(e->base, base);
	assert_int_equal(e->length, length);
	assert_int_equal(e->type, type);
}

static void test_type_folding(void **state)
{
	static const struct {
		uint32_t efi, boot;
	} t[] = {
		{ MMAP_EFI_CONVENTIONAL, BOOT_MEM_USABLE },
		{ MMAP_EFI_LOADER_CODE, BOOT_MEM_RECLAIMABLE },
		{ MMAP_EFI_LOADER_DATA, BOOT_MEM_RECLAIMABLE },
		{ MMAP_EFI_BS_CODE, BOOT_MEM_RECLAIMABLE },
		{ MMAP_EFI_BS_DATA, BOOT_MEM_RECLAIMABLE },
		{ MMAP_EFI_RT_CODE, BOOT_MEM_RESERVED },
		{ MMAP_EFI_RT_DATA, BOOT_MEM_RESERVED },
		{ MMAP_EFI_RESERVED, BOOT_MEM_RESERVED },
		{ MMAP_EFI_UNUSABLE, BOOT_MEM_BAD },
		{ MMAP_EFI_ACPI_RECLAIM, BOOT_MEM_ACPI_RECLAIM },
		{ MMAP_EFI_ACPI_NVS, BOOT_MEM_ACPI_NVS },
		{ MMAP_EFI_MMIO, BOOT_MEM_RESERVED },
		{ MMAP_EFI_MMIO_PORT, BOOT_MEM_RESERVED },
		{ MMAP_EFI_PAL_CODE, BOOT_MEM_RESERVED },
		{ MMAP_EFI_PERSISTENT, BOOT_MEM_RESERVED },
		{ MMAP_EFI_UNACCEPTED, BOOT_MEM_RESERVED },
		{ MMAP_EFI_KERNEL, BOOT_MEM_KERNEL },
		{ MMAP_EFI_MODULE, BOOT_MEM_MODULE },
		{ MMAP_EFI_BOOTINFO, BOOT_MEM_BOOTINFO },
		{ 0x70000000, BOOT_MEM_RESERVED }, /* OEM type */
		{ 0x80000003, BOOT_MEM_RESERVED }, /* an OS type not ours */
		{ 99, BOOT_MEM_RESERVED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(mmap_boot_type(t[i].efi), t[i].boot);
}

/* Unsorted input with runs that merge once folded (loader + boot services
 * data are both reclaimable) and runs that touch but differ in type. */
static void test_sort_and_merge(void **state)
{
	struct boot_mmap_entry out[16];
	unsigned dropped = 99, n;

	(void)state;
	add(MMAP_EFI_CONVENTIONAL, 0x100000, 0x100);	 /* 1M..2M */
	add(MMAP_EFI_BS_DATA, 0x300000, 0x10);		 /* 3M.. */
	add(MMAP_EFI_CONVENTIONAL, 0, 0xA0);		 /* 0..640K */
	add(MMAP_EFI_LOADER_DATA, 0x200000, 0x100);	 /* 2M..3M */
	add(MMAP_EFI_RESERVED, 0xA0000, 0x60);		 /* 640K..1M */
	add(MMAP_EFI_KERNEL, 0x400000, 0x200);		 /* 4M..6M */
	add(MMAP_EFI_BS_CODE, 0x310000, 0xF0);		 /* ..4M */
	add(MMAP_EFI_MMIO, 0xFEC00000, 1);
	n = mmap_translate(map, nd * STRIDE, STRIDE, out, 16, &dropped);
	assert_int_equal(dropped, 0);
	assert_int_equal(n, 6);
	expect(&out[0], 0, 0xA0000, BOOT_MEM_USABLE);
	expect(&out[1], 0xA0000, 0x60000, BOOT_MEM_RESERVED);
	expect(&out[2], 0x100000, 0x100000, BOOT_MEM_USABLE);
	expect(&out[3], 0x200000, 0x200000, BOOT_MEM_RECLAIMABLE);
	expect(&out[4], 0x400000, 0x200000, BOOT_MEM_KERNEL);
	expect(&out[5], 0xFEC00000, P, BOOT_MEM_RESERVED);
}

/* A gap keeps two runs of one type apart; an entry filling the gap from
 * between them joins all three into one. */
static void test_merge_fills_gap(void **state)
{
	struct boot_mmap_entry out[8];
	unsigned dropped, n;

	(void)state;
	add(MMAP_EFI_CONVENTIONAL, 0x0, 1);
	add(MMAP_EFI_CONVENTIONAL, 0x2000, 1);
	n = mmap_translate(map, nd * STRIDE, STRIDE, out, 8, &dropped);
	assert_int_equal(n, 2);
	add(MMAP_EFI_CONVENTIONAL, 0x1000, 1);
	n = mmap_translate(map, nd * STRIDE, STRIDE, out, 8, &dropped);
	assert_int_equal(n, 1);
	expect(&out[0], 0, 3 * P, BOOT_MEM_USABLE);
}

/* Past the cap, entries that cannot merge are left out and counted; the
 * array is never overrun (ASan) and stays sorted. */
static void test_cap(void **state)
{
	struct boot_mmap_entry *out = malloc(4 * sizeof(*out));
	unsigned dropped, n;

	(void)state;
	for (unsigned i = 0; i < 10; i++) /* alternating types: no merging */
		add(i % 2 ? MMAP_EFI_RESERVED : MMAP_EFI_CONVENTIONAL,
		    (uint64_t)i * P, 1);
	add(MMAP_EFI_CONVENTIONAL, 0x100000, 1); /* 11th: dropped too */
	n = mmap_translate(map, nd * STRIDE, STRIDE, out, 4, &dropped);
	assert_int_equal(n, 4);
	assert_int_equal(dropped, 7);
	for (unsigned i = 1; i < n; i++)
		assert_true(out[i - 1].base < out[i].base);
	/* An entry that merges still gets in when the array is full. */
	nd = 0;
	for (unsigned i = 0; i < 4; i++)
		add(i % 2 ? MMAP_EFI_RESERVED : MMAP_EFI_CONVENTIONAL,
		    (uint64_t)i * P, 1);
	add(MMAP_EFI_RESERVED, 4 * P, 1);
	n = mmap_translate(map, nd * STRIDE, STRIDE, out, 4, &dropped);
	assert_int_equal(n, 4);
	assert_int_equal(dropped, 0);
	expect(&out[3], 3 * P, 2 * P, BOOT_MEM_RESERVED);
	free(out);
}

/* Zero-length, unaligned and wrapping descriptors are skipped; a partial
 * descriptor at the end of the buffer and a too-small stride are ignored. */
static void test_broken_descriptors(void **state)
{
	struct boot_mmap_entry out[8];
	unsigned dropped, n;

	(void)state;
	add(MMAP_EFI_CONVENTIONAL, 0x1000, 0);
	add(MMAP_EFI_CONVENTIONAL, 0x1234, 1);
	add(MMAP_EFI_CONVENTIONAL, 0xFFFFFFFFFFFFF000ULL, 2);
	add(MMAP_EFI_CONVENTIONAL, 0x10000, 0x10000000000000ULL); /* 2^64 bytes */
	add(MMAP_EFI_CONVENTIONAL, 0x200000, 1);
	n = mmap_translate(map, nd * STRIDE - 1, STRIDE, out, 8, &dropped);
	assert_int_equal(n, 0); /* the good one was in the cut-off descriptor */
	n = mmap_translate(map, nd * STRIDE, STRIDE, out, 8, &dropped);
	assert_int_equal(n, 1);
	expect(&out[0], 0x200000, P, BOOT_MEM_USABLE);
	assert_int_equal(mmap_translate(map, nd * STRIDE, 8, out, 8, &dropped), 0);
	assert_int_equal(mmap_translate(map, nd * STRIDE, 0, out, 8, &dropped), 0);
	assert_int_equal(mmap_ram_top(map, nd * STRIDE, 0), 0);
}

/* The top counts every RAM-backed type, not MMIO, I/O space or reserved. */
static void test_ram_top(void **state)
{
	(void)state;
	add(MMAP_EFI_CONVENTIONAL, 0x100000, 0x100);
	add(MMAP_EFI_MMIO, 0xFFFFFFFF000ULL, 1);
	add(MMAP_EFI_RESERVED, 0xFD00000000ULL, 0x100);
	add(MMAP_EFI_MMIO_PORT, 0xFFFFF000000ULL, 1);
	assert_int_equal(mmap_ram_top(map, nd * STRIDE, STRIDE), 0x200000);
	add(MMAP_EFI_ACPI_NVS, 0x7F000000, 0x10);
	assert_int_equal(mmap_ram_top(map, nd * STRIDE, STRIDE), 0x7F010000);
	add(MMAP_EFI_RT_DATA, 0x180000000ULL, 0x100);
	assert_int_equal(mmap_ram_top(map, nd * STRIDE, STRIDE),
			 0x180100000ULL);
	add(MMAP_EFI_PERSISTENT, 0x200000000ULL, 0x40000);
	assert_int_equal(mmap_ram_top(map, nd * STRIDE, STRIDE),
			 0x240000000ULL);
}

/* Many random descriptors: output sorted, no two neighbours mergeable,
 * every byte of the input accounted for once. */
static void test_random_maps(void **state)
{
	struct boot_mmap_entry out[MAXD];
	static const uint32_t types[] = { MMAP_EFI_CONVENTIONAL,
					  MMAP_EFI_BS_DATA, MMAP_EFI_LOADER_DATA,
					  MMAP_EFI_RESERVED, MMAP_EFI_MODULE };

	(void)state;
	srand(42);
	for (int round = 0; round < 500; round++) {
		uint64_t base = 0, total = 0, sum = 0;
		unsigned dropped, n;

		nd = 0;
		for (unsigned i = 0; i < MAXD; i++) {
			uint64_t pages = 1 + rand() % 8;

			base += (rand() % 4 == 0) ? P : 0; /* holes */
			add(types[rand() % 5], base, pages);
			base += pages * P;
			total += pages * P;
		}
		/* Shuffle the descriptors. */
		for (unsigned i = MAXD - 1; i > 0; i--) {
			unsigned j = rand() % (i + 1);
			unsigned char tmp[STRIDE];

			memcpy(tmp, map + i * STRIDE, STRIDE);
			memcpy(map + i * STRIDE, map + j * STRIDE, STRIDE);
			memcpy(map + j * STRIDE, tmp, STRIDE);
		}
		n = mmap_translate(map, nd * STRIDE, STRIDE, out, MAXD, &dropped);
		assert_int_equal(dropped, 0);
		for (unsigned i = 0; i < n; i++) {
			sum += out[i].length;
			if (i == 0)
				continue;
			assert_true(out[i - 1].base + out[i - 1].length <=
				    out[i].base);
			assert_false(out[i - 1].type == out[i].type &&
				     out[i - 1].base + out[i - 1].length ==
					     out[i].base);
		}
		assert_int_equal(sum, total);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_type_folding, reset),
		cmocka_unit_test_setup(test_sort_and_merge, reset),
		cmocka_unit_test_setup(test_merge_fills_gap, reset),
		cmocka_unit_test_setup(test_cap, reset),
		cmocka_unit_test_setup(test_broken_descriptors, reset),
		cmocka_unit_test_setup(test_ram_top, reset),
		cmocka_unit_test_setup(test_random_maps, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
