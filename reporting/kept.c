/* Kept counts: a template's count columns per leaf unit path below a unit for a day, kept on
 * reporting's own connection as a set stamped with the read database's snapshot they were
 * counted in. Records logs, in the same transaction as any write of a leaf's periods, the leaf
 * and the writer's transaction id (records 051). A report checks in its own snapshot C that the
 * set's snapshot H is contained in C, counts now the leaves marked by transactions visible in C
 * but not in H, and takes the others from the set: no transaction between H and C touched them,
 * so their counts in C are those in H, and the sum is what the plain aggregation gives
 * (records/migrations/051_report_mark_log.sql has the argument). A unit's subtree is wholly in a caller's scope when
 * the unit is (scope is a set of subtrees, checked by rp_unit_resolve), so counts below it are
 * the same for every caller allowed to ask. */
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
  const char *path;
  double *v;
} kept_leaf;

static int by_path(const void *a, const void *b) {
  return strcmp(((const kept_leaf *)a)->path, ((const kept_leaf *)b)->path);
}

static kept_leaf *find(kept_leaf *xs, size_t n, const char *path) {
  kept_leaf key = {path, NULL};
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

/* In this snapshot: its text, whether the set stamped h can be used here (h's transactions all
 * visible here, the marks since h not pruned, no catalogue change since h), and if so the leaves
 * below root marked by transactions h does not see. -1 / DB_TX_ROLLBACK; 0 with *ok set.
 * Never on a hot standby (pg_is_in_recovery): there a snapshot's running transactions are kept
 * apart from its xip list, which pg_current_snapshot() reports, so the test of H's in-progress
 * transactions is not known to hold; every leaf is counted (exact, the plain path's cost). */
static int since(srv_ctx *ctx, const char *h, const char *root, const char **now, int *ok, size_t *n,
                 const char ***paths) {
  *ok = 0;
  *n = 0;
  PGresult *r = db_q(ctx->db,
                     "SELECT pg_current_snapshot()::text, $1::text IS NOT NULL AND NOT pg_is_in_recovery() AND "
                     "pg_snapshot_xmax($1::pg_snapshot) <= pg_snapshot_xmax(pg_current_snapshot()) AND NOT EXISTS "
                     "(SELECT 1 FROM pg_snapshot_xip(pg_current_snapshot()) x WHERE x < pg_snapshot_xmax($1::pg_snapshot) "
                     "AND x NOT IN (SELECT pg_snapshot_xip($1::pg_snapshot))) "
                     "AND pg_snapshot_xmin($1::pg_snapshot) >= m.pruned_below::text::xid8 "
                     "AND pg_visible_in_snapshot(m.catalog_xid::text::xid8, $1::pg_snapshot) "
                     "FROM records.report_mark_state m",
                     1, h);
  if (!r) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "records' report_mark_state has no row; records' "
                    "migrations are incomplete");
  }
  *now = srv_strdup(ctx, PQgetvalue(r, 0, 0));
  *ok = !strcmp(PQgetvalue(r, 0, 1), "t");
  PQclear(r);
  if (!*ok) return 0;
  /* bigint's >= on xid is what an index can use under row-level security (leakproof) */
  r = db_q(ctx->db,
           "SELECT DISTINCT k.unit_path::text FROM records.report_marks k "
           "WHERE k.xid >= pg_snapshot_xmin($1::pg_snapshot)::text::bigint "
           "AND k.unit_path OPERATOR(public.<@) $2::public.ltree "
           "AND NOT pg_visible_in_snapshot(k.xid::text::xid8, $1::pg_snapshot)",
           2, h, root);
  if (!r) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  *n = (size_t)PQntuples(r);
  *paths = srv_alloc(ctx, (*n ? *n : 1) * sizeof **paths);
  for (size_t i = 0; i < *n; i++) (*paths)[i] = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
  PQclear(r);
  return 0;
}

/* Counts the leaves below u (only `only` of them when only_n > 0, all when only == NULL) in
 * this snapshot; each counted leaf's values go to its place in *leaves (added when missing). */
