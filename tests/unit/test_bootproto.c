/*
 * test_bootproto.c - direct kernel boot (kernel/virt/linux.c, multiboot.c):
 * the e820 map, the bzImage checks and the zero page (boot.rst,
 * zero-page.rst), initrd placement, the Multiboot header, load plan, module
 * placement and info structure (Multiboot 0.6.96), on synthetic images and,
 * when one is on the machine, a real Debian kernel.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/err.h"
#include "kernel/virt/boot_proto.h"
#include "kernel/virt/virt_internal.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

/* Multiboot 0.6.96, 3.3: the info structure's offsets. */
_Static_assert(offsetof(struct mb_info, cmdline) == 16, "mb cmdline");
_Static_assert(offsetof(struct mb_info, mods_count) == 20, "mb mods_count");
_Static_assert(offsetof(struct mb_info, mmap_length) == 44, "mb mmap_length");
_Static_assert(offsetof(struct mb_info, mmap_addr) == 48, "mb mmap_addr");
_Static_assert(offsetof(struct mb_info, boot_loader_name) == 64, "mb name");
_Static_assert(offsetof(struct mb_info, framebuffer_addr) == 88, "mb fb");
_Static_assert(sizeof(struct mb_info) == 116, "mb info size");
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "mb mmap entry");
_Static_assert(sizeof(struct boot_e820_entry) == 20, "e820 entry");

static uint16_t rd16(const uint8_t *b, size_t off)
{
	uint16_t v;
	memcpy(&v, b + off, 2);
	return v;
}

static uint32_t rd32(const uint8_t *b, size_t off)
{
	uint32_t v;
	memcpy(&v, b + off, 4);
	return v;
}

static uint64_t rd64(const uint8_t *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

static void assert_why(const char *why, const char *part)
{
	if (!why || !strstr(why, part))
		fail_msg("why \"%s\" does not mention \"%s\"", why ? why : "(null)",
			 part);
}

/* ---------------------------------------------------------------- e820 -- */

/* Sorted by address, no overlaps, no empty entries. */
static void assert_map_sane(const struct boot_e820_entry *m, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		assert_true(m[i].size > 0);
		if (i)
			assert_true(m[i - 1].addr + m[i - 1].size <= m[i].addr);
	}
}

static void test_e820_512m(void **state)
{
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n = boot_e820_build(512 * MIB, 0, m, BOOT_E820_MAX);
	const struct boot_e820_entry want[] = {
		{0, 0x9FC00, E820_RAM},
		{0x9FC00, 0x400, E820_RESERVED},
		{0xE0000, 0x20000, E820_RESERVED},
		{0x100000, 511 * MIB, E820_RAM},
		{0xFEC00000, 0x1000, E820_RESERVED},
		{0xFEE00000, 0x1000, E820_RESERVED},
	};

	assert_int_equal(n, 6);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(m[i].addr, want[i].addr);
		assert_int_equal(m[i].size, want[i].size);
		assert_int_equal(m[i].type, want[i].type);
	}
	assert_map_sane(m, n);
	assert_true(boot_e820_usable(m, n, 0x100000, 511 * MIB));
	assert_false(boot_e820_usable(m, n, 0x100000, 511 * MIB + 1));
	assert_false(boot_e820_usable(m, n, 0x9F000, 0x2000)); /* into EBDA */
	assert_false(boot_e820_usable(m, n, 0xE0000, 16));	 /* ACPI */
	assert_false(boot_e820_usable(m, n, 0xFFFFFFFFFFFFF000ULL, 0x2000));
}

static void test_e820_6g(void **state)
{
	struct boot_e820_entry m[BOOT_E820_MAX];
	/* load.c: low RAM up to 3 GiB, the rest above 4 GiB. */
	unsigned n = boot_e820_build(3 * GIB, 3 * GIB, m, BOOT_E820_MAX);

	assert_int_equal(n, 7);
	assert_map_sane(m, n);
	assert_int_equal(m[3].addr, 0x100000);
	assert_int_equal(m[3].size, 3 * GIB - MIB);
	assert_int_equal(m[6].addr, 4 * GIB);
	assert_int_equal(m[6].size, 3 * GIB);
	assert_int_equal(m[6].type, E820_RAM);
	uint64_t usable = 0;
	for (unsigned i = 0; i < n; i++)
		if (m[i].type == E820_RAM)
			usable += m[i].size;
	assert_int_equal(usable, 6 * GIB - (0x100000 - 0x9FC00));
	/* A short array: entries past it are dropped, never written. */
	assert_int_equal(boot_e820_build(3 * GIB, 3 * GIB, m, 2), 2);
}

static void test_e820_fit(void **state)
{
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n = boot_e820_build(64 * MIB, 0, m, BOOT_E820_MAX);
	uint64_t a;

	assert_int_equal(boot_e820_fit(m, n, 0x9F001, 0x1000, 0x1000, BOOT_4G, &a),
			 0);
	assert_int_equal(a, 0x100000); /* past the hole below 1 MiB */
	assert_int_equal(boot_e820_fit(m, n, 0x200001, 10, 0x1000, BOOT_4G, &a), 0);
	assert_int_equal(a, 0x201000);
	assert_int_equal(boot_e820_fit(m, n, 0x100000, 64 * MIB, 0x1000,
				       BOOT_4G, &a), KEEL_ENOMEM);
	assert_int_equal(boot_e820_fit(m, n, 0x100000, 63 * MIB, 0x1000,
				       BOOT_4G, &a), 0);
	assert_int_equal(boot_e820_fit(m, n, 0x100000, 32 * MIB, 0x1000,
				       16 * MIB, &a), KEEL_ENOMEM);
}

/* --------------------------------------------------------------- Linux -- */

#define BZ_SETUP_SECTS 4
#define BZ_SETUP_SIZE ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_KERNEL 0x10000
#define BZ_SIZE (BZ_SETUP_SIZE + BZ_KERNEL)
#define BZ_PREF 0x1000000ULL
#define BZ_INIT_SIZE 0x800000u

