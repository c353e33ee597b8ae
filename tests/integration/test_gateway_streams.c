/* The gateway's routes for the other streamed methods over real HTTP, gateway, records,
 * transfers, reporting and PostgreSQL: a transfer package out (the bytes, length and sum the
 * gRPC stream gives) and back in as a draft of another unit, with the refusals (no credentials,
 * no unit, a changed byte, too large before the body is read, the wrong verb); a report and a
 * search export streamed out with the Content-Length their first chunk announces, byte for
 * byte what RunReport and ExportSearch give over gRPC (the progress lines chunked, the size in
 * the first file line), and an unknown template refused as JSON before any file. */
#include <arpa/inet.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "pbjson.h"
#include "reporting.pb-c.h"
#include "th_files.h"
#include "th_http.h"
#include "th_transfers.h"
#include "th_world.h"

#define WAIT_MS 60000
#define REP "/hoso.reporting.v1.Reporting/"

static th_world w;
static th_svc gw, rep;
static th_tr tr;
static cli_chan *rep_ch;
static int port;
static char tmpdir[64], key_env[128];

/* The deployment's package key for the test: a fresh P-256 key in a private file. */
static int make_key(void) {
  char path[100];
  snprintf(path, sizeof path, "%s/package-key.pem", tmpdir);
  EVP_PKEY *k = EVP_EC_gen("P-256");
  FILE *f = fopen(path, "w");
  int ok = k && f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
  if (f) fclose(f);
  EVP_PKEY_free(k);
  snprintf(key_env, sizeof key_env, "HOSO_PACKAGE_KEY=%s", path);
  return ok ? 0 : -1;
}



/* One request: head lines (each ending in CRLF) after the request line, then body. */
static void request(const char *line, const char *auth, const char *extra, const void *body, size_t len, th_http_resp *r) {
  char head[10000];
  snprintf(head, sizeof head, "%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %zu\r\n%s%s\r\n", line, len,
           auth ? auth : "", extra ? extra : "");
  int fd = th_http_dial(port);
  th_http_send_all(fd, head, strlen(head));
  if (len) th_http_send_all(fd, body, len);
  th_http_read_reply(fd, r);
}

static void bearer(char *out, size_t n, const char *tok) { snprintf(out, n, "Authorization: Bearer %s\r\n", tok); }

/* The body of a chunked reply put back together; the last chunk must be there. */
static void dechunk(th_http_resp *r) {
  char v[64];
  assert_non_null(th_http_header(r, "Transfer-Encoding", v, sizeof v));
  assert_string_equal(v, "chunked");
  assert_null(th_http_header(r, "Content-Length", v, sizeof v));
  char *out = malloc(r->body_len + 1);
  size_t o = 0, i = 0;
  int last = 0;
  while (i < r->body_len) {
    char *end;
    unsigned long n = strtoul(r->body + i, &end, 16);
    assert_true(end > r->body + i && end[0] == '\r' && end[1] == '\n');
    i = (size_t)(end - r->body) + 2;
    if (n == 0) {
      assert_int_equal(r->body_len - i, 2); /* the empty trailer */
      last = 1;
      break;
    }
    assert_true(i + n + 2 <= r->body_len);
    memcpy(out + o, r->body + i, n);
    o += n;
    i += n;
    assert_memory_equal(r->body + i, "\r\n", 2);
    i += 2;
  }
  assert_true(last);
  free(r->body);
  r->body = out;
  r->body_len = o;
}

/* A file reply of known length: Content-Length is the body's, no chunks (the reporting service
 * announces the file's size in its first chunk, so a browser shows a percentage). */
