/* Retirement dates, ages and salary-step raises from the published facts: the one place these
 * rules live, used by statistics (bounds on birth dates), the forms and the alerts. */
#include "rules.h"

#include <string.h>

int rp_retirement_age_months(int gender, int year) {
  if (gender == RP_MALE) {
    if (year <= 2020) return 60 * 12;
    int m = 60 * 12 + 3 + 3 * (year - 2021);
    return m > 62 * 12 ? 62 * 12 : m;
  }
  if (gender == RP_FEMALE) {
    if (year <= 2020) return 55 * 12;
    int m = 55 * 12 + 4 + 4 * (year - 2021);
    return m > 60 * 12 ? 60 * 12 : m;
  }
  return -1;
}

int rp_retirement_date(rdate birth, int gender, rdate *out) {
  if (gender != RP_MALE && gender != RP_FEMALE) return -1;
  int born = birth.y * 12 + (birth.m - 1);
  /* The age of a year rises by at most 4 months a year, so the year in which the age reached
   * falls moves by at most one each year tried: the first year that is its own is the one. */
  for (int year = birth.y + 50; year <= birth.y + 70; year++) {
    int reach = born + rp_retirement_age_months(gender, year);
    if (reach / 12 == year) {
      rdate r = {year, reach % 12 + 1, 1};
      *out = rdate_month_end(r);
      return 0;
    }
  }
  return -1;
}

int rp_over_retirement_born_before(rdate day, int gender, rdate *out) {
  if (gender != RP_MALE && gender != RP_FEMALE) return -1;
  /* The first birth month whose retirement is not before `day`: the retirement date depends
   * on the birth month only and never decreases with it. */
  rdate b = {day.y - 80, 1, 1};
  for (int i = 0; i < 12 * 50; i++, b = rdate_add_months(b, 1)) {
    rdate r;
    if (rp_retirement_date(b, gender, &r) != 0) return -1;
    if (rdate_cmp(r, day) >= 0) {
      *out = b;
      return 0;
    }
  }
  return -1;
}

rdate rp_born_by_age(rdate day, int years) {
  rdate r = {day.y - years, day.m, day.d};
  /* 29 February of a leap `day`: the same day `years` earlier is 28 February */
  if (r.m == 2 && r.d == 29 && !rdate_leap(r.y)) r.d = 28;
  return r;
}

int rp_age_years(rdate birth, rdate day) {
  int age = day.y - birth.y;
  /* a birthday still to come this year; 29 February counts as 1 March in other years */
  int bm = birth.m, bd = birth.d;
  if (bm == 2 && bd == 29 && !rdate_leap(day.y)) {
    bm = 3;
    bd = 1;
  }
  if (day.m < bm || (day.m == bm && day.d < bd)) age--;
  return age;
}

int rp_discipline_months(const char *form, int public_employee) {
  if (!form) return 0;
  if (!strcmp(form, "CACH_CHUC") || !strcmp(form, "GIANG_CHUC") || !strcmp(form, "HA_BAC_LUONG")) return 12;
  if (!strcmp(form, "CANH_CAO")) return 6;
  if (!strcmp(form, "KHIEN_TRACH")) return public_employee ? 3 : 6;
  return 0;
}

/* Monday..Friday between a and b, both included. */
static long working_days(rdate a, rdate b) {
  long n = 0, span = rdate_days_between(a, b);
  /* 1970-01-01 was a Thursday: day k after it is a weekday when (k + 3) % 7 < 5 */
  rdate epoch = {1970, 1, 1};
  long k0 = rdate_days_between(epoch, a);
  for (long i = 0; i <= span; i++) {
    long w = ((k0 + i) % 7 + 7 + 3) % 7;
    n += w < 5;
  }
  return n;
}

/* Months a period that does not count adds: its whole months, and one more for a leftover of
 * 11 working days or more. */
static int gap_months(rp_period g) {
  rdate end = rdate_add_days(g.to, 1); /* exclusive */
  int months = rdate_month_diff(g.from, end);
  if (months < 0) return 0;
  rdate cut = rdate_add_months(g.from, months);
  if (rdate_cmp(cut, end) > 0) cut = rdate_add_months(g.from, --months);
  if (months < 0) return 0;
  long left = rdate_cmp(cut, end) < 0 ? working_days(cut, rdate_add_days(end, -1)) : 0;
  return months + (left >= 11);
}

int rp_next_raise(const rp_step_in *in, rp_raise *out) {
  if (in->step_years <= 0 || in->step < 1) return -1;
  memset(out, 0, sizeof *out);
  int at_last = in->last_step > 0 && in->step >= in->last_step;
  int base;
  if (!at_last) {
    out->kind = RP_RAISE_STEP;
    out->next_step = in->step + 1;
    base = in->step_years * 12;
  } else {
    out->kind = RP_RAISE_SENIORITY;
    out->next_step = in->step;
    out->next_percent = in->seniority_percent >= 5 ? in->seniority_percent + 1 : 5;
    base = in->seniority_percent >= 5 ? 12 : in->step_years * 12;
  }
  /* Extensions move the due date, which may bring in another measure or period: repeat until
   * nothing more falls inside the interval. */
  int ext = 0, gaps = 0;
  for (int round = 0; round < 64; round++) {
    rdate due = rdate_add_months(in->since, base + ext + gaps);
    int e = 0, g = 0;
    for (size_t i = 0; i < in->n_disciplines; i++) {
      rdate f = in->disciplines[i].from;
      if (rdate_cmp(f, in->since) >= 0 && rdate_cmp(f, due) < 0)
        e += rp_discipline_months(in->disciplines[i].form, in->public_employee);
    }
    for (size_t i = 0; i < in->n_gaps; i++) {
      rp_period p = in->gaps[i];
      if (rdate_cmp(p.from, due) >= 0 || rdate_cmp(p.to, in->since) < 0) continue;
      if (rdate_cmp(p.from, in->since) < 0) p.from = in->since;
      g += gap_months(p);
    }
    if (e == ext && g == gaps) {
      out->due = due;
      out->extension_months = ext;
      out->gap_months = gaps;
      return 0;
    }
    ext = e;
    gaps = g;
  }
  return -1;
}
