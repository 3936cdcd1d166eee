/*
 * test_apic.c - kernel/apic.c on the host against a simulated local APIC that
 * enforces what the SDM says the code must respect: IA32_APIC_BASE mode
 * transitions (11.12.5), MMIO only in xAPIC mode and MSRs only in x2APIC mode,
 * LVT masks stuck while software-disabled (11.4.7.2), ICR high before low,
 * x2APIC ICR writes fenced (11.12.3), 0-only EOI/ESR writes in x2APIC mode.
 * Also: the ICR encodings, the timer, and the 8259 sequence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/arch/x86.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "tests/unit/shim/host_shim.h"

struct acpi_info acpi;

/* --------------------------------------------------------- simulated APIC - */

#define SIM_TSC_HZ 2000000000ULL
#define SIM_BUS_HZ 1000000000ULL /* APIC timer input before the divider */
#define BASE_EN (1ULL << 11)
#define BASE_EXTD (1ULL << 10)
#define BASE_BSP (1ULL << 8)
#define APIC_BASE_ADDR_FOR_TEST 0x000FFFFFFFFFF000ULL
#define MAX_IPIS 16
#define MAX_OUTB 32

struct sim_ipi {
	uint32_t dest; /* xAPIC: ICR high >> 24; x2APIC: bits 63:32 */
	uint32_t lo;
};

static struct {
	uint64_t apic_base;
	uint32_t apic_id;
	bool has_apic, has_x2apic, has_deadline;
	uint32_t version;
	uint32_t regs[0x400 / 4]; /* by xAPIC offset / 4 */
	uint32_t isr[8];
	uint32_t esr_pending;
	uint32_t esr_on_send; /* error the next IPI causes */
	bool timer_dead;
	uint32_t icr_hi;
	unsigned pending_reads; /* ICR delivery status stays set this long */
	bool pending_forever;
	struct sim_ipi ipis[MAX_IPIS];
	unsigned nipis;
	uint64_t tsc;
	uint64_t timer_start_tsc;
	uint64_t deadline;
	unsigned deadline_writes;
	int irq_off;
	bool fenced;
	bool lvt_unfenced; /* LVT timer written, no MFENCE since */
	unsigned maps;
	uint64_t map_pa;
	uint16_t outb_port[MAX_OUTB];
	uint8_t outb_val[MAX_OUTB];
	unsigned noutb;
} sim;

static uint8_t mmio_page[4096] __attribute__((aligned(4096)));

static bool sim_x2apic(void)
{
	return (sim.apic_base & (BASE_EN | BASE_EXTD)) == (BASE_EN | BASE_EXTD);
}

static unsigned sim_divisor(void)
{
	static const unsigned div[16] = { 2, 4, 8, 16, 2, 4, 8, 16,
					  32, 64, 128, 1, 32, 64, 128, 1 };

	return div[sim.regs[0x3E0 / 4] & 0xB]; /* bits 0, 1, 3 (Figure 11-10) */
}

static uint32_t sim_timer_current(void)
{
	uint32_t init = sim.regs[0x380 / 4];
	uint64_t elapsed;

	if (!init)
		return 0;
	if (sim.timer_dead)
		return init;
	elapsed = (uint64_t)((unsigned __int128)(sim.tsc - sim.timer_start_tsc) *
			     SIM_BUS_HZ / sim_divisor() / SIM_TSC_HZ);
	return elapsed >= init ? 0 : init - (uint32_t)elapsed;
}

static uint32_t sim_read(uint32_t off)
{
	switch (off) {
	case 0x020:
		return sim_x2apic() ? sim.apic_id : sim.apic_id << 24;
	case 0x030:
		return sim.version;
	case 0x300: {
		bool busy = sim.pending_forever || sim.pending_reads;

		if (sim.pending_reads)
			sim.pending_reads--;
		return sim.regs[off / 4] | (busy && !sim_x2apic() ? 1u << 12 : 0);
	}
	case 0x390:
		return sim_timer_current();
	}
	if (off >= 0x100 && off < 0x180)
		return sim.isr[(off - 0x100) / 0x10];
	return sim.regs[off / 4];
}

