/* ImportRecordHistory: a record that came from another deployment (or back from this one) in a
 * transfer package — signature and every part already checked by the transfers service, its
 * only caller — becomes a draft of the unit that takes the person in, awaiting approval like
 * any new record (004 Đ10), with its past kept: the versions it had, numbered below the draft's
 * (0, -1, ...: as_of reads and ListRecordVersions show them, marked IMPORTED_<action>), and its
 * attachments. Streamed: the record first, then its versions, then each attachment's metadata
 * and content in chunks; one attachment (at most 20 MiB) is held at a time, written, freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "rpc_util.h"
#include "records.h"
#include "scope.h"
#include "store_records.h"
#include "val.h"

#define STATUS(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x
#define KEY_MAX_CHARS 128
#define ATT_MAX (20u << 20)  /* an attachment, as UploadAttachment allows */
#define ATT_CHUNK (1u << 20) /* per message */

typedef Hoso__Records__V1__RecordVersion rec_version;
typedef Hoso__Records__V1__ImportRecordHistoryRequest hist_msg;

typedef struct {
  const hist_msg *first;     /* the stream's first message, in the arena */
  char path[UNIT_TREE_PATH_MAX];
  rec_t *draft, *out;
  int ran;                   /* the body has read the stream: it cannot run again */
  rec_version **v;           /* the versions, until the first attachment (numbered once all came) */
  size_t n_v, cap_v;
  int versions_written;
  const Hoso__Records__V1__AttachmentMeta *meta; /* the attachment being received */
  uint8_t *buf;              /* its content (malloc'd, reused) */
  size_t len, cap;
  int n_attachments;
} hist_st;

static int by_version(const void *a, const void *b) {
  const rec_version *x = *(const rec_version *const *)a, *y = *(const rec_version *const *)b;
  return x->version < y->version ? -1 : x->version > y->version;
}

static int keep_versions(srv_ctx *ctx, hist_st *st, const hist_msg *m) {
  if (m->n_versions && st->versions_written)
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "versions: every version comes before the first attachment");
  if (st->n_v + m->n_versions > st->cap_v) {
    st->cap_v = 2 * st->cap_v + m->n_versions + 8;
    rec_version **v = srv_alloc(ctx, st->cap_v * sizeof *v);
    if (st->n_v) memcpy(v, st->v, st->n_v * sizeof *v);
    st->v = v;
  }
  for (size_t i = 0; i < m->n_versions; i++) st->v[st->n_v++] = srv_msg_copy(ctx, &m->versions[i]->base);
  return 0;
}

/* Its past: every version it had, oldest lowest, below the draft's version 1. */
static int write_versions(srv_ctx *ctx, hist_st *st) {
  if (st->versions_written) return 0;
  st->versions_written = 1;
  size_t n = st->n_v;
  qsort(st->v, n, sizeof *st->v, by_version);
  for (size_t i = 0; i < n; i++) {
    rec_version *v = st->v[i];
    if (!v->record)
      return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "versions[%zu].record: each version comes with its record", i);
    rec_t *data = v->record;
    data->id = st->draft->id;
    data->managing_unit_id = st->first->unit_id;
    data->managing_unit_path = "";
    v->record = NULL;
    v->version = (int64_t)i - (int64_t)n; /* -n .. -1 */
    v->action = srv_printf(ctx, "IMPORTED_%s", v->action ? v->action : "");
    SRV_TRY(record_store_past_version(ctx, st->draft->id, st->path, v, data));
  }
  return 0;
}

/* The attachment received so far, written. */
static int write_attachment(srv_ctx *ctx, hist_st *st) {
  if (!st->meta) return 0;
  int i = st->n_attachments++;
  if (!st->len || !val_scan_type(st->buf, st->len))
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "attachments[%d]: a PDF, JPEG or PNG with its metadata", i);
  SRV_TRY(record_store_past_attachment(ctx, st->draft->id, st->path, st->meta, st->buf, st->len));
  st->meta = NULL;
  st->len = 0;
  return 0;
}

static int take_chunk(srv_ctx *ctx, hist_st *st, const ProtobufCBinaryData *c) {
  if (!c->len) return 0;
  if (!st->meta) return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "chunk: comes after the attachment it belongs to");
  if (c->len > ATT_CHUNK) return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "chunk: at most 1 MiB per message");
  if (c->len > ATT_MAX - st->len)
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "attachments[%d]: larger than 20 MiB", st->n_attachments);
  if (st->len + c->len > st->cap) {
    size_t cap = st->cap ? st->cap : ATT_CHUNK;
    while (cap < st->len + c->len) cap *= 2;
    uint8_t *nb = realloc(st->buf, cap);
    if (!nb) return SRV_FAIL(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "attachment: out of memory; retry");
    st->buf = nb;
    st->cap = cap;
  }
  memcpy(st->buf + st->len, c->data, c->len);
  st->len += c->len;
  return 0;
}

