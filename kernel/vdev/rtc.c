/*
 * rtc.c - the MC146818 CMOS RTC as a pure register model (Motorola
 * MC146818A datasheet; DS12887 for the same register set): time from a base
 * plus now_ns, updates at each second boundary of the divider chain with
 * UIP 244 us ahead, periodic / alarm / update-ended flags worked out from
 * the time of each access, and the NVRAM bytes a BIOS leaves.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/vdev/rtc.h"
#include "kernel/wallclock.h"

#define NS_PER_SEC 1000000000ULL
#define RTC_HZ 32768
#define SECS_PER_DAY 86400ULL
#define RTC_A_DV_MASK 0x70
#define RTC_A_RS_MASK 0x0F
#define RTC_B_24H 0x02
#define RTC_C_FLAGS (VRTC_C_PF | VRTC_C_AF | VRTC_C_UF)
#define RTC_D_VRT 0x80
#define RTC_ALARM_SEC 0x01
#define RTC_ALARM_MIN 0x03
#define RTC_ALARM_HOUR 0x05
#define RTC_ALARM_ANY (-1)   /* "don't care": 0xC0-0xFF */
#define RTC_ALARM_NEVER (-2) /* a value no time has */
#define RTC_NO_ALARM UINT64_MAX
/* Divider reset released: the first update comes half a second later. */
#define RTC_FIRST_UPDATE_NS 500000000LL

/* NVRAM layout of the IBM AT and its successors, as QEMU fills it. */
#define CMOS_EQUIPMENT 0x14
#define CMOS_BASE_MEM_LO 0x15
#define CMOS_EXT_MEM_LO 0x17
#define CMOS_CHECKSUM_HI 0x2E
#define CMOS_EXT_MEM2_LO 0x30
#define CMOS_MEM_16M_LO 0x34
#define CMOS_MEM_4G_LO 0x5B
#define CMOS_EQUIP_FPU 0x02

static bool rtc_divider_runs(const struct vrtc *r)
{
	return (r->cmos[VRTC_REG_A] & RTC_A_DV_MASK) == VRTC_A_DV_32K;
}

/* The time registers count only with the divider running and SET clear. */
static bool rtc_running(const struct vrtc *r)
{
	return rtc_divider_runs(r) && !(r->cmos[VRTC_REG_B] & VRTC_B_SET);
}

static bool rtc_is_time_reg(uint8_t idx)
{
	return idx == RTC_SEC || idx == RTC_MIN || idx == RTC_HOUR ||
	       idx == RTC_WDAY || idx == RTC_DAY || idx == RTC_MON ||
	       idx == RTC_YEAR || idx == RTC_CENTURY;
}

/* ns since the divider's reference second boundary. */
static uint64_t rtc_elapsed(const struct vrtc *r, uint64_t now_ns)
{
	int64_t e = (int64_t)now_ns - r->origin_ns;

	return e > 0 ? (uint64_t)e : 0;
}

static uint64_t rtc_ticks(uint64_t ns) /* 32.768 kHz clocks in ns */
{
	return ns / NS_PER_SEC * RTC_HZ + ns % NS_PER_SEC * RTC_HZ / NS_PER_SEC;
}

static uint64_t rtc_tick_ns(uint64_t tick) /* first ns reaching tick */
{
	return tick / RTC_HZ * NS_PER_SEC +
	       (tick % RTC_HZ * NS_PER_SEC + RTC_HZ - 1) / RTC_HZ;
}

/* Periodic interrupt period in 32.768 kHz clocks, from RS (datasheet table
 * 4): 0 none, 1 and 2 as 8 and 9 (256 and 128 Hz), else 2^(RS-1). */
static uint64_t rtc_period_ticks(const struct vrtc *r)
{
	unsigned rs = r->cmos[VRTC_REG_A] & RTC_A_RS_MASK;

	if (!rs)
		return 0;
	if (rs < 3)
		rs += 7;
	return 1ULL << (rs - 1);
}

static uint64_t rtc_now_s(const struct vrtc *r, uint64_t now_ns)
{
	return r->origin_s + rtc_elapsed(r, now_ns) / NS_PER_SEC;
}

/* The chip stops: its time registers keep what they showed, in the format
 * register B had (reg_b). */
static void rtc_freeze(struct vrtc *r, uint64_t now_ns, uint8_t reg_b)
{
	struct rtc_civil c;

	rtc_unix_to_civil(rtc_now_s(r, now_ns), &c);
	/* Writes indexes 0, 2, 4, 6-9: the alarm bytes stay. */
	rtc_encode_time(&c, reg_b, r->cmos, &r->cmos[RTC_CENTURY]);
}