/* A bzImage's setup header as a 6.1 kernel has it (protocol 2.15). */
static size_t make_bzimage(uint8_t *b)
{
	memset(b, 0, BZ_SIZE);
	b[LINUX_HDR_SETUP_SECTS] = BZ_SETUP_SECTS;
	put16(b, LINUX_HDR_BOOT_FLAG, 0xAA55);
	b[0x200] = 0xEB; /* jmp short: the header ends at 0x202 + 0x6A */
	b[0x201] = 0x6A;
	memcpy(b + LINUX_HDR_MAGIC, "HdrS", 4);
	put16(b, LINUX_HDR_VERSION, 0x020F);
	b[LINUX_HDR_LOADFLAGS] = LINUX_LOADED_HIGH | LINUX_CAN_USE_HEAP |
				 LINUX_QUIET;
	put32(b, LINUX_HDR_INITRD_ADDR_MAX, 0x7FFFFFFF);
	put32(b, LINUX_HDR_KERNEL_ALIGNMENT, 0x200000);
	b[LINUX_HDR_RELOCATABLE] = 1;
	put16(b, LINUX_HDR_XLOADFLAGS, 0x7F);
	put32(b, LINUX_HDR_CMDLINE_SIZE, 2047);
	put64(b, LINUX_HDR_SETUP_DATA, 0x12345000); /* never passed on */
	put64(b, LINUX_HDR_PREF_ADDRESS, BZ_PREF);
	put32(b, LINUX_HDR_INIT_SIZE, BZ_INIT_SIZE);
	for (size_t i = BZ_SETUP_SIZE; i < BZ_SIZE; i++)
		b[i] = (uint8_t)(i * 7);
	return BZ_SIZE;
}

static void test_bz_good(void **state)
{
	uint8_t *b = malloc(BZ_SIZE);
	struct linux_image li;
	const char *why = NULL;

	make_bzimage(b);
	assert_int_equal(linux_image_check(b, BZ_SIZE, &li, &why), 0);
	assert_int_equal(li.version, 0x020F);
	assert_int_equal(li.setup_size, BZ_SETUP_SIZE);
	assert_int_equal(li.kernel_size, BZ_KERNEL);
	assert_int_equal(li.hdr_end, 0x26C);
	assert_int_equal(li.pref_address, BZ_PREF);
	assert_int_equal(li.init_size, BZ_INIT_SIZE);
	assert_int_equal(li.cmdline_size, 2047);
	assert_int_equal(li.initrd_addr_max, 0x7FFFFFFF);
	/* setup_sects 0 means 4 (boot.rst). */
	b[LINUX_HDR_SETUP_SECTS] = 0;
	assert_int_equal(linux_image_check(b, BZ_SIZE, &li, &why), 0);
	assert_int_equal(li.setup_size, 5 * 512);
	b[LINUX_HDR_SETUP_SECTS] = 1;
	assert_int_equal(linux_image_check(b, BZ_SIZE, &li, &why), 0);
	assert_int_equal(li.setup_size, 1024);
	assert_int_equal(li.kernel_size, BZ_SIZE - 1024);
	free(b);
}

/* One field of a good image changed (width bytes at off, or the file cut
 * to cut bytes): refused, with a why that names the problem. */
struct bz_bad {
	size_t off;
	unsigned width; /* 1, 2, 4, 8; 0: cut the file instead */
	uint64_t value;
	size_t cut;
	const char *part;
};

static const struct bz_bad bz_bad_cases[] = {
	{LINUX_HDR_MAGIC + 3, 1, 'T', 0, "HdrS"},
	{LINUX_HDR_BOOT_FLAG, 2, 0x55AA, 0, "0xAA55"},
	{LINUX_HDR_VERSION, 2, 0x020B, 0, "2.12"},
	{LINUX_HDR_XLOADFLAGS, 2, 0x7E, 0, "XLF_KERNEL_64"},
	{LINUX_HDR_RELOCATABLE, 1, 0, 0, "relocatable"},
	{LINUX_HDR_LOADFLAGS, 1, 0, 0, "LOADED_HIGH"},
	{0, 0, 0, 0x250, "setup header"},	   /* truncated header */
	{0, 0, 0, BZ_SETUP_SIZE, "setup_sects"}, /* no kernel after setup */
	{LINUX_HDR_SETUP_SECTS, 1, 255, 0, "setup_sects"},
	{LINUX_HDR_KERNEL_ALIGNMENT, 4, 0x300000, 0, "kernel_alignment"},
	{LINUX_HDR_PREF_ADDRESS, 8, BZ_PREF + 0x1000, 0, "pref_address"},
	{LINUX_HDR_PREF_ADDRESS, 8, 0, 0, "pref_address"},
	{LINUX_HDR_INIT_SIZE, 4, BZ_KERNEL - 1, 0, "init_size"},
	{0x201, 1, 0x40, 0, "0x201"}, /* the header would end at 0x242 */
};

static void test_bz_refused(void **state)
{
	uint8_t *b = malloc(BZ_SIZE);

	for (size_t i = 0; i < sizeof(bz_bad_cases) / sizeof(bz_bad_cases[0]);
	     i++) {
		const struct bz_bad *c = &bz_bad_cases[i];
		size_t size = make_bzimage(b);
		struct linux_image li;
		const char *why = NULL;

		if (c->width)
			memcpy(b + c->off, &c->value, c->width);
		else
			size = c->cut;
		assert_int_equal(linux_image_check(b, size, &li, &why),
				 KEEL_EINVAL);
		assert_why(why, c->part);
	}
	free(b);
}

/* Every truncation is refused or accepted without reading past the end. */
static void test_bz_truncations(void **state)
{
	uint8_t *b = malloc(BZ_SIZE);
	struct linux_image li;
	const char *why;

	make_bzimage(b);
	for (size_t len = 0; len < BZ_SIZE; len += 37) {
		uint8_t *cut = malloc(len ? len : 1);
		memcpy(cut, b, len);
		int err = linux_image_check(cut, len, &li, &why);
		if (len <= BZ_SETUP_SIZE) {
			assert_int_equal(err, KEEL_EINVAL);
		} else {
			assert_int_equal(err, 0);
			assert_int_equal(li.kernel_size, len - BZ_SETUP_SIZE);
		}
		free(cut);
	}
	free(b);
}