/* What any message may bring: versions, or an attachment's metadata and bytes. */
static int take_parts(srv_ctx *ctx, hist_st *st, const hist_msg *m) {
  SRV_TRY(keep_versions(ctx, st, m));
  if (m->attachment) {
    SRV_TRY(write_versions(ctx, st));
    SRV_TRY(write_attachment(ctx, st));
    st->meta = srv_msg_copy(ctx, &m->attachment->base);
  }
  return take_chunk(ctx, st, &m->chunk);
}

/* A message after the first. */
static int take(srv_ctx *ctx, hist_st *st, const hist_msg *m) {
  if (m->record || (m->unit_id && *m->unit_id) || (m->key && *m->key) || (m->source && *m->source))
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "record, unit_id, key, source: only in the first message");
  return take_parts(ctx, st, m);
}

static int hist_tx(srv_ctx *ctx, void *p) {
  hist_st *st = p;
  const hist_msg *in = st->first;
  /* The stream was read by the first run: a retry after a serialization failure has nothing to
   * read again, so the transfers service sends the package again (idempotent by key). */
  if (st->ran) return SRV_FAIL(ctx, GRPC_STATUS_ABORTED, "key: the import met a concurrent change; send it again");
  st->ran = 1;
  int replayed;
  SRV_TRY(rec_replay(ctx, in->key, &replayed, &st->out));
  if (replayed) return 0; /* the rest of the stream is not read: the status ends it */

  /* The draft: the package's record, managed here, from the beginning of the workflow. */
  rec_t *r = srv_msg_copy(ctx, &in->record->base);
  r->id = "";
  r->version = 0;
  r->managing_unit_id = in->unit_id;
  r->workflow_state = HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_DRAFT;
  r->verified = 0;
  r->status = STATUS(ACTIVE);
  r->approved_by = r->approved_at = r->created_at = r->updated_at = "";
  SRV_TRY(rec_validate(ctx, r, "record"));
  r->managing_unit_path = srv_strdup(ctx, st->path);
  rec_reason *why = srv_new(ctx, &hoso__records__v1__change_reason__descriptor);
  why->text = srv_printf(ctx, "transfer package from %s", in->source ? in->source : "another deployment");
  SRV_TRY(record_store(ctx, NULL, r, "IMPORT_PACKAGE", why));
  st->draft = r;

  SRV_TRY(take_parts(ctx, st, in));
  ProtobufCMessage *m;
  int got;
  while ((got = srv_recv(ctx, &m)) == 1) SRV_TRY(take(ctx, st, (const hist_msg *)m));
  if (got < 0) return DB_TX_ROLLBACK; /* cut off: nothing of it is kept */
  SRV_TRY(write_versions(ctx, st));
  SRV_TRY(write_attachment(ctx, st));

  audit_entry e = {.action = "RECORD_IMPORT_PACKAGE", .target_type = "record", .target_id = r->id,
                   .unit_path = r->managing_unit_path};
  SRV_TRY(srv_audit(ctx, &e,
                    json_pack("{s:s, s:s, s:i, s:i}", "source", in->source ? in->source : "", "key", in->key,
                              "versions", (int)st->n_v, "attachments", st->n_attachments)));
  SRV_TRY(rec_idem_done(ctx, in->key, r));
  st->out = r;
  return 0;
}

/* The first message, checked before anything is read further. */
static int first_message(srv_ctx *ctx, hist_st *st) {
  ProtobufCMessage *m;
  int got = srv_recv(ctx, &m);
  if (got < 0) return -1;
  if (got == 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "record: the first message must carry it");
  const hist_msg *in = (const hist_msg *)m;
  const char *e;
  if (!in->record) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "record: must be given");
  if (srv_check_id(ctx, "unit_id", in->unit_id)) return -1;
  if ((e = val_text(in->key ? in->key : "", 1, KEY_MAX_CHARS)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "key: %s", e);
  st->first = srv_msg_copy(ctx, m); /* srv_recv's message lives until the next one */
  return 0;
}

int rpc_import_record_history(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  (void)req; /* NULL: the requests come from srv_recv */
  hist_st st = {0};
  int rc = -1;
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  if (!record_is_transfers_service(ctx))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "ImportRecordHistory is reserved for the transfers service; a package is taken in with "
                    "ImportTransferPackage");
  if (first_message(ctx, &st) || unit_tree_path(ctx, "unit_id", st.first->unit_id, st.path)) return -1;
  if (!scope_allows(ctx->auth, st.path, RIGHT_READ))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside the transfers service's grant",
                    st.first->unit_id);
  if (srv_tx(ctx, DB_READ_COMMITTED, hist_tx, &st) == 0) {
    Hoso__Records__V1__ImportRecordHistoryResponse *o =
        srv_new(ctx, &hoso__records__v1__import_record_history_response__descriptor);
    o->record = st.out;
    *resp = &o->base;
    rc = 0;
  }
  free(st.buf);
  return rc;
}
