/* Kept counts: a template's count columns per leaf unit path for a day, kept on reporting's own
 * connection with the change marks records writes in the same transaction as the facts (records
 * 033). A report reads the marks in its own snapshot: a leaf whose mark still equals the kept
 * one cannot have changed since (marks never repeat), every other leaf is counted now over the
 * facts of that same snapshot, so the sum is what the plain aggregation would give. Row-level
 * security decides marks and facts by unit_path alone, so a caller gets a leaf's kept counts
 * only when its scope reads that leaf's mark, i.e. its people. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "kept.h"
#include "log.h"
#include "pred.h"

int rp_counts_sql(qb *q, const tpl *t, const rp_when *w, const rp_unit *u, char *err, size_t errlen) {
  for (size_t c = 0; c < t->n_cols; c++) {
    const tpl_col *col = &t->cols[c];
    if (col->kind != TPL_COUNT && col->kind != TPL_SUM) continue;
    if (col->kind == TPL_COUNT)
      qb_add(q, ", count(*)");
    else
      qb_add(q, ", sum(%s)", tpl_find_field(col->field)->sql);
    if (col->when) {
      qb_add(q, " FILTER (WHERE ");
      if (pred_sql(q, col->when, w->day, "definition.columns", err, errlen) != 0) return -1;
      qb_add(q, ")");
    }
  }
  rp_from_where(q, w, u, NULL, 0, NULL);
  qb_add(q, " AND ");
  return pred_sql(q, t->population, w->day, "definition.population", err, errlen);
}

int rp_kept_applies(const tpl *t, const rp_when *w) {
  if (w->snapshot || w->known_on[0] || t->people || !cfg_bool("HOSO_REPORTING_KEPT", 1)) return 0;
  for (size_t c = 0; c < t->n_cols; c++)
    if (t->cols[c].kind == TPL_SUM) return 0;
  return 1;
}

typedef struct {
  const char *path, *mark;
  double *v;
} kept_leaf;

static int by_path(const void *a, const void *b) {
  return strcmp(((const kept_leaf *)a)->path, ((const kept_leaf *)b)->path);
}

static kept_leaf *find(kept_leaf *xs, size_t n, const char *path) {
  kept_leaf key = {path, NULL, NULL};
  return n ? bsearch(&key, xs, n, sizeof *xs, by_path) : NULL;
}

/* "{1,2,3}" into n values; -1 when it does not hold exactly n. */
static int parse_counts(const char *s, double *v, size_t n) {
  if (*s++ != '{') return -1;
  for (size_t i = 0; i < n; i++) {
    char *end;
    v[i] = (double)strtoll(s, &end, 10);
    if (end == s || *end != (i + 1 < n ? ',' : '}')) return -1;
    s = end + 1;
  }
  return *s ? -1 : 0;
}

/* The unit key of a leaf below u: the label after u's path (a unit id), or u's own id. */
static const char *unit_key(srv_ctx *ctx, const rp_unit *u, const char *leaf) {
  size_t n = strlen(u->path);
  if (leaf[n] != '.') return u->id;
  const char *s = leaf + n + 1, *e = strchr(s, '.');
  if (!e) return s;
  char *k = srv_alloc(ctx, (size_t)(e - s) + 1);
  memcpy(k, s, (size_t)(e - s));
  k[e - s] = '\0';
  return k;
}

static void add_to(rp_rows *out, size_t cap, const char *key, const double *v) {
  size_t i = 0;
  while (i < out->n && strcmp(out->key[i], key)) i++;
  if (i == out->n) {
    if (out->n == cap) return; /* cannot happen: at most one key per leaf */
    out->key[out->n++] = key;
    memset(&out->v[i * out->n_vals], 0, out->n_vals * sizeof *out->v);
  }
  for (size_t c = 0; c < out->n_vals; c++) out->v[i * out->n_vals + c] += v[c];
}

static char *counts_literal(srv_ctx *ctx, const double *v, size_t n) {
  char *s = srv_alloc(ctx, n * 21 + 3), *o = s;
  *o++ = '{';
  for (size_t c = 0; c < n; c++) o += sprintf(o, "%s%lld", c ? "," : "", (long long)v[c]);
  *o++ = '}';
  *o = '\0';
  return s;
}

