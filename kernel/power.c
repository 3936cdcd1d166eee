/*
 * power.c - turning the machine off and resetting it: ACPI first (PM1 control
 * for S5, the FADT reset register), then the documented fallbacks, then halt.
 *
 * Runs with interrupts off on one CPU (the caller has stopped the others),
 * possibly after a panic: no locks, no allocation, no timers; delays are
 * port 0x80 writes. Every step is logged before it is tried.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi.h"
#include "kernel/arch/x86.h"
#include "kernel/log.h"
#include "mm/mm.h"

/* PM1 registers, ACPI 6.5 4.8.3.1 and 4.8.3.2.1. */
#define PM1_STS_WAK (1u << 15)
#define PM1_CNT_SCI_EN (1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN (1u << 13)

#define PCI_RST_CNT 0xCF9 /* Intel PCH Reset Control register */
#define I8042_STATUS 0x64
#define I8042_STATUS_IBF (1u << 1)
#define I8042_CMD_PULSE_RESET 0xFE

/* Each write to the POST port takes about 1 us on PC hardware; timers may not
 * be running (or may be why we are here). */
static void power_delay_us(unsigned us)
{
	while (us--)
		outb(0x80, 0);
}

static void __attribute__((noreturn)) power_halt_forever(void)
{
	for (;;) {
		irq_disable();
		cpu_halt();
	}
}

/*
 * Registers in memory space are reached through the direct map: mm maps the
 * FADT's MMIO ranges there, and mm_map_mmio() would take locks a panicking CPU
 * may hold.
 */
static volatile void *power_map_reg(uint64_t pa)
{
	return (volatile void *)phys_to_virt(pa);
}

/* 16-bit access to a PM1 register block (4.8.3: PM1 registers are 16 bits). */
static bool power_pm1_read(const struct acpi_gas *g, uint16_t *v)
{
	switch (g->space) {
	case ACPI_SPACE_IO:
		if (g->address > 0xFFFF)
			return false;
		*v = inw((uint16_t)g->address);
		return true;
	case ACPI_SPACE_MEMORY:
		*v = *(volatile uint16_t *)power_map_reg(g->address);
		return true;
	default:
		return false;
	}
}

static bool power_pm1_write(const struct acpi_gas *g, uint16_t v)
{
	switch (g->space) {
	case ACPI_SPACE_IO:
		if (g->address > 0xFFFF)
			return false;
		outw((uint16_t)g->address, v);
		return true;
	case ACPI_SPACE_MEMORY:
		*(volatile uint16_t *)power_map_reg(g->address) = v;
		return true;
	default:
		return false;
	}
}

/* Legacy-mode firmware owns PM1 until told: ACPI 6.5 4.8.2.5 / 16.3.1.
 * Write ACPI_ENABLE to SMI_CMD and wait for SCI_EN (bounded, ~3 s). */
static void power_acpi_enable(void)
{
	uint16_t cnt;

	if (!acpi.smi_cmd || !acpi.acpi_enable || acpi.smi_cmd > 0xFFFF)
		return;
	if (!power_pm1_read(&acpi.pm1a_cnt, &cnt) || (cnt & PM1_CNT_SCI_EN))
		return;
	log_info("power: switching firmware to ACPI mode (port 0x%x <- 0x%x)",
		 acpi.smi_cmd, acpi.acpi_enable);
	outb((uint16_t)acpi.smi_cmd, acpi.acpi_enable);
	for (unsigned ms = 0; ms < 3000; ms++) {
		if (power_pm1_read(&acpi.pm1a_cnt, &cnt) &&
		    (cnt & PM1_CNT_SCI_EN))
			return;
		power_delay_us(1000);
	}
	log_warn("power: SCI_EN still clear, trying the sleep anyway");
}

/* Enter S5 through PM1a/PM1b control (ACPI 6.5 7.4.2 \_S5, 4.8.3.2.1):
 * SLP_TYP first, then SLP_EN in a second write, other bits preserved. */
