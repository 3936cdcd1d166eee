/*
 * test_pcdev.c - the PC platform devices a Linux guest needs (i8254 PIT,
 * MC146818 RTC, 16550A UART, ACPI PM / i8042 / port 0x92, PCI host bridge)
 * and the host wall clock's CMOS reader, on the host: the code that ships,
 * checked against values worked out from the datasheets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/err.h"
#include "kernel/vdev/pci.h"
#include "kernel/vdev/pit.h"
#include "kernel/vdev/pm.h"
#include "kernel/vdev/rtc.h"
#include "kernel/vdev/uart.h"
#include "kernel/wallclock.h"

#define SEC 1000000000ULL
#define PIT_BASE (5 * SEC) /* whole seconds: PIT tick 5 * 1193182 */

/* The first ns at which t PIT clocks have passed since PIT_BASE. */
static uint64_t pit_at(uint64_t t)
{
	return PIT_BASE + (t * SEC + VPIT_HZ - 1) / VPIT_HZ;
}

static void pit_out(struct vpit *p, uint16_t port, uint8_t v, uint64_t t)
{
	assert_int_equal(vpit_io(p, port, false, &v, pit_at(t)), 0);
}

static uint8_t pit_in(struct vpit *p, uint16_t port, uint64_t t)
{
	uint8_t v = 0;

	assert_int_equal(vpit_io(p, port, true, &v, pit_at(t)), 0);
	return v;
}

/* Counter latch, then the two bytes of an LSB-then-MSB channel. */
static unsigned pit_latched(struct vpit *p, unsigned ch, uint64_t t)
{
	pit_out(p, 0x43, (uint8_t)(ch << 6), t);
	unsigned lo = pit_in(p, 0x40 + ch, t);
	return lo | pit_in(p, 0x40 + ch, t) << 8;
}

static bool pit_out2(struct vpit *p, uint64_t t)
{
	return pit_in(p, 0x61, t) & 0x20;
}

static void pit_setup(struct vpit *p, uint8_t ctrl, unsigned count, uint64_t t)
{
	unsigned ch = ctrl >> 6;

	vpit_init(p, PIT_BASE);
	if (ch == 2)
		pit_out(p, 0x61, 0x01, 0); /* gate 2 on, speaker off */
	pit_out(p, 0x43, ctrl, t);
	pit_out(p, 0x40 + ch, (uint8_t)count, t);
	pit_out(p, 0x40 + ch, (uint8_t)(count >> 8), t);
}

/* ----------------------------------------------------------------- PIT -- */

static void test_pit_mode0_count_and_out2(void **state)
{
	struct vpit p;

	/* pit_calibrate_tsc: channel 2, mode 0, gate on, wait for OUT2. */
	pit_setup(&p, 0xB0, 4096, 0);
	assert_false(pit_out2(&p, 0));
	assert_int_equal(pit_latched(&p, 2, 1000), 4096 - 1000);
	assert_false(pit_out2(&p, 4095));
	assert_true(pit_out2(&p, 4096)); /* terminal count */
	/* The counter wraps through 0xFFFF and goes on; OUT stays high. */
	assert_int_equal(pit_latched(&p, 2, 4096 + 10), 0x10000 - 10);
	assert_true(pit_out2(&p, 9000));
}

static void test_pit_mode0_gate_holds(void **state)
{
	struct vpit p;

	pit_setup(&p, 0xB0, 4096, 0);
	pit_out(&p, 0x61, 0x00, 100); /* gate low at 100: count holds */
	assert_int_equal(pit_latched(&p, 2, 500), 4096 - 100);
	pit_out(&p, 0x61, 0x01, 600);
	assert_int_equal(pit_latched(&p, 2, 700), 4096 - 200);
	assert_false(pit_out2(&p, 4095 + 500));
	assert_true(pit_out2(&p, 4096 + 500));
}

static void test_pit_mode0_first_byte_stops(void **state)
{
	struct vpit p;

	pit_setup(&p, 0xB0, 100, 0);
	assert_true(pit_out2(&p, 150));
	/* Mode 0: writing the first byte of a new count sets OUT low at once
	 * and stops counting; the second byte starts the new count. */
	pit_out(&p, 0x42, 50, 200);
	assert_false(pit_out2(&p, 300));
	pit_out(&p, 0x42, 0, 400);
	assert_false(pit_out2(&p, 449));
	assert_true(pit_out2(&p, 450));
}

static void test_pit_quick_calibrate_msb(void **state)
{
	struct vpit p;

	/* quick_pit_calibrate: count 0xFFFF, read LSB then MSB unlatched;
	 * the MSB steps down every 256 clocks. */
	pit_setup(&p, 0xB0, 0xFFFF, 0);
	for (unsigned k = 0; k < 8; k++) {
		uint64_t t = 256 * k + 5;

		assert_int_equal(pit_in(&p, 0x42, t), (uint8_t)(0xFFFF - t));
		assert_int_equal(pit_in(&p, 0x42, t), (0xFFFF - t) >> 8);
	}
}

static void test_pit_lobyte_hibyte_modes(void **state)
{
	struct vpit p;

	vpit_init(&p, PIT_BASE);
	pit_out(&p, 0x43, 0x14, 0); /* channel 0, LSB only, mode 2 */
	pit_out(&p, 0x40, 80, 0);
	assert_int_equal(pit_in(&p, 0x40, 10), 70);
	assert_int_equal(pit_in(&p, 0x40, 11), 69); /* no flip-flop: LSB again */
	pit_out(&p, 0x43, 0x24, 20); /* MSB only */
	pit_out(&p, 0x40, 0x02, 20); /* count 0x200 */
	assert_int_equal(pit_in(&p, 0x40, 20 + 12), (512 - 12) >> 8);
	assert_int_equal(pit_in(&p, 0x40, 20 + 300), (512 - 300) >> 8);
}

static void test_pit_lohi_flip_flops(void **state)
{
	struct vpit p;

	pit_setup(&p, 0x30, 0x1234, 0); /* channel 0, mode 0 */
	/* Unlatched: LSB, MSB, LSB, ... of the count at each read. */
	assert_int_equal(pit_in(&p, 0x40, 0x34), 0x00); /* 0x1234 - 0x34 */
	assert_int_equal(pit_in(&p, 0x40, 0x34), 0x12);
	assert_int_equal(pit_in(&p, 0x40, 0x35), 0xFF); /* 0x11FF */
	/* A control word resets the read flip-flop to the LSB. */
	pit_out(&p, 0x43, 0x30, 0x40);
	pit_out(&p, 0x40, 0x00, 0x40);
	pit_out(&p, 0x40, 0x10, 0x40);
	assert_int_equal(pit_in(&p, 0x40, 0x41), 0xFF); /* 0x0FFF */
	assert_int_equal(pit_in(&p, 0x40, 0x41), 0x0F);
}

static void test_pit_counter_latch(void **state)
{
	struct vpit p;

	pit_setup(&p, 0x30, 10000, 0);
	pit_out(&p, 0x43, 0x00, 100); /* latch channel 0 at 100 */
	pit_out(&p, 0x43, 0x00, 200); /* ignored: the first is unread */
	assert_int_equal(pit_in(&p, 0x40, 300), (10000 - 100) & 0xFF);
	assert_int_equal(pit_in(&p, 0x40, 400), (10000 - 100) >> 8);
	/* Read out: the next reads follow the counter again. */
	assert_int_equal(pit_in(&p, 0x40, 500), (10000 - 500) & 0xFF);
	assert_int_equal(pit_in(&p, 0x40, 500), (10000 - 500) >> 8);
}

static void test_pit_readback(void **state)
{
	struct vpit p;

	vpit_init(&p, PIT_BASE);
	pit_out(&p, 0x61, 0x01, 0);
	pit_out(&p, 0x43, 0xB0, 0); /* channel 2, LSB/MSB, mode 0 */
	pit_out(&p, 0x43, 0xE8, 0); /* read-back: status of counter 2 */
	assert_int_equal(pit_in(&p, 0x42, 0), 0x70); /* OUT 0, NULL COUNT, 0x30 */
	pit_out(&p, 0x42, 100, 0);
	pit_out(&p, 0x42, 0, 0);
	pit_out(&p, 0x43, 0xE8, 10);
	assert_int_equal(pit_in(&p, 0x42, 10), 0x30); /* count loaded */
	/* Status and count together: status first, then LSB, MSB. */
	pit_out(&p, 0x43, 0xC8, 150);
	assert_int_equal(pit_in(&p, 0x42, 160), 0xB0); /* OUT high */
	assert_int_equal(pit_in(&p, 0x42, 170), (uint8_t)(100 - 150));
	assert_int_equal(pit_in(&p, 0x42, 180), 0xFF);
	/* Count only, for channels 0 and 2 at once. */
	pit_out(&p, 0x43, 0xDA, 200);
	assert_int_equal(pit_in(&p, 0x42, 300), (uint8_t)(100 - 200));
	assert_int_equal(pit_in(&p, 0x42, 300), 0xFF);
	unsigned lo = pit_in(&p, 0x40, 300);
	assert_int_equal(lo | pit_in(&p, 0x40, 300) << 8, 0x10000 - 2 * 200); /* mode 3 */
}