static void test_bz_boot_params(void **state)
{
	uint8_t *b = malloc(BZ_SIZE), zp[4096];
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n = boot_e820_build(512 * MIB, 0, m, BOOT_E820_MAX);
	const char *cmd = "console=ttyS0 root=/dev/ram0";
	struct linux_image li;
	struct linux_layout lay;
	const char *why = NULL;

	make_bzimage(b);
	assert_int_equal(linux_image_check(b, BZ_SIZE, &li, &why), 0);
	assert_int_equal(linux_layout_plan(&li, m, n, 4 * MIB + 100, strlen(cmd),
					   &lay, &why), 0);
	assert_int_equal(lay.kernel, BZ_PREF);
	assert_int_equal(lay.entry, BZ_PREF + 0x200);
	assert_int_equal(lay.cmdline, BOOT_CMDLINE);
	assert_int_equal(lay.boot_params, BOOT_ZERO_PAGE);
	/* As high as possible: the top of RAM (512 MiB < initrd_addr_max). */
	assert_int_equal(lay.initrd, (512 * MIB - (4 * MIB + 100)) & ~0xFFFULL);
	assert_int_equal(lay.initrd_size, 4 * MIB + 100);

	memset(zp, 0xCC, sizeof(zp));
	linux_boot_params_build(zp, b, &li, &lay, m, n, 0xE0040);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(rd16(zp, 0x206), 0x020F);
	assert_int_equal(zp[0x1F1], BZ_SETUP_SECTS);
	assert_int_equal(rd32(zp, 0x260), BZ_INIT_SIZE);
	assert_int_equal(zp[0x210], 0xFF);		/* type_of_loader */
	assert_int_equal(zp[0x211], LINUX_LOADED_HIGH); /* no heap, not quiet */
	assert_int_equal(rd64(zp, 0x250), 0);		/* setup_data */
	assert_int_equal(rd32(zp, 0x228), BOOT_CMDLINE);
	assert_int_equal(rd32(zp, 0x0C8), 0);
	assert_int_equal(rd32(zp, 0x218), lay.initrd);
	assert_int_equal(rd32(zp, 0x21C), 4 * MIB + 100);
	assert_int_equal(rd32(zp, 0x0C0), 0);
	assert_int_equal(rd32(zp, 0x0C4), 0);
	assert_int_equal(rd64(zp, 0x070), 0xE0040);	/* acpi_rsdp_addr */
	assert_int_equal(zp[0x1E8], 6);			/* e820_entries */
	assert_memory_equal(zp + 0x2D0, m, 6 * 20);
	assert_int_equal(rd64(zp, 0x2D0 + 3 * 20), 0x100000);
	assert_int_equal(rd32(zp, 0x2D0 + 3 * 20 + 16), 1);
	/* Nothing else: screen_info zero (orig_video_isVGA 0), past the
	 * header and the table zero, the sentinel 0. */
	for (size_t i = 0; i < 0x40; i++)
		assert_int_equal(zp[i], 0);
	assert_int_equal(zp[0x1EF], 0);
	for (size_t i = 0x26C; i < 0x2D0; i++)
		assert_int_equal(zp[i], 0);
	for (size_t i = 0x2D0 + 6 * 20; i < 4096; i++)
		assert_int_equal(zp[i], 0);

	/* 6 GiB: seven entries, the initrd below initrd_addr_max (2 GiB). */
	n = boot_e820_build(3 * GIB, 3 * GIB, m, BOOT_E820_MAX);
	assert_int_equal(linux_layout_plan(&li, m, n, 16 * MIB, 0, &lay, &why), 0);
	assert_int_equal(lay.initrd, 2 * GIB - 16 * MIB);
	linux_boot_params_build(zp, b, &li, &lay, m, n, 0);
	assert_int_equal(zp[0x1E8], 7);
	assert_int_equal(rd64(zp, 0x2D0 + 6 * 20), 4 * GIB);
	assert_int_equal(rd64(zp, 0x2D0 + 6 * 20 + 8), 3 * GIB);
	assert_int_equal(rd32(zp, 0x218), 2 * GIB - 16 * MIB);
	assert_int_equal(rd64(zp, 0x070), 0);
	/* Sorted and disjoint, as the kernel's e820 sanitizer likes it. */
	assert_map_sane((const struct boot_e820_entry *)(zp + 0x2D0), zp[0x1E8]);
	free(b);
}

static void test_bz_layout_refused(void **state)
{
	uint8_t *b = malloc(BZ_SIZE);
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n;
	struct linux_image li;
	struct linux_layout lay;
	const char *why = NULL;

	make_bzimage(b);
	assert_int_equal(linux_image_check(b, BZ_SIZE, &li, &why), 0);
	/* 16 MiB + init_size must be RAM. */
	n = boot_e820_build(24 * MIB, 0, m, BOOT_E820_MAX);
	assert_int_equal(linux_layout_plan(&li, m, n, 0, 0, &lay, &why), 0);
	n = boot_e820_build(24 * MIB - 4096, 0, m, BOOT_E820_MAX);
	assert_int_equal(linux_layout_plan(&li, m, n, 0, 0, &lay, &why),
			 KEEL_ENOMEM);
	assert_why(why, "init_size");
	/* cmdline_size: 2047 characters fit, 2048 do not. */
	n = boot_e820_build(64 * MIB, 0, m, BOOT_E820_MAX);
	assert_int_equal(linux_layout_plan(&li, m, n, 0, 2047, &lay, &why), 0);
	assert_int_equal(linux_layout_plan(&li, m, n, 0, 2048, &lay, &why),
			 KEEL_EINVAL);
	assert_why(why, "cmdline_size");
	/* An initrd that fits nowhere beside the kernel. */
	assert_int_equal(linux_layout_plan(&li, m, n, 40 * MIB, 0, &lay, &why), 0);
	assert_int_equal(lay.initrd, 24 * MIB); /* right above init_size */
	assert_int_equal(linux_layout_plan(&li, m, n, 41 * MIB, 0, &lay, &why),
			 KEEL_ENOMEM);
	assert_why(why, "initrd");
	free(b);
}

