/*
 * test_boot_elf.c - unit tests of boot/elf.c, the loader's check and load of
 * the kernel ELF: a well-formed image loads byte for byte with its bss
 * zeroed; every malformed, truncated or overflowing field is refused with a
 * reason; random corruption never reads outside the file (ASan run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot_info.h"
#include "boot/elf.h"
#include "kernel/err.h"

#define PAGE 4096u
#define HDR_OFF 0x1000u	 /* file offset of segment 0 (kernel_header) */
#define SEG1_OFF 0x3000u /* file offset of segment 1 (data) */
#define FILE_SIZE 0x4000u
#define IMAGE_END (KERNEL_LINK_BASE + 0x10000)

/* Field offsets of the ELF64 header and program header (gABI). */
#define E_TYPE 16
#define E_MACHINE 18
#define E_PHOFF 32
#define E_PHENTSIZE 54
#define E_PHNUM 56
#define PH_SIZE 56
#define P_TYPE 0
#define P_OFFSET 8
#define P_VADDR 16
#define P_FILESZ 32
#define P_MEMSZ 40

static unsigned char *img;

static void put16(size_t off, uint16_t v) { memcpy(img + off, &v, 2); }
static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, 4); }
static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, 8); }

static size_t ph(unsigned i, unsigned field) { return 64 + i * PH_SIZE + field; }

/*
 * A valid kernel: three program headers (PT_LOAD text with the header,
 * a PT_NOTE, PT_LOAD data+bss at +0x8000), entry64 at +0x100.
 */
static void make_image(void)
{
	struct kernel_header kh = {
		.magic = { 'K', 'E', 'E', 'L', 'K', 'R', 'N', 'L' },
		.version = KERNEL_HEADER_VERSION,
		.size = sizeof(kh),
		.entry64 = KERNEL_LINK_BASE + 0x100,
		.image_start = KERNEL_LINK_BASE,
		.image_end = IMAGE_END,
	};

	memset(img, 0, FILE_SIZE);
	memcpy(img, "\177ELF", 4);
	img[4] = 2; /* ELFCLASS64 */
	img[5] = 1; /* ELFDATA2LSB */
	img[6] = 1;
	put16(E_TYPE, 2);     /* ET_EXEC */
	put16(E_MACHINE, 62); /* EM_X86_64 */
	put32(20, 1);
	put64(24, 0x200000); /* e_entry: the Multiboot2 entry, not used */
	put64(E_PHOFF, 64);
	put16(52, 64);
	put16(E_PHENTSIZE, PH_SIZE);
	put16(E_PHNUM, 3);

	put32(ph(0, P_TYPE), 1);
	put64(ph(0, P_OFFSET), HDR_OFF);
	put64(ph(0, P_VADDR), KERNEL_LINK_BASE);
	put64(ph(0, P_FILESZ), 0x2000);
	put64(ph(0, P_MEMSZ), 0x2000);

	put32(ph(1, P_TYPE), 4); /* PT_NOTE: ignored, even out of range */
	put64(ph(1, P_OFFSET), 0xFFFFFFFFFFFF0000ULL);
	put64(ph(1, P_FILESZ), 0x100);

	put32(ph(2, P_TYPE), 1);
	put64(ph(2, P_OFFSET), SEG1_OFF);
	put64(ph(2, P_VADDR), KERNEL_LINK_BASE + 0x8000);
	put64(ph(2, P_FILESZ), 0x800);
	put64(ph(2, P_MEMSZ), 0x8000); /* bss up to image_end */

	memcpy(img + HDR_OFF, &kh, sizeof(kh));
	for (unsigned i = sizeof(kh); i < 0x2000; i++)
		img[HDR_OFF + i] = (unsigned char)(i * 7 + 1);
	for (unsigned i = 0; i < 0x800; i++)
		img[SEG1_OFF + i] = (unsigned char)(0xA5 ^ i);
}

static int setup(void **state)
{
	(void)state;
	img = malloc(FILE_SIZE);
	make_image();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(img);
	return 0;
}

static int check(size_t size, const char **why)
{
	struct elf_kernel k;

	*why = NULL;
	return elf_check_kernel(img, size, &k, why);
}

/* The image must be refused with this error and a reason naming it. */
static void expect_bad(int err, const char *reason)
{
	const char *why;

	assert_int_equal(check(FILE_SIZE, &why), err);
	assert_non_null(why);
	assert_non_null(strstr(why, reason));
	make_image();
}

