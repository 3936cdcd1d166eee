/*
 * wallclock.c - calendar arithmetic and MC146818 register encoding (pure,
 * shared with the guests' RTC in kernel/vdev/rtc.c), and the host's wall
 * clock: one reading of the host CMOS RTC at boot, then time_ns() from it.
 */
#include "kernel/wallclock.h"

#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/time.h"

#ifdef KEEL_HOST_TEST
/* Host unit tests simulate the CMOS (tests/unit/test_pcdev.c). */
uint8_t hw_inb(uint16_t port);
void hw_outb(uint16_t port, uint8_t v);
#else
#include "kernel/arch/x86.h"
static inline uint8_t hw_inb(uint16_t port) { return inb(port); }
static inline void hw_outb(uint16_t port, uint8_t v) { outb(port, v); }
#endif

#define NS_PER_SEC 1000000000ULL
#define SECS_PER_DAY 86400ULL
/* Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar. */
#define DAYS_0000_03_01_TO_EPOCH 719468

bool rtc_leap_year(unsigned year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned rtc_days_in_month(unsigned year, unsigned mon)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};

	if (mon < 1 || mon > 12)
		return 0;
	if (mon == 2 && rtc_leap_year(year))
		return 29;
	return days[mon - 1];
}

/* Howard Hinnant's days_from_civil: the year starts in March so the leap
 * day is the last day of the year, and 400-year eras repeat exactly. */
static int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);		     /* 0-399 */
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0-365 */
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	     /* 0-146096 */

	return era * 146097 + (int64_t)doe - DAYS_0000_03_01_TO_EPOCH;
}

uint64_t rtc_civil_to_unix(unsigned year, unsigned mon, unsigned day,
			   unsigned hour, unsigned min, unsigned sec)
{
	if (mon < 1)
		mon = 1;
	if (mon > 12)
		mon = 12;
	if (day < 1)
		day = 1;
	if (day > 31)
		day = 31;
	int64_t days = rtc_days_from_civil(year, mon, day);
	int64_t t = days * (int64_t)SECS_PER_DAY + (int64_t)hour * 3600 +
		    (int64_t)min * 60 + sec;

	return t < 0 ? 0 : (uint64_t)t;
}

void rtc_unix_to_civil(uint64_t t, struct rtc_civil *c)
{
	uint64_t days = t / SECS_PER_DAY;
	unsigned rem = (unsigned)(t % SECS_PER_DAY);

	c->hour = rem / 3600;
	c->min = rem / 60 % 60;
	c->sec = rem % 60;
	c->wday = (unsigned)((days + 4) % 7); /* 1970-01-01: Thursday */

	/* civil_from_days, for days >= 0. */
	uint64_t z = days + DAYS_0000_03_01_TO_EPOCH;
	uint64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	c->day = doy - (153 * mp + 2) / 5 + 1;
	c->mon = mp < 10 ? mp + 3 : mp - 9;
	c->year = (unsigned)(yoe + era * 400) + (c->mon <= 2);
}

static uint8_t rtc_encode_byte(unsigned v, uint8_t reg_b)
{
	return reg_b & RTC_REG_B_DM ? (uint8_t)v : rtc_bin_to_bcd(v);
}

int rtc_decode_byte(uint8_t v, uint8_t reg_b)
{
	if (reg_b & RTC_REG_B_DM)
		return v;
	if ((v & 0x0F) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0F);
}

void rtc_encode_time(const struct rtc_civil *c, uint8_t reg_b,
		     uint8_t regs[RTC_TIME_REGS], uint8_t *century)
{
	regs[RTC_SEC] = rtc_encode_byte(c->sec, reg_b);
	regs[RTC_MIN] = rtc_encode_byte(c->min, reg_b);
	if (reg_b & RTC_REG_B_24H) {
		regs[RTC_HOUR] = rtc_encode_byte(c->hour, reg_b);
	} else {
		/* MC146818: 12-hour mode counts 12, 1, ..., 11; bit 7 is PM. */
		unsigned h12 = c->hour % 12 ? c->hour % 12 : 12;

		regs[RTC_HOUR] = rtc_encode_byte(h12, reg_b) |
				 (c->hour >= 12 ? 0x80 : 0);
	}
	regs[RTC_WDAY] = rtc_encode_byte(c->wday + 1, reg_b);
	regs[RTC_DAY] = rtc_encode_byte(c->day, reg_b);
	regs[RTC_MON] = rtc_encode_byte(c->mon, reg_b);
	regs[RTC_YEAR] = rtc_encode_byte(c->year % 100, reg_b);
	*century = rtc_encode_byte(c->year / 100 % 100, reg_b);
}

