/* The record store: one record read with its scope decided (now or as of a past day), every
 * write made a new version with its field-level diff, and the audit rows of reads and writes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "log.h"
#include "records.h"
#include "rpc_util.h"
#include "scope.h"
#include "store_records.h"
#include "val.h"

typedef Hoso__Records__V1__RecordVersion rec_version;

#define TS_SQL "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* ------------------------------------------------------------ bytea as text ------------- */

/* The packed message as bytea input text ("\x0a1b..."): db_exec passes text parameters. */
static char *bytea_hex(srv_ctx *ctx, const ProtobufCMessage *m) {
  static const char hex[] = "0123456789abcdef";
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *raw = srv_alloc(ctx, n ? n : 1);
  protobuf_c_message_pack(m, raw);
  char *out = srv_alloc(ctx, 2 * n + 3);
  out[0] = '\\';
  out[1] = 'x';
  for (size_t i = 0; i < n; i++) {
    out[2 + 2 * i] = hex[raw[i] >> 4];
    out[3 + 2 * i] = hex[raw[i] & 15];
  }
  return out;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A bytea column (hex output, PostgreSQL's default) unpacked as a message in the arena. NULL
 * when the bytes are not one (logged: stored data must always unpack). */
static ProtobufCMessage *unpack_col(srv_ctx *ctx, const ProtobufCMessageDescriptor *d,
                                    const PGresult *r, int row, int col) {
  const char *s = PQgetvalue(r, row, col);
  size_t len = (size_t)PQgetlength(r, row, col);
  ProtobufCMessage *m = NULL;
  if (len >= 2 && s[0] == '\\' && s[1] == 'x' && len % 2 == 0) {
    size_t n = (len - 2) / 2;
    uint8_t *raw = srv_alloc(ctx, n ? n : 1);
    size_t i = 0;
    for (; i < n; i++) {
      int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);
      if (hi < 0 || lo < 0) break;
      raw[i] = (uint8_t)(hi << 4 | lo);
    }
    if (i == n) m = protobuf_c_message_unpack(d, srv_allocator(ctx), n, raw);
  }
  if (!m) log_error("records: a stored %s does not unpack (%zu bytes of text)", d->name, len);
  return m;
}

/* ------------------------------------------------------------ scope --------------------- */

/* A person reads their own dossier without anyone's approval (004 Đ12.2), by the record id
 * their token carries, and nothing else through that role. */
static int self_reads_own(const srv_ctx *ctx, const char *record_id, unsigned rights) {
  const tok_claims *a = ctx->auth;
  return a && (a->roles & ROLE_SELF) && rights == RIGHT_READ && a->record_id[0] &&
         strcmp(a->record_id, record_id) == 0;
}

static int allowed(const srv_ctx *ctx, const char *record_id, const char *path, unsigned rights) {
  return self_reads_own(ctx, record_id, rights) || scope_allows(ctx->auth, path, rights);
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

/* ------------------------------------------------------------ reads --------------------- */

static int record_from(srv_ctx *ctx, const PGresult *r, int row, int data_col, int path_col, rec_t **out) {
  rec_t *rec = (rec_t *)unpack_col(ctx, &hoso__records__v1__record__descriptor, r, row, data_col);
  if (!rec) return srv_fail_internal(ctx);
  rec->managing_unit_path = srv_strdup(ctx, PQgetvalue(r, row, path_col));
  *out = rec;
  return 0;
}

int record_fetch(srv_ctx *ctx, const char *record_id, unsigned rights, int lock, rec_t **out) {
  static const char *const sql[2] = {
      "SELECT data, unit_path::text FROM records WHERE id = $1",
      "SELECT data, unit_path::text FROM records WHERE id = $1 FOR NO KEY UPDATE",
  };
  *out = NULL;
  if (srv_check_id(ctx, "record_id", record_id)) return -1;
  const char *params[1] = {record_id};
  PGresult *r = db_exec(ctx->db, sql[lock ? 1 : 0], 1, params);
  if (!r) return -1;
  int rc;
  if (PQntuples(r) == 0) {
    PQclear(r);
    /* A SELF caller's own record may lie outside its unit's scope; a read never locks. */
    if (!(r = srv_exec_all_units(ctx, sql[0], 1, params))) return -1;
    if (PQntuples(r) == 0)
      rc = srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "record_id: record %s does not exist", record_id);
    else if (lock || !self_reads_own(ctx, record_id, rights))
      rc = deny(ctx, record_id, PQgetvalue(r, 0, 1), rights);
    else
      rc = record_from(ctx, r, 0, 0, 1, out);
  } else if (!allowed(ctx, record_id, PQgetvalue(r, 0, 1), rights)) {
    rc = deny(ctx, record_id, PQgetvalue(r, 0, 1), rights);
  } else {
    rc = record_from(ctx, r, 0, 0, 1, out);
  }
  PQclear(r);
  return rc;
}

int record_fetch_as_of(srv_ctx *ctx, const char *record_id, const char *as_of, unsigned rights, rec_t **out) {
  /* Transaction time: the last version written before the end of that day (UTC). */
  static const char version_sql[] =
      "SELECT data, unit_path::text FROM record_versions WHERE record_id = $1 "
      "AND changed_at < ($2::date + 1)::timestamptz ORDER BY version DESC LIMIT 1";
  static const char classify_sql[] =
      "SELECT v.data, v.unit_path::text, r.unit_path::text, v.data IS NULL FROM records r "
      "LEFT JOIN LATERAL (SELECT data, unit_path FROM record_versions "
      "  WHERE record_id = r.id AND changed_at < ($2::date + 1)::timestamptz "
      "  ORDER BY version DESC LIMIT 1) v ON true WHERE r.id = $1";
  *out = NULL;
  if (srv_check_id(ctx, "record_id", record_id)) return -1;
  const char *e = val_date(as_of);
  if (e) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "as_of: %s", e);
  const char *params[2] = {record_id, as_of};
  PGresult *r = db_exec(ctx->db, version_sql, 2, params);
  if (!r) return -1;
  int rc;
  if (PQntuples(r) == 1) {
    rc = allowed(ctx, record_id, PQgetvalue(r, 0, 1), rights) ? record_from(ctx, r, 0, 0, 1, out)
                                                              : deny(ctx, record_id, PQgetvalue(r, 0, 1), rights);
    PQclear(r);
    return rc;
  }
  PQclear(r);
  /* Once more with every unit visible, to tell "no such record" from "not yours". */
  if (!(r = srv_exec_all_units(ctx, classify_sql, 2, params))) return -1;
  if (PQntuples(r) == 0) {
    rc = srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "record_id: record %s does not exist", record_id);
  } else if (PQgetvalue(r, 0, 3)[0] == 't') {
    /* Whether the record existed on a day is itself something only its readers may learn. */
    rc = allowed(ctx, record_id, PQgetvalue(r, 0, 2), rights)
             ? srv_fail(ctx, GRPC_STATUS_NOT_FOUND,
                        "as_of: record %s did not exist yet on %s (the day's end, UTC)", record_id, as_of)
             : deny(ctx, record_id, PQgetvalue(r, 0, 2), rights);
  } else if (self_reads_own(ctx, record_id, rights)) {
    rc = record_from(ctx, r, 0, 0, 1, out);
  } else {
    rc = deny(ctx, record_id, PQgetvalue(r, 0, 1), rights);
  }
  PQclear(r);
  return rc;
}

