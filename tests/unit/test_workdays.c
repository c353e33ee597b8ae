/* The working-day engine (common/workdays.h) on the official calendars of 2024–2026
 * (REFERENCE §1): Tết, Hùng Kings' day, swapped Saturdays, year ends, leap years, years not
 * entered yet, and the allowances of the regulations counted from an effective date. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "workdays.h"

static wd_day D(const char *s) {
  wd_day d = 0;
  if (wd_parse(s, &d) != 0) fail_msg("bad date in the test: %s", s);
  return d;
}

static void assert_day(wd_day got, const char *want) {
  char s[11];
  wd_format(got, s);
  assert_string_equal(s, want);
}

/* The days off and Saturdays worked of state employees, as REFERENCE §1 lists them (weekend
 * days inside a holiday span are rest days anyway and are not listed). */
static const char *const off_2024[] = {"2024-01-01", "2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13",
                                       "2024-02-14", "2024-04-18", "2024-04-29", "2024-04-30", "2024-05-01",
                                       "2024-09-02", "2024-09-03"};
static const char *const worked_2024[] = {"2024-05-04"};
static const char *const off_2025[] = {"2025-01-01", "2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30",
                                       "2025-01-31", "2025-04-07", "2025-04-30", "2025-05-01", "2025-05-02",
                                       "2025-09-01", "2025-09-02"};
static const char *const worked_2025[] = {"2025-04-26"};
static const char *const off_2026[] = {"2026-01-01", "2026-01-02", "2026-02-16", "2026-02-17", "2026-02-18",
                                       "2026-02-19", "2026-02-20", "2026-04-27", "2026-04-30", "2026-05-01",
                                       "2026-09-02"};
static const char *const worked_2026[] = {"2026-01-10"};

static int add_year(wd_cal *c, int year, const char *const *off, size_t n_off, const char *const *worked,
                    size_t n_worked, char *err, size_t errlen) {
  wd_day o[32], w[8];
  for (size_t i = 0; i < n_off; i++) o[i] = D(off[i]);
  for (size_t i = 0; i < n_worked; i++) w[i] = D(worked[i]);
  wd_year y = {.year = year, .off = o, .n_off = n_off, .worked = w, .n_worked = n_worked};
  return wd_cal_set_year(c, &y, err, errlen);
}

#define N(a) (sizeof(a) / sizeof(a[0]))

static wd_cal *official(void) {
  char err[128];
  wd_cal *c = wd_cal_new();
  assert_non_null(c);
  assert_int_equal(add_year(c, 2024, off_2024, N(off_2024), worked_2024, N(worked_2024), err, sizeof err), 0);
  assert_int_equal(add_year(c, 2026, off_2026, N(off_2026), worked_2026, N(worked_2026), err, sizeof err), 0);
  assert_int_equal(add_year(c, 2025, off_2025, N(off_2025), worked_2025, N(worked_2025), err, sizeof err), 0);
  return c;
}

static wd_day add(const wd_cal *c, const char *from, int n, unsigned *flags) {
  unsigned f = 0;
  wd_day d = wd_add(c, D(from), n, &f);
  if (flags) *flags = f;
  return d;
}

/* ------------------------------------------------------------ dates --------------------- */

/* Every day of the accepted range formats and parses back to itself, one day apart each. */
static void test_dates_round_trip(void **state) {
  (void)state;
  wd_day first = wd_from_ymd(WD_YEAR_MIN, 1, 1), last = wd_from_ymd(WD_YEAR_MAX, 12, 31);
  for (wd_day d = first; d <= last; d++) {
    char s[11];
    wd_day back = 0;
    wd_format(d, s);
    assert_int_equal(wd_parse(s, &back), 0);
    assert_int_equal(back, d);
  }
  assert_int_equal(wd_from_ymd(1970, 1, 1), 0);
  assert_int_equal(wd_weekday(D("1970-01-01")), 3);  /* a Thursday */
  assert_int_equal(wd_weekday(D("2025-01-29")), 2);  /* mùng 1 Tết Ất Tỵ: a Wednesday */
  assert_int_equal(wd_weekday(D("2000-02-29")), 1);  /* a Tuesday */
  assert_int_equal(wd_weekday(D("1900-01-01")), 0);  /* a Monday */
}

