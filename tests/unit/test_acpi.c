/*
 * test_acpi.c - kernel/acpi.c against synthetic firmware tables. A static
 * buffer plays physical memory; the map function hands out an exactly sized
 * heap copy of each range, so ASan reports any read past what was mapped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/acpi.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "tests/unit/shim/host_shim.h"

/* ---- fake physical memory ---- */

#define MEM_BASE 0x100000ULL
#define MEM_SIZE 0x40000u
#define UNMAPPED 0xFFF00000ULL

/* Where the tests put things. */
#define PA_RSDP (MEM_BASE + 0x0000)
#define PA_RSDT (MEM_BASE + 0x1000)
#define PA_XSDT (MEM_BASE + 0x2000)
#define PA_MADT (MEM_BASE + 0x3000)
#define PA_MCFG (MEM_BASE + 0x5000)
#define PA_HPET (MEM_BASE + 0x6000)
#define PA_FADT (MEM_BASE + 0x7000)
#define PA_DSDT (MEM_BASE + 0x8000)
#define PA_DSDT2 (MEM_BASE + 0x9000)
#define PA_SSDT (MEM_BASE + 0xA000)
#define PA_MADT2 (MEM_BASE + 0xB000)
#define PA_MANY (MEM_BASE + 0x10000)

static uint8_t mem[MEM_SIZE];
static void *maps[8192];
static unsigned map_count;
static struct acpi_info info;

static const void *test_map(uint64_t pa, size_t len)
{
	if (pa < MEM_BASE || len > MEM_SIZE || pa - MEM_BASE > MEM_SIZE - len)
		return NULL;
	assert_true(map_count < sizeof(maps) / sizeof(maps[0]));
	void *p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, mem + (pa - MEM_BASE), len);
	maps[map_count++] = p;
	return p;
}

static void maps_free(void)
{
	while (map_count)
		free(maps[--map_count]);
}

static int parse(uint64_t rsdp)
{
	int err = acpi_parse(rsdp, test_map, &info);

	maps_free();
	return err;
}

static uint8_t *P(uint64_t pa)
{
	assert_true(pa >= MEM_BASE && pa < MEM_BASE + MEM_SIZE);
	return mem + (pa - MEM_BASE);
}

