/*
 * test_entropy.c - unit tests of the pure part of the management agent's
 * entropy (mgmt/port/entropy_est.c: the SP 800-90B most-common-value
 * estimate, the TSC jitter credit and its health test, SHA-256
 * conditioning) and of the certificate fingerprint (mgmt/fingerprint.c),
 * against values computed independently (Python, openssl).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mgmt/port/entropy.h"
#include "mgmt/tls.h"

/* mbedTLS's allocator hooks (mgmt/tls.c in the kernel). */
void *keel_tls_calloc(size_t nmemb, size_t size)
{
	return calloc(nmemb, size);
}

void keel_tls_free(void *p)
{
	free(p);
}

/* SHA-256("abc"), FIPS 180-2 appendix B.1 */
static const char sha256_abc[] =
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void hist_fill(uint32_t hist[256], unsigned buckets, uint32_t each)
{
	memset(hist, 0, 256 * sizeof(hist[0]));
	for (unsigned i = 0; i < buckets; i++)
		hist[i] = each;
}

/* H = -log2(min(1, p + 2.576 sqrt(p (1-p) / (n-1)))) * 256, p = max/n,
 * from Python's math: 256 buckets of 256 -> 1992.97; 256 of 4 -> 1742.62;
 * 2 of 512 -> 227.39; max 100 of 1000 -> 769.63. Fixed point may lose a
 * step or two. */
static void test_mcv_estimate(void **state)
{
	uint32_t hist[256];

	(void)state;
	hist_fill(hist, 256, 256);
	assert_in_range(entropy_mcv_estimate(hist, 65536), 1991, 1994);
	hist_fill(hist, 256, 4);
	assert_in_range(entropy_mcv_estimate(hist, 1024), 1740, 1744);
	hist_fill(hist, 2, 512);
	assert_in_range(entropy_mcv_estimate(hist, 1024), 225, 229);
	hist_fill(hist, 10, 100);
	assert_in_range(entropy_mcv_estimate(hist, 1000), 767, 771);
	/* One value only: no entropy; too few samples: none either. */
	hist_fill(hist, 1, 1024);
	assert_int_equal(entropy_mcv_estimate(hist, 1024), 0);
	hist_fill(hist, 1, 1);
	assert_int_equal(entropy_mcv_estimate(hist, 1), 0);
	assert_int_equal(entropy_mcv_estimate(hist, 0), 0);
	/* More spread, more entropy. */
	hist_fill(hist, 16, 64);
	uint32_t h16 = entropy_mcv_estimate(hist, 1024);
	hist_fill(hist, 64, 16);
	assert_true(entropy_mcv_estimate(hist, 1024) > h16);
	assert_true(h16 < 4 * 256); /* never above log2(16) bits */
}

static void test_jitter_credit(void **state)
{
	static uint64_t d[1024];
	uint32_t per, credit;
	unsigned i;

	(void)state;
	/* A TSC that ticks the same every time: stuck, nothing credited. */
	for (i = 0; i < 1024; i++)
		d[i] = 1000;
	assert_int_equal(entropy_jitter_credit(d, 1024, &per), 0);

	/* Two values in turn: H about 0.89 bit, half of it credited. */
	for (i = 0; i < 1024; i++)
		d[i] = 1000 + (i & 1);
	credit = entropy_jitter_credit(d, 1024, &per);
	assert_in_range(per, 225, 229);
	assert_int_equal(credit, per / 2 * 1024);

	/* Spread over all 256 low bytes: capped at half a bit a sample. */
	for (i = 0; i < 1024; i++)
		d[i] = 100000 + (i * 37) % 256;
	credit = entropy_jitter_credit(d, 1024, &per);
	assert_in_range(per, 1740, 1744);
	assert_int_equal(credit, 128 * 1024);
	/* Enough for one output: 1024 samples at 1/2 bit > 320 bits. */
	assert_true(credit >= ENTROPY_NEED);

	/* Repetition count test (SP 800-90B 4.4.1), cutoff 41: a run of 40
	 * equal samples passes, 41 fail the whole batch. */
	for (i = 0; i < 40; i++)
		d[500 + i] = 7;
	assert_int_not_equal(entropy_jitter_credit(d, 1024, &per), 0);
	d[540] = 7;
	assert_int_equal(entropy_jitter_credit(d, 1024, &per), 0);

	assert_int_equal(entropy_jitter_credit(d, 1, &per), 0);
}

static void test_pool(void **state)
{
	struct entropy_pool p;
	uint8_t out[32], out2[32];
	char hex[65];

	(void)state;
	/* The output is the SHA-256 of everything added, in order. */
	entropy_pool_init(&p);
	entropy_pool_add(&p, "abc", 3, 0);
	assert_false(entropy_pool_full(&p));
	entropy_pool_extract(&p, out);
	tls_hex(out, 32, hex);
	assert_string_equal(hex, sha256_abc);
	entropy_pool_init(&p);
	entropy_pool_add(&p, "a", 1, 0);
	entropy_pool_add(&p, "bc", 2, 0);
	entropy_pool_extract(&p, out2);
	assert_memory_equal(out, out2, 32);

	/* Full at 256 + 64 bits of credit (SP 800-90B 3.1.5.1.2). */
	static const uint8_t zero[64];
	entropy_pool_init(&p);
	entropy_pool_add(&p, zero, 32, 256 * ENTROPY_FRAC);
	assert_false(entropy_pool_full(&p));
	entropy_pool_add(&p, zero, 8, 63 * ENTROPY_FRAC);
	assert_false(entropy_pool_full(&p));
	entropy_pool_add(&p, zero, 8, 1 * ENTROPY_FRAC);
	assert_true(entropy_pool_full(&p));
	entropy_pool_extract(&p, out);

	/* No input is credited more bits than it has. */
	entropy_pool_init(&p);
	entropy_pool_add(&p, zero, 1, 1000 * ENTROPY_FRAC);
	assert_int_equal(p.credit, 8 * ENTROPY_FRAC);
	entropy_pool_add(&p, zero, 39, UINT32_MAX);
	assert_true(entropy_pool_full(&p));
	entropy_pool_extract(&p, out);
	assert_int_equal(p.credit, 0);
}

