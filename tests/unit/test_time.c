/*
 * test_time.c - kernel/time.c on the host: the calibration arithmetic, and the
 * calibration itself against simulated hardware (a TSC, an HPET, an ACPI PM
 * timer and PIT channel 2, all driven by one simulated clock that every
 * access advances), including dead, wrapping and glitching references.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/acpi.h"
#include "kernel/err.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "tests/unit/shim/host_shim.h"

#define NS 1000000000ULL

/* ------------------------------------------------------ simulated machine - */

struct acpi_info acpi;

static struct {
	uint64_t ns;		 /* real time */
	uint64_t tsc_hz, tsc_offset;
	unsigned cost_tsc, cost_io, cost_mmio; /* ns each access takes */
	uint32_t cpuid_max, cpuid15[4], cpuid16[4];

	uint32_t hpet_cap, hpet_period, hpet_config;
	uint64_t hpet_enabled_ns, hpet_counter0;
	int hpet_stuck;
	unsigned maps;

	uint16_t pm_port;
	uint32_t pm_offset;
	int pm_bits;
	uint64_t pm_reads, pm_glitch_at; /* read number that returns garbage */

	int pit_absent;
	uint8_t portb;
	int pit_lsb_next;
	uint32_t pit_count;
	uint64_t pit_load_ns;
} sim;

static uint8_t hpet_page[8192] __attribute__((aligned(4096)));
#define SIM_HPET_PA 0xFED00000ULL

static uint64_t sim_ticks(uint64_t ns, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)ns * hz / NS);
}

uint64_t hw_rdtsc(void)
{
	sim.ns += sim.cost_tsc;
	return sim.tsc_offset + sim_ticks(sim.ns, sim.tsc_hz);
}

void hw_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	memset(r, 0, 4 * sizeof(uint32_t));
	if (leaf == 0)
		r[0] = sim.cpuid_max;
	else if (leaf == 0x15)
		memcpy(r, sim.cpuid15, sizeof(sim.cpuid15));
	else if (leaf == 0x16)
		memcpy(r, sim.cpuid16, sizeof(sim.cpuid16));
}

uint64_t hw_irq_save(void) { return 0; }
void hw_irq_restore(uint64_t flags) { (void)flags; }

void *mm_map_mmio(uint64_t pa, uint64_t len, unsigned prot)
{
	assert_true(prot & PT_UC);
	assert_int_equal(pa & (PAGE_SIZE - 1), 0);
	assert_true(len >= PAGE_SIZE && len <= sizeof(hpet_page));
	sim.maps++;
	return pa == (acpi.hpet_address & PAGE_MASK) ? hpet_page : NULL;
}

static uint32_t sim_hpet_counter(void)
{
	uint64_t c = sim.hpet_counter0;

	if ((sim.hpet_config & 1) && !sim.hpet_stuck)
		c += (uint64_t)((unsigned __int128)(sim.ns - sim.hpet_enabled_ns) *
				1000000 / sim.hpet_period);
	return (uint32_t)c;
}

uint32_t hw_mmio_read32(const volatile uint32_t *p)
{
	size_t off = (const uint8_t *)p - hpet_page -
		     (acpi.hpet_address & (PAGE_SIZE - 1));

	sim.ns += sim.cost_mmio;
	switch (off) {
	case 0x0: return sim.hpet_cap;
	case 0x4: return sim.hpet_period;
	case 0x10: return sim.hpet_config;
	case 0xF0: return sim_hpet_counter();
	}
	fail_msg("HPET read at %#zx", off);
	return 0;
}

void hw_mmio_write32(volatile uint32_t *p, uint32_t v)
{
	size_t off = (uint8_t *)p - hpet_page - (acpi.hpet_address & (PAGE_SIZE - 1));

	sim.ns += sim.cost_mmio;
	assert_int_equal(off, 0x10); /* only the configuration is written */
	if ((v & 1) && !(sim.hpet_config & 1))
		sim.hpet_enabled_ns = sim.ns;
	sim.hpet_config = v;
}

