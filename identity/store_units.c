/* The SQL behind the units RPCs: one function per statement, parameters only, run in the
 * caller's transaction so row-level security (hoso.scope) applies to every one of them. */
#include "store_units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns unit_from_row reads. */
#define UNIT_COLS                                                                                \
  "u.id::text, coalesce(u.parent_id::text, ''), u.code, u.name, u.type, u.level, u.path::text, " \
  "u.staffing_quota, u.status, coalesce(u.merged_into_id::text, ''), u.version, "               \
  DB_RFC3339("u.created_at") ", " DB_RFC3339("u.updated_at") ", "                               \
  "(SELECT count(*) FROM units c WHERE c.parent_id = u.id AND c.status = 1)"
#define ROW_COLS "id::text, coalesce(parent_id::text, ''), path::text, code, name, type, level, status, staffing_quota, version"

static long long col_ll(const PGresult *r, int row, int c) { return strtoll(PQgetvalue(r, row, c), NULL, 10); }

static id_unit *unit_from_row(srv_ctx *ctx, const PGresult *r, int row) {
  id_unit *u = srv_new(ctx, &hoso__identity__v1__unit__descriptor);
  u->id = srv_strdup(ctx, PQgetvalue(r, row, 0));
  u->parent_id = srv_strdup(ctx, PQgetvalue(r, row, 1));
  u->code = srv_strdup(ctx, PQgetvalue(r, row, 2));
  u->name = srv_strdup(ctx, PQgetvalue(r, row, 3));
  u->type = (Hoso__Identity__V1__UnitType)col_ll(r, row, 4);
  u->level = (int32_t)col_ll(r, row, 5);
  u->path = srv_strdup(ctx, PQgetvalue(r, row, 6));
  u->staffing_quota = (int32_t)col_ll(r, row, 7);
  u->status = (Hoso__Identity__V1__UnitStatus)col_ll(r, row, 8);
  u->merged_into_id = srv_strdup(ctx, PQgetvalue(r, row, 9));
  u->version = col_ll(r, row, 10);
  u->created_at = srv_strdup(ctx, PQgetvalue(r, row, 11));
  u->updated_at = srv_strdup(ctx, PQgetvalue(r, row, 12));
  u->child_count = (int32_t)col_ll(r, row, 13);
  return u;
}

/* Every row as a unit message. */
static int units_of(srv_ctx *ctx, PGresult *r, id_unit ***out, size_t *n) {
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) (*out)[i] = unit_from_row(ctx, r, (int)i);
  PQclear(r);
  return 0;
}

/* Every row's first two columns. */
static int pairs_of(srv_ctx *ctx, PGresult *r, unit_pair **out, size_t *n) {
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++)
    (*out)[i] = (unit_pair){srv_strdup(ctx, PQgetvalue(r, (int)i, 0)), srv_strdup(ctx, PQgetvalue(r, (int)i, 1))};
  PQclear(r);
  return 0;
}

/* Copies a column into a fixed buffer; a value that does not fit is an error, never a silently
 * shortened path or name that a scope check would then misjudge. */
static int copy_col(char *dst, size_t n, const PGresult *r, int row, int c) {
  const char *v = PQgetvalue(r, row, c);
  size_t len = strlen(v);
  if (len >= n) return -1;
  memcpy(dst, v, len + 1);
  return 0;
}

/* The one row of ROW_COLS in r into out: 1, 0 when r has none, -1. r is cleared. */
static int row_of(PGresult *r, unit_row *out) {
  if (!r) return -1;
  int rc = 0;
  if (PQntuples(r) == 1) {
    memset(out, 0, sizeof *out);
    if (copy_col(out->id, sizeof out->id, r, 0, 0) || copy_col(out->parent_id, sizeof out->parent_id, r, 0, 1) ||
        copy_col(out->path, sizeof out->path, r, 0, 2) || copy_col(out->code, sizeof out->code, r, 0, 3) ||
        copy_col(out->name, sizeof out->name, r, 0, 4)) {
      rc = -1;
    } else {
      out->type = atoi(PQgetvalue(r, 0, 5));
      out->level = atoi(PQgetvalue(r, 0, 6));
      out->status = atoi(PQgetvalue(r, 0, 7));
      out->staffing_quota = atoi(PQgetvalue(r, 0, 8));
      out->version = strtoll(PQgetvalue(r, 0, 9), NULL, 10);
      rc = 1;
    }
  }
  PQclear(r);
  return rc;
}

