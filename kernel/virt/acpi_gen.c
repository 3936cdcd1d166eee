/*
 * acpi_gen.c - the guest's ACPI tables (acpi_gen.h), one function per table
 * that takes the addresses of the tables it points to, so the firmware path
 * can lay the same tables out in fw_cfg files with loader pointers. Layouts
 * from ACPI 6.5 (sections cited below); revisions claim ACPI 6.3 (FADT 6.3,
 * MADT 5), which iasl 20200925 and Linux 6.1 know.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/virt/acpi_gen.h"
#include "kernel/virt/aml.h"

#define ACPI_OEM_ID "KEEL  "	   /* 6 bytes */
#define ACPI_OEM_TABLE_ID "KEELVM  " /* 8 bytes */
#define ACPI_OEM_REVISION 1
#define ACPI_CREATOR_ID "KEEL"
#define ACPI_CREATOR_REVISION 1

/* System Description Table Header, 5.2.6 (Table 5.4). */
#define HDR_LEN 36
#define HDR_LENGTH 4
#define HDR_REVISION 8
#define HDR_CHECKSUM 9
#define HDR_OEM_ID 10
#define HDR_OEM_TABLE_ID 16
#define HDR_OEM_REVISION 24
#define HDR_CREATOR_ID 28
#define HDR_CREATOR_REVISION 32

/* RSDP, 5.2.5.3 (Table 5.3). */
#define RSDP_LEN 36
#define RSDP_V1_LEN 20 /* the first checksum covers these */
#define RSDP_CHECKSUM 8
#define RSDP_OEM_ID 9
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_XCHECKSUM 32
#define RSDP_REV_ACPI2 2 /* ACPI 2.0+: XSDT, Length, extended checksum */

#define RSDT_REVISION 1
#define XSDT_REVISION 1
#define DSDT_REVISION 2 /* 5.2.11.1: 2 and up means 64-bit AML integers */

/* FACS, 5.2.10 (Table 5.14): no checksum, 64-byte aligned. */
#define FACS_LEN 64
#define FACS_ALIGN 64
#define FACS_LENGTH 4
#define FACS_VERSION 32
#define FACS_VERSION_2 2

/* FADT, 5.2.9 (Table 5.9). */
#define FADT_LEN 276
#define FADT_REVISION 6
#define FADT_MINOR_VERSION 3
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_PM_PROFILE 45
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_GPE0_BLK 80
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_GPE0_BLK_LEN 92
#define FADT_P_LVL2_LAT 96
#define FADT_P_LVL3_LAT 98
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR 131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK 208
#define FADT_X_GPE0_BLK 220
#define FADT_HYPERVISOR_ID 268

#define PM1_EVT_LEN 4 /* PM1_STS + PM1_EN, 16 bits each (4.8.3.1) */
#define PM1_CNT_LEN 2
#define PM_TMR_LEN 4
#define GPE0_BLK_LEN 4 /* GPE0_STS + GPE0_EN, 2 bytes each (4.8.4.1) */
#define PM_BLOCK_LEN 0x40 /* the PM device decodes 64 ports, like PIIX4's */
#define ELCR_PORT 0x4D0	  /* 8259 edge/level control, 2 ports */
#define PCI_CONF_PORT 0xCF8 /* PCI config mechanism #1, 0xCF8-0xCFF */
#define PCI_CONF_LEN 8

/* P_LVL2_LAT above 100 us and P_LVL3_LAT above 1000 us say that C2 and C3
 * are not supported (Table 5.9). */
#define FADT_NO_C2_LAT 101
#define FADT_NO_C3_LAT 1001
#define RTC_CENTURY_INDEX 0x32 /* CMOS index of the century, as on PCs */

/* Fixed ACPI feature flags, Table 5.10. */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PROC_C1 (1u << 2)
#define FADT_F_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_F_TMR_VAL_EXT (1u << 8) /* 32-bit PM timer */
#define FADT_F_RESET_REG_SUP (1u << 10)