int rp_kept_rows(srv_ctx *ctx, db_conn *own, const tpl *t, const rp_when *w, const rp_unit *u, rp_kept *k,
                 rp_rows *out, char *err, size_t errlen) {
  size_t nv = 0;
  for (size_t c = 0; c < t->n_cols; c++) nv += t->cols[c].kind == TPL_COUNT;
  size_t nv1 = nv ? nv : 1;
  memset(out, 0, sizeof *out);
  out->n_vals = nv;
  PGresult *m = db_q(ctx->db,
                     "SELECT m.unit_path::text, m.mark::text, (SELECT c.mark::text FROM records.report_catalog_marks c) "
                     "FROM records.report_marks m WHERE m.unit_path OPERATOR(public.<@) $1::public.ltree",
                     1, u->path);
  if (!m) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  size_t n = (size_t)PQntuples(m);
  kept_leaf *leaves = srv_alloc(ctx, (n ? n : 1) * sizeof *leaves);
  for (size_t i = 0; i < n; i++)
    leaves[i] = (kept_leaf){srv_strdup(ctx, PQgetvalue(m, (int)i, 0)), srv_strdup(ctx, PQgetvalue(m, (int)i, 1)), NULL};
  k->catalog_mark = n && !PQgetisnull(m, 0, 2) ? srv_strdup(ctx, PQgetvalue(m, 0, 2)) : "0";
  PQclear(m);
  qsort(leaves, n, sizeof *leaves, by_path);

  /* the kept counts of those leaves at this catalogue; none when reporting's own database does
   * not answer (then every leaf is counted: nothing is lost but time) */
  char ver[24];
  snprintf(ver, sizeof ver, "%lld", k->version);
  PGresult *kr = n ? db_q(own,
                          "SELECT unit_path::text, mark::text, counts::text FROM kept_counts WHERE template = $1 "
                          "AND version = $2::bigint AND day = $3::date AND catalog_mark = $4::bigint "
                          "AND unit_path OPERATOR(public.<@) $5::public.ltree",
                          5, k->code, ver, w->as_of, k->catalog_mark, u->path)
                   : NULL;
  if (n && !kr) log_warn("reporting: kept counts unreadable (%s); counting every leaf", db_err_message(own));
  size_t nk = kr ? (size_t)PQntuples(kr) : 0;
  kept_leaf *kept = srv_alloc(ctx, (nk ? nk : 1) * sizeof *kept);
  for (size_t i = 0; i < nk; i++) {
    kept[i] = (kept_leaf){srv_strdup(ctx, PQgetvalue(kr, (int)i, 0)), srv_strdup(ctx, PQgetvalue(kr, (int)i, 1)),
                          srv_alloc(ctx, nv1 * sizeof(double))};
    if (parse_counts(PQgetvalue(kr, (int)i, 2), kept[i].v, nv) != 0) kept[i].mark = ""; /* another shape: stale */
  }
  PQclear(kr);
  qsort(kept, nk, sizeof *kept, by_path);
  const char **stale = srv_alloc(ctx, (n ? n : 1) * sizeof *stale);
  size_t ns = 0;
  for (size_t i = 0; i < n; i++) {
    kept_leaf *x = find(kept, nk, leaves[i].path);
    if (x && !strcmp(x->mark, leaves[i].mark))
      leaves[i].v = x->v;
    else
      stale[ns++] = leaves[i].path;
  }

  /* the stale leaves counted now, in this snapshot (all of them the first time a day is asked);
   * a stale leaf without people counts zero and is kept as such */
  k->n = 0;
  k->path = srv_alloc(ctx, (ns ? ns : 1) * sizeof *k->path);
  k->mark = srv_alloc(ctx, (ns ? ns : 1) * sizeof *k->mark);
  k->counts = srv_alloc(ctx, (ns ? ns : 1) * sizeof *k->counts);
  for (size_t i = 0; i < n; i++)
    if (!leaves[i].v) {
      leaves[i].v = srv_alloc(ctx, nv1 * sizeof(double));
      memset(leaves[i].v, 0, nv1 * sizeof(double));
    }
  if (ns) {
    qb q;
    qb_init(&q);
    qb_add(&q, "SELECT f.unit_path::text");
    if (rp_counts_sql(&q, t, w, u, err, errlen) != 0) {
      qb_free(&q);
      return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "template: %s", err);
    }
    if (ns < n) {
      /* leaf_key (records 033) is what an index can find under row-level security */
      qb_add(&q, " AND f.leaf_key = ANY(ARRAY(SELECT hashtextextended(p, 0) FROM unnest(");
      qb_param_array(&q, stale, ns, "::text[]");
      qb_add(&q, ") p)) AND f.unit_path = ANY(");
      qb_param_array(&q, stale, ns, "::public.ltree[]");
      qb_add(&q, ")");
    }
    qb_add(&q, " GROUP BY 1");
    if (q.oom) {
      qb_free(&q);
      return SRV_FAIL(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "the report's query is too large");
    }
    PGresult *r = db_exec(ctx->db, q.sql, q.n, (const char *const *)q.params);
    qb_free(&q);
    if (!r) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
    for (int i = 0; i < PQntuples(r); i++) {
      kept_leaf *x = find(leaves, n, PQgetvalue(r, i, 0));
      kept_leaf *was = x ? find(kept, nk, x->path) : NULL;
      if (!x || (was && x->v == was->v)) {
        /* people this caller reads in a leaf whose mark it does not read, or in a leaf it did
         * not ask for: the rule that a scope holds whole leaves, or 033's triggers, bypassed */
        log_error("reporting: kept counts: leaf %s has people but no change mark it may read; "
                  "counting without kept counts", PQgetvalue(r, i, 0));
        PQclear(r);
        return 1;
      }
      for (size_t c = 0; c < nv; c++) x->v[c] = strtod(PQgetvalue(r, i, (int)c + 1), NULL);
    }
    PQclear(r);
    for (size_t i = 0; i < n; i++) {
      kept_leaf *was = find(kept, nk, leaves[i].path);
      if (was && leaves[i].v == was->v) continue; /* fresh */
      k->path[k->n] = leaves[i].path;
      k->mark[k->n] = leaves[i].mark;
      k->counts[k->n++] = counts_literal(ctx, leaves[i].v, nv);
    }
  }

  /* rolled up by the unit directly below u */
  out->key = srv_alloc(ctx, (n ? n : 1) * sizeof *out->key);
  out->v = srv_alloc(ctx, (n ? n : 1) * nv1 * sizeof *out->v);
  for (size_t i = 0; i < n; i++) add_to(out, n, unit_key(ctx, u, leaves[i].path), leaves[i].v);
  return 0;
}

