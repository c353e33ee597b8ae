/* The SQL of records' part in following the unit tree (follow_units.c): what records file under
 * a unit path — records, the versions' access paths, the reporting facts, change requests — moved to a new prefix,
 * looked for under an old one, re-filed from a stale path. */
#include <stdio.h>
#include <stdlib.h>
#include "records.h"
#include "store_follow_units.h"

#define REPREFIX UNIT_TREE_REPREFIX("unit_path")

/* A statement's row count into counts[name]. 0 / -1. */
static int counted(PGresult *r, json_t *counts, const char *name) {
  if (!r) return -1;
  unit_tree_count(counts, name, strtoll(PQcmdTuples(r), NULL, 10));
  PQclear(r);
  return 0;
}

int follow_reprefix(srv_ctx *ctx, const char *old_path, const char *new_path, json_t *counts) {
  /* unit_key ranges, not <@: only a btree range is an index condition under row-level security
   * (003_search.sql), and a move should not read every record of the province. unit_key (the
   * search's subtree key) is generated from unit_path and follows; attachments follow their
   * record by the trigger of migration 007. */
  const char *lo = srv_printf(ctx, "%s.", old_path), *hi = srv_printf(ctx, "%s/", old_path);
  if (counted(db_q(ctx->db, "UPDATE records SET unit_path = " REPREFIX " WHERE unit_key >= $3 AND unit_key < $4", 4,
                   old_path, new_path, lo, hi),
              counts, "moved_records") != 0)
    return -1;
  /* record_versions.unit_path names where the unit that managed the record then sits now (who
   * reads a version is decided on its record as it is now, migration 040). The version itself
   * (data, meta: who, when, why, which unit) is never rewritten. */
  if (counted(db_q(ctx->db, "UPDATE record_versions SET unit_path = " REPREFIX " WHERE unit_path <@ $1::public.ltree", 2,
                   old_path, new_path),
              counts, "moved_versions") != 0)
    return -1;
  if (counted(db_q(ctx->db, "UPDATE read_grants SET unit_path = " REPREFIX " WHERE unit_path <@ $1::public.ltree", 2,
                   old_path, new_path),
              counts, "moved_grants") != 0)
    return -1;
  /* The reporting facts' periods likewise (030_report_facts.sql): a subtree's report, of today
   * or of a past day, counts the people its units managed, wherever those units now sit. */
  if (counted(db_q(ctx->db, "UPDATE fact_periods SET unit_path = " REPREFIX " WHERE unit_path <@ $1::public.ltree", 2,
                   old_path, new_path),
              counts, "moved_fact_periods") != 0)
    return -1;
  return counted(db_q(ctx->db, "UPDATE change_requests SET unit_path = " REPREFIX " WHERE unit_path <@ $1::public.ltree",
                      2, old_path, new_path),
                 counts, "moved_requests");
}

int follow_look(srv_ctx *ctx, const char *old_path, int max, char ***units, char ***paths, size_t *n) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", max);
  PGresult *r = db_q(ctx->db,
                     "SELECT DISTINCT managing_unit_id::text, unit_path::text FROM records "
                     "WHERE unit_key >= $1 AND unit_key < $2 LIMIT $3::int",
                     3, srv_printf(ctx, "%s.", old_path), srv_printf(ctx, "%s/", old_path), lim);
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

int follow_refile(srv_ctx *ctx, const char *unit_id, const char *stale, const char *cur, json_t *counts) {
  if (counted(db_q(ctx->db,
                   "UPDATE records SET unit_path = $3::public.ltree "
                   "WHERE managing_unit_id = $1::bigint AND unit_path = $2::public.ltree",
                   3, unit_id, stale, cur),
              counts, "moved_records") != 0)
    return -1;
  /* The unit left this exact path, so whatever is still filed there was filed there for it. */
  if (counted(db_q(ctx->db, "UPDATE record_versions SET unit_path = $2::public.ltree WHERE unit_path = $1::public.ltree",
                   2, stale, cur),
              counts, "moved_versions") != 0)
    return -1;
  if (counted(db_q(ctx->db, "UPDATE read_grants SET unit_path = $2::public.ltree WHERE unit_path = $1::public.ltree",
                   2, stale, cur),
              counts, "moved_grants") != 0)
    return -1;
  if (counted(db_q(ctx->db, "UPDATE fact_periods SET unit_path = $2::public.ltree WHERE unit_path = $1::public.ltree",
                   2, stale, cur),
              counts, "moved_fact_periods") != 0)
    return -1;
  return counted(db_q(ctx->db, "UPDATE change_requests SET unit_path = $2::public.ltree WHERE unit_path = $1::public.ltree",
                      2, stale, cur),
                 counts, "moved_requests");
}

int follow_unit_records(srv_ctx *ctx, const char *unit_id, char ***ids, size_t *n) {
  PGresult *r = db_q(ctx->db, "SELECT id::text FROM records WHERE managing_unit_id = $1::bigint ORDER BY id", 1, unit_id);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *ids = srv_alloc(ctx, (*n + 1) * sizeof **ids);
  for (size_t i = 0; i < *n; i++) (*ids)[i] = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
  PQclear(r);
  return 0;
}
