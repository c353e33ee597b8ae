/* The working-day engine of workdays.h: dates as day numbers, each entered year kept as a bitmap
 * of its working days, and the add / count / due arithmetic over it. Pure: no I/O, no clock. */
#include "workdays.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days from civil (H. Hinnant's algorithm, proleptic Gregorian). */
wd_day wd_from_ymd(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153u * (unsigned)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (unsigned)d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (wd_day)(era * 146097 + (int)doe - 719468);
}

wd_day wd_vietnam_day(int64_t unix_seconds) {
  int64_t s = unix_seconds + 7 * 3600;
  return (wd_day)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400));
}

void wd_ymd(wd_day day, int *y, int *m, int *d) {
  const int z = day + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned dd = doy - (153 * mp + 2) / 5 + 1;
  const unsigned mm = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)yoe + era * 400 + (mm <= 2);
  *m = (int)mm;
  *d = (int)dd;
}

static int leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int y, int m) {
  static const int n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : n[m - 1];
}

int wd_parse(const char *s, wd_day *out) {
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return -1;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return -1;
  int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
  if (y < WD_YEAR_MIN || y > WD_YEAR_MAX || m < 1 || m > 12 || d < 1 || d > month_days(y, m)) return -1;
  *out = wd_from_ymd(y, m, d);
  return 0;
}

void wd_format(wd_day day, char out[11]) {
  int y, m, d;
  wd_ymd(day, &y, &m, &d);
  /* Written digit by digit: the compiler cannot see that m and d stay within two digits. */
  unsigned v[3] = {(unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u};
  out[0] = (char)('0' + v[0] / 1000);
  out[1] = (char)('0' + v[0] / 100 % 10);
  out[2] = (char)('0' + v[0] / 10 % 10);
  out[3] = (char)('0' + v[0] % 10);
  out[4] = out[7] = '-';
  out[5] = (char)('0' + v[1] / 10);
  out[6] = (char)('0' + v[1] % 10);
  out[8] = (char)('0' + v[2] / 10);
  out[9] = (char)('0' + v[2] % 10);
  out[10] = 0;
}

int wd_weekday(wd_day day) {
  /* 1970-01-01 was a Thursday (3). */
  int w = (int)((day % 7 + 7) % 7);
  return (w + 3) % 7;
}

/* ------------------------------------------------------------ the calendar -------------- */

typedef struct {
  int year;
  wd_day first;            /* 1 January */
  uint64_t working[6];     /* bit i: day first + i is a working day (366 bits) */
} year_bits;

struct wd_cal {
  year_bits *years;        /* sorted by year */
  size_t n, cap;
};

wd_cal *wd_cal_new(void) { return calloc(1, sizeof(wd_cal)); }

void wd_cal_free(wd_cal *c) {
  if (!c) return;
  free(c->years);
  free(c);
}

static const year_bits *find_year(const wd_cal *c, int year) {
  size_t lo = 0, hi = c ? c->n : 0;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c->years[mid].year == year) return &c->years[mid];
    if (c->years[mid].year < year)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

int wd_cal_has_year(const wd_cal *c, int year) { return find_year(c, year) != NULL; }

static int rest_by_pattern(unsigned weekend, wd_day day) { return (weekend >> wd_weekday(day)) & 1u; }

static int set_bit(uint64_t *bits, int i, int on) {
  uint64_t b = (uint64_t)1 << (i % 64);
  int was = (bits[i / 64] & b) != 0;
  if (on)
    bits[i / 64] |= b;
  else
    bits[i / 64] &= ~b;
  return was;
}

static const char *weekday_name(int w) {
  static const char *n[7] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  return n[w];
}

/* Applies one list of exceptions (off: working → rest; worked: rest → working) to yb. */
static int apply_list(year_bits *yb, unsigned weekend, const wd_day *days, size_t n, int worked,
                      const char *name, uint64_t *seen, char *err, size_t errlen) {
  int days_in_year = leap(yb->year) ? 366 : 365;
  for (size_t i = 0; i < n; i++) {
    char ds[11];
    wd_format(days[i], ds);
    int idx = days[i] - yb->first;
    if (idx < 0 || idx >= days_in_year) {
      snprintf(err, errlen, "%s[%zu]: %s is not in %d", name, i, ds, yb->year);
      return -1;
    }
    if (set_bit(seen, idx, 1)) {
      snprintf(err, errlen, "%s[%zu]: %s is listed twice", name, i, ds);
      return -1;
    }
    int rest = rest_by_pattern(weekend, days[i]);
    if (!worked && rest) {
      snprintf(err, errlen, "%s[%zu]: %s is a %s, already a rest day", name, i, ds, weekday_name(wd_weekday(days[i])));
      return -1;
    }
    if (worked && !rest) {
      snprintf(err, errlen, "%s[%zu]: %s is a %s, already a working day", name, i, ds,
               weekday_name(wd_weekday(days[i])));
      return -1;
    }
    set_bit(yb->working, idx, worked);
  }
  return 0;
}

int wd_cal_set_year(wd_cal *c, const wd_year *y, char *err, size_t errlen) {
  if (!c || !y) return -1;
  if (y->year < WD_YEAR_MIN || y->year > WD_YEAR_MAX) {
    snprintf(err, errlen, "year: must be between %d and %d", WD_YEAR_MIN, WD_YEAR_MAX);
    return -1;
  }
  unsigned weekend = y->weekend ? y->weekend : WD_WEEKEND_SAT_SUN;
  if (weekend >= 0x7fu) {
    snprintf(err, errlen, "weekend: a week needs at least one working day");
    return -1;
  }
  year_bits yb = {.year = y->year, .first = wd_from_ymd(y->year, 1, 1)};
  int days_in_year = leap(y->year) ? 366 : 365;
  for (int i = 0; i < days_in_year; i++) set_bit(yb.working, i, !rest_by_pattern(weekend, yb.first + i));
  uint64_t seen[6] = {0};
  if (apply_list(&yb, weekend, y->off, y->n_off, 0, "off", seen, err, errlen) != 0 ||
      apply_list(&yb, weekend, y->worked, y->n_worked, 1, "worked", seen, err, errlen) != 0)
    return -1;

  year_bits *slot = (year_bits *)find_year(c, y->year);
  if (!slot) {
    if (c->n == c->cap) {
      size_t cap = c->cap ? 2 * c->cap : 8;
      year_bits *v = realloc(c->years, cap * sizeof *v);
      if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
      }
      c->years = v;
      c->cap = cap;
    }
    size_t at = 0;
    while (at < c->n && c->years[at].year < y->year) at++;
    memmove(c->years + at + 1, c->years + at, (c->n - at) * sizeof *c->years);
    c->n++;
    slot = &c->years[at];
  }
  *slot = yb;
  return 0;
}

