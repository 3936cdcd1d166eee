/*
 * apic.c - local APIC (xAPIC MMIO or x2APIC MSRs, SDM vol.3 chapter 11), IPIs,
 * the LAPIC timer, and the legacy 8259 PICs (remapped and masked).
 *
 * The BSP picks the mode and maps the xAPIC page; every CPU then programs its
 * own APIC. No locks: each CPU touches only its own registers.
 */
#include "kernel/apic.h"

#include <stddef.h>

#include "kernel/acpi.h"
#include "kernel/arch/x86.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/time.h"
#include "mm/mm.h"

#ifdef KEEL_HOST_TEST
/* Host unit tests simulate the hardware (tests/unit/test_apic.c). */
uint64_t hw_rdmsr(uint32_t msr);
void hw_wrmsr(uint32_t msr, uint64_t v);
void hw_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);
uint64_t hw_rdtsc(void);
void hw_outb(uint16_t port, uint8_t v);
uint32_t hw_mmio_read32(const volatile uint32_t *p);
void hw_mmio_write32(volatile uint32_t *p, uint32_t v);
uint64_t hw_irq_save(void);
void hw_irq_restore(uint64_t flags);
void hw_mfence(void);
#else
static inline uint64_t hw_rdmsr(uint32_t msr) { return rdmsr(msr); }
static inline void hw_wrmsr(uint32_t msr, uint64_t v) { wrmsr(msr, v); }
static inline void hw_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
}
static inline uint64_t hw_rdtsc(void) { return rdtsc(); }
static inline void hw_outb(uint16_t port, uint8_t v) { outb(port, v); }
static inline uint32_t hw_mmio_read32(const volatile uint32_t *p) { return *p; }
static inline void hw_mmio_write32(volatile uint32_t *p, uint32_t v) { *p = v; }
static inline uint64_t hw_irq_save(void) { return irq_save(); }
static inline void hw_irq_restore(uint64_t flags) { irq_restore(flags); }
static inline void hw_mfence(void)
{
	__asm__ volatile("mfence; lfence" ::: "memory");
}
#endif

/* SDM Table 11-1: xAPIC register offsets; x2APIC MSR = 0x800 + offset / 16
 * (Table 11-6). */
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_ISR0 0x100 /* eight 32-bit registers, 0x10 apart */
#define LAPIC_ESR 0x280
#define LAPIC_LVT_CMCI 0x2F0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PMC 0x340
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0
#define X2APIC_MSR(reg) (0x800u + ((reg) >> 4))
#define X2APIC_MSR_ICR 0x830u /* one 64-bit register (11.12.9) */

/* IA32_APIC_BASE (SDM 11.4.4, 11.12.1). */
#define APIC_BASE_BSP (1ULL << 8)
#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_EN (1ULL << 11)
#define APIC_BASE_ADDR 0x000FFFFFFFFFF000ULL

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_ONESHOT (0u << 17)
#define LVT_TIMER_DEADLINE (2u << 17)
#define TIMER_DIV_16 0x3u /* divide configuration 0b0011 (Figure 11-10) */

#define CPUID1_EBX_APIC_ID(ebx) ((ebx) >> 24)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_EDX_APIC (1u << 9)

#define LAPIC_ICR_POLLS 1000000u /* delivery-status polls, ~100 ms+ of UC reads */
#define LAPIC_CAL_WINDOW_NS 10000000ULL
#define LAPIC_CAL_WINDOWS 3

/* 8259A: command and data ports of the master and the slave. */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PORT_IO_DELAY 0x80

enum lapic_mode {
	LAPIC_MODE_NONE = 0,
	LAPIC_MODE_XAPIC,
	LAPIC_MODE_X2APIC,
};

static enum lapic_mode lapic_mode;
static volatile uint32_t *lapic_mmio;
static uint64_t lapic_base_pa;
static bool lapic_deadline;
static uint64_t lapic_tmr_hz;
static struct time_scale lapic_ns_to_count;

/* ------------------------------------------------------------ registers ---- */

static uint32_t lapic_read(uint32_t reg)
{
	if (lapic_mode == LAPIC_MODE_X2APIC)
		return (uint32_t)hw_rdmsr(X2APIC_MSR(reg));
	return hw_mmio_read32(lapic_mmio + reg / 4);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	if (lapic_mode == LAPIC_MODE_X2APIC)
		hw_wrmsr(X2APIC_MSR(reg), v);
	else
		hw_mmio_write32(lapic_mmio + reg / 4, v);
}

bool lapic_is_x2apic(void)
{
	return lapic_mode == LAPIC_MODE_X2APIC;
}