static int count_of(PGresult *r, long long *n) {
  if (!r) return -1;
  if (n) *n = strtoll(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  return 0;
}

int units_lock_tree(srv_ctx *ctx, int exclusive) {
  return db_cmd(ctx->db,
                exclusive ? "SELECT pg_advisory_xact_lock(hashtext('identity.units_tree'))"
                          : "SELECT pg_advisory_xact_lock_shared(hashtext('identity.units_tree'))",
                0);
}

int units_find(srv_ctx *ctx, const char *id, int lock, unit_row *out) {
  static const char *const sql[] = {
      [UNIT_LOCK_NONE] = "SELECT " ROW_COLS " FROM units WHERE id = $1::bigint",
      [UNIT_LOCK_SHARE] = "SELECT " ROW_COLS " FROM units WHERE id = $1::bigint FOR SHARE",
      [UNIT_LOCK_UPDATE] = "SELECT " ROW_COLS " FROM units WHERE id = $1::bigint FOR UPDATE",
  };
  if (lock < UNIT_LOCK_NONE || lock > UNIT_LOCK_UPDATE) lock = UNIT_LOCK_NONE;
  return row_of(db_q(ctx->db, sql[lock], 1, id), out);
}

int units_root(srv_ctx *ctx, unit_row *out) {
  return row_of(db_q(ctx->db, "SELECT " ROW_COLS " FROM units WHERE parent_id IS NULL ORDER BY id LIMIT 1", 0), out);
}

int units_get(srv_ctx *ctx, const char *id, id_unit **out) {
  PGresult *r = db_q(ctx->db, "SELECT " UNIT_COLS " FROM units u WHERE u.id = $1::bigint", 1, id);
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  if (found) *out = unit_from_row(ctx, r, 0);
  PQclear(r);
  return found;
}

int units_insert(srv_ctx *ctx, const unit_row *parent, const char *code, const char *name, int type,
                 int staffing_quota, char id_out[24]) {
  char t[16], q[16];
  snprintf(t, sizeof t, "%d", type);
  snprintf(q, sizeof q, "%d", staffing_quota);
  /* The id is drawn first so the path can end in it within the same statement. */
  PGresult *r = parent
                    ? db_q(ctx->db,
                           "WITH n AS (SELECT nextval('units_id_seq') AS id) "
                           "INSERT INTO units (id, parent_id, code, name, type, level, path, staffing_quota) "
                           "SELECT n.id, p.id, $2, $3, $4::smallint, p.level + 1, p.path || n.id::text, $5::int "
                           "FROM n, units p WHERE p.id = $1::bigint RETURNING id::text",
                           5, parent->id, code, name, t, q)
                    : db_q(ctx->db,
                           "WITH n AS (SELECT nextval('units_id_seq') AS id) "
                           "INSERT INTO units (id, code, name, type, level, path, staffing_quota) "
                           "SELECT n.id, $1, $2, $3::smallint, 1, (n.id::text)::public.ltree, $4::int FROM n "
                           "RETURNING id::text",
                           4, code, name, t, q);
  if (!r) return -1;
  int rc = PQntuples(r) == 1 && copy_col(id_out, 24, r, 0, 0) == 0 ? 0 : -1;
  PQclear(r);
  return rc;
}

int units_update(srv_ctx *ctx, const char *id, const char *name, const char *code, int type, int staffing_quota) {
  char t[16], q[16];
  snprintf(t, sizeof t, "%d", type);
  snprintf(q, sizeof q, "%d", staffing_quota);
  return db_cmd(ctx->db,
                "UPDATE units SET name = coalesce($2, name), code = coalesce($3, code), "
                "type = CASE WHEN $4::smallint = 0 THEN type ELSE $4::smallint END, "
                "staffing_quota = CASE WHEN $5::int < 0 THEN staffing_quota ELSE $5::int END, "
                "version = version + 1, updated_at = now() WHERE id = $1::bigint",
                5, id, name, code, t, q) < 0
             ? -1
             : 0;
}

int units_move(srv_ctx *ctx, const char *old_path, const char *new_path, const char *new_parent_id,
               long long *n_units) {
  /* subpath(p, nlevel(p)) is an error rather than the empty path, hence the CASE for the
   * moved unit itself. New paths cannot collide with existing ones on the way: every path ends
   * in its own unit's id, which no other unit's path ends in. */
  return count_of(db_q(ctx->db,
                       "UPDATE units SET "
                       "path = CASE WHEN path = $1::ltree THEN $2::ltree "
                       "ELSE $2::ltree || subpath(path, nlevel($1::ltree)) END, "
                       "level = nlevel($2::ltree) + nlevel(path) - nlevel($1::ltree), "
                       "parent_id = CASE WHEN path = $1::ltree THEN $3::bigint ELSE parent_id END, "
                       "version = CASE WHEN path = $1::ltree THEN version + 1 ELSE version END, "
                       "updated_at = now() "
                       "WHERE path <@ $1::ltree",
                       3, old_path, new_path, new_parent_id),
                  n_units);
}

int units_sync_account_paths(srv_ctx *ctx, const char *old_root, long long *n) {
  return count_of(db_q(ctx->db,
                       "UPDATE accounts a SET unit_path = u.path, updated_at = now() FROM units u "
                       "WHERE u.id = a.unit_id AND a.unit_path <@ $1::ltree AND a.unit_path <> u.path",
                       1, old_root),
                  n);
}

int units_history_add(srv_ctx *ctx, const char *unit_id, const char *action, const char *actor_id,
                      const char *reason, const char *related_unit_id) {
  PGresult *r = db_q(ctx->db,
                     "INSERT INTO unit_history (unit_id, action, name, code, parent_id, actor_id, "
                     "reason, related_unit_id) "
                     "SELECT id, $2, name, code, parent_id, $3, $4, $5::bigint FROM units "
                     "WHERE id = $1::bigint",
                     5, unit_id, action, actor_id ? actor_id : "", reason ? reason : "",
                     related_unit_id && *related_unit_id ? related_unit_id : NULL);
  if (!r) return -1;
  /* The unit must be visible here; an entry silently not written would lose history. */
  int rc = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : -1;
  PQclear(r);
  return rc;
}

int units_children(srv_ctx *ctx, const char *parent_id, int include_dissolved, const char *after_name,
                   const char *after_id, int limit, id_unit ***out, size_t *n) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  /* Matches the index units_children (parent_id, name COLLATE "C", id): byte order of the NFC
   * names is stable across locales, so page tokens keep their meaning. */
  return units_of(ctx,
                  db_q(ctx->db,
                       "SELECT " UNIT_COLS " FROM units u "
                       "WHERE u.parent_id = $1::bigint AND ($2::boolean OR u.status = 1) "
                       "AND ($3::text IS NULL OR (u.name COLLATE \"C\", u.id) > ($3::text COLLATE \"C\", $4::bigint)) "
                       "ORDER BY u.name COLLATE \"C\", u.id LIMIT $5::int",
                       5, parent_id, include_dissolved ? "true" : "false", after_name, after_name ? after_id : NULL,
                       lim),
                  out, n);
}

