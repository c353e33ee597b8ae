/* Calendar dates for reporting's rules (pure): a date as year, month, day; months added with
 * the day clamped to the month's end; days between dates; the ISO text form. */
#ifndef HOSO_REPORTING_RDATE_H
#define HOSO_REPORTING_RDATE_H

typedef struct {
  int y, m, d;
} rdate;

/* 1 for a leap year of the Gregorian calendar. */
int rdate_leap(int y);
/* Days in month m of year y. */
int rdate_month_days(int y, int m);
/* Parses "YYYY-MM-DD" (a real date); 0, or -1 leaving *out untouched. */
int rdate_parse(const char *s, rdate *out);
/* "YYYY-MM-DD" into buf (at least 11 bytes); returns buf. */
char *rdate_fmt(rdate d, char buf[11]);
/* d plus n months (n may be negative), the day clamped to the last of the target month:
 * 31 January + 1 month = 28 or 29 February. */
rdate rdate_add_months(rdate d, int n);
/* d plus n days. */
rdate rdate_add_days(rdate d, long n);
/* Days from a to b (negative when b is before a). */
long rdate_days_between(rdate a, rdate b);
/* -1, 0, 1 as a is before, the same as, after b. */
int rdate_cmp(rdate a, rdate b);
/* The last day of d's month. */
rdate rdate_month_end(rdate d);
/* Whole months from the month of a to the month of b (b's month minus a's month). */
int rdate_month_diff(rdate a, rdate b);
/* The past days reports are asked for most, besides today: the first of today's month (when it
 * is not today), the most recent 30 June before today, 31 December of last year. Written to
 * out, newest first; returns how many (2 or 3). */
int rdate_report_days(rdate today, rdate out[3]);

#endif