/* The id this CPU had at reset: CPUID 0BH EDX (32 bits) or 01H EBX[31:24]. */
static uint32_t lapic_cpuid_id(void)
{
	uint32_t r[4];

	hw_cpuid(0, 0, r);
	if (r[0] >= 0xB) {
		hw_cpuid(0xB, 0, r);
		if (r[1] & 0xFFFF) /* EBX[15:0] 0: leaf 0BH not implemented */
			return r[3];
	}
	hw_cpuid(1, 0, r);
	return CPUID1_EBX_APIC_ID(r[1]);
}

uint32_t lapic_id(void)
{
	switch (lapic_mode) {
	case LAPIC_MODE_X2APIC:
		/* An AP that has not run lapic_init() is still in xAPIC mode,
		 * where reading the x2APIC MSRs faults. */
		if (!(hw_rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD))
			return lapic_cpuid_id();
		return (uint32_t)hw_rdmsr(X2APIC_MSR(LAPIC_ID));
	case LAPIC_MODE_XAPIC:
		return lapic_read(LAPIC_ID) >> 24; /* 8-bit id in 31:24 */
	default:
		return lapic_cpuid_id();
	}
}

void lapic_eoi(void)
{
	/* 11.8.5: write 0 (x2APIC: anything else is a #GP). */
	lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_read_esr(void)
{
	/* 11.5.3: a write latches the errors seen since the previous write
	 * into the ESR; only 0 may be written in x2APIC mode. */
	lapic_write(LAPIC_ESR, 0);
	return lapic_read(LAPIC_ESR);
}

/* ----------------------------------------------------------------- init ---- */

/* BSP: x2APIC or xAPIC, and for xAPIC the page to map. */
static int lapic_choose_mode(bool allow_x2apic)
{
	uint32_t r[4];
	uint64_t base;

	hw_cpuid(1, 0, r);
	if (!(r[3] & CPUID1_EDX_APIC)) {
		log_err("lapic: this CPU has no local APIC");
		return KEEL_ENOTSUP;
	}
	if (allow_x2apic && (r[2] & CPUID1_ECX_X2APIC)) {
		lapic_mode = LAPIC_MODE_X2APIC;
		log_info("lapic: x2APIC mode");
		return 0;
	}
	base = hw_rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR;
	if (acpi.have_madt && acpi.lapic_address && acpi.lapic_address != base)
		log_warn("lapic: MADT says %#llx, IA32_APIC_BASE %#llx: using the MSR",
			 (unsigned long long)acpi.lapic_address,
			 (unsigned long long)base);
	if (!lapic_mmio || base != lapic_base_pa) {
		lapic_mmio = mm_map_mmio(base, PAGE_SIZE, PT_R | PT_W | PT_UC);
		if (!lapic_mmio) {
			lapic_mode = LAPIC_MODE_NONE;
			log_err("lapic: cannot map %#llx", (unsigned long long)base);
			return KEEL_ENOMEM;
		}
		lapic_base_pa = base;
	}
	lapic_mode = LAPIC_MODE_XAPIC;
	log_info("lapic: xAPIC mode at %#llx%s", (unsigned long long)base,
		 (r[2] & CPUID1_ECX_X2APIC) ? " (x2APIC off by configuration)" : "");
	return 0;
}

/* This CPU's IA32_APIC_BASE: enabled, in the chosen mode, at the BSP's page.
 * SDM 11.12.5 Figure 11-27: disabled -> xAPIC -> x2APIC are legal steps;
 * x2APIC -> xAPIC is not (#GP) and must pass through disabled. */
static void lapic_enable_msr(void)
{
	uint64_t v = hw_rdmsr(MSR_IA32_APIC_BASE);
	uint64_t want;

	if (lapic_mode == LAPIC_MODE_X2APIC) {
		if (!(v & APIC_BASE_EN)) {
			v |= APIC_BASE_EN;
			hw_wrmsr(MSR_IA32_APIC_BASE, v);
		}
		if (!(v & APIC_BASE_EXTD))
			hw_wrmsr(MSR_IA32_APIC_BASE, v | APIC_BASE_EXTD);
		return;
	}
	if (v & APIC_BASE_EXTD) {
		log_info("lapic: firmware left x2APIC on, going back to xAPIC");
		v &= ~(APIC_BASE_EN | APIC_BASE_EXTD);
		hw_wrmsr(MSR_IA32_APIC_BASE, v);
	}
	if ((v & APIC_BASE_ADDR) != lapic_base_pa)
		log_warn("lapic: APIC at %#llx, moving it to %#llx like the BSP's",
			 (unsigned long long)(v & APIC_BASE_ADDR),
			 (unsigned long long)lapic_base_pa);
	want = (v & ~APIC_BASE_ADDR) | lapic_base_pa | APIC_BASE_EN;
	if (want != v)
		hw_wrmsr(MSR_IA32_APIC_BASE, want);
}

/* EOI whatever firmware (or a previous kernel) left in service, highest
 * priority first (11.8.4), so lower vectors are not blocked forever. */
static unsigned lapic_ack_stale(void)
{
	unsigned acked = 0;

	while (acked < 256) {
		bool any = false;

		for (uint32_t i = 0; i < 8 && !any; i++)
			any = lapic_read(LAPIC_ISR0 + i * 0x10) != 0;
		if (!any)
			break;
		lapic_eoi();
		acked++;
	}
	return acked;
}

static void lapic_setup_regs(void)
{
	uint32_t max_lvt = (lapic_read(LAPIC_VERSION) >> 16) & 0xFF;
	uint32_t esr;
	unsigned stale;

	/* 11.4.7.2: while software-disabled every LVT mask bit is stuck at
	 * 1, so enable first, then program the LVTs. */
	lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	/* LINT0 (ExtINT from the 8259s) and LINT1 (NMI) both masked: the
	 * 8259s are off and NMI watchdogs are not used yet. */
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	/* Version[23:16] = number of LVT entries - 1 (11.4.8): 4 adds the
	 * performance counter LVT, 5 thermal, 6 CMCI (Linux agrees). */
	if (max_lvt >= 4)
		lapic_write(LAPIC_LVT_PMC, LVT_MASKED);
	if (max_lvt >= 5)
		lapic_write(LAPIC_LVT_THERMAL, LVT_MASKED);
	if (max_lvt >= 6)
		lapic_write(LAPIC_LVT_CMCI, LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, VEC_LAPIC_ERROR);
	stale = lapic_ack_stale();
	esr = lapic_read_esr();
	lapic_read_esr();
	if (stale || esr)
		log_info("lapic: APIC %u: acknowledged %u stale vectors, ESR was %#x",
			 lapic_id(), stale, esr);
}

int lapic_init(bool allow_x2apic)
{
	bool bsp = hw_rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_BSP;
	int r;

	if (bsp) {
		r = lapic_choose_mode(allow_x2apic);
		if (r)
			return r;
	} else if (lapic_mode == LAPIC_MODE_NONE) {
		log_err("lapic: an AP came before the BSP");
		return KEEL_EINVAL;
	}
	lapic_enable_msr();
	lapic_setup_regs();
	return 0;
}

/* ----------------------------------------------------------------- IPIs ---- */

int lapic_icr_encode(bool x2apic, uint32_t dest, uint32_t cmd, uint64_t *icr)
{
	/* Bits 20-31 are reserved; delivery status is read-only. */
	if (cmd & 0xFFF00000u)
		return KEEL_EINVAL;
	cmd &= ~ICR_DELIVERY_PENDING;
	if (cmd & ICR_SH_ALL_BUT_SELF)
		dest = 0; /* a shorthand ignores the destination */
	else if (x2apic ? dest == 0xFFFFFFFFu : dest >= 0xFFu)
		return KEEL_ERANGE; /* unaddressable, or the broadcast id */
	*icr = x2apic ? ((uint64_t)dest << 32) | cmd : ((uint64_t)dest << 56) | cmd;
	return 0;
}

/* xAPIC: wait until the previous IPI left the ICR (delivery status, 11.6.1);
 * x2APIC has no such bit (11.12.9). */
static bool lapic_wait_idle(void)
{
	if (lapic_mode != LAPIC_MODE_XAPIC)
		return true;
	for (uint32_t i = 0; i < LAPIC_ICR_POLLS; i++) {
		if (!(lapic_read(LAPIC_ICR_LO) & ICR_DELIVERY_PENDING))
			return true;
		cpu_relax();
	}
	return false;
}

static void lapic_send(uint32_t dest, uint32_t cmd)
{
	uint64_t icr, flags;

	if (lapic_mode == LAPIC_MODE_NONE) {
		log_err("lapic: IPI %#x before lapic_init()", cmd);
		return;
	}
	if (lapic_icr_encode(lapic_is_x2apic(), dest, cmd, &icr)) {
		log_err("lapic: cannot send IPI %#x to APIC id %u", cmd, dest);
		return;
	}
	flags = hw_irq_save();
	if (lapic_mode == LAPIC_MODE_X2APIC) {
		/* 11.12.3: this WRMSR is not serializing and may pass earlier
		 * stores; MFENCE;LFENCE makes them visible to the target first. */
		hw_mfence();
		hw_wrmsr(X2APIC_MSR_ICR, icr);
	} else {
		if (!lapic_wait_idle())
			log_warn("lapic: previous IPI still pending");
		/* The low half's write sends: destination first. */
		lapic_write(LAPIC_ICR_HI, (uint32_t)(icr >> 32));
		lapic_write(LAPIC_ICR_LO, (uint32_t)icr);
	}
	hw_irq_restore(flags);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	/* Vectors 0-15 are illegal (11.5.3), 16-31 are exceptions. */
	if (vector < 0x20) {
		log_err("lapic: refusing IPI vector %#x", vector);
		return;
	}
	lapic_send(apic_id, ICR_DM_FIXED | ICR_LEVEL_ASSERT | ICR_VECTOR(vector));
}

void lapic_send_ipi_all_but_self(uint8_t vector)
{
	if (vector < 0x20) {
		log_err("lapic: refusing IPI vector %#x", vector);
		return;
	}
	lapic_send(0, ICR_SH_ALL_BUT_SELF | ICR_DM_FIXED | ICR_LEVEL_ASSERT |
			      ICR_VECTOR(vector));
}

void lapic_send_nmi(uint32_t apic_id)
{
	lapic_send(apic_id, ICR_DM_NMI | ICR_LEVEL_ASSERT);
}

void lapic_send_nmi_all_but_self(void)
{
	lapic_send(0, ICR_SH_ALL_BUT_SELF | ICR_DM_NMI | ICR_LEVEL_ASSERT);
}

/* After an INIT or SIPI: wait for delivery (xAPIC) and report APIC errors,
 * e.g. "send accept error" when nobody answers at that id. */
static void lapic_check_sent(const char *what, uint32_t apic_id)
{
	uint32_t esr;

	if (!lapic_wait_idle())
		log_warn("lapic: %s to APIC %u not delivered", what, apic_id);
	esr = lapic_read_esr();
	if (esr)
		log_warn("lapic: %s to APIC %u: ESR %#x", what, apic_id, esr);
}

void lapic_send_init(uint32_t apic_id)
{
	lapic_read_esr(); /* start from a clean ESR */
	lapic_send(apic_id, ICR_DM_INIT | ICR_TRIGGER_LEVEL | ICR_LEVEL_ASSERT);
	lapic_check_sent("INIT", apic_id);
	/* 11.6.1: INIT level de-assert is level-triggered with the level bit
	 * clear. Processors since the Pentium 4 ignore it; the MP spec (B.4)
	 * sequence sends it, addressed like the assert, as Linux does. */
	lapic_send(apic_id, ICR_DM_INIT | ICR_TRIGGER_LEVEL);
	lapic_check_sent("INIT de-assert", apic_id);
}

void lapic_send_sipi(uint32_t apic_id, uint8_t vector_page)
{
	lapic_read_esr();
	lapic_send(apic_id, ICR_DM_STARTUP | ICR_LEVEL_ASSERT |
				    ICR_VECTOR(vector_page));
	lapic_check_sent("SIPI", apic_id);
}

/* ---------------------------------------------------------------- timer ---- */

bool lapic_timer_uses_deadline(void)
{
	return lapic_deadline;
}

uint64_t lapic_timer_hz(void)
{
	return lapic_tmr_hz;
}

/* 11.5.4.1: in xAPIC mode the MMIO write that selects TSC-deadline mode must
 * be ordered before the WRMSR to IA32_TSC_DEADLINE. */
static void lapic_deadline_fence(void)
{
	hw_mfence();
}

/* One window: how fast the one-shot count falls, against the TSC. */
static uint64_t lapic_timer_measure(uint64_t tsc_hz)
{
	uint64_t window = time_ns_to_tsc(LAPIC_CAL_WINDOW_NS);
	uint64_t flags = hw_irq_save();
	uint64_t t0, t1;
	uint32_t cur;

	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONESHOT | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFFu);
	t0 = hw_rdtsc();
	do {
		t1 = hw_rdtsc();
	} while (t1 - t0 < window);
	cur = lapic_read(LAPIC_TIMER_CUR);
	t1 = hw_rdtsc();
	lapic_write(LAPIC_TIMER_INIT, 0); /* 11.5.4: 0 stops the timer */
	hw_irq_restore(flags);
	/* 0: stopped or ran out; ~0: never started. */
	if (cur == 0 || cur == 0xFFFFFFFFu)
		return 0;
	return time_mul_div(0xFFFFFFFFu - cur, tsc_hz, t1 - t0);
}