static void w8(uint64_t pa, uint8_t v) { *P(pa) = v; }
static void w16(uint64_t pa, uint16_t v)
{
	w8(pa, (uint8_t)v);
	w8(pa + 1, (uint8_t)(v >> 8));
}
static void w32(uint64_t pa, uint32_t v)
{
	w16(pa, (uint16_t)v);
	w16(pa + 2, (uint16_t)(v >> 16));
}
static void w64(uint64_t pa, uint64_t v)
{
	w32(pa, (uint32_t)v);
	w32(pa + 4, (uint32_t)(v >> 32));
}
static uint32_t r32(uint64_t pa)
{
	uint8_t *p = P(pa);
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fix_sum(uint64_t pa, size_t len, size_t at)
{
	uint8_t sum = 0;

	w8(pa + at, 0);
	for (size_t i = 0; i < len; i++)
		sum += P(pa)[i];
	w8(pa + at, (uint8_t)-sum);
}

/* Recompute a table's checksum after a test edited it. */
static void table_fix(uint64_t pa) { fix_sum(pa, r32(pa + 4), 9); }

/* ---- table builder: header, append fields, finish ---- */

struct tb {
	uint64_t pa;
	uint32_t len;
};

static struct tb tb_begin(uint64_t pa, const char *sig, uint8_t rev)
{
	memset(P(pa), 0, 36);
	memcpy(P(pa), sig, 4);
	w8(pa + 8, rev);
	memcpy(P(pa + 10), "KEELT ", 6);
	memcpy(P(pa + 16), "UNITTEST", 8);
	w32(pa + 24, 1);
	memcpy(P(pa + 28), "KEEL", 4);
	w32(pa + 32, 1);
	return (struct tb){.pa = pa, .len = 36};
}

static void tb_u8(struct tb *t, uint8_t v) { w8(t->pa + t->len++, v); }
static void tb_u16(struct tb *t, uint16_t v) { w16(t->pa + t->len, v); t->len += 2; }
static void tb_u32(struct tb *t, uint32_t v) { w32(t->pa + t->len, v); t->len += 4; }
static void tb_u64(struct tb *t, uint64_t v) { w64(t->pa + t->len, v); t->len += 8; }
static void tb_bytes(struct tb *t, const void *d, size_t n)
{
	memcpy(P(t->pa + t->len), d, n);
	t->len += (uint32_t)n;
}

static uint64_t tb_end(struct tb *t)
{
	w32(t->pa + 4, t->len);
	table_fix(t->pa);
	return t->pa;
}

/* ---- RSDP and roots ---- */

static void make_rsdp(uint64_t pa, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	memset(P(pa), 0, 36);
	memcpy(P(pa), "RSD PTR ", 8);
	memcpy(P(pa + 9), "BOCHS ", 6);
	w8(pa + 15, rev);
	w32(pa + 16, rsdt);
	w32(pa + 20, 36);
	w64(pa + 24, xsdt);
	fix_sum(pa, 20, 8);
	fix_sum(pa, 36, 32);
}

static void make_root(uint64_t pa, bool xsdt, const uint64_t *e, unsigned n)
{
	struct tb t = tb_begin(pa, xsdt ? "XSDT" : "RSDT", 1);

	for (unsigned i = 0; i < n; i++) {
		if (xsdt)
			tb_u64(&t, e[i]);
		else
			tb_u32(&t, (uint32_t)e[i]);
	}
	tb_end(&t);
}

/* ---- MADT ---- */

static struct tb madt_begin(uint64_t pa, uint32_t flags)
{
	struct tb t = tb_begin(pa, "APIC", 5);

	tb_u32(&t, 0xFEE00000u);
	tb_u32(&t, flags);
	return t;
}

static void madt_lapic(struct tb *t, uint8_t uid, uint8_t id, uint32_t flags)
{
	tb_u8(t, 0);
	tb_u8(t, 8);
	tb_u8(t, uid);
	tb_u8(t, id);
	tb_u32(t, flags);
}

static void madt_x2apic(struct tb *t, uint32_t id, uint32_t flags, uint32_t uid)
{
	tb_u8(t, 9);
	tb_u8(t, 16);
	tb_u16(t, 0);
	tb_u32(t, id);
	tb_u32(t, flags);
	tb_u32(t, uid);
}

static void madt_ioapic(struct tb *t, uint8_t id, uint32_t addr, uint32_t gsi)
{
	tb_u8(t, 1);
	tb_u8(t, 12);
	tb_u8(t, id);
	tb_u8(t, 0);
	tb_u32(t, addr);
	tb_u32(t, gsi);
}

static void madt_iso(struct tb *t, uint8_t src, uint32_t gsi, uint16_t flags)
{
	tb_u8(t, 2);
	tb_u8(t, 10);
	tb_u8(t, 0);
	tb_u8(t, src);
	tb_u32(t, gsi);
	tb_u16(t, flags);
}

static void madt_lapic_nmi(struct tb *t)
{
	tb_u8(t, 4);
	tb_u8(t, 6);
	tb_u8(t, 0xFF);
	tb_u16(t, 0);
	tb_u8(t, 1);
}

static void madt_addr_override(struct tb *t, uint64_t addr)
{
	tb_u8(t, 5);
	tb_u8(t, 12);
	tb_u16(t, 0);
	tb_u64(t, addr);
}

/* A small QEMU-like MADT: two CPUs, one IOAPIC, the usual overrides. */
static void make_madt_simple(uint64_t pa, unsigned cpus)
{
	struct tb t = madt_begin(pa, 1);

	for (unsigned i = 0; i < cpus; i++)
		madt_lapic(&t, (uint8_t)i, (uint8_t)i, 1);
	madt_ioapic(&t, 0, 0xFEC00000u, 0);
	madt_iso(&t, 0, 2, 0);
	madt_iso(&t, 9, 9, 0xD);
	madt_lapic_nmi(&t);
	tb_end(&t);
}

/* ---- MCFG, HPET ---- */

static void mcfg_entry(struct tb *t, uint64_t base, uint16_t seg, uint8_t s,
		       uint8_t e)
{
	tb_u64(t, base);
	tb_u16(t, seg);
	tb_u8(t, s);
	tb_u8(t, e);
	tb_u32(t, 0);
}

static void make_mcfg(uint64_t pa)
{
	struct tb t = tb_begin(pa, "MCFG", 1);

	tb_u64(&t, 0);
	mcfg_entry(&t, 0xB0000000u, 0, 0, 0xFF);
	tb_end(&t);
}

static void make_hpet(uint64_t pa, uint8_t space)
{
	struct tb t = tb_begin(pa, "HPET", 1);

	tb_u32(&t, 0x8086A201u);
	tb_u8(&t, space);
	tb_u8(&t, 64);
	tb_u8(&t, 0);
	tb_u8(&t, 0);
	tb_u64(&t, 0xFED00000u);
	tb_u8(&t, 0);
	tb_u16(&t, 0x80);
	tb_u8(&t, 0);
	tb_end(&t);
}

/* ---- FADT ---- */

static void gas(uint64_t pa, uint8_t space, uint8_t width, uint64_t addr)
{
	w8(pa, space);
	w8(pa + 1, width);
	w8(pa + 2, 0);
	w8(pa + 3, 0);
	w64(pa + 4, addr);
}

#define F_TMR_VAL_EXT (1u << 8)
#define F_RESET_REG_SUP (1u << 10)
#define F_HW_REDUCED (1u << 20)

/* Legacy (ACPI 1.0) part: what QEMU's q35 reports, PM base 0x600. */
static void fadt_legacy(uint64_t pa, uint32_t len, uint32_t dsdt, uint32_t flags)
{
	struct tb t = tb_begin(pa, "FACP", len == 116 ? 1 : 6);

	memset(P(pa + 36), 0, len - 36);
	w32(pa + 40, dsdt);
	w16(pa + 46, 9);	/* SCI_INT */
	w32(pa + 48, 0xB2);	/* SMI_CMD */
	w8(pa + 52, 0xF1);	/* ACPI_ENABLE */
	w8(pa + 53, 0xF0);	/* ACPI_DISABLE */
	w32(pa + 56, 0x600);	/* PM1a_EVT_BLK */
	w32(pa + 64, 0x604);	/* PM1a_CNT_BLK */
	w32(pa + 76, 0x608);	/* PM_TMR_BLK */
	w32(pa + 80, 0x620);	/* GPE0_BLK */
	w8(pa + 88, 4);		/* PM1_EVT_LEN */
	w8(pa + 89, 2);		/* PM1_CNT_LEN */
	w8(pa + 91, 4);		/* PM_TMR_LEN */
	w8(pa + 92, 16);	/* GPE0_BLK_LEN */
	w32(pa + 112, flags);
	t.len = len;
	tb_end(&t);
}

/* ACPI 6 FADT (276 bytes) with X_ fields that differ from the legacy ones so
 * the test can tell which were used. */
static void make_fadt_long(uint64_t pa, uint32_t dsdt32, uint64_t x_dsdt,
			   uint32_t flags)
{
	fadt_legacy(pa, 276, dsdt32, flags | F_RESET_REG_SUP);
	gas(pa + 116, 1, 8, 0xCF9);		/* RESET_REG */
	w8(pa + 128, 0x06);			/* RESET_VALUE */
	w64(pa + 140, x_dsdt);			/* X_DSDT */
	gas(pa + 148, 1, 0, 0x1600);		/* X_PM1a_EVT, width 0 */
	gas(pa + 172, 0, 16, 0xFED80004ULL);	/* X_PM1a_CNT in memory */
	gas(pa + 184, 1, 16, 0);		/* X_PM1b_CNT: zero address */
	/* X_PM_TMR_BLK left zero: the legacy port must be used. */
	table_fix(pa);
}

/* ---- AML ---- */

static const uint8_t s5_q35[] = {0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12,
				 0x06, 0x04, 0x00, 0x00, 0x00, 0x00};
static const uint8_t s5_root[] = {0x08, 0x5C, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x08,
				  0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00};
/* Two-byte PkgLength 0x49 0x00 = 9. */
static const uint8_t s5_pkg2[] = {0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x49, 0x00,
				  0x04, 0x0A, 0x07, 0x0A, 0x03, 0x00, 0x00};
static const uint8_t s5_one[] = {0x08, 0x5F, 0x53, 0x35, 0x5F,
				 0x12, 0x04, 0x01, 0x0A, 0x05};
static const uint8_t s5_wide[] = {0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x0A, 0x02,
				  0x0B, 0x05, 0x00, 0x0C, 0x06, 0x00, 0x00, 0x00};
static const uint8_t s5_one_op[] = {0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12,
				    0x04, 0x02, 0x01, 0x00};
/* Method(_PTS, 1) { Store(_S5_, Local0) }: a reference, not a declaration. */
static const uint8_t aml_method_ref[] = {0x14, 0x0B, 0x5F, 0x50, 0x54, 0x53, 0x01,
					 0x70, 0x5F, 0x53, 0x35, 0x5F, 0x60,
					 0x12, 0x04, 0x01, 0x0A, 0x03};

static void make_aml_table(uint64_t pa, const char *sig, const void *aml,
			   size_t n)
{
	/* Something before \_S5 as in a real DSDT: Scope(\_SB) {}. */
	static const uint8_t pre[] = {0x10, 0x06, 0x5C, 0x5F, 0x53, 0x42, 0x5F};
	struct tb t = tb_begin(pa, sig, 2);

	tb_bytes(&t, pre, sizeof(pre));
	tb_bytes(&t, aml, n);
	tb_end(&t);
}

/* A whole QEMU-like machine: RSDP v0 -> RSDT -> FADT(short), MADT, MCFG,
 * HPET; DSDT with q35's \_S5. */
static void make_machine_v0(void)
{
	uint64_t e[] = {PA_FADT, PA_MADT, PA_MCFG, PA_HPET};

	make_rsdp(PA_RSDP, 0, (uint32_t)PA_RSDT, 0);
	make_root(PA_RSDT, false, e, 4);
	fadt_legacy(PA_FADT, 116, (uint32_t)PA_DSDT,
		    F_TMR_VAL_EXT | F_RESET_REG_SUP);
	make_madt_simple(PA_MADT, 2);
	make_mcfg(PA_MCFG);
	make_hpet(PA_HPET, 0);
	make_aml_table(PA_DSDT, "DSDT", s5_q35, sizeof(s5_q35));
}

static int setup(void **state)
{
	memset(mem, 0, sizeof(mem));
	test_log_reset();
	return 0;
}

static int teardown(void **state)
{
	maps_free();
	return 0;
}

/* ---- whole-machine tests ---- */

static void test_v0_rsdt_machine(void **state)
{
	make_machine_v0();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(test_log_count[LOG_WARN], 0);
	assert_int_equal(info.revision, 0);
	assert_string_equal(info.oem_id, "BOCHS");
	assert_int_equal(info.tables_seen, 6); /* RSDT, 4 entries, DSDT */
	assert_int_equal(info.tables_bad, 0);

	assert_true(info.have_madt);
	assert_true(info.pcat_compat);
	assert_int_equal(info.lapic_address, 0xFEE00000u);
	assert_int_equal(info.cpu_count, 2);
	assert_int_equal(info.cpus[1].apic_id, 1);
	assert_int_equal(info.cpus[1].uid, 1);
	assert_true(info.cpus[1].enabled);
	assert_false(info.cpus[1].x2apic);
	assert_int_equal(info.ioapic_count, 1);
	assert_int_equal(info.ioapics[0].address, 0xFEC00000u);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
	assert_int_equal(info.override_count, 2);
	assert_int_equal(info.overrides[0].source, 0);
	assert_int_equal(info.overrides[0].gsi, 2);
	assert_int_equal(info.overrides[1].source, 9);
	assert_int_equal(info.overrides[1].flags, 0xD);

	assert_int_equal(info.mcfg_count, 1);
	assert_int_equal(info.mcfg[0].base, 0xB0000000u);
	assert_int_equal(info.mcfg[0].bus_end, 0xFF);
	assert_true(info.have_hpet);
	assert_int_equal(info.hpet_address, 0xFED00000u);

	assert_true(info.have_fadt);
	assert_int_equal(info.sci_irq, 9);
	assert_int_equal(info.smi_cmd, 0xB2);
	assert_int_equal(info.acpi_enable, 0xF1);
	assert_int_equal(info.pm1a_cnt.space, ACPI_SPACE_IO);
	assert_int_equal(info.pm1a_cnt.address, 0x604);
	assert_int_equal(info.pm1a_cnt.bit_width, 16);
	assert_int_equal(info.pm1a_evt.address, 0x600);
	assert_int_equal(info.pm1a_evt.bit_width, 32);
	assert_int_equal(info.pm1_evt_len, 4);
	assert_int_equal(info.pm1b_cnt.space, ACPI_SPACE_NONE);
	assert_int_equal(info.pm1b_evt.space, ACPI_SPACE_NONE);
	assert_int_equal(info.pm_tmr.space, ACPI_SPACE_IO);
	assert_int_equal(info.pm_tmr.address, 0x608);
	assert_true(info.pm_tmr_32bit);
	/* RESET_REG_SUP is set but a 116-byte FADT has no RESET_REG. */
	assert_false(info.have_reset_reg);
	assert_int_equal(info.reset_reg.space, ACPI_SPACE_NONE);
	assert_false(info.hw_reduced);
	assert_int_equal(info.dsdt, PA_DSDT);

	assert_true(info.have_s5);
	assert_int_equal(info.s5_slp_typa, 0);
	assert_int_equal(info.s5_slp_typb, 0);
}

/* v2: the XSDT wins over the RSDT; long FADT's X_ fields win. */
static void test_v2_xsdt_machine(void **state)
{
	uint64_t rsdt_e[] = {PA_MADT2};
	uint64_t xsdt_e[] = {PA_MADT, PA_FADT, PA_SSDT, PA_HPET};
	struct tb t;

	make_rsdp(PA_RSDP, 2, (uint32_t)PA_RSDT, PA_XSDT);
	make_root(PA_RSDT, false, rsdt_e, 1);
	make_root(PA_XSDT, true, xsdt_e, 4);
	make_madt_simple(PA_MADT2, 1);

	t = madt_begin(PA_MADT, 0);
	madt_lapic(&t, 0, 0, 1);
	madt_lapic(&t, 1, 1, 1);
	madt_lapic(&t, 2, 2, 0);	/* not present */
	madt_lapic(&t, 3, 3, 2);	/* online capable, off now */
	madt_lapic(&t, 4, 0xFF, 1);	/* broadcast id: never a CPU */
	madt_x2apic(&t, 1, 1, 1);	/* same CPU as LAPIC id 1 */
	madt_x2apic(&t, 0x100, 1, 0x100);
	madt_x2apic(&t, 0xFFFFFFFFu, 1, 7);
	madt_ioapic(&t, 2, 0xFEC00000u, 0);
	madt_ioapic(&t, 3, 0xFEC01000u, 24);
	madt_iso(&t, 0, 2, 0);
	madt_lapic_nmi(&t);
	madt_addr_override(&t, 0x1FEE00000ULL);
	tb_u8(&t, 0x7F);		/* unknown type, skipped */
	tb_u8(&t, 4);
	tb_u16(&t, 0);
	tb_end(&t);

	make_fadt_long(PA_FADT, (uint32_t)PA_DSDT, PA_DSDT2, F_TMR_VAL_EXT);
	/* The legacy DSDT pointer must lose to X_DSDT. */
	make_aml_table(PA_DSDT, "DSDT", s5_wide, sizeof(s5_wide));
	make_aml_table(PA_DSDT2, "DSDT", s5_root, sizeof(s5_root));
	make_aml_table(PA_SSDT, "SSDT", s5_pkg2, sizeof(s5_pkg2));
	make_hpet(PA_HPET, 0);

	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(test_log_count[LOG_WARN], 0);
	assert_int_equal(info.revision, 2);
	assert_int_equal(info.tables_bad, 0);

	assert_false(info.pcat_compat);
	assert_int_equal(info.lapic_address, 0x1FEE00000ULL);
	assert_int_equal(info.cpu_count, 4);
	assert_int_equal(info.cpus[0].apic_id, 0);
	assert_int_equal(info.cpus[1].apic_id, 1);
	assert_false(info.cpus[1].x2apic);
	assert_int_equal(info.cpus[2].apic_id, 3);
	assert_false(info.cpus[2].enabled);
	assert_int_equal(info.cpus[3].apic_id, 0x100);
	assert_int_equal(info.cpus[3].uid, 0x100);
	assert_true(info.cpus[3].x2apic);
	assert_true(info.cpus[3].enabled);
	assert_int_equal(info.ioapic_count, 2);
	assert_int_equal(info.ioapics[1].id, 3);
	assert_int_equal(info.ioapics[1].gsi_base, 24);
	assert_int_equal(info.override_count, 1);
	assert_int_equal(info.mcfg_count, 0);
	assert_true(info.have_hpet);

	assert_true(info.have_fadt);
	assert_int_equal(info.dsdt, PA_DSDT2);
	assert_int_equal(info.pm1a_cnt.space, ACPI_SPACE_MEMORY);
	assert_int_equal(info.pm1a_cnt.address, 0xFED80004ULL);
	assert_int_equal(info.pm1a_evt.space, ACPI_SPACE_IO);
	assert_int_equal(info.pm1a_evt.address, 0x1600);
	assert_int_equal(info.pm1a_evt.bit_width, 32); /* from PM1_EVT_LEN */
	assert_int_equal(info.pm1b_cnt.space, ACPI_SPACE_NONE);
	assert_int_equal(info.pm_tmr.space, ACPI_SPACE_IO);
	assert_int_equal(info.pm_tmr.address, 0x608);
	assert_true(info.have_reset_reg);
	assert_int_equal(info.reset_reg.space, ACPI_SPACE_IO);
	assert_int_equal(info.reset_reg.address, 0xCF9);
	assert_int_equal(info.reset_value, 6);

	/* DSDT's \_S5 wins over the SSDT's. */
	assert_true(info.have_s5);
	assert_int_equal(info.s5_slp_typa, 5);
	assert_int_equal(info.s5_slp_typb, 5);
}

static void test_v2_without_xsdt_uses_rsdt(void **state)
{
	make_machine_v0();
	make_rsdp(PA_RSDP, 2, (uint32_t)PA_RSDT, 0);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.revision, 2);
	assert_int_equal(info.cpu_count, 2);
	assert_true(info.have_s5);
	assert_int_equal(test_log_count[LOG_WARN], 0);
}