static void power_acpi_s5(void)
{
	uint16_t a = 0, b = 0;
	bool have_b = acpi.pm1b_cnt.space != ACPI_SPACE_NONE;

	if (!acpi.have_fadt || !acpi.have_s5 || acpi.hw_reduced) {
		log_info("power: no ACPI S5 (fadt %d, \\_S5 %d, hw-reduced %d)",
			 acpi.have_fadt, acpi.have_s5, acpi.hw_reduced);
		return;
	}
	if (!power_pm1_read(&acpi.pm1a_cnt, &a)) {
		log_warn("power: PM1a_CNT (space %u, 0x%llx) unusable",
			 acpi.pm1a_cnt.space,
			 (unsigned long long)acpi.pm1a_cnt.address);
		return;
	}
	power_acpi_enable();
	log_info("power: ACPI S5 (SLP_TYP %u/%u)", acpi.s5_slp_typa,
		 acpi.s5_slp_typb);

	/* A stale wake status must not cut the transition short. */
	if (acpi.pm1a_evt.space != ACPI_SPACE_NONE)
		power_pm1_write(&acpi.pm1a_evt, PM1_STS_WAK);
	if (acpi.pm1b_evt.space != ACPI_SPACE_NONE)
		power_pm1_write(&acpi.pm1b_evt, PM1_STS_WAK);

	power_pm1_read(&acpi.pm1a_cnt, &a);
	a &= (uint16_t)~(PM1_CNT_SLP_TYP_MASK | PM1_CNT_SLP_EN);
	a |= (uint16_t)(acpi.s5_slp_typa << PM1_CNT_SLP_TYP_SHIFT);
	if (have_b && power_pm1_read(&acpi.pm1b_cnt, &b)) {
		b &= (uint16_t)~(PM1_CNT_SLP_TYP_MASK | PM1_CNT_SLP_EN);
		b |= (uint16_t)(acpi.s5_slp_typb << PM1_CNT_SLP_TYP_SHIFT);
	} else {
		have_b = false;
	}
	power_pm1_write(&acpi.pm1a_cnt, a);
	if (have_b)
		power_pm1_write(&acpi.pm1b_cnt, b);
	power_pm1_write(&acpi.pm1a_cnt, a | PM1_CNT_SLP_EN);
	if (have_b)
		power_pm1_write(&acpi.pm1b_cnt, b | PM1_CNT_SLP_EN);

	power_delay_us(500 * 1000);
	log_warn("power: still running after ACPI S5");
}

void power_off(void)
{
	/* Emulators' fixed power-off ports, only tried after ACPI. */
	static const struct {
		uint16_t port, value;
		const char *what;
	} fallback[] = {
		{0x604, 0x2000, "QEMU q35 (ICH9 PM1a_CNT)"},
		{0xB004, 0x2000, "Bochs / old QEMU"},
		{0x4004, 0x3400, "VirtualBox"},
	};

	irq_disable();
	power_acpi_s5();
	for (unsigned i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++) {
		log_info("power: trying %s: port 0x%x <- 0x%x",
			 fallback[i].what, fallback[i].port, fallback[i].value);
		outw(fallback[i].port, fallback[i].value);
		power_delay_us(100 * 1000);
	}
	log_err("power: power-off failed, halting");
	power_halt_forever();
}

