/* The SQL of a transfer (003_transfers.sql): the row with its steps and documents under the
 * caller's scope, its changes, its open step with the deadline copied for ListDeadlines, the
 * scans, the notices and the outbox rows written in the transition's transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "log.h"
#include "lists.h"

#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define OPEN_STATES "(1, 3, 4, 5, 6, 10)"

#define T_COLS                                                                                               \
  "id::text, record_id::text, record_name, kind, state, from_unit_id::text, from_path::text, "              \
  "coalesce(to_unit_id::text, ''), coalesce(to_path::text, ''), coalesce(final_unit_id::text, ''), "         \
  "coalesce(final_path::text, ''), decision_number, coalesce(decision_date::text, ''), "                     \
  "coalesce(effective_date::text, ''), decision_issuer, destination, coalesce(start_date::text, ''), "       \
  "coalesce(end_date::text, ''), note, version, created_by, " UTC("created_at") ", " UTC("updated_at") ", " \
  "CASE WHEN due_date = 'infinity' THEN '' ELSE due_date::text END, undelivered, delivery_error, "          \
  "package_sha256, coalesce(new_record_id::text, '')"

static const char *str(const char *s) { return s ? s : ""; }
static const char *nul(const char *s) { return s && *s ? s : NULL; }
static char *col(srv_ctx *ctx, const PGresult *r, int row, int c) { return srv_strdup(ctx, PQgetvalue(r, row, c)); }

/* ------------------------------------------------------------ load ---------------------- */

static tr_row *row_from(srv_ctx *ctx, const PGresult *r, int i) {
  tr_row *row = srv_alloc(ctx, sizeof *row);
  memset(row, 0, sizeof *row);
  transfer_t *t = srv_new(ctx, &hoso__transfers__v1__transfer__descriptor);
  tr_decision_t *d = srv_new(ctx, &hoso__transfers__v1__decision__descriptor);
  t->id = col(ctx, r, i, 0);
  t->record_id = col(ctx, r, i, 1);
  t->record_name = col(ctx, r, i, 2);
  t->kind = atoi(PQgetvalue(r, i, 3));
  t->state = atoi(PQgetvalue(r, i, 4));
  t->from_unit_id = col(ctx, r, i, 5);
  row->from_path = col(ctx, r, i, 6);
  t->to_unit_id = col(ctx, r, i, 7);
  row->to_path = col(ctx, r, i, 8);
  t->final_unit_id = col(ctx, r, i, 9);
  row->final_path = col(ctx, r, i, 10);
  d->number = col(ctx, r, i, 11);
  d->date = col(ctx, r, i, 12);
  d->effective_date = col(ctx, r, i, 13);
  row->effective_date = d->effective_date;
  d->issuer = col(ctx, r, i, 14);
  t->decision = d;
  t->destination = col(ctx, r, i, 15);
  t->start_date = col(ctx, r, i, 16);
  t->end_date = col(ctx, r, i, 17);
  t->note = col(ctx, r, i, 18);
  t->version = atoll(PQgetvalue(r, i, 19));
  t->created_by = col(ctx, r, i, 20);
  t->created_at = col(ctx, r, i, 21);
  t->updated_at = col(ctx, r, i, 22);
  t->due_date = col(ctx, r, i, 23);
  t->delivered = atoi(PQgetvalue(r, i, 24)) == 0;
  t->delivery_error = col(ctx, r, i, 25);
  t->package_sha256 = col(ctx, r, i, 26);
  t->new_record_id = col(ctx, r, i, 27);
  row->t = t;
  return row;
}

static int load_steps(srv_ctx *ctx, tr_row *row) {
  PGresult *r = db_q(ctx->db,
                     "SELECT seq, kind, unit_id::text, " UTC("opened_at") ", coalesce(due_date::text, ''), due_estimated, "
                     "coalesce(" UTC("done_at") ", ''), outcome, done_by, done_by_name, reason "
                     "FROM transfer_steps WHERE transfer_id = $1::bigint ORDER BY seq",
                     1, row->t->id);
  if (!r) return -1;
  int n = PQntuples(r);
  transfer_t *t = row->t;
  t->steps = srv_alloc(ctx, (size_t)(n + 2) * sizeof *t->steps); /* room for the steps a transition adds */
  for (int i = 0; i < n; i++) {
    tr_step_t *s = srv_new(ctx, &hoso__transfers__v1__step__descriptor);
    s->kind = atoi(PQgetvalue(r, i, 1));
    s->unit_id = col(ctx, r, i, 2);
    s->opened_at = col(ctx, r, i, 3);
    s->due_date = col(ctx, r, i, 4);
    s->due_estimated = PQgetvalue(r, i, 5)[0] == 't';
    s->done_at = col(ctx, r, i, 6);
    s->outcome = col(ctx, r, i, 7);
    s->done_by = col(ctx, r, i, 8);
    s->done_by_name = col(ctx, r, i, 9);
    s->reason = col(ctx, r, i, 10);
    if (!*s->done_at) row->open_seq = atoi(PQgetvalue(r, i, 0));
    t->steps[t->n_steps++] = s;
  }
  PQclear(r);
  return 0;
}

