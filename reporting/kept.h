/* The counts of a template's unit rows (RunReport with rows: units): the plain aggregation
 * over the day's facts, and the kept-counts path that re-counts only the leaf unit paths records
 * marked as changed since the kept set's snapshot (docs/ARCHITECTURE.md, "How a report is
 * computed"; records' 051_report_mark_log.sql says why it is exact). */
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

/* A kept set as a report leaves it, to write on reporting's own connection (rp_kept_save):
 * the set of (code, version, day, root) stamped with snap. `was` is the stamp of the set of this
 * root the report started from (NULL: there was none); the write happens only while the stored
 * stamp still is `was` (another report may have replaced it meanwhile: then nothing is written).
 * replace: the leaves are the whole set (else only the re-counted ones, the rest unchanged). */
typedef struct {
  const char *code;
  long long version;
  const char *root, *snap, *was;
  int replace;
  size_t counted; /* leaves counted now (the audit's counted_leaves) */
  size_t n;
  const char **path, **counts; /* counts as a bigint[] literal */
} rp_kept;

/* Appends ", count(*) FILTER (WHERE ...)" / ", sum(...)" for each count and sum column of t,
 * then the population's FROM ... WHERE on w's day over u's subtree. 0, or -1 with err set (a
 * template the parser let through but that does not compile). */
int rp_counts_sql(qb *q, const tpl *t, const rp_when *w, const rp_unit *u, char *err, size_t errlen);

/* Whether the kept path may answer: current knowledge of a day (not known_on, not a snapshot),
 * count columns only (a sum of decimals added up leaf by leaf could round differently), and
 * HOSO_REPORTING_KEPT not off. */
int rp_kept_applies(const tpl *t, const rp_when *w);

/* The unit rows by the kept path, inside rp_read_tx (ctx->db is the read connection in
 * REPEATABLE READ, `own` reporting's): the kept set of u or of a unit above it, checked against
 * this snapshot, the leaves marked since counted now (every leaf when no set can be used),
 * rolled up by unit key. k (code and version set by the caller) gets what to keep. 0, or -1 /
 * DB_TX_ROLLBACK as a transaction body. */
int rp_kept_rows(srv_ctx *ctx, db_conn *own, const tpl *t, const rp_when *w, const rp_unit *u, rp_kept *k,
                 rp_rows *out, char *err, size_t errlen);

/* store_kept.c, on reporting's own connection. */
/* The set to start from: the one of u's own path, else the most recently used of a unit above
 * it, with its rows below u (one statement: stamp and rows agree). *snap NULL when none; *own
 * whether it is u's own. Rows in paths/counts (arena). 0 / -1 (logged; callers count anew). */
int rp_kept_load(srv_ctx *ctx, db_conn *own, const char *code, long long version, const char *day, const char *root,
                 const char **snap, int *is_own, size_t *n, const char ***paths, const char ***counts);
/* Writes k on ctx->db (in the caller's transaction), compare-and-set on k->was. 0 / -1. */
int rp_kept_save(srv_ctx *ctx, const char *day, const rp_kept *k);
/* Deletes the sets no report used for `days` days. The number deleted, -1 on error. */
long rp_kept_prune(srv_ctx *ctx, int days);

/* Inside rp_read_tx: the top units of the deployment with people (their ids are their paths). */
int rp_kept_roots(srv_ctx *ctx, const char ***roots, size_t *n);

/* kept_job.c: the warm-up of today's kept sets and the pruning, in the background. */
int rp_kept_job_start(void);
void rp_kept_job_stop(void);
/* Counts template `code` (its current version) for `day` over the top unit `root` by the kept
 * path and keeps the set, as a report would (a job context whose claims have scope "*").
 * 0, 1 when the template is not one the kept path answers, -1 (status set). */
int rp_kept_warm(srv_ctx *ctx, const char *code, const char *root, rdate day);

#endif
