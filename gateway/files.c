/* The routes browsers need for scanned documents, which gRPC streams and the unary faces
 * cannot carry: POST /v1/records/{id}/attachments streams the request body into records'
 * UploadAttachment as it arrives (1 MiB messages, the 20 MiB limit enforced while reading;
 * ?change_request_id= for a person's papers of their own change request),
 * GET /v1/attachments/{id}/content streams DownloadAttachment out with its type, length and a
 * safe file name (inline for the page's own preview, else as a download), and
 * GET /v1/transfers/{id}/documents/{id}/content gives a transfer's scan (GetTransferDocument)
 * as the file itself, the same way, where the JSON face would give it as base64. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "gwsrv.h"
#include "log.h"
#include "pbjson.h"
#include "records.pb-c.h"
#include "transfers.pb-c.h"

#define UPLOAD_PATH "/hoso.records.v1.Records/UploadAttachment"
#define DOWNLOAD_PATH "/hoso.records.v1.Records/DownloadAttachment"
#define DOCUMENT_PATH "/hoso.transfers.v1.Transfers/GetTransferDocument"
#define DOC_PRE "/v1/transfers/"
#define DOC_MID "/documents/"
#define CHUNK (1u << 20)       /* the records service's largest message chunk */
#define UPLOAD_MAX (20u << 20) /* and its limit per attachment */
#define ID_MAX 128

size_t gw_files_upload_limit(void) { return UPLOAD_MAX; }

/* "/v1/records/{id}/attachments" or "/v1/attachments/{id}/content": the id's span, else 0. */
static int match_id(const char *path, const char *pre, const char *post, const char **id, size_t *n) {
  size_t pl = strlen(pre), ql = strlen(post), len = strlen(path);
  if (len <= pl + ql || strncmp(path, pre, pl) != 0 || strcmp(path + len - ql, post) != 0) return 0;
  *id = path + pl;
  *n = len - pl - ql;
  return *n > 0 && *n <= ID_MAX && !memchr(*id, '/', *n);
}

/* "/v1/transfers/{tid}/documents/{did}/content": the two ids' spans, else 0. */
static int match_doc(const char *path, const char **tid, size_t *tn, const char **did, size_t *dn) {
  static const char post[] = "/content";
  size_t pl = strlen(DOC_PRE), ml = strlen(DOC_MID), ql = strlen(post), len = strlen(path);
  if (len <= pl + ml + ql || strncmp(path, DOC_PRE, pl) != 0 || strcmp(path + len - ql, post) != 0) return 0;
  const char *end = path + len - ql, *mid = strstr(path + pl, DOC_MID);
  if (!mid || mid + ml > end) return 0;
  *tid = path + pl;
  *tn = (size_t)(mid - *tid);
  *did = mid + ml;
  *dn = (size_t)(end - *did);
  return *tn > 0 && *tn <= ID_MAX && !memchr(*tid, '/', *tn) && *dn > 0 && *dn <= ID_MAX && !memchr(*did, '/', *dn);
}

int gw_files_resolve(const char *verb, size_t verb_len, const char *path, gw_route *rt) {
  const char *id, *id2;
  size_t n, n2;
  int post = verb_len == 4 && !memcmp(verb, "POST", 4);
  int get = (verb_len == 3 && !memcmp(verb, "GET", 3)) || (verb_len == 4 && !memcmp(verb, "HEAD", 4));
  if (match_id(path, "/v1/records/", "/attachments", &id, &n)) {
    rt->kind = post ? GW_R_UPLOAD : GW_R_REST_VERB;
    rt->method = gw_find_method(UPLOAD_PATH);
    rt->label = "/v1/records/{record_id}/attachments";
    rt->allow = "POST";
    return rt->method != NULL;
  }
  if (match_id(path, "/v1/attachments/", "/content", &id, &n)) {
    rt->kind = get ? GW_R_DOWNLOAD : GW_R_REST_VERB;
    rt->method = gw_find_method(DOWNLOAD_PATH);
    rt->label = "/v1/attachments/{attachment_id}/content";
    rt->allow = "GET, HEAD";
    return rt->method != NULL;
  }
  if (match_doc(path, &id, &n, &id2, &n2)) {
    rt->kind = get ? GW_R_DOCUMENT : GW_R_REST_VERB;
    rt->method = gw_find_method(DOCUMENT_PATH);
    rt->label = "/v1/transfers/{transfer_id}/documents/{document_id}/content";
    rt->allow = "GET, HEAD";
    return rt->method != NULL;
  }
  return 0;
}

/* The path's id, percent-decoded, into out. 0 / -1. */
static int path_id(const gw_req *r, const char *pre, const char *post, char *out, size_t cap) {
  const char *id;
  size_t n;
  if (!match_id(r->path, pre, post, &id, &n)) return -1;
  return http_pct_decode(id, n, out, cap, 0) > 0 ? 0 : -1;
}

