/* Predicates over the facts records publishes (report_facts), as templates and filters write
 * them in JSON, turned into SQL with every value a parameter (pure). docs/REPORT_TEMPLATES.md
 * describes the language. */
#ifndef HOSO_REPORTING_PRED_H
#define HOSO_REPORTING_PRED_H

#include <jansson.h>
#include "qb.h"
#include "rdate.h"

typedef enum {
  PF_INT,             /* smallint codes and numbers: gender, category, status, ... */
  PF_TEXT,            /* catalogue codes */
  PF_BOOL,
  PF_AGE,             /* whole years on the report's day, from birth_date */
  PF_OVER_RETIREMENT, /* past the retirement of NĐ 135/2020 on the report's day */
  PF_RANK_GROUP,      /* the rank's salary group (A3.1, A1, B, ...) from the RANK catalogue */
} pf_kind;

typedef struct {
  const char *name;
  pf_kind kind;
  const char *sql;    /* the expression over report_facts f */
} pf_field;

/* The field named `name`, or NULL. */
const pf_field *pf_find(const char *name);
/* Every field, NULL-terminated by name (for docs and messages). */
extern const pf_field pf_fields[];

/* Appends "(<boolean SQL>)" for predicate p on report day `day`: an object whose keys are
 * fields (value: a scalar for equality, an array for any of, or an object of the operators
 * eq, ne, in, gte, gt, lte, lt) or the combinators all, any (arrays of predicates) and not (a
 * predicate); keys are ANDed, {} is true. On a malformed or unknown part, err gets
 * "<path>.<part>: <why>" and -1 is returned (q is then unusable). */
int pred_sql(qb *q, const json_t *p, rdate day, const char *path, char *err, size_t errlen);

#endif
