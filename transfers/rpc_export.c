/* ExportTransferPackage (000 Đ9.3, 004 Đ9.2): the package of an OUT_OF_SYSTEM transfer whose
 * record is frozen (sent) — the transfer, the record, all its versions, its attachments and the
 * transfer's scans, with a signed manifest of their sums — made once, in the transaction that
 * marks the transfer EXPORTED (records then makes the record TRANSFERRED_OUT), and kept; then
 * streamed to the caller, as again to anyone of the sending side who asks later. Made and sent
 * one piece (at most 1 MiB) at a time: a dossier's scans never sit whole in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "cfg.h"
#include "log.h"
#include "package.h"
#include "package_stream.h"
#include "scope.h"
#include "transfers.h"

#define VERSIONS_PAGE 50

static const char *str(const char *s) { return s ? s : ""; }

/* ------------------------------------------------------------ the pieces ---------------- */

typedef struct {
  srv_ctx *ctx;
  const char *transfer_id;
  int part, seq;          /* the part being written (1...), its next piece */
  const char *name, *type;
  uint64_t len;           /* its content so far */
  EVP_MD_CTX *md;
  uint8_t *buf;           /* the piece being filled (TR_CHUNK bytes) */
  size_t n;
  pkg_entry *entries;     /* the manifest's, in order */
  size_t n_entries, cap;
  uint64_t size, max;     /* the package's bytes so far; its limit */
} writer;

static int w_flush(writer *w) {
  if (!w->n) return 0;
  SRV_TRY(store_package_chunk_put(w->ctx, w->transfer_id, w->part, w->seq++, w->buf, w->n));
  w->n = 0;
  return 0;
}

static int w_begin(writer *w, const char *name, const char *type) {
  w->part++;
  w->seq = 1;
  w->len = 0;
  w->name = name;
  w->type = type;
  if (EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1) return srv_fail_internal(w->ctx);
  return 0;
}

static int w_write(writer *w, const uint8_t *data, size_t n) {
  if (n > w->max - w->size)
    return SRV_FAIL(w->ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "transfer_id: the record's package would pass %llu MiB (HOSO_PACKAGE_MAX_MB), attachments included",
                    (unsigned long long)(w->max >> 20));
  EVP_DigestUpdate(w->md, data, n);
  w->len += n;
  w->size += n;
  while (n) {
    size_t take = TR_CHUNK - w->n < n ? TR_CHUNK - w->n : n;
    memcpy(w->buf + w->n, data, take);
    w->n += take;
    data += take;
    n -= take;
    if (w->n == TR_CHUNK) SRV_TRY(w_flush(w));
  }
  return 0;
}

/* The part's content is complete: its framing before it (piece 0) and its manifest entry. */
static int w_end(writer *w) {
  SRV_TRY(w_flush(w));
  unsigned char md[32];
  unsigned mdlen = 0;
  if (EVP_DigestFinal_ex(w->md, md, &mdlen) != 1) return srv_fail_internal(w->ctx);
  if (w->n_entries == w->cap) {
    w->cap = 2 * w->cap + 16;
    pkg_entry *v = srv_alloc(w->ctx, w->cap * sizeof *v);
    if (w->n_entries) memcpy(v, w->entries, w->n_entries * sizeof *v);
    w->entries = v;
  }
  pkg_entry *e = &w->entries[w->n_entries++];
  memset(e, 0, sizeof *e);
  e->name = w->name;
  e->type = w->type;
  e->size = (long long)w->len;
  pkg_hex(md, e->sha256);
  uint8_t prefix[PKGS_PREFIX_MAX];
  size_t n = pkgs_part_prefix(prefix, w->name, w->len);
  if (!n) return SRV_FAIL(w->ctx, GRPC_STATUS_FAILED_PRECONDITION, "transfer_id: a part's name is too long: %s", w->name);
  w->size += n;
  return store_package_chunk_put(w->ctx, w->transfer_id, w->part, 0, prefix, n);
}

static int w_msg(writer *w, const char *name, const ProtobufCMessage *m) {
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *b = malloc(n ? n : 1);
  if (!b) return srv_fail_internal(w->ctx);
  protobuf_c_message_pack(m, b);
  int rc = w_begin(w, name, "application/x-protobuf") || w_write(w, b, n) || w_end(w) ? -1 : 0;
  free(b);
  return rc;
}

/* ------------------------------------------------------------ the parts from records ---- */

static int records_failed(srv_ctx *ctx, const char *method, const cli_status *st) {
  return SVC_FAIL_DOWNSTREAM(ctx, st, SVC_AS_SERVICE, "records", method);
}

/* versions.pb: every version with the record it left, page by page. Repeated fields of
 * concatenated messages merge, so the pages packed one after the other are one
 * ListRecordVersionsResponse; no page is kept once written. */
