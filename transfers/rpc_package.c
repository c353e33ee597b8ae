/* Out of the system and back (000 Đ9.3, 004 Đ9.2): ExportTransferPackage makes the package of an
 * OUT_OF_SYSTEM transfer whose record is frozen (sent) — the record, all its versions, its
 * attachments, the transfer and its scans, signed — and records marks the record
 * TRANSFERRED_OUT; ImportTransferPackage checks another deployment's (or this one's) package part
 * by part and has records make a draft of it in the receiving unit, its history kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "log.h"
#include "package.h"
#include "scope.h"
#include "transfers.h"

#define PKG_MAX (3 << 20) + (1 << 19) /* the reply (and the request) stay under gRPC's 4 MiB */
#define MAX_PARTS 256

static const char *str(const char *s) { return s ? s : ""; }

/* ------------------------------------------------------------ parts from records -------- */

typedef struct {
  pkg_part v[MAX_PARTS];
  size_t n;
  size_t bytes;
} parts_t;

static int add_part(srv_ctx *ctx, parts_t *p, const char *name, const char *type, const uint8_t *data, size_t len) {
  if (p->n == MAX_PARTS || p->bytes + len > PKG_MAX)
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "transfer_id: the record's package would pass %d bytes (attachments included); packages that "
                    "large are not made yet", PKG_MAX);
  p->v[p->n++] = (pkg_part){.name = name, .type = type, .data = data, .len = len};
  p->bytes += len;
  return 0;
}

static int add_msg(srv_ctx *ctx, parts_t *p, const char *name, const ProtobufCMessage *m) {
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *b = srv_alloc(ctx, n ? n : 1);
  protobuf_c_message_pack(m, b);
  return add_part(ctx, p, name, "application/x-protobuf", b, n);
}

/* A call to records as the service whose answer is copied into the arena. */
static int ask_records(srv_ctx *ctx, const char *method, const ProtobufCMessage *req,
                       const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out) {
  ProtobufCMessage *resp = NULL;
  cli_status st;
  grpc_status_code c = svc_call(tr_client(), "records", method, req, out_desc, &resp, &st);
  if (c == GRPC_STATUS_OK) {
    *out = srv_msg_copy(ctx, resp);
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
  }
  if (c == GRPC_STATUS_UNAVAILABLE || c == GRPC_STATUS_DEADLINE_EXCEEDED)
    return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE, "records service unavailable; retry");
  log_error("transfers: %s at records: %s %s", method, cli_status_name(c), st.message);
  return srv_fail_internal(ctx);
}

/* Every version of the record, each with the record it left. */
static int versions_of(srv_ctx *ctx, const char *record_id, Hoso__Records__V1__ListRecordVersionsResponse **all) {
  *all = srv_new(ctx, &hoso__records__v1__list_record_versions_response__descriptor);
  const char *token = "";
  size_t cap = 0;
  do {
    Hoso__Records__V1__ListRecordVersionsRequest req = HOSO__RECORDS__V1__LIST_RECORD_VERSIONS_REQUEST__INIT;
    req.record_id = (char *)record_id;
    req.page_size = 100;
    req.page_token = (char *)token;
    req.include_records = 1;
    Hoso__Records__V1__ListRecordVersionsResponse *page;
    SRV_TRY(ask_records(ctx, "/hoso.records.v1.Records/ListRecordVersions", &req.base,
                        &hoso__records__v1__list_record_versions_response__descriptor, (ProtobufCMessage **)&page));
    if ((*all)->n_versions + page->n_versions > cap) {
      cap = 2 * cap + page->n_versions + 8;
      void *v = srv_alloc(ctx, cap * sizeof *(*all)->versions);
      if ((*all)->n_versions) memcpy(v, (*all)->versions, (*all)->n_versions * sizeof *(*all)->versions);
      (*all)->versions = v;
    }
    for (size_t i = 0; i < page->n_versions; i++) (*all)->versions[(*all)->n_versions++] = page->versions[i];
    token = page->next_page_token;
  } while (*str(token));
  return 0;
}

