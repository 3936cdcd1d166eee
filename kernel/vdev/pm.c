/*
 * pm.c - ACPI fixed hardware (PM1a event and control blocks, the 32-bit PM
 * timer, GPE0) as the PIIX4/ICH present it, the i8042 keyboard controller
 * as far as a guest without keyboard needs it, and port 0x92. Pure models:
 * reset and power-off requests are returned to the caller.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/vdev/pm.h"

#define NS_PER_SEC 1000000000ULL
/* PM1_STS bits a write of 1 clears: TMR, BM, GBL, PWRBTN, SLPBTN, RTC,
 * PCIEXP_WAKE, WAK (ACPI table 4.16). */
#define PM1_STS_W1C 0xC731
/* PM1_EN: TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN (table 4.17), at
 * the same bit positions as their status bits. */
#define PM1_EN_MASK 0x0721
/* PM1_CNT bits stored: BM_RLD and SLP_TYP. SCI_EN stays 1, GBL_RLS and
 * SLP_EN are write-only (read as 0). */
#define PM1_CNT_STORED 0x1C02
#define PM_TMR_MSB (1ULL << 31)

/* PM timer clocks in ns (3.579545 MHz), without overflow. */
static uint64_t pm_ticks(uint64_t ns)
{
	return ns / NS_PER_SEC * VPM_PM_TMR_HZ +
	       ns % NS_PER_SEC * VPM_PM_TMR_HZ / NS_PER_SEC;
}

static uint64_t pm_tick_ns(uint64_t tick)
{
	return tick / VPM_PM_TMR_HZ * NS_PER_SEC +
	       (tick % VPM_PM_TMR_HZ * NS_PER_SEC + VPM_PM_TMR_HZ - 1) / VPM_PM_TMR_HZ;
}

/* ACPI 4.8.3.3: TMR_STS is set whenever the timer's top bit (31 with
 * TMR_VAL_EXT) changes. */
static void pm_timer_catch_up(struct vpm *p, uint64_t now_ns)
{
	uint64_t t = pm_ticks(now_ns);

	if (p->tmr_seen && t <= p->tmr_last)
		return; /* an older time stamp: the timer does not run back */
	if (p->tmr_seen && t / PM_TMR_MSB != p->tmr_last / PM_TMR_MSB)
		p->pm1_sts |= VPM_TMR_STS;
	p->tmr_seen = true;
	p->tmr_last = t;
}

void vpm_init(struct vpm *p)
{
	memset(p, 0, sizeof(*p));
	p->pm1_cnt = VPM_SCI_EN;
}

void vpm_power_button(struct vpm *p)
{
	p->pm1_sts |= VPM_PWRBTN_STS;
}

void vpm_gpe_raise(struct vpm *p, unsigned gpe)
{
	if (gpe < 16)
		p->gpe_sts[gpe / 8] |= (uint8_t)(1u << (gpe % 8));
}

bool vpm_sci_level(const struct vpm *p)
{
	if (!(p->pm1_cnt & VPM_SCI_EN))
		return false;
	return (p->pm1_sts & p->pm1_en & PM1_EN_MASK) ||
	       (p->gpe_sts[0] & p->gpe_en[0]) || (p->gpe_sts[1] & p->gpe_en[1]);
}

uint64_t vpm_poll(struct vpm *p, uint64_t now_ns)
{
	pm_timer_catch_up(p, now_ns);
	if (!(p->pm1_en & VPM_TMR_EN) || (p->pm1_sts & VPM_TMR_STS))
		return 0;
	return pm_tick_ns((p->tmr_last / PM_TMR_MSB + 1) * PM_TMR_MSB);
}

static bool pm_port_known(uint16_t port)
{
	return (port >= VPM_PM1A_EVT_BLK && port < VPM_PM1A_CNT_BLK + 2) ||
	       (port >= VPM_PM_TMR_BLK && port < VPM_PM_TMR_BLK + 4) ||
	       (port >= VPM_GPE0_BLK && port < VPM_GPE0_BLK + VPM_GPE0_BLK_LEN);
}

static uint8_t pm_read_byte(const struct vpm *p, uint16_t port, uint32_t tmr)
{
	unsigned shift;

	switch (port) {
	case VPM_PM1A_EVT_BLK:
	case VPM_PM1A_EVT_BLK + 1:
		return (uint8_t)(p->pm1_sts >> 8 * (port - VPM_PM1A_EVT_BLK));
	case VPM_PM1A_EVT_BLK + 2:
	case VPM_PM1A_EVT_BLK + 3:
		return (uint8_t)(p->pm1_en >> 8 * (port - VPM_PM1A_EVT_BLK - 2));
	case VPM_PM1A_CNT_BLK:
	case VPM_PM1A_CNT_BLK + 1:
		return (uint8_t)(p->pm1_cnt >> 8 * (port - VPM_PM1A_CNT_BLK));
	case VPM_GPE0_BLK:
	case VPM_GPE0_BLK + 1:
		return p->gpe_sts[port - VPM_GPE0_BLK];
	case VPM_GPE0_BLK + 2:
	case VPM_GPE0_BLK + 3:
		return p->gpe_en[port - VPM_GPE0_BLK - 2];
	}
	if (port >= VPM_PM_TMR_BLK && port < VPM_PM_TMR_BLK + 4) {
		shift = 8 * (port - VPM_PM_TMR_BLK);
		return (uint8_t)(tmr >> shift);
	}
	return 0xFF;
}

