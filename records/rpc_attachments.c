/* UploadAttachment (client stream), DownloadAttachment (server stream) and ListAttachments of
 * hoso.records.v1.Records: scanned PDF/JPEG/PNG files of a record, typed by content, SHA-256;
 * an updater's, or a person's papers for their own pending change request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "idem.h"
#include "log.h"
#include "records.h"
#include "val.h"
#include "rpc_util.h"
#include "scope.h"
#include "store_attachments.h"
#include "store_change_requests.h"

#define ATT_MAX (20u << 20)   /* 20 MiB per attachment */
#define ATT_CHUNK (1u << 20)  /* 1 MiB per stream message, both ways */
#define ATT_NAME_MAX 255
/* Attachment rows are read in the caller's scope, except by a SELF caller that record_fetch has
 * already allowed to read its own record outside that scope. */
static int self_unscoped(srv_ctx *ctx, const rec_t *rec) {
  return !scope_allows(ctx->auth, rec->managing_unit_path, RIGHT_READ);
}

/* ------------------------------------------------------------ UploadAttachment ---------- */

typedef struct {
  const char *record_id, *file_name, *description, *request_id;
  const char *change_request_id; /* NULL: an updater's attachment */
  unsigned char *buf; /* malloc'd content, owned by the handler */
  size_t len, cap;
  const char *type;
  char sha[65];
  att_meta *out;
} upload_st;

static int load_meta(srv_ctx *ctx, const char *id, att_meta **out) {
  int found = attachments_get(ctx, id, 0, out);
  if (found < 0) return -1;
  return found ? 0 : srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "request_id: the attachment it made is no longer visible");
}

/* The person's own record, with the transaction narrowed to its unit, and their change
 * request cr_id on it, locked (an approval waits for the document, or the document for the
 * approval, which then refuses it): a request of theirs, still awaiting verification. */
static int own_pending_request(srv_ctx *ctx, const char *cr_id, rec_t **rec) {
  SRV_TRY(rec_own_record_scope(ctx, rec));
  cr_row row;
  int found = change_requests_find(ctx, cr_id, 1, &row);
  if (found < 0) return -1;
  if (found == 0 && (found = change_requests_exist_anywhere(ctx, cr_id)) <= 0)
    return found < 0 ? -1 : srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "change_request_id: change request %s does not exist", cr_id);
  if (found == 0 || strcmp(row.cr->record_id, (*rec)->id) != 0 || strcmp(row.cr->submitted_by, ctx->auth->sub) != 0)
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "change_request_id: change request %s is not one you declared on your own record", cr_id);
  if (row.cr->state != HOSO__RECORDS__V1__CHANGE_REQUEST_STATE__CHANGE_REQUEST_STATE_PENDING)
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "change_request_id: change request %s was already decided; papers go with a request the "
                    "unit has not verified yet (declare again with them)", cr_id);
  return 0;
}

static int upload_tx(srv_ctx *ctx, void *arg) {
  upload_st *st = arg;
  char prev[64];
  rec_t *rec = NULL;
  /* the person's scope first: a repeated request reads back what it made there */
  if (st->change_request_id) SRV_TRY(own_pending_request(ctx, st->change_request_id, &rec));
  int seen = idem_begin(ctx, st->request_id, prev, sizeof prev);
  if (seen < 0) return -1;
  if (seen == 1) return load_meta(ctx, prev, &st->out);
  if (!rec) SRV_TRY(record_fetch(ctx, st->record_id, RIGHT_UPDATE, 0, &rec));

  attachment_new n = {.record_id = st->record_id, .unit_path = rec->managing_unit_path, .file_name = st->file_name,
                      .content_type = st->type, .sha256 = st->sha, .description = st->description,
                      .change_request_id = st->change_request_id, .content = st->buf, .len = st->len};
  SRV_TRY(attachments_insert(ctx, &n, &st->out));

  audit_entry e = {.action = "ATTACHMENT_UPLOAD", .target_type = "attachment", .target_id = st->out->id,
                   .unit_path = rec->managing_unit_path};
  SRV_TRY(srv_audit(ctx, &e, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "record_id", st->record_id,
                                       "file_name", st->file_name, "content_type", st->type, "size",
                                       (json_int_t)st->len, "sha256", st->sha, "change_request_id",
                                       st->change_request_id ? st->change_request_id : "")));
  return idem_done(ctx, st->request_id, st->out->id) ? -1 : 0;
}