int units_subtree(srv_ctx *ctx, const char *root_path, const char *after_path, int max_level,
                  int include_dissolved, int limit, id_unit ***out, size_t *n) {
  char lim[16], lvl[16];
  snprintf(lim, sizeof lim, "%d", limit);
  snprintf(lvl, sizeof lvl, "%d", max_level);
  return units_of(ctx,
                  db_q(ctx->db,
                       "SELECT " UNIT_COLS " FROM units u "
                       "WHERE u.path <@ $1::ltree AND ($2::ltree IS NULL OR u.path > $2::ltree) "
                       "AND ($3::int = 0 OR u.level <= $3::int) AND ($4::boolean OR u.status = 1) "
                       "ORDER BY u.path LIMIT $5::int",
                       5, root_path, after_path, lvl, include_dissolved ? "true" : "false", lim),
                  out, n);
}

int units_directory(srv_ctx *ctx, const char *query, const char *ids, const char *after_name, const char *after_id,
                    int limit, id_dir_entry ***out, size_t *n) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  const char *p[5] = {query, ids, after_name, after_name ? after_id : NULL, lim};
  /* strpos, not LIKE: what a person types is text, never a pattern */
  PGresult *r = srv_exec_all_units(
      ctx,
      "SELECT u.id::text, u.code, u.name, u.type, coalesce(u.parent_id::text, ''), coalesce(p.name, ''), u.status "
      "FROM units u LEFT JOIN units p ON p.id = u.parent_id "
      "WHERE CASE WHEN $2::bigint[] IS NOT NULL THEN u.id = ANY ($2::bigint[]) "
      "ELSE u.status = 1 AND ($1 = '' OR strpos(unit_fold(u.name), unit_fold($1)) > 0 "
      "OR strpos(lower(u.code), lower($1)) > 0) END "
      "AND ($3::text IS NULL OR (u.name COLLATE \"C\", u.id) > ($3::text COLLATE \"C\", $4::bigint)) "
      "ORDER BY u.name COLLATE \"C\", u.id LIMIT $5::int",
      5, p);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    id_dir_entry *e = srv_new(ctx, &hoso__identity__v1__unit_directory_entry__descriptor);
    int row = (int)i;
    e->id = srv_strdup(ctx, PQgetvalue(r, row, 0));
    e->code = srv_strdup(ctx, PQgetvalue(r, row, 1));
    e->name = srv_strdup(ctx, PQgetvalue(r, row, 2));
    e->type = (Hoso__Identity__V1__UnitType)col_ll(r, row, 3);
    e->parent_id = srv_strdup(ctx, PQgetvalue(r, row, 4));
    e->parent_name = srv_strdup(ctx, PQgetvalue(r, row, 5));
    e->status = (Hoso__Identity__V1__UnitStatus)col_ll(r, row, 6);
    (*out)[i] = e;
  }
  PQclear(r);
  return 0;
}