static void sized(th_http_resp *r) {
  char v[64];
  assert_null(th_http_header(r, "Transfer-Encoding", v, sizeof v));
  assert_non_null(th_http_header(r, "Content-Length", v, sizeof v));
  assert_int_equal(strtoull(v, NULL, 10), r->body_len);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hoso-gw-streams-XXXXXX");
  if (!mkdtemp(tmpdir) || make_key() != 0) return -1;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  const char *tr_env[] = {key_env, NULL};
  if (th_tr_start(&tr, &w, tr_env) != 0) return -1;
  if (th_world_reporting_start(&w, &rep, NULL) != 0) return -1;
  rep_ch = cli_open_tls(rep.addr, NULL, NULL, NULL);
  if (!rep_ch) return -1;
  char idn[96], rec[96], trs[96], rps[96];
  snprintf(idn, sizeof idn, "HOSO_IDENTITY_ADDR=%s", w.identity.addr);
  snprintf(rec, sizeof rec, "HOSO_RECORDS_ADDR=%s", w.records.addr);
  snprintf(trs, sizeof trs, "HOSO_TRANSFERS_ADDR=%s", tr.svc.addr);
  snprintf(rps, sizeof rps, "HOSO_REPORTING_ADDR=%s", rep.addr);
  /* a package limit of 1 MiB: the refusal before the body is read is testable */
  const char *env[] = {idn, rec, trs, rps, "HOSO_GATEWAY_READY_BACKENDS=identity,records,transfers,reporting",
                       "HOSO_GATEWAY_STATIC_DIR=", "HOSO_PACKAGE_MAX_MB=1", NULL};
  if (th_http_start(&gw, "hoso-gateway", "HOSO_GATEWAY_ADDR", &w.pg, env) != 0) return -1;
  port = atoi(strrchr(gw.addr, ':') + 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  int rc = 0;
  if (gw.pid > 0 && th_svc_stop(&gw) != 0) rc = -1;
  if (th_log_errors(gw.log) != 0) rc = -1;
  if (rep_ch) cli_close(rep_ch);
  if (rep.pid > 0 && th_svc_stop(&rep) != 0) rc = -1;
  if (th_tr_stop(&tr) != 0) rc = -1;
  if (th_world_stop(&w) != 0) rc = -1;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) rc = -1;
  return rc;
}

static void test_package_out_and_in(void **state) {
  (void)state;
  char rec[32], today[11], auth[8300], line[512], v[512];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Trương Thị Ra Đi", rec), 0);
  th_tr_day(0, today);
  cli_status st;
  th_transfer *t = th_tr_begin(&tr, w.tok_d1_updater, rec, HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_OUT_OF_SYSTEM,
                               NULL, NULL, today, &st);
  if (!t) fail_msg("StartTransfer: %s", st.message);
  char tid[32];
  snprintf(tid, sizeof tid, "%s", t->id);
  th_tr_free(t);
  th_tr_free(th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", tid, &st));
  assert_int_equal(th_tr_wait_delivered(&tr, tid, WAIT_MS), 0);

  th_http_resp r;
  snprintf(line, sizeof line, "POST /v1/transfers/%s/package?request_id=pkg-1", tid);
  request(line, NULL, NULL, NULL, 0, &r); /* no credentials */
  assert_int_equal(r.status, 401);
  th_http_resp_free(&r);
  snprintf(line, sizeof line, "GET /v1/transfers/%s/package", tid);
  bearer(auth, sizeof auth, w.tok_d1_updater);
  request(line, auth, NULL, NULL, 0, &r);
  assert_int_equal(r.status, 405);
  th_http_resp_free(&r);

  snprintf(line, sizeof line, "POST /v1/transfers/%s/package?request_id=pkg-1", tid);
  request(line, auth, NULL, NULL, 0, &r);
  if (r.status != 200) {
    print_error("package export: %d %s\n", r.status, r.body);
    th_http_resp_free(&r);
    fail();
  }
  assert_string_equal(th_http_header(&r, "Content-Type", v, sizeof v), "application/octet-stream");
  assert_true(!strncmp(th_http_header(&r, "Content-Disposition", v, sizeof v), "attachment; filename=\"hoso-", 27));
  assert_non_null(strstr(v, ".hspkg\""));
  assert_int_equal(atol(th_http_header(&r, "Content-Length", v, sizeof v)), (long)r.body_len);
  unsigned char md[32];
  unsigned mdn = 0;
  char hex[65];
  EVP_Digest(r.body, r.body_len, md, &mdn, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  assert_string_equal(th_http_header(&r, "X-Package-Sha256", v, sizeof v), hex);
  /* the same bytes as the gRPC stream gives (asked again: the same package) */
  th_package p;
  assert_int_equal(th_tr_export(&tr, w.tok_d1_updater, tid, &p, &st), GRPC_STATUS_OK);
  assert_int_equal(p.len, r.body_len);
  assert_memory_equal(p.bytes, r.body, r.body_len);
  th_package_free(&p);
  char *pkg = r.body;
  size_t pkg_len = r.body_len;

  /* in again, as a draft of the other district */
  bearer(auth, sizeof auth, w.tok_admin);
  request("POST /v1/transfer-packages?request_id=in-1", auth, "Content-Type: application/octet-stream\r\n", pkg, pkg_len, &r);
  assert_int_equal(r.status, 400); /* no unit */
  assert_non_null(strstr(r.body, "unit_id"));
  th_http_resp_free(&r);
  pkg[pkg_len / 2] ^= 0x5a; /* a changed byte: refused, nothing made */
  snprintf(line, sizeof line, "POST /v1/transfer-packages?unit_id=%s&request_id=in-2", w.d2_id);
  request(line, auth, "Content-Type: application/octet-stream\r\n", pkg, pkg_len, &r);
  assert_int_equal(r.status, 400);
  th_http_resp_free(&r);
  pkg[pkg_len / 2] ^= 0x5a;
  snprintf(line, sizeof line, "POST /v1/transfer-packages?unit_id=%s&note=Ti%%E1%%BA%%BFp+nh%%E1%%BA%%ADn&request_id=in-3", w.d2_id);
  request(line, auth, "Content-Type: application/octet-stream\r\n", pkg, pkg_len, &r);
  if (r.status != 200) fail_msg("package import: %d %s", r.status, r.body);
  json_error_t je;
  json_t *j = json_loads(r.body, 0, &je);
  assert_non_null(j);
  const char *new_rec = json_string_value(json_object_get(j, "recordId"));
  assert_true(new_rec && *new_rec && strcmp(new_rec, rec) != 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(j, "transfer"), "state")), "TRANSFER_STATE_IMPORTED");
  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = (char *)new_rec;
  Hoso__Records__V1__GetRecordResponse *got = NULL;
  assert_int_equal(th_call(w.rec_ch, "/hoso.records.v1.Records/GetRecord", &g, &hoso__records__v1__get_record_response__descriptor,
                           (void **)&got, w.tok_d2_updater, &st),
                   GRPC_STATUS_OK);
  assert_string_equal(got->record->full_name, "Trương Thị Ra Đi");
  protobuf_c_message_free_unpacked(&got->base, NULL);
  json_decref(j);
  th_http_resp_free(&r);
  free(pkg);

  /* past HOSO_PACKAGE_MAX_MB: refused on its Content-Length, before the body is read */
  snprintf(line, sizeof line, "POST /v1/transfer-packages?unit_id=%s", w.d2_id);
  char head[9000];
  snprintf(head, sizeof head, "%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %u\r\n%s\r\n", line,
           (1u << 20) + 1, auth);
  int fd = th_http_dial(port);
  th_http_send_all(fd, head, strlen(head));
  th_http_read_reply(fd, &r);
  assert_int_equal(r.status, 413);
  th_http_resp_free(&r);
}