static void test_pit_mode2_edges_and_next(void **state)
{
	struct vpit p;
	bool edge;

	/* Linux's periodic clockevent: 0x34, LATCH = 1193 for HZ=1000. */
	vpit_init(&p, PIT_BASE);
	assert_int_equal(vpit_poll(&p, pit_at(0), &edge), pit_at(0x10000));
	pit_setup(&p, 0x34, 1193, 0);
	assert_int_equal(vpit_poll(&p, pit_at(0), &edge), pit_at(1193));
	assert_false(edge);
	assert_int_equal(vpit_poll(&p, pit_at(1192), &edge), pit_at(1193));
	assert_false(edge);
	assert_int_equal(vpit_poll(&p, pit_at(1193), &edge), pit_at(2 * 1193));
	assert_true(edge);
	/* Four periods missed: one edge, the next one scheduled. */
	assert_int_equal(vpit_poll(&p, pit_at(5000), &edge), pit_at(5 * 1193));
	assert_true(edge);
	vpit_poll(&p, pit_at(5000), &edge);
	assert_false(edge);
	assert_int_equal(pit_latched(&p, 0, 1193 + 10), 1183);
	/* OUT is low for the one clock at count 1. */
	pit_out(&p, 0x43, 0xE2, 2 * 1193 - 1);
	assert_int_equal(pit_in(&p, 0x40, 2 * 1193 - 1) & 0x80, 0);
	pit_out(&p, 0x43, 0xE2, 2 * 1193);
	assert_int_equal(pit_in(&p, 0x40, 2 * 1193) & 0x80, 0x80);
}

static void test_pit_mode2_new_count_at_period_end(void **state)
{
	struct vpit p;
	bool edge;

	pit_setup(&p, 0x34, 1000, 0);
	vpit_poll(&p, pit_at(2500), &edge);
	/* A count alone (no control word) waits for the reload at 3000. */
	pit_out(&p, 0x40, 300 & 0xFF, 2500);
	pit_out(&p, 0x40, 300 >> 8, 2500);
	assert_int_equal(vpit_poll(&p, pit_at(2500), &edge), pit_at(3000));
	assert_int_equal(pit_latched(&p, 0, 2600), 400);
	assert_int_equal(vpit_poll(&p, pit_at(3000), &edge), pit_at(3300));
	assert_true(edge);
	assert_int_equal(pit_latched(&p, 0, 3100), 200);
}

static void test_pit_mode2_reprogram_restarts(void **state)
{
	struct vpit p;
	bool edge;

	pit_setup(&p, 0x34, 1000, 0);
	vpit_poll(&p, pit_at(2500), &edge);
	/* Control word and count: the new count runs from the write. */
	pit_out(&p, 0x43, 0x34, 2500);
	assert_int_equal(vpit_poll(&p, pit_at(2500), &edge), 0); /* stopped */
	pit_out(&p, 0x40, 300 & 0xFF, 2500);
	pit_out(&p, 0x40, 300 >> 8, 2500);
	assert_int_equal(vpit_poll(&p, pit_at(2500), &edge), pit_at(2800));
	assert_false(edge);
	assert_int_equal(pit_latched(&p, 0, 2600), 200);
}

static void test_pit_mode3_square_wave(void **state)
{
	struct vpit p;

	pit_setup(&p, 0xB6, 100, 0); /* channel 2, mode 3, count 100 */
	assert_true(pit_out2(&p, 0));
	assert_true(pit_out2(&p, 49));
	assert_false(pit_out2(&p, 50));
	assert_false(pit_out2(&p, 99));
	assert_true(pit_out2(&p, 100));
	assert_int_equal(pit_latched(&p, 2, 110), 80); /* counts by two */
	/* Gate low: OUT high at once, counting stops; the rising edge of the
	 * gate reloads. */
	pit_out(&p, 0x61, 0x00, 160);
	assert_true(pit_out2(&p, 170));
	pit_out(&p, 0x61, 0x01, 1000);
	assert_false(pit_out2(&p, 1050));
	assert_true(pit_out2(&p, 1100));
}

static void test_pit_mode4_oneshot(void **state)
{
	struct vpit p;
	bool edge;

	/* Linux's oneshot clockevent: 0x38 (mode 4), then counts only. */
	vpit_init(&p, PIT_BASE);
	pit_out(&p, 0x43, 0x38, 0);
	assert_int_equal(vpit_poll(&p, pit_at(0), &edge), 0);
	pit_out(&p, 0x40, 100, 10);
	pit_out(&p, 0x40, 0, 10);
	/* OUT low for the clock at count 0 (110), high again at 111. */
	assert_int_equal(vpit_poll(&p, pit_at(110), &edge), pit_at(111));
	assert_false(edge);
	assert_int_equal(vpit_poll(&p, pit_at(111), &edge), 0);
	assert_true(edge);
	/* A new count re-arms. */
	pit_out(&p, 0x40, 50, 200);
	pit_out(&p, 0x40, 0, 200);
	assert_int_equal(vpit_poll(&p, pit_at(200), &edge), pit_at(251));
}

static void test_pit_mode0_irq0(void **state)
{
	struct vpit p;
	bool edge;

	pit_setup(&p, 0x30, 500, 0);
	assert_int_equal(vpit_poll(&p, pit_at(499), &edge), pit_at(500));
	assert_false(edge);
	assert_int_equal(vpit_poll(&p, pit_at(600), &edge), 0);
	assert_true(edge);
	vpit_poll(&p, pit_at(70000), &edge); /* no more edges after a wrap */
	assert_false(edge);
}

static void test_pit_edge_kept_across_reprogram(void **state)
{
	struct vpit p;
	bool edge;

	vpit_init(&p, PIT_BASE);
	pit_out(&p, 0x43, 0x38, 0);
	pit_out(&p, 0x40, 100, 0);
	pit_out(&p, 0x40, 0, 0);
	/* The deadline passes unpolled, then the guest arms the next one. */
	pit_out(&p, 0x40, 100, 200);
	pit_out(&p, 0x40, 0, 200);
	assert_int_equal(vpit_poll(&p, pit_at(210), &edge), pit_at(301));
	assert_true(edge);
}

static void test_pit_mode1_gate_trigger(void **state)
{
	struct vpit p;

	vpit_init(&p, PIT_BASE);
	pit_out(&p, 0x43, 0xB2, 0); /* channel 2, mode 1 */
	pit_out(&p, 0x42, 50, 0);
	pit_out(&p, 0x42, 0, 0);
	assert_true(pit_out2(&p, 5)); /* waits for the trigger */
	pit_out(&p, 0x43, 0xE8, 5);
	assert_int_equal(pit_in(&p, 0x42, 5), 0x80 | 0x40 | 0x32);
	pit_out(&p, 0x61, 0x01, 10); /* gate rising edge */
	assert_false(pit_out2(&p, 11));
	assert_int_equal(pit_latched(&p, 2, 20), 40);
	assert_false(pit_out2(&p, 59));
	assert_true(pit_out2(&p, 60));
}

static void test_pit_port61_bits(void **state)
{
	struct vpit p;
	uint8_t a, b;

	vpit_init(&p, PIT_BASE);
	pit_out(&p, 0x61, 0xFF, 0);
	a = pit_in(&p, 0x61, 0);
	b = pit_in(&p, 0x61, 0);
	assert_int_equal(a & 0x0F, 0x0F); /* gate, speaker, check enables */
	assert_int_equal(a & 0xC0, 0);	   /* no NMI sources */
	assert_int_not_equal(a & 0x10, b & 0x10); /* refresh toggles */
	uint8_t v = 0;
	assert_int_equal(vpit_io(&p, 0x44, true, &v, pit_at(0)), KEEL_ENOENT);
	assert_int_equal(v, 0xFF);
}

/* ----------------------------------------------------------------- RTC -- */

#define RTC_T0 (10 * SEC)
#define LEAP_EVE 1709164798ULL /* 2024-02-28 23:59:58 UTC, a Wednesday */

static uint8_t rtc_rd(struct vrtc *r, uint8_t idx, uint64_t now)
{
	uint8_t v = idx;

	assert_int_equal(vrtc_io(r, 0x70, false, &v, now), 0);
	assert_int_equal(vrtc_io(r, 0x71, true, &v, now), 0);
	return v;
}

static void rtc_wr(struct vrtc *r, uint8_t idx, uint8_t v, uint64_t now)
{
	assert_int_equal(vrtc_io(r, 0x70, false, &idx, now), 0);
	assert_int_equal(vrtc_io(r, 0x71, false, &v, now), 0);
}

static void rtc_expect(struct vrtc *r, uint64_t now, const uint8_t want[8])
{
	static const uint8_t idx[8] = {0, 2, 4, 6, 7, 8, 9, 0x32};

	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(rtc_rd(r, idx[i], now), want[i]);
}

static void test_rtc_civil_conversion(void **state)
{
	struct rtc_civil c;

	assert_int_equal(rtc_civil_to_unix(1970, 1, 1, 0, 0, 0), 0);
	assert_int_equal(rtc_civil_to_unix(2000, 2, 29, 0, 0, 0), 951782400);
	assert_int_equal(rtc_civil_to_unix(2024, 2, 28, 23, 59, 58), LEAP_EVE);
	assert_int_equal(rtc_civil_to_unix(2038, 1, 19, 3, 14, 8), 2147483648ULL);
	assert_int_equal(rtc_civil_to_unix(2099, 12, 31, 23, 59, 59), 4102444799ULL);
	assert_int_equal(rtc_civil_to_unix(1969, 12, 31, 0, 0, 0), 0); /* clamped */
	rtc_unix_to_civil(0, &c);
	assert_int_equal(c.year, 1970);
	assert_int_equal(c.wday, 4); /* Thursday */
	rtc_unix_to_civil(4107542400ULL, &c); /* 2100 is not a leap year */
	assert_int_equal(c.year, 2100);
	assert_int_equal(c.mon, 3);
	assert_int_equal(c.day, 1);
	rtc_unix_to_civil(LEAP_EVE + 2, &c);
	assert_int_equal(c.mon, 2);
	assert_int_equal(c.day, 29);
	assert_int_equal(c.wday, 4);
	/* Every day from 1970 to 2101 follows the last, both ways. */
	struct rtc_civil prev;
	rtc_unix_to_civil(0, &prev);
	for (uint64_t t = 86400; t < 4133980800ULL; t += 86400) {
		rtc_unix_to_civil(t + 3723, &c);
		assert_int_equal(c.hour * 3600 + c.min * 60 + c.sec, 3723);
		if (c.day == 1) {
			assert_int_equal(prev.day, rtc_days_in_month(prev.year, prev.mon));
			assert_int_equal(c.mon, prev.mon % 12 + 1);
		} else {
			assert_int_equal(c.day, prev.day + 1);
		}
		assert_int_equal(c.wday, (prev.wday + 1) % 7);
		assert_int_equal(rtc_civil_to_unix(c.year, c.mon, c.day, 1, 2, 3), t + 3723);
		prev = c;
	}
}