static void sim_send(uint32_t dest, uint32_t lo)
{
	assert_true(sim.irq_off); /* no interrupt between the two halves */
	assert_true(sim.nipis < MAX_IPIS);
	sim.ipis[sim.nipis++] = (struct sim_ipi){ .dest = dest, .lo = lo };
	sim.esr_pending |= sim.esr_on_send;
	sim.esr_on_send = 0;
}

static void sim_write(uint32_t off, uint32_t v)
{
	bool lvt = off == 0x2F0 || (off >= 0x320 && off <= 0x370);

	if (lvt && !(sim.regs[0xF0 / 4] & 0x100))
		v |= 1u << 16; /* 11.4.7.2: masks stick while disabled */
	if (off == 0x2F0)
		assert_true(((sim.version >> 16) & 0xFF) >= 6); /* no CMCI LVT */
	switch (off) {
	case 0x0B0: /* EOI: clears the highest in-service vector */
		for (int i = 7; i >= 0; i--) {
			if (sim.isr[i]) {
				sim.isr[i] &= ~(1u << (31 - __builtin_clz(sim.isr[i])));
				break;
			}
		}
		return;
	case 0x280: /* ESR: a write latches the errors seen since the last */
		sim.regs[off / 4] = sim.esr_pending;
		sim.esr_pending = 0;
		return;
	case 0x300:
		sim_send(sim.icr_hi >> 24, v);
		break;
	case 0x310:
		sim.icr_hi = v;
		break;
	case 0x380:
		sim.timer_start_tsc = sim.tsc;
		break;
	case 0x320:
		sim.lvt_unfenced = true;
		break;
	}
	sim.regs[off / 4] = v;
}

uint32_t hw_mmio_read32(const volatile uint32_t *p)
{
	size_t off = (const uint8_t *)p - mmio_page;

	assert_true(off < 0x400 && !(off & 0xF));
	assert_true((sim.apic_base & (BASE_EN | BASE_EXTD)) == BASE_EN);
	return sim_read((uint32_t)off);
}

void hw_mmio_write32(volatile uint32_t *p, uint32_t v)
{
	size_t off = (uint8_t *)p - mmio_page;

	assert_true(off < 0x400 && !(off & 0xF));
	assert_true((sim.apic_base & (BASE_EN | BASE_EXTD)) == BASE_EN);
	sim_write((uint32_t)off, v);
}

uint64_t hw_rdmsr(uint32_t msr)
{
	if (msr == MSR_IA32_APIC_BASE)
		return sim.apic_base;
	assert_true(msr >= 0x800 && msr < 0x840);
	assert_true(sim_x2apic()); /* #GP otherwise */
	assert_int_not_equal(msr, 0x830);
	return sim_read((msr - 0x800) << 4);
}

static void sim_wrmsr_base(uint64_t v)
{
	uint64_t from = sim.apic_base & (BASE_EN | BASE_EXTD);
	uint64_t to = v & (BASE_EN | BASE_EXTD);

	assert_int_equal(v & BASE_BSP, sim.apic_base & BASE_BSP); /* read-only */
	assert_int_not_equal(to, BASE_EXTD); /* invalid state */
	/* 11.12.5: x2APIC -> xAPIC must pass through disabled. */
	assert_false(from == (BASE_EN | BASE_EXTD) && to == BASE_EN);
	if (to & BASE_EXTD)
		assert_true(sim.has_x2apic);
	if (!(to & BASE_EN)) { /* disabling resets the APIC */
		memset(sim.regs, 0, sizeof(sim.regs));
		memset(sim.isr, 0, sizeof(sim.isr));
	}
	sim.apic_base = v;
}

void hw_wrmsr(uint32_t msr, uint64_t v)
{
	if (msr == MSR_IA32_APIC_BASE)
		return sim_wrmsr_base(v);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		/* 11.5.4.1: the LVT write that selects the mode first. */
		assert_false(sim.lvt_unfenced);
		sim.deadline = v;
		sim.deadline_writes++;
		return;
	}
	assert_true(msr >= 0x800 && msr < 0x840);
	assert_true(sim_x2apic());
	if (msr == 0x830) {
		assert_true(sim.fenced); /* 11.12.3 */
		sim.fenced = false;
		assert_int_equal(v & (1u << 12), 0);
		sim_send((uint32_t)(v >> 32), (uint32_t)v);
		return;
	}
	assert_int_not_equal(msr, 0x831); /* no ICR high in x2APIC mode */
	if (msr == 0x80B || msr == 0x828)
		assert_int_equal(v, 0); /* EOI, ESR: 0 or #GP */
	assert_int_equal(v >> 32, 0);
	sim_write((msr - 0x800) << 4, (uint32_t)v);
}

