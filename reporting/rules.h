/* The rules reporting computes from the published facts (pure): retirement ages of NĐ
 * 135/2020 to the month (REFERENCE §3), the next regular salary-step raise or beyond-frame
 * seniority step of TT 08/2013 as amended by TT 03/2021 (REFERENCE §4), and ages on a day. */
#ifndef HOSO_REPORTING_RULES_H
#define HOSO_REPORTING_RULES_H

#include <stddef.h>
#include "rdate.h"

enum { RP_MALE = 1, RP_FEMALE = 2 }; /* hoso.records.v1.Gender */

/* The normal retirement age, in months, of people who reach it in calendar year `year`:
 * before 2021 60 y (men) and 55 y (women); from 2021 60 y 3 m rising 3 months a year to 62 y,
 * and 55 y 4 m rising 4 months a year to 60 y. -1 for another gender. */
int rp_retirement_age_months(int gender, int year);

/* The day retirement takes effect for a person born on `birth`: the last day of the month in
 * which they reach the age that applies to the year they reach it. 0, or -1 (no gender). */
int rp_retirement_date(rdate birth, int gender, rdate *out);

/* People of `gender` born before *out are past their retirement on day `day` (their
 * retirement took effect before it); those born on or after it are not. The rule is monotone
 * in the birth date, so a statistic needs only this bound. 0 / -1. */
int rp_over_retirement_born_before(rdate day, int gender, rdate *out);

/* People born on or before *out are at least `years` old on `day` (a birthday on 29 February
 * falls on 1 March in other years, as PostgreSQL's age() counts). */
rdate rp_born_by_age(rdate day, int years);

/* Whole years of age on `day` of a person born on `birth`. */
int rp_age_years(rdate birth, rdate day);

/* A disciplinary measure (catalogue DISCIPLINE_FORM code) taking effect on `from`. */
typedef struct {
  const char *form;
  rdate from;
} rp_discipline;

/* A period that does not count towards the step interval (unpaid leave, suspension,
 * probation, custody): both days included. */
typedef struct {
  rdate from, to;
} rp_period;

typedef struct {
  int step_years;          /* from the rank's salary table: 3 (college or higher), 2, or 5 */
  int step, last_step;     /* the current step and the frame's last */
  rdate since;             /* the salary's effective date: the last raise or seniority change */
  int seniority_percent;   /* beyond-frame seniority now (0, or 5 and above) */
  int public_employee;     /* viên chức: a reprimand extends by 3 months, not 6 */
  const rp_discipline *disciplines;
  size_t n_disciplines;
  const rp_period *gaps;
  size_t n_gaps;
} rp_step_in;

enum { RP_RAISE_STEP = 1, RP_RAISE_SENIORITY = 2 };

typedef struct {
  int kind;                /* RP_RAISE_STEP or RP_RAISE_SENIORITY */
  rdate due;               /* when it falls due */
  int next_step;           /* the step after the raise (the same at the last step) */
  int next_percent;        /* beyond-frame seniority after it (0 below the last step) */
  int extension_months;    /* added by discipline */
  int gap_months;          /* added by periods that do not count */
} rp_raise;

/* The next raise: below the last step, step + 1 after step_years (extended by discipline in
 * the interval and by periods that do not count: whole months, plus one for a leftover of 11
 * working days or more); at the last step, beyond-frame seniority of 5 % after step_years and
 * +1 % every 12 months, extended likewise. The months run from `since` and the raise falls
 * due on the same day of the month (the month's last day when shorter). 0, or -1 when the
 * input cannot give a date (no step interval, step below 1). */
int rp_next_raise(const rp_step_in *in, rp_raise *out);

/* Months a disciplinary measure extends the interval (TT 03/2021): 12 for dismissal-level
 * measures (cách chức, giáng chức, hạ bậc lương), 6 for a reprimand or warning of a civil
 * servant and a public employee's warning, 3 for a public employee's reprimand; 0 for others. */
int rp_discipline_months(const char *form, int public_employee);

#endif
