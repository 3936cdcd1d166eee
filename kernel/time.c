/*
 * time.c - TSC calibration against a reference timer (HPET, ACPI PM timer or
 * PIT channel 2), the nanosecond clock built on the TSC, and delays.
 *
 * Owns the HPET mapping (the main counter is left running) and the clock
 * parameters, which one writer (the BSP) publishes through a seqcount latch:
 * readers never wait, so klog's time stamps work in NMI handlers too.
 */
#include "kernel/compiler.h"
#include "kernel/time.h"

#include <stddef.h>

#include "kernel/acpi.h"
#include "kernel/arch/x86.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "mm/mm.h"

#ifdef KEEL_HOST_TEST
/* Host unit tests simulate the hardware (tests/unit/test_time.c). */
uint64_t hw_rdtsc(void);
uint8_t hw_inb(uint16_t port);
void hw_outb(uint16_t port, uint8_t v);
uint32_t hw_inl(uint16_t port);
uint32_t hw_mmio_read32(const volatile uint32_t *p);
void hw_mmio_write32(volatile uint32_t *p, uint32_t v);
void hw_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);
uint64_t hw_irq_save(void);
void hw_irq_restore(uint64_t flags);
#else
static inline uint64_t hw_rdtsc(void) { return rdtsc(); }
static inline uint8_t hw_inb(uint16_t port) { return inb(port); }
static inline void hw_outb(uint16_t port, uint8_t v) { outb(port, v); }
static inline uint32_t hw_inl(uint16_t port) { return inl(port); }
static inline uint32_t hw_mmio_read32(const volatile uint32_t *p) { return *p; }
static inline void hw_mmio_write32(volatile uint32_t *p, uint32_t v) { *p = v; }
static inline void hw_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
}
static inline uint64_t hw_irq_save(void) { return irq_save(); }
static inline void hw_irq_restore(uint64_t flags) { irq_restore(flags); }
#endif

#define NS_PER_SEC 1000000000ULL
#define FS_PER_SEC 1000000000000000ULL

/* IA-PC HPET 1.0a, 2.3: register offsets from the block's base. */
#define HPET_REG_CAP 0x000    /* REV_ID 7:0, ..., COUNTER_CLK_PERIOD 63:32 */
#define HPET_REG_PERIOD 0x004 /* high half of the capabilities register */
#define HPET_REG_CONFIG 0x010
#define HPET_REG_COUNTER 0x0F0
#define HPET_CONFIG_ENABLE (1u << 0)	  /* ENABLE_CNF */
#define HPET_MAX_PERIOD_FS 0x05F5E100u	  /* 2.3.4: period <= 100 ns */
#define HPET_REGS_LEN 0x400

/* ACPI 6.x 4.8.3.3: the PM timer runs at 3.579545 MHz. */
#define PM_TIMER_HZ 3579545ULL
/* i8254: 14.31818 MHz / 12. Port 0x61 (system control port B): bit 0 gates
 * channel 2, bit 1 drives the speaker, bit 5 reads channel 2's OUT. */
#define PIT_HZ 1193182ULL
#define PIT_PORT_CH2 0x42
#define PIT_PORT_CMD 0x43
#define PIT_CMD_CH2_MODE0 0xB0 /* channel 2, lobyte/hibyte, mode 0, binary */
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20

#define TIME_WINDOW_NS 10000000ULL /* 10 ms per calibration window */
#define TIME_WINDOWS 3		   /* median of three */
#define TIME_MAX_ATTEMPTS 6	   /* windows tried to get three good ones */
#define TIME_STUCK_READS 1000000u  /* a counter unchanged this long is dead */
#define TIME_MAX_READS 100000000u  /* reads per window, whatever happens */
#define TIME_PIT_MAX_POLLS 20000000u
#define TIME_MIN_HZ 1000000ULL	     /* plausible TSC: 1 MHz (emulators) */
#define TIME_MAX_HZ 100000000000ULL  /* ... to 100 GHz */
#define TIME_GUESS_HZ 10000000000ULL /* uncalibrated: delays too long, not
					too short */