void hw_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	memset(r, 0, 4 * sizeof(uint32_t));
	switch (leaf) {
	case 0:
		r[0] = 0xB;
		break;
	case 1:
		r[1] = (sim.apic_id & 0xFF) << 24;
		r[2] = (sim.has_x2apic ? 1u << 21 : 0) |
		       (sim.has_deadline ? 1u << 24 : 0);
		r[3] = sim.has_apic ? 1u << 9 : 0;
		break;
	case 0xB:
		r[1] = 1;
		r[3] = sim.apic_id;
		break;
	}
}

uint64_t hw_rdtsc(void)
{
	sim.tsc += 500;
	return sim.tsc;
}

void hw_outb(uint16_t port, uint8_t v)
{
	assert_true(sim.noutb < MAX_OUTB);
	sim.outb_port[sim.noutb] = port;
	sim.outb_val[sim.noutb++] = v;
}

uint64_t hw_irq_save(void)
{
	return sim.irq_off++;
}

void hw_irq_restore(uint64_t flags)
{
	sim.irq_off = (int)flags;
}

void hw_mfence(void)
{
	sim.fenced = true;
	sim.lvt_unfenced = false;
}

void *mm_map_mmio(uint64_t pa, uint64_t len, unsigned prot)
{
	assert_int_equal(len, PAGE_SIZE);
	assert_true(prot & PT_UC);
	sim.maps++;
	sim.map_pa = pa;
	return mmio_page;
}

/* time.c, as apic.c uses it (tested in test_time.c). */
uint64_t time_tsc_hz(void) { return SIM_TSC_HZ; }
uint64_t time_ns_to_tsc(uint64_t ns)
{
	unsigned __int128 t = (unsigned __int128)ns * SIM_TSC_HZ / 1000000000;

	return t >> 64 ? UINT64_MAX : (uint64_t)t;
}
uint64_t time_mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 q = c ? (unsigned __int128)a * b / c : ~(unsigned __int128)0;

	return q >> 64 ? UINT64_MAX : (uint64_t)q;
}
uint64_t time_median(uint64_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			if (v[j] < v[i]) {
				uint64_t t = v[i];
				v[i] = v[j];
				v[j] = t;
			}
	return v[n / 2];
}

/* The BSP of a server whose CPU has x2APIC, firmware left it in xAPIC mode
 * at the default base, with two vectors still in service. */
static int sim_reset(void **state)
{
	(void)state;
	memset(&sim, 0, sizeof(sim));
	memset(&acpi, 0, sizeof(acpi));
	sim.apic_base = 0xFEE00000ULL | BASE_EN | BASE_BSP;
	sim.apic_id = 2;
	sim.has_apic = sim.has_x2apic = true;
	sim.version = 0x00050014; /* 6 LVT entries: no CMCI */
	sim.isr[1] = 1u << 3;	  /* vector 0x23 */
	sim.isr[7] = 1u << 1;	  /* vector 0xE1 */
	sim.esr_pending = 0x40;	  /* a stale "received illegal vector" */
	acpi.have_madt = true;
	acpi.lapic_address = 0xFEE00000ULL;
	test_log_reset();
	return 0;
}

static uint32_t reg(uint32_t off)
{
	return sim.regs[off / 4];
}

static void assert_ipi(unsigned i, uint32_t dest, uint32_t lo)
{
	assert_true(i < sim.nipis);
	assert_int_equal(sim.ipis[i].dest, dest);
	assert_int_equal(sim.ipis[i].lo, lo);
}

/* ------------------------------------------------------------------ tests - */