int record_versions_page(srv_ctx *ctx, const char *record_id, const char *before, int limit,
                      rec_version ***out, size_t *n, int *more) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit + 1);
  *out = NULL;
  *n = 0;
  *more = 0;
  /* A person's own history is theirs wherever the versions were made; everyone else sees the
   * versions of the units in their scope (row-level security). */
  int self = self_reads_own(ctx, record_id, RIGHT_READ);
  static const char sql[] = "SELECT meta FROM record_versions WHERE record_id = $1 "
                            "AND ($2::bigint IS NULL OR version < $2::bigint) ORDER BY version DESC LIMIT $3";
  const char *params[3] = {record_id, before, lim};
  PGresult *r = self ? srv_exec_all_units(ctx, sql, 3, params) : db_exec(ctx->db, sql, 3, params);
  if (!r) return -1;
  int rows = PQntuples(r), take = rows > limit ? limit : rows, rc = 0;
  *out = srv_alloc(ctx, (size_t)(take ? take : 1) * sizeof **out);
  for (int i = 0; i < take && rc == 0; i++) {
    rec_version *v = (rec_version *)unpack_col(ctx, &hoso__records__v1__record_version__descriptor, r, i, 0);
    if (v)
      (*out)[(*n)++] = v;
    else
      rc = srv_fail_internal(ctx);
  }
  *more = rows > limit;
  PQclear(r);
  return rc;
}