/* IA-PC boot architecture flags, Table 5.11. */
#define IAPC_LEGACY_DEVICES (1u << 0) /* ISA devices the DSDT describes */
#define IAPC_8042 (1u << 1)	      /* clear: no keyboard controller */
#define IAPC_VGA_NOT_PRESENT (1u << 2)

/* Generic Address Structure, 5.2.3.2 (Table 5.1). */
#define GAS_SPACE_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

/* MADT, 5.2.12 (Table 5.19) and its structures. */
#define MADT_REVISION 5
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_PCAT_COMPAT (1u << 0) /* dual 8259s present */
#define MADT_TYPE_LAPIC 0	   /* 5.2.12.2 */
#define MADT_TYPE_IOAPIC 1	   /* 5.2.12.3 */
#define MADT_TYPE_ISO 2		   /* 5.2.12.5 */
#define MADT_TYPE_LAPIC_NMI 4	   /* 5.2.12.7 */
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_ISO_LEN 10
#define MADT_LAPIC_NMI_LEN 6
#define MADT_LAPIC_ENABLED (1u << 0)
#define MADT_ALL_PROCESSORS 0xFF
/* MPS INTI flags (Table 5.26): polarity bits 1-0, trigger mode bits 3-2. */
#define MPS_INTI_CONFORMING 0x0000
#define MPS_INTI_HIGH_LEVEL 0x000D /* active high (01), level (11) */
#define ISA_IRQ_PIT 0
#define GSI_PIT 2 /* the 8254 is wired to IOAPIC pin 2 */
#define LAPIC_LINT1 1

/* Where the tables go: 16-byte steps, the RSDP's own alignment (5.2.5.1). */
#define TABLE_ALIGN 16

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* The byte that makes bytes [0, len) of t sum to zero. */
static uint8_t acpi_gen_sum_fix(const uint8_t *t, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += t[i];
	return (uint8_t)-sum;
}

static void acpi_gen_header(uint8_t *t, const char *sig, uint32_t len,
			    uint8_t revision)
{
	memcpy(t, sig, 4);
	put32(t + HDR_LENGTH, len);
	t[HDR_REVISION] = revision;
	t[HDR_CHECKSUM] = 0;
	memcpy(t + HDR_OEM_ID, ACPI_OEM_ID, 6);
	memcpy(t + HDR_OEM_TABLE_ID, ACPI_OEM_TABLE_ID, 8);
	put32(t + HDR_OEM_REVISION, ACPI_OEM_REVISION);
	memcpy(t + HDR_CREATOR_ID, ACPI_CREATOR_ID, 4);
	put32(t + HDR_CREATOR_REVISION, ACPI_CREATOR_REVISION);
}

/* 5.2.6: the entire table, checksum included, sums to zero. */
static void acpi_gen_checksum(uint8_t *t, uint32_t len)
{
	t[HDR_CHECKSUM] = 0;
	t[HDR_CHECKSUM] = acpi_gen_sum_fix(t, len);
}

static void acpi_gen_gas_io(uint8_t *p, uint8_t bit_width, uint8_t access,
			    uint16_t port)
{
	p[0] = GAS_SPACE_IO;
	p[1] = bit_width;
	p[2] = 0; /* bit offset */
	p[3] = access;
	put64(p + 4, port);
}

static void acpi_gen_facs(uint8_t *t)
{
	memcpy(t, "FACS", 4);
	put32(t + FACS_LENGTH, FACS_LEN);
	t[FACS_VERSION] = FACS_VERSION_2;
}

/* Device(name){_HID, _CRS} with n I/O ranges (ports[i], lens[i]) and one
 * IRQ: the ISA devices under PCI0. */
static void acpi_gen_isa_device(struct aml *a, const char *name,
				const char *hid, const uint16_t *ports,
				const uint8_t *lens, unsigned n, uint8_t irq)
{
	uint8_t rbuf[64];
	struct aml r;

	aml_init(&r, rbuf, sizeof(rbuf));
	for (unsigned i = 0; i < n; i++)
		aml_res_io(&r, ports[i], lens[i]);
	aml_res_irq_noflags(&r, irq);

	aml_device_begin(a, name);
	aml_name_eisaid(a, "_HID", hid);
	aml_name(a, "_CRS");
	aml_resource_template(a, &r);
	aml_end(a);
}