/* A P-256 certificate made with openssl req -x509; its fingerprint from
 * openssl x509 -fingerprint -sha256:
 * D2:D8:B9:96:78:EB:EF:56:AC:4C:45:3C:25:0A:99:4A:71:E5:63:FF:4D:B0:89:76:
 * 3C:E0:5F:A5:E9:B6:98:2B */
static const uint8_t cert_der[] = {
	0x30, 0x82, 0x01, 0x6d, 0x30, 0x82, 0x01, 0x13, 0xa0, 0x03, 0x02, 0x01,
	0x02, 0x02, 0x14, 0x53, 0x1f, 0x00, 0x93, 0x90, 0x9a, 0xd7, 0x62, 0xd2,
	0x2d, 0x50, 0xc0, 0x9a, 0xdc, 0x39, 0x33, 0xdc, 0xeb, 0xc6, 0x8d, 0x30,
	0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
	0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01,
	0x74, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x35, 0x32,
	0x30, 0x30, 0x33, 0x31, 0x32, 0x5a, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31,
	0x32, 0x36, 0x32, 0x30, 0x30, 0x33, 0x31, 0x32, 0x5a, 0x30, 0x0c, 0x31,
	0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, 0x74, 0x30,
	0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42,
	0x00, 0x04, 0xbf, 0x09, 0x82, 0xa3, 0xc9, 0x92, 0x9b, 0x3e, 0xa9, 0x2b,
	0x0a, 0x70, 0x6f, 0x7a, 0x66, 0x08, 0x3e, 0x55, 0xdc, 0x3d, 0x05, 0x7c,
	0xe2, 0x30, 0x70, 0xbe, 0x20, 0x9c, 0x97, 0x58, 0xcd, 0xf6, 0xa3, 0x6b,
	0xfc, 0x25, 0x49, 0x95, 0x72, 0x34, 0x88, 0x60, 0x15, 0x9a, 0xe0, 0xaa,
	0x9c, 0x15, 0x08, 0x2d, 0xae, 0x0f, 0xba, 0xc3, 0x26, 0x21, 0x11, 0x6d,
	0xaf, 0x72, 0x08, 0x31, 0x2e, 0xdf, 0xa3, 0x53, 0x30, 0x51, 0x30, 0x1d,
	0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0xcd, 0x51, 0x8e,
	0x16, 0x65, 0x7b, 0xc3, 0x01, 0x2a, 0x97, 0x17, 0x84, 0xc5, 0x11, 0xe3,
	0x5a, 0xeb, 0xc2, 0xd2, 0x89, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23,
	0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xcd, 0x51, 0x8e, 0x16, 0x65, 0x7b,
	0xc3, 0x01, 0x2a, 0x97, 0x17, 0x84, 0xc5, 0x11, 0xe3, 0x5a, 0xeb, 0xc2,
	0xd2, 0x89, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff,
	0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30, 0x0a, 0x06, 0x08, 0x2a,
	0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x48, 0x00, 0x30, 0x45,
	0x02, 0x20, 0x3a, 0x28, 0x8e, 0x13, 0x92, 0xeb, 0x8e, 0xaf, 0x2a, 0x0c,
	0x07, 0x62, 0x87, 0x8d, 0x25, 0x6d, 0x65, 0xdf, 0x90, 0x89, 0x1f, 0xe2,
	0x26, 0x32, 0x17, 0x10, 0x15, 0x34, 0xdb, 0x31, 0xa5, 0xc8, 0x02, 0x21,
	0x00, 0xb1, 0x58, 0x58, 0x57, 0x69, 0x74, 0xde, 0xba, 0xdc, 0x6d, 0xad,
	0x9a, 0x00, 0x9c, 0x53, 0xf4, 0x4b, 0x57, 0x70, 0xeb, 0x97, 0x09, 0x9a,
	0x81, 0x3b, 0x86, 0xba, 0x3b, 0xee, 0x88, 0xab, 0x5f
};

static void test_fingerprint(void **state)
{
	char fp[TLS_FP_HEX + 1];
	uint8_t bin[3] = { 0x00, 0xff, 0x0a };
	char hex[7];

	(void)state;
	memset(fp, 'x', sizeof(fp));
	tls_fingerprint_der(cert_der, sizeof(cert_der), fp);
	assert_string_equal(fp, "d2d8b99678ebef56ac4c453c250a994a"
				"71e563ff4db089763ce05fa5e9b6982b");
	assert_int_equal(strlen(fp), TLS_FP_HEX);
	tls_fingerprint_der((const uint8_t *)"abc", 3, fp);
	assert_string_equal(fp, sha256_abc);
	tls_hex(bin, 3, hex);
	assert_string_equal(hex, "00ff0a");
	tls_hex(bin, 0, hex);
	assert_string_equal(hex, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mcv_estimate),
		cmocka_unit_test(test_jitter_credit),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_fingerprint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