/* Vietnam's day is UTC+7 all year: 17:00 UTC is already tomorrow there; before 1970 too. */
static void test_vietnam_day(void **state) {
  (void)state;
  int64_t dec4 = (int64_t)D("2026-12-04") * 86400; /* 2026-12-04 00:00 UTC */
  assert_int_equal(wd_vietnam_day(dec4), D("2026-12-04"));
  assert_int_equal(wd_vietnam_day(dec4 + 16 * 3600 + 3599), D("2026-12-04")); /* 23:59:59 in Hà Nội */
  assert_int_equal(wd_vietnam_day(dec4 + 17 * 3600), D("2026-12-05"));        /* midnight in Hà Nội */
  assert_int_equal(wd_vietnam_day(dec4 - 7 * 3600 - 1), D("2026-12-03"));
  assert_int_equal(wd_vietnam_day((int64_t)D("1969-12-31") * 86400 + 17 * 3600 - 1), D("1969-12-31"));
  assert_int_equal(wd_vietnam_day((int64_t)D("1969-12-31") * 86400 + 17 * 3600), D("1970-01-01"));
}

/* Leap years: 2024 and 2000 have 29 February, 2100 and 2025 do not. Only real dates parse. */
static void test_parse_refuses_what_is_not_a_date(void **state) {
  (void)state;
  wd_day d;
  assert_int_equal(wd_parse("2024-02-29", &d), 0);
  assert_int_equal(wd_parse("2000-02-29", &d), 0);
  assert_int_equal(wd_parse("2100-02-29", &d), -1);
  assert_int_equal(wd_parse("2025-02-29", &d), -1);
  assert_int_equal(wd_parse("2025-04-31", &d), -1);
  assert_int_equal(wd_parse("2025-13-01", &d), -1);
  assert_int_equal(wd_parse("2025-00-10", &d), -1);
  assert_int_equal(wd_parse("2025-1-01", &d), -1);
  assert_int_equal(wd_parse("2025/01/01", &d), -1);
  assert_int_equal(wd_parse("2025-01-01T00", &d), -1);
  assert_int_equal(wd_parse("1899-12-31", &d), -1);
  assert_int_equal(wd_parse("2201-01-01", &d), -1);
  assert_int_equal(wd_parse("", &d), -1);
  assert_int_equal(wd_parse(NULL, &d), -1);
  assert_int_equal(D("2024-03-01") - D("2024-02-28"), 2);
  assert_int_equal(D("2100-03-01") - D("2100-02-28"), 1);
}

/* ------------------------------------------------------------ the calendar -------------- */

/* Tết Ất Tỵ (2025): 27–31 January are days off and the weekends around them rest days, so
 * ten working days after Monday 20 January end on Monday 10 February; without the calendar
 * they would end on 3 February. */
static void test_tet_2025(void **state) {
  (void)state;
  wd_cal *c = official(), *bare = wd_cal_new();
  unsigned f;
  assert_day(add(c, "2025-01-20", 10, &f), "2025-02-10");
  assert_int_equal(f, 0);
  assert_day(add(bare, "2025-01-20", 10, &f), "2025-02-03");
  assert_int_equal(f, WD_ESTIMATED);
  assert_int_equal(wd_count(c, D("2025-01-24"), D("2025-02-03"), NULL), 1);
  for (wd_day d = D("2025-01-25"); d <= D("2025-02-02"); d++) assert_false(wd_is_working(c, d, NULL));
  wd_cal_free(c);
  wd_cal_free(bare);
}

/* Tết 2024 (8–14 February, Thursday to Wednesday) and Tết 2026 (16–20 February, a whole week). */
static void test_tet_2024_2026(void **state) {
  (void)state;
  wd_cal *c = official();
  assert_day(add(c, "2024-02-07", 1, NULL), "2024-02-15");
  assert_day(add(c, "2026-02-13", 1, NULL), "2026-02-23");
  assert_int_equal(wd_count(c, D("2026-02-13"), D("2026-02-23"), NULL), 1);
  assert_int_equal(wd_count(c, D("2026-02-01"), D("2026-02-28"), NULL), 15);
  wd_cal_free(c);
}