void lapic_timer_calibrate(void)
{
	uint64_t tsc_hz = time_tsc_hz(), vals[LAPIC_CAL_WINDOWS];
	unsigned n = 0;
	uint32_t r[4];

	if (lapic_mode == LAPIC_MODE_NONE || !tsc_hz) {
		log_err("lapic: timer calibration needs lapic_init() and time_init()");
		return;
	}
	hw_cpuid(1, 0, r);
	lapic_deadline = r[2] & CPUID1_ECX_TSC_DEADLINE;
	for (unsigned i = 0; i < LAPIC_CAL_WINDOWS; i++) {
		uint64_t hz = lapic_timer_measure(tsc_hz);

		if (hz)
			vals[n++] = hz;
	}
	if (!n) {
		log_err("lapic: the APIC timer does not count");
		return;
	}
	lapic_tmr_hz = time_median(vals, n);
	lapic_ns_to_count = time_scale_make(1000000000ULL, lapic_tmr_hz);
	log_info("lapic: timer %llu.%03llu MHz after divide by 16, %s",
		 (unsigned long long)(lapic_tmr_hz / 1000000),
		 (unsigned long long)(lapic_tmr_hz / 1000 % 1000),
		 lapic_deadline ? "TSC-deadline mode" : "one-shot mode");
}