/* One attachment's bytes (DownloadAttachment as the service). */
static int attachment_bytes(srv_ctx *ctx, const char *id, ProtobufCBinaryData *out) {
  cli_stream *s = svc_stream_open(tr_client(), "records", "/hoso.records.v1.Records/DownloadAttachment", 30000);
  if (!s) return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE, "records service unavailable; retry");
  Hoso__Records__V1__DownloadAttachmentRequest req = HOSO__RECORDS__V1__DOWNLOAD_ATTACHMENT_REQUEST__INIT;
  req.attachment_id = (char *)id;
  (void)cli_stream_send(s, &req.base);
  (void)cli_stream_close_send(s);
  uint8_t *buf = NULL;
  size_t len = 0;
  ProtobufCMessage *m = NULL;
  int rc = 0;
  while (rc == 0 && cli_stream_recv(s, &hoso__records__v1__download_attachment_response__descriptor, &m) == 1) {
    const ProtobufCBinaryData *c = &((Hoso__Records__V1__DownloadAttachmentResponse *)m)->chunk;
    if (c->len) {
      uint8_t *nb = len + c->len > PKG_MAX ? NULL : realloc(buf, len + c->len);
      if (!nb) rc = -1;
      else {
        memcpy(nb + len, c->data, c->len);
        buf = nb;
        len += c->len;
      }
    }
    protobuf_c_message_free_unpacked(m, NULL);
  }
  cli_status st;
  grpc_status_code c = cli_stream_finish(s, &st);
  if (rc == 0 && c == GRPC_STATUS_OK) {
    out->data = srv_alloc(ctx, len ? len : 1);
    if (len) memcpy(out->data, buf, len);
    out->len = len;
  }
  free(buf);
  if (rc != 0)
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "transfer_id: attachment %s alone makes the package pass %d bytes; packages that large are not "
                    "made yet", id, PKG_MAX);
  if (c != GRPC_STATUS_OK) {
    log_error("transfers: DownloadAttachment %s: %s %s", id, cli_status_name(c), st.message);
    return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE, "records could not give attachment %s; retry", id);
  }
  return 0;
}

/* ------------------------------------------------------------ ExportTransferPackage ----- */

typedef struct {
  const char *id;
  tr_row *row;
  ProtobufCBinaryData pkg, *docs;
  char sha[65];
  int exported;
} exp_st;

static int exp_check_tx(srv_ctx *ctx, void *p) {
  exp_st *st = p;
  SRV_TRY(store_transfer_get(ctx, st->id, 0, &st->row));
  transfer_t *t = st->row->t;
  if (!scope_allows(ctx->auth, st->row->from_path, RIGHT_UPDATE))
    return SRV_FAIL(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "transfer_id: its package is made by the UPDATER role of the sending unit (unit %s) or above it",
                    t->from_unit_id);
  if (t->state == TS(EXPORTED)) {
    st->exported = 1;
    return store_package_get(ctx, t->id, &st->pkg, st->sha);
  }
  flow_t f;
  const char *why;
  if (flow_next(t->kind, t->state, FLOW_EXPORT, 0, &f, &why) != 0)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "transfer_id: transfer %s is %s: %s%s", t->id,
                    flow_state_name(t->state), why, t->state == TS(STARTED) ? " (SendTransfer freezes the record)" : "");
  if (!t->delivered)
    return SRV_FAIL(ctx, GRPC_STATUS_UNAVAILABLE,
                    "transfer_id: records has not confirmed yet that the record is frozen; retry in a moment");
  st->docs = srv_alloc(ctx, (t->n_documents + 1) * sizeof *st->docs);
  for (size_t i = 0; i < t->n_documents; i++) {
    tr_document_t *meta;
    SRV_TRY(store_document_get(ctx, t->id, t->documents[i]->id, &meta, &st->docs[i]));
  }
  return 0;
}

static int exp_store(srv_ctx *ctx, tr_row *r, void *p) {
  exp_st *st = p;
  char kid[65], err[PKG_ERR];
  if (pkg_key_id(kid, err, sizeof err) != 0) return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "%s", err);
  r->t->package_sha256 = st->sha;
  return store_package_put(ctx, r->t->id, st->sha, &st->pkg, kid);
}