static int w_versions(writer *w, const char *record_id) {
  SRV_TRY(w_begin(w, "versions.pb", "application/x-protobuf"));
  const char *method = "/hoso.records.v1.Records/ListRecordVersions";
  char token[256] = "";
  int rc = 0, more = 1;
  while (rc == 0 && more) {
    Hoso__Records__V1__ListRecordVersionsRequest req = HOSO__RECORDS__V1__LIST_RECORD_VERSIONS_REQUEST__INIT;
    req.record_id = (char *)record_id;
    req.page_size = VERSIONS_PAGE;
    req.page_token = token;
    req.include_records = 1;
    ProtobufCMessage *m = NULL;
    cli_status st;
    grpc_status_code c = svc_call(tr_client(), "records", method, &req.base,
                                  &hoso__records__v1__list_record_versions_response__descriptor, &m, &st);
    if (c != GRPC_STATUS_OK) return records_failed(w->ctx, method, &st);
    Hoso__Records__V1__ListRecordVersionsResponse *page = (void *)m;
    more = *str(page->next_page_token) != 0;
    if (strlen(str(page->next_page_token)) >= sizeof token) rc = srv_fail_internal(w->ctx);
    snprintf(token, sizeof token, "%s", str(page->next_page_token));
    /* The versions only: packed without the page's token. */
    Hoso__Records__V1__ListRecordVersionsResponse only = HOSO__RECORDS__V1__LIST_RECORD_VERSIONS_RESPONSE__INIT;
    only.versions = page->versions;
    only.n_versions = page->n_versions;
    size_t n = protobuf_c_message_get_packed_size(&only.base);
    uint8_t *b = rc ? NULL : malloc(n ? n : 1);
    if (!rc && !b) rc = srv_fail_internal(w->ctx);
    if (b) {
      protobuf_c_message_pack(&only.base, b);
      rc = w_write(w, b, n);
      free(b);
    }
    protobuf_c_message_free_unpacked(m, NULL);
  }
  return rc ? rc : w_end(w);
}

/* attachments/<id>/<file>: its bytes as records streams them (DownloadAttachment). */
static int w_attachment(writer *w, const Hoso__Records__V1__AttachmentMeta *a) {
  SRV_TRY(w_begin(w, srv_printf(w->ctx, "attachments/%s/%s", a->id, str(a->file_name)), str(a->content_type)));
  const char *method = "/hoso.records.v1.Records/DownloadAttachment";
  cli_stream *s = svc_stream_open(tr_client(), "records", method, 120000);
  if (!s) return SRV_FAIL(w->ctx, GRPC_STATUS_UNAVAILABLE, "the records service is unavailable; retry");
  Hoso__Records__V1__DownloadAttachmentRequest req = HOSO__RECORDS__V1__DOWNLOAD_ATTACHMENT_REQUEST__INIT;
  req.attachment_id = a->id;
  (void)cli_stream_send(s, &req.base);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m = NULL;
  int rc = 0;
  while (rc == 0 && cli_stream_recv(s, &hoso__records__v1__download_attachment_response__descriptor, &m) == 1) {
    const ProtobufCBinaryData *c = &((Hoso__Records__V1__DownloadAttachmentResponse *)m)->chunk;
    rc = w_write(w, c->data, c->len);
    protobuf_c_message_free_unpacked(m, NULL);
  }
  if (rc) cli_stream_cancel(s);
  cli_status st;
  grpc_status_code c = cli_stream_finish(s, &st);
  if (rc) return rc;
  if (c != GRPC_STATUS_OK) return records_failed(w->ctx, method, &st);
  if ((long long)w->len != a->size) {
    log_error("transfers: attachment %s: records gave %llu bytes of %lld", a->id, (unsigned long long)w->len,
              (long long)a->size);
    return SRV_FAIL(w->ctx, GRPC_STATUS_UNAVAILABLE, "records gave attachment %s only in part; retry", a->id);
  }
  return w_end(w);
}

