/* The routes browsers need for the other streamed methods, which the unary faces cannot carry:
 * POST /v1/transfers/{id}/package streams ExportTransferPackage out as the .hspkg file itself
 * (its length known from the first message, its SHA-256 in X-Package-Sha256);
 * POST /v1/transfer-packages?unit_id=&note=&request_id= streams the body into
 * ImportTransferPackage as it arrives (1 MiB messages, the size announced first, the transfers
 * service's HOSO_PACKAGE_MAX_MB enforced before and while reading);
 * POST /v1/reports:run (a RunReportRequest as JSON) and POST /v1/records:exportSearch (an
 * ExportSearchRequest) stream the report's file out as its chunks come, with the size its first
 * chunk announces as Content-Length (in HTTP chunks when it announces none): an error before
 * the file starts is the usual JSON error; one after it leaves the reply short of its length
 * (or without its last chunk) on a closed connection, which a browser reports as a failed
 * download.
 * POST /v1/records:exportSearch?progress=1 answers instead with every ExportSearchResponse as a
 * line of proto3 JSON (application/x-ndjson, grpc-gateway's form for a server stream): the rows
 * counted as the file is made, then the file's chunks (base64); an error after the first line is
 * a last line {"error":{"code","message"}}, so a browser can show the export's progress. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <jansson.h>

#include "cfg.h"
#include "gwsrv.h"
#include "log.h"
#include "pbjson.h"
#include "reporting.pb-c.h"
#include "transfers.pb-c.h"

#define EXPORT_PATH "/hoso.transfers.v1.Transfers/ExportTransferPackage"
#define IMPORT_PATH "/hoso.transfers.v1.Transfers/ImportTransferPackage"
#define REPORT_PATH "/hoso.reporting.v1.Reporting/RunReport"
#define SEARCH_PATH "/hoso.reporting.v1.Reporting/ExportSearch"
#define PKG_PRE "/v1/transfers/"
#define PKG_POST "/package"
#define ID_MAX 128

size_t gw_streams_package_limit(void) {
  static size_t limit;
  if (!limit) limit = (size_t)cfg_int("HOSO_PACKAGE_MAX_MB", 1024, 1, 1L << 20) << 20;
  return limit;
}

/* "/v1/transfers/{id}/package": the id's span, else 0. */
static int match_pkg(const char *path, const char **id, size_t *n) {
  size_t pl = strlen(PKG_PRE), ql = strlen(PKG_POST), len = strlen(path);
  if (len <= pl + ql || strncmp(path, PKG_PRE, pl) != 0 || strcmp(path + len - ql, PKG_POST) != 0) return 0;
  *id = path + pl;
  *n = len - pl - ql;
  return *n > 0 && *n <= ID_MAX && !memchr(*id, '/', *n);
}

static int route(gw_route *rt, int post, int kind, const char *method, const char *label) {
  rt->kind = post ? kind : GW_R_REST_VERB;
  rt->method = gw_find_method(method);
  rt->label = label;
  rt->allow = "POST";
  return rt->method != NULL;
}

int gw_streams_resolve(const char *verb, size_t verb_len, const char *path, gw_route *rt) {
  const char *id;
  size_t n;
  int post = verb_len == 4 && !memcmp(verb, "POST", 4);
  if (match_pkg(path, &id, &n))
    return route(rt, post, GW_R_PACKAGE_OUT, EXPORT_PATH, "/v1/transfers/{transfer_id}/package");
  if (!strcmp(path, "/v1/transfer-packages"))
    return route(rt, post, GW_R_PACKAGE_IN, IMPORT_PATH, "/v1/transfer-packages");
  if (!strcmp(path, "/v1/reports:run")) return route(rt, post, GW_R_REPORT_FILE, REPORT_PATH, "/v1/reports:run");
  if (!strcmp(path, "/v1/records:exportSearch"))
    return route(rt, post, GW_R_REPORT_FILE, SEARCH_PATH, "/v1/records:exportSearch");
  return 0;
}

/* Writes n bytes to the client; 0 / -1. */
static int write_out(gw_req *r, const void *p, size_t n) {
  struct iovec iov = {(void *)p, n};
  if (gw_conn_writev(r->conn, &iov, 1) != 0) return -1;
  r->bytes_out += n;
  return 0;
}

/* ---- a package out -------------------------------------------------------------------------- */