static tr_document_t *doc_from(srv_ctx *ctx, const PGresult *r, int i) {
  tr_document_t *d = srv_new(ctx, &hoso__transfers__v1__document__descriptor);
  d->id = col(ctx, r, i, 0);
  d->kind = col(ctx, r, i, 1);
  d->file_name = col(ctx, r, i, 2);
  d->content_type = col(ctx, r, i, 3);
  d->size = atoll(PQgetvalue(r, i, 4));
  d->sha256 = col(ctx, r, i, 5);
  d->uploaded_by = col(ctx, r, i, 6);
  d->uploaded_at = col(ctx, r, i, 7);
  return d;
}

#define DOC_COLS "id::text, kind, file_name, content_type, size, sha256, uploaded_by, " UTC("uploaded_at")

static int load_documents(srv_ctx *ctx, tr_row *row) {
  PGresult *r = db_q(ctx->db, "SELECT " DOC_COLS " FROM documents WHERE transfer_id = $1::bigint ORDER BY documents.id", 1,
                     row->t->id);
  if (!r) return -1;
  transfer_t *t = row->t;
  int n = PQntuples(r);
  t->documents = srv_alloc(ctx, (size_t)(n ? n : 1) * sizeof *t->documents);
  for (int i = 0; i < n; i++) {
    tr_document_t *d = doc_from(ctx, r, i);
    t->documents[t->n_documents++] = d;
    if (strcmp(d->kind, "REQUEST_LETTER") == 0) t->request_letter = d;
    if (strcmp(d->kind, "DECISION") == 0) t->decision->scan_document_id = d->id;
  }
  PQclear(r);
  return 0;
}

int store_transfer_get(srv_ctx *ctx, const char *id, int lock, tr_row **out) {
  static const char *const sql[2] = {"SELECT " T_COLS " FROM transfers WHERE id = $1::bigint",
                                     "SELECT " T_COLS " FROM transfers WHERE id = $1::bigint FOR UPDATE"};
  *out = NULL;
  PGresult *r = db_q(ctx->db, sql[lock ? 1 : 0], 1, id);
  if (!r) return -1;
  if (PQntuples(r) == 0) {
    PQclear(r);
    /* Hidden or missing: a look with every unit visible tells which, and nothing more. */
    const char *p[1] = {id};
    if (!(r = srv_exec_all_units(ctx, "SELECT 1 FROM transfers WHERE id = $1::bigint", 1, p))) return -1;
    int exists = PQntuples(r) > 0;
    PQclear(r);
    return exists ? SRV_FAIL(ctx, GRPC_STATUS_PERMISSION_DENIED,
                             "transfer_id: transfer %s is between units outside your scope", id)
                  : SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "transfer_id: transfer %s does not exist", id);
  }
  tr_row *row = row_from(ctx, r, 0);
  PQclear(r);
  if (load_steps(ctx, row) != 0 || load_documents(ctx, row) != 0) return -1;
  *out = row;
  return 0;
}

int store_transfer_open_of(srv_ctx *ctx, const char *record_id, char id[32], int *state) {
  id[0] = 0;
  *state = 0;
  const char *p[1] = {record_id};
  PGresult *r = srv_exec_all_units(
      ctx, "SELECT id::text, state FROM transfers WHERE record_id = $1::bigint AND state IN " OPEN_STATES, 1, p);
  if (!r) return -1;
  if (PQntuples(r) > 0) {
    snprintf(id, 32, "%s", PQgetvalue(r, 0, 0));
    *state = atoi(PQgetvalue(r, 0, 1));
  }
  PQclear(r);
  return 0;
}

/* ------------------------------------------------------------ write --------------------- */