/* The motherboard's own ports (PNP0C02, "system" to Linux): the PM block,
 * the ELCR, and the reset register unless PCI0 or the PM block has it. */
static void acpi_gen_dsdt_mbrd(const struct acpi_gen_config *c, struct aml *a)
{
	uint16_t pm_base = c->pm1a_evt & ~(PM_BLOCK_LEN - 1);
	uint16_t rst = c->reset_port;
	uint8_t rbuf[64];
	struct aml r;

	aml_init(&r, rbuf, sizeof(rbuf));
	aml_res_io(&r, pm_base, PM_BLOCK_LEN);
	aml_res_io(&r, ELCR_PORT, 2);
	if ((rst < PCI_CONF_PORT || rst >= PCI_CONF_PORT + PCI_CONF_LEN) &&
	    (rst < pm_base || rst >= pm_base + PM_BLOCK_LEN))
		aml_res_io(&r, rst, 1);

	aml_device_begin(a, "MBRD");
	aml_name_eisaid(a, "_HID", "PNP0C02");
	aml_name(a, "_CRS");
	aml_resource_template(a, &r);
	aml_end(a);
}

/* \_SB.PCI0: the host bridge (PNP0A03), its windows, and the legacy
 * devices behind it. */
static void acpi_gen_dsdt_pci0(const struct acpi_gen_config *c, struct aml *a)
{
	static const uint16_t pic_ports[] = {0x20, 0xA0};
	static const uint8_t pic_lens[] = {2, 2};
	static const uint16_t pit_port = 0x40, rtc_port = 0x70;
	static const uint8_t pit_len = 4, rtc_len = 2;
	uint8_t rbuf[128];
	struct aml r;

	aml_init(&r, rbuf, sizeof(rbuf));
	aml_res_word_bus(&r, 0x00, 0xFF);
	aml_res_io(&r, PCI_CONF_PORT, PCI_CONF_LEN);
	aml_res_word_io(&r, 0x0000, PCI_CONF_PORT - 1);
	aml_res_word_io(&r, 0x0D00, 0xFFFF);
	aml_res_dword_mem(&r, 0x000A0000, 0x000BFFFF, true); /* legacy VGA */
	aml_res_dword_mem(&r, 0xC0000000, 0xFEBFFFFF, false); /* PCI hole */

	/* No _ADR: 6.1.1 says a device has _HID or _ADR, not both (iasl
	 * warns; QEMU's PCI0 has both). */
	aml_device_begin(a, "PCI0");
	aml_name_eisaid(a, "_HID", "PNP0A03");
	aml_name_integer(a, "_UID", 0);
	aml_name_integer(a, "_BBN", 0);
	aml_name(a, "_CRS");
	aml_resource_template(a, &r);

	acpi_gen_dsdt_mbrd(c, a);
	acpi_gen_isa_device(a, "PIC", "PNP0000", pic_ports, pic_lens, 2, 2);
	acpi_gen_isa_device(a, "TIMR", "PNP0100", &pit_port, &pit_len, 1, 0);
	acpi_gen_isa_device(a, "RTC", "PNP0B00", &rtc_port, &rtc_len, 1, 8);
	if (c->com1) {
		aml_init(&r, rbuf, sizeof(rbuf));
		aml_res_io(&r, 0x3F8, 8);
		aml_res_irq_noflags(&r, 4);
		aml_device_begin(a, "COM1");
		aml_name_eisaid(a, "_HID", "PNP0501");
		aml_name_integer(a, "_UID", 1);
		/* 6.3.7: present, enabled, shown in UI, functioning. */
		aml_name_integer(a, "_STA", 0x0F);
		aml_name(a, "_CRS");
		aml_resource_template(a, &r);
		aml_end(a);
	}
	aml_end(a);
}