static void test_ssdt_s5_when_dsdt_has_none(void **state)
{
	uint64_t e[] = {PA_SSDT, PA_FADT};

	make_rsdp(PA_RSDP, 0, (uint32_t)PA_RSDT, 0);
	make_root(PA_RSDT, false, e, 2);
	fadt_legacy(PA_FADT, 116, (uint32_t)PA_DSDT, 0);
	make_aml_table(PA_DSDT, "DSDT", aml_method_ref, sizeof(aml_method_ref));
	make_aml_table(PA_SSDT, "SSDT", s5_wide, sizeof(s5_wide));
	assert_int_equal(parse(PA_RSDP), 0);
	assert_true(info.have_s5);
	assert_int_equal(info.s5_slp_typa, 5);
	assert_int_equal(info.s5_slp_typb, 6);
	assert_false(info.pm_tmr_32bit);

	/* A DSDT with a bad checksum: skipped, the SSDT still serves. */
	w8(PA_DSDT + 40, 0x55);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.tables_bad, 1);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	assert_non_null(strstr(test_log_all, "DSDT"));
	assert_true(info.have_s5);
	assert_int_equal(info.s5_slp_typa, 5);

	/* No \_S5 anywhere. */
	make_aml_table(PA_SSDT, "SSDT", aml_method_ref, sizeof(aml_method_ref));
	assert_int_equal(parse(PA_RSDP), 0);
	assert_false(info.have_s5);
}

