/*
 * test_ioapic.c - kernel/ioapic.c on the host: redirection entry encoding, ISA
 * IRQ resolution through MADT overrides (MPS INTI flags), and init/route/mask
 * against simulated I/O APICs (IOREGSEL/IOWIN, read-only bits, a dead one).
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
#include "kernel/ioapic.h"
#include "kernel/log.h"
#include "mm/mm.h"
#include "tests/unit/shim/host_shim.h"

struct acpi_info acpi;

/* ------------------------------------------------------ simulated I/O APICs */

#define SIM_IOAPICS 3
#define SIM_PINS_MAX 64

struct sim_ioapic {
	uint64_t pa;
	bool dead;
	uint32_t pins;
	uint32_t sel;
	uint32_t rte[SIM_PINS_MAX][2];
	uint32_t hi_at_unmask[SIM_PINS_MAX]; /* high half when last unmasked */
	bool hi_changed_live[SIM_PINS_MAX];  /* destination moved while unmasked */
	uint8_t page[4096] __attribute__((aligned(4096)));
};

static struct sim_ioapic sio[SIM_IOAPICS];

void *mm_map_mmio(uint64_t pa, uint64_t len, unsigned prot)
{
	assert_true(prot & PT_UC);
	assert_int_equal(pa & (PAGE_SIZE - 1), 0);
	assert_int_equal(len, PAGE_SIZE);
	for (int i = 0; i < SIM_IOAPICS; i++)
		if (sio[i].pa && (sio[i].pa & PAGE_MASK) == pa)
			return sio[i].page;
	return NULL;
}

static struct sim_ioapic *sim_find(const volatile uint32_t *p, size_t *off)
{
	for (int i = 0; i < SIM_IOAPICS; i++) {
		const uint8_t *base = sio[i].page + (sio[i].pa & (PAGE_SIZE - 1));

		if ((const uint8_t *)p >= sio[i].page &&
		    (const uint8_t *)p < sio[i].page + PAGE_SIZE) {
			*off = (const uint8_t *)p - base;
			return &sio[i];
		}
	}
	fail_msg("MMIO access outside any I/O APIC");
	return NULL;
}

uint32_t hw_mmio_read32(const volatile uint32_t *p)
{
	size_t off;
	struct sim_ioapic *s = sim_find(p, &off);
	uint32_t idx = s->sel;

	if (s->dead)
		return 0xFFFFFFFF;
	assert_int_equal(off, 0x10); /* only IOWIN is read */
	if (idx == 0)
		return 0x0F000000; /* id 15 in 27:24 */
	if (idx == 1)
		return ((s->pins - 1) << 16) | 0x20;
	assert_true(idx >= 0x10 && idx < 0x10 + 2 * s->pins);
	return s->rte[(idx - 0x10) / 2][idx & 1];
}

void hw_mmio_write32(volatile uint32_t *p, uint32_t v)
{
	size_t off;
	struct sim_ioapic *s = sim_find(p, &off);
	uint32_t idx = s->sel, pin;

	if (off == 0) {
		s->sel = v & 0xFF;
		return;
	}
	assert_int_equal(off, 0x10);
	if (s->dead)
		return;
	assert_true(idx >= 0x10 && idx < 0x10 + 2 * s->pins); /* not ID/VER */
	pin = (idx - 0x10) / 2;
	if (idx & 1) {
		if (!(s->rte[pin][0] & (1u << 16)) && s->rte[pin][1] != v)
			s->hi_changed_live[pin] = true;
		s->rte[pin][1] = v;
		return;
	}
	/* Delivery status (12) and remote IRR (14) are read-only. */
	v = (v & ~0x5000u) | (s->rte[pin][0] & 0x5000u);
	if ((s->rte[pin][0] & (1u << 16)) && !(v & (1u << 16)))
		s->hi_at_unmask[pin] = s->rte[pin][1];
	s->rte[pin][0] = v;
}

static void sim_add(int i, uint32_t id, uint64_t pa, uint32_t gsi_base,
		    uint32_t pins)
{
	sio[i].pa = pa;
	sio[i].pins = pins;
	acpi.ioapics[acpi.ioapic_count++] =
		(struct acpi_ioapic){ .id = id, .address = pa, .gsi_base = gsi_base };
}

static void sim_override(uint8_t source, uint32_t gsi, uint16_t flags)
{
	acpi.overrides[acpi.override_count++] =
		(struct acpi_override){ .bus = 0, .source = source, .gsi = gsi,
					.flags = flags };
}

/* A PC as QEMU's q35 describes it: one I/O APIC, IRQ 0 on GSI 2, SCI (9)
 * level triggered; plus a second I/O APIC for GSIs 24-55. Firmware left
 * every pin unmasked with garbage. */