static void test_rtc_leap_years(void **state)
{
	assert_false(rtc_leap_year(1900));
	assert_true(rtc_leap_year(2000));
	assert_true(rtc_leap_year(2024));
	assert_false(rtc_leap_year(2023));
	assert_false(rtc_leap_year(2100));
	assert_int_equal(rtc_days_in_month(2024, 2), 29);
	assert_int_equal(rtc_days_in_month(2023, 2), 28);
	assert_int_equal(rtc_days_in_month(2023, 4), 30);
	assert_int_equal(rtc_days_in_month(2023, 13), 0);
}

static void test_rtc_bcd_and_leap_day_rollover(void **state)
{
	struct vrtc r;

	vrtc_init(&r, LEAP_EVE, RTC_T0, 512 << 20, 0);
	assert_int_equal(rtc_rd(&r, 0x0B, RTC_T0), 0x02); /* 24h, BCD */
	rtc_expect(&r, RTC_T0, (const uint8_t[]){0x58, 0x59, 0x23, 4, 0x28, 0x02, 0x24, 0x20});
	rtc_expect(&r, RTC_T0 + 2 * SEC - 1,
		   (const uint8_t[]){0x59, 0x59, 0x23, 4, 0x28, 0x02, 0x24, 0x20});
	rtc_expect(&r, RTC_T0 + 2 * SEC,
		   (const uint8_t[]){0x00, 0x00, 0x00, 5, 0x29, 0x02, 0x24, 0x20});
	rtc_expect(&r, RTC_T0 + (2 + 86400) * SEC,
		   (const uint8_t[]){0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20});
}

static void test_rtc_binary_and_12h(void **state)
{
	struct vrtc r;

	vrtc_init(&r, LEAP_EVE, RTC_T0, 512 << 20, 0);
	rtc_wr(&r, 0x0B, 0x04, RTC_T0); /* binary, 12-hour */
	rtc_expect(&r, RTC_T0, (const uint8_t[]){58, 59, 0x80 | 11, 4, 28, 2, 24, 20});
	assert_int_equal(rtc_rd(&r, 4, RTC_T0 + 2 * SEC), 12); /* midnight: 12 AM */
	assert_int_equal(rtc_rd(&r, 4, RTC_T0 + (2 + 3600) * SEC), 1);
	assert_int_equal(rtc_rd(&r, 4, RTC_T0 + (2 + 12 * 3600) * SEC), 0x80 | 12);
	rtc_wr(&r, 0x0B, 0x00, RTC_T0); /* BCD, 12-hour */
	assert_int_equal(rtc_rd(&r, 4, RTC_T0), 0x80 | 0x11);
	assert_int_equal(rtc_rd(&r, 4, RTC_T0 + (2 + 12 * 3600) * SEC), 0x80 | 0x12);
}

static void test_rtc_set_changes_time(void **state)
{
	struct vrtc r;

	vrtc_init(&r, LEAP_EVE, RTC_T0, 512 << 20, 0);
	rtc_wr(&r, 0x0B, 0x92, RTC_T0 + 300000000); /* SET (and UIE) */
	assert_int_equal(rtc_rd(&r, 0x0B, RTC_T0 + 300000000), 0x82); /* SET clears UIE */
	rtc_wr(&r, 0, 0x30, RTC_T0 + 400000000);
	rtc_wr(&r, 2, 0x15, RTC_T0 + 400000000);
	rtc_wr(&r, 4, 0x10, RTC_T0 + 400000000);
	rtc_wr(&r, 7, 0x01, RTC_T0 + 400000000);
	rtc_wr(&r, 8, 0x07, RTC_T0 + 400000000);
	rtc_wr(&r, 9, 0x25, RTC_T0 + 400000000);
	/* Frozen while SET. */
	assert_int_equal(rtc_rd(&r, 0, RTC_T0 + 2 * SEC), 0x30);
	assert_int_equal(rtc_rd(&r, 0x0A, RTC_T0 + 2 * SEC - 1000) & 0x80, 0); /* no UIP */
	rtc_wr(&r, 0x0B, 0x02, RTC_T0 + 2 * SEC + 600000000);
	/* The divider ran on: the next update is at its next boundary. */
	assert_int_equal(rtc_rd(&r, 0, RTC_T0 + 3 * SEC - 1), 0x30);
	rtc_expect(&r, RTC_T0 + 3 * SEC,
		   (const uint8_t[]){0x31, 0x15, 0x10, 3, 0x01, 0x07, 0x25, 0x20});
	/* 2025-07-01 was a Tuesday (3); the base moved with the registers. */
	assert_int_equal(r.origin_s + (3 * SEC + RTC_T0 - (uint64_t)r.origin_ns) / SEC,
			 1751364931ULL);
}

static void test_rtc_linux_set_time_divider_reset(void **state)
{
	struct vrtc r;

	/* mc146818_set_time: SET, divider reset (A |= 0x70), registers,
	 * then B and A restored: the first update comes 500 ms later. */
	vrtc_init(&r, LEAP_EVE, RTC_T0, 512 << 20, 0);
	uint64_t t = RTC_T0 + 250000000;
	rtc_wr(&r, 0x0B, 0x82, t);
	rtc_wr(&r, 0x0A, 0x76, t);
	rtc_wr(&r, 0, 0x00, t);
	rtc_wr(&r, 2, 0x00, t);
	rtc_wr(&r, 4, 0x12, t);
	rtc_wr(&r, 0x0B, 0x02, t);
	assert_int_equal(rtc_rd(&r, 0, t + 5 * SEC), 0x00); /* divider stopped */
	rtc_wr(&r, 0x0A, 0x26, t + 5 * SEC);
	assert_int_equal(rtc_rd(&r, 0, t + 5 * SEC + 499999999), 0x00);
	assert_int_equal(rtc_rd(&r, 0, t + 5 * SEC + 500000000), 0x01);
	assert_int_equal(rtc_rd(&r, 4, t + 5 * SEC + 500000000), 0x12);
}

static void test_rtc_uip_window(void **state)
{
	struct vrtc r;

	vrtc_init(&r, LEAP_EVE, RTC_T0, 512 << 20, 0);
	assert_int_equal(rtc_rd(&r, 0x0A, RTC_T0), 0x26);
	assert_int_equal(rtc_rd(&r, 0x0A, RTC_T0 + SEC - 244001), 0x26);
	assert_int_equal(rtc_rd(&r, 0x0A, RTC_T0 + SEC - 244000), 0xA6);
	assert_int_equal(rtc_rd(&r, 0x0A, RTC_T0 + SEC - 1), 0xA6);
	/* During UIP the registers still show the old second. */
	assert_int_equal(rtc_rd(&r, 0, RTC_T0 + SEC - 1), 0x58);
	assert_int_equal(rtc_rd(&r, 0x0A, RTC_T0 + SEC), 0x26);
	assert_int_equal(rtc_rd(&r, 0, RTC_T0 + SEC), 0x59);
	rtc_wr(&r, 0x0A, 0xA6, RTC_T0 + SEC); /* UIP is read-only */
	assert_int_equal(rtc_rd(&r, 0x0A, RTC_T0 + SEC), 0x26);
}