/* A swap: Saturday 26 April 2025 worked for Friday 2 May. The Saturday counts, the holiday
 * days 30 April – 2 May do not. */
static void test_swapped_saturday_2025(void **state) {
  (void)state;
  wd_cal *c = official();
  assert_true(wd_is_working(c, D("2025-04-26"), NULL));
  assert_false(wd_is_working(c, D("2025-05-02"), NULL));
  assert_false(wd_is_working(c, D("2025-04-19"), NULL)); /* an ordinary Saturday */
  assert_day(add(c, "2025-04-24", 1, NULL), "2025-04-25");
  assert_day(add(c, "2025-04-24", 2, NULL), "2025-04-26");
  assert_day(add(c, "2025-04-24", 3, NULL), "2025-04-28");
  assert_day(add(c, "2025-04-24", 5, NULL), "2025-05-05");
  /* Hùng Kings' day, Monday 7 April 2025. */
  assert_day(add(c, "2025-04-04", 1, NULL), "2025-04-08");
  wd_cal_free(c);
}

/* Year ends: 1 January off; 2026 begins with two days off and its swapped Saturday (10 January)
 * is worked; 2024's swap was Saturday 4 May. */
static void test_year_ends(void **state) {
  (void)state;
  wd_cal *c = official();
  unsigned f;
  assert_day(add(c, "2024-12-31", 1, &f), "2025-01-02");
  assert_int_equal(f, 0);
  assert_int_equal(wd_count(c, D("2024-12-27"), D("2025-01-03"), NULL), 4);
  assert_day(add(c, "2025-12-31", 1, NULL), "2026-01-05");
  assert_day(add(c, "2026-01-09", 1, NULL), "2026-01-10");
  assert_day(add(c, "2024-05-03", 1, NULL), "2024-05-04");
  /* Backwards across the year end. */
  assert_day(add(c, "2025-01-02", -1, NULL), "2024-12-31");
  assert_day(add(c, "2026-01-05", -1, NULL), "2025-12-31");
  wd_cal_free(c);
}

/* Leap years: 29 February 2024 is a working Thursday; calendar days count it. */
static void test_leap_years(void **state) {
  (void)state;
  wd_cal *c = official();
  assert_day(add(c, "2024-02-28", 1, NULL), "2024-02-29");
  assert_day(add(c, "2024-02-28", 3, NULL), "2024-03-04");
  wd_allowance cal30 = {.unit = WD_CALENDAR_DAYS, .days = 30};
  wd_day due;
  assert_int_equal(wd_due(c, &cal30, D("2024-02-01"), &due, NULL), 0);
  assert_day(due, "2024-03-02");
  assert_int_equal(wd_due(c, &cal30, D("2025-02-01"), &due, NULL), 0);
  assert_day(due, "2025-03-03");
  /* The working days of a whole leap year: 366 days, 104 weekend days, the listed days off,
   * one Saturday worked. */
  assert_int_equal(wd_count(c, D("2023-12-31"), D("2024-12-31"), NULL), 366 - 104 - (int)N(off_2024) + 1);
  wd_cal_free(c);
}

/* A year nobody has entered counts weekends only and says the result is an estimate; a date
 * reached inside entered years is not. An administrator entering the year makes it exact. */
static void test_years_not_entered(void **state) {
  (void)state;
  wd_cal *c = official();
  unsigned f;
  assert_day(add(c, "2026-12-30", 2, &f), "2027-01-01");
  assert_int_equal(f, WD_ESTIMATED);
  assert_day(add(c, "2026-12-28", 2, &f), "2026-12-30");
  assert_int_equal(f, 0);
  assert_false(wd_cal_has_year(c, 2027));
  char err[128];
  const char *off27[] = {"2027-01-01"};
  assert_int_equal(add_year(c, 2027, off27, 1, NULL, 0, err, sizeof err), 0);
  assert_true(wd_cal_has_year(c, 2027));
  assert_day(add(c, "2026-12-30", 2, &f), "2027-01-04");
  assert_int_equal(f, 0);
  wd_cal_free(c);
}

