/*
 * time.h - Keel's clock: the TSC, calibrated at boot against a reference timer
 * (HPET, else the ACPI PM timer, else PIT channel 2), read as nanoseconds since
 * time_init(), and busy-wait delays. Integer arithmetic only.
 *
 * time_ns() assumes the TSCs of all CPUs tick together from a common start
 * (invariant, synchronized TSC: every server CPU of the last decade).
 */
#ifndef KEEL_TIME_H
#define KEEL_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* The references the TSC can be calibrated against, in the order time_init()
 * tries them. */
enum time_ref {
	TIME_REF_HPET = 0,     /* IA-PC HPET 1.0a main counter */
	TIME_REF_PM_TIMER = 1, /* ACPI PM timer, 3.579545 MHz, 24 or 32 bit */
	TIME_REF_PIT = 2,      /* i8254 channel 2, 1.193182 MHz, gated by port 0x61 */
	TIME_REF_COUNT
};

/* BSP, after acpi_init() and mm_init(): calibrate the TSC against the first
 * reference that works, log "time: TSC 2096.123 MHz (calibrated against HPET,
 * 30 ms)" and start the clock. Falls back to the CPUID 0x15/0x16 frequency
 * (with an error logged) when no reference works. Returns 0 or a KEEL_E* code. */
int time_init(void);
/* Same, against one reference only (self-tests compare the references). When
 * the clock already runs it is re-based, so time_ns() stays monotonic; call it
 * while no other CPU arms timers. KEEL_ENOENT when the reference is absent. */
int time_init_with(enum time_ref ref);
/* Measure the TSC frequency against ref without touching the clock
 * (3 windows of 10 ms, median). KEEL_ENOENT, KEEL_ETIMEDOUT or KEEL_ERANGE. */
int time_measure_tsc_hz(enum time_ref ref, uint64_t *hz);
/* Whether the firmware describes ref (HPET table, FADT PM_TMR; PIT: always). */
bool time_ref_available(enum time_ref ref);
const char *time_ref_name(enum time_ref ref);

uint64_t time_tsc_hz(void);		/* 0 before time_init() */
uint64_t time_ns(void);			/* since time_init(); 0 before */
uint64_t time_ns_to_tsc(uint64_t ns);	/* saturates at UINT64_MAX */
void time_udelay(uint64_t us);		/* busy-wait on the TSC */
/* "HPET", "ACPI PM timer", "PIT", "CPUID" (fallback) or "none". */
const char *time_source_name(void);

/* ---- Pure arithmetic, shared with kernel/apic.c and the unit tests. ---- */

/* floor(a * b / c) with a 128-bit intermediate and no libgcc call;
 * UINT64_MAX when c is 0 or the quotient does not fit in 64 bits. */
uint64_t time_mul_div(uint64_t a, uint64_t b, uint64_t c);

/* Elapsed ticks of a free-running up-counter 'bits' wide (24, 32 or 64)
 * from start to end, across at most one wrap. */
uint64_t time_counter_delta(uint64_t start, uint64_t end, unsigned bits);

/* TSC frequency from one window: tsc_delta cycles while a reference of
 * ref_num / ref_den Hz advanced ref_ticks. 0 when an input is 0 or the
 * result overflows. */
uint64_t time_calc_hz(uint64_t tsc_delta, uint64_t ref_ticks, uint64_t ref_num,
		      uint64_t ref_den);

/* TSC frequency the CPU reports: CPUID 0x15 (crystal * EBX / EAX) when it
 * gives a crystal frequency, else CPUID 0x16 base MHz, else 0. leaf15 and
 * leaf16 are {eax, ebx, ecx, edx}; leaves above max_leaf are ignored. */
uint64_t time_cpuid_tsc_hz(uint32_t max_leaf, const uint32_t leaf15[4],
			   const uint32_t leaf16[4]);

/* Median of n values (n >= 1; sorts vals in place). */
uint64_t time_median(uint64_t *vals, unsigned n);

/* A fixed-point rate: to = from * mult >> 32 (one multiply on hot paths). */
struct time_scale {
	uint64_t mult;
};
#define TIME_SCALE_SHIFT 32

/* Scale for converting counts of from_hz into counts of to_hz (to_hz / from_hz
 * must be below 2^32). */
static inline struct time_scale time_scale_make(uint64_t from_hz, uint64_t to_hz)
{
	struct time_scale s = {
		.mult = time_mul_div(to_hz, 1ULL << TIME_SCALE_SHIFT, from_hz),
	};
	return s;
}

static inline uint64_t time_scale_apply(struct time_scale s, uint64_t x)
{
	unsigned __int128 p = (unsigned __int128)x * s.mult;

	p >>= TIME_SCALE_SHIFT;
	return (p >> 64) ? UINT64_MAX : (uint64_t)p;
}

#endif
