/* Working days (ngày làm việc): the calendar as data per year (weekly rest days, days off,
 * Saturdays worked in a swap) and the arithmetic every deadline of the regulations uses. Pure. */
#ifndef HOSO_WORKDAYS_H
#define HOSO_WORKDAYS_H

#include <stddef.h>
#include <stdint.h>

/* A date as a day number: days since 1970-01-01 (proleptic Gregorian; negative before). */
typedef int32_t wd_day;

/* The years the engine accepts: a date outside them is refused by wd_parse and never made. */
#define WD_YEAR_MIN 1900
#define WD_YEAR_MAX 2200

wd_day wd_from_ymd(int y, int m, int d);
void wd_ymd(wd_day day, int *y, int *m, int *d);
/* "YYYY-MM-DD", a real date between WD_YEAR_MIN and WD_YEAR_MAX. 0 / -1. */
int wd_parse(const char *s, wd_day *out);
/* "YYYY-MM-DD" into out (11 bytes). */
void wd_format(wd_day day, char out[11]);
/* The day in Vietnam (UTC+7 all year, no daylight saving) at the moment unix_seconds: the day
 * deadlines, read grants and reports are judged on, whatever the server's time zone. */
wd_day wd_vietnam_day(int64_t unix_seconds);
/* 0 = Monday .. 6 = Sunday. */
int wd_weekday(wd_day day);

/* Weekly rest days as a mask of weekdays (bit 0 = Monday): state bodies rest on Saturday and
 * Sunday (Nghị định 45/2013, 40 hours a week). */
#define WD_WEEKEND_SAT_SUN 0x60u

/* The days of one year that differ from its weekly pattern. */
typedef struct {
  int year;
  unsigned weekend;      /* rest weekdays (mask as above); 0 is taken as WD_WEEKEND_SAT_SUN */
  const wd_day *off;     /* days off that would be working days: holidays (Tết, 30/4, 2/9...),
                            compensatory days, the weekday given in a swap */
  size_t n_off;
  const wd_day *worked;  /* rest days worked instead (làm bù: a Saturday of a swap) */
  size_t n_worked;
} wd_year;

/* The calendar: the years entered, each complete. A year not entered counts Saturday and
 * Sunday as rest days and nothing else, and every result that crossed such a day says so
 * (WD_ESTIMATED): its holidays are not known yet, so the date may move when they are. */
typedef struct wd_cal wd_cal;

wd_cal *wd_cal_new(void);
void wd_cal_free(wd_cal *c);
/* Enters (or replaces) a year. Every day must lie in that year, a day off must be a working day
 * of the weekly pattern and a day worked a rest day of it, none twice. 0, or -1 with a reason
 * in err ("off[2]: 2025-02-01 is a Saturday, already a rest day"). */
int wd_cal_set_year(wd_cal *c, const wd_year *y, char *err, size_t errlen);
int wd_cal_has_year(const wd_cal *c, int year);

enum { WD_ESTIMATED = 1u << 0 };

/* Whether day is a working day; *flags (may be NULL) gains WD_ESTIMATED for a year not entered. */
int wd_is_working(const wd_cal *c, wd_day day, unsigned *flags);
/* The n-th working day after `from` (n > 0), counted from the next day as the regulations
 * count ("trong N ngày làm việc kể từ ngày..."); n < 0: the |n|-th working day before it;
 * n = 0: from itself. */
wd_day wd_add(const wd_cal *c, wd_day from, int n, unsigned *flags);
/* Working days in (from, to]: so that wd_count(c, d, wd_add(c, d, n)) == n for n >= 0. When to
 * is before from: minus the working days in (to, from]. */
int wd_count(const wd_cal *c, wd_day from, wd_day to, unsigned *flags);
/* day itself when it is a working day, else the next working day. */
wd_day wd_next_working(const wd_cal *c, wd_day day, unsigned *flags);

/* --- allowances (thời hạn) ---------------------------------------------------------------- */

typedef enum {
  WD_NO_DEADLINE = 0,    /* the regulation sets none for this step */
  WD_CALENDAR_DAYS = 1,  /* "trong N ngày": calendar days */
  WD_WORKING_DAYS = 2,   /* "trong N ngày làm việc" */
} wd_unit;

typedef struct {
  wd_unit unit;
  int days;              /* 0 .. WD_ALLOWANCE_MAX */
  /* Calendar days only: a period whose last day is a rest day ends at the end of the next
   * working day (Bộ luật Dân sự 2015, Điều 148 khoản 5). */
  int roll_to_working_day;
} wd_allowance;

#define WD_ALLOWANCE_MAX 365

/* The due date of a step allowed `a` from `start`. 1 when the allowance sets no deadline
 * (WD_NO_DEADLINE), 0 with *due set, -1 for an allowance out of range. */
int wd_due(const wd_cal *c, const wd_allowance *a, wd_day start, wd_day *due, unsigned *flags);

/* Working days left from `today` to `due`: 0 on the due day, negative once overdue (-1 the
 * first working day after it). The figure an officer reads beside the due date. */
int wd_left(const wd_cal *c, wd_day today, wd_day due, unsigned *flags);

#endif
