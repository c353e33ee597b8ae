/* Unit tests of reporting/rules.c and rdate.c (compiled in): retirement dates of NĐ 135/2020
 * to the month (REFERENCE §3's check cases and the boundaries of each yearly step), ages on a
 * day with leap days, and the next salary-step or beyond-frame raise (REFERENCE §4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rules.h"

static rdate D(const char *s) {
  rdate d = {0, 0, 0};
  assert_int_equal(rdate_parse(s, &d), 0);
  return d;
}

static void expect_date(rdate got, const char *want) {
  char buf[11];
  assert_string_equal(rdate_fmt(got, buf), want);
}

static void expect_retire(const char *birth, int gender, const char *want) {
  rdate r;
  assert_int_equal(rp_retirement_date(D(birth), gender, &r), 0);
  expect_date(r, want);
}

static void test_dates(void **state) {
  (void)state;
  rdate d;
  assert_int_equal(rdate_parse("2024-02-29", &d), 0);
  assert_int_equal(rdate_parse("2023-02-29", &d), -1);
  assert_int_equal(rdate_parse("2023-13-01", &d), -1);
  assert_int_equal(rdate_parse("2023-1-01", &d), -1);
  expect_date(rdate_add_months(D("2024-01-31"), 1), "2024-02-29");
  expect_date(rdate_add_months(D("2023-01-31"), 1), "2023-02-28");
  expect_date(rdate_add_months(D("2024-02-29"), 12), "2025-02-28");
  expect_date(rdate_add_months(D("2024-03-31"), -1), "2024-02-29");
  expect_date(rdate_add_days(D("2024-02-28"), 1), "2024-02-29");
  expect_date(rdate_add_days(D("2023-12-31"), 1), "2024-01-01");
  assert_int_equal(rdate_days_between(D("2024-01-01"), D("2025-01-01")), 366);
  expect_date(rdate_month_end(D("2100-02-10")), "2100-02-28");
  expect_date(rdate_month_end(D("2000-02-10")), "2000-02-29");
}

/* REFERENCE §3's check cases. */
static void test_retirement_reference_cases(void **state) {
  (void)state;
  expect_retire("1964-01-15", RP_MALE, "2025-04-30");
  expect_retire("1965-01-01", RP_MALE, "2026-07-31");
  expect_retire("1966-04-20", RP_MALE, "2028-04-30");
  expect_retire("1975-05-09", RP_FEMALE, "2035-05-31");
}

/* Each yearly step's edge: the last people who reach the year's age within the year, and the
 * first who do not and so take the next year's age. */
static void test_retirement_yearly_steps(void **state) {
  (void)state;
  /* before 2021: 60 and 55 */
  expect_retire("1960-10-01", RP_MALE, "2020-10-31");
  expect_retire("1965-12-31", RP_FEMALE, "2020-12-31");
  /* men 2021 (60 y 3 m): born 09/1961 reach it in 12/2021; born 10/1961 reach it in 2022,
   * whose age is 60 y 6 m */
  expect_retire("1961-09-30", RP_MALE, "2021-12-31");
  expect_retire("1961-10-01", RP_MALE, "2022-04-30");
  /* women 2021 (55 y 4 m) and 2022 (55 y 8 m) */
  expect_retire("1966-08-31", RP_FEMALE, "2021-12-31");
  expect_retire("1966-09-01", RP_FEMALE, "2022-05-31");
  /* men reach 62 from 2028; born 03/1966 are the last to take 2027's 61 y 9 m, born 04/1966
   * reach it in 2028 and so need 62 y */
  expect_retire("1966-02-10", RP_MALE, "2027-11-30");
  expect_retire("1966-03-31", RP_MALE, "2027-12-31");
  expect_retire("1966-04-01", RP_MALE, "2028-04-30");
  expect_retire("1980-06-15", RP_MALE, "2042-06-30");
  /* women reach 60 from 2035 */
  expect_retire("1974-12-01", RP_FEMALE, "2034-08-31");
  expect_retire("1990-01-01", RP_FEMALE, "2050-01-31");
  /* the end of a leap February, and a birthday on 29 February */
  expect_retire("1970-02-05", RP_MALE, "2032-02-29");
  expect_retire("1976-02-29", RP_FEMALE, "2036-02-29");
  /* while the ages rise, the first months of a year are nobody's: born 10/1968, a woman
   * reaches 2024's 56 y 4 m only in 2025, so 2025's 56 y 8 m applies */
  expect_retire("1968-10-05", RP_FEMALE, "2025-06-30");
  expect_retire("1964-02-29", RP_MALE, "2025-05-31");
  rdate r;
  assert_int_equal(rp_retirement_date(D("1964-02-29"), 0, &r), -1);
  assert_int_equal(rp_retirement_age_months(RP_MALE, 2035), 744);
  assert_int_equal(rp_retirement_age_months(RP_FEMALE, 2029), 696);
}