/* The first message's metadata, checked before any content is read. */
static int upload_meta(srv_ctx *ctx, const Hoso__Records__V1__UploadAttachmentRequest *m, upload_st *st) {
  if (srv_check_id(ctx, "record_id", m->record_id)) return -1;
  st->record_id = srv_strdup(ctx, m->record_id);
  if (srv_clean_text(ctx, "file_name", m->file_name, 1, ATT_NAME_MAX, &st->file_name)) return -1;
  if (strpbrk(st->file_name, "/\\") || strcmp(st->file_name, ".") == 0 || strcmp(st->file_name, "..") == 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "file_name: a plain file name without '/' or '\\' (no folders)");
  if (srv_clean_prose(ctx, "description", m->description, 0, REC_TEXT_MAX_CHARS, &st->description)) return -1;
  if (srv_check_request_id(ctx, m->request_id)) return -1;
  st->request_id = srv_strdup(ctx, m->request_id ? m->request_id : "");
  if (!m->change_request_id || !*m->change_request_id)
    return srv_need_right(ctx, RIGHT_UPDATE, 0,
                          "uploading attachments needs the UPDATER role; a person adds papers to their own "
                          "change request (change_request_id)");
  if (srv_check_id(ctx, "change_request_id", m->change_request_id)) return -1;
  st->change_request_id = srv_strdup(ctx, m->change_request_id);
  if (!ctx->auth || !(ctx->auth->roles & ROLE_SELF) || !ctx->auth->record_id[0])
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "change_request_id: the papers of a change request are added by the person who declared it, "
                    "with their own account");
  if (strcmp(st->record_id, ctx->auth->record_id) != 0)
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "record_id: you add papers to your own record (%s) only", ctx->auth->record_id);
  return 0;
}

static int upload_chunk(srv_ctx *ctx, const ProtobufCBinaryData *c, upload_st *st) {
  if (c->len > ATT_CHUNK)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "chunk: at most 1 MiB per message");
  if (c->len > ATT_MAX - st->len)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "content: larger than 20 MiB");
  if (st->len + c->len > st->cap) {
    size_t cap = st->cap ? st->cap * 2 : ATT_CHUNK;
    while (cap < st->len + c->len) cap *= 2;
    if (cap > ATT_MAX) cap = ATT_MAX;
    unsigned char *nb = realloc(st->buf, cap);
    if (!nb) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "content: out of memory; retry");
    st->buf = nb;
    st->cap = cap;
  }
  if (c->len) memcpy(st->buf + st->len, c->data, c->len);
  st->len += c->len;
  return 0;
}

int rpc_upload_attachment(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  (void)req; /* NULL: the requests come from srv_recv */
  upload_st st = {0};
  int rc = -1, n = 0;
  ProtobufCMessage *msg;
  int got; /* who may upload is decided on the first message (upload_meta) */
  while ((got = srv_recv(ctx, &msg)) == 1) {
    const Hoso__Records__V1__UploadAttachmentRequest *m = (const void *)msg;
    if (n++ == 0) {
      if (upload_meta(ctx, m, &st)) goto out;
    } else if ((m->record_id && *m->record_id) || (m->file_name && *m->file_name) ||
               (m->description && *m->description) || (m->request_id && *m->request_id) ||
               (m->change_request_id && *m->change_request_id)) {
      srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
               "record_id, file_name, description, request_id, change_request_id: only in the first message");
      goto out;
    }
    if (upload_chunk(ctx, &m->chunk, &st)) goto out;
  }
  if (got < 0) goto out;
  if (n == 0) {
    srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "record_id: the first message must name the record");
    goto out;
  }
  if (st.len == 0) {
    srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "content: empty; send the scanned document in chunk");
    goto out;
  }
  if (!(st.type = val_scan_type(st.buf, st.len))) {
    srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
             "content: only PDF, JPEG or PNG scans are accepted (detected: %s)", val_scan_describe(st.buf, st.len));
    goto out;
  }
  unsigned char dg[32];
  unsigned dlen = 0;
  if (!EVP_Digest(st.buf, st.len, dg, &dlen, EVP_sha256(), NULL) || dlen != 32) {
    log_error("%s: SHA-256 failed", ctx->method);
    srv_fail_internal(ctx);
    goto out;
  }
  for (int i = 0; i < 32; i++) snprintf(st.sha + 2 * i, 3, "%02x", dg[i]);
  if (srv_tx(ctx, DB_READ_COMMITTED, upload_tx, &st) != 0) goto out;
  Hoso__Records__V1__UploadAttachmentResponse *o =
      srv_new(ctx, &hoso__records__v1__upload_attachment_response__descriptor);
  o->attachment = st.out;
  *resp = &o->base;
  rc = 0;
out:
  free(st.buf);
  return rc;
}

/* ------------------------------------------------------------ DownloadAttachment -------- */

