/* A SQL statement being built with its parameters (pure): text appended in pieces, every value
 * a numbered parameter ($1, $2, ...), never pasted into the text. */
#ifndef HOSO_REPORTING_QB_H
#define HOSO_REPORTING_QB_H

#include <stddef.h>

enum { QB_MAX_PARAMS = 400 };

typedef struct {
  char *sql;
  size_t len, cap;
  char *params[QB_MAX_PARAMS]; /* owned copies; NULL = SQL NULL */
  int n;
  int oom;                     /* out of memory or too many parameters: the statement is void */
} qb;

void qb_init(qb *q);
void qb_free(qb *q);
/* Appends printf-formatted text (only fixed SQL: values go through qb_param). */
void qb_add(qb *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds a parameter and appends its placeholder "$n" followed by the cast (e.g. "::date"; may be
 * ""). */
void qb_param(qb *q, const char *value, const char *cast);
/* A text[] parameter from n strings (an array literal with each element quoted). */
void qb_param_array(qb *q, const char *const *values, size_t n, const char *cast);

#endif
