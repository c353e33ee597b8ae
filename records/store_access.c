/* Who may read or change one record, decided on the record as it is now (migration 040): its
 * managing unit's subtree, a read grant (the receiving unit in transit, a host unit during a
 * secondment), the person themself; a record in transit or out of the system is not changed.
 * record_fetch and record_fetch_as_of, the two ways every handler loads a record, live here. */
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "records.h"
#include "scope.h"
#include "store_records.h"
#include "val.h"

#define STATUS(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x

/* The row's current unit, status and the paths of its live read grants (comma-separated; those
 * row-level security lets the caller see), after the columns a query asks for. */
#define ACCESS_COLS                                                                            \
  "unit_path::text, status, (SELECT string_agg(g.unit_path::text, ',') FROM read_grants g "   \
  "WHERE g.record_id = records.id AND g.ended_at IS NULL "                                     \
  "AND (g.until IS NULL OR g.until >= hoso_today()))"

int record_is_transfers_service(const srv_ctx *ctx) {
  const char *id = cfg_str("HOSO_TRANSFERS_CLIENT_ID", "");
  return ctx->auth && (ctx->auth->roles & ROLE_SERVICE) && *id && strcmp(ctx->auth->username, id) == 0;
}

/* A person reads their own dossier without anyone's approval (004 Đ12.2), by the record id
 * their token carries, and nothing else through that role. */
static int self_reads_own(const srv_ctx *ctx, const char *record_id, unsigned rights) {
  const tok_claims *a = ctx->auth;
  return a && (a->roles & ROLE_SELF) && rights == RIGHT_READ && a->record_id[0] &&
         strcmp(a->record_id, record_id) == 0;
}

/* One of the grant paths lies within the caller's scope. */
static int granted(const tok_claims *a, const char *grants) {
  char path[512];
  for (const char *p = grants; p && *p;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (n < sizeof path) {
      memcpy(path, p, n);
      path[n] = 0;
      if (scope_allows(a, path, RIGHT_READ)) return 1;
    }
    p = comma ? comma + 1 : p + n;
  }
  return 0;
}

/* PERMISSION_DENIED in words that say what is missing: the unit (scope) or the role. */
static int deny(srv_ctx *ctx, const char *record_id, const char *path, unsigned rights) {
  if (ctx->auth && (rights & ~RIGHT_READ) && scope_allows(ctx->auth, path, RIGHT_READ)) {
    if (rights & RIGHT_APPROVE)
      return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                      "record_id: approving record %s needs the UNIT_ADMIN role of its managing "
                      "unit or a unit above it", record_id);
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "record_id: changing record %s needs the UPDATER role in its managing unit or "
                    "a unit above it", record_id);
  }
  return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                  "record_id: record %s is managed by a unit outside your scope", record_id);
}

/* The rule, on the record's current unit path, status and grant paths. 0, or -1 with the
 * refusal set. */
static int decide(srv_ctx *ctx, const char *id, const char *path, int status, const char *grants, unsigned rights,
                  int flags) {
  const tok_claims *a = ctx->auth;
  if (rights == RIGHT_READ) {
    if (self_reads_own(ctx, id, rights)) return 0;
    /* Out of the system, the dossier is kept for history (000 Đ10, 004 Đ11): its last unit's
     * administrators read it, not its everyday readers. Services read within their grant. */
    if (status == STATUS(TRANSFERRED_OUT) && a && !(a->roles & ROLE_SERVICE)) {
      if (scope_allows(a, path, RIGHT_APPROVE)) return 0;
      if (scope_allows(a, path, RIGHT_READ))
        return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                        "record_id: record %s was transferred out of the system; only the "
                        "administrators of its last managing unit read it", id);
      return deny(ctx, id, path, rights);
    }
    if (scope_allows(a, path, RIGHT_READ) || granted(a, grants)) return 0;
    return deny(ctx, id, path, rights);
  }
  if (!scope_allows(a, path, rights)) return deny(ctx, id, path, rights);
  if ((rights & (RIGHT_UPDATE | RIGHT_APPROVE)) && !(flags & RECORD_ANY_STATUS)) {
    if (status == STATUS(PENDING_TRANSFER))
      return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                      "record_id: record %s is being transferred; it can be changed again once the "
                      "receiving unit takes it or the transfer is cancelled", id);
    if (status == STATUS(TRANSFERRED_OUT))
      return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                      "record_id: record %s was transferred out of the system; it is kept read-only "
                      "for history", id);
  }
  return 0;
}