static void test_icr_encode(void **state)
{
	uint64_t icr = 0;

	(void)state;
	/* Fixed IPI, vector 0xF1, to APIC 3. */
	assert_int_equal(lapic_icr_encode(false, 3, ICR_LEVEL_ASSERT | 0xF1, &icr), 0);
	assert_int_equal(icr, 0x03000000000040F1ULL);
	assert_int_equal(lapic_icr_encode(true, 3, ICR_LEVEL_ASSERT | 0xF1, &icr), 0);
	assert_int_equal(icr, 0x00000003000040F1ULL);
	/* INIT assert / de-assert, SIPI to page 8. */
	assert_int_equal(lapic_icr_encode(false, 0xFE, ICR_DM_INIT | ICR_TRIGGER_LEVEL |
					  ICR_LEVEL_ASSERT, &icr), 0);
	assert_int_equal(icr, 0xFE0000000000C500ULL);
	assert_int_equal(lapic_icr_encode(true, 0x12345, ICR_DM_INIT | ICR_TRIGGER_LEVEL,
					  &icr), 0);
	assert_int_equal(icr, 0x0001234500008500ULL);
	assert_int_equal(lapic_icr_encode(false, 1, ICR_DM_STARTUP | ICR_LEVEL_ASSERT |
					  ICR_VECTOR(0x08), &icr), 0);
	assert_int_equal(icr, 0x0100000000004608ULL);
	/* NMI to all but self: the destination is ignored. */
	assert_int_equal(lapic_icr_encode(true, 77, ICR_SH_ALL_BUT_SELF | ICR_DM_NMI |
					  ICR_LEVEL_ASSERT, &icr), 0);
	assert_int_equal(icr, 0x00000000000C4400ULL);
	assert_int_equal(lapic_icr_encode(false, 0x1FF, ICR_SH_SELF | 0x40F2, &icr), 0);
	assert_int_equal(icr, 0x00000000000440F2ULL);
	/* The read-only delivery status bit never goes out. */
	assert_int_equal(lapic_icr_encode(false, 1, ICR_DELIVERY_PENDING | 0x40F0, &icr), 0);
	assert_int_equal(icr, 0x01000000000040F0ULL);
	/* Unaddressable or broadcast ids; reserved bits. */
	icr = 42;
	assert_int_equal(lapic_icr_encode(false, 0xFF, 0x40F1, &icr), KEEL_ERANGE);
	assert_int_equal(lapic_icr_encode(false, 0x100, 0x40F1, &icr), KEEL_ERANGE);
	assert_int_equal(lapic_icr_encode(true, 0xFFFFFFFF, 0x40F1, &icr), KEEL_ERANGE);
	assert_int_equal(lapic_icr_encode(true, 1, 0x40F1 | (1u << 20), &icr), KEEL_EINVAL);
	assert_int_equal(icr, 42);
	assert_int_equal(lapic_icr_encode(true, 0xFFFFFFFE, 0x40F1, &icr), 0);
	assert_int_equal(icr, 0xFFFFFFFE000040F1ULL);
}

static void test_init_xapic(void **state)
{
	(void)state;
	assert_int_equal(lapic_init(false), 0);
	assert_false(lapic_is_x2apic());
	assert_int_equal(sim.map_pa, 0xFEE00000ULL);
	assert_int_equal(sim.apic_base & (BASE_EN | BASE_EXTD), BASE_EN);
	assert_int_equal(reg(0x0F0), 0x1FF); /* enabled, spurious 0xFF */
	assert_int_equal(reg(0x080), 0);
	assert_int_equal(reg(0x320), (1u << 16) | VEC_TIMER);
	assert_int_equal(reg(0x350), 1u << 16);
	assert_int_equal(reg(0x360), 1u << 16);
	assert_int_equal(reg(0x340), 1u << 16);
	assert_int_equal(reg(0x330), 1u << 16);
	assert_int_equal(reg(0x370), VEC_LAPIC_ERROR); /* unmasked */
	assert_int_equal(sim.isr[1] | sim.isr[7], 0);
	assert_int_equal(reg(0x280), 0);
	assert_non_null(strstr(test_log_all, "xAPIC mode at 0xfee00000 (x2APIC off by configuration)"));
	assert_non_null(strstr(test_log_all, "acknowledged 2 stale vectors, ESR was 0x40"));
	assert_int_equal(lapic_id(), 2);
	/* EOI writes 0 to the EOI register: one more in-service vector gone. */
	sim.isr[2] = 1;
	lapic_eoi();
	assert_int_equal(sim.isr[2], 0);
	/* The BSP again: the page is not mapped twice. */
	assert_int_equal(lapic_init(false), 0);
	assert_int_equal(sim.maps, 1);
}