/* The DSDT's AML: \_S5, and \_SB with a processor device per vCPU and PCI0. */
static void acpi_gen_dsdt_aml(const struct acpi_gen_config *c, struct aml *a)
{
	static const char hex[] = "0123456789ABCDEF";

	/* 7.4.2: \_S5 is {SLP_TYPa, SLP_TYPb, reserved, reserved}. */
	aml_name(a, "_S5");
	aml_package_begin(a, 4);
	aml_integer(a, c->s5_slp_typ);
	aml_integer(a, c->s5_slp_typ);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a);

	aml_scope_begin(a, "\\_SB");
	/* 8.4: processors as Device(ACPI0007), _UID = the MADT's ACPI
	 * Processor UID; named C000, C001, ... like QEMU's. */
	for (unsigned i = 0; i < c->cpus; i++) {
		char name[5] = {'C', hex[(i >> 8) & 15], hex[(i >> 4) & 15],
				hex[i & 15], 0};

		aml_device_begin(a, name);
		aml_name_str(a, "_HID", "ACPI0007");
		aml_name_integer(a, "_UID", i);
		aml_end(a);
	}
	acpi_gen_dsdt_pci0(c, a);
	aml_end(a);
}

/* The DSDT: header and aml_len bytes of AML. False if the AML came out
 * another size (it cannot: the layout measured the same AML). */
static bool acpi_gen_dsdt(const struct acpi_gen_config *c, uint8_t *t,
			  size_t aml_len)
{
	uint32_t len = (uint32_t)(HDR_LEN + aml_len);
	struct aml a;

	aml_init(&a, t + HDR_LEN, aml_len);
	acpi_gen_dsdt_aml(c, &a);
	if (!aml_ok(&a) || a.len != aml_len)
		return false;
	acpi_gen_header(t, "DSDT", len, DSDT_REVISION);
	acpi_gen_checksum(t, len);
	return true;
}

/* The FADT; facs and dsdt are the guest-physical addresses of those tables. */
static void acpi_gen_fadt(const struct acpi_gen_config *c, uint8_t *t,
			  uint32_t facs, uint32_t dsdt)
{
	acpi_gen_header(t, "FACP", FADT_LEN, FADT_REVISION);
	/*
	 * The FACS is below 4 GiB: FIRMWARE_CTRL only, X_FIRMWARE_CTRL 0
	 * (ACPI 6.0 forbids both being non-zero). X_DSDT supersedes DSDT;
	 * both hold the same address, as ACPICA expects of the pair.
	 */
	put32(t + FADT_FIRMWARE_CTRL, facs);
	put32(t + FADT_DSDT, dsdt);
	t[FADT_PM_PROFILE] = 0; /* unspecified */
	put16(t + FADT_SCI_INT, c->sci_irq);
	/* SMI_CMD 0: no SMI mode transition, the platform is always in ACPI
	 * mode (PM1_CNT.SCI_EN reads 1); ACPI_ENABLE/DISABLE stay 0. */
	put32(t + FADT_SMI_CMD, 0);
	put32(t + FADT_PM1A_EVT_BLK, c->pm1a_evt);
	put32(t + FADT_PM1A_CNT_BLK, c->pm1a_cnt);
	put32(t + FADT_PM_TMR_BLK, c->pm_tmr);
	put32(t + FADT_GPE0_BLK, c->gpe0);
	t[FADT_PM1_EVT_LEN] = PM1_EVT_LEN;
	t[FADT_PM1_CNT_LEN] = PM1_CNT_LEN;
	t[FADT_PM_TMR_LEN] = PM_TMR_LEN;
	t[FADT_GPE0_BLK_LEN] = GPE0_BLK_LEN;
	put16(t + FADT_P_LVL2_LAT, FADT_NO_C2_LAT);
	put16(t + FADT_P_LVL3_LAT, FADT_NO_C3_LAT);
	t[FADT_CENTURY] = RTC_CENTURY_INDEX;
	put16(t + FADT_IAPC_BOOT_ARCH,
	      IAPC_LEGACY_DEVICES | IAPC_VGA_NOT_PRESENT);
	put32(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 |
				      FADT_F_SLP_BUTTON | FADT_F_TMR_VAL_EXT |
				      FADT_F_RESET_REG_SUP);
	/* 4.8.3.6: the reset register is 8 bits wide at bit offset 0. */
	acpi_gen_gas_io(t + FADT_RESET_REG, 8, GAS_ACCESS_BYTE, c->reset_port);
	t[FADT_RESET_VALUE] = c->reset_value;
	t[FADT_MINOR] = FADT_MINOR_VERSION;
	put64(t + FADT_X_FIRMWARE_CTRL, 0);
	put64(t + FADT_X_DSDT, dsdt);
	/*
	 * The X_ blocks repeat the 32-bit ones: the same port, bit width the
	 * legacy length * 8 (ACPICA warns on a mismatch), access size that
	 * of one register: PM1 status, enable and control are 16-bit
	 * registers (4.8.3.1-2), the timer 32-bit, GPE registers bytes.
	 */
	acpi_gen_gas_io(t + FADT_X_PM1A_EVT_BLK, PM1_EVT_LEN * 8,
			GAS_ACCESS_WORD, c->pm1a_evt);
	acpi_gen_gas_io(t + FADT_X_PM1A_CNT_BLK, PM1_CNT_LEN * 8,
			GAS_ACCESS_WORD, c->pm1a_cnt);
	acpi_gen_gas_io(t + FADT_X_PM_TMR_BLK, PM_TMR_LEN * 8,
			GAS_ACCESS_DWORD, c->pm_tmr);
	acpi_gen_gas_io(t + FADT_X_GPE0_BLK, GPE0_BLK_LEN * 8,
			GAS_ACCESS_BYTE, c->gpe0);
	memcpy(t + FADT_HYPERVISOR_ID, "KEEL", 4);
	acpi_gen_checksum(t, FADT_LEN);
}