int store_transfer_insert(srv_ctx *ctx, tr_row *row) {
  transfer_t *t = row->t;
  const tr_decision_t *d = t->decision;
  const char *p[20] = {t->record_id, t->record_name, srv_printf(ctx, "%d", t->kind), srv_printf(ctx, "%d", t->state),
                       t->from_unit_id, row->from_path, nul(t->to_unit_id), nul(row->to_path), nul(t->final_unit_id),
                       nul(row->final_path), d ? str(d->number) : "", d ? nul(d->date) : NULL,
                       d ? nul(d->effective_date) : NULL, d ? str(d->issuer) : "", str(t->destination),
                       nul(t->start_date), nul(t->end_date), str(t->note), ctx->auth ? ctx->auth->sub : "",
                       nul(t->new_record_id)};
  PGresult *r = db_exec(ctx->db,
                        "INSERT INTO transfers (record_id, record_name, kind, state, from_unit_id, from_path, to_unit_id, "
                        "to_path, final_unit_id, final_path, decision_number, decision_date, effective_date, "
                        "decision_issuer, destination, start_date, end_date, note, created_by, new_record_id) VALUES ($1::bigint, $2, "
                        "$3::smallint, $4::smallint, $5::bigint, $6::public.ltree, $7::bigint, $8::public.ltree, "
                        "$9::bigint, $10::public.ltree, $11, $12::date, $13::date, $14, $15, $16::date, $17::date, $18, "
                        "$19, $20::bigint) RETURNING id::text, version, created_by, " UTC("created_at") ", "
                        UTC("updated_at"),
                        20, p);
  if (!r) return -1;
  t->id = col(ctx, r, 0, 0);
  t->version = atoll(PQgetvalue(r, 0, 1));
  t->created_by = col(ctx, r, 0, 2);
  t->created_at = col(ctx, r, 0, 3);
  t->updated_at = col(ctx, r, 0, 4);
  PQclear(r);
  if (!t->steps) t->steps = srv_alloc(ctx, 4 * sizeof *t->steps);
  return 0;
}

int store_transfer_save(srv_ctx *ctx, tr_row *row) {
  transfer_t *t = row->t;
  const tr_decision_t *d = t->decision;
  const char *p[12] = {t->id, srv_printf(ctx, "%d", t->state), nul(t->final_unit_id), nul(row->final_path),
                       d ? str(d->number) : "", d ? nul(d->date) : NULL, d ? nul(d->effective_date) : NULL,
                       d ? str(d->issuer) : "", str(t->note), str(t->package_sha256), nul(t->new_record_id),
                       srv_printf(ctx, "%lld", (long long)t->version)};
  PGresult *r = db_exec(ctx->db,
                        "UPDATE transfers SET state = $2::smallint, final_unit_id = $3::bigint, final_path = "
                        "$4::public.ltree, decision_number = $5, decision_date = $6::date, effective_date = $7::date, "
                        "decision_issuer = $8, note = $9, package_sha256 = $10, new_record_id = $11::bigint, "
                        "version = version + 1, updated_at = now() WHERE id = $1::bigint AND version = $12::bigint "
                        "RETURNING version, " UTC("updated_at"),
                        12, p);
  if (!r) return -1;
  int ok = PQntuples(r) == 1;
  if (ok) {
    t->version = atoll(PQgetvalue(r, 0, 0));
    t->updated_at = col(ctx, r, 0, 1);
  }
  PQclear(r);
  if (!ok) {
    log_error("transfers: transfer %s changed under its row lock", t->id);
    return srv_fail_internal(ctx);
  }
  return 0;
}

int store_step_close(srv_ctx *ctx, tr_row *row, const char *outcome, const char *reason) {
  if (!row->open_seq) return 0;
  const tok_claims *a = ctx->auth;
  const char *p[6] = {row->t->id, srv_printf(ctx, "%d", row->open_seq), outcome, a ? a->sub : "",
                      a ? a->username : "", str(reason)};
  if (db_cmd_later(ctx->db,
                   "UPDATE transfer_steps SET done_at = now(), outcome = $3, done_by = $4, done_by_name = $5, "
                   "reason = $6 WHERE transfer_id = $1::bigint AND seq = $2::smallint",
                   6, p) != 0 ||
      db_cmd_later(ctx->db, "DELETE FROM deadlines WHERE source = 1 AND transfer_id = $1::bigint", 1, p) != 0 ||
      db_cmd_later(ctx->db, "UPDATE transfers SET due_date = 'infinity' WHERE id = $1::bigint", 1, p) != 0)
    return -1;
  row->open_seq = 0;
  return 0;
}