static void test_init_x2apic(void **state)
{
	(void)state;
	sim.apic_id = 0x1234;
	sim.version = 0x00060015; /* 7 LVT entries: CMCI too */
	assert_int_equal(lapic_init(true), 0);
	assert_true(lapic_is_x2apic());
	assert_int_equal(sim.apic_base & (BASE_EN | BASE_EXTD), BASE_EN | BASE_EXTD);
	assert_int_equal(reg(0x0F0), 0x1FF);
	assert_int_equal(reg(0x2F0), 1u << 16);
	assert_int_equal(reg(0x370), VEC_LAPIC_ERROR);
	assert_int_equal(lapic_id(), 0x1234);
	lapic_eoi();
	assert_non_null(strstr(test_log_all, "x2APIC mode"));
}

static void test_init_x2apic_from_disabled(void **state)
{
	(void)state;
	sim.apic_base &= ~BASE_EN; /* firmware switched it off */
	assert_int_equal(lapic_init(true), 0);
	assert_int_equal(sim.apic_base & (BASE_EN | BASE_EXTD), BASE_EN | BASE_EXTD);
	assert_int_equal(reg(0x0F0), 0x1FF);
}

static void test_init_leave_firmware_x2apic(void **state)
{
	(void)state;
	/* Firmware left x2APIC on; the configuration says x2apic=no. The sim
	 * fails the test on a direct x2APIC -> xAPIC write. */
	sim.apic_base |= BASE_EXTD;
	assert_int_equal(lapic_init(false), 0);
	assert_false(lapic_is_x2apic());
	assert_int_equal(sim.apic_base & (BASE_EN | BASE_EXTD), BASE_EN);
	assert_int_equal(reg(0x0F0), 0x1FF);
	assert_int_equal(reg(0x370), VEC_LAPIC_ERROR);
}

static void test_init_errors(void **state)
{
	(void)state;
	/* MADT and MSR disagree: the MSR wins, with a warning. */
	acpi.lapic_address = 0xFEC00000ULL;
	assert_int_equal(lapic_init(false), 0);
	assert_non_null(strstr(test_log_all, "MADT says 0xfec00000, IA32_APIC_BASE 0xfee00000"));
	assert_non_null(strstr(test_log_all, "xAPIC mode at 0xfee00000"));
	assert_int_equal(test_log_count[LOG_WARN], 1);
	/* No APIC at all. */
	sim.has_apic = false;
	assert_int_equal(lapic_init(false), KEEL_ENOTSUP);
}

static void test_ap_follows_bsp(void **state)
{
	(void)state;
	assert_int_equal(lapic_init(true), 0);
	/* An AP: not the BSP, still in xAPIC mode after INIT-SIPI. Before
	 * its lapic_init its id comes from CPUID, not from a faulting MSR. */
	sim.apic_base = 0xFEE00000ULL | BASE_EN;
	sim.apic_id = 7;
	memset(sim.regs, 0, sizeof(sim.regs));
	assert_int_equal(lapic_id(), 7);
	/* It asks for xAPIC; the BSP's choice stands. */
	assert_int_equal(lapic_init(false), 0);
	assert_true(lapic_is_x2apic());
	assert_int_equal(sim.apic_base & (BASE_EN | BASE_EXTD), BASE_EN | BASE_EXTD);
	assert_int_equal(lapic_id(), 7);
	assert_int_equal(reg(0x0F0), 0x1FF);
}

static void test_ap_xapic_moved_base(void **state)
{
	(void)state;
	assert_int_equal(lapic_init(false), 0);
	sim.apic_base = 0xFED00000ULL | BASE_EN; /* an AP, base elsewhere */
	assert_int_equal(lapic_init(false), 0);
	assert_int_equal(sim.apic_base & APIC_BASE_ADDR_FOR_TEST, 0xFEE00000ULL);
	assert_non_null(strstr(test_log_all, "moving it to 0xfee00000"));
}

