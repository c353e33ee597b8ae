/* The counts of a template's unit rows (RunReport with rows: units): the plain aggregation
 * over the day's facts, and the kept-counts path that re-counts only the leaf unit paths whose
 * change mark moved since they were kept (docs/ARCHITECTURE.md, "How a report is computed"). */
#ifndef HOSO_REPORTING_KEPT_H
#define HOSO_REPORTING_KEPT_H

#include "reporting.h"
#include "tpl.h"

/* One row per unit key (the unit directly below the report's unit that holds the people, or
 * the report's unit itself for its own people), n_vals values each (the count and sum columns
 * in the template's order). All in the arena. */
typedef struct {
  size_t n, n_vals;
  const char **key;
  double *v; /* n * n_vals */
} rp_rows;

/* Leaves re-counted by a report, to keep on reporting's own connection (rp_kept_save). */
typedef struct {
  const char *code;
  long long version;
  const char *catalog_mark;
  size_t n;
  const char **path, **mark, **counts; /* counts as a bigint[] literal */
} rp_kept;

/* Appends ", count(*) FILTER (WHERE ...)" / ", sum(...)" for each count and sum column of t,
 * then the population's FROM ... WHERE on w's day over u's subtree. 0, or -1 with err set (a
 * template the parser let through but that does not compile). */
int rp_counts_sql(qb *q, const tpl *t, const rp_when *w, const rp_unit *u, char *err, size_t errlen);

/* Whether the kept path may answer: current knowledge of a day (not known_on, not a snapshot),
 * count columns only (a sum of decimals added up leaf by leaf could round differently), and
 * HOSO_REPORTING_KEPT not off. */
int rp_kept_applies(const tpl *t, const rp_when *w);

/* The unit rows by the kept path, inside rp_read_tx (ctx->db is the read connection, `own`
 * reporting's): the marks of u's leaves in this snapshot, the kept counts whose marks still
 * match, the other leaves counted now, rolled up by unit key. *k gets what to keep. 0, 1 when
 * the kept path cannot be exact here (a visible period's leaf has no visible mark: logged; use
 * the plain path), -1 / DB_TX_ROLLBACK as a transaction body. */
int rp_kept_rows(srv_ctx *ctx, db_conn *own, const tpl *t, const rp_when *w, const rp_unit *u, rp_kept *k,
                 rp_rows *out, char *err, size_t errlen);

/* Writes k's leaves into kept_counts on ctx->db (reporting's connection, in the caller's
 * transaction). 0 / -1. */
int rp_kept_save(srv_ctx *ctx, const rp_when *w, const rp_kept *k);

#endif
