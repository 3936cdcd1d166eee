/*
 * test_printf.c - the kernel's vsnprintf (kernel/libc/printf.c), compiled for
 * the host under another name, against glibc's snprintf as the reference for
 * every conversion the kernel uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

int keel_snprintf(char *s, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int keel_vsnprintf(char *s, size_t n, const char *fmt, va_list ap);

#define SAME(...)                                                             \
	do {                                                                  \
		char want[256], got[256];                                     \
		int a = snprintf(want, sizeof(want), __VA_ARGS__);            \
		int b = keel_snprintf(got, sizeof(got), __VA_ARGS__);         \
		assert_string_equal(got, want);                               \
		assert_int_equal(b, a);                                       \
	} while (0)

static void test_integers(void **state)
{
	SAME("%d %i %u", 0, -1, 4000000000u);
	SAME("%ld %lu %lld %llu", -9223372036854775807L - 1, 18446744073709551615UL,
	     -5LL, 7ULL);
	SAME("%x %X %#x %#X %o %#o", 0xbeef, 0xbeef, 0x10, 0x10, 8, 8);
	SAME("%5d|%-5d|%05d|%+d|% d", 42, 42, 42, 42, 42);
	SAME("%.3d|%8.3d|%-8.3d|%.0d", 7, 7, 7, 0);
	SAME("%hhu %hu %hhd %hd", 300, 70000, 200, 40000);
	SAME("%zu %zx %jd %td", (size_t)12345, (size_t)0xabc, (intmax_t)-3,
	     (ptrdiff_t)-4);
	SAME("%016llx %#018llx", 0xffffffff80200000ULL, 0x1234ULL);
	SAME("%*d|%-*d|%.*d", 6, 1, 6, 2, 4, 3);
}

static void test_strings(void **state)
{
	SAME("%s|%10s|%-10s|%.2s|%c|%3c|%%", "keel", "keel", "keel", "keel", 'x',
	     'y');
	SAME("%.*s", 3, "abcdef");
	SAME("%s=%s", "", "value");
}

static void test_pointer(void **state)
{
	char got[64];
	keel_snprintf(got, sizeof(got), "%p", (void *)0xffff800000001000ULL);
	assert_string_equal(got, "0xffff800000001000");
	keel_snprintf(got, sizeof(got), "%p", (void *)0x10);
	assert_string_equal(got, "0x0000000000000010");
}

static void test_truncation(void **state)
{
	char buf[8];
	memset(buf, 'Z', sizeof(buf));
	int n = keel_snprintf(buf, 5, "%s", "abcdefgh");
	assert_int_equal(n, 8); /* what it would have written */
	assert_string_equal(buf, "abcd");
	assert_int_equal(buf[5], 'Z'); /* nothing past the limit */
	n = keel_snprintf(buf, 0, "%d", 12345);
	assert_int_equal(n, 5);
	assert_int_equal(buf[0], 'a');
	n = keel_snprintf(buf, 1, "%d", 12345);
	assert_int_equal(n, 5);
	assert_int_equal(buf[0], 0);
}

static void test_odd_formats(void **state)
{
	/* Through a pointer: the compiler would (rightly) reject these formats. */
	int (*volatile fmt)(char *, size_t, const char *, ...) = keel_snprintf;
	char buf[32];
	fmt(buf, sizeof(buf), "100%");
	assert_string_equal(buf, "100");
	fmt(buf, sizeof(buf), "%q");
	assert_string_equal(buf, "%q");
	fmt(buf, sizeof(buf), "%s", (char *)NULL);
	assert_string_equal(buf, "(null)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_odd_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
