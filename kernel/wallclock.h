/*
 * wallclock.h - the host's wall clock (Unix seconds, UTC), read once at boot
 * from the host's MC146818 CMOS RTC and carried forward on time_ns(); and
 * the calendar arithmetic and RTC register encoding it shares with the
 * guests' virtual RTC (kernel/vdev/rtc.c). The arithmetic is pure.
 */
#ifndef KEEL_WALLCLOCK_H
#define KEEL_WALLCLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* A broken-down UTC time. wday: 0 = Sunday (1970-01-01 was a Thursday, 4). */
struct rtc_civil {
	unsigned year, mon, day; /* mon 1-12, day 1-31 */
	unsigned hour, min, sec;
	unsigned wday;
};

/* MC146818 register B bits that select the time registers' format. */
#define RTC_REG_B_24H 0x02 /* 1: hours 0-23; 0: 1-12 with bit 7 = PM */
#define RTC_REG_B_DM 0x04  /* 1: binary; 0: BCD */
#define RTC_REG_A_UIP 0x80
/* The time registers, by CMOS index (MC146818 datasheet, table 3). */
#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_WDAY 0x06 /* 1-7, Sunday = 1 */
#define RTC_DAY 0x07
#define RTC_MON 0x08
#define RTC_YEAR 0x09 /* 0-99 */
#define RTC_TIME_REGS 10
#define RTC_CENTURY 0x32 /* IBM AT convention; what ACPI FADT.CENTURY names */

bool rtc_leap_year(unsigned year);
unsigned rtc_days_in_month(unsigned year, unsigned mon); /* 0 for a bad month */

/* Unix seconds of a UTC date and time (proleptic Gregorian, days-from-civil).
 * Lenient as the chip is: mon is clamped to 1-12, day to 1-31 (day 31 of a
 * 30-day month is the next month's first), hour/min/sec simply add up.
 * Dates before 1970 give 0. */
uint64_t rtc_civil_to_unix(unsigned year, unsigned mon, unsigned day,
			   unsigned hour, unsigned min, unsigned sec);
/* The inverse, with the weekday. */
void rtc_unix_to_civil(uint64_t t, struct rtc_civil *c);

static inline uint8_t rtc_bin_to_bcd(unsigned v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

/* The time registers (regs[RTC_SEC..RTC_YEAR]; the alarm bytes 1, 3, 5 are
 * left alone) and the century byte for c, in the format register B selects. */
void rtc_encode_time(const struct rtc_civil *c, uint8_t reg_b,
		     uint8_t regs[RTC_TIME_REGS], uint8_t *century);
/* Decode time registers written in register B's format. The year is
 * century * 100 + regs[RTC_YEAR] when the century byte is sane (19-99 and
 * not before 1970), else 2000 + regs[RTC_YEAR]. c is filled as well as the
 * bytes allow; returns 0, or KEEL_ECORRUPT when a field is not a valid BCD
 * or binary value in its range (what an absent or dead CMOS reads). */
int rtc_decode_time(const uint8_t regs[RTC_TIME_REGS], uint8_t reg_b,
		    uint8_t century, struct rtc_civil *c);
/* One byte in register B's number format: 0-99, or -1 when it is not valid
 * BCD (binary values pass as they are). */
int rtc_decode_byte(uint8_t v, uint8_t reg_b);

/* ---- The host's clock (kernel only). ---- */

/* BSP, once, after time_init(): read the host CMOS RTC (waiting out an
 * update in progress), take it as UTC and start counting from it. Returns 0,
 * KEEL_ETIMEDOUT (UIP never clears) or KEEL_ECORRUPT (unreadable time); on
 * failure the clock starts at 0 (1970-01-01). */
int wallclock_init(void);
/* Current Unix time in seconds; 0 before wallclock_init(). */
uint64_t wallclock_now_s(void);

#endif