static int record_from(srv_ctx *ctx, const PGresult *r, int row, int data_col, int path_col, rec_t **out) {
  rec_t *rec = (rec_t *)record_unpack_col(ctx, &hoso__records__v1__record__descriptor, r, row, data_col);
  if (!rec) return srv_fail_internal(ctx);
  rec->managing_unit_path = srv_strdup(ctx, PQgetvalue(r, row, path_col));
  *out = rec;
  return 0;
}

/* The current row of record_id with ACCESS_COLS at columns first..first+2, decided. Row-level
 * security and the rule above must both let the caller in; a row hidden by the former is read
 * again unscoped only to name the refusal, or for the person's own record. *r is the result
 * to read (freed by the caller), *unscoped set when it came from the second look. */
static int load_current(srv_ctx *ctx, const char *id, const char *const sql[2], unsigned rights, int flags,
                        PGresult **r, int *unscoped) {
  const char *params[1] = {id};
  *unscoped = 0;
  *r = db_exec(ctx->db, sql[flags & RECORD_LOCK ? 1 : 0], 1, params);
  if (!*r) return -1;
  int rc = 0;
  if (PQntuples(*r) == 0) {
    PQclear(*r);
    /* Once more with every unit visible, to tell "no such record" from "not yours"; a SELF
     * caller's own record may lie outside its unit's scope; a read never locks. */
    if (!(*r = srv_exec_all_units(ctx, sql[0], 1, params))) return -1;
    *unscoped = 1;
    if (PQntuples(*r) == 0)
      rc = srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "record_id: record %s does not exist", id);
    else if ((flags & RECORD_LOCK) || !self_reads_own(ctx, id, rights))
      rc = deny(ctx, id, PQgetvalue(*r, 0, 1), rights);
  } else {
    rc = decide(ctx, id, PQgetvalue(*r, 0, 1), atoi(PQgetvalue(*r, 0, 2)), PQgetvalue(*r, 0, 3), rights, flags);
  }
  if (rc != 0) {
    PQclear(*r);
    *r = NULL;
  }
  return rc;
}

int record_fetch(srv_ctx *ctx, const char *record_id, unsigned rights, int flags, rec_t **out) {
  static const char *const sql[2] = {
      "SELECT data, " ACCESS_COLS " FROM records WHERE id = $1",
      "SELECT data, " ACCESS_COLS " FROM records WHERE id = $1 FOR NO KEY UPDATE OF records",
  };
  *out = NULL;
  if (srv_check_id(ctx, "record_id", record_id)) return -1;
  PGresult *r;
  int unscoped;
  if (load_current(ctx, record_id, sql, rights, flags, &r, &unscoped) != 0) return -1;
  int rc = record_from(ctx, r, 0, 0, 1, out);
  PQclear(r);
  return rc;
}

int record_fetch_as_of(srv_ctx *ctx, const char *record_id, const char *as_of, unsigned rights, rec_t **out) {
  static const char *const sql[2] = {
      "SELECT id, " ACCESS_COLS " FROM records WHERE id = $1",
      "SELECT id, " ACCESS_COLS " FROM records WHERE id = $1 FOR NO KEY UPDATE OF records",
  };
  /* Transaction time: the last version written before the end of that day in Vietnam (the day
   * reporting's "as known on", deadlines and read grants are judged on; a day ended in UTC put
   * an approval made at 02:51 on 6 December, Vietnam time, into the record "as of 5 December"). */
  static const char version_sql[] =
      "SELECT data, unit_path::text FROM record_versions WHERE record_id = $1 "
      "AND changed_at < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') ORDER BY version DESC LIMIT 1";
  *out = NULL;
  if (srv_check_id(ctx, "record_id", record_id)) return -1;
  const char *e = val_date(as_of);
  if (e) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "as_of: %s", e);
  /* Whoever may read the record now reads its past, and nobody else: the unit a version was
   * made in has no say once the record has moved (003 Đ7.3). */
  PGresult *r;
  int unscoped;
  if (load_current(ctx, record_id, sql, rights, 0, &r, &unscoped) != 0) return -1;
  PQclear(r);
  const char *params[2] = {record_id, as_of};
  r = unscoped ? srv_exec_all_units(ctx, version_sql, 2, params) : db_exec(ctx->db, version_sql, 2, params);
  if (!r) return -1;
  int rc = PQntuples(r) == 1 ? record_from(ctx, r, 0, 0, 1, out)
                             : srv_fail(ctx, GRPC_STATUS_NOT_FOUND,
                                        "as_of: record %s did not exist yet on %s (the day's end, Vietnam time)", record_id,
                                        as_of);
  PQclear(r);
  return rc;
}