void lapic_timer_setup(void)
{
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	if (lapic_deadline) {
		lapic_write(LAPIC_LVT_TIMER,
			    LVT_MASKED | LVT_TIMER_DEADLINE | VEC_TIMER);
		lapic_deadline_fence();
		hw_wrmsr(MSR_IA32_TSC_DEADLINE, 0);
	} else {
		lapic_write(LAPIC_LVT_TIMER,
			    LVT_MASKED | LVT_TIMER_ONESHOT | VEC_TIMER);
		lapic_write(LAPIC_TIMER_INIT, 0);
	}
}

void lapic_timer_arm_ns(uint64_t ns_from_now)
{
	uint64_t count;

	if (lapic_deadline) {
		uint64_t ticks = time_ns_to_tsc(ns_from_now), now;

		lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_DEADLINE | VEC_TIMER);
		lapic_deadline_fence();
		now = hw_rdtsc();
		/* A deadline of 0 would disarm: at least 1 tick, no wrap. */
		ticks = ticks ? ticks : 1;
		hw_wrmsr(MSR_IA32_TSC_DEADLINE,
			 ticks > UINT64_MAX - now ? UINT64_MAX : now + ticks);
		return;
	}
	if (!lapic_tmr_hz)
		log_err("lapic: timer armed before calibration");
	count = time_scale_apply(lapic_ns_to_count, ns_from_now);
	/* The initial count is 32 bits and 0 stops the timer (11.5.4). */
	count = count > 0xFFFFFFFFu ? 0xFFFFFFFFu : count ? count : 1;
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_ONESHOT | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, (uint32_t)count);
}