/* ------------------------------------------------------------ audit --------------------- */

static int audit(srv_ctx *ctx, const char *action, const rec_t *r, json_t *detail) {
  if (!detail) {
    log_error("%s: could not build the audit detail of %s", ctx->method, action);
    return srv_fail_internal(ctx);
  }
  audit_entry e = {.action = action, .target_type = "record", .target_id = r->id, .unit_path = r->managing_unit_path};
  return srv_audit(ctx, &e, detail);
}

int record_audit_read(srv_ctx *ctx, const char *action, const rec_t *r) {
  /* HOSO_READ_AUDIT_SYNC=0 (the default is 1, durable): a read's transaction, which writes
   * nothing but its audit row, commits without waiting for the WAL flush. The row is still
   * written atomically with the read and chained, but a server crash can lose the last
   * fraction of a second of read rows. That wait (2-3.5 ms per flush on the bench machine's
   * disk) is most of a read's latency; BENCHMARKS.md has the figures. Queued, so no round
   * trip of its own. */
  if (!cfg_bool("HOSO_READ_AUDIT_SYNC", 1) &&
      db_cmd_later(ctx->db, "SELECT set_config('synchronous_commit', 'off', true)", 0, NULL) != 0)
    return -1;
  return audit(ctx, action, r, json_pack("{s:I, s:s}", "version", (json_int_t)r->version, "updated_at",
                                         r->updated_at ? r->updated_at : ""));
}

/* ------------------------------------------------------------ writes -------------------- */

static const char *str(const char *s) { return s ? s : ""; }

/* Bookkeeping every write changes; the version's change list is about the dossier. */
static int bookkeeping(const char *path) {
  return !strcmp(path, "id") || !strcmp(path, "version") || !strcmp(path, "created_at") ||
         !strcmp(path, "updated_at");
}

/* Names and places a free-text search looks through (folded in SQL by fold()). */
static const char *search_text(srv_ctx *ctx, const rec_t *r) {
  const Hoso__Records__V1__PersonalInfo *p = r->personal;
  if (!p) return str(r->full_name);
  return srv_printf(ctx, "%s %s %s %s %s %s", str(r->full_name), str(p->other_names), str(p->birth_place),
                    str(p->home_town), str(p->permanent_address), str(p->current_address));
}

static json_t *audit_changes(Hoso__Records__V1__FieldChange **ch, size_t n) {
  json_t *a = json_array();
  /* The paths only: the values are in the version, readable by those allowed to read it. */
  for (size_t i = 0; a && i < n && i < 100; i++) json_array_append_new(a, json_string(ch[i]->path));
  return a;
}