/* ------------------------------------------------------------ arithmetic ---------------- */

int wd_is_working(const wd_cal *c, wd_day day, unsigned *flags) {
  int y, m, d;
  wd_ymd(day, &y, &m, &d);
  const year_bits *yb = find_year(c, y);
  if (!yb) {
    if (flags) *flags |= WD_ESTIMATED;
    return !rest_by_pattern(WD_WEEKEND_SAT_SUN, day);
  }
  int i = day - yb->first;
  return (yb->working[i / 64] >> (i % 64)) & 1u;
}

wd_day wd_add(const wd_cal *c, wd_day from, int n, unsigned *flags) {
  int step = n < 0 ? -1 : 1, left = n < 0 ? -n : n;
  wd_day d = from;
  while (left > 0) {
    d += step;
    if (wd_is_working(c, d, flags)) left--;
  }
  return d;
}

/* Set bits i..j (inclusive) of a year's bitmap. */
static int bits_in(const uint64_t *w, int i, int j) {
  int n = 0;
  while (i <= j) {
    int word = i / 64, lo = i % 64, hi = j / 64 == word ? j % 64 : 63;
    uint64_t mask = (hi == 63 ? ~(uint64_t)0 : (((uint64_t)1 << (hi + 1)) - 1)) & ~(((uint64_t)1 << lo) - 1);
    n += __builtin_popcountll(w[word] & mask);
    i = word * 64 + hi + 1;
  }
  return n;
}

/* Monday-to-Friday days in a..b (inclusive): the pattern of a year not entered. */
static int weekdays_in(wd_day a, wd_day b) {
  int len = (int)(b - a + 1), n = len / 7 * 5;
  for (wd_day d = a + len / 7 * 7; d <= b; d++) n += wd_weekday(d) < 5;
  return n;
}

int wd_count(const wd_cal *c, wd_day from, wd_day to, unsigned *flags) {
  int sign = 1, n = 0;
  if (to < from) {
    wd_day t = from;
    from = to;
    to = t;
    sign = -1;
  }
  /* A year at a time: a deadline long past is counted in a few steps, not day by day. */
  for (wd_day d = from + 1; d <= to;) {
    int y, m, dd;
    wd_ymd(d, &y, &m, &dd);
    wd_day year_end = wd_from_ymd(y + 1, 1, 1) - 1, end = to < year_end ? to : year_end;
    const year_bits *yb = find_year(c, y);
    if (yb) {
      n += bits_in(yb->working, d - yb->first, end - yb->first);
    } else {
      n += weekdays_in(d, end);
      if (flags) *flags |= WD_ESTIMATED;
    }
    d = end + 1;
  }
  return sign * n;
}

wd_day wd_next_working(const wd_cal *c, wd_day day, unsigned *flags) {
  while (!wd_is_working(c, day, flags)) day++;
  return day;
}

int wd_due(const wd_cal *c, const wd_allowance *a, wd_day start, wd_day *due, unsigned *flags) {
  if (!a || a->days < 0 || a->days > WD_ALLOWANCE_MAX) return -1;
  switch (a->unit) {
  case WD_NO_DEADLINE:
    return 1;
  case WD_CALENDAR_DAYS:
    *due = start + a->days;
    if (a->roll_to_working_day) *due = wd_next_working(c, *due, flags);
    return 0;
  case WD_WORKING_DAYS:
    *due = wd_add(c, start, a->days, flags);
    return 0;
  }
  return -1;
}

int wd_left(const wd_cal *c, wd_day today, wd_day due, unsigned *flags) { return wd_count(c, today, due, flags); }