/* ---- RSDP failures ---- */

static void test_rsdp_errors(void **state)
{
	make_machine_v0();
	assert_int_equal(acpi_parse(0, test_map, &info), KEEL_ENOENT);
	assert_int_equal(parse(UNMAPPED), KEEL_ENOENT);
	assert_int_equal(parse(PA_RSDP + 16), KEEL_ENOENT); /* no signature */
	assert_int_equal(test_log_count[LOG_WARN], 2);

	/* Bad checksum over the first 20 bytes. */
	w8(PA_RSDP + 9, 'X');
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), KEEL_ECORRUPT);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	assert_non_null(strstr(test_log_last, "checksum"));
	assert_false(info.have_madt);
	assert_int_equal(info.cpu_count, 0);

	/* v2: good v1 checksum, bad extended checksum. */
	make_rsdp(PA_RSDP, 2, (uint32_t)PA_RSDT, PA_XSDT);
	w8(PA_RSDP + 33, 1);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), KEEL_ECORRUPT);
	assert_non_null(strstr(test_log_last, "extended checksum"));

	/* v2 Length out of bounds (checksums made to match). */
	make_rsdp(PA_RSDP, 2, (uint32_t)PA_RSDT, PA_XSDT);
	w32(PA_RSDP + 20, 20);
	fix_sum(PA_RSDP, 36, 32);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), KEEL_ECORRUPT);
	assert_non_null(strstr(test_log_last, "length"));
	w32(PA_RSDP + 20, 0x80000000u);
	fix_sum(PA_RSDP, 36, 32);
	assert_int_equal(parse(PA_RSDP), KEEL_ECORRUPT);

	/* v2 RSDP at the very end of memory: the 36-byte map fails. */
	make_rsdp(MEM_BASE + MEM_SIZE - 36, 2, (uint32_t)PA_RSDT, 0);
	memmove(P(MEM_BASE + MEM_SIZE - 20), P(MEM_BASE + MEM_SIZE - 36), 20);
	assert_int_equal(parse(MEM_BASE + MEM_SIZE - 20), KEEL_ECORRUPT);

	/* Neither root usable. */
	make_rsdp(PA_RSDP, 0, (uint32_t)UNMAPPED, 0);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), KEEL_ECORRUPT);
	assert_int_equal(info.tables_bad, 1);
	make_rsdp(PA_RSDP, 0, 0, 0);
	assert_int_equal(parse(PA_RSDP), KEEL_ECORRUPT);
}