void lapic_timer_cancel(void)
{
	if (lapic_deadline)
		hw_wrmsr(MSR_IA32_TSC_DEADLINE, 0);
	else
		lapic_write(LAPIC_TIMER_INIT, 0);
}

/* ----------------------------------------------------------------- 8259 ---- */

static void pic_out(uint16_t port, uint8_t v)
{
	hw_outb(port, v);
	hw_outb(PORT_IO_DELAY, 0); /* give an old 8259 time between writes */
}

void pic_disable(void)
{
	/* 8259A initialization sequence: ICW1 (edge, cascade, ICW4 follows),
	 * ICW2 (vector base), ICW3 (slave on IR2 / slave id 2), ICW4 (8086
	 * mode); then OCW1 masks every line. Firmware leaves the 8259s on
	 * vectors 0x08-0x0F, the CPU's exceptions: should an IRQ still get
	 * through (virtual wire mode before LINT0 is masked, a spurious IRQ
	 * 7/15) it lands on 0x20-0x2F instead, where the IDT can ignore it. */
	pic_out(PIC1_CMD, 0x11);
	pic_out(PIC2_CMD, 0x11);
	pic_out(PIC1_DATA, 0x20);
	pic_out(PIC2_DATA, 0x28);
	pic_out(PIC1_DATA, 0x04);
	pic_out(PIC2_DATA, 0x02);
	pic_out(PIC1_DATA, 0x01);
	pic_out(PIC2_DATA, 0x01);
	pic_out(PIC1_DATA, 0xFF);
	pic_out(PIC2_DATA, 0xFF);
}
