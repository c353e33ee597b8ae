/* qb: text appended with vsnprintf into a growing buffer, parameters copied and numbered. */
#include "qb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qb_init(qb *q) { memset(q, 0, sizeof *q); }

void qb_free(qb *q) {
  free(q->sql);
  for (int i = 0; i < q->n; i++) free(q->params[i]);
  memset(q, 0, sizeof *q);
}

static void reserve(qb *q, size_t more) {
  if (q->oom || q->len + more + 1 <= q->cap) return;
  size_t cap = q->cap ? q->cap : 1024;
  while (cap < q->len + more + 1) cap *= 2;
  char *s = realloc(q->sql, cap);
  if (!s) {
    q->oom = 1;
    return;
  }
  q->sql = s;
  q->cap = cap;
}

void qb_add(qb *q, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    q->oom = 1;
    return;
  }
  reserve(q, (size_t)n);
  if (q->oom) return;
  va_start(ap, fmt);
  vsnprintf(q->sql + q->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  q->len += (size_t)n;
}

void qb_param(qb *q, const char *value, const char *cast) {
  if (q->oom) return;
  if (q->n >= QB_MAX_PARAMS) {
    q->oom = 1;
    return;
  }
  char *copy = NULL;
  if (value && !(copy = strdup(value))) {
    q->oom = 1;
    return;
  }
  q->params[q->n++] = copy;
  qb_add(q, "$%d%s", q->n, cast ? cast : "");
}

void qb_param_array(qb *q, const char *const *values, size_t n, const char *cast) {
  size_t cap = 3;
  for (size_t i = 0; i < n; i++) cap += 2 * strlen(values[i]) + 3;
  char *lit = malloc(cap), *o = lit;
  if (!lit) {
    q->oom = 1;
    return;
  }
  *o++ = '{';
  for (size_t i = 0; i < n; i++) {
    if (i) *o++ = ',';
    *o++ = '"';
    for (const char *c = values[i]; *c; c++) {
      if (*c == '"' || *c == '\\') *o++ = '\\';
      *o++ = *c;
    }
    *o++ = '"';
  }
  *o++ = '}';
  *o = '\0';
  qb_param(q, lit, cast);
  free(lit);
}