static size_t acpi_gen_madt_len(const struct acpi_gen_config *c)
{
	return MADT_ENTRIES + c->cpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN +
	       2 * MADT_ISO_LEN + MADT_LAPIC_NMI_LEN;
}

static uint8_t *acpi_gen_madt_iso(uint8_t *p, uint8_t irq, uint32_t gsi,
				  uint16_t flags)
{
	p[0] = MADT_TYPE_ISO;
	p[1] = MADT_ISO_LEN;
	p[2] = 0; /* bus: ISA */
	p[3] = irq;
	put32(p + 4, gsi);
	put16(p + 8, flags);
	return p + MADT_ISO_LEN;
}

static void acpi_gen_madt(const struct acpi_gen_config *c, uint8_t *t)
{
	uint32_t len = (uint32_t)acpi_gen_madt_len(c);
	uint8_t *p = t + MADT_ENTRIES;

	acpi_gen_header(t, "APIC", len, MADT_REVISION);
	put32(t + MADT_LAPIC_ADDR, c->lapic_addr);
	put32(t + MADT_FLAGS, MADT_PCAT_COMPAT);
	/* 5.2.12.1: the boot processor's entry first; it is APIC id 0. */
	for (unsigned i = 0; i < c->cpus; i++, p += MADT_LAPIC_LEN) {
		p[0] = MADT_TYPE_LAPIC;
		p[1] = MADT_LAPIC_LEN;
		p[2] = (uint8_t)i; /* ACPI Processor UID, = the DSDT's _UID */
		p[3] = (uint8_t)i; /* APIC ID */
		put32(p + 4, MADT_LAPIC_ENABLED);
	}
	p[0] = MADT_TYPE_IOAPIC;
	p[1] = MADT_IOAPIC_LEN;
	p[2] = c->ioapic_id;
	put32(p + 4, c->ioapic_addr);
	put32(p + 8, 0); /* GSI base: pins 0-23 are GSIs 0-23 */
	p += MADT_IOAPIC_LEN;
	/* 5.2.12.5: the PIT's IRQ 0 is on pin 2. The SCI is level-triggered
	 * and, as on PIIX4/ICH boards, active high: without this override
	 * OSPM would take it as active low (5.2.9, SCI_INT). */
	p = acpi_gen_madt_iso(p, ISA_IRQ_PIT, GSI_PIT, MPS_INTI_CONFORMING);
	p = acpi_gen_madt_iso(p, c->sci_irq, c->sci_irq, MPS_INTI_HIGH_LEVEL);
	/* 5.2.12.7: NMI arrives on LINT1 of every processor. */
	p[0] = MADT_TYPE_LAPIC_NMI;
	p[1] = MADT_LAPIC_NMI_LEN;
	p[2] = MADT_ALL_PROCESSORS;
	put16(p + 3, MPS_INTI_CONFORMING);
	p[5] = LAPIC_LINT1;
	acpi_gen_checksum(t, len);
}