static void test_rtc_periodic_flag(void **state)
{
	struct vrtc r;

	vrtc_init(&r, LEAP_EVE, RTC_T0, 512 << 20, 0);
	assert_int_equal(vrtc_poll(&r, RTC_T0), 0); /* nothing enabled */
	rtc_wr(&r, 0x0B, 0x42, RTC_T0); /* PIE; A = 0x26: 1024 Hz */
	assert_int_equal(vrtc_poll(&r, RTC_T0), RTC_T0 + 976563); /* 976562.5 ns */
	assert_false(vrtc_irq_level(&r));
	assert_int_equal(vrtc_poll(&r, RTC_T0 + 976562), RTC_T0 + 976563);
	assert_false(vrtc_irq_level(&r));
	assert_int_equal(vrtc_poll(&r, RTC_T0 + 976563), 0); /* line high */
	assert_true(vrtc_irq_level(&r));
	assert_int_equal(rtc_rd(&r, 0x0C, RTC_T0 + 976563), 0xC0); /* IRQF | PF */
	assert_false(vrtc_irq_level(&r));
	assert_int_equal(rtc_rd(&r, 0x0C, RTC_T0 + 976563), 0x00);
	assert_int_equal(vrtc_poll(&r, RTC_T0 + 976563), RTC_T0 + 1953125);
	/* RS = 3: 8192 Hz; RS = 15: 2 Hz. */
	assert_int_equal(vrtc_poll(&r, RTC_T0 + SEC), 0); /* PF again: high */
	assert_int_equal(rtc_rd(&r, 0x0C, RTC_T0 + SEC), 0xD0); /* and an update */
	rtc_wr(&r, 0x0A, 0x23, RTC_T0 + SEC);
	assert_int_equal(vrtc_poll(&r, RTC_T0 + SEC), RTC_T0 + SEC + 122071);
	rtc_wr(&r, 0x0A, 0x2F, RTC_T0 + SEC);
	assert_int_equal(vrtc_poll(&r, RTC_T0 + SEC), RTC_T0 + SEC + 500000000);
	/* RS = 1 and 2 are 256 and 128 Hz with a 32.768 kHz time base. */
	rtc_wr(&r, 0x0A, 0x21, RTC_T0 + SEC);
	assert_int_equal(vrtc_poll(&r, RTC_T0 + SEC), RTC_T0 + SEC + 3906250);
	rtc_wr(&r, 0x0A, 0x22, RTC_T0 + SEC);
	assert_int_equal(vrtc_poll(&r, RTC_T0 + SEC), RTC_T0 + SEC + 7812500);
	rtc_wr(&r, 0x0A, 0x2F, RTC_T0 + SEC);
	/* PF is set without PIE too, but then IRQF is not. */
	rtc_rd(&r, 0x0C, RTC_T0 + SEC);
	rtc_wr(&r, 0x0B, 0x02, RTC_T0 + SEC);
	/* PF and UF; AF too: the alarm bytes are 00:00:00 from reset and the
	 * clock passed midnight at T0 + 2 s. */
	assert_int_equal(rtc_rd(&r, 0x0C, RTC_T0 + 2 * SEC), 0x70);
}

static void test_rtc_update_flag(void **state)
{
	struct vrtc r;

	vrtc_init(&r, LEAP_EVE, RTC_T0, 512 << 20, 0);
	rtc_wr(&r, 0x0A, 0x20, RTC_T0); /* no periodic rate */
	rtc_wr(&r, 0x0B, 0x12, RTC_T0); /* UIE */
	assert_int_equal(vrtc_poll(&r, RTC_T0 + 5), RTC_T0 + SEC);
	vrtc_poll(&r, RTC_T0 + SEC - 1);
	assert_false(vrtc_irq_level(&r));
	vrtc_poll(&r, RTC_T0 + SEC);
	assert_true(vrtc_irq_level(&r));
	assert_int_equal(rtc_rd(&r, 0x0C, RTC_T0 + SEC), 0x90); /* IRQF | UF */
	assert_int_equal(vrtc_poll(&r, RTC_T0 + SEC), RTC_T0 + 2 * SEC);
}

static void test_rtc_alarm(void **state)
{
	struct vrtc r;

	vrtc_init(&r, LEAP_EVE, RTC_T0, 512 << 20, 0);
	rtc_wr(&r, 0x0A, 0x20, RTC_T0);
	rtc_wr(&r, 1, 0x05, RTC_T0); /* 00:00:05 */
	rtc_wr(&r, 3, 0x00, RTC_T0);
	rtc_wr(&r, 5, 0x00, RTC_T0);
	rtc_wr(&r, 0x0B, 0x22, RTC_T0); /* AIE */
	assert_int_equal(vrtc_poll(&r, RTC_T0), RTC_T0 + 7 * SEC);
	vrtc_poll(&r, RTC_T0 + 7 * SEC - 1);
	assert_false(vrtc_irq_level(&r));
	vrtc_poll(&r, RTC_T0 + 7 * SEC);
	assert_true(vrtc_irq_level(&r));
	assert_int_equal(rtc_rd(&r, 0x0C, RTC_T0 + 7 * SEC), 0xB0); /* IRQF AF UF */
	/* Next match: the same time tomorrow. */
	assert_int_equal(vrtc_poll(&r, RTC_T0 + 7 * SEC), RTC_T0 + (7 + 86400) * SEC);
	/* "Don't care" hours and minutes, seconds 00: every minute. */
	rtc_wr(&r, 5, 0xC0, RTC_T0 + 7 * SEC);
	rtc_wr(&r, 3, 0xFF, RTC_T0 + 7 * SEC);
	rtc_wr(&r, 1, 0x00, RTC_T0 + 7 * SEC);
	assert_int_equal(vrtc_poll(&r, RTC_T0 + 7 * SEC), RTC_T0 + 62 * SEC);
	/* An alarm found in a long gap without polls still counts. */
	assert_int_equal(rtc_rd(&r, 0x0C, RTC_T0 + 500 * SEC) & 0x20, 0x20);
	/* A value no time has never matches. */
	rtc_wr(&r, 1, 0x61, RTC_T0 + 500 * SEC);
	assert_int_equal(vrtc_poll(&r, RTC_T0 + 500 * SEC), 0);
}

static void test_rtc_cmos_memory_512m(void **state)
{
	struct vrtc r;

	vrtc_init(&r, LEAP_EVE, RTC_T0, 512ULL << 20, 0);
	assert_int_equal(rtc_rd(&r, 0x15, RTC_T0), 0x80); /* 640 KiB */
	assert_int_equal(rtc_rd(&r, 0x16, RTC_T0), 0x02);
	assert_int_equal(rtc_rd(&r, 0x17, RTC_T0), 0xFF); /* 511 MiB: capped */
	assert_int_equal(rtc_rd(&r, 0x18, RTC_T0), 0xFF);
	assert_int_equal(rtc_rd(&r, 0x30, RTC_T0), 0xFF);
	assert_int_equal(rtc_rd(&r, 0x31, RTC_T0), 0xFF);
	assert_int_equal(rtc_rd(&r, 0x34, RTC_T0), 0x00); /* 496 MiB / 64 KiB */
	assert_int_equal(rtc_rd(&r, 0x35, RTC_T0), 0x1F);
	assert_int_equal(rtc_rd(&r, 0x5B, RTC_T0), 0);
	assert_int_equal(rtc_rd(&r, 0x5C, RTC_T0), 0);
	assert_int_equal(rtc_rd(&r, 0x5D, RTC_T0), 0);
	assert_int_equal(rtc_rd(&r, 0x14, RTC_T0), 0x02);
	assert_int_equal(rtc_rd(&r, 0x32, RTC_T0), 0x20);
	assert_int_equal(rtc_rd(&r, 0x0D, RTC_T0), 0x80); /* VRT */
	/* Checksum of 0x10-0x2D at 0x2E (high) / 0x2F. */
	assert_int_equal(rtc_rd(&r, 0x2E, RTC_T0) << 8 | rtc_rd(&r, 0x2F, RTC_T0),
			 0x80 + 0x02 + 0xFF + 0xFF + 0x02);
}

static void test_rtc_cmos_memory_6g(void **state)
{
	struct vrtc r;

	vrtc_init(&r, LEAP_EVE, RTC_T0, 3ULL << 30, 3ULL << 30);
	assert_int_equal(rtc_rd(&r, 0x34, RTC_T0), 0x00); /* 3056 MiB: 0xBF00 */
	assert_int_equal(rtc_rd(&r, 0x35, RTC_T0), 0xBF);
	assert_int_equal(rtc_rd(&r, 0x5B, RTC_T0), 0x00); /* 3 GiB: 0x00C000 */
	assert_int_equal(rtc_rd(&r, 0x5C, RTC_T0), 0xC0);
	assert_int_equal(rtc_rd(&r, 0x5D, RTC_T0), 0x00);
	assert_int_equal(rtc_rd(&r, 0x17, RTC_T0), 0xFF);
	vrtc_init(&r, LEAP_EVE, RTC_T0, 3ULL << 30, 1ULL << 40); /* 1 TiB */
	/* 0x1000000 units do not fit in 24 bits: capped, not wrapped to 0. */
	assert_int_equal(rtc_rd(&r, 0x5B, RTC_T0), 0xFF);
	assert_int_equal(rtc_rd(&r, 0x5C, RTC_T0), 0xFF);
	assert_int_equal(rtc_rd(&r, 0x5D, RTC_T0), 0xFF);
}

static void test_rtc_index_nvram_and_ports(void **state)
{
	struct vrtc r;
	uint8_t v = 0x8D;

	vrtc_init(&r, LEAP_EVE, RTC_T0, 512 << 20, 0);
	assert_int_equal(vrtc_io(&r, 0x70, false, &v, RTC_T0), 0);
	assert_true(r.nmi_masked);
	assert_int_equal(vrtc_io(&r, 0x71, true, &v, RTC_T0), 0);
	assert_int_equal(v, 0x80); /* register D through the masked index */
	rtc_wr(&r, 0x40, 0x5A, RTC_T0);
	assert_int_equal(rtc_rd(&r, 0x40, RTC_T0), 0x5A);
	assert_false(r.nmi_masked);
	rtc_wr(&r, 0x0D, 0x00, RTC_T0); /* read-only */
	assert_int_equal(rtc_rd(&r, 0x0D, RTC_T0), 0x80);
	vrtc_cmos_set(&r, 0x5F, 3); /* e.g. SeaBIOS's CPU count - 1 */
	assert_int_equal(rtc_rd(&r, 0x5F, RTC_T0), 3);
	assert_int_equal(vrtc_io(&r, 0x72, true, &v, RTC_T0), KEEL_ENOENT);
	assert_int_equal(v, 0xFF);
}

/* ---------------------------------------------------------------- UART -- */

static uint8_t uart_rd(struct uart16550 *u, uint16_t reg)
{
	uint8_t v = 0xEE;

	assert_int_equal(uart_io(u, reg, true, &v), -1);
	return v;
}