static void test_initrd_place(void **state)
{
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n = boot_e820_build(512 * MIB, 0, m, BOOT_E820_MAX);
	uint64_t a;

	/* Below initrd_addr_max: the last byte at most addr_max (a 2 GiB
	 * guest, the default initrd_addr_max of protocols before 2.03). */
	n = boot_e820_build(2 * GIB, 0, m, BOOT_E820_MAX);
	assert_int_equal(linux_initrd_place(m, n, 1 * MIB, 0x37FFFFFF, 16 * MIB,
					    32 * MIB, &a), 0);
	assert_int_equal(a, 0x38000000 - MIB);
	/* addr_max is the last byte's address: 0x37FFF000 would put a byte
	 * at 0x37FFFFFF, past 0x37FFFFFE. */
	assert_int_equal(linux_initrd_place(m, n, 4096, 0x37FFFFFE, 16 * MIB,
					    32 * MIB, &a), 0);
	assert_int_equal(a, 0x37FFE000);
	n = boot_e820_build(512 * MIB, 0, m, BOOT_E820_MAX);
	/* 4 KiB aligned, ending at most at the top. */
	assert_int_equal(linux_initrd_place(m, n, 0x1234, 0xFFFFFFFF, 16 * MIB,
					    32 * MIB, &a), 0);
	assert_int_equal(a % 4096, 0);
	assert_true(a + 0x1234 <= 512 * MIB);
	assert_true(a + 0x1234 > 512 * MIB - 4096);
	/* Not over the kernel's init_size: with 2 MiB left above the kernel,
	 * a 4 MiB initrd goes just below it. */
	n = boot_e820_build(64 * MIB, 0, m, BOOT_E820_MAX);
	assert_int_equal(linux_initrd_place(m, n, 4 * MIB, 0x7FFFFFFF, 16 * MIB,
					    62 * MIB, &a), 0);
	assert_int_equal(a, 12 * MIB);
	/* A small one still goes above it, the highest place. */
	assert_int_equal(linux_initrd_place(m, n, 1 * MIB, 0x7FFFFFFF, 16 * MIB,
					    62 * MIB, &a), 0);
	assert_int_equal(a, 63 * MIB);
	/* Never below 1 MiB. */
	assert_int_equal(linux_initrd_place(m, n, 16 * MIB, 0x7FFFFFFF, 16 * MIB,
					    62 * MIB, &a), KEEL_ENOMEM);
	assert_int_equal(linux_initrd_place(m, n, 15 * MIB, 0x7FFFFFFF, 16 * MIB,
					    62 * MIB, &a), 0);
	assert_int_equal(a, 1 * MIB);
	/* initrd_addr_max below every usable byte above 1 MiB. */
	assert_int_equal(linux_initrd_place(m, n, 4096, 0xFFFFF, 16 * MIB,
					    62 * MIB, &a), KEEL_ENOMEM);
	/* 6 GiB guest: never above 4 GiB, even with initrd_addr_max ~0. */
	n = boot_e820_build(3 * GIB, 3 * GIB, m, BOOT_E820_MAX);
	assert_int_equal(linux_initrd_place(m, n, 8 * MIB, 0xFFFFFFFF, 16 * MIB,
					    62 * MIB, &a), 0);
	assert_int_equal(a, 3 * GIB - 8 * MIB);
}

/* A real kernel, when the machine has one: Debian's cloud kernel that
 * `make deps` unpacks (third_party/linux/vmlinuz) or /boot/vmlinuz-*. */
static void test_bz_real_kernel(void **state)
{
	glob_t g;
	const char *path = NULL;
	FILE *f = fopen("third_party/linux/vmlinuz", "rb");

	memset(&g, 0, sizeof(g));
	if (f)
		path = "third_party/linux/vmlinuz";
	else if (glob("/boot/vmlinuz-*", 0, NULL, &g) == 0 && g.gl_pathc) {
		path = g.gl_pathv[0];
		f = fopen(path, "rb");
	}
	if (!f) {
		globfree(&g);
		skip();
	}
	fseek(f, 0, SEEK_END);
	size_t size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(size);
	assert_int_equal(fread(b, 1, size, f), size);
	fclose(f);

	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n = boot_e820_build(512 * MIB, 0, m, BOOT_E820_MAX);
	struct linux_image li;
	struct linux_layout lay;
	const char *why = NULL;
	uint8_t zp[4096];

	if (linux_image_check(b, size, &li, &why))
		fail_msg("%s: %s", path, why);
	assert_true(li.version >= 0x020C);
	assert_true(li.xloadflags & LINUX_XLF_KERNEL_64);
	assert_int_equal(li.setup_size, (size_t)((b[0x1F1] ? b[0x1F1] : 4) + 1) * 512);
	assert_int_equal(linux_layout_plan(&li, m, n, 10 * MIB, 20, &lay, &why), 0);
	assert_int_equal(lay.entry, li.pref_address + 0x200);
	assert_true(lay.initrd >= lay.kernel + li.init_size);
	linux_boot_params_build(zp, b, &li, &lay, m, n, 0xE0000);
	assert_memory_equal(zp + 0x1F1, b + 0x1F1, 0x210 - 0x1F1);
	assert_int_equal(zp[0x210], 0xFF);
	printf("  %s: protocol %x, pref_address %#llx, init_size %u KiB\n", path,
	       li.version, (unsigned long long)li.pref_address,
	       li.init_size >> 10);
	free(b);
	globfree(&g);
}

/* ----------------------------------------------------------- Multiboot -- */

static void mb_put_header(uint8_t *b, size_t off, uint32_t flags)
{
	put32(b, off, MB_HEADER_MAGIC);
	put32(b, off + 4, flags);
	put32(b, off + 8, (uint32_t)-(MB_HEADER_MAGIC + flags));
}