int gw_package_export(gw_req *r) {
  char tid[ID_MAX + 1], rid[128];
  const char *id;
  size_t n;
  if (!match_pkg(r->path, &id, &n) || http_pct_decode(id, n, tid, sizeof tid, 0) <= 0)
    return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT, "transfer_id: malformed in the path");
  if (gw_query_param(r->query, "request_id", rid, sizeof rid) < 0)
    return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT, "request_id: malformed or too long");
  Hoso__Transfers__V1__ExportTransferPackageRequest q = HOSO__TRANSFERS__V1__EXPORT_TRANSFER_PACKAGE_REQUEST__INIT;
  q.transfer_id = tid;
  q.request_id = rid;
  /* exporting changes the record (TRANSFERRED_OUT): CSRF is checked for a browser */
  cli_stream *s = gw_stream_as_client(r, &q.base, 1, gw_cfg.upstream_timeout_ms + gw_cfg.write_timeout_ms);
  if (!s) return -1;
  ProtobufCMessage *msg = NULL;
  if (cli_stream_send(s, &q.base) != 0 || cli_stream_close_send(s) != 0 ||
      cli_stream_recv(s, &hoso__transfers__v1__export_transfer_package_response__descriptor, &msg) != 1)
    return gw_stream_failed(r, s, "transfers", "package export");
  Hoso__Transfers__V1__ExportTransferPackageResponse *d = (void *)msg;
  size_t size = (size_t)d->size;
  int sum_ok = d->sha256 && strlen(d->sha256) == 64 && strspn(d->sha256, "0123456789abcdef") == 64;
  if (d->size < 0 || !sum_ok) {
    protobuf_c_message_free_unpacked(msg, NULL);
    cli_stream_cancel(s);
    cli_stream_finish(s, NULL);
    return gw_reply_rest_error(r, 502, GRPC_STATUS_INTERNAL, "package export: the first message carried no size or sum");
  }
  gw_disposition(r, d->file_name && *d->file_name ? d->file_name : "goi-ho-so.hspkg", 0);
  gw_hdr(r, "X-Package-Sha256: %s", d->sha256);
  gw_hdr(r, "Cache-Control: private, no-store");
  int rc = gw_reply_head(r, 200, "application/octet-stream", size, 0);
  size_t sent = 0;
  for (;;) {
    if (rc == 0 && d->chunk.len) {
      if (sent + d->chunk.len > size) {
        log_error("package export %s: more bytes than its size %zu", tid, size);
        rc = -1;
      } else {
        rc = write_out(r, d->chunk.data, d->chunk.len);
        sent += d->chunk.len;
      }
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    msg = NULL;
    if (rc != 0) break;
    if (cli_stream_recv(s, &hoso__transfers__v1__export_transfer_package_response__descriptor, &msg) != 1) break;
    d = (void *)msg;
  }
  if (rc != 0) cli_stream_cancel(s);
  cli_status st;
  memset(&st, 0, sizeof st);
  grpc_status_code code = cli_stream_finish(s, &st);
  r->upstream_code = code;
  if (rc != 0 || code != GRPC_STATUS_OK || sent != size) {
    /* the head has gone out: a short body and a closed connection are all that can be said */
    if (code != GRPC_STATUS_OK) log_warn("package export %s: %s: %s", tid, cli_status_name(code), st.message);
    r->close = 2;
    return -1;
  }
  return 0;
}

/* ---- a package in --------------------------------------------------------------------------- */