void record_columns(srv_ctx *ctx, const rec_t *r, const char *cols[REC_COLS]) {
  const Hoso__Records__V1__PersonalInfo *p = r->personal;
  const Hoso__Records__V1__Employment *em = r->employment;
  const Hoso__Records__V1__Qualifications *q = r->qualifications;
  const char *v[REC_COLS] = {
      r->managing_unit_id,
      r->managing_unit_path,
      srv_printf(ctx, "%lld", (long long)r->version),
      srv_printf(ctx, "%d", (int)r->status),
      srv_printf(ctx, "%d", (int)r->workflow_state),
      r->verified ? "t" : "f",
      str(r->full_name),
      r->birth_date && *r->birth_date ? r->birth_date : NULL,
      srv_printf(ctx, "%d", (int)r->gender),
      p ? str(p->ethnicity_code) : "",
      p ? str(p->religion_code) : "",
      r->salary ? str(r->salary->rank_code) : "",
      em ? str(em->position_code) : "",
      q ? str(q->degree_code) : "",
      q ? str(q->political_theory_code) : "",
      r->party && r->party->party_member ? "t" : "f",
      srv_printf(ctx, "%d", em ? (int)em->category : 0),
      em && em->recruitment_date && *em->recruitment_date ? em->recruitment_date : NULL,
      p ? str(p->home_town) : "",
      search_text(ctx, r),
  };
  memcpy(cols, v, sizeof v);
}

#define N_PARAMS 28