static int build(srv_ctx *ctx, exp_st *st) {
  transfer_t *t = st->row->t;
  parts_t *parts = srv_alloc(ctx, sizeof *parts);
  memset(parts, 0, sizeof *parts);
  Hoso__Records__V1__Record *rec;
  Hoso__Records__V1__ListRecordVersionsResponse *versions;
  Hoso__Records__V1__ListAttachmentsResponse *atts;
  Hoso__Records__V1__ListAttachmentsRequest lr = HOSO__RECORDS__V1__LIST_ATTACHMENTS_REQUEST__INIT;
  lr.record_id = t->record_id;
  if (tr_record(ctx, t->record_id, &rec) || versions_of(ctx, t->record_id, &versions) ||
      ask_records(ctx, "/hoso.records.v1.Records/ListAttachments", &lr.base,
                  &hoso__records__v1__list_attachments_response__descriptor, (ProtobufCMessage **)&atts))
    return -1;
  if (add_msg(ctx, parts, "transfer.pb", &t->base) || add_msg(ctx, parts, "record.pb", &rec->base) ||
      add_msg(ctx, parts, "versions.pb", &versions->base) || add_msg(ctx, parts, "attachments.pb", &atts->base))
    return -1;
  for (size_t i = 0; i < atts->n_attachments; i++) {
    ProtobufCBinaryData b = {0};
    const Hoso__Records__V1__AttachmentMeta *a = atts->attachments[i];
    if (attachment_bytes(ctx, a->id, &b) ||
        add_part(ctx, parts, srv_printf(ctx, "attachments/%s/%s", a->id, str(a->file_name)), str(a->content_type),
                 b.data, b.len))
      return -1;
  }
  for (size_t i = 0; i < t->n_documents; i++)
    if (add_part(ctx, parts, srv_printf(ctx, "documents/%s/%s", t->documents[i]->id, str(t->documents[i]->file_name)),
                 str(t->documents[i]->content_type), st->docs[i].data, st->docs[i].len))
      return -1;
  json_t *about = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "transfer_id", t->id, "record_id", t->record_id,
                            "record_name", str(t->record_name), "destination", str(t->destination), "decision",
                            str(t->decision->number), "effective_date", str(t->decision->effective_date),
                            "from_unit_id", t->from_unit_id);
  uint8_t *bytes;
  size_t len;
  char err[PKG_ERR];
  int rc = pkg_build(parts->v, parts->n, about, &bytes, &len, st->sha, err, sizeof err);
  json_decref(about);
  if (rc != 0) return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "%s", err);
  st->pkg.data = srv_alloc(ctx, len);
  memcpy(st->pkg.data, bytes, len);
  st->pkg.len = len;
  free(bytes);
  return 0;
}

int rpc_export_transfer_package(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__ExportTransferPackageRequest *in = (const void *)req;
  exp_st st = {.id = in->transfer_id};
  if (srv_check_id(ctx, "transfer_id", in->transfer_id) || srv_check_request_id(ctx, in->request_id) ||
      srv_need_right(ctx, RIGHT_UPDATE, 0, "packages are made by the UPDATER role of the sending unit"))
    return -1;
  char err[PKG_ERR], kid[65];
  if (pkg_key_id(kid, err, sizeof err) != 0) return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "%s", err);
  if (srv_tx(ctx, DB_READ_COMMITTED, exp_check_tx, &st) != 0) return -1;
  if (!st.exported) {
    if (build(ctx, &st) != 0) return -1;
    tr_act act = {.request_id = in->request_id, .extra = exp_store, .extra_arg = &st};
    if (tr_transition(ctx, in->transfer_id, FLOW_EXPORT, &act, NULL) != 0) {
      /* Made meanwhile by another call: that package is the one. */
      grpc_status_code code;
      const char *msg = srv_fail_take(ctx, &code);
      st.exported = 0;
      if (code != GRPC_STATUS_FAILED_PRECONDITION || srv_tx(ctx, DB_READ_COMMITTED, exp_check_tx, &st) != 0 ||
          !st.exported)
        return srv_failed(ctx) ? -1 : srv_fail(ctx, code, "%s", msg ? msg : "");
    }
  }
  Hoso__Transfers__V1__ExportTransferPackageResponse *o =
      srv_new(ctx, &hoso__transfers__v1__export_transfer_package_response__descriptor);
  if (tr_reply(ctx, in->transfer_id, &o->transfer) != 0) return -1;
  o->package = st.pkg;
  o->sha256 = srv_strdup(ctx, st.sha);
  o->file_name = srv_printf(ctx, "hoso-%s-%s.hspkg", o->transfer->record_id, o->transfer->id);
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ ImportTransferPackage ----- */

