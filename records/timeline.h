/* The valid-time timeline of one record's facts (pure, no database): the versions' facts
 * composed by effective date into periods of identical facts (migrations/030_report_facts.sql). */
#ifndef HOSO_RECORDS_TIMELINE_H
#define HOSO_RECORDS_TIMELINE_H

#include <stddef.h>

/* One version: its effective date (YYYY-MM-DD) and its facts as text (NULL = SQL NULL), in
 * the order of the caller's columns. Versions are given in version order. */
typedef struct {
  const char *eff;
  const char *const *facts;
} tl_version;

/* A period [from, to) of identical facts; to is NULL for the open end ('infinity'). */
typedef struct {
  const char *from, *to;
  const char **facts;
} tl_period;

/* Composes n versions of n_facts facts each. The first version is the baseline; every later
 * one changes the facts that differ from the version before it. On a day D each fact has the
 * value set by the changing version with the latest effective date on or before D, the later
 * version winning a tie, or else the baseline's. The timeline starts at the earliest
 * effective date of any version (a decision may predate the dossier's opening). Adjacent
 * periods with equal facts are merged. out has room for n periods, facts_buf for n * n_facts
 * pointers (out[i].facts point into it; values point into the versions' facts). Returns the
 * number of periods (0 when n is 0), or -1 when a version has no effective date. */
int tl_compose(const tl_version *v, size_t n, size_t n_facts, tl_period *out,
               const char **facts_buf);

#endif