int record_store(srv_ctx *ctx, const rec_t *old, rec_t *neu, const char *action, const rec_reason *reason) {
  static const char insert_sql[] =
      "WITH r AS (INSERT INTO records (id, managing_unit_id, unit_path, version, status, "
      "workflow_state, verified, full_name, birth_date, gender, ethnicity_code, religion_code, "
      "rank_code, position_code, degree_code, political_theory_code, party_member, category, "
      "recruitment_date, home_town, search_text, data, created_by, approved_by, approved_at) "
      "VALUES ($1, $2, $3::public.ltree, $4, $5, $6, $7, $8, $9::date, $10, $11, $12, $13, $14, $15, $16, "
      "$17, $18, $19::date, $20, fold($21), $22::bytea, $23, $24, $25::timestamptz) "
      "RETURNING id, version, unit_path) "
      "INSERT INTO record_versions (record_id, version, action, changed_by, unit_path, meta, data) "
      "SELECT id, version, $26, $23, unit_path, $27::bytea, $22::bytea FROM r";
  static const char update_sql[] =
      "WITH r AS (UPDATE records SET managing_unit_id = $2, unit_path = $3::public.ltree, version = $4, "
      "status = $5, workflow_state = $6, verified = $7, full_name = $8, birth_date = $9::date, "
      "gender = $10, ethnicity_code = $11, religion_code = $12, rank_code = $13, position_code = $14, "
      "degree_code = $15, political_theory_code = $16, party_member = $17, category = $18, "
      "recruitment_date = $19::date, home_town = $20, search_text = fold($21), data = $22::bytea, "
      "updated_at = now(), approved_by = $24, approved_at = $25::timestamptz "
      "WHERE id = $1 AND version = $28 RETURNING id, version, unit_path) "
      "INSERT INTO record_versions (record_id, version, action, changed_by, unit_path, meta, data) "
      "SELECT id, version, $26, $23, unit_path, $27::bytea, $22::bytea FROM r";
  const tok_claims *a = ctx->auth;
  if (!a) return srv_fail_internal(ctx);

  /* The write's time is the transaction's now(), the same the columns get. */
  PGresult *t = old ? db_q(ctx->db, "SELECT " TS_SQL, 0)
                    : db_q(ctx->db, "SELECT " TS_SQL ", nextval('records_id_seq')::text", 0);
  if (!t) return -1;
  const char *ts = srv_strdup(ctx, PQgetvalue(t, 0, 0));
  if (!old) neu->id = srv_strdup(ctx, PQgetvalue(t, 0, 1));
  PQclear(t);

  neu->version = old ? old->version + 1 : 1;
  neu->created_at = (char *)(old ? str(old->created_at) : ts);
  neu->updated_at = (char *)ts;
  if (!neu->managing_unit_path || !*neu->managing_unit_path) {
    /* Only a write that keeps the managing unit may leave the path to be copied. */
    if (!old || strcmp(str(old->managing_unit_id), str(neu->managing_unit_id)) != 0) {
      log_error("record_store: %s of record %s without the managing unit's path", action, str(neu->id));
      return srv_fail_internal(ctx);
    }
    neu->managing_unit_path = old->managing_unit_path;
  }
  if (neu->approved_by && *neu->approved_by && (!neu->approved_at || !*neu->approved_at))
    neu->approved_at = (char *)ts;

  Hoso__Records__V1__FieldChange **ch = NULL;
  size_t n_ch = 0, kept = 0;
  if (rec_diff(ctx, old ? &old->base : NULL, &neu->base, &ch, &n_ch) != 0) return srv_fail_internal(ctx);
  for (size_t i = 0; i < n_ch; i++)
    if (!bookkeeping(ch[i]->path)) ch[kept++] = ch[i];

  rec_version meta = HOSO__RECORDS__V1__RECORD_VERSION__INIT;
  meta.version = neu->version;
  meta.changed_at = (char *)ts;
  meta.changed_by = (char *)a->sub;
  meta.changed_by_name = (char *)a->username;
  meta.action = (char *)action;
  meta.reason = (rec_reason *)reason;
  meta.changes = ch;
  meta.n_changes = kept;
  meta.workflow_state = neu->workflow_state;
  meta.verified = neu->verified;

  const char *data = bytea_hex(ctx, &neu->base);
  const char *cols[REC_COLS];
  record_columns(ctx, neu, cols);
  const char *params[N_PARAMS] = {neu->id};
  memcpy(params + 1, cols, sizeof cols);
  params[21] = data;
  params[22] = a->sub;
  params[23] = str(neu->approved_by);
  params[24] = neu->approved_at && *neu->approved_at ? neu->approved_at : NULL;
  params[25] = action;
  params[26] = bytea_hex(ctx, &meta.base);
  params[27] = old ? srv_printf(ctx, "%lld", (long long)old->version) : NULL;
  PGresult *r = db_exec(ctx->db, old ? update_sql : insert_sql, old ? N_PARAMS : N_PARAMS - 1, params);
  if (!r) return -1;
  int wrote = strcmp(PQcmdTuples(r), "1") == 0;
  PQclear(r);
  if (!wrote)
    return srv_fail(ctx, GRPC_STATUS_ABORTED, "record was changed by someone else; reload and retry");

  json_t *d = json_pack("{s:I, s:o, s:I}", "version", (json_int_t)neu->version, "changes",
                        audit_changes(ch, kept), "n_changes", (json_int_t)kept);
  if (d && reason && reason->text && *reason->text) json_object_set_new(d, "reason", json_string(reason->text));
  if (d && reason && reason->decision && reason->decision->number && *reason->decision->number)
    json_object_set_new(d, "decision", json_string(reason->decision->number));
  return audit(ctx, srv_printf(ctx, "RECORD_%s", action), neu, d);
}

int record_authored_by(srv_ctx *ctx, const char *record_id, const char *actor, long long *version) {
  PGresult *r = db_q(ctx->db,
                     "SELECT (SELECT created_by = $2 FROM records WHERE id = $1), "
                     "(SELECT max(v.version) FROM record_versions v WHERE v.record_id = $1 AND v.changed_by = $2 "
                     "  AND v.action NOT IN ('SUBMIT', 'APPROVE', 'REJECT', 'CHANGE_REQUEST', 'MANAGING_UNIT') "
                     "  AND v.version > coalesce("
                     "    (SELECT max(a.version) FROM record_versions a WHERE a.record_id = $1 AND a.action = 'APPROVE'), 0))",
                     2, record_id, actor);
  if (!r) return -1;
  int created = PQgetvalue(r, 0, 0)[0] == 't', changed = !PQgetisnull(r, 0, 1);
  *version = changed ? strtoll(PQgetvalue(r, 0, 1), NULL, 10) : 0;
  PQclear(r);
  return created ? 1 : changed ? 2 : 0;
}