uint32_t hw_inl(uint16_t port)
{
	uint64_t v;

	sim.ns += sim.cost_io;
	assert_int_equal(port, sim.pm_port);
	if (++sim.pm_reads == sim.pm_glitch_at)
		return 0x00123456; /* one bad read, as on some old chipsets */
	v = sim.pm_offset + sim_ticks(sim.ns, 3579545);
	/* A 24-bit timer's top byte reads as anything: the kernel masks it. */
	return sim.pm_bits == 24 ? (uint32_t)(v & 0xFFFFFF) | 0xAB000000u
				 : (uint32_t)v;
}

uint8_t hw_inb(uint16_t port)
{
	uint64_t elapsed;

	sim.ns += sim.cost_io;
	assert_int_equal(port, 0x61);
	if (sim.pit_absent)
		return 0xFF;
	/* Mode 0: the first CLK after the count loads it, N more make OUT high. */
	elapsed = sim_ticks(sim.ns, 1193182) - sim_ticks(sim.pit_load_ns, 1193182);
	if ((sim.portb & 1) && elapsed >= sim.pit_count + 1)
		return sim.portb | 0x20;
	return sim.portb & ~0x20;
}

void hw_outb(uint16_t port, uint8_t v)
{
	sim.ns += sim.cost_io;
	switch (port) {
	case 0x61:
		sim.portb = v & 0x0F;
		break;
	case 0x43:
		assert_int_equal(v, 0xB0);
		sim.pit_lsb_next = 1;
		break;
	case 0x42:
		if (sim.pit_lsb_next) {
			sim.pit_count = v;
			sim.pit_lsb_next = 0;
		} else {
			sim.pit_count |= (uint32_t)v << 8;
			sim.pit_load_ns = sim.ns;
		}
		break;
	default:
		fail_msg("outb to %#x", port);
	}
}

/* A server: 2.096123456 GHz TSC, 14.318180 MHz HPET, 24-bit PM timer. */
static int sim_reset(void **state)
{
	(void)state;
	memset(&sim, 0, sizeof(sim));
	memset(&acpi, 0, sizeof(acpi));
	sim.ns = 5 * NS;
	sim.tsc_hz = 2096123456;
	sim.tsc_offset = 123456789;
	sim.cost_tsc = 20;
	sim.cost_io = 700;
	sim.cost_mmio = 250;
	sim.cpuid_max = 0x16;
	sim.cpuid16[0] = 2100;
	sim.hpet_cap = 0x8086A201;
	sim.hpet_period = 69841279; /* fs: 14.31818 MHz */
	sim.hpet_counter0 = 0xFFFF0000;	/* 32-bit wrap inside the window */
	sim.pm_port = 0x608;
	sim.pm_bits = 24;
	sim.pm_offset = 0xFFFF00;
	acpi.have_hpet = true;
	acpi.hpet_address = SIM_HPET_PA;
	acpi.have_fadt = true;
	acpi.pm_tmr.space = ACPI_SPACE_IO;
	acpi.pm_tmr.address = sim.pm_port;
	acpi.pm_tmr_32bit = false;
	test_log_reset();
	return 0;
}

/* |a - b| / b <= ppm / 1e6 */
static void assert_near_ppm(uint64_t a, uint64_t b, uint64_t ppm)
{
	uint64_t d = a > b ? a - b : b - a;

	if ((unsigned __int128)d * 1000000 > (unsigned __int128)b * ppm)
		fail_msg("%llu is not within %llu ppm of %llu", (unsigned long long)a,
			 (unsigned long long)ppm, (unsigned long long)b);
}

/* ------------------------------------------------------------ arithmetic -- */