static int count_now(srv_ctx *ctx, const tpl *t, const rp_when *w, const rp_unit *u, const char **only, size_t only_n,
                     kept_leaf **leaves, size_t *n, size_t *cap, size_t nv, size_t *counted, char *err, size_t errlen) {
  size_t nv1 = nv ? nv : 1;
  qb q;
  qb_init(&q);
  qb_add(&q, "SELECT f.unit_path::text");
  if (rp_counts_sql(&q, t, w, u, err, errlen) != 0) {
    qb_free(&q);
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "template: %s", err);
  }
  if (only) {
    /* leaf_key (records 033) is what an index can find under row-level security */
    qb_add(&q, " AND f.leaf_key = ANY(ARRAY(SELECT hashtextextended(p, 0) FROM unnest(");
    qb_param_array(&q, only, only_n, "::text[]");
    qb_add(&q, ") p)) AND f.unit_path = ANY(");
    qb_param_array(&q, only, only_n, "::public.ltree[]");
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
  size_t sorted = *n;
  for (int i = 0; i < PQntuples(r); i++) {
    kept_leaf *x = find(*leaves, sorted, PQgetvalue(r, i, 0));
    if (!x) {
      if (*n == *cap) {
        size_t nc = *cap * 2 + 16;
        kept_leaf *g = srv_alloc(ctx, nc * sizeof *g);
        memcpy(g, *leaves, *n * sizeof *g);
        *leaves = g, *cap = nc;
      }
      x = &(*leaves)[(*n)++];
      x->path = srv_strdup(ctx, PQgetvalue(r, i, 0));
      x->v = srv_alloc(ctx, nv1 * sizeof(double));
    }
    for (size_t c = 0; c < nv; c++) x->v[c] = strtod(PQgetvalue(r, i, (int)c + 1), NULL);
  }
  *counted = (size_t)PQntuples(r);
  PQclear(r);
  qsort(*leaves, *n, sizeof **leaves, by_path);
  return 0;
}

int rp_kept_rows(srv_ctx *ctx, db_conn *own, const tpl *t, const rp_when *w, const rp_unit *u, rp_kept *k,
                 rp_rows *out, char *err, size_t errlen) {
  size_t nv = 0;
  for (size_t c = 0; c < t->n_cols; c++) nv += t->cols[c].kind == TPL_COUNT;
  size_t nv1 = nv ? nv : 1;
  memset(out, 0, sizeof *out);
  out->n_vals = nv;
  k->root = u->path, k->was = NULL, k->replace = 1, k->counted = 0, k->n = 0;

  /* the set to start from (none when reporting's own database does not answer: then every
   * leaf is counted; nothing is lost but time) */
  const char *h = NULL, **kp = NULL, **kc = NULL;
  int is_own = 0;
  size_t nk = 0;
  if (rp_kept_load(ctx, own, k->code, k->version, w->as_of, u->path, &h, &is_own, &nk, &kp, &kc) != 0) h = NULL;
  if (h && is_own) k->was = h;

  int ok = 0;
  size_t nm = 0;
  const char **marked = NULL;
  int rc = since(ctx, h, u->path, &k->snap, &ok, &nm, &marked);
  if (rc != 0) return rc;

  size_t n = 0, cap = ok ? nk + nm + 1 : 64;
  kept_leaf *leaves = srv_alloc(ctx, cap * sizeof *leaves);
  if (ok) {
    for (size_t i = 0; i < nk; i++) {
      leaves[n] = (kept_leaf){kp[i], srv_alloc(ctx, nv1 * sizeof(double))};
      if (parse_counts(kc[i], leaves[n].v, nv) != 0) { /* another shape: count everything */
        ok = 0;
        n = 0;
        break;
      }
      n++;
    }
  }
  if (ok) {
    qsort(leaves, n, sizeof *leaves, by_path);
    /* the leaves marked since: zero first (a leaf left empty counts zero), then counted */
    for (size_t i = 0; i < nm; i++) {
      kept_leaf *x = find(leaves, n, marked[i]);
      if (!x) {
        x = &leaves[n++];
        x->path = marked[i];
        x->v = srv_alloc(ctx, nv1 * sizeof(double));
        qsort(leaves, n, sizeof *leaves, by_path);
        x = find(leaves, n, marked[i]);
      }
      memset(x->v, 0, nv1 * sizeof(double));
    }
    if (nm && (rc = count_now(ctx, t, w, u, marked, nm, &leaves, &n, &cap, nv, &k->counted, err, errlen)) != 0)
      return rc;
    k->counted = nm;
    k->replace = !is_own;
  } else if ((rc = count_now(ctx, t, w, u, NULL, 0, &leaves, &n, &cap, nv, &k->counted, err, errlen)) != 0) {
    return rc;
  }

  /* what to keep: every leaf for a new or replaced set, else only the marked ones */
  size_t nkeep = k->replace ? n : nm;
  k->path = srv_alloc(ctx, (nkeep ? nkeep : 1) * sizeof *k->path);
  k->counts = srv_alloc(ctx, (nkeep ? nkeep : 1) * sizeof *k->counts);
  for (size_t i = 0; i < nkeep; i++) {
    kept_leaf *x = k->replace ? &leaves[i] : find(leaves, n, marked[i]);
    k->path[k->n] = x->path;
    k->counts[k->n++] = counts_literal(ctx, x->v, nv);
  }

  /* rolled up by the unit directly below u */
  out->key = srv_alloc(ctx, (n ? n : 1) * sizeof *out->key);
  out->v = srv_alloc(ctx, (n ? n : 1) * nv1 * sizeof *out->v);
  for (size_t i = 0; i < n; i++) add_to(out, n, unit_key(ctx, u, leaves[i].path), leaves[i].v);
  return 0;
}