int units_history(srv_ctx *ctx, const char *unit_id, Hoso__Identity__V1__UnitHistoryEntry ***out, size_t *n) {
  PGresult *r = db_q(ctx->db,
                     "SELECT " DB_RFC3339("h.at") ", h.action, h.name, h.code, coalesce(h.parent_id::text, ''), "
                     "h.actor_id, h.reason, coalesce(h.related_unit_id::text, '') "
                     "FROM unit_history h WHERE h.unit_id = $1::bigint ORDER BY h.at, h.id",
                     1, unit_id);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    Hoso__Identity__V1__UnitHistoryEntry *e = srv_new(ctx, &hoso__identity__v1__unit_history_entry__descriptor);
    int row = (int)i;
    e->at = srv_strdup(ctx, PQgetvalue(r, row, 0));
    e->action = srv_strdup(ctx, PQgetvalue(r, row, 1));
    e->name = srv_strdup(ctx, PQgetvalue(r, row, 2));
    e->code = srv_strdup(ctx, PQgetvalue(r, row, 3));
    e->parent_id = srv_strdup(ctx, PQgetvalue(r, row, 4));
    e->actor_id = srv_strdup(ctx, PQgetvalue(r, row, 5));
    e->reason = srv_strdup(ctx, PQgetvalue(r, row, 6));
    e->related_unit_id = srv_strdup(ctx, PQgetvalue(r, row, 7));
    (*out)[i] = e;
  }
  PQclear(r);
  return 0;
}

int units_active_children(srv_ctx *ctx, const char *unit_id, unit_pair **out, size_t *n) {
  return pairs_of(ctx,
                  db_q(ctx->db,
                       "SELECT id::text, path::text FROM units WHERE parent_id = $1::bigint AND status = 1 ORDER BY id",
                       1, unit_id),
                  out, n);
}