static void test_before_init(void **state)
{
	(void)state;
	/* Runs first: the clock is not started yet. */
	assert_int_equal(time_ns(), 0);
	assert_int_equal(time_tsc_hz(), 0);
	assert_string_equal(time_source_name(), "none");
	/* Delays before calibration assume a 10 GHz TSC: long, never short. */
	assert_int_equal(time_ns_to_tsc(1000), 10000);
}

static void test_mul_div(void **state)
{
	uint64_t x = 88172645463325252ULL;

	(void)state;
	assert_int_equal(time_mul_div(0, 123, 7), 0);
	assert_int_equal(time_mul_div(10, 3, 4), 7);
	assert_int_equal(time_mul_div(3, 5, 0), UINT64_MAX);
	assert_int_equal(time_mul_div(1ULL << 63, 4, 1), UINT64_MAX); /* 2^65 */
	assert_int_equal(time_mul_div(1ULL << 63, 4, 4), 1ULL << 63);
	assert_int_equal(time_mul_div(UINT64_MAX, UINT64_MAX, UINT64_MAX), UINT64_MAX);
	assert_int_equal(time_mul_div(UINT64_MAX, UINT64_MAX - 1, UINT64_MAX),
			 UINT64_MAX - 1);
	/* Against the compiler's 128-bit division, over xorshift values. */
	for (int i = 0; i < 20000; i++) {
		uint64_t a, b, c;
		unsigned __int128 q;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17, a = x;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17, b = x >> (i % 64);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17, c = (x >> (i % 61)) | 1;
		q = (unsigned __int128)a * b / c;
		assert_int_equal(time_mul_div(a, b, c),
				 q >> 64 ? UINT64_MAX : (uint64_t)q);
	}
}

static void test_counter_delta(void **state)
{
	(void)state;
	assert_int_equal(time_counter_delta(0xFFFFF0, 0x000010, 24), 0x20);
	assert_int_equal(time_counter_delta(0x100, 0x100, 24), 0);
	/* Bits above the counter's width are ignored. */
	assert_int_equal(time_counter_delta(0xAB000005, 0xCD000009, 24), 4);
	assert_int_equal(time_counter_delta(0xFFFFFFF0u, 0x10, 32), 0x20);
	assert_int_equal(time_counter_delta(0x10, 0xFFFFFFF0u, 32), 0xFFFFFFE0u);
	assert_int_equal(time_counter_delta(UINT64_MAX, 1, 64), 2);
	assert_int_equal(time_counter_delta(5, 1005, 64), 1000);
}

static void test_calc_hz(void **state)
{
	(void)state;
	/* PM timer: 35795 ticks in 20958000 TSC cycles. */
	assert_int_equal(time_calc_hz(20958000, 35795, 3579545, 1),
			 (uint64_t)(20958000ULL * 3579545 / 35795));
	/* HPET, fs period: the product overflows 64 bits, not the result. */
	assert_int_equal(time_calc_hz(20961234, 143182, 1000000000000000ULL, 69841279),
			 (uint64_t)((unsigned __int128)20961234 * 1000000000000000ULL /
				    ((unsigned __int128)143182 * 69841279)));
	/* PIT: 2N+1 half ticks. */
	assert_int_equal(time_calc_hz(20962000, 2 * 11931 + 1, 2 * 1193182, 1),
			 (uint64_t)(20962000ULL * 2 * 1193182 / (2 * 11931 + 1)));
	/* Zero anywhere: no frequency. */
	assert_int_equal(time_calc_hz(0, 1, 1, 1), 0);
	assert_int_equal(time_calc_hz(1, 0, 1, 1), 0);
	assert_int_equal(time_calc_hz(1, 1, 0, 1), 0);
	assert_int_equal(time_calc_hz(1, 1, 1, 0), 0);
	/* ticks * den overflows; a result past 64 bits. */
	assert_int_equal(time_calc_hz(1000, 1ULL << 40, 1, 1ULL << 30), 0);
	assert_int_equal(time_calc_hz(UINT64_MAX, 1, 1000, 1), 0);
}