static void test_mb_header_find(void **state)
{
	uint8_t *b = calloc(1, 16384);
	struct mb_header h;
	const char *why = NULL;

	assert_int_equal(mb_header_find(b, 16384, &h, &why), KEEL_ENOENT);
	mb_put_header(b, 0, MB_HF_PAGE_ALIGN | MB_HF_MEMINFO);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), 0);
	assert_int_equal(h.offset, 0);
	assert_int_equal(h.flags, 3);
	/* The last place a 12-byte header fits in the first 8 KiB. */
	memset(b, 0, 16384);
	mb_put_header(b, 8180, 0);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), 0);
	assert_int_equal(h.offset, 8180);
	memset(b, 0, 16384);
	mb_put_header(b, 8188, 0); /* would end past 8192 */
	assert_int_equal(mb_header_find(b, 16384, &h, &why), KEEL_ENOENT);
	memset(b, 0, 16384);
	mb_put_header(b, 8192, 0);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), KEEL_ENOENT);
	/* Not 4-byte aligned: not a header. */
	memset(b, 0, 16384);
	mb_put_header(b, 6, 0);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), KEEL_ENOENT);
	/* Not past the end of a short file. */
	memset(b, 0, 16384);
	mb_put_header(b, 8, 0);
	assert_int_equal(mb_header_find(b, 20, &h, &why), 0);
	assert_int_equal(mb_header_find(b, 19, &h, &why), KEEL_ENOENT);
	/* Bad checksum, then a good header later: the good one counts. */
	memset(b, 0, 16384);
	mb_put_header(b, 64, 0);
	put32(b, 72, 0);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), KEEL_ENOENT);
	assert_why(why, "checksum");
	mb_put_header(b, 128, 0);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), 0);
	assert_int_equal(h.offset, 128);
	/* A required flag (bits 3-15) Keel does not know: refused. */
	memset(b, 0, 16384);
	mb_put_header(b, 0, 1u << 3);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), KEEL_EINVAL);
	assert_why(why, "bits 3-15");
	mb_put_header(b, 0, 1u << 15);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), KEEL_EINVAL);
	/* An optional one (bits 17-31): ignored. */
	mb_put_header(b, 0, 1u << 20);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), 0);
	/* a.out kludge fields and video fields. */
	memset(b, 0, 16384);
	mb_put_header(b, 4, MB_HF_AOUT | MB_HF_VIDEO);
	put32(b, 16, 0x100004);
	put32(b, 20, 0x100000);
	put32(b, 24, 0x102000);
	put32(b, 28, 0x103000);
	put32(b, 32, 0x100040);
	put32(b, 36, 1);
	put32(b, 40, 80);
	put32(b, 44, 25);
	put32(b, 48, 0);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), 0);
	assert_int_equal(h.header_addr, 0x100004);
	assert_int_equal(h.load_addr, 0x100000);
	assert_int_equal(h.load_end_addr, 0x102000);
	assert_int_equal(h.bss_end_addr, 0x103000);
	assert_int_equal(h.entry_addr, 0x100040);
	assert_int_equal(h.mode_type, 1);
	assert_int_equal(h.width, 80);
	assert_int_equal(h.height, 25);
	/* With bit 16 the header is 32 bytes: at 8176 it ends past 8 KiB. */
	memset(b, 0, 16384);
	mb_put_header(b, 8176, MB_HF_AOUT);
	assert_int_equal(mb_header_find(b, 16384, &h, &why), KEEL_EINVAL);
	assert_why(why, "8 KiB");
	free(b);
}

/* An a.out-kludge image: 0x40 bytes of something, the header, code. */
#define AOUT_SIZE 0x1800
static void make_aout(uint8_t *b, uint32_t load, uint32_t load_end,
		      uint32_t bss_end, uint32_t entry)
{
	memset(b, 0x90, AOUT_SIZE);
	mb_put_header(b, 0x40, MB_HF_AOUT | MB_HF_PAGE_ALIGN);
	put32(b, 0x4C, load + 0x40); /* header_addr */
	put32(b, 0x50, load);
	put32(b, 0x54, load_end);
	put32(b, 0x58, bss_end);
	put32(b, 0x5C, entry);
}

static int aout_plan(uint8_t *b, struct mb_plan *p, const char **why)
{
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n = boot_e820_build(64 * MIB, 0, m, BOOT_E820_MAX);
	struct mb_header h;

	assert_int_equal(mb_header_find(b, AOUT_SIZE, &h, why), 0);
	return mb_plan_build(b, AOUT_SIZE, &h, m, n, p, why);
}

static void test_mb_aout(void **state)
{
	uint8_t *b = malloc(AOUT_SIZE);
	struct mb_plan p;
	const char *why = NULL;

	make_aout(b, 0x100000, 0x101000, 0x103000, 0x100080);
	assert_int_equal(aout_plan(b, &p, &why), 0);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.seg[0].file_off, 0);
	assert_int_equal(p.seg[0].filesz, 0x1000);
	assert_int_equal(p.seg[0].memsz, 0x3000);
	assert_int_equal(p.seg[0].addr, 0x100000);
	assert_int_equal(p.entry, 0x100080);
	assert_int_equal(p.end, 0x103000);
	/* load_end_addr 0: the whole file; bss_end_addr 0: no BSS. */
	make_aout(b, 0x200000, 0, 0, 0x200000);
	assert_int_equal(aout_plan(b, &p, &why), 0);
	assert_int_equal(p.seg[0].filesz, AOUT_SIZE);
	assert_int_equal(p.seg[0].memsz, AOUT_SIZE);
	assert_int_equal(p.end, 0x200000 + AOUT_SIZE);

	make_aout(b, 0x100000, 0x101000, 0x103000, 0x101000);
	assert_int_equal(aout_plan(b, &p, &why), KEEL_EINVAL);
	assert_why(why, "entry_addr");
	make_aout(b, 0x100000, 0x100000 + AOUT_SIZE + 1, 0, 0x100000);
	assert_int_equal(aout_plan(b, &p, &why), KEEL_EINVAL);
	assert_why(why, "end of the file");
	make_aout(b, 0x100000, 0x101000, 0x100800, 0x100000);
	assert_int_equal(aout_plan(b, &p, &why), KEEL_EINVAL);
	assert_why(why, "bss_end_addr");
	make_aout(b, 0x100000, 0x101000, 0, 0x100000);
	put32(b, 0x4C, 0xFFFF0); /* header_addr below load_addr */
	assert_int_equal(aout_plan(b, &p, &why), KEEL_EINVAL);
	assert_why(why, "header_addr");
	make_aout(b, 0x100000, 0x101000, 0, 0x100000);
	put32(b, 0x4C, 0x100100); /* load_addr before the file */
	assert_int_equal(aout_plan(b, &p, &why), KEEL_EINVAL);
	assert_why(why, "start of the file");
	make_aout(b, 0x10000, 0x11000, 0, 0x10000); /* over Keel's area */
	assert_int_equal(aout_plan(b, &p, &why), KEEL_EINVAL);
	assert_why(why, "0x30000");
	make_aout(b, 0x9F000, 0xA0000, 0, 0x9F000); /* into the EBDA */
	assert_int_equal(aout_plan(b, &p, &why), KEEL_EINVAL);
	assert_why(why, "usable RAM");
	make_aout(b, 0x3FFF000, 0x4000000, 0x4001000, 0x3FFF000); /* past 64M */
	assert_int_equal(aout_plan(b, &p, &why), KEEL_EINVAL);
	free(b);
}