static void test_valid_image(void **state)
{
	struct elf_kernel k;
	const char *why;

	(void)state;
	assert_int_equal(elf_check_kernel(img, FILE_SIZE, &k, &why), 0);
	assert_int_equal(k.image_start, KERNEL_LINK_BASE);
	assert_int_equal(k.image_end, IMAGE_END);
	assert_int_equal(k.entry64, KERNEL_LINK_BASE + 0x100);
}

static void test_load_copies_and_zeroes(void **state)
{
	struct elf_kernel k;
	const char *why;
	size_t size = IMAGE_END - KERNEL_LINK_BASE;
	unsigned char *dest = malloc(size);

	(void)state;
	memset(dest, 0xCC, size); /* garbage the loader must clear */
	assert_int_equal(elf_check_kernel(img, FILE_SIZE, &k, &why), 0);
	elf_load_kernel(img, &k, dest);
	assert_memory_equal(dest, img + HDR_OFF, 0x2000);
	for (size_t i = 0x2000; i < 0x8000; i++) /* gap between segments */
		assert_int_equal(dest[i], 0);
	assert_memory_equal(dest + 0x8000, img + SEG1_OFF, 0x800);
	for (size_t i = 0x8800; i < size; i++) /* bss */
		assert_int_equal(dest[i], 0);
	free(dest);
}

/* Segment order in the file does not matter: the lowest p_vaddr holds the
 * kernel header. */
static void test_lowest_segment_need_not_be_first(void **state)
{
	unsigned char tmp[PH_SIZE];
	struct elf_kernel k;
	const char *why;

	(void)state;
	memcpy(tmp, img + ph(0, 0), PH_SIZE);
	memcpy(img + ph(0, 0), img + ph(2, 0), PH_SIZE);
	memcpy(img + ph(2, 0), tmp, PH_SIZE);
	assert_int_equal(elf_check_kernel(img, FILE_SIZE, &k, &why), 0);
	assert_int_equal(k.entry64, KERNEL_LINK_BASE + 0x100);
}

static void test_bad_identity(void **state)
{
	(void)state;
	img[1] = 'X';
	expect_bad(KEEL_EINVAL, "not an ELF");
	img[4] = 1; /* ELFCLASS32 */
	expect_bad(KEEL_EINVAL, "ELF64");
	img[5] = 2; /* big-endian */
	expect_bad(KEEL_EINVAL, "little-endian");
	put16(E_MACHINE, 3); /* i386 */
	expect_bad(KEEL_EINVAL, "x86-64");
	put16(E_TYPE, 3); /* ET_DYN */
	expect_bad(KEEL_EINVAL, "ET_EXEC");
}

static void test_bad_program_headers(void **state)
{
	(void)state;
	put16(E_PHNUM, 0);
	expect_bad(KEEL_ECORRUPT, "program headers");
	put16(E_PHENTSIZE, 32);
	expect_bad(KEEL_ECORRUPT, "program headers");
	put64(E_PHOFF, FILE_SIZE - PH_SIZE); /* last two headers past the end */
	expect_bad(KEEL_ECORRUPT, "outside the file");
	put64(E_PHOFF, 0xFFFFFFFFFFFFFFF0ULL); /* would wrap when added */
	expect_bad(KEEL_ECORRUPT, "outside the file");
	put16(E_PHNUM, 0xFFFF);
	expect_bad(KEEL_ECORRUPT, "outside the file");
	put32(ph(0, P_TYPE), 6); /* PT_PHDR: now only one PT_LOAD, no header */
	put32(ph(2, P_TYPE), 6);
	expect_bad(KEEL_EINVAL, "no PT_LOAD");
}

static void test_bad_segments(void **state)
{
	(void)state;
	put64(ph(2, P_FILESZ), 0x9000); /* above memsz */
	expect_bad(KEEL_ECORRUPT, "file size above memory size");
	put64(ph(2, P_OFFSET), FILE_SIZE - 0x100); /* runs off the file */
	expect_bad(KEEL_ECORRUPT, "outside the file");
	put64(ph(2, P_OFFSET), 0xFFFFFFFFFFFFF000ULL); /* offset + size wraps */
	expect_bad(KEEL_ECORRUPT, "outside the file");
	put64(ph(2, P_VADDR), 0xFFFFFFFFFFFFF000ULL); /* vaddr + memsz wraps */
	expect_bad(KEEL_ECORRUPT, "wraps");
	put64(ph(2, P_MEMSZ), 0x8001); /* one byte past image_end */
	expect_bad(KEEL_ERANGE, "outside [image_start, image_end)");
	/* Below image_start, so the lowest segment, with a header copy. */
	put64(ph(2, P_VADDR), KERNEL_LINK_BASE - 0x200000);
	memcpy(img + SEG1_OFF, img + HDR_OFF, sizeof(struct kernel_header));
	expect_bad(KEEL_EINVAL, "KERNEL_LINK_BASE");
}

