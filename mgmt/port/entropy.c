/*
 * entropy.c - mbedtls_hardware_poll for Keel: each call returns 32 bytes of
 * full entropy conditioned by SHA-256 (entropy_est.c) from what the machine
 * has, in this order: the firmware's seed (once), RDSEED, RDRAND, and TSC
 * jitter (always one round, more until enough is credited); it fails when
 * the sources together do not reach 320 bits. Only the management thread calls it (mbedTLS runs
 * there alone), so the sample buffer is static.
 */
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "mbedtls/entropy.h"
#include "mgmt/port/entropy.h"

/* Credits, in 1/256 bit, per 64-bit word. RDSEED returns full-entropy
 * output of the conditioned hardware source (Intel DRNG Software
 * Implementation Guide 3.2, AMD's equivalent); RDRAND is a DRBG output,
 * reseeded at least every 511 128-bit samples (DRNG guide 4.2.5), so 1024
 * words carry at least 128 fresh bits: 1/8 bit a word. */
#define RDSEED_CREDIT (64 * ENTROPY_FRAC)
#define RDRAND_CREDIT (ENTROPY_FRAC / 8)
#define RDSEED_MIN 8
#define RDRAND_MIN 64
#define RDRAND_WORDS_MAX 4096
#define JITTER_SAMPLES 1024
#define JITTER_ROUNDS_MAX 16

static uint8_t boot_seed[64];
static size_t boot_seed_len;
static uint64_t jitter_deltas[JITTER_SAMPLES];
static volatile uint8_t jitter_mem[16384];
static bool sources_logged;

void entropy_set_boot_seed(const uint8_t *seed, size_t len)
{
	if (len > sizeof(boot_seed))
		len = sizeof(boot_seed);
	memcpy(boot_seed, seed, len);
	boot_seed_len = len;
}

/* SDM vol.1 7.3.17: CF=1 when a value was returned. */
static bool rdseed64(uint64_t *v)
{
	bool ok;

	__asm__ volatile("rdseed %0" : "=r"(*v), "=@ccc"(ok));
	return ok;
}

static bool rdrand64(uint64_t *v)
{
	bool ok;

	__asm__ volatile("rdrand %0" : "=r"(*v), "=@ccc"(ok));
	return ok;
}

static inline uint64_t rdtsc_ordered(void)
{
	__asm__ volatile("lfence" ::: "memory");
	return rdtsc();
}

/* One round of TSC samples around a short walk over memory whose path
 * depends on the previous timings: the time it takes varies with caches,
 * TLBs, interrupts, SMIs and, in a VM, the host. */
static uint32_t jitter_round(struct entropy_pool *pool, uint32_t *per_sample)
{
	uint64_t idx = rdtsc();
	uint32_t i, k, credit;

	for (i = 0; i < JITTER_SAMPLES; i++) {
		uint64_t t0 = rdtsc_ordered(), t1;

		for (k = 0; k < 16; k++) {
			idx = idx * 6364136223846793005ull + t0 + k;
			jitter_mem[(idx >> 33) % sizeof(jitter_mem)] ^= (uint8_t)k;
		}
		t1 = rdtsc_ordered();
		jitter_deltas[i] = t1 - t0;
	}
	credit = entropy_jitter_credit(jitter_deltas, JITTER_SAMPLES,
				       per_sample);
	entropy_pool_add(pool, jitter_deltas, sizeof(jitter_deltas), credit);
	return credit;
}

int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len,
			  size_t *olen)
{
	struct entropy_pool pool;
	uint8_t buf[ENTROPY_OUT_BYTES];
	uint32_t seed_bits = 0, rdseed_words = 0, rdrand_words = 0;
	uint32_t rounds = 0, per_sample = 0;
	uint64_t v, t = rdtsc();
	enum log_level level;
	int i;

	(void)data;
	*olen = 0;
	entropy_pool_init(&pool);
	entropy_pool_add(&pool, &t, sizeof(t), 0);

	if (boot_seed_len) {
		seed_bits = (uint32_t)boot_seed_len * 8;
		entropy_pool_add(&pool, boot_seed, boot_seed_len,
				 seed_bits * ENTROPY_FRAC);
		memset(boot_seed, 0, sizeof(boot_seed));
		boot_seed_len = 0;
	}
	/* Every source the CPU has adds something, more until the credit is
	 * reached. RDSEED may run dry under load: retry a little (DRNG
	 * guide 5.3.1). */
	for (i = 0; cpu_features.rdseed && i < 64 &&
		    (i < RDSEED_MIN || !entropy_pool_full(&pool));
	     i++) {
		if (rdseed64(&v)) {
			entropy_pool_add(&pool, &v, sizeof(v), RDSEED_CREDIT);
			rdseed_words++;
		} else {
			cpu_relax();
		}
	}
	for (i = 0; cpu_features.rdrand && i < RDRAND_WORDS_MAX &&
		    (i < RDRAND_MIN || !entropy_pool_full(&pool));
	     i++) {
		if (rdrand64(&v)) {
			entropy_pool_add(&pool, &v, sizeof(v), RDRAND_CREDIT);
			rdrand_words++;
		}
	}
	/* At least one round even when the other sources sufficed: should
	 * one of them be weaker than its credit says, this still counts. */
	do {
		jitter_round(&pool, &per_sample);
		rounds++;
	} while (!entropy_pool_full(&pool) && rounds < JITTER_ROUNDS_MAX);

	/* The first time at info, failures as errors, the rest for debug. */
	level = !entropy_pool_full(&pool) ? LOG_ERROR
		: sources_logged	  ? LOG_DEBUG
					  : LOG_INFO;
	sources_logged = true;
	klog(level,
	     "entropy: %s: firmware seed %u bits, RDSEED %s (%u words), RDRAND "
	     "%s (%u words), TSC jitter %u.%02u bits/sample (%u x %u samples)",
	     entropy_pool_full(&pool) ? "seeded" : "NOT ENOUGH", seed_bits,
	     cpu_features.rdseed ? "yes" : "no", rdseed_words,
	     cpu_features.rdrand ? "yes" : "no", rdrand_words,
	     per_sample / ENTROPY_FRAC,
	     per_sample % ENTROPY_FRAC * 100 / ENTROPY_FRAC, rounds,
	     JITTER_SAMPLES);
	if (!entropy_pool_full(&pool)) {
		entropy_pool_extract(&pool, buf);
		memset(buf, 0, sizeof(buf));
		return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
	}
	entropy_pool_extract(&pool, buf);
	*olen = len < sizeof(buf) ? len : sizeof(buf);
	memcpy(out, buf, *olen);
	memset(buf, 0, sizeof(buf));
	return 0;
}