/* ---------------------------------------------------------- arithmetic ---- */

uint64_t time_mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 p = (unsigned __int128)a * b;
	uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p;
	uint64_t q = 0, r = hi;

	if (c == 0 || hi >= c)
		return UINT64_MAX;
	/* Restoring division of hi:lo by c, one quotient bit per step: a
	 * 128-by-64 '/' would call libgcc's __udivti3, which the kernel lacks. */
	for (int i = 63; i >= 0; i--) {
		uint64_t top = r >> 63;

		r = (r << 1) | ((lo >> i) & 1);
		q <<= 1;
		if (top || r >= c) {
			r -= c;
			q |= 1;
		}
	}
	return q;
}

uint64_t time_counter_delta(uint64_t start, uint64_t end, unsigned bits)
{
	uint64_t mask = bits >= 64 ? UINT64_MAX : (1ULL << bits) - 1;

	return (end - start) & mask;
}

uint64_t time_calc_hz(uint64_t tsc_delta, uint64_t ref_ticks, uint64_t ref_num,
		      uint64_t ref_den)
{
	uint64_t hz;

	if (!tsc_delta || !ref_ticks || !ref_num || !ref_den)
		return 0;
	if (ref_ticks > UINT64_MAX / ref_den)
		return 0;
	/* tsc_hz = tsc_delta / (ref_ticks / ref_hz), ref_hz = num / den. */
	hz = time_mul_div(tsc_delta, ref_num, ref_ticks * ref_den);
	return hz == UINT64_MAX ? 0 : hz;
}

uint64_t time_cpuid_tsc_hz(uint32_t max_leaf, const uint32_t leaf15[4],
			   const uint32_t leaf16[4])
{
	/* SDM vol.2 CPUID 15H: TSC = ECX (crystal Hz) * EBX / EAX. */
	if (max_leaf >= 0x15 && leaf15[0] && leaf15[1] && leaf15[2])
		return time_mul_div(leaf15[2], leaf15[1], leaf15[0]);
	/* CPUID 16H EAX[15:0]: processor base frequency in MHz. */
	if (max_leaf >= 0x16 && (leaf16[0] & 0xFFFF))
		return (uint64_t)(leaf16[0] & 0xFFFF) * 1000000;
	return 0;
}

uint64_t time_median(uint64_t *vals, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		uint64_t v = vals[i];
		unsigned j = i;

		for (; j > 0 && vals[j - 1] > v; j--)
			vals[j] = vals[j - 1];
		vals[j] = v;
	}
	return vals[n / 2];
}

/* --------------------------------------------------------------- clock ---- */

struct time_clock {
	uint64_t hz;
	uint64_t base_tsc; /* TSC when the clock was (re)based */
	uint64_t base_ns;  /* time_ns() at that moment */
	struct time_scale to_ns, to_tsc;
	const char *source;
};

/* Before calibration: no time yet, delays as if the TSC ran at 10 GHz. */
#define TIME_GUESS_MULT ((TIME_GUESS_HZ / NS_PER_SEC) << TIME_SCALE_SHIFT)
#define TIME_CLOCK_BOOT { .to_tsc = { .mult = TIME_GUESS_MULT }, .source = "none" }

/* Two copies (Linux's seqcount latch): readers use time_clk[time_seq & 1]
 * while the writer rewrites the other, so a reader never spins on a writer
 * it interrupted, and only retries if time_seq moved under it. */
static struct time_clock time_clk[2] = { TIME_CLOCK_BOOT, TIME_CLOCK_BOOT };
static uint32_t time_seq;

static void time_clock_get(struct time_clock *out)
{
	uint32_t seq;

	do {
		seq = __atomic_load_n(&time_seq, __ATOMIC_ACQUIRE);
		*out = time_clk[seq & 1];
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&time_seq, __ATOMIC_RELAXED) != seq);
}