/* A broken XSDT falls back to the RSDT. */
static void test_bad_xsdt_falls_back(void **state)
{
	make_machine_v0();
	make_rsdp(PA_RSDP, 2, (uint32_t)PA_RSDT, PA_XSDT);
	make_root(PA_XSDT, true, (uint64_t[]){PA_MADT}, 1);
	w8(PA_XSDT + 36, 0x11); /* breaks the checksum */
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.tables_bad, 1);
	assert_int_equal(info.cpu_count, 2);
	assert_true(info.have_fadt);
	assert_int_equal(test_log_count[LOG_WARN], 2);
	assert_non_null(strstr(test_log_all, "XSDT"));

	/* A root whose signature is wrong is not followed either. */
	make_root(PA_XSDT, true, (uint64_t[]){PA_MADT}, 1);
	memcpy(P(PA_XSDT), "RSDT", 4);
	table_fix(PA_XSDT);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.tables_bad, 1);
	assert_true(info.have_fadt); /* came from the RSDT */
}

/* ---- bad tables are skipped, the rest parse ---- */

static void test_bad_checksum_skipped(void **state)
{
	char pa_str[32];

	make_machine_v0();
	w8(PA_MADT + 50, 0x42);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_false(info.have_madt);
	assert_int_equal(info.cpu_count, 0);
	assert_int_equal(info.tables_bad, 1);
	assert_int_equal(info.mcfg_count, 1);
	assert_true(info.have_hpet);
	assert_true(info.have_fadt);
	assert_true(info.have_s5);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	snprintf(pa_str, sizeof(pa_str), "0x%llx", (unsigned long long)PA_MADT);
	assert_non_null(strstr(test_log_last, "APIC"));
	assert_non_null(strstr(test_log_last, pa_str));
	assert_non_null(strstr(test_log_last, "checksum"));
}

static void test_bad_lengths_skipped(void **state)
{
	make_machine_v0();

	/* Length below the header size. */
	w32(PA_MCFG + 4, 20);
	/* A length far beyond anything sane. */
	w32(PA_HPET + 4, 0xFFFFFFF0u);
	/* Plausible length, but past the end of mapped memory. */
	w32(PA_MADT + 4, MEM_SIZE);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.tables_bad, 3);
	assert_int_equal(test_log_count[LOG_WARN], 3);
	assert_non_null(strstr(test_log_all, "MCFG"));
	assert_non_null(strstr(test_log_all, "HPET"));
	assert_non_null(strstr(test_log_all, "bad length"));
	assert_non_null(strstr(test_log_all, "cannot be mapped"));
	assert_int_equal(info.mcfg_count, 0);
	assert_false(info.have_hpet);
	assert_false(info.have_madt);
	assert_true(info.have_fadt);
	assert_true(info.have_s5);
}

static void test_unmapped_and_null_entries(void **state)
{
	uint64_t e[] = {UNMAPPED, 0, PA_MADT, MEM_BASE + MEM_SIZE - 8};

	make_machine_v0();
	make_root(PA_RSDT, false, e, 4);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.cpu_count, 2);
	assert_int_equal(info.tables_bad, 2);
	assert_int_equal(test_log_count[LOG_WARN], 3);
	assert_non_null(strstr(test_log_all, "null"));

	/* An FADT whose DSDT is unmapped or not a DSDT. */
	make_root(PA_RSDT, false, (uint64_t[]){PA_FADT}, 1);
	fadt_legacy(PA_FADT, 116, (uint32_t)UNMAPPED, 0);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_true(info.have_fadt);
	assert_false(info.have_s5);
	assert_int_equal(info.tables_bad, 1);
	fadt_legacy(PA_FADT, 116, (uint32_t)PA_MADT, 0);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_false(info.have_s5);
	assert_int_equal(info.tables_bad, 1);
	assert_non_null(strstr(test_log_last, "expected DSDT"));
}

/* Duplicated entries, the root pointing at itself, more than 256 entries. */
static void test_root_duplicates_and_cap(void **state)
{
	static uint64_t e[300];
	uint64_t dup[] = {PA_MADT, PA_XSDT, PA_MADT, PA_FADT, PA_FADT};

	make_machine_v0();
	make_rsdp(PA_RSDP, 2, (uint32_t)PA_RSDT, PA_XSDT);
	make_root(PA_XSDT, true, dup, 5);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.cpu_count, 2);
	assert_int_equal(info.override_count, 2);
	assert_int_equal(info.tables_bad, 0);
	assert_int_equal(test_log_count[LOG_WARN], 2);
	assert_non_null(strstr(test_log_all, "listed twice"));

	/* Two different MADTs: the first is used, the second reported. */
	make_madt_simple(PA_MADT2, 1);
	make_root(PA_XSDT, true, (uint64_t[]){PA_MADT, PA_MADT2}, 2);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.cpu_count, 2);
	assert_int_equal(test_log_count[LOG_WARN], 1);

	/* 300 small distinct tables: only 256 are looked at. */
	for (unsigned i = 0; i < 300; i++) {
		struct tb t = tb_begin(PA_MANY + i * 64, "OEMX", 1);

		e[i] = tb_end(&t);
	}
	make_root(PA_XSDT, true, e, 300);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.tables_seen, 1 + 256);
	assert_int_equal(info.tables_bad, 0);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	assert_non_null(strstr(test_log_last, "300"));
}

/* ---- MADT ---- */