int store_step_open(srv_ctx *ctx, tr_row *row, const tr_settings *s, int kind, const char *unit_id,
                    const char *unit_path, const char *due_fixed) {
  char today[11], due[11] = "";
  int est = 0;
  settings_today(today);
  if (due_fixed && *due_fixed)
    snprintf(due, sizeof due, "%s", due_fixed);
  else if (settings_due(s, kind, row->effective_date, today, due, &est) != 0)
    due[0] = 0;
  int seq = (int)row->t->n_steps + 1;
  const char *p[11] = {row->t->id, srv_printf(ctx, "%d", seq), srv_printf(ctx, "%d", kind), unit_id, unit_path,
                       nul(row->effective_date), today, nul(due), est ? "t" : "f", row->t->record_id,
                       row->t->record_name};
  if (db_cmd_later(ctx->db,
                   "INSERT INTO transfer_steps (transfer_id, seq, kind, unit_id, unit_path, effective_date, "
                   "previous_date, due_date, due_estimated) VALUES ($1::bigint, $2::smallint, $3::smallint, $4::bigint, "
                   "$5::public.ltree, $6::date, $7::date, $8::date, $9::boolean)",
                   9, p) != 0 ||
      db_cmd_later(ctx->db,
                   "INSERT INTO deadlines (source, step, transfer_id, record_id, record_name, unit_id, unit_path, "
                   "effective_date, previous_date, due_date, estimated) VALUES (1, $2::smallint, $1::bigint, "
                   "$9::bigint, $10, $3::bigint, $4::public.ltree, $5::date, $6::date, $7::date, $8::boolean)",
                   10, (const char *[]){p[0], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10]}) != 0 ||
      db_cmd_later(ctx->db, "UPDATE transfers SET due_date = coalesce($2::date, 'infinity') WHERE id = $1::bigint", 2,
                   (const char *[]){row->t->id, nul(due)}) != 0)
    return -1;
  tr_step_t *st = srv_new(ctx, &hoso__transfers__v1__step__descriptor);
  st->kind = kind;
  st->unit_id = srv_strdup(ctx, unit_id);
  st->due_date = srv_strdup(ctx, due);
  st->due_estimated = est;
  row->t->steps[row->t->n_steps++] = st;
  row->t->due_date = st->due_date;
  row->open_seq = seq;
  return 0;
}

int store_document_add(srv_ctx *ctx, const char *transfer_id, const char *kind, const char *file_name,
                       const char *content_type, const uint8_t *data, size_t len, tr_document_t **out) {
  unsigned char md[32];
  unsigned mdlen = 0;
  if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1) return srv_fail_internal(ctx);
  char sum[65];
  for (int i = 0; i < 32; i++) snprintf(sum + 2 * i, 3, "%02x", md[i]);
  const char *p[7] = {transfer_id, kind, file_name, content_type, srv_printf(ctx, "%zu", len), sum,
                      srv_bytea_text(ctx, data, len)};
  PGresult *r = db_exec(ctx->db,
                        "INSERT INTO documents (transfer_id, kind, file_name, content_type, size, sha256, content, "
                        "uploaded_by) VALUES ($1::bigint, $2, $3, $4, $5::bigint, $6, $7::bytea, current_setting("
                        "'hoso.actor', true)) RETURNING " DOC_COLS,
                        7, p);
  if (!r) return -1;
  *out = doc_from(ctx, r, 0);
  PQclear(r);
  return 0;
}

int store_document_get(srv_ctx *ctx, const char *transfer_id, const char *document_id, tr_document_t **meta,
                       ProtobufCBinaryData *content) {
  *meta = NULL;
  content->data = NULL;
  content->len = 0;
  PGresult *r = db_q(ctx->db,
                     "SELECT " DOC_COLS ", content FROM documents WHERE transfer_id = $1::bigint AND id = $2::bigint", 2,
                     transfer_id, document_id);
  if (!r) return -1;
  int rc = 0;
  if (PQntuples(r) == 1) {
    *meta = doc_from(ctx, r, 0);
    if (srv_bytea_parse(ctx, PQgetvalue(r, 0, 8), (size_t)PQgetlength(r, 0, 8), content) != 0)
      rc = srv_fail_internal(ctx);
  }
  PQclear(r);
  return rc;
}

int store_notice_add(srv_ctx *ctx, const tr_row *row, const char *unit_id, const char *unit_path, const char *kind,
                     const char *text) {
  const char *p[6] = {unit_id, unit_path, row->t->id, row->t->record_id, kind, text};
  return db_cmd_later(ctx->db,
                      "INSERT INTO notices (unit_id, unit_path, transfer_id, record_id, kind, text) VALUES ($1::bigint, "
                      "$2::public.ltree, $3::bigint, $4::bigint, $5, $6)",
                      6, p);
}