typedef struct {
  const char *id;
  att_meta *meta;
  const unsigned char *content; /* in the call's arena */
  size_t len;
  const char *unit_path; /* the record's */
} download_st;

static int download_tx(srv_ctx *ctx, void *arg) {
  download_st *st = arg;
  int found = attachments_get(ctx, st->id, 0, &st->meta);
  /* Not visible: no such attachment, or another unit's (record_fetch below says which). */
  if (found == 0) found = attachments_get(ctx, st->id, 1, &st->meta);
  if (found < 0) return -1;
  if (found == 0) return srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "attachment_id: attachment %s does not exist", st->id);
  rec_t *rec;
  SRV_TRY(record_fetch(ctx, st->meta->record_id, RIGHT_READ, 0, &rec));
  found = attachments_content(ctx, st->id, self_unscoped(ctx, rec), &st->content, &st->len);
  if (found < 0) return -1;
  if (found == 0) {
    log_error("%s: attachment %s has no content row", ctx->method, st->id);
    return srv_fail_internal(ctx);
  }
  st->unit_path = rec->managing_unit_path;
  return 0;
}

int rpc_download_attachment(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__DownloadAttachmentRequest *in = (const void *)req;
  (void)resp; /* stays NULL: the responses go out through srv_send */
  download_st st = {.id = in->attachment_id};
  int rc = -1;
  if (srv_check_id(ctx, "attachment_id", in->attachment_id)) goto out;
  if (srv_need_right(ctx, RIGHT_READ, 1, "reading attachments needs a role with read access")) goto out;
  if (srv_tx(ctx, DB_READ_COMMITTED | DB_READ_ONLY, download_tx, &st) != 0) goto out;
  /* A scanned decision is part of the dossier: its read is durable before a byte is sent. */
  audit_entry e = {.action = "ATTACHMENT_DOWNLOAD", .target_type = "attachment", .target_id = st.id,
                   .unit_path = st.unit_path};
  if (srv_audit_read(ctx, &e, json_pack("{s:s, s:s}", "record_id", st.meta->record_id, "sha256", st.meta->sha256)))
    goto out;
  /* The metadata first, then the bytes in 1 MiB chunks (each message well under 4 MiB). */
  Hoso__Records__V1__DownloadAttachmentResponse o = HOSO__RECORDS__V1__DOWNLOAD_ATTACHMENT_RESPONSE__INIT;
  o.attachment = st.meta;
  if (srv_send(ctx, &o.base)) goto out;
  o.attachment = NULL;
  for (size_t off = 0; off < st.len; off += ATT_CHUNK) {
    o.chunk.data = (uint8_t *)st.content + off; /* only read: packed by srv_send */
    o.chunk.len = st.len - off < ATT_CHUNK ? st.len - off : ATT_CHUNK;
    if (srv_send(ctx, &o.base)) goto out;
  }
  rc = 0;
out:
  return rc;
}

/* ------------------------------------------------------------ ListAttachments ----------- */

typedef struct {
  const char *record_id;
  Hoso__Records__V1__ListAttachmentsResponse *out;
  const char *unit_path; /* the record's */
} list_st;

static int list_tx(srv_ctx *ctx, void *arg) {
  list_st *st = arg;
  rec_t *rec;
  SRV_TRY(record_fetch(ctx, st->record_id, RIGHT_READ, 0, &rec));
  st->unit_path = rec->managing_unit_path;
  return attachments_of_record(ctx, st->record_id, self_unscoped(ctx, rec), &st->out->attachments,
                               &st->out->n_attachments);
}

/* The list names the person's documents (file names, descriptions): a read of the record, with
 * the attachments it showed. */
static json_t *list_read(const list_st *st) {
  json_t *ids = json_array();
  for (size_t i = 0; ids && i < st->out->n_attachments; i++)
    json_array_append_new(ids, json_string(st->out->attachments[i]->id));
  return json_pack("{s:o}", "attachment_ids", ids);
}

int rpc_list_attachments(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__ListAttachmentsRequest *in = (const void *)req;
  if (srv_check_id(ctx, "record_id", in->record_id)) return -1;
  if (srv_need_right(ctx, RIGHT_READ, 1, "reading attachments needs a role with read access")) return -1;
  list_st st = {in->record_id, srv_new(ctx, &hoso__records__v1__list_attachments_response__descriptor), NULL};
  if (srv_tx(ctx, DB_READ_COMMITTED | DB_READ_ONLY, list_tx, &st) != 0) return -1;
  audit_entry e = {.action = "ATTACHMENT_LIST", .target_type = "record", .target_id = in->record_id,
                   .unit_path = st.unit_path};
  if (srv_audit_read(ctx, &e, list_read(&st)) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