static void test_cpuid_hz(void **state)
{
	uint32_t l15[4] = { 2, 176, 24000000, 0 }, l16[4] = { 2100, 0, 0, 0 };
	uint32_t none[4] = { 0 };

	(void)state;
	assert_int_equal(time_cpuid_tsc_hz(0x16, l15, l16), 2112000000ULL);
	assert_int_equal(time_cpuid_tsc_hz(0x15, l15, l16), 2112000000ULL);
	/* No crystal frequency in 15H: base MHz from 16H. */
	l15[2] = 0;
	assert_int_equal(time_cpuid_tsc_hz(0x16, l15, l16), 2100000000ULL);
	/* A zero denominator does not divide. */
	l15[0] = 0, l15[2] = 24000000;
	assert_int_equal(time_cpuid_tsc_hz(0x16, l15, l16), 2100000000ULL);
	/* Leaves above the maximum are ignored; nothing: 0. */
	assert_int_equal(time_cpuid_tsc_hz(0xD, l15, l16), 0);
	assert_int_equal(time_cpuid_tsc_hz(0x16, none, none), 0);
	l16[0] = 0xFFFF0000; /* EAX[31:16] reserved */
	assert_int_equal(time_cpuid_tsc_hz(0x16, none, l16), 0);
}

static void test_median_scale(void **state)
{
	uint64_t a[] = { 5, 1, 3 }, b[] = { 7 }, c[] = { 2, 9, 2, 1, 5 };
	struct time_scale to_ns = time_scale_make(2096123456, NS);
	struct time_scale to_tsc = time_scale_make(NS, 2096123456);

	(void)state;
	assert_int_equal(time_median(a, 3), 3);
	assert_int_equal(time_median(b, 1), 7);
	assert_int_equal(time_median(c, 5), 2);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[4], 9);
	assert_near_ppm(time_scale_apply(to_ns, 2096123456), NS, 1);
	assert_near_ppm(time_scale_apply(to_tsc, NS), 2096123456, 1);
	/* A year of TSC cycles in ns, within a millisecond. */
	assert_near_ppm(time_scale_apply(to_ns, 2096123456ULL * 31536000),
			31536000 * NS, 1);
	/* Past 2^64: saturates instead of wrapping. */
	assert_int_equal(time_scale_apply(to_tsc, UINT64_MAX), UINT64_MAX);
	assert_true(time_scale_apply(to_ns, UINT64_MAX) < UINT64_MAX);
}

/* ----------------------------------------------------------- calibration -- */

static void test_hpet(void **state)
{
	uint64_t t0, ns;

	(void)state;
	assert_int_equal(time_init(), 0);
	assert_string_equal(time_source_name(), "HPET");
	assert_near_ppm(time_tsc_hz(), sim.tsc_hz, 50);
	assert_true(sim.hpet_config & 1); /* main counter enabled, left running */
	assert_non_null(strstr(test_log_all, "time: TSC 2096.1"));
	assert_non_null(strstr(test_log_all, "(calibrated against HPET, 3"));
	assert_non_null(strstr(test_log_all, "CPUID says 2100.000 MHz"));
	assert_int_equal(test_log_count[0] + test_log_count[1], 0);

	/* The clock: a simulated second is a second. */
	t0 = time_ns();
	sim.ns += NS;
	ns = time_ns() - t0;
	assert_near_ppm(ns, NS, 60);
	assert_near_ppm(time_ns_to_tsc(NS), sim.tsc_hz, 60);
	/* udelay waits at least that long, and not much longer. */
	t0 = sim.ns;
	time_udelay(250);
	assert_true(sim.ns - t0 >= 250000 - 100);
	assert_true(sim.ns - t0 < 251000);
}