/* One byte of a write. Returns the event a PM1_CNT write asked for. */
static enum vpm_event pm_write_byte(struct vpm *p, uint16_t port, uint8_t b)
{
	unsigned shift;
	uint16_t bits;

	switch (port) {
	case VPM_PM1A_EVT_BLK:
	case VPM_PM1A_EVT_BLK + 1:
		shift = 8 * (port - VPM_PM1A_EVT_BLK);
		p->pm1_sts &= (uint16_t)~((b << shift) & PM1_STS_W1C);
		break;
	case VPM_PM1A_EVT_BLK + 2:
	case VPM_PM1A_EVT_BLK + 3:
		shift = 8 * (port - VPM_PM1A_EVT_BLK - 2);
		bits = (uint16_t)(0xFF << shift) & PM1_EN_MASK;
		p->pm1_en = (uint16_t)((p->pm1_en & ~bits) | ((b << shift) & bits));
		break;
	case VPM_PM1A_CNT_BLK:
	case VPM_PM1A_CNT_BLK + 1:
		shift = 8 * (port - VPM_PM1A_CNT_BLK);
		bits = (uint16_t)(0xFF << shift) & PM1_CNT_STORED;
		p->pm1_cnt = (uint16_t)((p->pm1_cnt & ~bits) | ((b << shift) & bits));
		if (((b << shift) & VPM_SLP_EN)) {
			unsigned typ = (p->pm1_cnt >> VPM_SLP_TYP_SHIFT) & 7;

			if (typ == VPM_SLP_TYP_S5)
				return VPM_EV_S5;
			/* No sleep state is offered: wake at once. */
			p->pm1_sts |= VPM_WAK_STS;
			return VPM_EV_SLEEP;
		}
		break;
	case VPM_GPE0_BLK:
	case VPM_GPE0_BLK + 1:
		p->gpe_sts[port - VPM_GPE0_BLK] &= (uint8_t)~b;
		break;
	case VPM_GPE0_BLK + 2:
	case VPM_GPE0_BLK + 3:
		p->gpe_en[port - VPM_GPE0_BLK - 2] = b;
		break;
	default:
		break; /* the PM timer is read-only; holes ignore writes */
	}
	return VPM_EV_NONE;
}

int vpm_io(struct vpm *p, uint16_t port, uint8_t size, bool in, uint32_t *val,
	   uint64_t now_ns, enum vpm_event *ev)
{
	*ev = VPM_EV_NONE;
	if (!pm_port_known(port) || (size != 1 && size != 2 && size != 4)) {
		if (in)
			*val = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
		return pm_port_known(port) ? KEEL_EINVAL : KEEL_ENOENT;
	}
	pm_timer_catch_up(p, now_ns);
	if (in) {
		uint32_t tmr = (uint32_t)p->tmr_last, v = 0;

		for (unsigned i = 0; i < size; i++)
			v |= (uint32_t)pm_read_byte(p, (uint16_t)(port + i), tmr) << 8 * i;
		*val = v;
		return 0;
	}
	for (unsigned i = 0; i < size; i++) {
		enum vpm_event e = pm_write_byte(p, (uint16_t)(port + i),
						 (uint8_t)(*val >> 8 * i));

		if (e != VPM_EV_NONE)
			*ev = e;
	}
	return 0;
}

/* ------------------------------------------------------------ i8042 -- */

#define KBC_STS_OBF 0x01
#define KBC_STS_SYS 0x04
#define KBC_STS_CMD 0x08     /* A2: last write was a command */
#define KBC_STS_UNLOCKED 0x10 /* keyboard not inhibited by the key lock */
#define KBC_STS_TIMEOUT 0x40
#define KBC_CTR_KBD_INT 0x01
#define KBC_CTR_SYS 0x04
#define KBC_CTR_KBD_DIS 0x10
#define KBC_CTR_AUX_DIS 0x20
#define KBC_OUT_NOT_RESET 0x01
#define KBC_NO_DEVICE 0xFE   /* resend / no answer from the device */
#define KBC_SELFTEST_OK 0x55
#define KBC_PORT_TEST_OK 0x00
#define KBC_AUX_CLOCK_HIGH 0x02 /* aux port test: clock stuck high, no device */

