/* The record store: one record read with its scope decided (now or as of a past day), every
 * write made a new version with its field-level diff, and the audit rows of reads and writes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "records.h"
#include "facts.h"
#include "rpc_util.h"
#include "scope.h"
#include "store_records.h"
#include "val.h"

typedef Hoso__Records__V1__RecordVersion rec_version;

#define TS_SQL "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* ------------------------------------------------------------ bytea as text ------------- */

/* A bytea column (hex output, PostgreSQL's default) unpacked as a message in the arena. NULL
 * when the bytes are not one (logged: stored data must always unpack). */
ProtobufCMessage *record_unpack_col(srv_ctx *ctx, const ProtobufCMessageDescriptor *d, const PGresult *r, int row,
                                 int col) {
  ProtobufCBinaryData b;
  ProtobufCMessage *m = NULL;
  size_t len = (size_t)PQgetlength(r, row, col);
  if (srv_bytea_parse(ctx, PQgetvalue(r, row, col), len, &b) == 0)
    m = protobuf_c_message_unpack(d, srv_allocator(ctx), b.len, b.data);
  if (!m) log_error("records: a stored %s does not unpack (%zu bytes of text)", d->name, len);
  return m;
}

/* ------------------------------------------------------------ versions ------------------ */

/* A person reads their own dossier without anyone's approval (004 Đ12.2), by the record id
 * their token carries. */
static int self_reads_own(const srv_ctx *ctx, const char *record_id) {
  const tok_claims *a = ctx->auth;
  return a && (a->roles & ROLE_SELF) && a->record_id[0] && strcmp(a->record_id, record_id) == 0;
}

int record_versions_page(srv_ctx *ctx, const char *record_id, const char *before, int limit, int with_records,
                      rec_version ***out, size_t *n, int *more) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit + 1);
  *out = NULL;
  *n = 0;
  *more = 0;
  /* A person's own history is theirs wherever the record is managed; everyone else sees the
   * versions of the records they may read (row-level security follows the record, 040). */
  int self = self_reads_own(ctx, record_id);
  static const char sql[] = "SELECT meta, CASE WHEN $4 THEN data END FROM record_versions WHERE record_id = $1 "
                            "AND ($2::bigint IS NULL OR version < $2::bigint) ORDER BY version DESC LIMIT $3";
  const char *params[4] = {record_id, before, lim, with_records ? "true" : "false"};
  PGresult *r = self ? srv_exec_all_units(ctx, sql, 4, params) : db_exec(ctx->db, sql, 4, params);
  if (!r) return -1;
  int rows = PQntuples(r), take = rows > limit ? limit : rows, rc = 0;
  *out = srv_alloc(ctx, (size_t)(take ? take : 1) * sizeof **out);
  for (int i = 0; i < take && rc == 0; i++) {
    rec_version *v = (rec_version *)record_unpack_col(ctx, &hoso__records__v1__record_version__descriptor, r, i, 0);
    if (v && with_records &&
        !(v->record = (rec_t *)record_unpack_col(ctx, &hoso__records__v1__record__descriptor, r, i, 1)))
      v = NULL;
    if (v)
      (*out)[(*n)++] = v;
    else
      rc = srv_fail_internal(ctx);
  }
  *more = rows > limit;
  PQclear(r);
  return rc;
}

int record_version_get(srv_ctx *ctx, const char *record_id, const char *version, rec_t **out) {
  const char *p[2] = {record_id, version};
  *out = NULL;
  PGresult *r = db_exec(ctx->db, "SELECT data, unit_path::text FROM record_versions WHERE record_id = $1 AND version = $2::bigint",
                        2, p);
  if (!r) return -1;
  int rc;
  if (PQntuples(r) != 1) {
    rc = srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "record_id: record %s has no version %s", record_id, version);
  } else if (!(*out = (rec_t *)record_unpack_col(ctx, &hoso__records__v1__record__descriptor, r, 0, 0))) {
    rc = srv_fail_internal(ctx);
  } else {
    (*out)->managing_unit_path = srv_strdup(ctx, PQgetvalue(r, 0, 1));
    rc = 0;
  }
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

/* ------------------------------------------------------------ writes -------------------- */