/* The head (manifest, signature, key id) as part 0, and the package's sum read back in order. */
static int w_head(writer *w, const transfer_t *t, char sha[65], char kid[65]) {
  json_t *about = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "transfer_id", t->id, "record_id", t->record_id,
                            "record_name", str(t->record_name), "destination", str(t->destination), "decision",
                            str(t->decision->number), "effective_date", str(t->decision->effective_date),
                            "from_unit_id", t->from_unit_id);
  char *text = NULL, err[PKG_ERR];
  uint8_t *sig = NULL, *head = NULL;
  size_t sig_len = 0;
  int rc = pkg_sign(about, w->entries, w->n_entries, &text, &sig, &sig_len, kid, err, sizeof err);
  json_decref(about);
  if (rc != 0) return SRV_FAIL(w->ctx, GRPC_STATUS_FAILED_PRECONDITION, "%s", err);
  size_t n = pkgs_head_size(strlen(text), sig_len, kid);
  if (!(head = malloc(n))) rc = srv_fail_internal(w->ctx);
  else pkgs_head(head, (const uint8_t *)text, strlen(text), sig, sig_len, kid);
  for (size_t off = 0, seq = 0; rc == 0 && off < n; off += TR_CHUNK, seq++)
    rc = store_package_chunk_put(w->ctx, w->transfer_id, 0, (int)seq, head + off, n - off < TR_CHUNK ? n - off : TR_CHUNK);
  free(head);
  free(text);
  free(sig);
  if (rc) return rc;
  w->size += n;
  /* The file's sum needs the head first, which the parts' sums made: read it all back once. */
  int part = 0, seq = -1, got;
  size_t len;
  uint64_t total = 0;
  EVP_DigestInit_ex(w->md, EVP_sha256(), NULL);
  while ((got = store_package_chunk_next(w->ctx, w->transfer_id, &part, &seq, w->buf, &len)) == 1) {
    EVP_DigestUpdate(w->md, w->buf, len);
    total += len;
  }
  if (got < 0) return -1;
  unsigned char md[32];
  unsigned mdlen = 0;
  EVP_DigestFinal_ex(w->md, md, &mdlen);
  pkg_hex(md, sha);
  if (total != w->size) {
    log_error("transfers: the package of transfer %s reads back as %llu bytes, written %llu", w->transfer_id,
              (unsigned long long)total, (unsigned long long)w->size);
    return srv_fail_internal(w->ctx);
  }
  return 0;
}

/* ------------------------------------------------------------ ExportTransferPackage ----- */

typedef struct {
  const char *id;
  tr_row *row;
  char sha[65];
  long long size;
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
    SRV_TRY(store_package_get(ctx, t->id, st->sha, &st->size));
    /* The package is the whole dossier: each copy handed out is a read of it. */
    return tr_audit(ctx, st->row, "TRANSFER_PACKAGE_READ", json_pack("{s:s, s:I}", "sha256", st->sha, "size",
                                                                     (json_int_t)st->size));
  }
  flow_t f;
  const char *why;
  if (flow_next(t->kind, t->state, FLOW_EXPORT, 0, &f, &why) != 0)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "transfer_id: transfer %s is %s: %s%s", t->id,
                    flow_state_name(t->state), why, t->state == TS(STARTED) ? " (SendTransfer freezes the record)" : "");
  if (!t->delivered)
    return SRV_FAIL(ctx, GRPC_STATUS_UNAVAILABLE,
                    "transfer_id: records has not confirmed yet that the record is frozen; retry in a moment");
  return 0;
}

/* The package made in the transaction of the transition to EXPORTED (the transfer row locked):
 * its pieces, its row, and the transfer's sum commit together or not at all. */
static int exp_build(srv_ctx *ctx, tr_row *r, void *p) {
  exp_st *st = p;
  transfer_t *t = r->t;
  writer w = {.ctx = ctx, .transfer_id = t->id, .md = EVP_MD_CTX_new(), .buf = malloc(TR_CHUNK),
              .max = (uint64_t)cfg_int("HOSO_PACKAGE_MAX_MB", 1024, 1, 1L << 20) << 20};
  char kid[65];
  int rc = -1;
  Hoso__Records__V1__Record *rec;
  Hoso__Records__V1__ListAttachmentsResponse *atts = NULL;
  if (!w.md || !w.buf) {
    rc = srv_fail_internal(ctx);
    goto out;
  }
  Hoso__Records__V1__ListAttachmentsRequest lr = HOSO__RECORDS__V1__LIST_ATTACHMENTS_REQUEST__INIT;
  lr.record_id = t->record_id;
  ProtobufCMessage *m = NULL;
  cli_status cs;
  grpc_status_code c = svc_call(tr_client(), "records", "/hoso.records.v1.Records/ListAttachments", &lr.base,
                                &hoso__records__v1__list_attachments_response__descriptor, &m, &cs);
  if (c != GRPC_STATUS_OK) {
    rc = records_failed(ctx, "/hoso.records.v1.Records/ListAttachments", &cs);
    goto out;
  }
  atts = srv_msg_copy(ctx, m);
  protobuf_c_message_free_unpacked(m, NULL);
  if (tr_record(ctx, t->record_id, &rec) || w_msg(&w, "transfer.pb", &t->base) || w_msg(&w, "record.pb", &rec->base) ||
      w_versions(&w, t->record_id) || w_msg(&w, "attachments.pb", &atts->base))
    goto out;
  for (size_t i = 0; i < atts->n_attachments; i++)
    if (w_attachment(&w, atts->attachments[i])) goto out;
  for (size_t i = 0; i < t->n_documents; i++) {
    tr_document_t *meta;
    ProtobufCBinaryData scan;
    if (store_document_get(ctx, t->id, t->documents[i]->id, &meta, &scan) ||
        w_begin(&w, srv_printf(ctx, "documents/%s/%s", t->documents[i]->id, str(t->documents[i]->file_name)),
                str(t->documents[i]->content_type)) ||
        w_write(&w, scan.data, scan.len) || w_end(&w))
      goto out;
  }
  if (w_head(&w, t, st->sha, kid)) goto out;
  st->size = (long long)w.size;
  t->package_sha256 = st->sha;
  rc = store_package_put(ctx, t->id, st->sha, st->size, kid);
out:
  EVP_MD_CTX_free(w.md);
  free(w.buf);
  return rc;
}