/* An ELF32 with a text and a data segment (BSS after it) and a PT_NOTE. */
#define E32_SIZE 0x3000
static void make_elf32(uint8_t *b, uint32_t vbase, uint32_t pbase,
		       uint32_t entry)
{
	memset(b, 0, E32_SIZE);
	memcpy(b, "\177ELF", 4);
	b[4] = 1; /* ELFCLASS32 */
	b[5] = 1; /* ELFDATA2LSB */
	b[6] = 1;
	put16(b, 16, 2);  /* ET_EXEC */
	put16(b, 18, 3);  /* EM_386 */
	put32(b, 20, 1);
	put32(b, 24, entry);
	put32(b, 28, 52); /* e_phoff */
	put16(b, 40, 52);
	put16(b, 42, 32);
	put16(b, 44, 3);
	/* PT_LOAD text: file 0x1000, 0x1000 bytes. */
	put32(b, 52 + 0, 1);
	put32(b, 52 + 4, 0x1000);
	put32(b, 52 + 8, vbase);
	put32(b, 52 + 12, pbase);
	put32(b, 52 + 16, 0x1000);
	put32(b, 52 + 20, 0x1000);
	/* PT_NOTE: ignored. */
	put32(b, 84 + 0, 4);
	put32(b, 84 + 4, 0x200);
	put32(b, 84 + 16, 0x20);
	put32(b, 84 + 20, 0x20);
	/* PT_LOAD data: file 0x2000, 0x100 bytes, 0x2000 in memory. */
	put32(b, 116 + 0, 1);
	put32(b, 116 + 4, 0x2000);
	put32(b, 116 + 8, vbase + 0x1000);
	put32(b, 116 + 12, pbase + 0x1000);
	put32(b, 116 + 16, 0x100);
	put32(b, 116 + 20, 0x2000);
	mb_put_header(b, 0x1000, MB_HF_PAGE_ALIGN | MB_HF_MEMINFO);
}

static int elf_plan(uint8_t *b, size_t size, struct mb_plan *p,
		    const char **why)
{
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n = boot_e820_build(64 * MIB, 0, m, BOOT_E820_MAX);
	struct mb_header h;

	if (mb_header_find(b, size, &h, why))
		return KEEL_ENOENT;
	return mb_plan_build(b, size, &h, m, n, p, why);
}

static void test_mb_elf32(void **state)
{
	uint8_t *b = malloc(E32_SIZE);
	struct mb_plan p;
	const char *why = NULL;

	make_elf32(b, 0x100000, 0x100000, 0x10000C);
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), 0);
	assert_int_equal(p.count, 2);
	assert_int_equal(p.seg[0].addr, 0x100000);
	assert_int_equal(p.seg[0].file_off, 0x1000);
	assert_int_equal(p.seg[0].filesz, 0x1000);
	assert_int_equal(p.seg[0].memsz, 0x1000);
	assert_int_equal(p.seg[1].addr, 0x101000);
	assert_int_equal(p.seg[1].file_off, 0x2000);
	assert_int_equal(p.seg[1].filesz, 0x100);
	assert_int_equal(p.seg[1].memsz, 0x2000);
	assert_int_equal(p.entry, 0x10000C);
	assert_int_equal(p.end, 0x103000);
	/* A higher-half kernel: the entry moves with its segment. */
	make_elf32(b, 0xC0100000, 0x100000, 0xC010000C);
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), 0);
	assert_int_equal(p.entry, 0x10000C);
	assert_int_equal(p.seg[0].addr, 0x100000);
	/* ... or is given physical already. */
	make_elf32(b, 0xC0100000, 0x100000, 0x101010);
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), 0);
	assert_int_equal(p.entry, 0x101010);

	make_elf32(b, 0x100000, 0x100000, 0x200000);
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), KEEL_EINVAL);
	assert_why(why, "entry");
	make_elf32(b, 0x100000, 0x100000, 0x100000);
	put16(b, 18, 62); /* EM_X86_64 in an ELF32 */
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), KEEL_EINVAL);
	assert_why(why, "ELF32");
	make_elf32(b, 0x100000, 0x100000, 0x100000);
	put32(b, 116 + 16, 0x2001); /* data filesz > memsz */
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), KEEL_EINVAL);
	make_elf32(b, 0x100000, 0x100000, 0x100000);
	put32(b, 116 + 4, E32_SIZE - 0x80); /* data past the end of the file */
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), KEEL_EINVAL);
	assert_why(why, "outside the file");
	make_elf32(b, 0x100000, 0x100000, 0x100000);
	put16(b, 44, 0); /* no program headers */
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), KEEL_EINVAL);
	make_elf32(b, 0x100000, 0x100000, 0x100000);
	put32(b, 28, E32_SIZE - 40); /* program headers past the end */
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), KEEL_EINVAL);
	make_elf32(b, 0xFFFFF000, 0xFFFFF000, 0xFFFFF000); /* wraps 4 GiB */
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), KEEL_EINVAL);
	make_elf32(b, 0x8000, 0x8000, 0x8000); /* over Keel's area */
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), KEEL_EINVAL);
	assert_why(why, "0x30000");
	/* Neither ELF nor a.out kludge. */
	make_elf32(b, 0x100000, 0x100000, 0x100000);
	b[0] = 0;
	assert_int_equal(elf_plan(b, E32_SIZE, &p, &why), KEEL_EINVAL);
	assert_why(why, "a.out");

	/* Every truncation refused or planned, never read past the end. */
	make_elf32(b, 0x100000, 0x100000, 0x10000C);
	for (size_t len = 0; len < E32_SIZE; len += 23) {
		uint8_t *cut = malloc(len ? len : 1);
		memcpy(cut, b, len);
		int err = elf_plan(cut, len, &p, &why);
		if (len < 0x2100) /* the data segment's file bytes end there */
			assert_int_not_equal(err, 0);
		else
			assert_int_equal(err, 0);
		free(cut);
	}
	free(b);
}