static int uart_wr(struct uart16550 *u, uint16_t reg, uint8_t v)
{
	return uart_io(u, reg, false, &v);
}

static void test_uart_reset_values(void **state)
{
	struct uart16550 u;

	memset(&u, 0xA5, sizeof(u));
	uart_init(&u);
	assert_int_equal(uart_rd(&u, 1), 0x00); /* IER */
	assert_int_equal(uart_rd(&u, 2), 0x01); /* IIR: none, no FIFOs */
	assert_int_equal(uart_rd(&u, 3), 0x00);
	assert_int_equal(uart_rd(&u, 4), 0x00);
	assert_int_equal(uart_rd(&u, 5), 0x60); /* THRE | TEMT */
	assert_int_equal(uart_rd(&u, 6), 0xB0); /* CTS DSR DCD, no deltas */
	assert_false(uart_irq_level(&u));
}

static void test_uart_linux_thre_test(void **state)
{
	struct uart16550 u;

	/* serial8250_do_startup's UART_BUG_THRE test. */
	uart_init(&u);
	uart_wr(&u, 1, 0x02);
	assert_int_equal(uart_rd(&u, 2), 0x02); /* iir1: THRE */
	assert_int_equal(uart_rd(&u, 2), 0x01); /* reading IIR cleared it */
	uart_wr(&u, 1, 0x00);
	uart_wr(&u, 1, 0x02); /* ETBEI 0->1 with THR empty: again */
	assert_int_equal(uart_rd(&u, 2), 0x02);
	uart_wr(&u, 1, 0x02); /* 1->1: nothing new */
	assert_int_equal(uart_rd(&u, 2), 0x01);
}

static void test_uart_thr_write_rearms_thre(void **state)
{
	struct uart16550 u;

	uart_init(&u);
	uart_wr(&u, 4, 0x08); /* OUT2 */
	uart_wr(&u, 1, 0x02);
	assert_true(uart_irq_level(&u));
	uart_rd(&u, 2);
	assert_false(uart_irq_level(&u));
	assert_int_equal(uart_wr(&u, 0, 'k'), 'k'); /* sent at once ... */
	assert_true(uart_irq_level(&u));	    /* ... and THR empty again */
	assert_int_equal(uart_rd(&u, 5) & 0x60, 0x60);
	uart_wr(&u, 1, 0x00);
	assert_false(uart_irq_level(&u));
}

static void test_uart_iir_priority(void **state)
{
	struct uart16550 u;

	uart_init(&u);
	uart_wr(&u, 2, 0x01);	     /* FIFOs on, trigger 1 */
	uart_wr(&u, 4, 0x1D);	     /* loopback without RTS: DCTS */
	for (unsigned i = 0; i < 17; i++)
		uart_wr(&u, 0, (uint8_t)i); /* the 17th overruns */
	uart_wr(&u, 1, 0x0F);
	assert_int_equal(uart_rd(&u, 2), 0xC6); /* receiver line status */
	assert_int_equal(uart_rd(&u, 5) & 0x03, 0x03); /* OE | DR, clears OE */
	assert_int_equal(uart_rd(&u, 2), 0xC4); /* received data */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(uart_rd(&u, 0), i);
	assert_int_equal(uart_rd(&u, 2), 0xC2); /* THRE */
	assert_int_equal(uart_rd(&u, 2), 0xC0); /* modem status */
	uart_rd(&u, 6);
	assert_int_equal(uart_rd(&u, 2), 0xC1);
}

static void test_uart_fifo_trigger_and_timeout(void **state)
{
	struct uart16550 u;
	const uint8_t data[8] = "abcdefgh";

	uart_init(&u);
	uart_wr(&u, 2, 0x81); /* FIFOs on, trigger 8 */
	uart_wr(&u, 1, 0x01);
	assert_int_equal(uart_rx_push(&u, data, 3), 3);
	assert_int_equal(uart_rd(&u, 2), 0xCC); /* below trigger: timeout */
	assert_int_equal(uart_rx_push(&u, data + 3, 5), 5);
	assert_int_equal(uart_rd(&u, 2), 0xC4); /* at trigger */
	uart_rd(&u, 0);
	assert_int_equal(uart_rd(&u, 2), 0xCC);
	for (unsigned i = 1; i < 8; i++)
		assert_int_equal(uart_rd(&u, 0), data[i]);
	assert_int_equal(uart_rd(&u, 2), 0xC1);
	assert_int_equal(uart_rd(&u, 5) & 0x01, 0);
	uart_wr(&u, 2, 0xC1); /* trigger 14 */
	uart_rx_push(&u, data, 8);
	uart_rx_push(&u, data, 5);
	assert_int_equal(uart_rd(&u, 2), 0xCC);
	uart_rx_push(&u, data, 1);
	assert_int_equal(uart_rd(&u, 2), 0xC4);
	uart_wr(&u, 2, 0x43); /* trigger 4, clear the receive FIFO */
	assert_int_equal(uart_rx_space(&u), 16);
	assert_int_equal(uart_rd(&u, 2), 0xC1);
}

static void test_uart_rx_flow_control(void **state)
{
	struct uart16550 u;
	uint8_t data[20];

	memset(data, 'x', sizeof(data));
	uart_init(&u);
	/* FIFOs off: one byte of holding register. */
	assert_int_equal(uart_rx_space(&u), 1);
	assert_int_equal(uart_rx_push(&u, data, 3), 1);
	uart_wr(&u, 1, 0x01);
	assert_int_equal(uart_rd(&u, 2), 0x04);
	assert_int_equal(uart_rd(&u, 0), 'x');
	assert_int_equal(uart_rd(&u, 0), 0); /* empty */
	uart_wr(&u, 2, 0x01);
	assert_int_equal(uart_rx_push(&u, data, 20), 16);
	assert_int_equal(uart_rx_space(&u), 0);
	assert_int_equal(uart_rx_push(&u, data, 4), 0);
	/* What did not fit stays with the caller: no overrun. */
	assert_int_equal(uart_rd(&u, 5), 0x61);
	uart_wr(&u, 2, 0x00); /* FIFOs off: both cleared */
	assert_int_equal(uart_rd(&u, 5), 0x60);
}

static void test_uart_loopback(void **state)
{
	struct uart16550 u;

	uart_init(&u);
	/* Linux's autoconfig: MCR = LOOP | OUT2 | RTS, MSR high nibble 0x90. */
	uart_wr(&u, 4, 0x1A);
	assert_int_equal(uart_rd(&u, 6), 0x90 | 0x02); /* DSR dropped: DDSR */
	assert_int_equal(uart_rd(&u, 6), 0x90);
	uart_wr(&u, 4, 0x1F);
	assert_int_equal(uart_rd(&u, 6), 0xF0 | 0x02); /* DSR back: DDSR */
	uart_wr(&u, 4, 0x1B); /* OUT1 off: RI trailing edge */
	assert_int_equal(uart_rd(&u, 6), 0xB0 | 0x04);
	assert_int_equal(uart_wr(&u, 0, 'L'), -1); /* not printed */
	assert_int_equal(uart_rd(&u, 5) & 0x01, 0x01);
	assert_int_equal(uart_rd(&u, 0), 'L');
	uart_wr(&u, 4, 0x13); /* OUT2 off: DCD drops */
	assert_int_equal(uart_rd(&u, 6), 0x30 | 0x08);
	uart_wr(&u, 4, 0x03); /* out of loopback: the terminal's lines */
	assert_int_equal(uart_wr(&u, 0, 'P'), 'P');
	assert_int_equal(uart_rd(&u, 6), 0xB0 | 0x08); /* DCD back: DDCD */
}

static void test_uart_out2_gates_irq(void **state)
{
	struct uart16550 u;

	uart_init(&u);
	uart_wr(&u, 1, 0x02); /* THRE pending */
	assert_false(uart_irq_level(&u));
	uart_wr(&u, 4, 0x08);
	assert_true(uart_irq_level(&u));
	uart_wr(&u, 4, 0x18); /* loopback holds the OUT2 pin inactive */
	assert_false(uart_irq_level(&u));
	uart_wr(&u, 4, 0x0B);
	assert_true(uart_irq_level(&u));
}

static void test_uart_divisor_and_scratch(void **state)
{
	struct uart16550 u;

	uart_init(&u);
	uart_wr(&u, 3, 0x83);
	assert_int_equal(uart_wr(&u, 0, 0x0C), -1); /* DLL, not THR */
	uart_wr(&u, 1, 0x00);
	assert_int_equal(uart_rd(&u, 0), 0x0C);
	uart_wr(&u, 3, 0x03);
	assert_int_equal(uart_rd(&u, 1), 0x00); /* IER untouched by DLM */
	uart_wr(&u, 7, 0xA5);
	assert_int_equal(uart_rd(&u, 7), 0xA5);
}

/* ----------------------------------------------------------------- PM -- */

static uint32_t pm_rd(struct vpm *p, uint16_t port, uint8_t size, uint64_t now)
{
	uint32_t v = 0;
	enum vpm_event ev;

	assert_int_equal(vpm_io(p, port, size, true, &v, now, &ev), 0);
	assert_int_equal(ev, VPM_EV_NONE);
	return v;
}

static uint64_t pm_now; /* the time pm_wr writes at */

static enum vpm_event pm_wr(struct vpm *p, uint16_t port, uint8_t size, uint32_t v)
{
	enum vpm_event ev = VPM_EV_NONE;

	assert_int_equal(vpm_io(p, port, size, false, &v, pm_now, &ev), 0);
	return ev;
}

