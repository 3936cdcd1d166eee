/*
 * test_libc.c - unit tests of the kernel libc the third-party libraries use
 * (kernel/libc/stdlib.c: malloc family, strtol family; kernel/libc/float.c:
 * strtod, %g, sscanf %lg), compiled here under keel_* names and checked
 * against the C library's own functions.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The kernel's functions under other names, beside glibc's. */
static long host_allocs;
void *libc_host_alloc(size_t n)
{
	host_allocs++;
	return aligned_alloc(16, (n + 15) & ~(size_t)15);
}
void libc_host_release(void *p)
{
	host_allocs--;
	free(p);
}
#define malloc keel_malloc
#define calloc keel_calloc
#define realloc keel_realloc
#define free keel_free
#define strtol keel_strtol
#define strtoul keel_strtoul
#define strtoll keel_strtoll
#define strtoull keel_strtoull
#define atoi keel_atoi
#define abs keel_abs
#define labs keel_labs
#define strtod keel_strtod
#define fabs keel_fabs
#define floor keel_floor
#define sprintf keel_sprintf
#define sscanf keel_sscanf
void *keel_malloc(size_t n);
void *keel_calloc(size_t nmemb, size_t size);
void *keel_realloc(void *p, size_t n);
void keel_free(void *p);
long keel_strtol(const char *s, char **end, int base);
unsigned long keel_strtoul(const char *s, char **end, int base);
long long keel_strtoll(const char *s, char **end, int base);
unsigned long long keel_strtoull(const char *s, char **end, int base);
int keel_atoi(const char *s);
int keel_abs(int v);
long keel_labs(long v);
double keel_strtod(const char *s, char **end);
double keel_fabs(double x);
double keel_floor(double x);
int keel_sprintf(char *s, const char *fmt, ...);
int keel_sscanf(const char *s, const char *fmt, ...);
#include "kernel/libc/stdlib.c"
#include "kernel/libc/float.c"
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef strtol
#undef strtoul
#undef strtoll
#undef strtoull
#undef atoi
#undef abs
#undef labs
#undef strtod
#undef fabs
#undef floor
#undef sprintf
#undef sscanf

static void test_malloc_family(void **state)
{
	unsigned char *p, *q;
	size_t i;

	(void)state;
	host_allocs = 0;
	p = keel_malloc(100);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 16, 0);
	for (i = 0; i < 100; i++)
		p[i] = (unsigned char)i;
	q = keel_realloc(p, 5000); /* grows, keeps the bytes */
	assert_non_null(q);
	for (i = 0; i < 100; i++)
		assert_int_equal(q[i], i);
	p = keel_realloc(q, 10); /* shrinks, keeps what fits */
	for (i = 0; i < 10; i++)
		assert_int_equal(p[i], i);
	assert_null(keel_realloc(p, 0)); /* frees */
	p = keel_realloc(NULL, 7);
	assert_non_null(p);
	keel_free(p);
	keel_free(NULL);

	p = keel_calloc(33, 3);
	for (i = 0; i < 99; i++)
		assert_int_equal(p[i], 0);
	keel_free(p);
	assert_null(keel_calloc(SIZE_MAX / 2, 3)); /* overflow */
	assert_null(keel_malloc(SIZE_MAX - 8));
	assert_int_equal(host_allocs, 0); /* everything went back */
}

static void test_strtol_like_glibc(void **state)
{
	static const char *in[] = {
		"0", "42", "  -42abc", "+7", "-0", "0x1f", "0X1F", "0x", "0xg",
		"0777", "08", "z", "Zz", "\t\n 12", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808",
		"-9223372036854775809", "99999999999999999999999", "", "-",
		"+", " ", "18446744073709551615", "18446744073709551616", "-1",
		"101", "1_0",
	};
	static const int bases[] = { 0, 2, 8, 10, 16, 36 };
	size_t i, b;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
			char *e1, *e2;
			long v1 = strtol(in[i], &e1, bases[b]);
			long v2 = keel_strtol(in[i], &e2, bases[b]);

			if (v1 != v2 || e1 != e2)
				fail_msg("strtol(\"%s\", %d): glibc %ld +%td, "
					 "keel %ld +%td", in[i], bases[b], v1,
					 e1 - in[i], v2, e2 - in[i]);
			unsigned long u1 = strtoul(in[i], &e1, bases[b]);
			unsigned long u2 = keel_strtoul(in[i], &e2, bases[b]);
			if (u1 != u2 || e1 != e2)
				fail_msg("strtoul(\"%s\", %d): glibc %lu, keel "
					 "%lu", in[i], bases[b], u1, u2);
		}
		assert_int_equal(keel_atoi(in[i]) == atoi(in[i]) ||
					 strtol(in[i], NULL, 10) > INT_MAX ||
					 strtol(in[i], NULL, 10) < INT_MIN,
				 1);
	}
	assert_int_equal(keel_atoi("99999999999"), INT_MAX);
	assert_int_equal(keel_abs(-5), 5);
	assert_int_equal(keel_labs(-5L), 5);
}

static uint64_t ulps(double a, double b)
{
	int64_t x, y;

	memcpy(&x, &a, 8);
	memcpy(&y, &b, 8);
	return x > y ? (uint64_t)(x - y) : (uint64_t)(y - x);
}