static void test_ipis_xapic(void **state)
{
	(void)state;
	assert_int_equal(lapic_init(false), 0);
	sim.pending_reads = 3; /* the previous IPI is still going out */
	lapic_send_ipi(3, VEC_XCALL);
	lapic_send_ipi_all_but_self(VEC_RESCHED);
	lapic_send_nmi(0xFE);
	lapic_send_nmi_all_but_self();
	assert_int_equal(sim.nipis, 4);
	assert_ipi(0, 3, 0x40F1);
	assert_ipi(1, 0, 0xC40F2);
	assert_ipi(2, 0xFE, 0x4400);
	assert_ipi(3, 0, 0xC4400);
	assert_int_equal(sim.irq_off, 0); /* interrupts restored */
	assert_int_equal(test_log_count[LOG_WARN] + test_log_count[LOG_ERROR], 0);
	/* Not sent: an id xAPIC cannot address, an exception vector. */
	lapic_send_ipi(0x100, VEC_XCALL);
	lapic_send_ipi(1, 0x0E);
	lapic_send_ipi_all_but_self(0x1F);
	assert_int_equal(sim.nipis, 4);
	assert_int_equal(test_log_count[LOG_ERROR], 3);
	/* Delivery status stuck: bounded wait, a warning, then it is sent. */
	sim.pending_forever = true;
	lapic_send_ipi(1, VEC_XCALL);
	assert_int_equal(sim.nipis, 5);
	assert_non_null(strstr(test_log_all, "previous IPI still pending"));
}

static void test_init_sipi_xapic(void **state)
{
	(void)state;
	assert_int_equal(lapic_init(false), 0);
	lapic_send_init(5);
	assert_int_equal(sim.nipis, 2);
	assert_ipi(0, 5, 0xC500); /* level, assert, INIT */
	assert_ipi(1, 5, 0x8500); /* level, de-assert, INIT */
	sim.esr_on_send = 0x04; /* "send accept error": nobody at id 5 */
	lapic_send_sipi(5, 0x08);
	assert_ipi(2, 5, 0x4608);
	assert_non_null(strstr(test_log_all, "SIPI to APIC 5: ESR 0x4"));
	/* The error that was pending before the SIPI is not blamed on it. */
	sim.esr_pending = 0x80;
	test_log_reset();
	lapic_send_init(6);
	assert_null(strstr(test_log_all, "ESR"));
}

static void test_ipis_x2apic(void **state)
{
	(void)state;
	assert_int_equal(lapic_init(true), 0);
	lapic_send_ipi(0x12345, VEC_XCALL);
	lapic_send_init(0x100);
	lapic_send_sipi(0x100, 0x9F);
	lapic_send_nmi_all_but_self();
	lapic_send_ipi(0xFFFFFFFF, VEC_XCALL); /* refused */
	assert_int_equal(sim.nipis, 5);
	assert_ipi(0, 0x12345, 0x40F1);
	assert_ipi(1, 0x100, 0xC500);
	assert_ipi(2, 0x100, 0x8500);
	assert_ipi(3, 0x100, 0x469F);
	assert_ipi(4, 0, 0xC4400);
	assert_int_equal(test_log_count[LOG_ERROR], 1);
}

static void test_ipi_before_init(void **state)
{
	(void)state;
	/* Runs first: no mode chosen yet. */
	lapic_send_ipi(1, VEC_XCALL);
	assert_int_equal(sim.nipis, 0);
	assert_int_equal(test_log_count[LOG_ERROR], 1);
	assert_int_equal(lapic_id(), 2); /* from CPUID */
	/* An AP can't go first: the BSP chooses the mode. */
	sim.apic_base &= ~BASE_BSP;
	assert_int_equal(lapic_init(true), KEEL_EINVAL);
	lapic_timer_calibrate();
	assert_int_equal(lapic_timer_hz(), 0);
	assert_int_equal(test_log_count[LOG_ERROR], 3);
}