/* A query parameter, percent-decoded ('+' as a space). 1 found, 0 absent, -1 malformed. */
int gw_query_param(const char *q, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  for (const char *s = q; s && *s;) {
    size_t k = strcspn(s, "&");
    if (k > nl && !strncmp(s, name, nl) && s[nl] == '=')
      return http_pct_decode(s + nl + 1, k - nl - 1, out, cap, 1) >= 0 ? 1 : -1;
    if (k == nl && !strncmp(s, name, nl)) {
      out[0] = 0;
      return 1;
    }
    s += k + (s[k] == '&');
  }
  out[0] = 0;
  return 0;
}

int gw_stream_failed(gw_req *r, cli_stream *s, const char *backend, const char *what) {
  cli_status st;
  memset(&st, 0, sizeof st);
  grpc_status_code code = cli_stream_finish(s, &st);
  r->upstream_code = code;
  if (code == GRPC_STATUS_OK) {
    code = GRPC_STATUS_INTERNAL;
    snprintf(st.message, sizeof st.message, "%s: the %s service ended the call without a reply", what, backend);
  }
  gw_metrics_upstream_error(backend, code);
  return gw_reply_rest_error(r, 0, code, st.message);
}

/* Credentials and CSRF (gw_auth_before), then the stream to records; on a refusal the reply
 * has been written and NULL is returned. */
cli_stream *gw_stream_as_client(gw_req *r, ProtobufCMessage *req, int state_changing, int timeout_ms) {
  char why[512];
  int refused = gw_auth_before(r, r->rt->method, req, state_changing, why, sizeof why);
  if (refused) {
    gw_reply_rest_error(r, refused, refused == 403 ? GRPC_STATUS_PERMISSION_DENIED : GRPC_STATUS_INVALID_ARGUMENT, why);
    return NULL;
  }
  cli_status st;
  memset(&st, 0, sizeof st);
  cli_stream *s = gw_stream_open(r, r->rt->method, timeout_ms, &st);
  if (!s) gw_reply_rest_error(r, 0, st.code, st.message);
  return s;
}

/* The request body into client stream s, a message per CHUNK bytes (see gwsrv.h). */
int gw_body_to_stream(gw_req *r, cli_stream *s, const gw_body_pump *p) {
  unsigned char *buf = malloc(CHUNK);
  if (!buf) {
    cli_stream_cancel(s);
    cli_stream_finish(s, NULL);
    return GW_BODY_NOMEM;
  }
  size_t total = 0;
  int msgs = 0, sent_ok = 1;
  for (;;) {
    size_t have = 0;
    long k = 0;
    while (have < CHUNK && (k = gw_conn_body_read(r->conn, buf + have, CHUNK - have)) > 0) have += (size_t)k;
    if (k < 0) { /* the client left or stalled: the service keeps nothing of a cut stream */
      cli_stream_cancel(s);
      cli_stream_finish(s, NULL);
      free(buf);
      r->close = 2;
      log_warn("%s abandoned by the client after %zu bytes", p->what, total);
      return GW_BODY_CUT;
    }
    total += have;
    if (p->max && total > p->max) { /* Content-Length was checked; this is the belt to those braces */
      cli_stream_cancel(s);
      cli_stream_finish(s, NULL);
      free(buf);
      return GW_BODY_TOO_LARGE;
    }
    if (have == 0 && msgs > 0) break;
    ProtobufCBinaryData *chunk = msgs == 0 ? p->first_chunk : p->rest_chunk;
    chunk->data = buf;
    chunk->len = have;
    if (cli_stream_send(s, msgs == 0 ? p->first : p->rest) != 0) {
      sent_ok = 0; /* the service ended the call early: its status says why */
      break;
    }
    msgs++;
    if (have < CHUNK) break;
  }
  free(buf);
  p->first_chunk->data = p->rest_chunk->data = NULL;
  if (sent_ok) cli_stream_close_send(s);
  return 0;
}