/* ns at which the PM timer has counted t ticks. */
static uint64_t pm_at(uint64_t t)
{
	return t / VPM_PM_TMR_HZ * SEC +
	       (t % VPM_PM_TMR_HZ * SEC + VPM_PM_TMR_HZ - 1) / VPM_PM_TMR_HZ;
}

static void test_pm1_status_write_one_to_clear(void **state)
{
	struct vpm p;

	vpm_init(&p);
	assert_int_equal(pm_rd(&p, 0x604, 2, 0), 0x0001); /* SCI_EN */
	vpm_power_button(&p);
	assert_int_equal(pm_rd(&p, 0x600, 2, 0), 0x0100);
	pm_wr(&p, 0x600, 2, 0x0001); /* other bits: no effect */
	assert_int_equal(pm_rd(&p, 0x600, 2, 0), 0x0100);
	pm_wr(&p, 0x600, 2, 0x0000);
	assert_int_equal(pm_rd(&p, 0x600, 2, 0), 0x0100);
	pm_wr(&p, 0x601, 1, 0x01); /* byte at the high half */
	assert_int_equal(pm_rd(&p, 0x600, 2, 0), 0x0000);
}

static void test_pm_sci_level(void **state)
{
	struct vpm p;

	vpm_init(&p);
	vpm_power_button(&p);
	assert_false(vpm_sci_level(&p)); /* not enabled */
	pm_wr(&p, 0x602, 2, 0x0100);
	assert_true(vpm_sci_level(&p));
	pm_wr(&p, 0x600, 2, 0x0100);
	assert_false(vpm_sci_level(&p));
	/* GPE0: status at 0x620, enable at 0x622. */
	vpm_gpe_raise(&p, 9);
	assert_false(vpm_sci_level(&p));
	pm_wr(&p, 0x623, 1, 0x02);
	assert_true(vpm_sci_level(&p));
	assert_int_equal(pm_rd(&p, 0x620, 4, 0), 0x02000200);
	pm_wr(&p, 0x621, 1, 0x02);
	assert_false(vpm_sci_level(&p));
}

static void test_pm_dword_covers_sts_and_en(void **state)
{
	struct vpm p;

	vpm_init(&p);
	vpm_power_button(&p);
	pm_wr(&p, 0x600, 4, 0x01210000); /* EN = PWRBTN | GBL | TMR */
	assert_int_equal(pm_rd(&p, 0x600, 4, 0), 0x01210100);
	pm_wr(&p, 0x600, 4, 0xFFFF0100); /* clear STS, EN keeps valid bits */
	assert_int_equal(pm_rd(&p, 0x600, 4, 0), 0x07210000);
}

static void test_pm_s5_and_sleep_events(void **state)
{
	struct vpm p;

	vpm_init(&p);
	/* Linux: SLP_TYP first, then SLP_TYP | SLP_EN. */
	assert_int_equal(pm_wr(&p, 0x604, 2, 5 << 10 | 1), VPM_EV_NONE);
	assert_int_equal(pm_wr(&p, 0x604, 2, 5 << 10 | 0x2000 | 1), VPM_EV_S5);
	assert_int_equal(pm_rd(&p, 0x604, 2, 0), 0x1401); /* SLP_EN reads 0 */
	assert_int_equal(pm_wr(&p, 0x605, 1, 0x34), VPM_EV_S5); /* byte access */
	vpm_init(&p);
	assert_int_equal(pm_wr(&p, 0x604, 2, 1 << 10 | 0x2000), VPM_EV_SLEEP);
	assert_int_equal(pm_rd(&p, 0x600, 2, 0) & 0x8000, 0x8000); /* WAK_STS */
	assert_int_equal(pm_rd(&p, 0x604, 2, 0) & 1, 1); /* SCI_EN stays */
}

static void test_pm_timer_rate_and_wrap(void **state)
{
	struct vpm p;

	vpm_init(&p);
	assert_int_equal(pm_rd(&p, 0x608, 4, SEC), 3579545);
	assert_int_equal(pm_rd(&p, 0x608, 4, 5 * SEC / 2), 8948862); /* 8948862.5 */
	assert_int_equal(pm_rd(&p, 0x60A, 2, pm_at(0x12345678)), 0x1234);
	assert_int_equal(pm_rd(&p, 0x609, 1, pm_at(0x12345678)), 0x56);
	uint32_t v = 0;
	enum vpm_event ev;
	vpm_io(&p, 0x608, 4, false, &v, pm_at(0x20000000), &ev); /* read-only */
	assert_int_equal(pm_rd(&p, 0x608, 4, pm_at(0x20000000)), 0x20000000);
	assert_int_equal(pm_rd(&p, 0x608, 4, pm_at(1ULL << 32) - 1), 0xFFFFFFFF);
	assert_int_equal(pm_rd(&p, 0x608, 4, pm_at((1ULL << 32) + 5)), 5);
	/* It never runs back, even for an older time stamp. */
	assert_int_equal(pm_rd(&p, 0x608, 4, pm_at(1ULL << 32)), 5);
}

static void test_pm_timer_status(void **state)
{
	struct vpm p;

	vpm_init(&p);
	assert_int_equal(vpm_poll(&p, SEC), 0); /* TMR_EN clear */
	pm_wr(&p, 0x602, 2, 0x0001);
	assert_int_equal(vpm_poll(&p, SEC), pm_at(1ULL << 31));
	vpm_poll(&p, pm_at(1ULL << 31) - 1);
	assert_false(vpm_sci_level(&p));
	assert_int_equal(vpm_poll(&p, pm_at(1ULL << 31)), 0); /* set: no more */
	assert_true(vpm_sci_level(&p));
	pm_now = pm_at(1ULL << 31);
	pm_wr(&p, 0x600, 2, 0x0001);
	pm_now = 0;
	assert_int_equal(vpm_poll(&p, pm_at(1ULL << 31)), pm_at(1ULL << 32));
	/* A look from the past (another CPU's older time) sets nothing. */
	vpm_poll(&p, SEC);
	assert_false(vpm_sci_level(&p));
}

static void test_pm_bad_accesses(void **state)
{
	struct vpm p;
	uint32_t v = 0;
	enum vpm_event ev;

	vpm_init(&p);
	assert_int_equal(vpm_io(&p, 0x610, 2, true, &v, 0, &ev), KEEL_ENOENT);
	assert_int_equal(v, 0xFFFF);
	assert_int_equal(vpm_io(&p, 0x600, 3, true, &v, 0, &ev), KEEL_EINVAL);
	assert_int_equal(pm_rd(&p, 0x604, 4, 0), 0xFFFF0001); /* past PM1_CNT */
}

/* -------------------------------------------------------- i8042, 0x92 -- */

static uint8_t kbc_rd(struct vkbc *k, uint16_t port)
{
	uint8_t v = 0;
	bool reset;

	assert_int_equal(vkbc_io(k, port, true, &v, &reset), 0);
	assert_false(reset);
	return v;
}

static bool kbc_wr(struct vkbc *k, uint16_t port, uint8_t v)
{
	bool reset;

	assert_int_equal(vkbc_io(k, port, false, &v, &reset), 0);
	return reset;
}

static void test_kbc_self_test(void **state)
{
	struct vkbc k;

	vkbc_init(&k);
	assert_int_equal(kbc_rd(&k, 0x64) & 0x07, 0x04); /* SYS, nothing queued */
	assert_false(kbc_wr(&k, 0x64, 0xAA));
	assert_int_equal(kbc_rd(&k, 0x64) & 0x0D, 0x0D); /* OBF, SYS, command */
	assert_int_equal(kbc_rd(&k, 0x60), 0x55);
	assert_int_equal(kbc_rd(&k, 0x64) & 0x01, 0);
	kbc_wr(&k, 0x64, 0xAB);
	assert_int_equal(kbc_rd(&k, 0x60), 0x00);
	kbc_wr(&k, 0x64, 0xA9);
	assert_int_not_equal(kbc_rd(&k, 0x60), 0x00); /* no aux device */
}

static void test_kbc_command_byte(void **state)
{
	struct vkbc k;

	vkbc_init(&k);
	kbc_wr(&k, 0x64, 0x20);
	assert_int_equal(kbc_rd(&k, 0x60), 0x45);
	kbc_wr(&k, 0x64, 0x60);
	kbc_wr(&k, 0x60, 0x61); /* SYS clear */
	assert_int_equal(kbc_rd(&k, 0x64) & 0x0C, 0x00);
	kbc_wr(&k, 0x64, 0xA7);
	kbc_wr(&k, 0x64, 0xAD);
	kbc_wr(&k, 0x64, 0x20);
	assert_int_equal(kbc_rd(&k, 0x60), 0x71);
	kbc_wr(&k, 0x64, 0xA8);
	kbc_wr(&k, 0x64, 0xAE);
	kbc_wr(&k, 0x64, 0x20);
	assert_int_equal(kbc_rd(&k, 0x60), 0x41);
	assert_false(vkbc_irq1_level(&k));
	kbc_wr(&k, 0x64, 0x20);
	assert_true(vkbc_irq1_level(&k)); /* KBD_INT and a byte waiting */
	kbc_rd(&k, 0x60);
	assert_false(vkbc_irq1_level(&k));
}

static void test_kbc_pulse_reset(void **state)
{
	struct vkbc k;

	vkbc_init(&k);
	assert_true(kbc_wr(&k, 0x64, 0xFE)); /* Linux reboot=kbd */
	assert_false(kbc_wr(&k, 0x64, 0xFF)); /* pulses nothing */
	assert_false(kbc_wr(&k, 0x64, 0xFD)); /* bit 1 only */
	assert_true(kbc_wr(&k, 0x64, 0xF0));
	uint8_t v = 0;
	bool reset = true;
	assert_int_equal(vkbc_io(&k, 0x61, true, &v, &reset), KEEL_ENOENT);
	assert_false(reset);
}