static int sim_reset(void **state)
{
	(void)state;
	memset(sio, 0, sizeof(sio));
	memset(&acpi, 0, sizeof(acpi));
	sim_add(0, 0, 0xFEC00000ULL, 0, 24);
	sim_add(1, 1, 0xFEC01000ULL, 24, 32);
	for (int i = 0; i < 2; i++)
		for (int p = 0; p < SIM_PINS_MAX; p++) {
			sio[i].rte[p][0] = 0x00000A31;
			sio[i].rte[p][1] = 0xFF000000;
		}
	sim_override(0, 2, 0x0);
	sim_override(9, 9, 0xD); /* level, active high */
	sim_override(4, 30, 0xF); /* level, active low, on the second one */
	sim_override(3, 200, 0x0); /* a GSI no I/O APIC has */
	test_log_reset();
	return 0;
}

/* ------------------------------------------------------------------ tests - */

static void test_rte_make(void **state)
{
	(void)state;
	assert_int_equal(ioapic_rte_make(0x30, 1, false, false, false),
			 0x0100000000000030ULL);
	assert_int_equal(ioapic_rte_make(0x30, 0xFE, true, true, true),
			 0xFE0000000001A030ULL);
	assert_int_equal(ioapic_rte_make(0xEF, 0, false, true, false), 0x80EFULL);
	assert_int_equal(ioapic_rte_make(0x20, 0, true, false, false), 0x2020ULL);
}

static void test_isa_resolve(void **state)
{
	uint32_t gsi = 0;
	bool low = true, level = true;

	(void)state;
	/* No override: identity, ISA default edge / active high. */
	assert_int_equal(ioapic_isa_resolve(&acpi, 1, &gsi, &low, &level), 0);
	assert_int_equal(gsi, 1);
	assert_false(low);
	assert_false(level);
	/* IRQ 0 moved to GSI 2, flags "conforms". */
	assert_int_equal(ioapic_isa_resolve(&acpi, 0, &gsi, &low, &level), 0);
	assert_int_equal(gsi, 2);
	assert_false(low);
	assert_false(level);
	assert_int_equal(ioapic_isa_resolve(&acpi, 9, &gsi, &low, &level), 0);
	assert_int_equal(gsi, 9);
	assert_false(low);
	assert_true(level);
	assert_int_equal(ioapic_isa_resolve(&acpi, 4, &gsi, &low, &level), 0);
	assert_int_equal(gsi, 30);
	assert_true(low);
	assert_true(level);
	/* IRQ 2's identity GSI belongs to IRQ 0 now. */
	assert_int_equal(ioapic_isa_resolve(&acpi, 2, &gsi, &low, &level), KEEL_ENOENT);
	/* Not an ISA IRQ. */
	assert_int_equal(ioapic_isa_resolve(&acpi, 16, &gsi, &low, &level), KEEL_EINVAL);
	assert_int_equal(test_log_count[LOG_WARN], 0);
	/* Reserved polarity / trigger: the ISA default, with a warning. */
	sim_override(5, 5, 0x2 | 0x8);
	assert_int_equal(ioapic_isa_resolve(&acpi, 5, &gsi, &low, &level), 0);
	assert_false(low);
	assert_false(level);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	/* Another bus's override does not apply to ISA. */
	acpi.overrides[acpi.override_count++] =
		(struct acpi_override){ .bus = 1, .source = 7, .gsi = 40, .flags = 0xF };
	assert_int_equal(ioapic_isa_resolve(&acpi, 7, &gsi, &low, &level), 0);
	assert_int_equal(gsi, 7);
	assert_false(level);
	/* A count past the array is bounded, not trusted. */
	acpi.override_count = 100000;
	assert_int_equal(ioapic_isa_resolve(&acpi, 1, &gsi, &low, &level), 0);
	assert_int_equal(gsi, 1);
}

static void test_init_masks_everything(void **state)
{
	(void)state;
	assert_int_equal(ioapic_init(), 0);
	for (int i = 0; i < 2; i++)
		for (uint32_t p = 0; p < sio[i].pins; p++)
			assert_true(sio[i].rte[p][0] & (1u << 16));
	assert_int_equal(sio[0].rte[24][0], 0x00000A31); /* past its pins */
	assert_non_null(strstr(test_log_all, "ioapic: id 0 at 0xfec00000 gsi 0-23"));
	assert_non_null(strstr(test_log_all, "ioapic: id 1 at 0xfec01000 gsi 24-55"));
	assert_int_equal(test_log_count[LOG_WARN] + test_log_count[LOG_ERROR], 0);
}