int gw_upload(gw_req *r) {
  r->close = r->close ? r->close : 1; /* what the handler leaves unread is drained by lingering */
  char record_id[ID_MAX + 1], name[1024], desc[4096], rid[128], crid[ID_MAX + 1];
  if (path_id(r, "/v1/records/", "/attachments", record_id, sizeof record_id) != 0)
    return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT, "record_id: malformed in the path");
  if (gw_query_param(r->query, "file_name", name, sizeof name) != 1 || !name[0])
    return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT,
                               "file_name: must be given as a query parameter (the file's own name)");
  if (gw_query_param(r->query, "description", desc, sizeof desc) < 0 ||
      gw_query_param(r->query, "request_id", rid, sizeof rid) < 0 ||
      gw_query_param(r->query, "change_request_id", crid, sizeof crid) < 0)
    return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT,
                               "description, request_id, change_request_id: malformed or too long");
  Hoso__Records__V1__UploadAttachmentRequest first = HOSO__RECORDS__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
  /* the body arrives at the client's pace: the deadline covers a slow upload of 20 MiB */
  cli_stream *s = gw_stream_as_client(r, &first.base, 1, gw_cfg.body_timeout_ms + gw_cfg.upstream_timeout_ms);
  if (!s) return -1;
  cli_status st;
  memset(&st, 0, sizeof st);
  first.record_id = record_id;
  first.file_name = name;
  first.description = desc;
  first.request_id = rid;
  first.change_request_id = crid; /* a person's papers for their own change request */
  Hoso__Records__V1__UploadAttachmentRequest rest = HOSO__RECORDS__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
  char what[ID_MAX + 16];
  snprintf(what, sizeof what, "upload of %s", record_id);
  gw_body_pump pump = {&first.base, &rest.base, &first.chunk, &rest.chunk, UPLOAD_MAX, what};
  int rc = gw_body_to_stream(r, s, &pump);
  if (rc == GW_BODY_NOMEM) return gw_reply_rest_error(r, 503, GRPC_STATUS_UNAVAILABLE, "out of memory: retry later");
  if (rc == GW_BODY_CUT) return -1;
  if (rc == GW_BODY_TOO_LARGE)
    return gw_reply_rest_error(r, 413, GRPC_STATUS_RESOURCE_EXHAUSTED, "content: at most 20 MiB per attachment");
  ProtobufCMessage *resp = NULL;
  if (cli_stream_recv(s, &hoso__records__v1__upload_attachment_response__descriptor, &resp) != 1)
    return gw_stream_failed(r, s, "records", "upload");
  grpc_status_code code = cli_stream_finish(s, &st);
  r->upstream_code = code;
  if (code != GRPC_STATUS_OK) {
    protobuf_c_message_free_unpacked(resp, NULL);
    return gw_reply_rest_error(r, 0, code, st.message);
  }
  char *json = pbjson_encode(resp, 0);
  protobuf_c_message_free_unpacked(resp, NULL);
  if (!json) return gw_reply_rest_error(r, 500, GRPC_STATUS_INTERNAL, "reply could not be encoded");
  rc = gw_reply(r, 200, "application/json", json, strlen(json), GW_NO_STORE);
  free(json);
  return rc;
}

const char *gw_safe_type(const char *t) {
  static const char *ok[] = {"application/pdf", "image/jpeg", "image/png"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (t && !strcmp(t, ok[i])) return ok[i];
  return "application/octet-stream";
}

/* Content-Disposition with a plain ASCII name for old clients (anything else → '_') and the
 * exact UTF-8 name in RFC 5987 form. */
void gw_disposition(gw_req *r, const char *name, int inl) {
  char ascii[256], ext[1024];
  size_t a = 0, e = 0;
  for (const unsigned char *p = (const unsigned char *)(name && *name ? name : "tai-lieu"); *p && a + 1 < sizeof ascii; p++) {
    unsigned char c = *p;
    if (c >= 0x80 && (c & 0xC0) == 0x80) continue; /* one '_' per non-ASCII letter */
    ascii[a++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '/' && c != ';') ? (char)c : '_';
  }
  ascii[a] = 0;
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p && e + 4 < sizeof ext; p++) {
    unsigned char c = *p;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~", c)) {
      ext[e++] = (char)c;
    } else {
      ext[e++] = '%';
      ext[e++] = hex[c >> 4];
      ext[e++] = hex[c & 15];
    }
  }
  ext[e] = 0;
  gw_hdr(r, "Content-Disposition: %s; filename=\"%s\"%s%s", inl ? "inline" : "attachment", ascii,
         e ? "; filename*=UTF-8''" : "", ext);
}