/* An ELF64 Multiboot kernel (GRUB loads those too): below 4 GiB only. */
static void test_mb_elf64(void **state)
{
	uint8_t *b = calloc(1, 0x2000);
	struct mb_plan p;
	const char *why = NULL;

	memcpy(b, "\177ELF", 4);
	b[4] = 2;
	b[5] = 1;
	put16(b, 16, 2);
	put16(b, 18, 62);
	put64(b, 24, 0x100010);
	put64(b, 32, 64);
	put16(b, 54, 56);
	put16(b, 56, 1);
	put32(b, 64, 1);
	put64(b, 64 + 8, 0x1000);
	put64(b, 64 + 16, 0x100000);
	put64(b, 64 + 24, 0x100000);
	put64(b, 64 + 32, 0x1000);
	put64(b, 64 + 40, 0x1000);
	mb_put_header(b, 0x1000, 0);
	assert_int_equal(elf_plan(b, 0x2000, &p, &why), 0);
	assert_int_equal(p.entry, 0x100010);
	assert_int_equal(p.seg[0].addr, 0x100000);
	put64(b, 64 + 24, 0x100000000ULL);
	assert_int_equal(elf_plan(b, 0x2000, &p, &why), KEEL_EINVAL);
	assert_why(why, "4 GiB");
	free(b);
}

static void test_mb_modules_place(void **state)
{
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n = boot_e820_build(64 * MIB, 0, m, BOOT_E820_MAX);
	const uint64_t sizes[] = {100, 5000, 0, 4096};
	uint32_t starts[4];
	const char *why = NULL;

	assert_int_equal(mb_modules_place(m, n, 0x103000, sizes, 4, starts, &why),
			 0);
	assert_int_equal(starts[0], 0x103000);
	assert_int_equal(starts[1], 0x104000);
	assert_int_equal(starts[2], 0x106000);
	assert_int_equal(starts[3], 0x106000);
	assert_int_equal(mb_modules_place(m, n, 0x102001, sizes, 1, starts, &why),
			 0);
	assert_int_equal(starts[0], 0x103000);
	const uint64_t big[] = {32 * MIB, 32 * MIB};
	assert_int_equal(mb_modules_place(m, n, 0x103000, big, 2, starts, &why),
			 KEEL_ENOMEM);
	assert_why(why, "modules");
}

static void test_mb_info(void **state)
{
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n = boot_e820_build(64 * MIB, 0, m, BOOT_E820_MAX);
	const struct mb_info_module mods[] = {
		{0x103000, 0x103009, "/keel/guests/mod1.txt arg1 arg2"},
		{0x104000, 0x104100, NULL},
	};
	struct mb_info_input in = {.map = m, .map_count = n,
				   .cmdline = "mbtest mem=64M",
				   .mods = mods, .mod_count = 2};
	const uint32_t base = 0x8000;
	uint8_t *buf = malloc(0x18000);
	size_t used = 0;

	memset(buf, 0xCC, 0x18000);
	assert_int_equal(mb_info_build(&in, buf, 0x18000, base, &used), 0);
	assert_true(used > sizeof(struct mb_info) && used < 0x1000);
#define STR(addr) ((const char *)buf + ((addr) - base))
	uint32_t flags = rd32(buf, 0);
	assert_int_equal(flags, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) |
					(1u << 9));
	assert_int_equal(rd32(buf, 4), 639);		 /* mem_lower */
	assert_int_equal(rd32(buf, 8), (64 - 1) * 1024); /* mem_upper */
	assert_string_equal(STR(rd32(buf, 16)), "mbtest mem=64M");
	assert_int_equal(rd32(buf, 20), 2);		 /* mods_count */
	uint32_t mods_at = rd32(buf, 24);
	assert_true(mods_at >= base + 116 && mods_at % 16 == 0);
	assert_int_equal(rd32(buf, mods_at - base), 0x103000);
	assert_int_equal(rd32(buf, mods_at - base + 4), 0x103009);
	assert_string_equal(STR(rd32(buf, mods_at - base + 8)),
			    "/keel/guests/mod1.txt arg1 arg2");
	assert_int_equal(rd32(buf, mods_at - base + 12), 0);
	assert_int_equal(rd32(buf, mods_at - base + 16), 0x104000);
	assert_int_equal(rd32(buf, mods_at - base + 20), 0x104100);
	assert_string_equal(STR(rd32(buf, mods_at - base + 24)), "");
	/* The memory map: 24-byte records whose size field says 20. */
	uint32_t mmap_len = rd32(buf, 44), mmap_at = rd32(buf, 48);
	assert_int_equal(mmap_len, n * 24);
	for (unsigned i = 0; i < n; i++) {
		size_t o = mmap_at - base + i * 24;
		assert_int_equal(rd32(buf, o), 20);
		assert_int_equal(rd64(buf, o + 4), m[i].addr);
		assert_int_equal(rd64(buf, o + 12), m[i].size);
		assert_int_equal(rd32(buf, o + 20), m[i].type == E820_RAM ? 1 : 2);
	}
	assert_string_equal(STR(rd32(buf, 64)), "Keel");
	/* Nothing claimed that is not there: no boot device, symbols,
	 * drives, config table, APM, VBE or framebuffer. */
	assert_int_equal(flags & ((1u << 1) | (1u << 4) | (1u << 5) | (1u << 7) |
				  (1u << 8) | (1u << 10) | (1u << 11) |
				  (1u << 12)), 0);
	for (size_t o = 68; o < 116; o++)
		assert_int_equal(buf[o], 0);
	/* Every pointer inside what was used. */
	assert_true(mmap_at + mmap_len <= base + used);

	/* No command line: flag 2 clear. Too small a buffer: refused. */
	in.cmdline = NULL;
	assert_int_equal(mb_info_build(&in, buf, 0x18000, base, &used), 0);
	assert_int_equal(rd32(buf, 0) & (1u << 2), 0);
	for (size_t cap = 0; cap < used; cap += 7)
		assert_int_equal(mb_info_build(&in, buf, cap, base, &used),
				 KEEL_ERANGE);
	/* A 6 GiB guest: mem_upper stops at the first hole (3 GiB). */
	n = boot_e820_build(3 * GIB, 3 * GIB, m, BOOT_E820_MAX);
	in.map_count = n;
	assert_int_equal(mb_info_build(&in, buf, 0x18000, base, &used), 0);
	assert_int_equal(rd32(buf, 8), (3 * GIB - MIB) >> 10);
	assert_int_equal(rd32(buf, 44), 7 * 24);