static void test_init_bad_firmware(void **state)
{
	(void)state;
	/* A dead one, one overlapping the first's GSIs, one at an address
	 * already used: all skipped, the good ones kept. */
	sio[0].dead = true;
	sim_add(2, 2, 0xFEC02040ULL, 30, 8); /* overlaps 24-55 */
	acpi.ioapics[acpi.ioapic_count++] = acpi.ioapics[1]; /* duplicate */
	assert_int_equal(ioapic_init(), 0);
	assert_non_null(strstr(test_log_all, "id 0 at 0xfec00000 does not answer"));
	assert_non_null(strstr(test_log_all, "id 2 at 0xfec02040: gsi 30-37 overlaps"));
	assert_non_null(strstr(test_log_all, "id 1 at 0xfec01000: gsi 24-55 overlaps"));
	assert_int_equal(test_log_count[LOG_ERROR], 3);
	/* GSI 2 went with the dead one; 30 still routes. */
	assert_int_equal(ioapic_route_isa(0, 0x30, 0), KEEL_ENOENT);
	assert_int_equal(ioapic_route_isa(4, 0x31, 0), 0);
	/* Nothing usable at all. */
	acpi.ioapic_count = 0;
	assert_int_equal(ioapic_init(), KEEL_ENOENT);
	/* More than the array holds: bounded (the extra entries are copies
	 * of entry 0, a duplicate address). */
	sio[0].dead = false;
	acpi.ioapic_count = 1000;
	assert_int_equal(ioapic_init(), 0);
}

static void test_route_isa(void **state)
{
	(void)state;
	assert_int_equal(ioapic_init(), 0);
	/* The PIT's IRQ 0 lands on GSI 2: edge, active high, unmasked, and
	 * the destination was in place before the unmask. */
	assert_int_equal(ioapic_route_isa(0, 0x30, 3), 0);
	assert_int_equal(sio[0].rte[2][0], 0x30);
	assert_int_equal(sio[0].rte[2][1], 0x03000000);
	assert_int_equal(sio[0].hi_at_unmask[2], 0x03000000);
	assert_true(sio[0].rte[0][0] & (1u << 16)); /* pin 0 untouched */
	/* Moved to another CPU while live: masked while the halves disagree. */
	assert_int_equal(ioapic_route_isa(0, 0x40, 5), 0);
	assert_int_equal(sio[0].rte[2][0], 0x40);
	assert_int_equal(sio[0].rte[2][1], 0x05000000);
	assert_false(sio[0].hi_changed_live[2]);
	/* The SCI: level, active high. */
	assert_int_equal(ioapic_route_isa(9, 0x39, 0), 0);
	assert_int_equal(sio[0].rte[9][0], 0x8039);
	/* IRQ 4 on the second I/O APIC, pin 6: level, active low. */
	assert_int_equal(ioapic_route_isa(4, 0x34, 0xFE), 0);
	assert_int_equal(sio[1].rte[6][0], 0xA034);
	assert_int_equal(sio[1].rte[6][1], 0xFE000000);
	assert_non_null(strstr(test_log_all, "ISA IRQ 4 -> gsi 30, vector 0x34 on APIC 254 (level, active low)"));
	/* Refused. */
	assert_int_equal(ioapic_route_isa(1, 0x1F, 0), KEEL_EINVAL);
	assert_int_equal(ioapic_route_isa(1, 0xFF, 0), KEEL_EINVAL);
	assert_int_equal(ioapic_route_isa(16, 0x30, 0), KEEL_EINVAL);
	assert_int_equal(ioapic_route_isa(1, 0x30, 0xFF), KEEL_ERANGE);
	assert_int_equal(ioapic_route_isa(1, 0x30, 0x100), KEEL_ERANGE);
	assert_int_equal(ioapic_route_isa(2, 0x30, 0), KEEL_ENOENT);
	assert_int_equal(ioapic_route_isa(3, 0x30, 0), KEEL_ENOENT);
	assert_true(sio[0].rte[1][0] & (1u << 16));
	assert_true(sio[0].rte[3][0] & (1u << 16));
}

static void test_mask_gsi(void **state)
{
	(void)state;
	assert_int_equal(ioapic_init(), 0);
	assert_int_equal(ioapic_route_isa(4, 0x34, 1), 0);
	ioapic_mask_gsi(30);
	assert_int_equal(sio[1].rte[6][0], 0xA034 | (1u << 16));
	assert_int_equal(sio[1].rte[6][1], 0x01000000);
	/* Unknown GSIs: a warning, nothing written. */
	ioapic_mask_gsi(56);
	ioapic_mask_gsi(UINT32_MAX);
	assert_int_equal(test_log_count[LOG_WARN], 2);
}

#define T(f) cmocka_unit_test_setup(f, sim_reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rte_make),
		T(test_isa_resolve),
		T(test_init_masks_everything),
		T(test_init_bad_firmware),
		T(test_route_isa),
		T(test_mask_gsi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