static void test_kbc_output_port_reset(void **state)
{
	struct vkbc k;

	vkbc_init(&k);
	kbc_wr(&k, 0x64, 0xD0);
	assert_int_equal(kbc_rd(&k, 0x60) & 0x03, 0x03); /* not reset, A20 */
	kbc_wr(&k, 0x64, 0xD1);
	assert_false(kbc_wr(&k, 0x60, 0xDD)); /* A20 off, bit 0 still 1 */
	kbc_wr(&k, 0x64, 0xD0);
	assert_int_equal(kbc_rd(&k, 0x60), 0xDD);
	kbc_wr(&k, 0x64, 0xD1);
	assert_true(kbc_wr(&k, 0x60, 0xDE)); /* bit 0 clear: reset */
}

static void test_kbc_no_keyboard(void **state)
{
	struct vkbc k;

	vkbc_init(&k);
	kbc_wr(&k, 0x60, 0xF2); /* atkbd's GET ID */
	assert_int_equal(kbc_rd(&k, 0x64) & 0x49, 0x41); /* OBF | time-out, data */
	assert_int_equal(kbc_rd(&k, 0x60), 0xFE);
	assert_int_equal(kbc_rd(&k, 0x64) & 0x41, 0x00);
	assert_int_equal(kbc_rd(&k, 0x60), 0xFE); /* the last byte again */
	kbc_wr(&k, 0x64, 0xD2); /* write keyboard output buffer */
	kbc_wr(&k, 0x60, 0x1C);
	assert_int_equal(kbc_rd(&k, 0x64) & 0x41, 0x01);
	assert_int_equal(kbc_rd(&k, 0x60), 0x1C);
}

static void test_port92_reset(void **state)
{
	uint8_t reg = 0x02, v;
	bool reset;

	v = 0x03;
	assert_int_equal(vport92_io(&reg, false, &v, &reset), 0);
	assert_true(reset); /* bit 0: 0 -> 1 */
	v = 0x03;
	vport92_io(&reg, false, &v, &reset);
	assert_false(reset); /* already 1 */
	vport92_io(&reg, true, &v, &reset);
	assert_int_equal(v, 0x03);
	v = 0x00;
	vport92_io(&reg, false, &v, &reset);
	assert_false(reset);
	v = 0x01;
	vport92_io(&reg, false, &v, &reset);
	assert_true(reset);
}

/* ---------------------------------------------------------------- PCI -- */

static uint32_t pci_rd(struct vpci *p, uint16_t port, uint8_t size)
{
	uint32_t v = 0x5A5A5A5A;
	bool reset;

	assert_int_equal(vpci_io(p, port, size, true, &v, &reset), 0);
	assert_false(reset);
	return v;
}

static bool pci_wr(struct vpci *p, uint16_t port, uint8_t size, uint32_t v)
{
	bool reset;

	assert_int_equal(vpci_io(p, port, size, false, &v, &reset), 0);
	return reset;
}

static uint32_t pci_cfg(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | reg;
}

static void test_pci_host_bridge_id(void **state)
{
	struct vpci p;

	vpci_init(&p);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x00));
	assert_int_equal(pci_rd(&p, 0xCFC, 4), 0x12378086);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x08));
	assert_int_equal(pci_rd(&p, 0xCFC, 4), 0x06000002); /* class 06/00/00 */
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x0C));
	assert_int_equal(pci_rd(&p, 0xCFE, 1), 0x00); /* header type 0 */
}

static void test_pci_absent_all_ones(void **state)
{
	struct vpci p;

	vpci_init(&p);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 5, 0, 0x00));
	assert_int_equal(pci_rd(&p, 0xCFC, 4), 0xFFFFFFFF);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 1, 0x00)); /* function 1 */
	assert_int_equal(pci_rd(&p, 0xCFC, 2), 0xFFFF);
	pci_wr(&p, 0xCF8, 4, pci_cfg(1, 0, 0, 0x00)); /* bus 1 */
	assert_int_equal(pci_rd(&p, 0xCFC, 4), 0xFFFFFFFF);
	pci_wr(&p, 0xCF8, 4, 0x00000000); /* enable clear */
	assert_int_equal(pci_rd(&p, 0xCFC, 4), 0xFFFFFFFF);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 5, 0, 0x04));
	pci_wr(&p, 0xCFC, 4, 0x7); /* writes into nothing */
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x04));
	assert_int_equal(pci_rd(&p, 0xCFC, 2), 0x0000);
}

static void test_pci_byte_word_offsets(void **state)
{
	struct vpci p;

	vpci_init(&p);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x00));
	assert_int_equal(pci_rd(&p, 0xCFC, 1), 0x86);
	assert_int_equal(pci_rd(&p, 0xCFD, 1), 0x80);
	assert_int_equal(pci_rd(&p, 0xCFE, 1), 0x37);
	assert_int_equal(pci_rd(&p, 0xCFF, 1), 0x12);
	assert_int_equal(pci_rd(&p, 0xCFC, 2), 0x8086);
	assert_int_equal(pci_rd(&p, 0xCFE, 2), 0x1237);
	/* The register field's low bits are ignored (dword aligned). */
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x08) | 3);
	assert_int_equal(pci_rd(&p, 0xCF8, 4), pci_cfg(0, 0, 0, 0x08));
	assert_int_equal(pci_rd(&p, 0xCFF, 1), 0x06);
	assert_int_equal(pci_rd(&p, 0xCFE, 2), 0x0600);
}

static void test_pci_command_only_writable(void **state)
{
	struct vpci p;

	vpci_init(&p);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x04));
	pci_wr(&p, 0xCFC, 4, 0xFFFFFFFF);
	assert_int_equal(pci_rd(&p, 0xCFC, 2), 0x0547);
	assert_int_equal(pci_rd(&p, 0xCFE, 2), 0x0280); /* status unchanged */
	pci_wr(&p, 0xCFD, 1, 0x00); /* byte into the command's high half */
	assert_int_equal(pci_rd(&p, 0xCFC, 2), 0x0047);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x00));
	pci_wr(&p, 0xCFC, 4, 0);
	assert_int_equal(pci_rd(&p, 0xCFC, 4), 0x12378086);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x10)); /* no BARs */
	pci_wr(&p, 0xCFC, 4, 0xFFFFFFFF);
	assert_int_equal(pci_rd(&p, 0xCFC, 4), 0);
}

static void test_pci_cf8_dword_only(void **state)
{
	struct vpci p;

	vpci_init(&p);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x08));
	/* Linux's pci_check_type1 writes a byte to 0xCFB first. */
	pci_wr(&p, 0xCFB, 1, 0x01);
	pci_wr(&p, 0xCF8, 2, 0x0000);
	pci_wr(&p, 0xCF8, 1, 0x00);
	assert_int_equal(pci_rd(&p, 0xCF8, 4), pci_cfg(0, 0, 0, 0x08));
	assert_int_equal(pci_rd(&p, 0xCF8, 1), 0xFF);
	assert_int_equal(pci_rd(&p, 0xCFA, 2), 0xFFFF);
	/* Reserved bits 30:24 and 1:0 read as 0. */
	pci_wr(&p, 0xCF8, 4, 0xFFFFFFFF);
	assert_int_equal(pci_rd(&p, 0xCF8, 4), 0x80FFFFFC);
	uint32_t v;
	bool reset;
	assert_int_equal(vpci_io(&p, 0xD00, 4, true, &v, &reset), KEEL_ENOENT);
	assert_int_equal(v, 0xFFFFFFFF);
}

static void test_pci_cf9_reset(void **state)
{
	struct vpci p;

	vpci_init(&p);
	assert_int_equal(pci_rd(&p, 0xCF9, 1), 0x00);
	/* Linux reboot=pci: 0x02 (hard reset selected), then 0x06. */
	assert_false(pci_wr(&p, 0xCF9, 1, 0x02));
	assert_int_equal(pci_rd(&p, 0xCF9, 1), 0x02);
	assert_true(pci_wr(&p, 0xCF9, 1, 0x06));
	assert_int_equal(pci_rd(&p, 0xCF9, 1), 0x02); /* RST_CPU never stays */
	assert_true(pci_wr(&p, 0xCF9, 1, 0x0E));
	assert_true(pci_wr(&p, 0xCF9, 1, 0x04)); /* soft reset: still a reset */
	/* The reset itself: power-on values again. */
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x04));
	pci_wr(&p, 0xCFC, 2, 0x0006);
	vpci_reset(&p);
	assert_int_equal(pci_rd(&p, 0xCF9, 1), 0x00);
	assert_int_equal(pci_rd(&p, 0xCF8, 4), 0);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 0, 0, 0x04));
	assert_int_equal(pci_rd(&p, 0xCFC, 4), 0x02800000);
}

static unsigned hook_off, hook_size, hook_calls;

static void hook(struct vpci_dev *d, unsigned off, unsigned size)
{
	hook_off = off;
	hook_size = size;
	hook_calls++;
}

