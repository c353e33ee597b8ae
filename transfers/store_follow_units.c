/* Transfers follow identity's unit tree (common/unit_tree.h), the SQL: every path a transfer files — its
 * three units, its steps, the deadlines, the notices — moves with a moved unit; the open
 * transfers, their open steps, deadlines and notices of a dissolved unit become its successor's,
 * and so do the undelivered steps to records that name it (outbox_give_unit). */
#include <stdio.h>
#include <stdlib.h>
#include "outbox.h"
#include "transfers.h"

static int counted(PGresult *r, json_t *counts, const char *name) {
  if (!r) return -1;
  unit_tree_count(counts, name, strtoll(PQcmdTuples(r), NULL, 10));
  PQclear(r);
  return 0;
}

static int give(srv_ctx *ctx, const char *unit, const char *successor, const char *successor_path, const char *reason,
                json_t *counts) {
  (void)reason;
  static const char *const sql[] = {
      "UPDATE transfers SET from_unit_id = $2::bigint, from_path = $3::public.ltree "
      "WHERE from_unit_id = $1::bigint AND state IN (1, 3, 4, 5, 6, 10)",
      "UPDATE transfers SET to_unit_id = $2::bigint, to_path = $3::public.ltree "
      "WHERE to_unit_id = $1::bigint AND state IN (1, 3, 4, 5, 6, 10)",
      "UPDATE transfers SET final_unit_id = $2::bigint, final_path = $3::public.ltree "
      "WHERE final_unit_id = $1::bigint AND state IN (1, 3, 4, 5, 6, 10)",
      /* the open step is the successor's work now; done steps keep who did them */
      "UPDATE transfer_steps SET unit_id = $2::bigint, unit_path = $3::public.ltree "
      "WHERE unit_id = $1::bigint AND done_at IS NULL",
      "UPDATE deadlines SET unit_id = $2::bigint, unit_path = $3::public.ltree WHERE unit_id = $1::bigint",
      "UPDATE notices SET unit_id = $2::bigint, unit_path = $3::public.ltree WHERE unit_id = $1::bigint",
  };
  for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
    if (counted(db_q(ctx->db, sql[i], 3, unit, successor, successor_path), counts, i < 3 ? "given_transfers" : "given_rows"))
      return -1;
  return outbox_give_unit(ctx, unit, successor, counts);
}

#define MOVE(table, col)                                                                 \
  "UPDATE " table " SET " col " = " UNIT_TREE_REPREFIX(col) " WHERE " col                \
  " OPERATOR(public.<@) $1::public.ltree"

static int reprefix(srv_ctx *ctx, const char *old_path, const char *new_path, json_t *counts) {
  static const char *const sql[][2] = {
      {MOVE("transfers", "from_path"), "moved_transfers"},  {MOVE("transfers", "to_path"), "moved_transfers"},
      {MOVE("transfers", "final_path"), "moved_transfers"}, {MOVE("transfer_steps", "unit_path"), "moved_steps"},
      {MOVE("deadlines", "unit_path"), "moved_deadlines"},  {MOVE("notices", "unit_path"), "moved_notices"},
  };
  for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
    if (counted(db_q(ctx->db, sql[i][0], 2, old_path, new_path), counts, sql[i][1])) return -1;
  return 0;
}

/* Late writers: the (unit, path) pairs filed under old_path by a transfer written with a path
 * read just before the change was applied. */
static int look(srv_ctx *ctx, const char *old_path, int max, char ***units, char ***paths, size_t *n) {
  PGresult *r = db_q(ctx->db,
                     "SELECT DISTINCT u, p FROM ("
                     " SELECT from_unit_id::text u, from_path::text p FROM transfers WHERE from_path OPERATOR(public.<@) $1::public.ltree"
                     " UNION SELECT to_unit_id::text, to_path::text FROM transfers WHERE to_path OPERATOR(public.<@) $1::public.ltree"
                     " UNION SELECT final_unit_id::text, final_path::text FROM transfers WHERE final_path OPERATOR(public.<@) $1::public.ltree"
                     " UNION SELECT unit_id::text, unit_path::text FROM deadlines WHERE unit_path OPERATOR(public.<@) $1::public.ltree"
                     " UNION SELECT unit_id::text, unit_path::text FROM notices WHERE unit_path OPERATOR(public.<@) $1::public.ltree"
                     ") x LIMIT $2::int",
                     2, old_path, srv_printf(ctx, "%d", max));
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

static int refile(srv_ctx *ctx, const char *unit_id, const char *stale, const char *cur, json_t *counts) {
  static const char *const sql[] = {
      "UPDATE transfers SET from_path = $3::public.ltree WHERE from_unit_id = $1::bigint AND from_path = $2::public.ltree",
      "UPDATE transfers SET to_path = $3::public.ltree WHERE to_unit_id = $1::bigint AND to_path = $2::public.ltree",
      "UPDATE transfers SET final_path = $3::public.ltree WHERE final_unit_id = $1::bigint AND final_path = $2::public.ltree",
      "UPDATE transfer_steps SET unit_path = $3::public.ltree WHERE unit_id = $1::bigint AND unit_path = $2::public.ltree",
      "UPDATE deadlines SET unit_path = $3::public.ltree WHERE unit_id = $1::bigint AND unit_path = $2::public.ltree",
      "UPDATE notices SET unit_path = $3::public.ltree WHERE unit_id = $1::bigint AND unit_path = $2::public.ltree",
  };
  for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
    if (counted(db_q(ctx->db, sql[i], 3, unit_id, stale, cur), counts, "refiled")) return -1;
  return 0;
}

const unit_tree_follower transfers_follow_units = {.give = give, .reprefix = reprefix, .look = look, .refile = refile};