static void test_madt_zero_length_entry(void **state)
{
	struct tb t = madt_begin(PA_MADT, 1);

	madt_lapic(&t, 0, 0, 1);
	tb_u8(&t, 0);	/* LAPIC with length 0: must not loop */
	tb_u8(&t, 0);
	tb_u16(&t, 0);
	tb_u32(&t, 0);
	madt_lapic(&t, 1, 1, 1);
	tb_end(&t);
	make_rsdp(PA_RSDP, 0, (uint32_t)PA_RSDT, 0);
	make_root(PA_RSDT, false, (uint64_t[]){PA_MADT}, 1);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_true(info.have_madt);
	assert_int_equal(info.cpu_count, 1);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	assert_non_null(strstr(test_log_last, "length 0"));

	/* Length 1 is just as unusable. */
	w8(PA_MADT + 44 + 8 + 1, 1);
	table_fix(PA_MADT);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.cpu_count, 1);
}

static void test_madt_entry_past_end(void **state)
{
	struct tb t = madt_begin(PA_MADT, 1);

	madt_lapic(&t, 0, 0, 1);
	madt_ioapic(&t, 0, 0xFEC00000u, 0);
	tb_end(&t);
	/* The IOAPIC claims 12 bytes but the table ends 4 bytes early. */
	w32(PA_MADT + 4, t.len - 4);
	fix_sum(PA_MADT, t.len - 4, 9);
	make_rsdp(PA_RSDP, 0, (uint32_t)PA_RSDT, 0);
	make_root(PA_RSDT, false, (uint64_t[]){PA_MADT}, 1);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.cpu_count, 1);
	assert_int_equal(info.ioapic_count, 0);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	assert_non_null(strstr(test_log_last, "past the end"));

	/* One stray byte after the last entry. */
	t = madt_begin(PA_MADT, 1);
	madt_lapic(&t, 0, 0, 1);
	tb_u8(&t, 0);
	tb_end(&t);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.cpu_count, 1);
	assert_int_equal(test_log_count[LOG_WARN], 1);

	/* An MADT too short for its fixed fields. */
	t = tb_begin(PA_MADT, "APIC", 5);
	tb_u32(&t, 0xFEE00000u);
	tb_end(&t);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_false(info.have_madt);
	assert_int_equal(info.tables_bad, 1);
}

static void test_madt_short_entries(void **state)
{
	struct tb t = madt_begin(PA_MADT, 1);

	madt_lapic(&t, 0, 0, 1);
	/* Each type one byte shorter than its size: skipped, not read. */
	tb_u8(&t, 0); tb_u8(&t, 7); tb_u8(&t, 1); tb_u8(&t, 1);
	tb_u8(&t, 1); tb_u8(&t, 0); tb_u8(&t, 0);
	tb_u8(&t, 9); tb_u8(&t, 15);
	for (int i = 0; i < 13; i++)
		tb_u8(&t, 1);
	tb_u8(&t, 1); tb_u8(&t, 11);
	for (int i = 0; i < 9; i++)
		tb_u8(&t, 1);
	tb_u8(&t, 2); tb_u8(&t, 9);
	for (int i = 0; i < 7; i++)
		tb_u8(&t, 1);
	tb_u8(&t, 5); tb_u8(&t, 11);
	for (int i = 0; i < 9; i++)
		tb_u8(&t, 1);
	madt_lapic(&t, 2, 2, 1);
	tb_end(&t);
	make_rsdp(PA_RSDP, 0, (uint32_t)PA_RSDT, 0);
	make_root(PA_RSDT, false, (uint64_t[]){PA_MADT}, 1);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.cpu_count, 2);
	assert_int_equal(info.cpus[1].apic_id, 2);
	assert_int_equal(info.ioapic_count, 0);
	assert_int_equal(info.override_count, 0);
	assert_int_equal(info.lapic_address, 0xFEE00000u);
	assert_int_equal(test_log_count[LOG_WARN], 5);
}

static void test_madt_limits(void **state)
{
	struct tb t = madt_begin(PA_MADT, 1);

	for (unsigned i = 0; i < 300; i++)
		madt_x2apic(&t, i, 1, i);
	for (unsigned i = 0; i < ACPI_MAX_IOAPICS + 3; i++)
		madt_ioapic(&t, (uint8_t)i, 0xFEC00000u + i * 0x1000, i * 24);
	for (unsigned i = 0; i < ACPI_MAX_OVERRIDES + 1; i++)
		madt_iso(&t, (uint8_t)i, i, 0);
	tb_end(&t);
	make_rsdp(PA_RSDP, 0, (uint32_t)PA_RSDT, 0);
	make_root(PA_RSDT, false, (uint64_t[]){PA_MADT}, 1);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.cpu_count, ACPI_MAX_CPUS);
	assert_int_equal(info.cpus[ACPI_MAX_CPUS - 1].apic_id,
			 ACPI_MAX_CPUS - 1);
	assert_int_equal(info.ioapic_count, ACPI_MAX_IOAPICS);
	assert_int_equal(info.override_count, ACPI_MAX_OVERRIDES);
	assert_int_equal(test_log_count[LOG_WARN], 3);
	assert_non_null(strstr(test_log_all, "44 ignored"));
	assert_non_null(strstr(test_log_all, "3 ignored"));
	assert_non_null(strstr(test_log_all, "1 ignored"));
}

/* ---- MCFG, HPET, FADT ---- */

static void test_mcfg_entries(void **state)
{
	struct tb t = tb_begin(PA_MCFG, "MCFG", 1);

	tb_u64(&t, 0);
	mcfg_entry(&t, 0xB0000000u, 0, 0, 0x7F);
	mcfg_entry(&t, 0xC0000000u, 1, 0x80, 0x10); /* start > end */
	mcfg_entry(&t, 0, 2, 0, 0xFF);		     /* no base */
	mcfg_entry(&t, 0x4000000000ULL, 3, 0x10, 0x10);
	tb_u32(&t, 0xFFFFFFFFu);		     /* partial entry */
	tb_end(&t);
	make_rsdp(PA_RSDP, 0, (uint32_t)PA_RSDT, 0);
	make_root(PA_RSDT, false, (uint64_t[]){PA_MCFG}, 1);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(info.mcfg_count, 2);
	assert_int_equal(info.mcfg[0].bus_end, 0x7F);
	assert_int_equal(info.mcfg[1].base, 0x4000000000ULL);
	assert_int_equal(info.mcfg[1].segment, 3);
	assert_int_equal(info.mcfg[1].bus_start, 0x10);
	assert_int_equal(test_log_count[LOG_WARN], 3);
}

static void test_hpet_must_be_memory(void **state)
{
	make_machine_v0();
	make_hpet(PA_HPET, 1);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_false(info.have_hpet);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	assert_non_null(strstr(test_log_last, "HPET"));

	/* Too short to hold the base address. */
	struct tb t = tb_begin(PA_HPET, "HPET", 1);
	tb_u32(&t, 0);
	tb_end(&t);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_false(info.have_hpet);
	assert_int_equal(info.tables_bad, 1);
}