static void test_strtod(void **state)
{
	static const char *exact[] = {
		"0", "1", "-2.5", "0.5", "100", "1e10", "1E+10", "  +7.25e+2x",
		".5", "5.", "0.000", "123", "-0", "1e", "1e+", "3.5e-1x",
	};
	static const char *close[] = {
		"3.14159", "0.1", "1e-5", "0.3", "2.718281828459045",
		"1.7976931348623157e308", "2.2250738585072014e-308",
		"123456789012345678901234567890", "6.02214076e23",
		"1.602176634e-19", "0.1234567890123456789012", "9007199254740993",
		"4.9e-324", "1e-320", "12345.6789e-3",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		char *e1, *e2;
		double a = strtod(exact[i], &e1), b = keel_strtod(exact[i], &e2);

		if (a != b || e1 != e2 || signbit(a) != signbit(b))
			fail_msg("strtod(\"%s\"): glibc %.17g +%td, keel %.17g +%td",
				 exact[i], a, e1 - exact[i], b, e2 - exact[i]);
	}
	/* Within one unit in the last place of the correctly rounded value. */
	for (i = 0; i < sizeof(close) / sizeof(close[0]); i++) {
		char *e1, *e2;
		double a = strtod(close[i], &e1), b = keel_strtod(close[i], &e2);

		if (ulps(a, b) > 1 || e1 != e2)
			fail_msg("strtod(\"%s\"): glibc %.17g, keel %.17g", close[i],
				 a, b);
	}
	char *e;
	assert_true(isinf(keel_strtod("1e400", &e)));
	assert_true(isinf(keel_strtod("-inf", &e)) && keel_strtod("-inf", &e) < 0);
	assert_true(isnan(keel_strtod("nan", &e)));
	assert_true(keel_strtod("1e-400", &e) == 0.0);
	const char *s = "abc";
	assert_true(keel_strtod(s, &e) == 0.0 && e == s);
	s = "-.e5";
	assert_true(keel_strtod(s, &e) == 0.0 && e == s);
	assert_true(keel_fabs(-2.5) == 2.5);
	assert_true(keel_floor(-2.5) == -3.0 && keel_floor(2.5) == 2.0 &&
		    keel_floor(-3.0) == -3.0 && keel_floor(1e300) == 1e300);
}

/* cJSON's formats (print_number, print_string_ptr), and the %g rules. */
static void test_sprintf_g(void **state)
{
	static const double vals[] = {
		0.0, 1.0, -1.0, 0.5, 0.1, 1.0 / 3, 2.0 / 3, 100.0, 1e15, 1e16,
		1e17, 1e21, 1e-4, 1e-5, 1e-7, 123456789.123, -98765.4321,
		3.14159265358979, 1e100, 1e-100, 5e-324, DBL_MAX, DBL_MIN,
		0.75, 42.0, 1e300, 299792458.0, 6.02214076e23, 0.000123456,
		999999999999999.9, 9.5, 0.95, 1.5e-10,
	};
	static const char *fmts[] = { "%1.15g", "%1.17g", "%g", "%.3g", "%G",
				      "%10.4g|", "%-10.4g|", "%#g", "%+g" };
	char a[128], b[128];
	size_t i, f;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
			int na = snprintf(a, sizeof(a), fmts[f], vals[i]);
			int nb = keel_sprintf(b, fmts[f], vals[i]);

			if (na != nb || strcmp(a, b))
				fail_msg("sprintf(\"%s\", %.17g): glibc \"%s\", "
					 "keel \"%s\"", fmts[f], vals[i], a, b);
		}
	}
	keel_sprintf(b, "%d|u%04x|%s|%c|%%|%ld", -17, 0xab, "str", 'z', 123L);
	assert_string_equal(b, "-17|u00ab|str|z|%|123");
	keel_sprintf(b, "%g %g", NAN, -INFINITY);
	assert_string_equal(b, "nan -inf");
}

static void test_sscanf(void **state)
{
	double d, back;
	float f;
	int n, x;
	long l;
	char buf[64];
	size_t i;
	static const double vals[] = { 0.1, 1.0 / 3, 1e-300, 123.456, -7.5e22,
				       DBL_MAX };

	(void)state;
	/* cJSON: print with %1.17g, read back with %lg: the same double. */
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		keel_sprintf(buf, "%1.17g", vals[i]);
		assert_int_equal(keel_sscanf(buf, "%lg", &back), 1);
		assert_true(ulps(back, vals[i]) <= 1);
	}
	assert_int_equal(keel_sscanf("  2.5 and 7", "%lf and %d", &d, &n), 2);
	assert_true(d == 2.5 && n == 7);
	assert_int_equal(keel_sscanf("1.5", "%f", &f), 1);
	assert_true(f == 1.5f);
	assert_int_equal(keel_sscanf("ff -3", "%x %ld", &x, &l), 2);
	assert_true(x == 255 && l == -3);
	assert_int_equal(keel_sscanf("abc", "%lg", &d), 0);
	assert_int_equal(keel_sscanf("", "%lg", &d), -1);
	assert_int_equal(keel_sscanf("5x", "%dy", &n), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malloc_family),
		cmocka_unit_test(test_strtol_like_glibc),
		cmocka_unit_test(test_strtod),
		cmocka_unit_test(test_sprintf_g),
		cmocka_unit_test(test_sscanf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