/* Over the retirement age on a day: retired before it, decided by the birth month alone. */
static void test_over_retirement_bound(void **state) {
  (void)state;
  rdate b;
  /* a man born 01/1964 retires 30/04/2025: over on 1 May, not on 30 April */
  assert_int_equal(rp_over_retirement_born_before(D("2025-05-01"), RP_MALE, &b), 0);
  expect_date(b, "1964-02-01");
  assert_int_equal(rp_over_retirement_born_before(D("2025-04-30"), RP_MALE, &b), 0);
  expect_date(b, "1964-01-01");
  /* women on 31 December 2024 (56 y 4 m that year): born 08/1968 retire 31/12/2024 */
  assert_int_equal(rp_over_retirement_born_before(D("2024-12-31"), RP_FEMALE, &b), 0);
  expect_date(b, "1968-08-01");
  /* every birth month agrees with the bound */
  rdate day = D("2026-12-31");
  for (int g = RP_MALE; g <= RP_FEMALE; g++) {
    assert_int_equal(rp_over_retirement_born_before(day, g, &b), 0);
    for (rdate m = D("1955-01-01"); m.y < 1975; m = rdate_add_months(m, 1)) {
      rdate r;
      assert_int_equal(rp_retirement_date(m, g, &r), 0);
      assert_int_equal(rdate_cmp(r, day) < 0, rdate_cmp(m, b) < 0);
    }
  }
}

static void test_ages(void **state) {
  (void)state;
  assert_int_equal(rp_age_years(D("1990-06-15"), D("2020-06-14")), 29);
  assert_int_equal(rp_age_years(D("1990-06-15"), D("2020-06-15")), 30);
  /* 29 February: a year older on 1 March in other years, on 29 February in leap years */
  assert_int_equal(rp_age_years(D("2000-02-29"), D("2031-02-28")), 30);
  assert_int_equal(rp_age_years(D("2000-02-29"), D("2031-03-01")), 31);
  assert_int_equal(rp_age_years(D("2000-02-29"), D("2032-02-29")), 32);
  expect_date(rp_born_by_age(D("2026-12-31"), 30), "1996-12-31");
  expect_date(rp_born_by_age(D("2032-02-29"), 31), "2001-02-28");
  /* the bound agrees with the age: born on it means that age, a day later means younger */
  rdate day = D("2032-02-29"), by = rp_born_by_age(day, 31);
  assert_int_equal(rp_age_years(by, day), 31);
  assert_int_equal(rp_age_years(rdate_add_days(by, 1), day), 30);
}

static rp_step_in step_in(const char *since, int years, int step, int last) {
  rp_step_in in;
  memset(&in, 0, sizeof in);
  in.since = D(since);
  in.step_years = years;
  in.step = step;
  in.last_step = last;
  return in;
}

static void expect_raise(const rp_step_in *in, int kind, const char *due, int next_step, int next_pct) {
  rp_raise r;
  assert_int_equal(rp_next_raise(in, &r), 0);
  assert_int_equal(r.kind, kind);
  expect_date(r.due, due);
  assert_int_equal(r.next_step, next_step);
  assert_int_equal(r.next_percent, next_pct);
}

static void test_step_intervals(void **state) {
  (void)state;
  rp_step_in in = step_in("2023-03-15", 3, 2, 9);
  expect_raise(&in, RP_RAISE_STEP, "2026-03-15", 3, 0);
  in = step_in("2023-03-15", 2, 5, 12);
  expect_raise(&in, RP_RAISE_STEP, "2025-03-15", 6, 0);
  /* the day of the month, or the month's last day when shorter */
  in = step_in("2024-02-29", 3, 1, 9);
  expect_raise(&in, RP_RAISE_STEP, "2027-02-28", 2, 0);
  in = step_in("2023-08-31", 2, 1, 12);
  expect_raise(&in, RP_RAISE_STEP, "2025-08-31", 2, 0);
  in = step_in("2023-03-15", 0, 2, 9);
  rp_raise r;
  assert_int_equal(rp_next_raise(&in, &r), -1);
}