static void test_pci_added_device(void **state)
{
	struct vpci p;
	struct vpci_dev d;

	vpci_init(&p);
	vpci_dev_init(&d, 0x1AF4, 0x1042, 0x010000, 1);
	vpci_config_set(&d, 0x10, 4, 0x0000000C); /* 64-bit prefetchable BAR */
	vpci_config_set(&d, 0x14, 4, 0);
	vpci_config_set(&d, 0x0E, 1, 0x00);
	d.wmask[0x11] = 0xC0; /* 16 KiB: bits 31:14 */
	d.wmask[0x12] = d.wmask[0x13] = 0xFF;
	d.config_written = hook;
	assert_int_equal(vpci_add_device(&p, VPCI_DEVFN(3, 0), &d), 0);
	assert_int_equal(vpci_add_device(&p, VPCI_DEVFN(3, 0), &d), KEEL_EEXIST);
	assert_int_equal(vpci_add_device(&p, 256, &d), KEEL_EINVAL);
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 3, 0, 0x00));
	assert_int_equal(pci_rd(&p, 0xCFC, 4), 0x10421AF4);
	/* BAR sizing: all ones in, size mask and flags out. */
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 3, 0, 0x10));
	hook_calls = 0;
	pci_wr(&p, 0xCFC, 4, 0xFFFFFFFF);
	assert_int_equal(pci_rd(&p, 0xCFC, 4), 0xFFFFC00C);
	assert_int_equal(hook_calls, 1);
	assert_int_equal(hook_off, 0x10);
	assert_int_equal(hook_size, 4);
	/* Status error bits: write 1 to clear. */
	d.config[0x07] = 0xF9;
	pci_wr(&p, 0xCF8, 4, pci_cfg(0, 3, 0, 0x04));
	pci_wr(&p, 0xCFE, 2, 0x8000);
	assert_int_equal(pci_rd(&p, 0xCFF, 1), 0x79);
	assert_int_equal(hook_off, 0x06);
	assert_int_equal(hook_size, 2);
}

/* ---------------------------------------------------------- wallclock -- */

/* The host hardware wallclock.c reads: either a vrtc (a real MC146818
 * model, time moving on) or a raw byte array. */
static struct vrtc *sim_rtc;
static uint8_t sim_cmos[128];
static uint8_t sim_index;
static uint64_t sim_ns;

uint64_t time_ns(void)
{
	sim_ns += 1000; /* 1 us per look at the clock */
	return sim_ns;
}

uint8_t hw_inb(uint16_t port)
{
	uint8_t v = 0xFF;

	if (sim_rtc)
		vrtc_io(sim_rtc, port, true, &v, sim_ns);
	else if (port == 0x71)
		v = sim_cmos[sim_index];
	return v;
}

void hw_outb(uint16_t port, uint8_t v)
{
	if (sim_rtc)
		vrtc_io(sim_rtc, port, false, &v, sim_ns);
	else if (port == 0x70)
		sim_index = v & 0x7F;
}

static void test_wallclock_reads_host_rtc(void **state)
{
	struct vrtc r;

	/* The host clock shows 2024-02-28 23:59:58, 100 us before UIP
	 * clears: the reader waits the update out and sees :59. */
	vrtc_init(&r, LEAP_EVE, 0, 0, 0);
	sim_rtc = &r;
	sim_ns = SEC - 100000;
	assert_int_equal(wallclock_init(), 0);
	assert_true(sim_ns >= SEC);
	assert_int_equal(wallclock_now_s(), LEAP_EVE + 1);
	sim_ns += 3 * SEC;
	assert_int_equal(wallclock_now_s(), LEAP_EVE + 4);
	sim_rtc = NULL;
}

static void test_wallclock_binary_12h_bad_century(void **state)
{
	/* 2024-06-15 12:30:00 in binary 12-hour mode, century byte junk. */
	memset(sim_cmos, 0, sizeof(sim_cmos));
	sim_cmos[0x00] = 0;
	sim_cmos[0x02] = 30;
	sim_cmos[0x04] = 0x80 | 12; /* 12 PM */
	sim_cmos[0x06] = 7;
	sim_cmos[0x07] = 15;
	sim_cmos[0x08] = 6;
	sim_cmos[0x09] = 24;
	sim_cmos[0x0A] = 0x26;
	sim_cmos[0x0B] = 0x04;
	sim_cmos[0x32] = 0x00;
	sim_ns = 0;
	assert_int_equal(wallclock_init(), 0);
	assert_int_equal(wallclock_now_s(), 1718454600ULL);
	/* Century 19 with year 99: 1999 (sane); BCD 24-hour. */
	sim_cmos[0x00] = 0x59;
	sim_cmos[0x02] = 0x59;
	sim_cmos[0x04] = 0x23;
	sim_cmos[0x07] = 0x31;
	sim_cmos[0x08] = 0x12;
	sim_cmos[0x09] = 0x99;
	sim_cmos[0x0B] = 0x02;
	sim_cmos[0x32] = 0x19;
	assert_int_equal(wallclock_init(), 0);
	assert_int_equal(wallclock_now_s(), 946684799ULL);
}

static void test_wallclock_failures(void **state)
{
	memset(sim_cmos, 0xFF, sizeof(sim_cmos)); /* no RTC: UIP stuck */
	sim_ns = 0;
	assert_int_equal(wallclock_init(), KEEL_ETIMEDOUT);
	assert_int_equal(wallclock_now_s(), 0);
	sim_cmos[0x0A] = 0x26; /* UIP clear, time all 0xFF */
	assert_int_equal(wallclock_init(), KEEL_ECORRUPT);
	/* February 30th is not a date. */
	uint8_t regs[10] = {0x00, 0, 0x00, 0, 0x00, 0, 1, 0x30, 0x02, 0x24};
	struct rtc_civil c;
	assert_int_equal(rtc_decode_time(regs, 0x02, 0x20, &c), KEEL_ECORRUPT);
	regs[7] = 0x29;
	assert_int_equal(rtc_decode_time(regs, 0x02, 0x20, &c), 0);
	assert_int_equal(c.year, 2024);
	assert_int_equal(c.wday, 4); /* Thursday */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pit_mode0_count_and_out2),
		cmocka_unit_test(test_pit_mode0_gate_holds),
		cmocka_unit_test(test_pit_mode0_first_byte_stops),
		cmocka_unit_test(test_pit_quick_calibrate_msb),
		cmocka_unit_test(test_pit_lobyte_hibyte_modes),
		cmocka_unit_test(test_pit_lohi_flip_flops),
		cmocka_unit_test(test_pit_counter_latch),
		cmocka_unit_test(test_pit_readback),
		cmocka_unit_test(test_pit_mode2_edges_and_next),
		cmocka_unit_test(test_pit_mode2_new_count_at_period_end),
		cmocka_unit_test(test_pit_mode2_reprogram_restarts),
		cmocka_unit_test(test_pit_mode3_square_wave),
		cmocka_unit_test(test_pit_mode4_oneshot),
		cmocka_unit_test(test_pit_mode0_irq0),
		cmocka_unit_test(test_pit_edge_kept_across_reprogram),
		cmocka_unit_test(test_pit_mode1_gate_trigger),
		cmocka_unit_test(test_pit_port61_bits),
		cmocka_unit_test(test_rtc_civil_conversion),
		cmocka_unit_test(test_rtc_leap_years),
		cmocka_unit_test(test_rtc_bcd_and_leap_day_rollover),
		cmocka_unit_test(test_rtc_binary_and_12h),
		cmocka_unit_test(test_rtc_set_changes_time),
		cmocka_unit_test(test_rtc_linux_set_time_divider_reset),
		cmocka_unit_test(test_rtc_uip_window),
		cmocka_unit_test(test_rtc_periodic_flag),
		cmocka_unit_test(test_rtc_update_flag),
		cmocka_unit_test(test_rtc_alarm),
		cmocka_unit_test(test_rtc_cmos_memory_512m),
		cmocka_unit_test(test_rtc_cmos_memory_6g),
		cmocka_unit_test(test_rtc_index_nvram_and_ports),
		cmocka_unit_test(test_uart_reset_values),
		cmocka_unit_test(test_uart_linux_thre_test),
		cmocka_unit_test(test_uart_thr_write_rearms_thre),
		cmocka_unit_test(test_uart_iir_priority),
		cmocka_unit_test(test_uart_fifo_trigger_and_timeout),
		cmocka_unit_test(test_uart_rx_flow_control),
		cmocka_unit_test(test_uart_loopback),
		cmocka_unit_test(test_uart_out2_gates_irq),
		cmocka_unit_test(test_uart_divisor_and_scratch),
		cmocka_unit_test(test_pm1_status_write_one_to_clear),
		cmocka_unit_test(test_pm_sci_level),
		cmocka_unit_test(test_pm_dword_covers_sts_and_en),
		cmocka_unit_test(test_pm_s5_and_sleep_events),
		cmocka_unit_test(test_pm_timer_rate_and_wrap),
		cmocka_unit_test(test_pm_timer_status),
		cmocka_unit_test(test_pm_bad_accesses),
		cmocka_unit_test(test_kbc_self_test),
		cmocka_unit_test(test_kbc_command_byte),
		cmocka_unit_test(test_kbc_pulse_reset),
		cmocka_unit_test(test_kbc_output_port_reset),
		cmocka_unit_test(test_kbc_no_keyboard),
		cmocka_unit_test(test_port92_reset),
		cmocka_unit_test(test_pci_host_bridge_id),
		cmocka_unit_test(test_pci_absent_all_ones),
		cmocka_unit_test(test_pci_byte_word_offsets),
		cmocka_unit_test(test_pci_command_only_writable),
		cmocka_unit_test(test_pci_cf8_dword_only),
		cmocka_unit_test(test_pci_cf9_reset),
		cmocka_unit_test(test_pci_added_device),
		cmocka_unit_test(test_wallclock_reads_host_rtc),
		cmocka_unit_test(test_wallclock_binary_12h_bad_century),
		cmocka_unit_test(test_wallclock_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
