/* Kept sets on reporting's own connection (kept.h; migrations/051_kept_sets.sql). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kept.h"
#include "log.h"

int rp_kept_load(srv_ctx *ctx, db_conn *own, const char *code, long long version, const char *day, const char *root,
                 const char **snap, int *is_own, size_t *n, const char ***paths, const char ***counts) {
  char ver[24];
  snprintf(ver, sizeof ver, "%lld", version);
  *snap = NULL, *is_own = 0, *n = 0;
  PGresult *r = db_q(own,
                     "WITH s AS (SELECT root, snap, root = $4::public.ltree AS own FROM kept_sets WHERE template = $1 "
                     "AND version = $2::bigint AND day = $3::date AND root OPERATOR(public.@>) $4::public.ltree "
                     "ORDER BY own DESC, used_at DESC LIMIT 1) "
                     "SELECT s.snap, s.own, c.unit_path::text, c.counts::text FROM s LEFT JOIN kept_counts c "
                     "ON c.template = $1 AND c.version = $2::bigint AND c.day = $3::date AND c.root = s.root "
                     "AND c.unit_path OPERATOR(public.<@) $4::public.ltree",
                     4, code, ver, day, root);
  if (!r) {
    log_warn("reporting: kept counts unreadable (%s); counting every leaf", db_err_message(own));
    return -1;
  }
  int rows = PQntuples(r);
  if (rows > 0) {
    *snap = srv_strdup(ctx, PQgetvalue(r, 0, 0));
    *is_own = !strcmp(PQgetvalue(r, 0, 1), "t");
  }
  *paths = srv_alloc(ctx, (size_t)(rows ? rows : 1) * sizeof **paths);
  *counts = srv_alloc(ctx, (size_t)(rows ? rows : 1) * sizeof **counts);
  for (int i = 0; i < rows; i++) {
    if (PQgetisnull(r, i, 2)) continue; /* a set without leaves below root */
    (*paths)[*n] = srv_strdup(ctx, PQgetvalue(r, i, 2));
    (*counts)[(*n)++] = srv_strdup(ctx, PQgetvalue(r, i, 3));
  }
  PQclear(r);
  return 0;
}

int rp_kept_save(srv_ctx *ctx, const char *day, const rp_kept *k) {
  char ver[24];
  snprintf(ver, sizeof ver, "%lld", k->version);
  /* compare-and-set of the stamp: a report that started from another stamp than the stored one
   * (another report replaced the set meanwhile) writes nothing */
  PGresult *r = k->was ? db_q(ctx->db,
                              "UPDATE kept_sets SET snap = $5, used_at = now() WHERE template = $1 AND version = "
                              "$2::bigint AND day = $3::date AND root = $4::public.ltree AND snap = $6",
                              6, k->code, ver, day, k->root, k->snap, k->was)
                       : db_q(ctx->db,
                              "INSERT INTO kept_sets (template, version, day, root, snap) VALUES ($1, $2::bigint, "
                              "$3::date, $4::public.ltree, $5) ON CONFLICT DO NOTHING",
                              5, k->code, ver, day, k->root, k->snap);
  if (!r) return -1;
  int won = atoi(PQcmdTuples(r)) == 1;
  PQclear(r);
  if (!won) return 0;
  if (k->replace && k->was && db_cmd(ctx->db,
                                     "DELETE FROM kept_counts WHERE template = $1 AND version = $2::bigint AND day = "
                                     "$3::date AND root = $4::public.ltree",
                                     4, k->code, ver, day, k->root) != 0)
    return -1;
  if (!k->n) return 0;
  qb q;
  qb_init(&q);
  qb_add(&q, "INSERT INTO kept_counts (template, version, day, root, unit_path, counts) SELECT ");
  qb_param(&q, k->code, "::text");
  qb_add(&q, ", ");
  qb_param(&q, ver, "::bigint");
  qb_add(&q, ", ");
  qb_param(&q, day, "::date");
  qb_add(&q, ", ");
  qb_param(&q, k->root, "::public.ltree");
  qb_add(&q, ", x.p::public.ltree, x.c::bigint[] FROM unnest(");
  qb_param_array(&q, k->path, k->n, "::text[]");
  qb_add(&q, ", ");
  qb_param_array(&q, k->counts, k->n, "::text[]");
  qb_add(&q, ") AS x(p, c) ON CONFLICT (template, version, day, root, unit_path) DO UPDATE SET counts = EXCLUDED.counts");
  if (q.oom) {
    qb_free(&q);
    return SRV_FAIL(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory keeping the report's counts");
  }
  r = db_exec(ctx->db, q.sql, q.n, (const char *const *)q.params);
  qb_free(&q);
  if (!r) return -1;
  PQclear(r);
  return 0;
}

long rp_kept_prune(srv_ctx *ctx, int days) {
  char d[16];
  snprintf(d, sizeof d, "%d", days);
  PGresult *r = db_q(ctx->db, "DELETE FROM kept_sets WHERE used_at < now() - make_interval(days => $1::int)", 1, d);
  if (!r) return -1;
  long n = atol(PQcmdTuples(r));
  PQclear(r);
  return n;
}

int rp_kept_roots(srv_ctx *ctx, const char ***roots, size_t *n) {
  /* the top units of the deployment that have people (a scan of the current facts: the
   * background warm-up's, once a day) */
  PGresult *r = db_q(ctx->db,
                     "SELECT DISTINCT public.subpath(unit_path, 0, 1)::text FROM records.report_facts "
                     "WHERE known_to = 'infinity' ORDER BY 1",
                     0);
  if (!r) return srv_failed(ctx) ? DB_TX_ROLLBACK : -1;
  *n = (size_t)PQntuples(r);
  *roots = srv_alloc(ctx, (*n ? *n : 1) * sizeof **roots);
  for (size_t i = 0; i < *n; i++) (*roots)[i] = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
  PQclear(r);
  return 0;
}