static const Hoso__Transfers__V1__PackagePart *part(const Hoso__Transfers__V1__TransferPackage *p, const char *name) {
  for (size_t i = 0; i < p->n_parts; i++)
    if (!strcmp(str(p->parts[i]->name), name)) return p->parts[i];
  return NULL;
}

/* A part unpacked as a message in the arena, or the refusal naming it. */
static int part_msg(srv_ctx *ctx, const Hoso__Transfers__V1__TransferPackage *p, const char *name,
                    const ProtobufCMessageDescriptor *d, ProtobufCMessage **out) {
  const Hoso__Transfers__V1__PackagePart *x = part(p, name);
  if (!x) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "package.parts[%s]: missing", name);
  *out = protobuf_c_message_unpack(d, srv_allocator(ctx), x->content.len, x->content.data);
  return *out ? 0 : srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "package.parts[%s]: not a %s", name, d->name);
}

typedef struct {
  tr_row *row;
  const char *request_id;
} imp_st;

static int imp_tx(srv_ctx *ctx, void *p) {
  imp_st *st = p;
  char prev[64];
  int seen = idem_begin(ctx, st->request_id, prev, sizeof prev);
  if (seen < 0) return -1;
  if (seen == 1) {
    st->row->t->id = srv_strdup(ctx, prev);
    return 0;
  }
  SRV_TRY(store_transfer_insert(ctx, st->row));
  SRV_TRY(tr_audit(ctx, st->row, "TRANSFER_IMPORT",
                   json_pack("{s:s, s:s}", "new_record_id", st->row->t->new_record_id, "source",
                             str(st->row->t->destination))));
  return idem_done(ctx, st->request_id, st->row->t->id);
}