static void test_step_discipline(void **state) {
  (void)state;
  rp_discipline d[2] = {{"KHIEN_TRACH", D("2024-06-01")}, {"CANH_CAO", D("2026-05-01")}};
  rp_step_in in = step_in("2023-03-15", 3, 2, 9);
  in.disciplines = d;
  in.n_disciplines = 1;
  expect_raise(&in, RP_RAISE_STEP, "2026-09-15", 3, 0); /* civil servant: + 6 */
  in.public_employee = 1;
  expect_raise(&in, RP_RAISE_STEP, "2026-06-15", 3, 0); /* public employee: + 3 */
  in.public_employee = 0;
  /* a warning after the first due date but before the extended one extends it again */
  in.n_disciplines = 2;
  expect_raise(&in, RP_RAISE_STEP, "2027-03-15", 3, 0);
  /* dismissal level: + 12; a measure before the interval or on its due date does not count */
  rp_discipline e[3] = {{"CACH_CHUC", D("2025-01-01")}, {"KHIEN_TRACH", D("2023-03-14")},
                        {"CANH_CAO", D("2027-03-15")}};
  in.disciplines = e;
  in.n_disciplines = 3;
  rp_raise r;
  assert_int_equal(rp_next_raise(&in, &r), 0);
  expect_date(r.due, "2027-03-15");
  assert_int_equal(r.extension_months, 12);
  assert_int_equal(rp_discipline_months("BUOC_THOI_VIEC", 0), 0);
  assert_int_equal(rp_discipline_months("HA_BAC_LUONG", 1), 12);
}

static void test_step_gaps(void **state) {
  (void)state;
  rp_step_in in = step_in("2023-03-15", 3, 2, 9);
  rp_period g = {D("2024-01-01"), D("2024-02-29")}; /* two whole months of unpaid leave */
  in.gaps = &g;
  in.n_gaps = 1;
  rp_raise r;
  assert_int_equal(rp_next_raise(&in, &r), 0);
  expect_date(r.due, "2026-05-15");
  assert_int_equal(r.gap_months, 2);
  /* 1..20 January 2024: 15 working days, a month; 1..10 January: 8, ignored */
  g.to = D("2024-01-20");
  assert_int_equal(rp_next_raise(&in, &r), 0);
  assert_int_equal(r.gap_months, 1);
  g.to = D("2024-01-10");
  assert_int_equal(rp_next_raise(&in, &r), 0);
  assert_int_equal(r.gap_months, 0);
  expect_date(r.due, "2026-03-15");
}

static void test_seniority_beyond_frame(void **state) {
  (void)state;
  /* group A at the last step: 5 % after 36 months, then + 1 % a year */
  rp_step_in in = step_in("2022-07-01", 3, 9, 9);
  expect_raise(&in, RP_RAISE_SENIORITY, "2025-07-01", 9, 5);
  in.seniority_percent = 7;
  expect_raise(&in, RP_RAISE_SENIORITY, "2023-07-01", 9, 8);
  /* group B: after 24 months */
  in = step_in("2022-07-01", 2, 12, 12);
  expect_raise(&in, RP_RAISE_SENIORITY, "2024-07-01", 12, 5);
  /* discipline extends it as well */
  rp_discipline d = {"KHIEN_TRACH", D("2023-01-01")};
  in.disciplines = &d;
  in.n_disciplines = 1;
  expect_raise(&in, RP_RAISE_SENIORITY, "2025-01-01", 12, 5);
}

static void expect_days(const char *today, const char *want) {
  rdate t, d[3];
  assert_int_equal(rdate_parse(today, &t), 0);
  int n = rdate_report_days(t, d);
  char got[64] = "", b[11];
  for (int i = 0; i < n; i++) {
    strcat(got, i ? " " : "");
    strcat(got, rdate_fmt(d[i], b));
  }
  assert_string_equal(got, want);
}

/* The past days the kept counts are warmed for: the month's first day, the last 30 June, 31
 * December of last year; none of them today, newest first. */
static void test_report_days(void **state) {
  (void)state;
  expect_days("2026-12-05", "2026-12-01 2026-06-30 2025-12-31");
  expect_days("2026-03-15", "2026-03-01 2025-12-31 2025-06-30");
  expect_days("2026-01-01", "2025-12-31 2025-06-30");
  expect_days("2026-06-30", "2026-06-01 2025-12-31 2025-06-30");
  expect_days("2026-07-01", "2026-06-30 2025-12-31");
  expect_days("2028-02-29", "2028-02-01 2027-12-31 2027-06-30");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dates),
      cmocka_unit_test(test_retirement_reference_cases),
      cmocka_unit_test(test_retirement_yearly_steps),
      cmocka_unit_test(test_over_retirement_bound),
      cmocka_unit_test(test_ages),
      cmocka_unit_test(test_step_intervals),
      cmocka_unit_test(test_step_discipline),
      cmocka_unit_test(test_step_gaps),
      cmocka_unit_test(test_seniority_beyond_frame),
      cmocka_unit_test(test_report_days),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