/* RSDT (5.2.7) holds 32-bit entries, XSDT (5.2.8) 64-bit ones. */
static size_t acpi_gen_sdt_len(bool xsdt, unsigned n)
{
	return HDR_LEN + n * (xsdt ? 8 : 4);
}

static void acpi_gen_sdt(uint8_t *t, bool xsdt, const uint64_t *tables,
			 unsigned n)
{
	uint32_t len = (uint32_t)acpi_gen_sdt_len(xsdt, n);

	acpi_gen_header(t, xsdt ? "XSDT" : "RSDT", len,
			xsdt ? XSDT_REVISION : RSDT_REVISION);
	for (unsigned i = 0; i < n; i++) {
		if (xsdt)
			put64(t + HDR_LEN + 8 * i, tables[i]);
		else
			put32(t + HDR_LEN + 4 * i, (uint32_t)tables[i]);
	}
	acpi_gen_checksum(t, len);
}

static void acpi_gen_rsdp(uint8_t *t, uint32_t rsdt, uint64_t xsdt)
{
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + RSDP_OEM_ID, ACPI_OEM_ID, 6);
	t[RSDP_REVISION] = RSDP_REV_ACPI2;
	put32(t + RSDP_RSDT, rsdt);
	put32(t + RSDP_LENGTH, RSDP_LEN);
	put64(t + RSDP_XSDT, xsdt);
	/* 5.2.5.3: one checksum over the ACPI 1.0 part, one over it all. */
	t[RSDP_CHECKSUM] = acpi_gen_sum_fix(t, RSDP_V1_LEN);
	t[RSDP_XCHECKSUM] = acpi_gen_sum_fix(t, RSDP_LEN);
}

/* Every port of a PM register block inside the 64-port block at base. */
static bool acpi_gen_in_pm_block(uint16_t base, uint16_t port, unsigned len)
{
	return port >= base && port + len <= (unsigned)base + PM_BLOCK_LEN;
}

static bool acpi_gen_config_valid(const struct acpi_gen_config *c)
{
	uint16_t pm_base = c->pm1a_evt & ~(PM_BLOCK_LEN - 1);

	if (c->cpus < 1 || c->cpus > ACPI_GEN_MAX_CPUS)
		return false;
	if (!c->lapic_addr || !c->ioapic_addr || !c->reset_port)
		return false;
	if (!c->pm1a_evt || !c->pm1a_cnt || !c->pm_tmr || !c->gpe0)
		return false;
	/* An ISA IRQ for the override; 0 and 2 are the PIT's. */
	if (c->sci_irq > 15 || c->sci_irq == ISA_IRQ_PIT ||
	    c->sci_irq == GSI_PIT)
		return false;
	return acpi_gen_in_pm_block(pm_base, c->pm1a_evt, PM1_EVT_LEN) &&
	       acpi_gen_in_pm_block(pm_base, c->pm1a_cnt, PM1_CNT_LEN) &&
	       acpi_gen_in_pm_block(pm_base, c->pm_tmr, PM_TMR_LEN) &&
	       acpi_gen_in_pm_block(pm_base, c->gpe0, GPE0_BLK_LEN);
}

/* Offsets in buf of each table, and the DSDT's AML length. */
struct acpi_gen_layout {
	size_t facs, dsdt, fadt, madt, rsdt, xsdt, rsdp, end;
	size_t dsdt_aml;
};