/* The FADT reset register (ACPI 6.5 4.8.3.6): an 8-bit write of RESET_VALUE. */
static void power_reset_reg(void)
{
	const struct acpi_gas *g = &acpi.reset_reg;
	uint8_t v = acpi.reset_value;

	if (!acpi.have_reset_reg)
		return;
	switch (g->space) {
	case ACPI_SPACE_IO:
		if (g->address > 0xFFFF)
			return;
		log_info("power: reset via ACPI reset register, port 0x%llx <- 0x%x",
			 (unsigned long long)g->address, v);
		outb((uint16_t)g->address, v);
		break;
	case ACPI_SPACE_MEMORY:
		log_info("power: reset via ACPI reset register, mmio 0x%llx <- 0x%x",
			 (unsigned long long)g->address, v);
		*(volatile uint8_t *)power_map_reg(g->address) = v;
		break;
	case ACPI_SPACE_PCI: {
		/* 5.2.3.2: bus 0; device in bits 32-47, function 16-31,
		 * register offset 0-15. Written with configuration mechanism 1. */
		uint32_t dev = (g->address >> 32) & 0x1F;
		uint32_t fn = (g->address >> 16) & 0x7;
		uint32_t off = g->address & 0xFF;

		log_info("power: reset via ACPI reset register, pci 00:%02x.%u+0x%x <- 0x%x",
			 dev, fn, off, v);
		outl(0xCF8, 0x80000000u | (dev << 11) | (fn << 8) | (off & 0xFC));
		outb((uint16_t)(0xCFC + (off & 3)), v);
		break;
	}
	default:
		return;
	}
	power_delay_us(50 * 1000);
}

void power_reboot(void)
{
	irq_disable();
	power_reset_reg();

	/* Intel PCH/ICH Reset Control: SYS_RST (bit 1) selects a hard reset,
	 * then the 0->1 edge of RST_CPU (bit 2) starts it. Fixed values, not
	 * read-modify-write: on a chipset without the register a read gives
	 * 0xFF, whose bit 3 would ask for a full power cycle. */
	log_info("power: reset via port 0x%x", PCI_RST_CNT);
	outb(PCI_RST_CNT, 0x02);
	power_delay_us(50);
	outb(PCI_RST_CNT, 0x06);
	power_delay_us(50 * 1000);

	/* i8042: pulse the CPU reset line (output port bit 0). */
	log_info("power: reset via the keyboard controller");
	for (unsigned i = 0; i < 100000 && (inb(I8042_STATUS) & I8042_STATUS_IBF);
	     i++)
		power_delay_us(1);
	outb(I8042_STATUS, I8042_CMD_PULSE_RESET);
	power_delay_us(50 * 1000);

	/* An empty IDT turns int3 into #GP, #DF, then a triple fault: the CPU
	 * shuts down and the chipset resets it (SDM 6.15 "#DF"). */
	log_info("power: reset via triple fault");
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {0, 0};
	__asm__ volatile("lidt %0; int3" : : "m"(idtr) : "memory");

	log_err("power: reset failed, halting");
	power_halt_forever();
}

/* ---- the ACPI power button (fixed-feature, ACPI 6.5 4.8.2.2.1) ----
 * PWRBTN_STS is bit 8 of PM1_STS; PWRBTN_EN is bit 8 of PM1_EN, which sits
 * PM1_EVT_LEN / 2 bytes after PM1_STS (4.8.3.1). Firmware in legacy mode may
 * keep the button to itself, so Keel switches to ACPI mode first; with the
 * SCI's IOAPIC pin masked, the shell polls the status bit. */
#define PM1_PWRBTN (1u << 8)

static bool power_pm1_en(struct acpi_gas *en)
{
	if (!acpi.have_fadt || acpi.hw_reduced ||
	    acpi.pm1a_evt.space == ACPI_SPACE_NONE || acpi.pm1_evt_len < 4)
		return false;
	*en = acpi.pm1a_evt;
	en->address += acpi.pm1_evt_len / 2;
	return true;
}

bool power_button_enable(void)
{
	struct acpi_gas en;
	uint16_t v;

	if (!power_pm1_en(&en) || !power_pm1_read(&en, &v))
		return false;
	power_acpi_enable();
	power_pm1_write(&acpi.pm1a_evt, PM1_PWRBTN); /* clear a stale press */
	power_pm1_write(&en, v | PM1_PWRBTN);
	return true;
}

bool power_button_pressed(void)
{
	uint16_t sts;

	if (!acpi.have_fadt || acpi.pm1a_evt.space == ACPI_SPACE_NONE ||
	    !power_pm1_read(&acpi.pm1a_evt, &sts) || !(sts & PM1_PWRBTN))
		return false;
	power_pm1_write(&acpi.pm1a_evt, PM1_PWRBTN); /* write 1 to clear */
	return true;
}