int rtc_decode_time(const uint8_t regs[RTC_TIME_REGS], uint8_t reg_b,
		    uint8_t century, struct rtc_civil *c)
{
	int sec = rtc_decode_byte(regs[RTC_SEC], reg_b);
	int min = rtc_decode_byte(regs[RTC_MIN], reg_b);
	int hour = rtc_decode_byte(regs[RTC_HOUR] & (reg_b & RTC_REG_B_24H ? 0xFF : 0x7F),
				   reg_b);
	int day = rtc_decode_byte(regs[RTC_DAY], reg_b);
	int mon = rtc_decode_byte(regs[RTC_MON], reg_b);
	int yy = rtc_decode_byte(regs[RTC_YEAR], reg_b);
	int cent = rtc_decode_byte(century, reg_b);
	int err = 0;

	if (sec < 0 || sec > 59 || min < 0 || min > 59 || day < 1 || day > 31 ||
	    mon < 1 || mon > 12 || yy < 0 || yy > 99)
		err = KEEL_ECORRUPT;
	if (reg_b & RTC_REG_B_24H) {
		if (hour < 0 || hour > 23)
			err = KEEL_ECORRUPT;
	} else {
		if (hour < 1 || hour > 12)
			err = KEEL_ECORRUPT;
		else
			hour = hour % 12 + (regs[RTC_HOUR] & 0x80 ? 12 : 0);
	}
	c->sec = sec < 0 ? 0 : (unsigned)sec;
	c->min = min < 0 ? 0 : (unsigned)min;
	c->hour = hour < 0 ? 0 : (unsigned)hour;
	c->day = day < 1 ? 1 : (unsigned)day;
	c->mon = mon < 1 ? 1 : (unsigned)mon;
	if (yy < 0)
		yy = 0;
	if (cent >= 19 && cent <= 99 && cent * 100 + yy >= 1970)
		c->year = (unsigned)(cent * 100 + yy);
	else
		c->year = 2000 + (unsigned)yy;
	if (!err && (unsigned)day > rtc_days_in_month(c->year, c->mon))
		err = KEEL_ECORRUPT;
	c->wday = (unsigned)((rtc_civil_to_unix(c->year, c->mon, c->day, 0, 0, 0) /
			      SECS_PER_DAY + 4) % 7);
	return err;
}

/* ------------------------------------------------------ the host clock -- */

#define CMOS_PORT_INDEX 0x70
#define CMOS_PORT_DATA 0x71
#define RTC_REG_A 0x0A
#define RTC_REG_B 0x0B
#define WALLCLOCK_UIP_WAIT_NS (20 * 1000 * 1000ULL) /* UIP: 244 us + ~2 ms update */
#define WALLCLOCK_UIP_SPINS (1u << 22)		    /* in case time_ns() stands */
#define WALLCLOCK_TRIES 5

static uint64_t wallclock_base_s;
static uint64_t wallclock_base_ns;
static bool wallclock_valid;

static uint8_t cmos_read(uint8_t index)
{
	hw_outb(CMOS_PORT_INDEX, index); /* bit 7 clear: NMIs stay enabled */
	return hw_inb(CMOS_PORT_DATA);
}

/* MC146818: UIP rises 244 us before an update and the time registers must
 * not be read during one; once UIP reads 0 there are 244 us to read them. */
static int cmos_wait_uip(void)
{
	uint64_t give_up = time_ns() + WALLCLOCK_UIP_WAIT_NS;

	for (unsigned spins = 0; spins < WALLCLOCK_UIP_SPINS; spins++) {
		if (!(cmos_read(RTC_REG_A) & RTC_REG_A_UIP))
			return 0;
		if (time_ns() > give_up)
			break;
	}
	return KEEL_ETIMEDOUT;
}

static void cmos_read_time(uint8_t regs[RTC_TIME_REGS], uint8_t *reg_b,
			   uint8_t *century)
{
	static const uint8_t idx[] = {RTC_SEC, RTC_MIN, RTC_HOUR, RTC_WDAY,
				      RTC_DAY, RTC_MON, RTC_YEAR};

	for (unsigned i = 0; i < RTC_TIME_REGS; i++)
		regs[i] = 0;
	for (unsigned i = 0; i < sizeof(idx); i++)
		regs[idx[i]] = cmos_read(idx[i]);
	*century = cmos_read(RTC_CENTURY);
	*reg_b = cmos_read(RTC_REG_B);
}

static bool cmos_same(const uint8_t a[RTC_TIME_REGS], const uint8_t b[RTC_TIME_REGS])
{
	for (unsigned i = 0; i < RTC_TIME_REGS; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

int wallclock_init(void)
{
	uint8_t regs[RTC_TIME_REGS], again[RTC_TIME_REGS];
	uint8_t reg_b = 0, reg_b2, century = 0, century2;
	struct rtc_civil c = {0};
	int err = KEEL_ETIMEDOUT;

	/* Read twice with no update in progress and agree (Linux's
	 * mc146818_avoid_UIP does the same): an update between the wait and
	 * the reads would otherwise give a torn time. */
	for (unsigned try = 0; try < WALLCLOCK_TRIES; try++) {
		err = cmos_wait_uip();
		if (err)
			break;
		cmos_read_time(regs, &reg_b, &century);
		cmos_read_time(again, &reg_b2, &century2);
		if (cmos_same(regs, again) && reg_b == reg_b2 && century == century2 &&
		    !(cmos_read(RTC_REG_A) & RTC_REG_A_UIP)) {
			err = 0;
			break;
		}
		err = KEEL_ETIMEDOUT;
	}
	if (!err)
		err = rtc_decode_time(regs, reg_b, century, &c);
	wallclock_base_ns = time_ns();
	if (err) {
		log_err("wallclock: cannot read the host RTC (%s): the clock "
			"starts at 1970-01-01", err_str(err));
		wallclock_base_s = 0;
	} else {
		wallclock_base_s = rtc_civil_to_unix(c.year, c.mon, c.day, c.hour,
						     c.min, c.sec);
		log_info("wallclock: %04u-%02u-%02u %02u:%02u:%02u UTC (host RTC)",
			 c.year, c.mon, c.day, c.hour, c.min, c.sec);
	}
	__atomic_store_n(&wallclock_valid, true, __ATOMIC_RELEASE);
	return err;
}

uint64_t wallclock_now_s(void)
{
	if (!__atomic_load_n(&wallclock_valid, __ATOMIC_ACQUIRE))
		return 0;
	return wallclock_base_s + (time_ns() - wallclock_base_ns) / NS_PER_SEC;
}
