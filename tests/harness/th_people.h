/* Generated dossiers with known distributions for the reporting tests: every attribute the
 * statistics and the forms count, drawn from a fixed seed, imported through ImportRecords, and
 * the keys a test computes from them itself (never from the service's SQL). */
#ifndef HOSO_TH_PEOPLE_H
#define HOSO_TH_PEOPLE_H

#include "th_world.h"

typedef struct {
  char id[32];
  int unit;          /* index into the units given to th_people_import */
  int gender, category, party, by, bm, bd, retired;
  const char *eth, *rel, *degree, *pol, *sm, *rank, *lang, *it, *ethlang;
} th_person;

/* n people, person i in unit i % n_units, attributes drawn from `seed`. */
void th_people_generate(th_person *p, int n, int n_units, unsigned seed);
/* Imports them (recruited 2010-01-01) with the admin token, one ImportRecords per unit, and
 * sets each one's record id. 0 / -1 (reason printed). */
int th_people_import(th_world *w, th_person *p, int n, const char *const *unit_ids, int n_units);
/* Whole years of age on day (YYYY-MM-DD). */
int th_people_age(const th_person *p, const char *day);
/* The key of a statistics dimension for p on `day`, as the service names it ("2", "<=30",
 * "THS", "A1", ...); NULL for a dimension this helper does not know. */
const char *th_people_key(const th_person *p, const char *dim, const char *day, char buf[32]);

#endif