int store_outbox_add(srv_ctx *ctx, const tr_row *row, const char *method, const ProtobufCMessage *req) {
  size_t n = protobuf_c_message_get_packed_size(req);
  uint8_t *buf = srv_alloc(ctx, n ? n : 1);
  protobuf_c_message_pack(req, buf);
  const char *p[4] = {row->t->id, row->t->record_id, method, srv_bytea_text(ctx, buf, n)};
  if (db_cmd_later(ctx->db,
                   "INSERT INTO outbox (transfer_id, record_id, method, request) VALUES ($1::bigint, $2::bigint, $3, "
                   "$4::bytea)",
                   4, p) != 0)
    return -1;
  return db_cmd_later(ctx->db, "UPDATE transfers SET undelivered = undelivered + 1 WHERE id = $1::bigint", 1, p);
}

int store_secondments_due(srv_ctx *ctx, const char *today, int alerting, int limit, char ***ids, char ***ends, int *n) {
  static const char *const sql[2] = {
      /* over: the day after the end date */
      "SELECT id::text, end_date::text FROM transfers WHERE state = 10 AND end_date < $1::date "
      "ORDER BY transfers.end_date, transfers.id LIMIT $2::int",
      /* still on, not alerted yet: the caller judges how near the end is */
      "SELECT id::text, end_date::text FROM transfers WHERE state = 10 AND NOT alerted AND end_date >= $1::date "
      "ORDER BY transfers.end_date, transfers.id LIMIT $2::int FOR UPDATE SKIP LOCKED",
  };
  PGresult *r = db_q(ctx->db, sql[alerting ? 1 : 0], 2, today, srv_printf(ctx, "%d", limit));
  if (!r) return -1;
  *n = PQntuples(r);
  *ids = srv_alloc(ctx, (size_t)(*n + 1) * sizeof **ids);
  *ends = srv_alloc(ctx, (size_t)(*n + 1) * sizeof **ends);
  for (int i = 0; i < *n; i++) {
    (*ids)[i] = col(ctx, r, i, 0);
    (*ends)[i] = col(ctx, r, i, 1);
  }
  PQclear(r);
  return 0;
}

int store_secondment_alerted(srv_ctx *ctx, const char *id) {
  return db_cmd(ctx->db, "UPDATE transfers SET alerted = true WHERE id = $1::bigint", 1, id);
}

int store_transfer_list(srv_ctx *ctx, list_filter *f, transfer_t ***out, size_t *n, int *more) {
  const char *p[7] = {f->unit_path ? f->unit_path : "", srv_printf(ctx, "%d", f->box),
                      store_int_array(ctx, f->states, f->n_states), nul(f->record_id),
                      nul(f->after_due), nul(f->after_id), srv_printf(ctx, "%d", f->limit + 1)};
  PGresult *r = db_exec(
      ctx->db,
      "SELECT " T_COLS ", due_date::text AS due_key FROM transfers "
      "WHERE ($3::smallint[] = '{}' OR state = ANY ($3::smallint[])) AND ($4::bigint IS NULL OR record_id = $4::bigint) "
      "AND ($1 = '' OR CASE $2::int "
      "  WHEN 1 THEN to_path OPERATOR(public.<@) $1::public.ltree OR final_path OPERATOR(public.<@) $1::public.ltree "
      "  WHEN 2 THEN from_path OPERATOR(public.<@) $1::public.ltree "
      "  ELSE from_path OPERATOR(public.<@) $1::public.ltree OR to_path OPERATOR(public.<@) $1::public.ltree "
      "    OR final_path OPERATOR(public.<@) $1::public.ltree END) "
      "AND ($5::date IS NULL OR due_date > $5::date OR (due_date = $5::date AND id < $6::bigint)) "
      "ORDER BY transfers.due_date, transfers.id DESC LIMIT $7::int",
      7, p);
  if (!r) return -1;
  int take = (int)srv_page_cut((size_t)PQntuples(r), f->limit, more);
  *out = srv_alloc(ctx, (size_t)(take ? take : 1) * sizeof **out);
  *n = 0;
  for (int i = 0; i < take; i++) (*out)[(*n)++] = row_from(ctx, r, i)->t;
  /* The key of the page's last row: its due date as stored ('infinity' included) and id. */
  if (*more) f->next_key = srv_printf(ctx, "%s|%s", PQgetvalue(r, take - 1, 28), PQgetvalue(r, take - 1, 0));
  PQclear(r);
  return 0;
}
