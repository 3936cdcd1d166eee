/*
 * acpi.h - what Keel reads from the firmware's ACPI tables: CPUs and interrupt
 * controllers (MADT), PCIe ECAM (MCFG), the HPET, and the FADT's power
 * management blocks, reset register and the DSDT's \_S5 sleep type.
 *
 * No AML interpreter: \_S5 is found by pattern in the DSDT/SSDTs. Nothing in a
 * table is trusted: lengths are bounded, checksums verified, and a malformed
 * table is reported and skipped.
 */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_OVERRIDES 32
#define ACPI_MAX_MCFG 16

/* Generic Address Structure (ACPI 6.x 5.2.3.2), decoded. */
enum acpi_space {
	ACPI_SPACE_MEMORY = 0,
	ACPI_SPACE_IO = 1,
	ACPI_SPACE_PCI = 2,
	ACPI_SPACE_NONE = 0xFF, /* not present */
};

struct acpi_gas {
	uint8_t space; /* enum acpi_space */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
};

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;
	bool x2apic;  /* came from a Local x2APIC entry */
	bool enabled; /* usable now (enabled flag) */
};

struct acpi_ioapic {
	uint32_t id;
	uint64_t address;
	uint32_t gsi_base;
};

struct acpi_override {
	uint8_t bus;
	uint8_t source; /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags; /* MPS INTI flags: polarity bits 0-1, trigger bits 2-3 */
};

struct acpi_mcfg {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
};

struct acpi_info {
	uint8_t revision; /* RSDP revision: 0 = ACPI 1.0 (RSDT), 2+ = XSDT */
	char oem_id[7];
	unsigned tables_seen, tables_bad;

	/* MADT */
	bool have_madt;
	uint64_t lapic_address;
	bool pcat_compat; /* dual 8259s present */
	unsigned cpu_count;
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	unsigned ioapic_count;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned override_count;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];

	/* MCFG */
	unsigned mcfg_count;
	struct acpi_mcfg mcfg[ACPI_MAX_MCFG];

	/* HPET */
	bool have_hpet;
	uint64_t hpet_address;

	/* FADT */
	bool have_fadt;
	uint16_t sci_irq;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	struct acpi_gas pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm_tmr;
	uint8_t pm1_evt_len;
	bool pm_tmr_32bit; /* TMR_VAL_EXT */
	bool have_reset_reg;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	bool hw_reduced;
	uint64_t dsdt;

	/* \_S5 from the DSDT or an SSDT */
	bool have_s5;
	uint8_t s5_slp_typa, s5_slp_typb;
};

/* Maps physical memory for reading; NULL on failure. The kernel passes its
 * direct-map/MMIO mapper, unit tests a function over a synthetic buffer. */
typedef const void *(*acpi_map_fn)(uint64_t pa, size_t len);

/* Parse everything reachable from the RSDP. Returns 0, or KEEL_ENOENT /
 * KEEL_ECORRUPT when the RSDP itself is unusable; bad tables beyond it are
 * logged, counted in tables_bad and skipped. */
int acpi_parse(uint64_t rsdp_pa, acpi_map_fn map, struct acpi_info *out);

/* Find \_S5 in an AML byte stream (DSDT or SSDT body). Returns true and the
 * two SLP_TYP values when a well-formed Name(_S5_, Package(){a, b, ...}) is
 * found. */
bool acpi_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa,
		  uint8_t *slp_typb);

/* The parsed tables of this machine (valid after acpi_init()). */
extern struct acpi_info acpi;
int acpi_init(uint64_t rsdp_pa);

/* Power (kernel/power.c): both try ACPI first, then the documented
 * fallbacks, and never return. */
void power_off(void) __attribute__((noreturn));
void power_reboot(void) __attribute__((noreturn));
/* The ACPI power button: enable it (switching the firmware to ACPI mode);
 * then poll: true once per press. False when the machine has none. */
bool power_button_enable(void);
bool power_button_pressed(void);

#endif