static void test_hpet_unaligned_and_mapped_once(void **state)
{
	(void)state;
	acpi.hpet_address = SIM_HPET_PA + 0x400;
	assert_int_equal(time_init_with(TIME_REF_HPET), 0);
	assert_near_ppm(time_tsc_hz(), sim.tsc_hz, 50);
	/* A second calibration against the same HPET does not map it again. */
	sim.maps = 0;
	assert_int_equal(time_init_with(TIME_REF_HPET), 0);
	assert_int_equal(sim.maps, 0);
}

static void test_hpet_fast_64bit_wrap(void **state)
{
	(void)state;
	sim.hpet_period = 10000000; /* 100 MHz, like QEMU's */
	sim.hpet_counter0 = 0x1FFFFFFF0ULL; /* the low half wraps in the window */
	sim.tsc_hz = 3000000000ULL;
	assert_int_equal(time_init_with(TIME_REF_HPET), 0);
	assert_near_ppm(time_tsc_hz(), sim.tsc_hz, 50);
}

static void test_bad_hpet_falls_back(void **state)
{
	static const uint32_t bad[][2] = {
		{ 0x8086A201, 0 },	   /* no period */
		{ 0x8086A201, 0x05F5E101 }, /* slower than 10 MHz */
		{ 0x8086A200, 69841279 },  /* REV_ID 0 */
		{ 0xFFFFFFFF, 0xFFFFFFFF }, /* nothing there */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_log_reset();
		sim.hpet_cap = bad[i][0];
		sim.hpet_period = bad[i][1];
		assert_int_equal(time_init(), 0);
		assert_string_equal(time_source_name(), "ACPI PM timer");
		assert_near_ppm(time_tsc_hz(), sim.tsc_hz, 150);
		assert_non_null(strstr(test_log_all, "HPET at 0xfed00000 unusable"));
	}
}

static void test_stuck_hpet_falls_back(void **state)
{
	(void)state;
	sim.hpet_stuck = 1;
	assert_int_equal(time_measure_tsc_hz(TIME_REF_HPET, &(uint64_t){ 0 }),
			 KEEL_ETIMEDOUT);
	assert_int_equal(time_init(), 0);
	assert_string_equal(time_source_name(), "ACPI PM timer");
	assert_non_null(strstr(test_log_all,
			       "calibration against HPET failed: timed out"));
}

static void test_pm_timer_24_and_32(void **state)
{
	uint64_t hz;

	(void)state;
	acpi.have_hpet = false;
	/* 24-bit, starting just below its wrap. */
	assert_int_equal(time_measure_tsc_hz(TIME_REF_PM_TIMER, &hz), 0);
	assert_near_ppm(hz, sim.tsc_hz, 150);
	/* 32-bit, also wrapping. */
	sim.pm_bits = 32;
	acpi.pm_tmr_32bit = true;
	sim.pm_offset = 0xFFFFFF00u;
	sim.tsc_hz = 1000000000;
	assert_int_equal(time_init(), 0);
	assert_string_equal(time_source_name(), "ACPI PM timer");
	assert_near_ppm(time_tsc_hz(), sim.tsc_hz, 150);
	/* A 32-bit reading of a 24-bit timer must not be trusted as 32 bits:
	 * with TMR_VAL_EXT clear the top byte is masked away. */
	sim.pm_bits = 24;
	acpi.pm_tmr_32bit = false;
	assert_int_equal(time_measure_tsc_hz(TIME_REF_PM_TIMER, &hz), 0);
	assert_near_ppm(hz, sim.tsc_hz, 150);
}

static void test_pm_timer_glitch(void **state)
{
	uint64_t hz;

	(void)state;
	/* One read in the middle of the first window goes wild. */
	sim.pm_glitch_at = 5000;
	assert_int_equal(time_measure_tsc_hz(TIME_REF_PM_TIMER, &hz), 0);
	assert_true(sim.pm_reads > sim.pm_glitch_at);
	assert_near_ppm(hz, sim.tsc_hz, 150);
}