int units_revoke_accounts(srv_ctx *ctx, const char *unit_id, const char *status_reason, unit_pair **out, size_t *n) {
  return pairs_of(ctx,
                  db_q(ctx->db,
                       "UPDATE accounts SET status = 3, status_reason = $2, version = version + 1, "
                       "updated_at = now() WHERE unit_id = $1::bigint AND status IN (1, 2) "
                       "RETURNING id::text, username",
                       2, unit_id, status_reason),
                  out, n);
}

int units_dissolve(srv_ctx *ctx, const char *id, const char *into_id) {
  return db_cmd(ctx->db,
                "UPDATE units SET status = 2, merged_into_id = $2::bigint, version = version + 1, "
                "updated_at = now() WHERE id = $1::bigint AND status = 1",
                2, id, into_id) < 0
             ? -1
             : 0;
}

int units_change_add(srv_ctx *ctx, int kind, const char *unit_id, const char *old_path, const char *new_path,
                     const char *successor_id, const char *reason, const char *actor_id, long long *seq_out) {
  char k[8];
  snprintf(k, sizeof k, "%d", kind);
  /* max + 1 rather than a sequence: a sequence hands out numbers at call time and loses them on
   * rollback, so numbers would neither be gap-free nor follow commit order. The primary key
   * turns a caller that forgot the tree lock into a failed insert, never a duplicate. */
  PGresult *r = db_q(ctx->db,
                     "INSERT INTO unit_changes (seq, kind, unit_id, old_path, new_path, successor_id, "
                     "reason, actor_id) "
                     "SELECT coalesce(max(seq), 0) + 1, $1::smallint, $2::bigint, $3::ltree, $4::ltree, "
                     "$5::bigint, $6, $7 FROM unit_changes RETURNING seq",
                     7, k, unit_id, old_path, new_path, successor_id && *successor_id ? successor_id : NULL,
                     reason ? reason : "", actor_id ? actor_id : "");
  if (!r) return -1;
  int rc = PQntuples(r) == 1 ? 0 : -1;
  if (rc == 0 && seq_out) *seq_out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return rc;
}

int units_changes(srv_ctx *ctx, long long after_seq, int limit, Hoso__Identity__V1__UnitChange ***out, size_t *n) {
  char after[32], lim[16];
  snprintf(after, sizeof after, "%lld", after_seq);
  snprintf(lim, sizeof lim, "%d", limit);
  PGresult *r = db_q(ctx->db,
                     "SELECT c.seq::text, c.kind, c.unit_id::text, c.old_path::text, c.new_path::text, "
                     "coalesce(c.successor_id::text, ''), c.reason, c.actor_id, " DB_RFC3339("c.at") " "
                     /* Qualified: a bare "seq" would order by the text output column ("10" < "9"). */
                     "FROM unit_changes c WHERE c.seq > $1::bigint ORDER BY c.seq LIMIT $2::int",
                     2, after, lim);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    Hoso__Identity__V1__UnitChange *c = srv_new(ctx, &hoso__identity__v1__unit_change__descriptor);
    int row = (int)i;
    c->seq = col_ll(r, row, 0);
    c->kind = (Hoso__Identity__V1__UnitChangeKind)col_ll(r, row, 1);
    c->unit_id = srv_strdup(ctx, PQgetvalue(r, row, 2));
    c->old_path = srv_strdup(ctx, PQgetvalue(r, row, 3));
    c->new_path = srv_strdup(ctx, PQgetvalue(r, row, 4));
    c->successor_id = srv_strdup(ctx, PQgetvalue(r, row, 5));
    c->reason = srv_strdup(ctx, PQgetvalue(r, row, 6));
    c->actor_id = srv_strdup(ctx, PQgetvalue(r, row, 7));
    c->at = srv_strdup(ctx, PQgetvalue(r, row, 8));
    (*out)[i] = c;
  }
  PQclear(r);
  return 0;
}

int units_changes_last(srv_ctx *ctx, long long *last) {
  PGresult *r = db_q(ctx->db, "SELECT coalesce(max(seq), 0)::text FROM unit_changes", 0);
  if (!r) return -1;
  *last = col_ll(r, 0, 0);
  PQclear(r);
  return 0;
}