/* The time registers as the guest set them become the base. Out-of-range
 * values count on as well as the arithmetic allows, as on the chip. */
static void rtc_take_regs(struct vrtc *r)
{
	struct rtc_civil c;

	rtc_decode_time(r->cmos, r->cmos[VRTC_REG_B], r->cmos[RTC_CENTURY], &c);
	r->origin_s = rtc_civil_to_unix(c.year, c.mon, c.day, c.hour, c.min, c.sec);
}

/* Move origin_ns to the last second boundary at or before now_ns, so
 * origin_s can be set to the time the registers show now. */
static void rtc_align(struct vrtc *r, uint64_t now_ns)
{
	r->origin_ns += (int64_t)(rtc_elapsed(r, now_ns) / NS_PER_SEC * NS_PER_SEC);
}

/* An alarm byte: a value to match, RTC_ALARM_ANY or RTC_ALARM_NEVER. */
static int rtc_alarm_field(const struct vrtc *r, uint8_t idx, int limit)
{
	uint8_t v = r->cmos[idx], reg_b = r->cmos[VRTC_REG_B];
	bool h12 = idx == RTC_ALARM_HOUR && !(reg_b & RTC_B_24H);
	int x;

	if ((v & 0xC0) == 0xC0)
		return RTC_ALARM_ANY;
	x = rtc_decode_byte(h12 ? v & 0x7F : v, reg_b);
	if (h12) {
		if (x < 1 || x > 12)
			return RTC_ALARM_NEVER;
		x = x % 12 + (v & 0x80 ? 12 : 0);
	}
	return x < 0 || x >= limit ? RTC_ALARM_NEVER : x;
}

/* The first second >= from (Unix) whose time matches the alarm, or
 * RTC_NO_ALARM. Any pattern that can match does so within a day. */
static uint64_t rtc_alarm_next(const struct vrtc *r, uint64_t from)
{
	int hs = rtc_alarm_field(r, RTC_ALARM_HOUR, 24);
	int ms = rtc_alarm_field(r, RTC_ALARM_MIN, 60);
	int ss = rtc_alarm_field(r, RTC_ALARM_SEC, 60);

	if (hs == RTC_ALARM_NEVER || ms == RTC_ALARM_NEVER || ss == RTC_ALARM_NEVER)
		return RTC_NO_ALARM;
	for (uint64_t day = from / SECS_PER_DAY * SECS_PER_DAY;
	     day <= from + SECS_PER_DAY; day += SECS_PER_DAY) {
		for (int h = 0; h < 24; h++) {
			uint64_t th = day + (uint64_t)h * 3600;

			if ((hs >= 0 && h != hs) || th + 3599 < from)
				continue;
			for (int m = 0; m < 60; m++) {
				uint64_t tm = th + (uint64_t)m * 60;

				if ((ms >= 0 && m != ms) || tm + 59 < from)
					continue;
				if (ss < 0)
					return tm >= from ? tm : from;
				if (tm + (uint64_t)ss >= from)
					return tm + (uint64_t)ss;
			}
		}
	}
	return RTC_NO_ALARM;
}

/* Set the flags of whatever happened in (last_ns, now_ns]: PF at each
 * periodic tick of the divider, UF at each update, AF at an update whose new
 * time matches the alarm. Several of one kind are one flag. */
static void rtc_catch_up(struct vrtc *r, uint64_t now_ns)
{
	uint64_t last = r->last_ns;

	if (now_ns <= last)
		return;
	r->last_ns = now_ns;
	if (!rtc_divider_runs(r))
		return;
	uint64_t e0 = rtc_elapsed(r, last), e1 = rtc_elapsed(r, now_ns);
	uint64_t period = rtc_period_ticks(r);
	if (period && rtc_ticks(e1) / period > rtc_ticks(e0) / period)
		r->flags |= VRTC_C_PF;
	if (!rtc_running(r))
		return;
	uint64_t s0 = e0 / NS_PER_SEC, s1 = e1 / NS_PER_SEC;
	if (s1 > s0) {
		r->flags |= VRTC_C_UF;
		if (rtc_alarm_next(r, r->origin_s + s0 + 1) <= r->origin_s + s1)
			r->flags |= VRTC_C_AF;
	}
}

bool vrtc_irq_level(const struct vrtc *r)
{
	uint8_t b = r->cmos[VRTC_REG_B];

	return ((r->flags & VRTC_C_PF) && (b & VRTC_B_PIE)) ||
	       ((r->flags & VRTC_C_AF) && (b & VRTC_B_AIE)) ||
	       ((r->flags & VRTC_C_UF) && (b & VRTC_B_UIE));
}