static grpc_status_code grpc_file(const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *d,
                                  const char *path) {
  cli_status st;
  char *name = NULL, *type = NULL;
  grpc_status_code c = th_stream_file(rep_ch, method, req, d, w.tok_admin, path, &name, &type, NULL, &st);
  if (c != GRPC_STATUS_OK) print_error("%s: %s\n", method, st.message);
  free(name);
  free(type);
  return c;
}

static void test_report_and_search_files(void **state) {
  (void)state;
  char rec[32], auth[8300], v[512], path[128];
  assert_int_equal(th_world_record(&w, w.tok_admin, w.d1_id, "Lê Thị Xuất Tệp", rec), 0);
  bearer(auth, sizeof auth, w.tok_admin);
  th_http_resp r;
  /* BM01 as CSV: what RunReport gives over gRPC, its length announced */
  static const char body[] = "{\"template\":\"BM01/BNV\",\"format\":\"FORMAT_CSV\",\"signerName\":\"Trần Văn Trưởng\"}";
  request("POST /v1/reports:run", auth, "Content-Type: application/json\r\n", body, strlen(body), &r);
  if (r.status != 200) fail_msg("report: %d %s", r.status, r.body);
  assert_true(!strncmp(th_http_header(&r, "Content-Type", v, sizeof v), "text/csv", 8));
  assert_true(!strncmp(th_http_header(&r, "Content-Disposition", v, sizeof v), "attachment; ", 12));
  sized(&r);
  Hoso__Reporting__V1__RunReportRequest q = HOSO__REPORTING__V1__RUN_REPORT_REQUEST__INIT;
  q.template_ = "BM01/BNV";
  q.format = HOSO__REPORTING__V1__FORMAT__FORMAT_CSV;
  q.signer_name = "Trần Văn Trưởng";
  snprintf(path, sizeof path, "%s/bm01.csv", tmpdir);
  assert_int_equal(grpc_file(REP "RunReport", &q.base, &hoso__reporting__v1__file_chunk__descriptor, path), GRPC_STATUS_OK);
  size_t n;
  char *want = slurp(path, &n);
  assert_true(n > 3 && !memcmp(want, "\xEF\xBB\xBF", 3));
  assert_int_equal(r.body_len, n);
  assert_memory_equal(r.body, want, n);
  free(want);
  th_http_resp_free(&r);

  /* an unknown template: the JSON error, no file */
  static const char bad[] = "{\"template\":\"BM99/BNV\",\"format\":\"FORMAT_XLSX\"}";
  request("POST /v1/reports:run", auth, "Content-Type: application/json\r\n", bad, strlen(bad), &r);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body, "template"));
  assert_true(!strncmp(th_http_header(&r, "Content-Type", v, sizeof v), "application/json", 16));
  th_http_resp_free(&r);
  static const char malformed[] = "{\"templat\":1}";
  request("POST /v1/reports:run", auth, "Content-Type: application/json\r\n", malformed, strlen(malformed), &r);
  assert_int_equal(r.status, 400);
  th_http_resp_free(&r);
  request("POST /v1/reports:run", NULL, "Content-Type: application/json\r\n", body, strlen(body), &r);
  assert_int_equal(r.status, 401);
  th_http_resp_free(&r);

  /* a search export as CSV: the progress goes by, the file is ExportSearch's */
  char sbody[256];
  snprintf(sbody, sizeof sbody, "{\"criteria\":{\"unitId\":\"%s\",\"name\":\"xuat tep\"},\"format\":\"FORMAT_CSV\"}", w.d1_id);
  request("POST /v1/records:exportSearch", auth, "Content-Type: application/json\r\n", sbody, strlen(sbody), &r);
  if (r.status != 200) fail_msg("search export: %d %s", r.status, r.body);
  sized(&r);
  assert_non_null(strstr(r.body, "Lê Thị Xuất Tệp"));
  Hoso__Reporting__V1__ExportSearchRequest e = HOSO__REPORTING__V1__EXPORT_SEARCH_REQUEST__INIT;
  Hoso__Records__V1__SearchRecordsRequest c = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  c.unit_id = w.d1_id;
  c.name = "xuat tep";
  e.criteria = &c;
  e.format = HOSO__REPORTING__V1__FORMAT__FORMAT_CSV;
  snprintf(path, sizeof path, "%s/search.csv", tmpdir);
  assert_int_equal(grpc_file(REP "ExportSearch", &e.base, &hoso__reporting__v1__export_search_response__descriptor, path),
                   GRPC_STATUS_OK);
  want = slurp(path, &n);
  assert_int_equal(r.body_len, n);
  assert_memory_equal(r.body, want, n);
  th_http_resp_free(&r);

  /* ?progress=1: every message as a line of JSON, the rows counted before the file, whose
   * chunks put together are the same file */
  request("POST /v1/records:exportSearch?progress=1", auth, "Content-Type: application/json\r\n", sbody, strlen(sbody), &r);
  if (r.status != 200) fail_msg("search export with progress: %d %s", r.status, r.body);
  assert_string_equal(th_http_header(&r, "Content-Type", v, sizeof v), "application/x-ndjson");
  dechunk(&r);
  assert_true(r.body_len > 0 && r.body[r.body_len - 1] == '\n');
  char *file = malloc(n + 1);
  size_t got = 0;
  int progress = 0, in_file = 0;
  for (char *line = r.body, *nl; (nl = memchr(line, '\n', (size_t)(r.body + r.body_len - line))); line = nl + 1) {
    char err[256];
    ProtobufCMessage *m = pbjson_decode(&hoso__reporting__v1__export_search_response__descriptor, line, (size_t)(nl - line), 0, NULL, err, sizeof err);
    if (!m) fail_msg("line %.*s: %s", (int)(nl - line), line, err);
    Hoso__Reporting__V1__ExportSearchResponse *x = (void *)m;
    if (x->progress) {
      assert_false(in_file); /* the rows are counted before the file comes */
      assert_int_equal(x->progress->rows_total, 1);
      assert_true(x->progress->rows_done <= 1);
      progress++;
    }
    if (x->file) {
      assert_int_equal(x->file->size, in_file ? 0 : (int64_t)n); /* the size comes with the first chunk */
      in_file = 1;
      assert_true(got + x->file->chunk.len <= n);
      memcpy(file + got, x->file->chunk.data, x->file->chunk.len);
      got += x->file->chunk.len;
    }
    protobuf_c_message_free_unpacked(m, NULL);
  }
  assert_true(progress >= 1);
  assert_int_equal(got, n);
  assert_memory_equal(file, want, n);
  free(file);
  free(want);
  th_http_resp_free(&r);
  /* a refusal before the export starts is still the usual JSON error with its status */
  request("POST /v1/records:exportSearch?progress=1", auth, "Content-Type: application/json\r\n", "{\"format\":\"FORMAT_PDF\"}", 23, &r);
  assert_int_equal(r.status, 400);
  assert_true(!strncmp(th_http_header(&r, "Content-Type", v, sizeof v), "application/json", 16));
  th_http_resp_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_package_out_and_in),
      cmocka_unit_test(test_report_and_search_files),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