#undef STR
	free(buf);
}

/* tests/guests' Multiboot kernel, when it is built: both of its forms
 * plan the same single segment at 1 MiB and the ELF's entry. */
static void test_mb_built_guest(void **state)
{
	const char *paths[] = {"build/guests/mbtest.elf",
			       "build/guests/mbtest-aout.elf"};
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n = boot_e820_build(64 * MIB, 0, m, BOOT_E820_MAX);
	unsigned found = 0;

	for (unsigned i = 0; i < 2; i++) {
		FILE *f = fopen(paths[i], "rb");
		if (!f)
			continue;
		found++;
		uint8_t *b = malloc(1 << 20);
		size_t size = fread(b, 1, 1 << 20, f);
		fclose(f);
		struct mb_header h;
		struct mb_plan p;
		const char *why = NULL;
		if (mb_header_find(b, size, &h, &why) ||
		    mb_plan_build(b, size, &h, m, n, &p, &why))
			fail_msg("%s: %s", paths[i], why);
		assert_int_equal(!!(h.flags & MB_HF_AOUT), i);
		assert_int_equal(p.count, 1);
		assert_int_equal(p.seg[0].addr, 0x100000);
		assert_int_equal(p.entry, rd32(b, 24)); /* e_entry */
		assert_true(p.seg[0].memsz > p.seg[0].filesz); /* BSS */
		free(b);
	}
	if (!found)
		skip();
}

/* ------------------------------------------------- the other formats -- */

/* An ELF64 test guest is neither a bzImage nor Multiboot, and still passes
 * the ELF64 check; a bzImage is not taken for Multiboot. */
static void test_formats_apart(void **state)
{
	uint8_t *b = calloc(1, 0x3000);
	struct elf64_ehdr eh = {0};
	struct elf64_phdr ph = {0};
	struct linux_image li;
	struct mb_header h;
	const char *why;
	uint64_t entry;

	memcpy(eh.ident, "\177ELF", 4);
	eh.ident[4] = 2;
	eh.ident[5] = 1;
	eh.type = 2;
	eh.machine = 62;
	eh.entry = 0x100000;
	eh.phoff = sizeof(eh);
	eh.phentsize = sizeof(ph);
	eh.phnum = 1;
	ph.type = ELF_PT_LOAD;
	ph.offset = 0x1000;
	ph.vaddr = ph.paddr = 0x100000;
	ph.filesz = ph.memsz = 0x1000;
	memcpy(b, &eh, sizeof(eh));
	memcpy(b + sizeof(eh), &ph, sizeof(ph));
	assert_int_equal(elf64_guest_check(b, 0x2000, &entry, &why), 0);
	assert_int_equal(entry, 0x100000);
	assert_int_equal(mb_header_find(b, 0x2000, &h, &why), KEEL_ENOENT);
	assert_int_equal(linux_image_check(b, 0x2000, &li, &why), KEEL_EINVAL);
	assert_why(why, "HdrS");
	free(b);

	b = malloc(BZ_SIZE);
	make_bzimage(b);
	assert_int_equal(mb_header_find(b, BZ_SIZE, &h, &why), KEEL_ENOENT);
	free(b);
}

/* Keel adds tsc_early_khz= unless the admin set it; the buffer bound holds. */
static void test_cmdline_compose(void **state)
{
	char buf[64];

	assert_int_equal(linux_cmdline_compose(buf, sizeof(buf), "console=ttyS0",
					       2500000), 0);
	assert_string_equal(buf, "console=ttyS0 tsc_early_khz=2500000");
	assert_int_equal(linux_cmdline_compose(buf, sizeof(buf), "", 1999999), 0);
	assert_string_equal(buf, "tsc_early_khz=1999999");
	assert_int_equal(linux_cmdline_compose(buf, sizeof(buf),
					       "quiet tsc_early_khz=1000", 2500000), 0);
	assert_string_equal(buf, "quiet tsc_early_khz=1000");
	/* Only a whole parameter counts as given. */
	assert_int_equal(linux_cmdline_compose(buf, sizeof(buf), "xtsc_early_khz=5",
					       7), 0);
	assert_string_equal(buf, "xtsc_early_khz=5 tsc_early_khz=7");
	assert_int_equal(linux_cmdline_compose(buf, sizeof(buf), "a", 0), 0);
	assert_string_equal(buf, "a");
	/* Too small: for the line itself, and for the addition. */
	assert_int_equal(linux_cmdline_compose(buf, 3, "abc", 0), KEEL_ERANGE);
	assert_int_equal(linux_cmdline_compose(buf, 20, "console=ttyS0", 2500000),
			 KEEL_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_512m),
		cmocka_unit_test(test_e820_6g),
		cmocka_unit_test(test_e820_fit),
		cmocka_unit_test(test_bz_good),
		cmocka_unit_test(test_bz_refused),
		cmocka_unit_test(test_bz_truncations),
		cmocka_unit_test(test_bz_boot_params),
		cmocka_unit_test(test_bz_layout_refused),
		cmocka_unit_test(test_initrd_place),
		cmocka_unit_test(test_bz_real_kernel),
		cmocka_unit_test(test_mb_header_find),
		cmocka_unit_test(test_mb_aout),
		cmocka_unit_test(test_mb_elf32),
		cmocka_unit_test(test_mb_elf64),
		cmocka_unit_test(test_mb_modules_place),
		cmocka_unit_test(test_mb_info),
		cmocka_unit_test(test_mb_built_guest),
		cmocka_unit_test(test_formats_apart),
		cmocka_unit_test(test_cmdline_compose),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