static void test_fadt_variants(void **state)
{
	make_machine_v0();

	/* 129 bytes: RESET_REG and RESET_VALUE present, no X_ fields. */
	fadt_legacy(PA_FADT, 129, (uint32_t)PA_DSDT, F_RESET_REG_SUP | F_HW_REDUCED);
	gas(PA_FADT + 116, 0, 8, 0xFED00100ULL);
	w8(PA_FADT + 128, 0x0E);
	table_fix(PA_FADT);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(test_log_count[LOG_WARN], 0);
	assert_true(info.have_reset_reg);
	assert_int_equal(info.reset_reg.space, ACPI_SPACE_MEMORY);
	assert_int_equal(info.reset_reg.address, 0xFED00100ULL);
	assert_int_equal(info.reset_value, 0x0E);
	assert_true(info.hw_reduced);
	assert_false(info.pm_tmr_32bit);
	assert_int_equal(info.pm1a_cnt.address, 0x604);

	/* Reset register flag set but register zero or in an odd space. */
	gas(PA_FADT + 116, 0, 8, 0);
	table_fix(PA_FADT);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_false(info.have_reset_reg);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	gas(PA_FADT + 116, 0x7F, 8, 0xCF9);
	table_fix(PA_FADT);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_false(info.have_reset_reg);

	/* Without RESET_REG_SUP the register is ignored. */
	fadt_legacy(PA_FADT, 129, (uint32_t)PA_DSDT, 0);
	gas(PA_FADT + 116, 1, 8, 0xCF9);
	table_fix(PA_FADT);
	assert_int_equal(parse(PA_RSDP), 0);
	assert_false(info.have_reset_reg);

	/* Long FADT with every X_ field zero: legacy values, 32-bit DSDT. */
	fadt_legacy(PA_FADT, 276, (uint32_t)PA_DSDT, 0);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(test_log_count[LOG_WARN], 0);
	assert_int_equal(info.dsdt, PA_DSDT);
	assert_int_equal(info.pm1a_cnt.space, ACPI_SPACE_IO);
	assert_int_equal(info.pm1a_cnt.address, 0x604);
	assert_true(info.have_s5);

	/* A truncated FADT (60 bytes): reported, fields past its end zero. */
	fadt_legacy(PA_FADT, 60, (uint32_t)PA_DSDT, 0);
	test_log_reset();
	assert_int_equal(parse(PA_RSDP), 0);
	assert_int_equal(test_log_count[LOG_WARN], 1);
	assert_true(info.have_fadt);
	assert_int_equal(info.dsdt, PA_DSDT);
	assert_int_equal(info.pm1a_evt.address, 0x600);
	assert_int_equal(info.pm1a_cnt.space, ACPI_SPACE_NONE);
	assert_int_equal(info.pm_tmr.space, ACPI_SPACE_NONE);
	assert_true(info.have_s5);
}

/* ---- acpi_find_s5 ---- */

static bool find(const uint8_t *aml, size_t n, uint8_t *a, uint8_t *b)
{
	/* Exactly sized heap copy: ASan catches any read past n. */
	uint8_t *copy = malloc(n ? n : 1);
	bool r;

	assert_non_null(copy);
	memcpy(copy, aml, n);
	*a = *b = 0xEE;
	r = acpi_find_s5(copy, n, a, b);
	free(copy);
	return r;
}

static void expect_s5(const uint8_t *aml, size_t n, uint8_t ea, uint8_t eb)
{
	uint8_t a, b;

	assert_true(find(aml, n, &a, &b));
	assert_int_equal(a, ea);
	assert_int_equal(b, eb);
}

static void expect_no_s5(const uint8_t *aml, size_t n)
{
	uint8_t a, b;

	assert_false(find(aml, n, &a, &b));
	assert_int_equal(a, 0xEE); /* outputs untouched on failure */
	assert_int_equal(b, 0xEE);
}

static void test_s5_forms(void **state)
{
	uint8_t buf[256];
	size_t n;

	expect_s5(s5_q35, sizeof(s5_q35), 0, 0);
	expect_s5(s5_root, sizeof(s5_root), 5, 5);
	expect_s5(s5_pkg2, sizeof(s5_pkg2), 7, 3);
	expect_s5(s5_one, sizeof(s5_one), 5, 5);
	expect_s5(s5_wide, sizeof(s5_wide), 5, 6);
	expect_s5(s5_one_op, sizeof(s5_one_op), 1, 0);

	/* A reference inside a Method is skipped; the declaration after it
	 * is found. */
	expect_no_s5(aml_method_ref, sizeof(aml_method_ref));
	memcpy(buf, aml_method_ref, sizeof(aml_method_ref));
	memcpy(buf + sizeof(aml_method_ref), s5_root, sizeof(s5_root));
	expect_s5(buf, sizeof(aml_method_ref) + sizeof(s5_root), 5, 5);

	/* Name(_S5_, 5) (not a package), then the real one. */
	static const uint8_t not_pkg[] = {0x08, 0x5F, 0x53, 0x35, 0x5F, 0x0A, 0x05};
	memcpy(buf, not_pkg, sizeof(not_pkg));
	memcpy(buf + sizeof(not_pkg), s5_q35, sizeof(s5_q35));
	expect_no_s5(not_pkg, sizeof(not_pkg));
	expect_s5(buf, sizeof(not_pkg) + sizeof(s5_q35), 0, 0);

	/* A package long enough to need a two-byte PkgLength naturally:
	 * 17 elements, PkgLength 70 = 0x46 0x04. */
	n = 0;
	static const uint8_t head[] = {0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12,
				       0x46, 0x04, 17, 0x0A, 0x02, 0x0A, 0x03};
	memcpy(buf, head, sizeof(head));
	n = sizeof(head);
	for (int i = 0; i < 12; i++) {
		buf[n++] = 0x0C;
		buf[n++] = (uint8_t)i;
		buf[n++] = 0x10;
		buf[n++] = 0;
		buf[n++] = 0;
	}
	buf[n++] = 0x00;
	buf[n++] = 0x01;
	buf[n++] = 0x00;
	assert_int_equal(n - 6, 70);
	expect_s5(buf, n, 2, 3);
	for (size_t i = 0; i < n; i++)
		expect_no_s5(buf, i);

	/* A three-byte PkgLength (0x80 | low nibble, then two bytes). */
	static const uint8_t pkg3[] = {0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12,
				       0x88, 0x00, 0x00, 0x02, 0x0A, 0x04, 0x0A, 0x04};
	expect_s5(pkg3, sizeof(pkg3), 4, 4);
}