/* An administrator re-enters 2026 when the day beside 2 September is announced. */
static void test_year_replaced(void **state) {
  (void)state;
  wd_cal *c = official();
  char err[128];
  assert_day(add(c, "2026-09-01", 1, NULL), "2026-09-03");
  const char *off[N(off_2026) + 1];
  memcpy(off, off_2026, sizeof off_2026);
  off[N(off_2026)] = "2026-09-03";
  assert_int_equal(add_year(c, 2026, off, N(off), worked_2026, N(worked_2026), err, sizeof err), 0);
  assert_day(add(c, "2026-09-01", 1, NULL), "2026-09-04");
  wd_cal_free(c);
}

/* What an administrator may not enter: a day off on a rest day, a worked weekday, a day of
 * another year, a day twice, a week without a working day. The refusal names the entry. */
static void test_calendar_refusals(void **state) {
  (void)state;
  wd_cal *c = wd_cal_new();
  char err[128];
  const char *sat[] = {"2025-01-01", "2025-02-01"};
  assert_int_equal(add_year(c, 2025, sat, 2, NULL, 0, err, sizeof err), -1);
  assert_string_equal(err, "off[1]: 2025-02-01 is a Saturday, already a rest day");
  const char *mon[] = {"2025-04-28"};
  assert_int_equal(add_year(c, 2025, NULL, 0, mon, 1, err, sizeof err), -1);
  assert_string_equal(err, "worked[0]: 2025-04-28 is a Monday, already a working day");
  const char *other[] = {"2026-01-01"};
  assert_int_equal(add_year(c, 2025, other, 1, NULL, 0, err, sizeof err), -1);
  assert_string_equal(err, "off[0]: 2026-01-01 is not in 2025");
  const char *twice[] = {"2025-09-01", "2025-09-01"};
  assert_int_equal(add_year(c, 2025, twice, 2, NULL, 0, err, sizeof err), -1);
  assert_string_equal(err, "off[1]: 2025-09-01 is listed twice");
  wd_year allrest = {.year = 2025, .weekend = 0x7f};
  assert_int_equal(wd_cal_set_year(c, &allrest, err, sizeof err), -1);
  assert_false(wd_cal_has_year(c, 2025));
  /* A six-day week (Sunday only) is a pattern a calendar may hold. */
  wd_year six = {.year = 2025, .weekend = 0x40};
  assert_int_equal(wd_cal_set_year(c, &six, err, sizeof err), 0);
  assert_true(wd_is_working(c, D("2025-02-01"), NULL));
  wd_cal_free(c);
}

/* count and add agree everywhere: over every start day of 2024–2026 (and into 2027), n working
 * days forward are counted as n (and -n the other way), and the day reached is a working day. */
static void test_add_and_count_agree(void **state) {
  (void)state;
  wd_cal *c = official();
  for (wd_day d = D("2024-01-01"); d <= D("2026-12-31"); d++) {
    for (int n = 0; n <= 25; n++) {
      wd_day fwd = wd_add(c, d, n, NULL), back = wd_add(c, d, -n, NULL);
      assert_int_equal(wd_count(c, d, fwd, NULL), n);
      assert_int_equal(wd_count(c, fwd, d, NULL), -n);
      /* Going back n working days from a working day, and forward again, comes home. */
      if (wd_is_working(c, d, NULL)) {
        assert_int_equal(wd_count(c, back, d, NULL), n);
        assert_int_equal(wd_add(c, back, n, NULL), d);
      }
      if (n > 0) {
        assert_true(wd_is_working(c, fwd, NULL));
        assert_true(wd_is_working(c, back, NULL));
      }
    }
  }
  wd_cal_free(c);
}

/* ------------------------------------------------------------ allowances ---------------- */

