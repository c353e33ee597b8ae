/* Records' own open steps (a new record, a state-side change, a declaration, a leaving) copied
 * into the deadlines from records' ListRecordSteps feed, with their due dates counted by the
 * policy and calendar in force: one page per call, applied in one transaction that advances the
 * feed's position only if nobody else did meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "transfers.h"

#define PAGE 500

typedef struct {
  const char *position;
  const Hoso__Records__V1__ListRecordStepsResponse *page;
  int applied;
} sync_st;

static int position_tx(srv_ctx *ctx, void *p) {
  sync_st *st = p;
  PGresult *r = db_q(ctx->db, "SELECT position FROM record_steps_cursor", 0);
  if (!r) return -1;
  st->position = srv_strdup(ctx, PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  return 0;
}

/* A PostgreSQL array literal of texts, built in the arena; NULL elements where v is NULL. */
typedef struct {
  char *buf;
  size_t len, cap;
} arr;

static void arr_reserve(srv_ctx *ctx, arr *a, size_t extra) {
  if (a->len + extra <= a->cap) return;
  size_t cap = a->cap ? 2 * a->cap : 256;
  while (cap < a->len + extra) cap *= 2;
  char *b = srv_alloc(ctx, cap);
  if (a->len) memcpy(b, a->buf, a->len);
  a->buf = b;
  a->cap = cap;
}

static void arr_add(srv_ctx *ctx, arr *a, const char *v) {
  arr_reserve(ctx, a, (v ? 2 * strlen(v) : 4) + 4);
  a->buf[a->len] = a->len == 0 ? '{' : ',';
  a->len++;
  if (!v) {
    memcpy(a->buf + a->len, "NULL", 4);
    a->len += 4;
    return;
  }
  a->buf[a->len++] = '"';
  for (const char *c = v; *c; c++) {
    if (*c == '"' || *c == '\\') a->buf[a->len++] = '\\';
    a->buf[a->len++] = *c;
  }
  a->buf[a->len++] = '"';
}

static const char *arr_end(srv_ctx *ctx, arr *a) {
  if (!a->len) return "{}";
  arr_reserve(ctx, a, 2);
  a->buf[a->len++] = '}';
  a->buf[a->len] = 0;
  return a->buf;
}

static int apply_tx(srv_ctx *ctx, void *p) {
  sync_st *st = p;
  PGresult *r = db_q(ctx->db, "SELECT position FROM record_steps_cursor FOR UPDATE", 0);
  if (!r) return -1;
  int moved = PQntuples(r) && strcmp(PQgetvalue(r, 0, 0), st->position) != 0;
  PQclear(r);
  if (moved) return 0; /* another process applied this page first */
  const tr_settings *s;
  SRV_TRY(settings_get(ctx, &s));
  arr ids = {0}, steps = {0}, names = {0}, refs = {0}, units = {0}, paths = {0}, effs = {0}, prevs = {0}, dues = {0},
      ests = {0};
  for (size_t i = 0; i < st->page->n_records; i++) {
    const Hoso__Records__V1__RecordSteps *rs = st->page->records[i];
    arr_add(ctx, &ids, rs->record_id);
    for (size_t k = 0; k < rs->n_steps; k++) {
      const Hoso__Records__V1__RecordStep *x = rs->steps[k];
      char due[11];
      int est = 0;
      int none = settings_due(s, x->kind, x->effective_date, x->previous_date, due, &est) != 0;
      arr_add(ctx, &steps, srv_printf(ctx, "%d", x->kind));
      arr_add(ctx, &names, rs->full_name);
      arr_add(ctx, &refs, x->ref);
      arr_add(ctx, &units, rs->unit_id);
      arr_add(ctx, &paths, rs->unit_path);
      arr_add(ctx, &effs, *x->effective_date ? x->effective_date : NULL);
      arr_add(ctx, &prevs, x->previous_date);
      arr_add(ctx, &dues, none ? NULL : due);
      arr_add(ctx, &ests, est ? "t" : "f");
      st->applied++;
    }
  }
  /* The step rows' record ids, in step order. */
  arr rec_of_step = {0};
  for (size_t i = 0; i < st->page->n_records; i++)
    for (size_t k = 0; k < st->page->records[i]->n_steps; k++) arr_add(ctx, &rec_of_step, st->page->records[i]->record_id);
  const char *gone[1] = {arr_end(ctx, &ids)};
  const char *rows[10] = {arr_end(ctx, &steps), arr_end(ctx, &rec_of_step), arr_end(ctx, &names),
                          arr_end(ctx, &refs), arr_end(ctx, &units), arr_end(ctx, &paths), arr_end(ctx, &effs),
                          arr_end(ctx, &prevs), arr_end(ctx, &dues), arr_end(ctx, &ests)};
  /* Each record given is the whole truth of its open steps: what was there goes. */
  if (db_cmd_later(ctx->db, "DELETE FROM deadlines WHERE source = 2 AND record_id = ANY ($1::bigint[])", 1, gone) != 0 ||
      db_cmd_later(ctx->db,
                   "INSERT INTO deadlines (source, step, record_id, record_name, ref, unit_id, unit_path, effective_date, "
                   "previous_date, due_date, estimated) SELECT 2, * FROM unnest($1::smallint[], $2::bigint[], "
                   "$3::text[], $4::text[], $5::bigint[], $6::public.ltree[], $7::date[], $8::date[], $9::date[], "
                   "$10::boolean[])",
                   10, rows) != 0)
    return -1;
  return db_cmd(ctx->db, "UPDATE record_steps_cursor SET position = $1, updated_at = now()", 1, st->page->next);
}

int record_steps_sync(srv_ctx *ctx) {
  sync_st st = {0};
  svc_client *c = tr_client();
  if (!c || srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", position_tx, &st) != 0) return -1;
  Hoso__Records__V1__ListRecordStepsRequest req = HOSO__RECORDS__V1__LIST_RECORD_STEPS_REQUEST__INIT;
  req.after = (char *)st.position;
  req.page_size = PAGE;
  ProtobufCMessage *out = NULL;
  cli_status cs;
  grpc_status_code code = svc_call(c, "records", "/hoso.records.v1.Records/ListRecordSteps", &req.base,
                                   &hoso__records__v1__list_record_steps_response__descriptor, &out, &cs);
  if (code != GRPC_STATUS_OK) {
    if (code != GRPC_STATUS_UNAVAILABLE && code != GRPC_STATUS_DEADLINE_EXCEEDED)
      log_error("transfers: records' ListRecordSteps: %s %s", cli_status_name(code), cs.message);
    return -1;
  }
  st.page = (const void *)out;
  int rc = srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", apply_tx, &st);
  int more = rc == 0 && st.page->more;
  if (rc == 0 && st.page->n_records)
    log_debug("transfers: %zu records' steps applied to the deadlines (%d open)", st.page->n_records, st.applied);
  protobuf_c_message_free_unpacked(out, NULL);
  return rc != 0 ? -1 : more;
}