static void test_pm_timer_absent(void **state)
{
	uint64_t hz;

	(void)state;
	acpi.pm_tmr.address = 0;
	assert_false(time_ref_available(TIME_REF_PM_TIMER));
	assert_int_equal(time_measure_tsc_hz(TIME_REF_PM_TIMER, &hz), KEEL_ENOENT);
	acpi.pm_tmr.address = 0x10000; /* not an I/O port */
	assert_false(time_ref_available(TIME_REF_PM_TIMER));
	acpi.pm_tmr.address = 0x608;
	acpi.pm_tmr.space = ACPI_SPACE_PCI;
	assert_false(time_ref_available(TIME_REF_PM_TIMER));
	acpi.pm_tmr.space = ACPI_SPACE_IO;
	acpi.have_fadt = false;
	assert_false(time_ref_available(TIME_REF_PM_TIMER));
	assert_false(time_ref_available(TIME_REF_COUNT));
	assert_string_equal(time_ref_name(TIME_REF_COUNT), "?");
}

static void test_pit(void **state)
{
	(void)state;
	acpi.have_hpet = false;
	acpi.have_fadt = false;
	sim.portb = 0x02; /* speaker on before: turned off, gate restored off */
	/* The count loads at an unknown phase of the PIT clock: a 10 ms
	 * window is good to half a tick, 42 ppm, plus the polling latency. */
	sim.cost_io = 100;
	assert_int_equal(time_init(), 0);
	assert_string_equal(time_source_name(), "PIT");
	assert_near_ppm(time_tsc_hz(), sim.tsc_hz, 60);
	assert_int_equal(sim.portb & 0x03, 0);
	assert_non_null(strstr(test_log_all, "calibrated against PIT"));
}

static void test_nothing_works(void **state)
{
	(void)state;
	acpi.have_hpet = false;
	acpi.have_fadt = false;
	sim.pit_absent = 1; /* port 0x61 floats high: OUT "already" set */
	assert_int_equal(time_init_with(TIME_REF_PIT), KEEL_ERANGE);
	/* Only CPUID is left: used, loudly. */
	assert_int_equal(time_init(), 0);
	assert_string_equal(time_source_name(), "CPUID");
	assert_int_equal(time_tsc_hz(), 2100000000ULL);
	assert_true(test_log_count[0] >= 1);
	/* Without CPUID's help either: an error. */
	sim.cpuid_max = 0xD;
	assert_int_equal(time_init(), KEEL_ENOTSUP);
}

static void test_rebase_is_monotonic(void **state)
{
	uint64_t before, after;

	(void)state;
	assert_int_equal(time_init_with(TIME_REF_HPET), 0);
	sim.ns += 3 * NS;
	before = time_ns();
	/* Recalibrate against a reference that reads a little fast. */
	sim.tsc_hz += 500000;
	assert_int_equal(time_init_with(TIME_REF_PM_TIMER), 0);
	after = time_ns();
	assert_true(after >= before);
	assert_true(after - before < 100000000); /* the ~30 ms calibration */
	assert_string_equal(time_source_name(), "ACPI PM timer");
	/* A TSC behind the base (another CPU's) reads as the base, not as a
	 * wrapped, huge time. */
	sim.tsc_offset -= sim.tsc_hz;
	assert_true(time_ns() <= after);
	assert_true(time_ns() >= before);
}

#define T(f) cmocka_unit_test_setup(f, sim_reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_before_init),
		T(test_mul_div),
		T(test_counter_delta),
		T(test_calc_hz),
		T(test_cpuid_hz),
		T(test_median_scale),
		T(test_hpet),
		T(test_hpet_unaligned_and_mapped_once),
		T(test_hpet_fast_64bit_wrap),
		T(test_bad_hpet_falls_back),
		T(test_stuck_hpet_falls_back),
		T(test_pm_timer_24_and_32),
		T(test_pm_timer_glitch),
		T(test_pm_timer_absent),
		T(test_pit),
		T(test_nothing_works),
		T(test_rebase_is_monotonic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