static uint8_t rtc_read(struct vrtc *r, uint8_t idx, uint64_t now_ns)
{
	uint8_t v;

	if (rtc_is_time_reg(idx) && rtc_running(r)) {
		struct rtc_civil c;
		uint8_t regs[RTC_TIME_REGS], century;

		/* Before an update and during UIP the old second shows: the
		 * update itself is instantaneous at the boundary. */
		rtc_unix_to_civil(rtc_now_s(r, now_ns), &c);
		rtc_encode_time(&c, r->cmos[VRTC_REG_B], regs, &century);
		return idx == RTC_CENTURY ? century : regs[idx];
	}
	switch (idx) {
	case VRTC_REG_A:
		v = r->cmos[VRTC_REG_A] & 0x7F;
		if (rtc_running(r) && rtc_elapsed(r, now_ns) % NS_PER_SEC >=
					      NS_PER_SEC - VRTC_UIP_NS)
			v |= RTC_REG_A_UIP;
		return v;
	case VRTC_REG_C:
		v = r->flags | (vrtc_irq_level(r) ? VRTC_C_IRQF : 0);
		r->flags = 0; /* reading C clears it and lowers IRQ 8 */
		return v;
	case VRTC_REG_D:
		return RTC_D_VRT; /* the battery is always good */
	default:
		return r->cmos[idx];
	}
}

static void rtc_write(struct vrtc *r, uint8_t idx, uint8_t v, uint64_t now_ns)
{
	bool was_running = rtc_running(r);
	bool divider_ran = rtc_divider_runs(r);

	switch (idx) {
	case VRTC_REG_A:
		if (was_running && (v & RTC_A_DV_MASK) != VRTC_A_DV_32K)
			rtc_freeze(r, now_ns, r->cmos[VRTC_REG_B]);
		r->cmos[VRTC_REG_A] = v & 0x7F; /* UIP is read-only */
		if (!divider_ran && rtc_divider_runs(r)) {
			r->origin_ns = (int64_t)now_ns + RTC_FIRST_UPDATE_NS -
				       (int64_t)NS_PER_SEC;
			if (rtc_running(r))
				rtc_take_regs(r);
		}
		break;
	case VRTC_REG_B:
		if (v & VRTC_B_SET)
			v &= (uint8_t)~VRTC_B_UIE; /* datasheet: SET clears UIE */
		if (was_running && (v & VRTC_B_SET))
			rtc_freeze(r, now_ns, r->cmos[VRTC_REG_B]);
		r->cmos[VRTC_REG_B] = v;
		if (!was_running && rtc_running(r)) {
			/* The divider kept counting under SET: the next update
			 * comes at its next second boundary. */
			rtc_align(r, now_ns);
			rtc_take_regs(r);
		}
		break;
	case VRTC_REG_C:
	case VRTC_REG_D:
		break; /* read-only */
	default:
		if (rtc_is_time_reg(idx) && was_running) {
			/* A write while counting: the time jumps, the phase
			 * within the second stays. */
			rtc_freeze(r, now_ns, r->cmos[VRTC_REG_B]);
			r->cmos[idx] = v;
			rtc_align(r, now_ns);
			rtc_take_regs(r);
			break;
		}
		r->cmos[idx] = v;
		break;
	}
}

int vrtc_io(struct vrtc *r, uint16_t port, bool in, uint8_t *val, uint64_t now_ns)
{
	if (port != VRTC_PORT_INDEX && port != VRTC_PORT_DATA) {
		if (in)
			*val = 0xFF;
		return KEEL_ENOENT;
	}
	rtc_catch_up(r, now_ns);
	if (port == VRTC_PORT_INDEX) {
		if (in) {
			*val = 0xFF; /* write-only on the PIIX/ICH */
		} else {
			r->index = *val & 0x7F;
			r->nmi_masked = *val & 0x80;
		}
		return 0;
	}
	if (in)
		*val = rtc_read(r, r->index, now_ns);
	else
		rtc_write(r, r->index, *val, now_ns);
	return 0;
}

static uint64_t rtc_min_time(uint64_t a, uint64_t b)
{
	return !a || (b && b < a) ? b : a;
}

