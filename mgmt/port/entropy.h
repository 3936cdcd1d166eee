/*
 * entropy.h - the entropy behind mbedTLS (mbedtls_hardware_poll) and the
 * management agent's random numbers: the sources (RDSEED, RDRAND, the UEFI
 * RNG seed in boot_info, TSC jitter; entropy.c) and the pure part the host
 * tests check (entropy_est.c): how much a batch of TSC samples is credited
 * and the SHA-256 conditioning of everything gathered.
 */
#ifndef KEEL_MGMT_ENTROPY_H
#define KEEL_MGMT_ENTROPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/sha256.h"

/* Entropy credits are counted in 1/256 bit. */
#define ENTROPY_FRAC 256u
/* A 32-byte output has full entropy once 256 + 64 bits went into the
 * conditioner (NIST SP 800-90B 3.1.5.1.2, vetted conditioning, n_out + 64). */
#define ENTROPY_OUT_BYTES 32
#define ENTROPY_NEED ((8 * ENTROPY_OUT_BYTES + 64) * ENTROPY_FRAC)

/* Min-entropy per sample of n 8-bit samples given as a histogram, by the
 * most-common-value estimate of NIST SP 800-90B 6.3.1 (99% upper bound on
 * the most common value's probability), in 1/256 bit; 0 when n < 2. */
uint32_t entropy_mcv_estimate(const uint32_t hist[256], uint32_t n);

/* What n TSC deltas (cycles around a fixed busy operation) are credited, in
 * 1/256 bit: half the MCV estimate of their low 8 bits (the samples are not
 * independent), at most half a bit per sample; 0 when the repetition count
 * test (SP 800-90B 4.4.1, cutoff for H = 1/2) finds the counter stuck.
 * *per_sample gets the MCV estimate itself (for the log). */
uint32_t entropy_jitter_credit(const uint64_t *deltas, uint32_t n,
			       uint32_t *per_sample);

/* The conditioner: SHA-256 over every input, with the credits added up. */
struct entropy_pool {
	mbedtls_sha256_context sha;
	uint32_t credit; /* 1/256 bit */
};

void entropy_pool_init(struct entropy_pool *p);
void entropy_pool_add(struct entropy_pool *p, const void *data, size_t len,
		      uint32_t credit);
bool entropy_pool_full(const struct entropy_pool *p);
/* The SHA-256 of everything added; the pool is wiped and must be
 * initialised again. */
void entropy_pool_extract(struct entropy_pool *p,
			  uint8_t out[ENTROPY_OUT_BYTES]);

/* ---- kernel side (entropy.c) ---- */

/* The firmware's RNG output from boot_info (EFI_RNG_PROTOCOL); credited at
 * the first poll only, then wiped. */
void entropy_set_boot_seed(const uint8_t *seed, size_t len);

#endif