static void test_bad_kernel_header(void **state)
{
	struct kernel_header kh;

	(void)state;
	img[HDR_OFF] = 'X';
	expect_bad(KEEL_EINVAL, "KEELKRNL");
	put32(HDR_OFF + 8, 2);
	expect_bad(KEEL_ENOTSUP, "version");
	put32(HDR_OFF + 12, 8);
	expect_bad(KEEL_ECORRUPT, "header size");
	put32(HDR_OFF + 12, 0x100000); /* beyond the segment */
	expect_bad(KEEL_ECORRUPT, "header size");
	put64(ph(0, P_FILESZ), sizeof(kh) - 1);
	expect_bad(KEEL_EINVAL, "too small");

	put64(HDR_OFF + offsetof(struct kernel_header, entry64), IMAGE_END);
	expect_bad(KEEL_ERANGE, "entry64");
	put64(HDR_OFF + offsetof(struct kernel_header, entry64),
	      KERNEL_LINK_BASE - 1);
	expect_bad(KEEL_ERANGE, "entry64");
	put64(HDR_OFF + offsetof(struct kernel_header, image_end), IMAGE_END + 1);
	expect_bad(KEEL_ERANGE, "image_end");
	put64(HDR_OFF + offsetof(struct kernel_header, image_end),
	      KERNEL_LINK_BASE);
	expect_bad(KEEL_ERANGE, "image_end");
	put64(HDR_OFF + offsetof(struct kernel_header, image_end),
	      KERNEL_LINK_BASE + ELF_KERNEL_MAX_IMAGE + PAGE);
	expect_bad(KEEL_ERANGE, "image_end");
	put64(HDR_OFF + offsetof(struct kernel_header, image_start),
	      KERNEL_LINK_BASE + 0x200000);
	expect_bad(KEEL_EINVAL, "KERNEL_LINK_BASE");
}

/* Every prefix of the file that cuts a segment is refused (ASan checks that
 * nothing past it is read); the file is complete at the end of segment 1. */
static void test_truncated(void **state)
{
	const char *why;
	size_t full = SEG1_OFF + 0x800;
	struct elf_kernel k;

	(void)state;
	assert_int_equal(elf_check_kernel(img, full, &k, &why), 0);
	for (size_t n = 0; n < full; n += (n < 256 ? 1 : 61)) {
		unsigned char *copy = malloc(n ? n : 1);

		memcpy(copy, img, n);
		assert_int_not_equal(elf_check_kernel(copy, n, &k, &why), 0);
		assert_non_null(why);
		free(copy);
	}
}

/* Random corruption: whatever is accepted must describe a loadable image. */
static void test_corruption_never_escapes(void **state)
{
	size_t size = IMAGE_END - KERNEL_LINK_BASE;
	unsigned char *dest = malloc(size);
	unsigned accepted = 0;

	(void)state;
	srand(1234);
	for (int round = 0; round < 3000; round++) {
		struct elf_kernel k;
		const char *why;

		make_image();
		for (int flips = 1 + rand() % 4; flips > 0; flips--) {
			/* Mostly the headers, where the bounds live. */
			size_t off = rand() % 2 ? (size_t)(rand() % (64 + 3 * PH_SIZE))
						: HDR_OFF + (size_t)(rand() % 48);
			img[off] = (unsigned char)rand();
		}
		if (elf_check_kernel(img, FILE_SIZE, &k, &why) != 0)
			continue;
		accepted++;
		assert_true(k.image_start == KERNEL_LINK_BASE);
		assert_true(k.image_end > k.image_start);
		assert_true(k.image_end - k.image_start <= ELF_KERNEL_MAX_IMAGE);
		if (k.image_end - k.image_start <= size)
			elf_load_kernel(img, &k, dest);
	}
	assert_true(accepted > 0); /* some flips hit don't-care bytes */
	free(dest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_copies_and_zeroes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lowest_segment_need_not_be_first,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_program_headers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_kernel_header, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corruption_never_escapes, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
