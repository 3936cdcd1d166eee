/*
 * acpi_gen.h - the ACPI tables of Keel's guest platform (DESIGN.md section 5):
 * RSDP, RSDT, XSDT, FADT, FACS, DSDT and MADT, built from one description.
 * Direct kernel boot writes them into guest memory; firmware boot will hand
 * the same tables to SeaBIOS/OVMF through fw_cfg. Pure and host-testable.
 */
#ifndef KEEL_VIRT_ACPI_GEN_H
#define KEEL_VIRT_ACPI_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Local APIC ids 0..254: 0xFF is the xAPIC broadcast id. */
#define ACPI_GEN_MAX_CPUS 255

struct acpi_gen_config {
	unsigned cpus;	      /* local APIC ids 0..cpus-1, processor uid = id */
	uint32_t lapic_addr;  /* 0xFEE00000 */
	uint32_t ioapic_addr; /* 0xFEC00000 */
	uint8_t ioapic_id;    /* 0: the vIOAPIC's ID register at reset */
	uint16_t pm1a_evt;    /* 0x600, 4 bytes */
	uint16_t pm1a_cnt;    /* 0x604, 2 bytes */
	uint16_t pm_tmr;      /* 0x608, 4 bytes, 32-bit (TMR_VAL_EXT) */
	uint16_t gpe0;	      /* 0x620, 4 bytes (GPE0_BLK_LEN 4) */
	uint8_t sci_irq;      /* 9 */
	uint16_t reset_port;  /* 0xCF9 */
	uint8_t reset_value;  /* 0x06 */
	uint8_t s5_slp_typ;   /* 5 */
	bool com1;	      /* COM1 at 0x3F8, IRQ 4 in the DSDT */
};

/*
 * Write RSDP, RSDT, XSDT, FADT, FACS, DSDT and MADT into buf (cap bytes),
 * which will be placed at guest-physical address base. Returns the bytes
 * used, or 0 when cap is too small or the config is invalid (and then
 * writes neither buf nor *rsdp_off); *rsdp_off is the RSDP's offset in buf
 * (16-byte aligned in guest-physical terms, so a guest scanning
 * 0xE0000-0xFFFFF finds it when base lies there). The FACS comes first, at
 * the first 64-byte aligned address from base.
 *
 * A valid config has 1..ACPI_GEN_MAX_CPUS cpus, non-zero addresses and ports,
 * sci_irq an ISA IRQ other than 0 and 2 (IRQ 0 is routed to GSI 2), and its
 * four PM blocks inside the 64-port block at pm1a_evt & ~0x3F, which the
 * DSDT reserves as motherboard resources. Every table must lie below 4 GiB
 * (RSDT and FADT hold 32-bit pointers too).
 */
size_t acpi_gen_build(const struct acpi_gen_config *c, void *buf, size_t cap,
		      uint64_t base, size_t *rsdp_off);

/* The defaults above for n vCPUs. */
void acpi_gen_defaults(struct acpi_gen_config *c, unsigned cpus);

#endif
