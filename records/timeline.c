/* tl_compose: one record's versions folded into valid-time periods, fact by fact, so that a
 * change entered late but effective early reaches back no further than its effective date. */
#include "timeline.h"

#include <stdlib.h>
#include <string.h>

static int same(const char *a, const char *b) {
  if (!a || !b) return a == b;
  return strcmp(a, b) == 0;
}

/* Does version i (> 0) change fact f (differ from version i-1)? */
static int changes(const tl_version *v, size_t i, size_t f) {
  return !same(v[i].facts[f], v[i - 1].facts[f]);
}

static int by_date(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int tl_compose(const tl_version *v, size_t n, size_t n_facts, tl_period *out,
               const char **facts_buf) {
  if (n == 0) return 0;
  const char **days = malloc(n * sizeof *days);
  if (!days) return -1;
  for (size_t i = 0; i < n; i++) {
    if (!v[i].eff || !*v[i].eff) {
      free(days);
      return -1;
    }
    days[i] = v[i].eff;
  }
  qsort(days, n, sizeof *days, by_date);
  size_t n_days = 0;
  for (size_t i = 0; i < n; i++)
    if (n_days == 0 || strcmp(days[n_days - 1], days[i]) != 0) days[n_days++] = days[i];

  size_t np = 0;
  for (size_t d = 0; d < n_days; d++) {
    const char **facts = facts_buf + np * n_facts;
    for (size_t f = 0; f < n_facts; f++) {
      size_t best = n;
      /* the first version is the baseline, not a change: any change in force on the day
       * wins over it, even one effective before the dossier was opened */
      for (size_t i = 1; i < n; i++) {
        if (strcmp(v[i].eff, days[d]) > 0 || !changes(v, i, f)) continue;
        /* later effective date wins; on the same date the later version (i grows) */
        if (best == n || strcmp(v[i].eff, v[best].eff) >= 0) best = i;
      }
      facts[f] = v[best == n ? 0 : best].facts[f];
    }
    int equal = np > 0;
    for (size_t f = 0; equal && f < n_facts; f++) equal = same(facts[f], out[np - 1].facts[f]);
    if (equal) continue; /* the previous period goes on */
    if (np > 0) out[np - 1].to = days[d];
    out[np].from = days[d];
    out[np].to = NULL;
    out[np].facts = facts;
    np++;
  }
  free(days);
  return (int)np;
}
