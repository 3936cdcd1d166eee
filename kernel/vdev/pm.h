/*
 * pm.h - the guest's fixed-hardware power management and the legacy ways
 * to reset it: the ACPI PM1a event/control blocks, PM timer and GPE0 block
 * at the fixed ports the ACPI tables describe (struct vpm), the i8042
 * keyboard controller with nothing behind it (struct vkbc) and System
 * Control Port A at 0x92. Pure register models; interrupts are queried.
 */
#ifndef KEEL_VDEV_PM_H
#define KEEL_VDEV_PM_H

#include <stdbool.h>
#include <stdint.h>

/* The FADT points here (ACPI 6.5, 4.8.3 fixed hardware register blocks). */
#define VPM_PM1A_EVT_BLK 0x600 /* PM1_STS +0, PM1_EN +2; PM1_EVT_LEN 4 */
#define VPM_PM1A_CNT_BLK 0x604 /* PM1_CNT; PM1_CNT_LEN 2 */
#define VPM_PM_TMR_BLK 0x608   /* PM_TMR_LEN 4, 32-bit (FADT TMR_VAL_EXT) */
#define VPM_GPE0_BLK 0x620     /* GPE0_STS 2 bytes, GPE0_EN 2; GPE0_BLK_LEN 4 */
#define VPM_GPE0_BLK_LEN 4
#define VPM_PM_TMR_HZ 3579545

/* PM1_STS / PM1_EN bits (ACPI 4.8.3.1). */
#define VPM_TMR_STS 0x0001
#define VPM_PWRBTN_STS 0x0100
#define VPM_WAK_STS 0x8000
#define VPM_TMR_EN 0x0001
#define VPM_PWRBTN_EN 0x0100
/* PM1_CNT bits (ACPI 4.8.3.2.1). */
#define VPM_SCI_EN 0x0001
#define VPM_SLP_TYP_SHIFT 10 /* bits 12:10 */
#define VPM_SLP_EN 0x2000
/* The DSDT's \_S5 package gives this SLP_TYP. */
#define VPM_SLP_TYP_S5 5

enum vpm_event {
	VPM_EV_NONE,
	VPM_EV_S5,    /* SLP_EN with SLP_TYP S5: power the VM off */
	VPM_EV_SLEEP, /* SLP_EN with another SLP_TYP: Keel offers no sleep
			 state, the glue logs and goes on; the model sets
			 WAK_STS at once so the guest's wait for the wake
			 ends (a sleep that woke up immediately) */
};

struct vpm {
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint8_t gpe_sts[2], gpe_en[2];
	bool tmr_seen;	      /* tmr_last is valid */
	uint64_t tmr_last;    /* PM timer ticks at the last look */
};

/* Reset: SCI_EN set (there is no SMI_CMD: the VM is always in ACPI mode),
 * everything else clear. The PM timer free-runs from the host clock. */
void vpm_init(struct vpm *p);
/* An access of size 1, 2 or 4 starting inside one of the blocks, as the
 * PIIX4 and ICH take them (a dword at PM1a_EVT_BLK covers STS and EN).
 * Bytes past a register read 0xFF. *ev says whether the guest asked for a
 * sleep state. Returns 0, KEEL_ENOENT for another port or KEEL_EINVAL for
 * another size (reads then see all ones). */
int vpm_io(struct vpm *p, uint16_t port, uint8_t size, bool in, uint32_t *val,
	   uint64_t now_ns, enum vpm_event *ev);
/* Sets TMR_STS when bit 31 of the PM timer has changed since the last
 * look; returns when it next changes (ns) while TMR_EN is set and TMR_STS
 * clear, else 0. */
uint64_t vpm_poll(struct vpm *p, uint64_t now_ns);
/* The power button was pressed (PWRBTN_STS). */
void vpm_power_button(struct vpm *p);
/* A general-purpose event (0-15) happened: its GPE0_STS bit. */
void vpm_gpe_raise(struct vpm *p, unsigned gpe);
/* SCI (IRQ 9, level): an enabled PM1 event or an enabled GPE. */
bool vpm_sci_level(const struct vpm *p);

/* ------------------------------------------------------------ i8042 -- */

#define VKBC_PORT_DATA 0x60
#define VKBC_PORT_CMD 0x64 /* read: status */
#define VKBC_QUEUE 8

/* An 8042 whose keyboard and aux ports have no device: its own commands
 * work (self-test, command byte, output port, resets); a byte written for
 * the keyboard is answered with 0xFE and the status time-out bit, what a
 * controller says when no device clocks it in. Linux's libps2 takes that
 * 0xFE as a NAK and gives up on the keyboard at once. */
struct vkbc {
	uint8_t ctr;	     /* command byte: KBD_INT 0, AUX_INT 1, SYS 2,
				KBD_DIS 4, AUX_DIS 5, XLATE 6 */
	uint8_t outport;     /* bit 0: not in reset; bit 1: A20 */
	uint8_t pending;     /* command waiting for its data byte, 0 none */
	bool sys;	     /* status bit 2 */
	bool cmd_last;	     /* status bit 3: the last write went to 0x64 */
	uint8_t last;	     /* what 0x60 reads when nothing is queued */
	uint8_t q[VKBC_QUEUE];
	uint8_t q_timeout;   /* bit i: q[i] comes with the time-out bit */
	uint8_t q_head, q_count;
};

/* As a BIOS leaves it: command byte 0x45 (translate, system flag, keyboard
 * interrupt), system flag set, output port 0xCF (not in reset, A20 on). */
void vkbc_init(struct vkbc *k);
/* One byte at 0x60 or 0x64. *reset becomes true when the guest pulsed the
 * reset line (0xFE and the other 0xF0-0xFF pulses with bit 0 clear, or an
 * output port write with bit 0 clear). 0, or KEEL_ENOENT. */
int vkbc_io(struct vkbc *k, uint16_t port, bool in, uint8_t *val, bool *reset);
/* IRQ 1: keyboard data waits in the output buffer and KBD_INT is set. */
bool vkbc_irq1_level(const struct vkbc *k);

/* System Control Port A (0x92), kept by the caller in *reg (reset: 0x02):
 * bit 0 0->1 is a fast reset (*reset = true), bit 1 is A20 (stored; Keel's
 * guests always have A20 on). Returns 0. */
int vport92_io(uint8_t *reg, bool in, uint8_t *val, bool *reset);

#endif
