/* Calendar arithmetic on proleptic Gregorian dates (days from 1970-01-01 by Howard Hinnant's
 * civil-date algorithm), enough for ages, retirement months and step intervals. */
#include "rdate.h"

#include <stdio.h>
#include <string.h>

int rdate_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int rdate_month_days(int y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && rdate_leap(y) ? 29 : days[m - 1];
}

int rdate_parse(const char *s, rdate *out) {
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return -1;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return -1;
  int y, m, d;
  if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3) return -1;
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > rdate_month_days(y, m)) return -1;
  out->y = y;
  out->m = m;
  out->d = d;
  return 0;
}

char *rdate_fmt(rdate d, char buf[11]) {
  unsigned y = (unsigned)d.y % 10000u, m = (unsigned)d.m % 13u, day = (unsigned)d.d % 32u;
  buf[0] = (char)('0' + y / 1000), buf[1] = (char)('0' + y / 100 % 10);
  buf[2] = (char)('0' + y / 10 % 10), buf[3] = (char)('0' + y % 10), buf[4] = '-';
  buf[5] = (char)('0' + m / 10), buf[6] = (char)('0' + m % 10), buf[7] = '-';
  buf[8] = (char)('0' + day / 10), buf[9] = (char)('0' + day % 10), buf[10] = '\0';
  return buf;
}

rdate rdate_add_months(rdate d, int n) {
  int total = d.y * 12 + (d.m - 1) + n;
  rdate r = {total / 12, total % 12 + 1, d.d};
  int last = rdate_month_days(r.y, r.m);
  if (r.d > last) r.d = last;
  return r;
}

static long days_from_civil(rdate d) {
  int y = d.m <= 2 ? d.y - 1 : d.y;
  long era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153u * (unsigned)(d.m > 2 ? d.m - 3 : d.m + 9) + 2) / 5 + (unsigned)d.d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long)doe - 719468;
}

static rdate civil_from_days(long z) {
  z += 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long y = (long)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  rdate r = {(int)(y + (m <= 2)), (int)m, (int)d};
  return r;
}

rdate rdate_add_days(rdate d, long n) { return civil_from_days(days_from_civil(d) + n); }

long rdate_days_between(rdate a, rdate b) { return days_from_civil(b) - days_from_civil(a); }

int rdate_cmp(rdate a, rdate b) {
  long x = days_from_civil(a), y = days_from_civil(b);
  return (x > y) - (x < y);
}

rdate rdate_month_end(rdate d) {
  d.d = rdate_month_days(d.y, d.m);
  return d;
}

int rdate_month_diff(rdate a, rdate b) { return (b.y * 12 + b.m) - (a.y * 12 + a.m); }

int rdate_report_days(rdate today, rdate out[3]) {
  int n = 0;
  rdate first = {today.y, today.m, 1};
  if (today.d != 1) out[n++] = first;
  rdate june = {today.y, 6, 30};
  if (rdate_cmp(june, today) >= 0) june.y--;
  rdate dec = {today.y - 1, 12, 31};
  /* newest first: 30 June of this year comes after 31 December of last year */
  if (rdate_cmp(june, dec) > 0) {
    out[n++] = june;
    out[n++] = dec;
  } else {
    out[n++] = dec;
    out[n++] = june;
  }
  return n;
}
