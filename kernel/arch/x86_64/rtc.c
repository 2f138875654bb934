/*
 * The CMOS real-time clock (MC146818 at I/O ports 0x70/0x71), read for the
 * wall-clock time.  QEMU keeps it in UTC.  Waits are bounded: a machine
 * without an RTC reads as the epoch.
 */
#include <stdint.h>

#include "cpu.h"

#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71
#define NMI_OFF		0x80

static uint8_t
cmos(uint8_t reg)
{
	outb(CMOS_INDEX, NMI_OFF | reg);
	return inb(CMOS_DATA);
}

static unsigned
bcd(uint8_t v, int binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static uint64_t
days(unsigned y, unsigned m, unsigned d)
{
	y -= m <= 2;
	uint64_t era = y / 400, yoe = y - era * 400;
	uint64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

uint64_t rtc_epoch_seconds(void);

uint64_t
rtc_epoch_seconds(void)
{
	uint8_t r[7], again[7], b;
	int tries = 0;

	do {
		/* Wait out an update in progress (about 2 ms at most). */
		for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
			pause();
		r[0] = cmos(0x00); r[1] = cmos(0x02); r[2] = cmos(0x04);
		r[3] = cmos(0x07); r[4] = cmos(0x08); r[5] = cmos(0x09);
		r[6] = cmos(0x32);
		again[0] = cmos(0x00); again[1] = cmos(0x02); again[2] = cmos(0x04);
		again[3] = cmos(0x07); again[4] = cmos(0x08); again[5] = cmos(0x09);
		again[6] = cmos(0x32);
	} while (++tries < 5 && __builtin_memcmp(r, again, sizeof(r)) != 0);

	b = cmos(0x0b);
	int binary = b & 0x04, h24 = b & 0x02;
	unsigned sec = bcd(r[0], binary), min = bcd(r[1], binary);
	unsigned hour = bcd(r[2] & 0x7f, binary);
	unsigned day = bcd(r[3], binary), mon = bcd(r[4], binary);
	unsigned year = bcd(r[5], binary), century = bcd(r[6], binary);

	if (!h24 && (r[2] & 0x80))
		hour = (hour % 12) + 12;
	if (century < 19 || century > 30)
		century = 20;
	year += century * 100;
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return 0;
	return days(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
}