static void test_timer_oneshot(void **state)
{
	uint64_t hz;

	(void)state;
	sim.has_deadline = false;
	assert_int_equal(lapic_init(false), 0);
	lapic_timer_calibrate();
	hz = lapic_timer_hz();
	/* 1 GHz bus / 16 = 62.5 MHz. */
	assert_true(hz > 62490000 && hz < 62510000);
	assert_false(lapic_timer_uses_deadline());
	assert_non_null(strstr(test_log_all, "lapic: timer 62."));
	assert_non_null(strstr(test_log_all, "one-shot mode"));
	assert_int_equal(reg(0x380), 0); /* stopped after measuring */
	assert_int_equal(sim.irq_off, 0);

	lapic_timer_setup();
	assert_int_equal(reg(0x3E0), 0x3);
	assert_int_equal(reg(0x320), (1u << 16) | VEC_TIMER);
	assert_int_equal(reg(0x380), 0);
	lapic_timer_arm_ns(1000000); /* 1 ms: 62500 counts */
	assert_int_equal(reg(0x320), VEC_TIMER); /* unmasked, one-shot */
	assert_true(reg(0x380) > 62480 && reg(0x380) < 62520);
	lapic_timer_arm_ns(0); /* at least 1: 0 would stop it */
	assert_int_equal(reg(0x380), 1);
	lapic_timer_arm_ns(3600ULL * 1000000000); /* an hour: clamped */
	assert_int_equal(reg(0x380), 0xFFFFFFFFu);
	lapic_timer_arm_ns(UINT64_MAX);
	assert_int_equal(reg(0x380), 0xFFFFFFFFu);
	lapic_timer_cancel();
	assert_int_equal(reg(0x380), 0);
	assert_int_equal(sim.deadline_writes, 0);
}

static void test_timer_deadline(void **state)
{
	uint64_t before;

	(void)state;
	sim.has_deadline = true;
	assert_int_equal(lapic_init(true), 0);
	lapic_timer_calibrate();
	assert_true(lapic_timer_uses_deadline());
	assert_non_null(strstr(test_log_all, "TSC-deadline mode"));
	lapic_timer_setup();
	assert_int_equal(reg(0x320), (1u << 16) | (2u << 17) | VEC_TIMER);
	assert_int_equal(sim.deadline, 0);
	before = sim.tsc;
	lapic_timer_arm_ns(1000000); /* 1 ms = 2,000,000 TSC cycles */
	assert_int_equal(reg(0x320), (2u << 17) | VEC_TIMER);
	assert_true(sim.deadline >= before + 2000000);
	assert_true(sim.deadline <= sim.tsc + 2000000);
	lapic_timer_arm_ns(0); /* 0 would disarm */
	assert_true(sim.deadline > 0);
	lapic_timer_arm_ns(UINT64_MAX); /* saturates, no wrap into the past */
	assert_int_equal(sim.deadline, UINT64_MAX);
	lapic_timer_cancel();
	assert_int_equal(sim.deadline, 0);
}

static void test_timer_dead(void **state)
{
	(void)state;
	sim.has_deadline = false;
	assert_int_equal(lapic_init(false), 0);
	lapic_timer_calibrate();
	assert_true(lapic_timer_hz() > 62000000);
	/* A timer that never counts: the last good frequency stays, and the
	 * log says what is wrong. */
	test_log_reset();
	sim.timer_dead = true;
	lapic_timer_calibrate();
	assert_true(lapic_timer_hz() > 62000000);
	assert_non_null(strstr(test_log_all, "the APIC timer does not count"));
	assert_int_equal(sim.irq_off, 0);
}

static void test_pic_disable(void **state)
{
	static const uint16_t port[] = { 0x20, 0xA0, 0x21, 0xA1, 0x21, 0xA1,
					 0x21, 0xA1, 0x21, 0xA1 };
	static const uint8_t val[] = { 0x11, 0x11, 0x20, 0x28, 0x04, 0x02,
				       0x01, 0x01, 0xFF, 0xFF };

	(void)state;
	pic_disable();
	assert_int_equal(sim.noutb, 20);
	for (unsigned i = 0; i < 10; i++) {
		assert_int_equal(sim.outb_port[2 * i], port[i]);
		assert_int_equal(sim.outb_val[2 * i], val[i]);
		assert_int_equal(sim.outb_port[2 * i + 1], 0x80); /* I/O delay */
	}
}

#define T(f) cmocka_unit_test_setup(f, sim_reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ipi_before_init),
		T(test_icr_encode),
		T(test_init_xapic),
		T(test_init_x2apic),
		T(test_init_x2apic_from_disabled),
		T(test_init_leave_firmware_x2apic),
		T(test_init_errors),
		T(test_ap_follows_bsp),
		T(test_ap_xapic_moved_base),
		T(test_ipis_xapic),
		T(test_init_sipi_xapic),
		T(test_ipis_x2apic),
		T(test_timer_oneshot),
		T(test_timer_deadline),
		T(test_timer_dead),
		T(test_pic_disable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