static void test_s5_rejects(void **state)
{
	static const struct {
		uint8_t aml[16];
		size_t n;
	} bad[] = {
		/* SLP_TYP 8 does not fit in 3 bits */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x06, 0x04, 0x0A, 0x08, 0x00, 0x00}, 12},
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x06, 0x04, 0x00, 0x0A, 0x09, 0x00}, 12},
		/* Word 0x0105: low byte fits, the value does not */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x06, 0x02, 0x0B, 0x05, 0x01, 0x00}, 12},
		/* DWord 0x01000005 */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x08, 0x02, 0x0C, 0x05, 0x00, 0x00, 0x01, 0x00}, 14},
		/* Ones (0xFF) */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x04, 0x02, 0xFF, 0x00}, 10},
		/* element is a name reference */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x07, 0x02, 0x53, 0x4C, 0x50, 0x41, 0x00}, 13},
		/* PkgLength reserved bits 5-4 set in a multi-byte encoding */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x76, 0x00, 0x02, 0x00, 0x00}, 11},
		/* PkgLength smaller than its own encoding + NumElements */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x01, 0x02, 0x00, 0x00}, 10},
		/* PkgLength too small for the second element */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x04, 0x02, 0x0A, 0x05, 0x0A, 0x05}, 12},
		/* PkgLength ends between a BytePrefix and its byte */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x05, 0x02, 0x0A, 0x05, 0x0A, 0x05, 0x00}, 13},
		/* PkgLength larger than the stream */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x3F, 0x02, 0x00, 0x00}, 10},
		/* NumElements 0 */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x02, 0x00}, 8},
		/* not a Package */
		{{0x08, 0x5F, 0x53, 0x35, 0x5F, 0x13, 0x04, 0x02, 0x00, 0x00}, 10},
		/* no NameOp: Store(_S5_, ...) */
		{{0x70, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x04, 0x02, 0x00, 0x00}, 10},
		/* root prefix without NameOp */
		{{0x70, 0x5C, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x04, 0x02, 0x00, 0x00}, 11},
		/* "_S5_" at the very start: nothing before it */
		{{0x5F, 0x53, 0x35, 0x5F, 0x12, 0x04, 0x02, 0x00, 0x00}, 9},
		/* _S4_ is not _S5_ */
		{{0x08, 0x5F, 0x53, 0x34, 0x5F, 0x12, 0x04, 0x02, 0x00, 0x00}, 10},
	};
	uint8_t a, b;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(bad[i].n <= sizeof(bad[i].aml));
		expect_no_s5(bad[i].aml, bad[i].n);
	}
	assert_false(acpi_find_s5(NULL, 100, &a, &b));
	assert_false(acpi_find_s5(s5_q35, 0, &a, &b));
}

/* Every truncation of every valid form fails cleanly (ASan watches reads). */
static void test_s5_truncation(void **state)
{
	static const struct {
		const uint8_t *aml;
		size_t n;
	} forms[] = {
		{s5_q35, sizeof(s5_q35)},   {s5_root, sizeof(s5_root)},
		{s5_pkg2, sizeof(s5_pkg2)}, {s5_one, sizeof(s5_one)},
		{s5_wide, sizeof(s5_wide)}, {s5_one_op, sizeof(s5_one_op)},
	};

	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		for (size_t n = 0; n < forms[f].n; n++)
			expect_no_s5(forms[f].aml, n);
		uint8_t a, b;
		assert_true(find(forms[f].aml, forms[f].n, &a, &b));
	}
}

/* Random corruption of a whole machine's tables (checksums fixed up so the
 * damage reaches the parsers) and of AML: nothing may crash or overread. */
static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static void test_fuzz_tables(void **state)
{
	static uint8_t pristine[MEM_SIZE];
	const uint32_t span = 0x1010; /* a table, its neighbourhood */
	static const uint64_t targets[] = {PA_MADT, PA_MCFG, PA_HPET, PA_FADT,
					   PA_DSDT, PA_RSDT};

	make_machine_v0();
	memcpy(pristine, mem, sizeof(mem));
	for (int iter = 0; iter < 3000; iter++) {
		uint64_t pa = targets[rng() % 6];
		uint32_t len = r32(pa + 4);
		unsigned flips = 1 + rng() % 4;

		for (unsigned i = 0; i < flips; i++) {
			uint32_t off = rng() % (len + 8);
			if (off == 9)
				continue;
			w8(pa + off, (uint8_t)rng());
		}
		if (r32(pa + 4) >= 36 && r32(pa + 4) <= 0x1000)
			table_fix(pa);
		test_log_reset();
		int err = parse(PA_RSDP);
		/* Only a broken RSDT can make the whole parse fail. */
		assert_true(err == 0 || (pa == PA_RSDT && err == KEEL_ECORRUPT));
		memcpy(P(pa), pristine + (pa - MEM_BASE), span);
		assert_true(info.cpu_count <= ACPI_MAX_CPUS);
		assert_true(info.tables_bad <= info.tables_seen);
		if (info.have_s5) {
			assert_true(info.s5_slp_typa <= 7);
			assert_true(info.s5_slp_typb <= 7);
		}
	}
	for (int iter = 0; iter < 3000; iter++) {
		uint8_t aml[24], a, b;
		size_t n = 5 + rng() % 19;

		memcpy(aml, s5_root, sizeof(s5_root));
		memset(aml + sizeof(s5_root), 0, sizeof(aml) - sizeof(s5_root));
		for (unsigned i = 0; i < 3; i++)
			aml[rng() % n] = (uint8_t)rng();
		if (find(aml, n, &a, &b)) {
			assert_true(a <= 7);
			assert_true(b <= 7);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_v0_rsdt_machine),
		T(test_v2_xsdt_machine),
		T(test_v2_without_xsdt_uses_rsdt),
		T(test_ssdt_s5_when_dsdt_has_none),
		T(test_rsdp_errors),
		T(test_bad_xsdt_falls_back),
		T(test_bad_checksum_skipped),
		T(test_bad_lengths_skipped),
		T(test_unmapped_and_null_entries),
		T(test_root_duplicates_and_cap),
		T(test_madt_zero_length_entry),
		T(test_madt_entry_past_end),
		T(test_madt_short_entries),
		T(test_madt_limits),
		T(test_mcfg_entries),
		T(test_hpet_must_be_memory),
		T(test_fadt_variants),
		T(test_s5_forms),
		T(test_s5_rejects),
		T(test_s5_truncation),
		T(test_fuzz_tables),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