uint64_t vrtc_poll(struct vrtc *r, uint64_t now_ns)
{
	uint8_t b = r->cmos[VRTC_REG_B];
	uint64_t next = 0;

	rtc_catch_up(r, now_ns);
	if (vrtc_irq_level(r) || !rtc_divider_runs(r))
		return 0;
	uint64_t e = rtc_elapsed(r, now_ns);
	uint64_t period = rtc_period_ticks(r);
	if ((b & VRTC_B_PIE) && period) {
		uint64_t t = (rtc_ticks(e) / period + 1) * period;

		next = rtc_min_time(next, (uint64_t)r->origin_ns + rtc_tick_ns(t));
	}
	if (!rtc_running(r))
		return next;
	if (b & VRTC_B_UIE)
		next = rtc_min_time(next, (uint64_t)r->origin_ns +
						  (e / NS_PER_SEC + 1) * NS_PER_SEC);
	if (b & VRTC_B_AIE) {
		uint64_t s = rtc_alarm_next(r, rtc_now_s(r, now_ns) + 1);

		if (s != RTC_NO_ALARM)
			next = rtc_min_time(next, (uint64_t)r->origin_ns +
							  (s - r->origin_s) * NS_PER_SEC);
	}
	return next;
}

static void rtc_checksum(struct vrtc *r)
{
	unsigned sum = 0;

	/* IBM AT: the word at 0x2E is the sum of 0x10-0x2D, high byte first. */
	for (unsigned i = 0x10; i < CMOS_CHECKSUM_HI; i++)
		sum += r->cmos[i];
	r->cmos[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
	r->cmos[CMOS_CHECKSUM_HI + 1] = (uint8_t)sum;
}

static void rtc_set16(struct vrtc *r, uint8_t idx, uint64_t v)
{
	if (v > 0xFFFF)
		v = 0xFFFF;
	r->cmos[idx] = (uint8_t)v;
	r->cmos[idx + 1] = (uint8_t)(v >> 8);
}

void vrtc_cmos_set(struct vrtc *r, uint8_t index, uint8_t val)
{
	if (index < 0x0E || index >= VRTC_CMOS_SIZE)
		return;
	r->cmos[index] = val;
	if (index >= 0x10 && index < CMOS_CHECKSUM_HI)
		rtc_checksum(r);
}

void vrtc_init(struct vrtc *r, uint64_t epoch_s, uint64_t now_ns,
	       uint64_t mem_below_4g, uint64_t mem_above_4g)
{
	const uint64_t kib = 1024, mib = 1024 * 1024, k64 = 64 * 1024;
	struct rtc_civil c;

	memset(r, 0, sizeof(*r));
	r->cmos[VRTC_REG_A] = VRTC_A_DV_32K | 0x06; /* 1024 Hz, as BIOSes set */
	r->cmos[VRTC_REG_B] = RTC_B_24H;
	r->origin_ns = (int64_t)now_ns;
	r->origin_s = epoch_s;
	r->last_ns = now_ns;

	/* QEMU hw/i386/pc.c pc_cmos_init, which SeaBIOS reads: base memory in
	 * KiB (at most 640), memory from 1 MiB in KiB (0x17 and 0x30, at most
	 * 65535), from 16 MiB in 64 KiB units (at most 65535), above 4 GiB
	 * in 64 KiB units (24 bits). */
	uint64_t base = mem_below_4g / kib < 640 ? mem_below_4g / kib : 640;
	rtc_set16(r, CMOS_BASE_MEM_LO, base);
	uint64_t ext = mem_below_4g > mib ? (mem_below_4g - mib) / kib : 0;
	rtc_set16(r, CMOS_EXT_MEM_LO, ext);
	rtc_set16(r, CMOS_EXT_MEM2_LO, ext);
	rtc_set16(r, CMOS_MEM_16M_LO,
		  mem_below_4g > 16 * mib ? (mem_below_4g - 16 * mib) / k64 : 0);
	uint64_t hi = mem_above_4g / k64;
	if (hi > 0xFFFFFF)
		hi = 0xFFFFFF;
	r->cmos[CMOS_MEM_4G_LO] = (uint8_t)hi;
	r->cmos[CMOS_MEM_4G_LO + 1] = (uint8_t)(hi >> 8);
	r->cmos[CMOS_MEM_4G_LO + 2] = (uint8_t)(hi >> 16);
	/* Equipment: a math coprocessor, no floppy, EGA/VGA (bits 5:4 = 0),
	 * no PS/2 mouse (none is behind the i8042). */
	r->cmos[CMOS_EQUIPMENT] = CMOS_EQUIP_FPU;
	rtc_checksum(r);

	/* The stopped-clock copy of the time registers, for a dump. */
	rtc_unix_to_civil(epoch_s, &c);
	rtc_encode_time(&c, r->cmos[VRTC_REG_B], r->cmos, &r->cmos[RTC_CENTURY]);
}