int gw_package_import(gw_req *r) {
  r->close = r->close ? r->close : 1; /* what the handler leaves unread is drained by lingering */
  char unit[ID_MAX + 1], note[4096], rid[128];
  if (gw_query_param(r->query, "unit_id", unit, sizeof unit) != 1 || !unit[0])
    return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT,
                               "unit_id: must be given as a query parameter (the unit that takes the person in)");
  if (gw_query_param(r->query, "note", note, sizeof note) < 0 || gw_query_param(r->query, "request_id", rid, sizeof rid) < 0)
    return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT, "note, request_id: malformed or too long");
  long long size = r->h ? r->h->content_length : -1;
  if (size <= 0) return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT, "package: the body is empty");
  Hoso__Transfers__V1__ImportTransferPackageRequest first = HOSO__TRANSFERS__V1__IMPORT_TRANSFER_PACKAGE_REQUEST__INIT;
  /* the body arrives at the client's pace, then every part is checked */
  cli_stream *s = gw_stream_as_client(r, &first.base, 1, gw_cfg.body_timeout_ms + gw_cfg.upstream_timeout_ms);
  if (!s) return -1;
  first.unit_id = unit;
  first.note = note;
  first.request_id = rid;
  first.size = size;
  Hoso__Transfers__V1__ImportTransferPackageRequest rest = HOSO__TRANSFERS__V1__IMPORT_TRANSFER_PACKAGE_REQUEST__INIT;
  gw_body_pump pump = {&first.base, &rest.base, &first.chunk, &rest.chunk, 0, "package import"};
  int rc = gw_body_to_stream(r, s, &pump);
  if (rc == GW_BODY_NOMEM) return gw_reply_rest_error(r, 503, GRPC_STATUS_UNAVAILABLE, "out of memory: retry later");
  if (rc != 0) return -1;
  ProtobufCMessage *resp = NULL;
  if (cli_stream_recv(s, &hoso__transfers__v1__import_transfer_package_response__descriptor, &resp) != 1)
    return gw_stream_failed(r, s, "transfers", "package import");
  cli_status st;
  memset(&st, 0, sizeof st);
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

/* ---- a report's file out -------------------------------------------------------------------- */

static const char *report_type(const char *t) {
  static const char *ok[] = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf",
                             "text/csv; charset=utf-8", "text/csv"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (t && !strcmp(t, ok[i])) return ok[i];
  return "application/octet-stream";
}

/* One HTTP chunk (or, to an HTTP/1.0 client, the bytes as they are: the end of the connection
 * ends the body). 0 / -1. */
static int write_chunk(gw_req *r, int chunked, const void *p, size_t n) {
  if (!chunked) return n ? write_out(r, p, n) : 0;
  if (!n) return write_out(r, "0\r\n\r\n", 5); /* the last chunk */
  char hd[24];
  int hl = snprintf(hd, sizeof hd, "%zx\r\n", n);
  struct iovec iov[3] = {{hd, (size_t)hl}, {(void *)p, n}, {"\r\n", 2}};
  if (gw_conn_writev(r->conn, iov, 3) != 0) return -1;
  r->bytes_out += (size_t)hl + n + 2;
  return 0;
}

/* One message as a line of JSON, in one HTTP chunk. 0 / -1. */
static int write_line(gw_req *r, int chunked, char *json) {
  if (!json) return -1;
  size_t n = strlen(json);
  char *line = malloc(n + 2);
  int rc = -1;
  if (line) {
    memcpy(line, json, n);
    line[n] = '\n';
    rc = write_chunk(r, chunked, line, n + 1);
  }
  free(line);
  free(json);
  return rc;
}

/* The ?progress=1 form of a search export: msg (the first message, owned) and every later one
 * as lines; the upstream's final status, when not OK, as the last line. */
static int search_lines(gw_req *r, cli_stream *s, ProtobufCMessage *msg) {
  int chunked = r->h && r->h->minor >= 1;
  if (!chunked) r->close = 1;
  gw_hdr(r, "Cache-Control: private, no-store");
  if (chunked) gw_hdr(r, "Transfer-Encoding: chunked");
  int rc = gw_reply_head(r, 200, "application/x-ndjson", GW_NO_LENGTH, 0);
  while (rc == 0 && msg) {
    rc = write_line(r, chunked, pbjson_encode(msg, 0));
    protobuf_c_message_free_unpacked(msg, NULL);
    msg = NULL;
    if (rc == 0 && cli_stream_recv(s, &hoso__reporting__v1__export_search_response__descriptor, &msg) != 1) msg = NULL;
  }
  if (msg) protobuf_c_message_free_unpacked(msg, NULL);
  if (rc != 0) cli_stream_cancel(s);
  cli_status st;
  memset(&st, 0, sizeof st);
  grpc_status_code code = cli_stream_finish(s, &st);
  r->upstream_code = code;
  if (rc == 0 && code != GRPC_STATUS_OK) {
    log_warn("%s: %s: %s", r->rt->method->path, cli_status_name(code), st.message);
    json_t *e = json_pack("{s:{s:i, s:s}}", "error", "code", (int)code, "message", st.message[0] ? st.message : cli_status_name(code));
    rc = write_line(r, chunked, e ? json_dumps(e, JSON_COMPACT) : NULL);
    json_decref(e);
  }
  if (rc == 0) rc = write_chunk(r, chunked, NULL, 0);
  if (rc != 0) {
    r->close = 2;
    return -1;
  }
  return 0;
}