int gw_download(gw_req *r) {
  unsigned head = !strcmp(r->verb, "HEAD") ? GW_HEAD : 0;
  char id[ID_MAX + 1], inl[8];
  if (path_id(r, "/v1/attachments/", "/content", id, sizeof id) != 0)
    return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT, "attachment_id: malformed in the path");
  int inline_view = gw_query_param(r->query, "inline", inl, sizeof inl) == 1 && strcmp(inl, "0") != 0;
  Hoso__Records__V1__DownloadAttachmentRequest q = HOSO__RECORDS__V1__DOWNLOAD_ATTACHMENT_REQUEST__INIT;
  q.attachment_id = id;
  cli_stream *s = gw_stream_as_client(r, &q.base, 0, gw_cfg.upstream_timeout_ms + gw_cfg.write_timeout_ms);
  if (!s) return -1;
  cli_status st;
  memset(&st, 0, sizeof st);
  ProtobufCMessage *msg = NULL;
  if (cli_stream_send(s, &q.base) != 0 || cli_stream_close_send(s) != 0 ||
      cli_stream_recv(s, &hoso__records__v1__download_attachment_response__descriptor, &msg) != 1)
    return gw_stream_failed(r, s, "records", "download");
  Hoso__Records__V1__DownloadAttachmentResponse *d = (void *)msg;
  if (!d->attachment) {
    protobuf_c_message_free_unpacked(msg, NULL);
    cli_stream_cancel(s);
    cli_stream_finish(s, NULL);
    return gw_reply_rest_error(r, 502, GRPC_STATUS_INTERNAL, "download: the first message carried no metadata");
  }
  size_t size = (size_t)d->attachment->size;
  const char *type = gw_safe_type(d->attachment->content_type);
  gw_disposition(r, d->attachment->file_name, inline_view);
  gw_hdr(r, "Cache-Control: private, no-store");
  /* a preview in the application's own page may frame it; nothing else may */
  int rc = gw_reply_head(r, 200, type, size, (inline_view ? GW_FRAME_SELF : 0) | head);
  size_t sent = 0;
  struct iovec iov;
  /* the first message may carry content too */
  for (;;) {
    if (rc == 0 && !head && d->chunk.len) {
      if (sent + d->chunk.len > size) {
        log_error("download %s: more content than its size %zu", id, size);
        rc = -1;
      } else {
        iov.iov_base = d->chunk.data;
        iov.iov_len = d->chunk.len;
        rc = gw_conn_writev(r->conn, &iov, 1);
        sent += d->chunk.len;
        r->bytes_out += d->chunk.len;
      }
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    msg = NULL;
    if (rc != 0 || head) break;
    int k = cli_stream_recv(s, &hoso__records__v1__download_attachment_response__descriptor, &msg);
    if (k != 1) break;
    d = (void *)msg;
  }
  if (rc != 0 || head) cli_stream_cancel(s);
  grpc_status_code code = cli_stream_finish(s, &st);
  r->upstream_code = head ? GRPC_STATUS_OK : code;
  if (!head && (rc != 0 || code != GRPC_STATUS_OK || sent != size)) {
    /* the head has gone out: a short body and a closed connection are all that can be said */
    if (code != GRPC_STATUS_OK) log_warn("download %s: %s: %s", id, cli_status_name(code), st.message);
    r->close = 2;
    return -1;
  }
  return 0;
}

int gw_document(gw_req *r) {
  unsigned head = !strcmp(r->verb, "HEAD") ? GW_HEAD : 0;
  char tid[ID_MAX + 1], did[ID_MAX + 1], inl[8];
  const char *t, *d;
  size_t tn, dn;
  if (!match_doc(r->path, &t, &tn, &d, &dn) || http_pct_decode(t, tn, tid, sizeof tid, 0) <= 0 ||
      http_pct_decode(d, dn, did, sizeof did, 0) <= 0)
    return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT, "transfer_id, document_id: malformed in the path");
  int inline_view = gw_query_param(r->query, "inline", inl, sizeof inl) == 1 && strcmp(inl, "0") != 0;
  Hoso__Transfers__V1__GetTransferDocumentRequest q = HOSO__TRANSFERS__V1__GET_TRANSFER_DOCUMENT_REQUEST__INIT;
  q.transfer_id = tid;
  q.document_id = did;
  ProtobufCMessage *resp = NULL;
  cli_status st;
  memset(&st, 0, sizeof st);
  int http = 0;
  grpc_status_code code = gw_call_as_client(r, r->rt->method, &q.base, 0, &resp, &st, &http);
  r->upstream_code = code;
  if (code != GRPC_STATUS_OK) {
    protobuf_c_message_free_unpacked(resp, NULL);
    return gw_reply_rest_error(r, http, code, st.message);
  }
  Hoso__Transfers__V1__GetTransferDocumentResponse *doc = (void *)resp;
  if (!doc->document) {
    protobuf_c_message_free_unpacked(resp, NULL);
    return gw_reply_rest_error(r, 502, GRPC_STATUS_INTERNAL, "document: the reply carried no metadata");
  }
  gw_disposition(r, doc->document->file_name, inline_view);
  gw_hdr(r, "Cache-Control: private, no-store");
  int rc = gw_reply(r, 200, gw_safe_type(doc->document->content_type), doc->content.data, doc->content.len,
                    (inline_view ? GW_FRAME_SELF : 0) | head);
  protobuf_c_message_free_unpacked(resp, NULL);
  return rc;
}
