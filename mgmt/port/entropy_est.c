/*
 * entropy_est.c - the arithmetic of Keel's entropy: a min-entropy estimate
 * (NIST SP 800-90B 6.3.1) in integer fixed point, the credit for a batch of
 * TSC jitter samples, and SHA-256 conditioning. Pure: no kernel calls, so
 * the host unit tests (tests/unit/test_entropy.c) run this same code.
 */
#include <string.h>

#include "mgmt/port/entropy.h"

/* floor(sqrt(x)) */
static uint64_t isqrt64(uint64_t x)
{
	uint64_t r = 0, bit = 1ull << 62;

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/* log2(x) for x >= 1, in 1/256: the integer part from the top bit, eight
 * fraction bits by repeated squaring of the mantissa in [1, 2). */
static uint32_t log2_fx(uint64_t x)
{
	unsigned ip = 63 - (unsigned)__builtin_clzll(x);
	uint64_t y = ip >= 31 ? x >> (ip - 31) : x << (31 - ip);
	uint32_t frac = 0;
	int b;

	for (b = 0; b < 8; b++) {
		y = (y * y) >> 31; /* y in [2^31, 2^33) */
		frac <<= 1;
		if (y >= (1ull << 32)) {
			y >>= 1;
			frac |= 1;
		}
	}
	return ip * ENTROPY_FRAC + frac;
}

uint32_t entropy_mcv_estimate(const uint32_t hist[256], uint32_t n)
{
	uint64_t p, var, pu;
	uint32_t c = 0;
	int i;

	if (n < 2)
		return 0;
	for (i = 0; i < 256; i++)
		if (hist[i] > c)
			c = hist[i];
	/* 6.3.1 step 2-3: p_u = min(1, p + 2.576 sqrt(p (1 - p) / (n - 1))),
	 * with p = c / n, all in Q32. */
	p = ((uint64_t)c << 32) / n;
	var = (p * ((1ull << 32) - p)) >> 32;
	var /= n - 1;
	pu = p + isqrt64(var << 32) * 2576 / 1000;
	if (pu >= 1ull << 32)
		return 0;
	/* step 4: H = -log2(p_u) = 32 - log2(p_u * 2^32) */
	return 32 * ENTROPY_FRAC - log2_fx(pu);
}

uint32_t entropy_jitter_credit(const uint64_t *deltas, uint32_t n,
			       uint32_t *per_sample)
{
	/* 4.4.1: C = 1 + ceil(20 / H) with H = 1/2 bit: a run of 41 equal
	 * samples has probability 2^-20 for a healthy source. */
	const uint32_t cutoff = 41;
	uint32_t hist[256] = { 0 };
	uint32_t run = 1, h, credit_per;
	uint32_t i;

	*per_sample = 0;
	if (n < 2)
		return 0;
	for (i = 0; i < n; i++) {
		hist[deltas[i] & 0xff]++;
		if (i && deltas[i] == deltas[i - 1]) {
			if (++run >= cutoff)
				return 0;
		} else {
			run = 1;
		}
	}
	h = entropy_mcv_estimate(hist, n);
	*per_sample = h;
	credit_per = h / 2;
	if (credit_per > ENTROPY_FRAC / 2)
		credit_per = ENTROPY_FRAC / 2;
	return credit_per * n;
}

void entropy_pool_init(struct entropy_pool *p)
{
	mbedtls_sha256_init(&p->sha);
	mbedtls_sha256_starts(&p->sha, 0);
	p->credit = 0;
}

void entropy_pool_add(struct entropy_pool *p, const void *data, size_t len,
		      uint32_t credit)
{
	/* Never credit more than the input can hold. */
	if ((uint64_t)credit > (uint64_t)len * 8 * ENTROPY_FRAC)
		credit = (uint32_t)(len * 8 * ENTROPY_FRAC);
	mbedtls_sha256_update(&p->sha, data, len);
	p->credit = p->credit + credit < p->credit ? UINT32_MAX
						   : p->credit + credit;
}

bool entropy_pool_full(const struct entropy_pool *p)
{
	return p->credit >= ENTROPY_NEED;
}

void entropy_pool_extract(struct entropy_pool *p,
			  uint8_t out[ENTROPY_OUT_BYTES])
{
	mbedtls_sha256_finish(&p->sha, out);
	mbedtls_sha256_free(&p->sha);
	p->credit = 0;
}