int gw_report_file(gw_req *r) {
  const gw_method *m = r->rt->method;
  int search = !strcmp(m->path, SEARCH_PATH);
  const ProtobufCMessageDescriptor *out =
      search ? &hoso__reporting__v1__export_search_response__descriptor : &hoso__reporting__v1__file_chunk__descriptor;
  char err[512];
  ProtobufCMessage *q = pbjson_decode(m->input, r->body_len ? r->body : "{}", r->body_len ? r->body_len : 2, 0, NULL, err, sizeof err);
  if (!q) return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT, err);
  cli_stream *s = gw_stream_as_client(r, q, 1, gw_cfg.upstream_timeout_ms + gw_cfg.write_timeout_ms);
  if (!s) {
    protobuf_c_message_free_unpacked(q, NULL);
    return -1;
  }
  int bad = cli_stream_send(s, q) != 0 || cli_stream_close_send(s) != 0;
  protobuf_c_message_free_unpacked(q, NULL);
  ProtobufCMessage *msg = NULL;
  Hoso__Reporting__V1__FileChunk *f = NULL;
  char pv[8];
  if (search && !bad && gw_query_param(r->query, "progress", pv, sizeof pv) == 1 && strcmp(pv, "0") != 0) {
    /* the first message answers whether the export started: a refusal is the usual error */
    if (cli_stream_recv(s, out, &msg) != 1) return gw_stream_failed(r, s, "reporting", "search export");
    return search_lines(r, s, msg);
  }
  /* the progress of a search export goes by before the file: its first chunk starts the reply */
  while (!bad) {
    if (cli_stream_recv(s, out, &msg) != 1) {
      bad = 1;
      break;
    }
    f = search ? ((Hoso__Reporting__V1__ExportSearchResponse *)msg)->file : (void *)msg;
    if (f) break;
    protobuf_c_message_free_unpacked(msg, NULL);
    msg = NULL;
  }
  if (bad) return gw_stream_failed(r, s, "reporting", search ? "search export" : "report");
  /* a size in the first chunk is the Content-Length (a download's percentage); else chunks */
  size_t size = f->size > 0 ? (size_t)f->size : GW_NO_LENGTH, sent = 0;
  int chunked = size == GW_NO_LENGTH && r->h && r->h->minor >= 1;
  if (!chunked && size == GW_NO_LENGTH) r->close = 1;
  gw_disposition(r, f->file_name && *f->file_name ? f->file_name : "bao-cao", 0);
  gw_hdr(r, "Cache-Control: private, no-store");
  if (chunked) gw_hdr(r, "Transfer-Encoding: chunked");
  int rc = gw_reply_head(r, 200, report_type(f->content_type), size, 0);
  for (;;) {
    if (rc == 0 && f && f->chunk.len) {
      if (size != GW_NO_LENGTH && sent + f->chunk.len > size) {
        log_error("%s: more bytes than the size %zu announced", m->path, size);
        rc = -1;
      } else {
        rc = write_chunk(r, chunked, f->chunk.data, f->chunk.len);
        sent += f->chunk.len;
      }
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    msg = NULL;
    if (rc != 0) break;
    if (cli_stream_recv(s, out, &msg) != 1) break;
    f = search ? ((Hoso__Reporting__V1__ExportSearchResponse *)msg)->file : (void *)msg;
  }
  if (rc != 0) cli_stream_cancel(s);
  cli_status st;
  memset(&st, 0, sizeof st);
  grpc_status_code code = cli_stream_finish(s, &st);
  r->upstream_code = code;
  if (rc != 0 || code != GRPC_STATUS_OK || (size != GW_NO_LENGTH && sent != size)) {
    /* no last chunk, or fewer bytes than announced: the browser knows the file is not whole */
    if (code != GRPC_STATUS_OK) log_warn("%s: %s: %s", m->path, cli_status_name(code), st.message);
    r->close = 2;
    return -1;
  }
  if (size == GW_NO_LENGTH && write_chunk(r, chunked, NULL, 0) != 0) {
    r->close = 2;
    return -1;
  }
  return 0;
}