int rp_kept_save(srv_ctx *ctx, const rp_when *w, const rp_kept *k) {
  if (!k->n) return 0;
  char ver[24];
  snprintf(ver, sizeof ver, "%lld", k->version);
  qb q;
  qb_init(&q);
  qb_add(&q, "INSERT INTO kept_counts (template, version, day, unit_path, mark, catalog_mark, counts) SELECT ");
  qb_param(&q, k->code, "::text");
  qb_add(&q, ", ");
  qb_param(&q, ver, "::bigint");
  qb_add(&q, ", ");
  qb_param(&q, w->as_of, "::date");
  qb_add(&q, ", x.p::public.ltree, x.m::bigint, ");
  qb_param(&q, k->catalog_mark, "::bigint");
  qb_add(&q, ", x.c::bigint[] FROM unnest(");
  qb_param_array(&q, k->path, k->n, "::text[]");
  qb_add(&q, ", ");
  qb_param_array(&q, k->mark, k->n, "::text[]");
  qb_add(&q, ", ");
  qb_param_array(&q, k->counts, k->n, "::text[]");
  qb_add(&q, ") AS x(p, m, c) ON CONFLICT (template, version, day, unit_path) DO UPDATE SET mark = EXCLUDED.mark, "
             "catalog_mark = EXCLUDED.catalog_mark, counts = EXCLUDED.counts, kept_at = now()");
  if (q.oom) {
    qb_free(&q);
    return SRV_FAIL(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory keeping the report's counts");
  }
  PGresult *r = db_exec(ctx->db, q.sql, q.n, (const char *const *)q.params);
  qb_free(&q);
  if (!r) return -1;
  PQclear(r);
  return 0;
}