/* Single writer (the BSP, in time_init*). */
static void time_clock_publish(const struct time_clock *c)
{
	uint32_t seq = __atomic_load_n(&time_seq, __ATOMIC_RELAXED);

	/* Readers to the odd copy, rewrite the even one; then back. */
	__atomic_store_n(&time_seq, seq + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	time_clk[0] = *c;
	__atomic_store_n(&time_seq, seq + 2, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	time_clk[1] = *c;
}

static uint64_t time_clock_ns(const struct time_clock *c, uint64_t tsc)
{
	/* Another CPU's TSC may be a hair behind the BSP's base: clamp. */
	if ((int64_t)(tsc - c->base_tsc) <= 0)
		return c->base_ns;
	return c->base_ns + time_scale_apply(c->to_ns, tsc - c->base_tsc);
}

/* Start the clock at hz, or re-base it so time_ns() never goes backwards. */
static void time_clock_set(uint64_t hz, const char *source)
{
	struct time_clock c;
	uint64_t now;

	time_clock_get(&c);
	now = hw_rdtsc();

	c.base_ns = c.hz ? time_clock_ns(&c, now) : 0;
	c.base_tsc = now;
	c.hz = hz;
	c.to_ns = time_scale_make(hz, NS_PER_SEC);
	c.to_tsc = time_scale_make(NS_PER_SEC, hz);
	c.source = source;
	time_clock_publish(&c);
}

uint64_t time_tsc_hz(void)
{
	struct time_clock c;

	time_clock_get(&c);
	return c.hz;
}

__hot uint64_t time_ns(void)
{
	struct time_clock c;

	time_clock_get(&c);
	if (!c.hz)
		return 0;
	return time_clock_ns(&c, hw_rdtsc());
}

uint64_t time_ns_to_tsc(uint64_t ns)
{
	struct time_clock c;

	time_clock_get(&c);
	return time_scale_apply(c.to_tsc, ns);
}

void time_udelay(uint64_t us)
{
	uint64_t ns = us > UINT64_MAX / 1000 ? UINT64_MAX : us * 1000;
	uint64_t ticks = time_ns_to_tsc(ns);
	uint64_t start = hw_rdtsc();

	while (hw_rdtsc() - start < ticks)
		cpu_relax();
}

const char *time_source_name(void)
{
	struct time_clock c;

	time_clock_get(&c);
	return c.source;
}

/* ---------------------------------------------------------- references ---- */

static const char *const time_ref_names[TIME_REF_COUNT] = {
	[TIME_REF_HPET] = "HPET",
	[TIME_REF_PM_TIMER] = "ACPI PM timer",
	[TIME_REF_PIT] = "PIT",
};

const char *time_ref_name(enum time_ref ref)
{
	return (unsigned)ref < TIME_REF_COUNT ? time_ref_names[ref] : "?";
}

/* A free-running up-counter of 'bits' bits at num / den Hz. */
struct time_counter {
	uint32_t (*read)(void);
	unsigned bits;
	uint64_t num, den;
};

/* One calibration window: tsc cycles while the reference did ticks. */
struct time_sample {
	uint64_t tsc, ticks, num, den;
};

static struct {
	uint64_t pa; /* mapped block, 0: none */
	volatile uint32_t *regs;
} time_hpet;

static struct {
	bool mmio;
	uint16_t port;
	volatile uint32_t *reg;
	uint32_t mask;
} time_pm;

bool time_ref_available(enum time_ref ref)
{
	const struct acpi_gas *g = &acpi.pm_tmr;

	switch (ref) {
	case TIME_REF_HPET:
		return acpi.have_hpet && acpi.hpet_address;
	case TIME_REF_PM_TIMER:
		if (!acpi.have_fadt || !g->address)
			return false;
		return (g->space == ACPI_SPACE_IO && g->address <= 0xFFFC) ||
		       g->space == ACPI_SPACE_MEMORY;
	case TIME_REF_PIT:
		return true;
	default:
		return false;
	}
}

/* Map [pa, pa + len) uncached; the mapping need not start on a page. */
static volatile uint32_t *time_map(uint64_t pa, uint64_t len)
{
	uint64_t off = pa & (PAGE_SIZE - 1);
	uint8_t *va = mm_map_mmio(pa - off, ALIGN_UP(off + len, PAGE_SIZE),
				  PT_R | PT_W | PT_UC);

	return va ? (volatile uint32_t *)(va + off) : NULL;
}

static uint32_t time_hpet_read(void)
{
	/* The low half of the main counter: a 32-bit read is allowed on 32-
	 * and 64-bit counters alike (HPET 2.3.7), and a 10 ms window is far
	 * from its wrap. */
	return hw_mmio_read32(time_hpet.regs + HPET_REG_COUNTER / 4);
}

static int time_hpet_prepare(struct time_counter *c)
{
	uint64_t pa = acpi.hpet_address;
	uint32_t cap, period, cfg;

	if (time_hpet.pa != pa) {
		time_hpet.regs = time_map(pa, HPET_REGS_LEN);
		if (!time_hpet.regs)
			return KEEL_ENOMEM;
		time_hpet.pa = pa;
	}
	cap = hw_mmio_read32(time_hpet.regs + HPET_REG_CAP / 4);
	period = hw_mmio_read32(time_hpet.regs + HPET_REG_PERIOD / 4);
	/* 2.3.4: REV_ID must not be 0; 0 < COUNTER_CLK_PERIOD <= 100 ns. All
	 * ones is what a read of nothing returns. */
	if (cap == 0xFFFFFFFF || (cap & 0xFF) == 0 || period == 0 ||
	    period > HPET_MAX_PERIOD_FS) {
		log_warn("time: HPET at %#llx unusable: capabilities %#x, period %u fs",
			 (unsigned long long)pa, cap, period);
		return KEEL_ENOTSUP;
	}
	cfg = hw_mmio_read32(time_hpet.regs + HPET_REG_CONFIG / 4);
	if (!(cfg & HPET_CONFIG_ENABLE))
		hw_mmio_write32(time_hpet.regs + HPET_REG_CONFIG / 4,
				cfg | HPET_CONFIG_ENABLE);
	c->read = time_hpet_read;
	c->bits = 32;
	c->num = FS_PER_SEC;
	c->den = period;
	return 0;
}

static uint32_t time_pm_read(void)
{
	uint32_t v = time_pm.mmio ? hw_mmio_read32(time_pm.reg)
				  : hw_inl(time_pm.port);

	return v & time_pm.mask;
}

static int time_pm_prepare(struct time_counter *c)
{
	const struct acpi_gas *g = &acpi.pm_tmr;

	time_pm.mmio = g->space == ACPI_SPACE_MEMORY;
	if (time_pm.mmio) {
		time_pm.reg = time_map(g->address, 4);
		if (!time_pm.reg)
			return KEEL_ENOMEM;
	} else {
		time_pm.port = (uint16_t)g->address;
	}
	/* FADT flags TMR_VAL_EXT: 32-bit counter, else 24 (ACPI 6.x 4.8.3.3). */
	time_pm.mask = acpi.pm_tmr_32bit ? 0xFFFFFFFFu : 0x00FFFFFFu;
	c->read = time_pm_read;
	c->bits = acpi.pm_tmr_32bit ? 32 : 24;
	c->num = PM_TIMER_HZ;
	c->den = 1;
	return 0;
}

/* Wait for the counter to tick, so a window starts on an edge. */
static int time_counter_edge(const struct time_counter *c, uint32_t *val)
{
	uint32_t first = c->read();

	for (uint32_t i = 0; i < TIME_STUCK_READS; i++) {
		*val = c->read();
		if (*val != first)
			return 0;
	}
	return KEEL_ETIMEDOUT;
}

static int time_counter_window(const struct time_counter *c, uint64_t target,
			       struct time_sample *s)
{
	uint32_t start, now, last;
	uint64_t t0, t1, ticks;
	uint32_t stuck = 0;
	int r = time_counter_edge(c, &start);

	if (r)
		return r;
	t0 = hw_rdtsc();
	last = start;
	for (uint32_t reads = 0; reads < TIME_MAX_READS; reads++) {
		/* Read the reference, then the TSC, at both ends: the two
		 * reads' latencies cancel. */
		now = c->read();
		t1 = hw_rdtsc();
		ticks = time_counter_delta(start, now, c->bits);
		if (ticks >= target) {
			s->tsc = t1 - t0;
			s->ticks = ticks;
			s->num = c->num;
			s->den = c->den;
			/* Far past the target: the counter jumped (a bad
			 * read); not a sample. */
			return ticks > target + target / 2 ? KEEL_ERANGE : 0;
		}
		stuck = now == last ? stuck + 1 : 0;
		if (stuck >= TIME_STUCK_READS)
			return KEEL_ETIMEDOUT;
		last = now;
	}
	return KEEL_ETIMEDOUT;
}

/*
 * PIT channel 2 in mode 0 (interrupt on terminal count), gated on through
 * port 0x61: OUT goes high N + 1 CLK pulses after count N is written, the
 * first pulse only loading the count (8254 datasheet, mode 0). The write
 * lands at an unknown phase, on average half a pulse before that first
 * pulse: the window is taken as N + 1/2 ticks, kept exact as (2N + 1) ticks
 * of 2 * PIT_HZ, and is good to +-1/2 tick (42 ppm of 10 ms). The PIT is the
 * last resort: every ACPI (not hardware-reduced) PC has a PM timer.
 */
static int time_pit_window(uint64_t target, struct time_sample *s)
{
	uint8_t portb = hw_inb(PORT_B);
	uint64_t t0, t1;
	uint32_t polls;
	int r = KEEL_ETIMEDOUT;

	hw_outb(PORT_B, (portb & ~PORT_B_SPEAKER) | PORT_B_GATE2);
	hw_outb(PIT_PORT_CMD, PIT_CMD_CH2_MODE0);
	hw_outb(PIT_PORT_CH2, target & 0xFF);
	hw_outb(PIT_PORT_CH2, (target >> 8) & 0xFF);
	t0 = hw_rdtsc();
	for (polls = 0; polls < TIME_PIT_MAX_POLLS; polls++) {
		if (hw_inb(PORT_B) & PORT_B_OUT2) {
			t1 = hw_rdtsc();
			s->tsc = t1 - t0;
			s->ticks = 2 * target + 1;
			s->num = 2 * PIT_HZ;
			s->den = 1;
			r = 0;
			break;
		}
	}
	hw_outb(PORT_B, portb & ~PORT_B_SPEAKER);
	return r;
}

static int time_window(enum time_ref ref, const struct time_counter *c,
		       struct time_sample *s)
{
	uint64_t flags = hw_irq_save();
	uint64_t target;
	int r;

	if (ref == TIME_REF_PIT) {
		target = PIT_HZ * TIME_WINDOW_NS / NS_PER_SEC; /* 11931 < 2^16 */
		r = time_pit_window(target, s);
	} else {
		target = time_mul_div(TIME_WINDOW_NS, c->num, c->den * NS_PER_SEC);
		r = time_counter_window(c, target, s);
	}
	hw_irq_restore(flags);
	return r;
}

static int time_ref_prepare(enum time_ref ref, struct time_counter *c)
{
	if (!time_ref_available(ref))
		return KEEL_ENOENT;
	switch (ref) {
	case TIME_REF_HPET:
		return time_hpet_prepare(c);
	case TIME_REF_PM_TIMER:
		return time_pm_prepare(c);
	default:
		return 0; /* the PIT needs nothing */
	}
}

int time_measure_tsc_hz(enum time_ref ref, uint64_t *hz)
{
	struct time_counter c = { 0 };
	uint64_t vals[TIME_WINDOWS];
	unsigned good = 0;
	int r = time_ref_prepare(ref, &c);

	if (r)
		return r;
	for (unsigned i = 0; i < TIME_MAX_ATTEMPTS && good < TIME_WINDOWS; i++) {
		struct time_sample s;
		uint64_t h;

		r = time_window(ref, &c, &s);
		if (r == KEEL_ETIMEDOUT)
			return r; /* dead reference: retrying won't help */
		if (r)
			continue;
		h = time_calc_hz(s.tsc, s.ticks, s.num, s.den);
		if (h >= TIME_MIN_HZ && h <= TIME_MAX_HZ)
			vals[good++] = h;
	}
	if (good < TIME_WINDOWS)
		return KEEL_ERANGE;
	*hz = time_median(vals, good);
	return 0;
}

/* ---------------------------------------------------------------- init ---- */

static uint64_t time_cpuid_hint(void)
{
	uint32_t l0[4], l15[4] = { 0 }, l16[4] = { 0 };

	hw_cpuid(0, 0, l0);
	if (l0[0] >= 0x15)
		hw_cpuid(0x15, 0, l15);
	if (l0[0] >= 0x16)
		hw_cpuid(0x16, 0, l16);
	return time_cpuid_tsc_hz(l0[0], l15, l16);
}

static bool time_tsc_invariant(void)
{
	uint32_t r[4];

	hw_cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000007)
		return false;
	hw_cpuid(0x80000007, 0, r);
	return r[3] & (1u << 8); /* EDX: invariant TSC */
}

static void time_log_hint(uint64_t hz)
{
	uint64_t hint = time_cpuid_hint();
	int64_t ppm;

	if (!hint)
		return;
	ppm = (int64_t)(hint - hz) * 1000000 / (int64_t)hz;
	log_info("time: CPUID says %llu.%03llu MHz (%lld ppm)",
		 (unsigned long long)(hint / 1000000),
		 (unsigned long long)(hint / 1000 % 1000), (long long)ppm);
}

int time_init_with(enum time_ref ref)
{
	uint64_t start = hw_rdtsc(), hz, ms;
	int r = time_measure_tsc_hz(ref, &hz);

	if (r) {
		if (r != KEEL_ENOENT)
			log_warn("time: calibration against %s failed: %s",
				 time_ref_name(ref), err_str(r));
		return r;
	}
	ms = time_mul_div(hw_rdtsc() - start, 1000, hz);
	time_clock_set(hz, time_ref_name(ref));
	log_info("time: TSC %llu.%03llu MHz (calibrated against %s, %llu ms)",
		 (unsigned long long)(hz / 1000000),
		 (unsigned long long)(hz / 1000 % 1000), time_ref_name(ref),
		 (unsigned long long)ms);
	time_log_hint(hz);
	return 0;
}

int time_init(void)
{
	uint64_t hint;

	if (!time_tsc_invariant())
		log_info("time: TSC not invariant (CPUID 80000007H EDX bit 8)");
	for (int ref = 0; ref < TIME_REF_COUNT; ref++)
		if (time_init_with((enum time_ref)ref) == 0)
			return 0;
	hint = time_cpuid_hint();
	if (!hint) {
		log_err("time: no reference timer works and CPUID gives no TSC frequency");
		return KEEL_ENOTSUP;
	}
	log_err("time: no reference timer works, trusting CPUID: TSC %llu MHz",
		(unsigned long long)(hint / 1000000));
	time_clock_set(hint, "CPUID");
	return 0;
}