int rpc_import_transfer_package(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__ImportTransferPackageRequest *in = (const void *)req;
  const char *note;
  char path[UNIT_TREE_PATH_MAX], key_id[65], err[PKG_ERR], sha[65];
  if (srv_check_id(ctx, "unit_id", in->unit_id) || srv_clean_prose(ctx, "note", in->note, 0, TR_TEXT_MAX, &note) ||
      srv_check_request_id(ctx, in->request_id))
    return -1;
  if (in->package.len == 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "package: empty");
  if (srv_need_right(ctx, RIGHT_UPDATE, 0, "a package is taken in by the UPDATER role of the receiving unit") ||
      unit_tree_path(ctx, "unit_id", in->unit_id, path))
    return -1;
  if (!scope_allows(ctx->auth, path, RIGHT_UPDATE))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside your scope", in->unit_id);
  Hoso__Transfers__V1__TransferPackage *pkg;
  json_t *manifest;
  if (pkg_verify(in->package.data, in->package.len, &pkg, &manifest, key_id, err, sizeof err) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
  json_decref(manifest);
  pkg_sha256(in->package.data, in->package.len, sha);

  Hoso__Transfers__V1__Transfer *t;
  Hoso__Records__V1__ListRecordVersionsResponse *versions;
  Hoso__Records__V1__ListAttachmentsResponse *atts;
  Hoso__Records__V1__ImportRecordHistoryRequest *q = srv_new(ctx, &hoso__records__v1__import_record_history_request__descriptor);
  int rc = part_msg(ctx, pkg, "transfer.pb", &hoso__transfers__v1__transfer__descriptor, (ProtobufCMessage **)&t) ||
           part_msg(ctx, pkg, "record.pb", &hoso__records__v1__record__descriptor, (ProtobufCMessage **)&q->record) ||
           part_msg(ctx, pkg, "versions.pb", &hoso__records__v1__list_record_versions_response__descriptor,
                    (ProtobufCMessage **)&versions) ||
           part_msg(ctx, pkg, "attachments.pb", &hoso__records__v1__list_attachments_response__descriptor,
                    (ProtobufCMessage **)&atts);
  if (rc == 0) {
    q->versions = versions->versions;
    q->n_versions = versions->n_versions;
    q->attachments = srv_alloc(ctx, (atts->n_attachments + 1) * sizeof *q->attachments);
    for (size_t i = 0; rc == 0 && i < atts->n_attachments; i++) {
      const char *name = srv_printf(ctx, "attachments/%s/%s", atts->attachments[i]->id, str(atts->attachments[i]->file_name));
      const Hoso__Transfers__V1__PackagePart *x = part(pkg, name);
      if (!x) {
        rc = srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "package.parts[%s]: missing", name);
        break;
      }
      Hoso__Records__V1__ImportedAttachment *a = srv_new(ctx, &hoso__records__v1__imported_attachment__descriptor);
      a->meta = atts->attachments[i];
      a->content.data = srv_alloc(ctx, x->content.len);
      memcpy(a->content.data, x->content.data, x->content.len);
      a->content.len = x->content.len;
      q->attachments[q->n_attachments++] = a;
    }
  }
  protobuf_c_message_free_unpacked(&pkg->base, NULL);
  if (rc) return -1;
  q->unit_id = in->unit_id;
  q->key = srv_printf(ctx, "package:%.32s:%s", sha, in->unit_id);
  q->source = srv_printf(ctx, "deployment %.16s", key_id);

  /* records makes the draft (the same one again for a repeated call), then the transfer notes it. */
  Hoso__Records__V1__ImportRecordHistoryResponse *made;
  ProtobufCMessage *resp_msg = NULL;
  cli_status cs;
  grpc_status_code c = svc_call(tr_client(), "records", "/hoso.records.v1.Records/ImportRecordHistory", &q->base,
                                &hoso__records__v1__import_record_history_response__descriptor, &resp_msg, &cs);
  if (c != GRPC_STATUS_OK) {
    if (c == GRPC_STATUS_INVALID_ARGUMENT || c == GRPC_STATUS_FAILED_PRECONDITION)
      return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "package: its record does not fit this deployment (%s)",
                      cs.message);
    if (c == GRPC_STATUS_UNAVAILABLE || c == GRPC_STATUS_DEADLINE_EXCEEDED)
      return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE, "records service unavailable; retry");
    log_error("transfers: ImportRecordHistory: %s %s", cli_status_name(c), cs.message);
    return srv_fail_internal(ctx);
  }
  made = srv_msg_copy(ctx, resp_msg);
  protobuf_c_message_free_unpacked(resp_msg, NULL);

  tr_row *r = srv_alloc(ctx, sizeof *r);
  memset(r, 0, sizeof *r);
  transfer_t *nt = r->t = srv_new(ctx, &hoso__transfers__v1__transfer__descriptor);
  nt->record_id = made->record->id;
  nt->record_name = made->record->full_name;
  nt->new_record_id = made->record->id;
  nt->kind = TK(IMPORT);
  nt->state = TS(IMPORTED);
  nt->from_unit_id = nt->to_unit_id = in->unit_id;
  r->from_path = r->to_path = srv_strdup(ctx, path);
  r->final_path = "";
  nt->final_unit_id = "";
  nt->decision = t->decision ? t->decision : srv_new(ctx, &hoso__transfers__v1__decision__descriptor);
  nt->decision->scan_document_id = "";
  nt->destination = srv_printf(ctx, "package %.16s from deployment %.16s (transfer %s there)", sha, key_id, str(t->id));
  nt->note = (char *)note;
  imp_st st = {.row = r, .request_id = in->request_id};
  if (srv_tx(ctx, DB_READ_COMMITTED, imp_tx, &st) != 0) return -1;
  Hoso__Transfers__V1__ImportTransferPackageResponse *o =
      srv_new(ctx, &hoso__transfers__v1__import_transfer_package_response__descriptor);
  if (tr_reply(ctx, nt->id, &o->transfer) != 0) return -1;
  o->record_id = o->transfer->new_record_id;
  *resp = &o->base;
  return 0;
}