static void kbc_queue(struct vkbc *k, uint8_t b, bool timeout)
{
	unsigned slot;

	if (k->q_count == VKBC_QUEUE)
		return; /* the guest reads nothing: the oldest answers stay */
	slot = (k->q_head + k->q_count) % VKBC_QUEUE;
	k->q[slot] = b;
	if (timeout)
		k->q_timeout |= (uint8_t)(1u << slot);
	else
		k->q_timeout &= (uint8_t)~(1u << slot);
	k->q_count++;
}

void vkbc_init(struct vkbc *k)
{
	memset(k, 0, sizeof(*k));
	k->ctr = 0x45;
	k->sys = true;
	k->outport = 0xCF;
}

bool vkbc_irq1_level(const struct vkbc *k)
{
	return k->q_count && (k->ctr & KBC_CTR_KBD_INT);
}

static uint8_t kbc_status(const struct vkbc *k)
{
	uint8_t s = KBC_STS_UNLOCKED;

	if (k->q_count) {
		s |= KBC_STS_OBF;
		if (k->q_timeout & (1u << k->q_head))
			s |= KBC_STS_TIMEOUT;
	}
	if (k->sys)
		s |= KBC_STS_SYS;
	if (k->cmd_last)
		s |= KBC_STS_CMD;
	return s;
}

static uint8_t kbc_read_data(struct vkbc *k)
{
	if (k->q_count) {
		k->last = k->q[k->q_head];
		k->q_head = (uint8_t)((k->q_head + 1) % VKBC_QUEUE);
		k->q_count--;
	}
	return k->last;
}

/* A controller command (port 0x64), from the IBM PS/2 technical reference
 * and what Linux's i8042 driver and reboot code send. */
static void kbc_command(struct vkbc *k, uint8_t cmd, bool *reset)
{
	k->pending = 0;
	switch (cmd) {
	case 0x20: /* read command byte */
		kbc_queue(k, k->ctr, false);
		break;
	case 0x60: /* write command byte: the next data byte */
	case 0xD1: /* write output port */
	case 0xD2: /* write keyboard output buffer */
	case 0xD3: /* write aux output buffer: no aux port here, dropped */
	case 0xD4: /* write to the aux device: none, dropped */
		k->pending = cmd;
		break;
	case 0xA7:
		k->ctr |= KBC_CTR_AUX_DIS;
		break;
	case 0xA8:
		k->ctr &= (uint8_t)~KBC_CTR_AUX_DIS;
		break;
	case 0xA9: /* aux interface test: nothing attached */
		kbc_queue(k, KBC_AUX_CLOCK_HIGH, false);
		break;
	case 0xAA: /* controller self-test */
		k->sys = true;
		kbc_queue(k, KBC_SELFTEST_OK, false);
		break;
	case 0xAB: /* keyboard interface test */
		kbc_queue(k, KBC_PORT_TEST_OK, false);
		break;
	case 0xAD:
		k->ctr |= KBC_CTR_KBD_DIS;
		break;
	case 0xAE:
		k->ctr &= (uint8_t)~KBC_CTR_KBD_DIS;
		break;
	case 0xD0: /* read output port */
		kbc_queue(k, k->outport, false);
		break;
	default:
		/* 0xF0-0xFF pulse output port bits 3:0 low where the command
		 * has a 0; bit 0 is the CPU reset line (0xFE: Linux's
		 * reboot=kbd). Other commands are not implemented. */
		if (cmd >= 0xF0 && !(cmd & 1))
			*reset = true;
		break;
	}
}

static void kbc_data(struct vkbc *k, uint8_t v, bool *reset)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case 0x60:
		k->ctr = v;
		k->sys = v & KBC_CTR_SYS;
		break;
	case 0xD1:
		k->outport = v;
		if (!(v & KBC_OUT_NOT_RESET))
			*reset = true;
		break;
	case 0xD2:
		kbc_queue(k, v, false);
		break;
	case 0xD3:
	case 0xD4:
		break;
	default:
		/* For the keyboard, which is not there. */
		kbc_queue(k, KBC_NO_DEVICE, true);
		break;
	}
}

int vkbc_io(struct vkbc *k, uint16_t port, bool in, uint8_t *val, bool *reset)
{
	*reset = false;
	switch (port) {
	case VKBC_PORT_DATA:
		if (in) {
			*val = kbc_read_data(k);
		} else {
			k->cmd_last = false;
			kbc_data(k, *val, reset);
		}
		return 0;
	case VKBC_PORT_CMD:
		if (in) {
			*val = kbc_status(k);
		} else {
			k->cmd_last = true;
			kbc_command(k, *val, reset);
		}
		return 0;
	}
	if (in)
		*val = 0xFF;
	return KEEL_ENOENT;
}

/* ------------------------------------------------------------ port 0x92 -- */

int vport92_io(uint8_t *reg, bool in, uint8_t *val, bool *reset)
{
	uint8_t old = *reg;

	*reset = false;
	if (in) {
		*val = old;
		return 0;
	}
	*reg = *val;
	/* PS/2 System Control Port A: bit 0 going 0->1 resets the CPU. */
	if (!(old & 1) && (*val & 1))
		*reset = true;
	return 0;
}