/* The first offset at or after off whose guest-physical address is a
 * multiple of align (a power of two). */
static size_t acpi_gen_align(uint64_t base, size_t off, size_t align)
{
	return off + (size_t)(-(base + off) & (align - 1));
}

/*
 * Lay the tables out in the order they point to each other: FACS and DSDT,
 * the FADT to them, the MADT, RSDT and XSDT to FADT and MADT, the RSDP to
 * those. Each starts 16-byte aligned (the FACS 64). False when the DSDT
 * cannot be built or a table would end above 4 GiB.
 */
static bool acpi_gen_layout(const struct acpi_gen_config *c, uint64_t base,
			    struct acpi_gen_layout *l)
{
	struct aml a;

	if (base > UINT32_MAX)
		return false;
	aml_init(&a, NULL, 0); /* measure only */
	acpi_gen_dsdt_aml(c, &a);
	if (a.invalid || a.depth || a.len > UINT32_MAX)
		return false;
	l->dsdt_aml = a.len;
	l->facs = acpi_gen_align(base, 0, FACS_ALIGN);
	l->dsdt = acpi_gen_align(base, l->facs + FACS_LEN, TABLE_ALIGN);
	l->fadt = acpi_gen_align(base, l->dsdt + HDR_LEN + a.len, TABLE_ALIGN);
	l->madt = acpi_gen_align(base, l->fadt + FADT_LEN, TABLE_ALIGN);
	l->rsdt = acpi_gen_align(base, l->madt + acpi_gen_madt_len(c),
				 TABLE_ALIGN);
	l->xsdt = acpi_gen_align(base, l->rsdt + acpi_gen_sdt_len(false, 2),
				 TABLE_ALIGN);
	l->rsdp = acpi_gen_align(base, l->xsdt + acpi_gen_sdt_len(true, 2),
				 TABLE_ALIGN);
	l->end = l->rsdp + RSDP_LEN;
	return base + l->end - 1 <= UINT32_MAX;
}

size_t acpi_gen_build(const struct acpi_gen_config *c, void *buf, size_t cap,
		      uint64_t base, size_t *rsdp_off)
{
	struct acpi_gen_layout l;
	uint8_t *b = buf;
	uint64_t tables[2];

	if (!c || !buf || !rsdp_off || !acpi_gen_config_valid(c))
		return 0;
	if (!acpi_gen_layout(c, base, &l) || l.end > cap)
		return 0;
	memset(b, 0, l.end);
	acpi_gen_facs(b + l.facs);
	if (!acpi_gen_dsdt(c, b + l.dsdt, l.dsdt_aml))
		return 0;
	acpi_gen_fadt(c, b + l.fadt, (uint32_t)(base + l.facs),
		      (uint32_t)(base + l.dsdt));
	acpi_gen_madt(c, b + l.madt);
	tables[0] = base + l.fadt;
	tables[1] = base + l.madt;
	acpi_gen_sdt(b + l.rsdt, false, tables, 2);
	acpi_gen_sdt(b + l.xsdt, true, tables, 2);
	acpi_gen_rsdp(b + l.rsdp, (uint32_t)(base + l.rsdt), base + l.xsdt);
	*rsdp_off = l.rsdp;
	return l.end;
}

void acpi_gen_defaults(struct acpi_gen_config *c, unsigned cpus)
{
	memset(c, 0, sizeof(*c));
	c->cpus = cpus;
	c->lapic_addr = 0xFEE00000;
	c->ioapic_addr = 0xFEC00000;
	c->ioapic_id = 0; /* what the IOAPIC's ID register says at reset, as QEMU */
	c->pm1a_evt = 0x600;
	c->pm1a_cnt = 0x604;
	c->pm_tmr = 0x608;
	c->gpe0 = 0x620;
	c->sci_irq = 9;
	c->reset_port = 0xCF9;
	c->reset_value = 0x06; /* 0xCF9: SYS_RST | RST_CPU, a hard reset */
	c->s5_slp_typ = 5;
	c->com1 = true;
}