/* The regulations' own sentences on one decision effective Friday 24 January 2025, the last
 * working day before Tết: 001 Đ10.2 "5 ngày làm việc" ends on Friday 7 February; 000 Đ9.1
 * "5 ngày" ends on 29 January, a day of Tết, so on the next working day, Monday 3 February
 * (BLDS 2015 Đ148.5) — or on the 29th itself for a policy that does not roll. */
static void test_allowances(void **state) {
  (void)state;
  wd_cal *c = official();
  wd_day due;
  unsigned f = 0;
  wd_allowance wd5 = {.unit = WD_WORKING_DAYS, .days = 5};
  assert_int_equal(wd_due(c, &wd5, D("2025-01-24"), &due, &f), 0);
  assert_day(due, "2025-02-07");
  wd_allowance cal5 = {.unit = WD_CALENDAR_DAYS, .days = 5, .roll_to_working_day = 1};
  assert_int_equal(wd_due(c, &cal5, D("2025-01-24"), &due, &f), 0);
  assert_day(due, "2025-02-03");
  cal5.roll_to_working_day = 0;
  assert_int_equal(wd_due(c, &cal5, D("2025-01-24"), &due, &f), 0);
  assert_day(due, "2025-01-29");
  assert_int_equal(f, 0);
  /* 004 Đ9.1: 10 working days from Monday 28 April 2025, across the 30/4–1/5 holidays. */
  wd_allowance wd10 = {.unit = WD_WORKING_DAYS, .days = 10};
  assert_int_equal(wd_due(c, &wd10, D("2025-04-28"), &due, NULL), 0);
  assert_day(due, "2025-05-15");
  /* 001 Đ9.2a: one working day to verify a declaration sent on a Friday before 2/9. */
  wd_allowance wd1 = {.unit = WD_WORKING_DAYS, .days = 1};
  assert_int_equal(wd_due(c, &wd1, D("2025-08-29"), &due, NULL), 0);
  assert_day(due, "2025-09-03");
  /* No deadline set; allowances out of range. */
  wd_allowance none = {.unit = WD_NO_DEADLINE};
  assert_int_equal(wd_due(c, &none, D("2025-01-24"), &due, NULL), 1);
  wd_allowance big = {.unit = WD_WORKING_DAYS, .days = WD_ALLOWANCE_MAX + 1};
  assert_int_equal(wd_due(c, &big, D("2025-01-24"), &due, NULL), -1);
  wd_allowance neg = {.unit = WD_CALENDAR_DAYS, .days = -1};
  assert_int_equal(wd_due(c, &neg, D("2025-01-24"), &due, NULL), -1);
  wd_cal_free(c);
}

/* Working days left as an officer reads them: 0 on the due day, 1 the working day before,
 * negative after; a weekend after a Friday deadline is not yet a working day late. */
static void test_days_left(void **state) {
  (void)state;
  wd_cal *c = official();
  assert_int_equal(wd_left(c, D("2025-02-07"), D("2025-02-07"), NULL), 0);
  assert_int_equal(wd_left(c, D("2025-02-06"), D("2025-02-07"), NULL), 1);
  assert_int_equal(wd_left(c, D("2025-01-24"), D("2025-02-07"), NULL), 5);
  assert_int_equal(wd_left(c, D("2025-02-08"), D("2025-02-07"), NULL), 0);
  assert_int_equal(wd_left(c, D("2025-02-10"), D("2025-02-07"), NULL), -1);
  wd_cal_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dates_round_trip),     cmocka_unit_test(test_parse_refuses_what_is_not_a_date),
      cmocka_unit_test(test_tet_2025),             cmocka_unit_test(test_tet_2024_2026),
      cmocka_unit_test(test_swapped_saturday_2025), cmocka_unit_test(test_year_ends),
      cmocka_unit_test(test_leap_years),           cmocka_unit_test(test_years_not_entered),
      cmocka_unit_test(test_year_replaced),        cmocka_unit_test(test_calendar_refusals),
      cmocka_unit_test(test_add_and_count_agree),  cmocka_unit_test(test_allowances),
      cmocka_unit_test(test_days_left),            cmocka_unit_test(test_vietnam_day),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
