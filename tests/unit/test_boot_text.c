/*
 * test_boot_text.c - unit tests of boot/text.c: UEFI load options to a
 * command line (the shell's own path dropped, binary option data refused),
 * keel.cfg paths to TFTP and FAT form, UCS-2 to ASCII; bounds everywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/text.h"
#include "kernel/err.h"

/* ASCII to UCS-2 bytes in a buffer of exactly that size (ASan sees any
 * read past it); with_nul adds the terminator the shell passes. */
static uint16_t *ucs2(const char *s, int with_nul, size_t *bytes)
{
	size_t n = strlen(s) + (with_nul ? 1 : 0);
	uint16_t *u = malloc(n ? n * 2 : 1);

	for (size_t i = 0; i < n; i++)
		u[i] = (unsigned char)s[i];
	*bytes = n * 2;
	return u;
}

static int opts(const char *s, int with_nul, char *out, size_t out_size)
{
	size_t bytes;
	uint16_t *u = ucs2(s, with_nul, &bytes);
	int r = text_load_options(u, bytes, out, out_size);

	free(u);
	return r;
}

static void expect_opts(const char *in, const char *want)
{
	char out[256];

	memset(out, 'X', sizeof(out));
	assert_int_equal(opts(in, 1, out, sizeof(out)), (int)strlen(want));
	assert_string_equal(out, want);
	memset(out, 'X', sizeof(out));
	assert_int_equal(opts(in, 0, out, sizeof(out)), (int)strlen(want));
	assert_string_equal(out, want);
}

static void test_load_options(void **state)
{
	(void)state;
	expect_opts("cpus=2 loglevel=debug", "cpus=2 loglevel=debug");
	expect_opts("fs0:\\EFI\\BOOT\\BOOTX64.EFI cpus=2", "cpus=2");
	expect_opts("  \\keel\\loader.efi   a=1 b=2", "a=1 b=2");
	expect_opts("\"fs0:\\my dir\\keel.Efi\" a=1", "a=1");
	expect_opts("loader.efi", "");
	expect_opts("", "");
	/* Only a first token that is a .efi path goes. */
	expect_opts("notefi a=1", "notefi a=1");
	expect_opts("a=1 x.efi", "a=1 x.efi");
	expect_opts("x.efix a=1", "x.efix a=1");
	expect_opts(".efi a=1", "a=1");
	expect_opts("efi a=1", "efi a=1");
	/* Tabs and line ends become spaces; quotes are kept for the parser. */
	expect_opts("a=1\tb=\"x y\"\r\n", "a=1 b=\"x y\"  ");
}

static void test_load_options_stops_at_nul(void **state)
{
	uint16_t u[] = { 'a', '=', '1', 0, 0xAC4E, 0x8108 };
	char out[16];

	(void)state;
	assert_int_equal(text_load_options(u, sizeof(u), out, sizeof(out)), 3);
	assert_string_equal(out, "a=1");
}

/* EDK2's auto-created boot options carry a GUID as their optional data. */
static void test_load_options_binary(void **state)
{
	static const unsigned char guid[16] = { 0x4e, 0xac, 0x08, 0x81, 0x11,
						0x9f, 0x59, 0x4d, 0x85, 0x0e,
						0xe2, 0x1a, 0x52, 0x2c, 0x59,
						0xb2 };
	uint16_t ctl[] = { 'a', 0x01, 'b' };
	uint16_t high[] = { 'a', 0xE9, 'b' }; /* non-ASCII */
	char out[32];

	(void)state;
	assert_int_equal(text_load_options(guid, sizeof(guid), out, sizeof(out)),
			 KEEL_EINVAL);
	assert_int_equal(text_load_options(ctl, sizeof(ctl), out, sizeof(out)),
			 KEEL_EINVAL);
	assert_int_equal(text_load_options(high, sizeof(high), out, sizeof(out)),
			 KEEL_EINVAL);
}

static void test_load_options_sizes(void **state)
{
	uint16_t u[] = { 'a', '=', '1' };
	char out[8];

	(void)state;
	/* An odd trailing byte is ignored. */
	assert_int_equal(text_load_options(u, 5, out, sizeof(out)), 2);
	assert_string_equal(out, "a=");
	assert_int_equal(text_load_options(u, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(text_load_options(NULL, 0, out, sizeof(out)), 0);
	/* bytes / 2 + 1 is always enough; one less is not. */
	assert_int_equal(text_load_options(u, 6, out, 4), 3);
	assert_int_equal(text_load_options(u, 6, out, 3), KEEL_ERANGE);
	assert_int_equal(text_load_options(u, 6, out, 0), KEEL_ERANGE);
}

static void test_path_to_tftp(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(text_path_to_tftp("\\keel\\keel.cfg", out, sizeof(out)),
			 0);
	assert_string_equal(out, "keel/keel.cfg");
	assert_int_equal(text_path_to_tftp("/keel/a\\b", out, sizeof(out)), 0);
	assert_string_equal(out, "keel/a/b");
	assert_int_equal(text_path_to_tftp("\\\\/x", out, sizeof(out)), 0);
	assert_string_equal(out, "x");
	assert_int_equal(text_path_to_tftp("", out, sizeof(out)), KEEL_EINVAL);
	assert_int_equal(text_path_to_tftp("\\/", out, sizeof(out)), KEEL_EINVAL);
	assert_int_equal(text_path_to_tftp("/a\tb", out, sizeof(out)),
			 KEEL_EINVAL);
	assert_int_equal(text_path_to_tftp("/123456789012345", out, 16), 0);
	assert_int_equal(text_path_to_tftp("/1234567890123456", out, 16),
			 KEEL_ERANGE);
}

static void test_path_to_ucs2(void **state)
{
	uint16_t out[8];
	static const uint16_t want[] = { '\\', 'k', '\\', 'a', '.', 'b', 0 };

	(void)state;
	assert_int_equal(text_path_to_ucs2("/k/a.b", out, 8), 0);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(text_path_to_ucs2("k\\a.b", out, 8), 0);
	assert_memory_equal(out, want, sizeof(want));
	/* '\' + 6 characters + NUL = 8 fit; 7 characters do not. */
	assert_int_equal(text_path_to_ucs2("/abcdef", out, 8), 0);
	assert_int_equal(out[7], 0);
	assert_int_equal(text_path_to_ucs2("/abcdefg", out, 8), KEEL_ERANGE);
	assert_int_equal(text_path_to_ucs2("/", out, 8), KEEL_EINVAL);
	assert_int_equal(text_path_to_ucs2("/\x80", out, 8), KEEL_EINVAL);
}

static void test_ucs2_to_ascii(void **state)
{
	static const uint16_t s[] = { 'P', 'c', 'i', 0x263A, '(', 0x0A, ')',
				      0 };
	char out[8];

	(void)state;
	assert_int_equal(text_ucs2_to_ascii(s, out, sizeof(out)), 7);
	assert_string_equal(out, "Pci?(?)");
	assert_int_equal(text_ucs2_to_ascii(s, out, 4), 3);
	assert_string_equal(out, "Pci");
	assert_int_equal(text_ucs2_to_ascii(s, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(text_ucs2_to_ascii(s, out, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_options),
		cmocka_unit_test(test_load_options_stops_at_nul),
		cmocka_unit_test(test_load_options_binary),
		cmocka_unit_test(test_load_options_sizes),
		cmocka_unit_test(test_path_to_tftp),
		cmocka_unit_test(test_path_to_ucs2),
		cmocka_unit_test(test_ucs2_to_ascii),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
