/* Reporting's part in following identity's unit tree: the snapshots' facts are filed by the
 * unit path of their day (row-level security and the scope of a report on a snapshot), so a
 * moved or merged unit's snapshot rows get its new path, as records' versions do. Facts of the
 * live tree are records' and follow there. */
#include <stdio.h>
#include <stdlib.h>
#include "reporting.h"

#define REPREFIX                                                                           \
  "CASE WHEN unit_path = $1::public.ltree THEN $2::public.ltree "                          \
  "ELSE $2::public.ltree || subpath(unit_path, nlevel($1::public.ltree)) END"

static int counted(PGresult *r, json_t *counts, const char *name) {
  if (!r) return -1;
  unit_tree_count(counts, name, strtoll(PQcmdTuples(r), NULL, 10));
  PQclear(r);
  return 0;
}

/* snapshot_unit_counts (ListSnapshots' count within a caller's units) counted again from the
 * facts under both paths, once the facts have moved: the facts are the truth, and a recount
 * cannot collide with a row a merge already filed under the new path. */
static int recount(srv_ctx *ctx, const char *a, const char *b) {
  if (db_cmd(ctx->db,
             "DELETE FROM snapshot_unit_counts WHERE unit_path <@ $1::public.ltree OR unit_path <@ $2::public.ltree", 2,
             a, b) != 0)
    return -1;
  return db_cmd(ctx->db,
                "INSERT INTO snapshot_unit_counts (snapshot_id, unit_path, records) SELECT snapshot_id, unit_path, "
                "count(*) FROM snapshot_facts WHERE unit_path <@ $1::public.ltree OR unit_path <@ $2::public.ltree "
                "GROUP BY snapshot_id, unit_path",
                2, a, b);
}

static int snapshot_reprefix(srv_ctx *ctx, const char *old_path, const char *new_path, json_t *counts) {
  if (counted(db_q(ctx->db, "UPDATE snapshot_facts SET unit_path = " REPREFIX " WHERE unit_path <@ $1::public.ltree", 2,
                   old_path, new_path),
              counts, "moved_snapshot_facts") != 0)
    return -1;
  return recount(ctx, old_path, new_path);
}

static int snapshot_look(srv_ctx *ctx, const char *old_path, int max, char ***units, char ***paths, size_t *n) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", max);
  PGresult *r = db_q(ctx->db,
                     "SELECT DISTINCT managing_unit_id::text, unit_path::text FROM snapshot_facts "
                     "WHERE unit_path <@ $1::public.ltree LIMIT $2::int",
                     2, old_path, lim);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *units = srv_alloc(ctx, (*n + 1) * sizeof **units);
  *paths = srv_alloc(ctx, (*n + 1) * sizeof **paths);
  for (size_t i = 0; i < *n; i++) {
    (*units)[i] = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
    (*paths)[i] = srv_strdup(ctx, PQgetvalue(r, (int)i, 1));
  }
  PQclear(r);
  return 0;
}

static int snapshot_refile(srv_ctx *ctx, const char *unit_id, const char *stale, const char *cur, json_t *counts) {
  (void)unit_id;
  if (counted(db_q(ctx->db, "UPDATE snapshot_facts SET unit_path = $2::public.ltree WHERE unit_path = $1::public.ltree",
                   2, stale, cur),
              counts, "moved_snapshot_facts") != 0)
    return -1;
  return recount(ctx, stale, cur);
}

/* A snapshot freezes who was where: a dissolved unit's people stay under it (its path follows
 * the moves), nothing is given to the successor. */
const unit_tree_follower rp_follow_units = {
    .give = NULL,
    .reprefix = snapshot_reprefix,
    .look = snapshot_look,
    .refile = snapshot_refile,
};