static const char *str(const char *s) { return s ? s : ""; }

/* Bookkeeping every write changes; the version's change list is about the dossier. */
static int bookkeeping(const char *path) {
  return !strcmp(path, "id") || !strcmp(path, "version") || !strcmp(path, "created_at") ||
         !strcmp(path, "updated_at");
}

/* A growing text of distinct pieces joined by spaces (a person's current and permanent address
 * are often the same; work periods repeat units). */
typedef struct {
  srv_ctx *ctx;
  char *s;
  size_t len, cap;
} words;

static void words_add(words *w, const char *piece) {
  if (!piece || !*piece) return;
  size_t n = strlen(piece);
  /* the same piece already there, bounded by spaces (or the ends) */
  for (const char *p = w->s; p && (p = strstr(p, piece)); p++)
    if ((p == w->s || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return;
  if (w->len + n + 2 > w->cap) {
    size_t cap = (w->cap ? w->cap * 2 : 512) + n;
    char *s = srv_alloc(w->ctx, cap);
    if (w->len) memcpy(s, w->s, w->len);
    w->s = s;
    w->cap = cap;
  }
  if (w->len) w->s[w->len++] = ' ';
  memcpy(w->s + w->len, piece, n);
  w->len += n;
  w->s[w->len] = 0;
}

/* What a free-text search looks through (folded in SQL by fold(), indexed word by word in
 * record_search, 020): the names, other names, places of birth and origin, addresses, positions
 * and units (the department, the recruiting agency, the units and positions of the work history
 * and appointments). Reports read the same text (report_search_text). */
static const char *search_text(srv_ctx *ctx, const rec_t *r) {
  words w = {.ctx = ctx};
  const Hoso__Records__V1__PersonalInfo *p = r->personal;
  const Hoso__Records__V1__Employment *em = r->employment;
  words_add(&w, str(r->full_name));
  if (p) {
    words_add(&w, p->other_names);
    words_add(&w, p->birth_place);
    words_add(&w, p->home_town);
    words_add(&w, p->permanent_address);
    words_add(&w, p->current_address);
  }
  if (em) {
    words_add(&w, em->department);
    words_add(&w, em->job_position);
    words_add(&w, em->professional_title);
    words_add(&w, em->recruitment_agency);
  }
  for (size_t i = 0; i < r->n_work_history; i++) {
    words_add(&w, r->work_history[i]->position);
    words_add(&w, r->work_history[i]->unit);
  }
  for (size_t i = 0; i < r->n_appointments; i++) words_add(&w, r->appointments[i]->unit);
  return w.s ? w.s : "";
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
      p ? str(p->other_names) : "",
  };
  memcpy(cols, v, sizeof v);
}

#define N_PARAMS (9 + REC_COLS) /* id, the columns, 8 more; the old version last */

#define STATUS(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x
#define WORKFLOW(x) HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_##x

/* The record's own step open after a write (records.proto RecordStepKind; the deadlines of
 * SPEC §3's table): a record made by CreateRecord awaits approval (NEW_RECORD, counted from
 * the recruitment date); an approved record changed and not yet verified awaits its unit's
 * approval (STATE_UPDATE from the decision's effective date, LEAVING from a leaving status's).
 * A draft made from a transfer package awaits approval as a new record (NEW_RECORD, from the
 * day it was taken in). Records loaded in bulk (ImportRecords) are old dossiers, not new
 * recruits: no step.
 * *cont: the write continues the step open before it (kept with its dates). */
static int open_step(const rec_t *old, const rec_t *neu, const char *action, const rec_reason *reason, int *cont,
                     const char **eff) {
  *cont = 0;
  *eff = NULL;
  if (neu->status == STATUS(TRANSFERRED_OUT)) return 0;
  if (neu->workflow_state != WORKFLOW(APPROVED)) {
    if (!old && strcmp(action, "CREATE") == 0) {
      const Hoso__Records__V1__Employment *em = neu->employment;
      if (em && em->recruitment_date && strlen(em->recruitment_date) == 10) *eff = em->recruitment_date;
      return 1;
    }
    /* A draft made from a transfer package (ImportRecordHistory) is this unit's new record too,
     * counted from the day it was taken in: the person's recruitment lies years back, elsewhere. */
    if (!old && strcmp(action, "IMPORT_PACKAGE") == 0) return 1;
    *cont = 1;
    return old && old->workflow_state != WORKFLOW(APPROVED) ? 1 : 0;
  }
  if (neu->verified) return 0;
  int leaving = neu->status == STATUS(RETIRED) || neu->status == STATUS(RESIGNED) || neu->status == STATUS(DECEASED);
  if (old && old->workflow_state == WORKFLOW(APPROVED) && !old->verified) {
    *cont = 1;
    return leaving ? 4 : 2;
  }
  if (leaving && strcmp(action, "STATUS") == 0) {
    *eff = neu->status_date && *neu->status_date ? neu->status_date : NULL;
    return 4;
  }
  if (reason && reason->decision && reason->decision->effective_date && *reason->decision->effective_date)
    *eff = reason->decision->effective_date;
  return 2;
}

/* Queued after the write, in its round trip: records' own step as open_step says. */
static int note_step(srv_ctx *ctx, const rec_t *old, const rec_t *neu, const char *action, const rec_reason *reason) {
  int cont;
  const char *eff;
  int kind = open_step(old, neu, action, reason, &cont, &eff);
  const char *p[4] = {neu->id, srv_printf(ctx, "%d", kind), cont ? "t" : "f", eff};
  return db_cmd_later(ctx->db, "SELECT rec_step_note($1::bigint, $2::smallint, $3::boolean, $4::date)", 4, p);
}

int record_store(srv_ctx *ctx, const rec_t *old, rec_t *neu, const char *action, const rec_reason *reason) {
  static const char insert_sql[] =
      "WITH r AS (INSERT INTO records (id, managing_unit_id, unit_path, version, status, "
      "workflow_state, verified, full_name, birth_date, gender, ethnicity_code, religion_code, "
      "rank_code, position_code, degree_code, political_theory_code, party_member, category, "
      "recruitment_date, home_town, search_text, other_names, data, created_by, approved_by, approved_at) "
      "VALUES ($1, $2, $3::public.ltree, $4, $5, $6, $7, $8, $9::date, $10, $11, $12, $13, $14, $15, $16, "
      "$17, $18, $19::date, $20, fold($21), $22, $23::bytea, $24, $25, $26::timestamptz) "
      "RETURNING id, version, unit_path) "
      "INSERT INTO record_versions (record_id, version, action, changed_by, unit_path, meta, data, effective_date) "
      "SELECT id, version, $27, $24, unit_path, $28::bytea, $23::bytea, $29::date FROM r";
  static const char update_sql[] =
      "WITH r AS (UPDATE records SET managing_unit_id = $2, unit_path = $3::public.ltree, version = $4, "
      "status = $5, workflow_state = $6, verified = $7, full_name = $8, birth_date = $9::date, "
      "gender = $10, ethnicity_code = $11, religion_code = $12, rank_code = $13, position_code = $14, "
      "degree_code = $15, political_theory_code = $16, party_member = $17, category = $18, "
      "recruitment_date = $19::date, home_town = $20, search_text = fold($21), other_names = $22, "
      "data = $23::bytea, updated_at = now(), approved_by = $25, approved_at = $26::timestamptz "
      "WHERE id = $1 AND version = $30 RETURNING id, version, unit_path) "
      "INSERT INTO record_versions (record_id, version, action, changed_by, unit_path, meta, data, effective_date) "
      "SELECT id, version, $27, $24, unit_path, $28::bytea, $23::bytea, $29::date FROM r";
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

  const char *data = srv_bytea_msg(ctx, &neu->base);
  const char *cols[REC_COLS];
  record_columns(ctx, neu, cols);
  const char *params[N_PARAMS] = {neu->id};
  memcpy(params + 1, cols, sizeof cols);
  params[1 + REC_COLS] = data;
  params[2 + REC_COLS] = a->sub;
  params[3 + REC_COLS] = str(neu->approved_by);
  params[4 + REC_COLS] = neu->approved_at && *neu->approved_at ? neu->approved_at : NULL;
  params[5 + REC_COLS] = action;
  params[6 + REC_COLS] = srv_bytea_msg(ctx, &meta.base);
  /* valid time: the decision's effective date (facts.c, migrations/030) */
  params[7 + REC_COLS] = record_effective_date(neu, action, reason, srv_printf(ctx, "%.10s", ts));
  params[8 + REC_COLS] = old ? srv_printf(ctx, "%lld", (long long)old->version) : NULL;
  PGresult *r = db_exec(ctx->db, old ? update_sql : insert_sql, old ? N_PARAMS : N_PARAMS - 1, params);
  if (!r) return -1;
  int wrote = strcmp(PQcmdTuples(r), "1") == 0;
  PQclear(r);
  if (!wrote)
    return srv_fail(ctx, GRPC_STATUS_ABORTED, "record was changed by someone else; reload and retry");
  if (note_step(ctx, old, neu, action, reason) != 0) return -1;
  if (record_facts_refresh(ctx, neu->id) != 0) return -1;

  json_t *d = json_pack("{s:I, s:o, s:I}", "version", (json_int_t)neu->version, "changes",
                        audit_changes(ch, kept), "n_changes", (json_int_t)kept);
  if (d && reason && reason->text && *reason->text) json_object_set_new(d, "reason", json_string(reason->text));
  if (d && reason && reason->decision && reason->decision->number && *reason->decision->number)
    json_object_set_new(d, "decision", json_string(reason->decision->number));
  return audit(ctx, srv_printf(ctx, "RECORD_%s", action), neu, d);
}

/* ------------------------------------------------------------ a package's past ---------- */

int record_store_past_version(srv_ctx *ctx, const char *record_id, const char *unit_path,
                           const Hoso__Records__V1__RecordVersion *meta, const rec_t *data) {
  const char *p[8] = {record_id, srv_printf(ctx, "%lld", (long long)meta->version), str(meta->action),
                      meta->changed_at && *meta->changed_at ? meta->changed_at : NULL, str(meta->changed_by),
                      unit_path, srv_bytea_msg(ctx, &meta->base), srv_bytea_msg(ctx, &data->base)};
  return db_cmd_later(ctx->db,
                      "INSERT INTO record_versions (record_id, version, action, changed_at, changed_by, unit_path, meta, "
                      "data, effective_date) VALUES ($1::bigint, $2::bigint, $3, coalesce($4::timestamptz, now()), $5, "
                      "$6::public.ltree, $7::bytea, $8::bytea, "
                      "(coalesce($4::timestamptz, now()) AT TIME ZONE 'UTC')::date)",
                      8, p);
}

int record_store_past_attachment(srv_ctx *ctx, const char *record_id, const char *unit_path,
                                 const Hoso__Records__V1__AttachmentMeta *meta, const uint8_t *content, size_t len) {
  /* The text form outside the arena: a package brings many scans, each freed once written. */
  char *bytes = srv_bytea_text_malloc(content, len);
  if (!bytes) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "attachment: out of memory; retry");
  const char *p[8] = {record_id, unit_path, str(meta->file_name), val_scan_type(content, len),
                      str(meta->description), str(meta->uploaded_by),
                      meta->uploaded_at && *meta->uploaded_at ? meta->uploaded_at : NULL, bytes};
  /* Two statements: the contents' policy must see the attachment row, which a row inserted by
   * the same statement (a CTE) is not. */
  PGresult *r = db_exec(ctx->db,
                        "INSERT INTO attachments (record_id, unit_path, file_name, content_type, size, sha256, "
                        "description, uploaded_by, uploaded_at) VALUES ($1::bigint, $2::public.ltree, $3, $4, "
                        "length($8::bytea), encode(sha256($8::bytea), 'hex'), $5, $6, coalesce($7::timestamptz, now())) "
                        "RETURNING id::text",
                        8, p);
  int rc = -1;
  if (r) {
    const char *q[2] = {PQgetvalue(r, 0, 0), bytes};
    PGresult *c = db_exec(ctx->db, "INSERT INTO attachment_contents (attachment_id, content) VALUES ($1::bigint, $2::bytea)",
                          2, q);
    rc = c ? 0 : -1;
    PQclear(c);
    PQclear(r);
  }
  free(bytes);
  return rc;
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