/* The package as kept: what it is, then its pieces in order, each read in a transaction of its
 * own (a slow client holds no snapshot open). */
typedef struct {
  const char *id;
  int part, seq;
  uint8_t *buf;
  size_t len;
  int got;
} piece_st;

static int piece_tx(srv_ctx *ctx, void *p) {
  piece_st *st = p;
  st->got = store_package_chunk_next(ctx, st->id, &st->part, &st->seq, st->buf, &st->len);
  return st->got < 0 ? -1 : 0;
}

static int send_package(srv_ctx *ctx, exp_st *st) {
  Hoso__Transfers__V1__ExportTransferPackageResponse o = HOSO__TRANSFERS__V1__EXPORT_TRANSFER_PACKAGE_RESPONSE__INIT;
  if (tr_reply(ctx, st->id, &o.transfer) != 0) return -1;
  o.file_name = srv_printf(ctx, "hoso-%s-%s.hspkg", o.transfer->record_id, o.transfer->id);
  o.sha256 = st->sha;
  o.size = st->size;
  if (srv_send(ctx, &o.base)) return -1;
  Hoso__Transfers__V1__ExportTransferPackageResponse c = HOSO__TRANSFERS__V1__EXPORT_TRANSFER_PACKAGE_RESPONSE__INIT;
  piece_st ps = {.id = st->id, .part = 0, .seq = -1, .buf = malloc(TR_CHUNK)};
  if (!ps.buf) return srv_fail_internal(ctx);
  long long sent = 0;
  int rc;
  while ((rc = srv_tx(ctx, DB_READ_COMMITTED, piece_tx, &ps)) == 0 && ps.got) {
    c.chunk.data = ps.buf;
    c.chunk.len = ps.len;
    sent += (long long)ps.len;
    if ((rc = srv_send(ctx, &c.base)) != 0) break;
  }
  free(ps.buf);
  if (rc == 0 && sent != st->size) {
    log_error("transfers: the package of transfer %s has %lld bytes stored, %lld expected", st->id, sent, st->size);
    rc = srv_fail_internal(ctx);
  }
  return rc ? -1 : 0;
}

int rpc_export_transfer_package(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__ExportTransferPackageRequest *in = (const void *)req;
  (void)resp; /* stays NULL: the package goes out through srv_send */
  exp_st st = {.id = in->transfer_id};
  if (srv_check_id(ctx, "transfer_id", in->transfer_id) || srv_check_request_id(ctx, in->request_id) ||
      srv_need_right(ctx, RIGHT_UPDATE, 0, "packages are made by the UPDATER role of the sending unit"))
    return -1;
  char err[PKG_ERR], kid[65];
  if (pkg_key_id(kid, err, sizeof err) != 0) return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "%s", err);
  if (srv_tx(ctx, DB_READ_COMMITTED, exp_check_tx, &st) != 0) return -1;
  if (!st.exported) {
    tr_act act = {.request_id = in->request_id, .extra = exp_build, .extra_arg = &st};
    if (tr_transition(ctx, in->transfer_id, FLOW_EXPORT, &act, NULL) != 0) {
      /* Made meanwhile by another call: that package is the one. */
      grpc_status_code code;
      const char *msg = srv_fail_take(ctx, &code);
      st.exported = 0;
      if (code != GRPC_STATUS_FAILED_PRECONDITION || srv_tx(ctx, DB_READ_COMMITTED, exp_check_tx, &st) != 0 ||
          !st.exported)
        return srv_failed(ctx) ? -1 : srv_fail(ctx, code, "%s", msg ? msg : "");
    } else if (!st.size) {
      /* A repeated request_id: the first call made it; read what it made. */
      if (srv_tx(ctx, DB_READ_COMMITTED, exp_check_tx, &st) != 0) return -1;
    }
  }
  return send_package(ctx, &st);
}
