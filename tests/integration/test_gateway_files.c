/* The gateway's file routes over real HTTP, gateway, records, transfers and PostgreSQL: an
 * upload whose body is streamed into UploadAttachment (megabytes across message boundaries,
 * bytes and type compared on the way back), the download with its type, length and a safe name
 * (inline for the page's own preview only), and every refusal: too large before the body is
 * read, no length, no name, no right, no credentials, no CSRF, a body that is not a scan, an
 * unknown id, a client that leaves halfway; a person's papers for their own change request;
 * a transfer's scan as the file itself. */
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
#include "records.pb-c.h"
#include "th_http.h"
#include "th_transfers.h"
#include "th_world.h"

#define MIB (1u << 20)

static th_world w;
static th_svc gw;
static th_tr tr;
static int port;
static char rec_id[32];


/* One request: head lines (each ending in CRLF), then body. */
static void request(const char *head, const void *body, size_t len, th_http_resp *r) {
  int fd = th_http_dial(port);
  th_http_send_all(fd, head, strlen(head));
  if (len) th_http_send_all(fd, body, len);
  th_http_read_reply(fd, r);
}

static void upload(const char *auth, const char *query, const void *body, size_t len, th_http_resp *r) {
  char head[9000];
  snprintf(head, sizeof head,
           "POST /v1/records/%s/attachments?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n%s\r\n",
           rec_id, query, len, auth);
  request(head, body, len, r);
}

static void bearer(char *out, size_t n, const char *tok) {
  snprintf(out, n, "Authorization: Bearer %s\r\n", tok);
}

static long count_attachments(void) {
  Hoso__Records__V1__ListAttachmentsRequest q = HOSO__RECORDS__V1__LIST_ATTACHMENTS_REQUEST__INIT;
  q.record_id = rec_id;
  Hoso__Records__V1__ListAttachmentsResponse *l = NULL;
  cli_status st;
  assert_int_equal(th_call(w.rec_ch, "/hoso.records.v1.Records/ListAttachments", &q,
                           &hoso__records__v1__list_attachments_response__descriptor, (void **)&l,
                           w.tok_admin, &st),
                   GRPC_STATUS_OK);
  long n = (long)l->n_attachments;
  protobuf_c_message_free_unpacked(&l->base, NULL);
  return n;
}


static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  if (th_world_record(&w, w.tok_admin, w.d1_id, "Nguyễn Thị Lan", rec_id) != 0) return -1;
  if (th_tr_start(&tr, &w, NULL) != 0) return -1;
  char idn[96], rec[96], trs[96];
  snprintf(idn, sizeof idn, "HOSO_IDENTITY_ADDR=%s", w.identity.addr);
  snprintf(rec, sizeof rec, "HOSO_RECORDS_ADDR=%s", w.records.addr);
  snprintf(trs, sizeof trs, "HOSO_TRANSFERS_ADDR=%s", tr.svc.addr);
  const char *env[] = {idn, rec, trs, "HOSO_GATEWAY_READY_BACKENDS=identity,records,transfers",
                       "HOSO_GATEWAY_STATIC_DIR=", NULL};
  if (th_http_start(&gw, "hoso-gateway", "HOSO_GATEWAY_ADDR", &w.pg, env) != 0) return -1;
  port = atoi(strrchr(gw.addr, ':') + 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  int rc = 0;
  if (gw.pid > 0 && th_svc_stop(&gw) != 0) rc = -1;
  if (th_log_errors(gw.log) != 0) rc = -1;
  if (th_tr_stop(&tr) != 0) rc = -1;
  if (th_world_stop(&w) != 0) rc = -1;
  return rc;
}

/* 2.5 MiB of "PDF": three messages to records, the last one partial. */
static void test_upload_and_download(void **state) {
  (void)state;
  size_t n = 5 * MIB / 2 + 7;
  char *pdf = malloc(n);
  memcpy(pdf, "%PDF-1.7\n", 9);
  for (size_t i = 9; i < n; i++) pdf[i] = (char)('a' + i % 23);
  char auth[8300];
  bearer(auth, sizeof auth, w.tok_d1_updater);
  th_http_resp r;
  /* "Quyết định 125.pdf", its description and a request id, percent-encoded */
  upload(auth, "file_name=Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20125.pdf&description=B%E1%BA%A3n+qu%C3%A9t&request_id=gw-files-1",
         pdf, n, &r);
  if (r.status != 200) fail_msg("upload: %d %s", r.status, r.body);
  char v[512], id[64] = "";
  const char *idp = strstr(r.body, "\"id\":\"");
  assert_non_null(idp);
  snprintf(id, sizeof id, "%.*s", (int)strcspn(idp + 6, "\""), idp + 6);
  assert_non_null(strstr(r.body, "\"contentType\":\"application/pdf\""));
  char size_json[64];
  snprintf(size_json, sizeof size_json, "\"size\":\"%zu\"", n);
  assert_non_null(strstr(r.body, size_json));
  assert_non_null(strstr(r.body, "\"fileName\":\"Quyết định 125.pdf\""));
  assert_non_null(strstr(r.body, "\"description\":\"Bản quét\""));
  th_http_resp_free(&r);

  /* the same request id again: the first result, nothing new stored */
  long before = count_attachments();
  upload(auth, "file_name=Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20125.pdf&description=B%E1%BA%A3n+qu%C3%A9t&request_id=gw-files-1",
         pdf, n, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, id));
  th_http_resp_free(&r);
  assert_int_equal(count_attachments(), before);

  /* download: the same bytes, its type and length, a name safe in any client */
  char head[9000];
  snprintf(head, sizeof head, "GET /v1/attachments/%s/content HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", id, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(th_http_header(&r, "Content-Type", v, sizeof v), "application/pdf");
  assert_int_equal(atol(th_http_header(&r, "Content-Length", v, sizeof v)), (long)n);
  assert_string_equal(th_http_header(&r, "Content-Disposition", v, sizeof v),
                      "attachment; filename=\"Quy_t __nh 125.pdf\"; "
                      "filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20125.pdf");
  assert_string_equal(th_http_header(&r, "X-Frame-Options", v, sizeof v), "DENY");
  assert_int_equal(r.body_len, n);
  assert_memory_equal(r.body, pdf, n);
  th_http_resp_free(&r);

  /* inline, for the application's own preview: its page may frame it, no one else */
  snprintf(head, sizeof head, "GET /v1/attachments/%s/content?inline=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", id, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 200);
  assert_true(!strncmp(th_http_header(&r, "Content-Disposition", v, sizeof v), "inline; ", 8));
  assert_string_equal(th_http_header(&r, "X-Frame-Options", v, sizeof v), "SAMEORIGIN");
  assert_non_null(strstr(th_http_header(&r, "Content-Security-Policy", v, sizeof v), "frame-ancestors 'self'"));
  th_http_resp_free(&r);

  /* HEAD: the headers, no body */
  snprintf(head, sizeof head, "HEAD /v1/attachments/%s/content HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", id, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(atol(th_http_header(&r, "Content-Length", v, sizeof v)), (long)n);
  assert_int_equal(r.body_len, 0);
  th_http_resp_free(&r);

  /* a reader of another district: records refuses, the gateway says so */
  bearer(auth, sizeof auth, w.tok_d2_reader);
  snprintf(head, sizeof head, "GET /v1/attachments/%s/content HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", id, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 403);
  th_http_resp_free(&r);
  free(pdf);
}

static void test_refusals(void **state) {
  (void)state;
  char auth[8300], head[9000];
  bearer(auth, sizeof auth, w.tok_d1_updater);
  th_http_resp r;
  long before = count_attachments();

  /* too large: refused from the length alone, before a byte of the body is read */
  snprintf(head, sizeof head,
           "POST /v1/records/%s/attachments?file_name=big.pdf HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           "Content-Length: %u\r\n%s\r\n", rec_id, 20 * MIB + 1, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 413);
  th_http_resp_free(&r);

  /* chunked: the route needs the length to enforce the limit before reading */
  snprintf(head, sizeof head,
           "POST /v1/records/%s/attachments?file_name=a.pdf HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           "Transfer-Encoding: chunked\r\n%s\r\n5\r\n%%PDF-\r\n0\r\n\r\n", rec_id, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 411);
  th_http_resp_free(&r);

  /* no file name */
  upload(auth, "description=x", "%PDF-1.4\n", 9, &r);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body, "file_name: must be given"));
  th_http_resp_free(&r);

  /* not a scan: the service tells by the content */
  upload(auth, "file_name=a.pdf", "hello, world", 12, &r);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body, "only PDF, JPEG or PNG"));
  th_http_resp_free(&r);

  /* a reader may not upload */
  char rauth[8300];
  bearer(rauth, sizeof rauth, w.tok_d1_reader);
  upload(rauth, "file_name=a.pdf", "%PDF-1.4\n", 9, &r);
  assert_int_equal(r.status, 403);
  th_http_resp_free(&r);

  /* no credentials */
  upload("", "file_name=a.pdf", "%PDF-1.4\n", 9, &r);
  assert_int_equal(r.status, 401);
  th_http_resp_free(&r);

  /* the session cookie without the CSRF header */
  char cookie[8300];
  snprintf(cookie, sizeof cookie, "Cookie: hoso_session=%s; hoso_csrf=abc\r\n", w.tok_d1_updater);
  upload(cookie, "file_name=a.pdf", "%PDF-1.4\n", 9, &r);
  assert_int_equal(r.status, 403);
  assert_non_null(strstr(r.body, "X-CSRF-Token"));
  th_http_resp_free(&r);
  /* and with it: stored */
  snprintf(cookie, sizeof cookie, "Cookie: hoso_session=%s; hoso_csrf=abc\r\nX-CSRF-Token: abc\r\n", w.tok_d1_updater);
  upload(cookie, "file_name=b.pdf&request_id=gw-files-cookie", "%PDF-1.4\n", 9, &r);
  assert_int_equal(r.status, 200);
  th_http_resp_free(&r);
  assert_int_equal(count_attachments(), before + 1);

  /* an id nobody has */
  snprintf(head, sizeof head, "GET /v1/attachments/999999/content HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 404);
  th_http_resp_free(&r);

  /* another verb on the routes */
  snprintf(head, sizeof head, "GET /v1/records/%s/attachments HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", rec_id, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 405);
  th_http_resp_free(&r);
}

/* A client that sends half of its body and leaves: nothing is stored, the gateway serves on. */
static void test_client_leaves(void **state) {
  (void)state;
  char auth[8300], head[9000];
  bearer(auth, sizeof auth, w.tok_d1_updater);
  long before = count_attachments();
  snprintf(head, sizeof head,
           "POST /v1/records/%s/attachments?file_name=half.pdf HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           "Content-Length: %u\r\n%s\r\n", rec_id, 4 * MIB, auth);
  int fd = th_http_dial(port);
  th_http_send_all(fd, head, strlen(head));
  char *half = calloc(1, 2 * MIB);
  memcpy(half, "%PDF-1.4\n", 9);
  th_http_send_all(fd, half, 2 * MIB);
  free(half);
  close(fd);
  /* the gateway still answers, and what came before the end of the body was not stored */
  th_http_resp r;
  snprintf(head, sizeof head, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 200);
  th_http_resp_free(&r);
  assert_int_equal(count_attachments(), before);
}

/* A person adds a paper to their own pending change request through the upload route: the
 * query's change_request_id reaches records, and the stored attachment names the request. */
static void test_self_papers(void **state) {
  (void)state;
  char *self = th_world_self_token(&w, w.d1_id, rec_id);
  assert_non_null(self);
  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = rec_id;
  Hoso__Records__V1__GetRecordResponse *got = NULL;
  cli_status st;
  assert_int_equal(th_call(w.rec_ch, "/hoso.records.v1.Records/GetRecord", &g,
                           &hoso__records__v1__get_record_response__descriptor, (void **)&got, self, &st),
                   GRPC_STATUS_OK);
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT, *was = got->record->personal;
  p.phone = "0912 678 123";
  got->record->personal = &p;
  Hoso__Records__V1__CreateChangeRequestRequest c = HOSO__RECORDS__V1__CREATE_CHANGE_REQUEST_REQUEST__INIT;
  c.proposed = got->record;
  c.base_version = got->record->version;
  Hoso__Records__V1__CreateChangeRequestResponse *cr = NULL;
  grpc_status_code code = th_call(w.rec_ch, "/hoso.records.v1.Records/CreateChangeRequest", &c,
                                  &hoso__records__v1__create_change_request_response__descriptor, (void **)&cr, self, &st);
  got->record->personal = was;
  protobuf_c_message_free_unpacked(&got->base, NULL);
  if (code != GRPC_STATUS_OK) fail_msg("CreateChangeRequest: %s", st.message);
  char auth[8300], query[128], want[96];
  bearer(auth, sizeof auth, self);
  snprintf(query, sizeof query, "file_name=so-dien-thoai.pdf&change_request_id=%s", cr->change_request->id);
  th_http_resp r;
  upload(auth, query, "%PDF-1.4\n", 9, &r);
  if (r.status != 200) fail_msg("upload: %d %s", r.status, r.body);
  snprintf(want, sizeof want, "\"changeRequestId\":\"%s\"", cr->change_request->id);
  assert_non_null(strstr(r.body, want));
  th_http_resp_free(&r);
  /* without it, the person is no updater */
  upload(auth, "file_name=so-dien-thoai.pdf", "%PDF-1.4\n", 9, &r);
  assert_int_equal(r.status, 403);
  th_http_resp_free(&r);
  protobuf_c_message_free_unpacked(&cr->base, NULL);
  free(self);
}

/* A transfer's scan as the file: the same bytes, its type and a safe name, inline for the
 * page's preview; refused to a unit on neither side, unknown documents, other verbs. */
static void test_transfer_document(void **state) {
  (void)state;
  char rec[32], today[11], auth[8300], head[9000], v[512];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Trần Văn Chuyển", rec), 0);
  th_tr_day(0, today);
  cli_status st;
  th_transfer *t = th_tr_begin(&tr, w.tok_d1_updater, rec, HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_BETWEEN_UNITS,
                               w.d2_id, NULL, today, &st);
  if (!t) fail_msg("StartTransfer: %s", st.message);
  assert_non_null(t->decision);
  const char *doc = t->decision->scan_document_id;
  assert_true(doc && *doc);
  const Hoso__Transfers__V1__Scan *scan = th_tr_scan();
  bearer(auth, sizeof auth, w.tok_d1_updater);
  th_http_resp r;
  snprintf(head, sizeof head, "GET /v1/transfers/%s/documents/%s/content HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n",
           t->id, doc, auth);
  request(head, NULL, 0, &r);
  if (r.status != 200) fail_msg("document: %d %s", r.status, r.body);
  assert_string_equal(th_http_header(&r, "Content-Type", v, sizeof v), "application/pdf");
  assert_string_equal(th_http_header(&r, "Content-Disposition", v, sizeof v),
                      "attachment; filename=\"quyet-dinh-dieu-dong.pdf\"; filename*=UTF-8''quyet-dinh-dieu-dong.pdf");
  assert_string_equal(th_http_header(&r, "X-Frame-Options", v, sizeof v), "DENY");
  assert_int_equal(r.body_len, scan->content.len);
  assert_memory_equal(r.body, scan->content.data, scan->content.len);
  th_http_resp_free(&r);
  snprintf(head, sizeof head, "GET /v1/transfers/%s/documents/%s/content?inline=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n",
           t->id, doc, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 200);
  assert_true(!strncmp(th_http_header(&r, "Content-Disposition", v, sizeof v), "inline; ", 8));
  assert_string_equal(th_http_header(&r, "X-Frame-Options", v, sizeof v), "SAMEORIGIN");
  th_http_resp_free(&r);
  /* the school below d1 is on neither side */
  bearer(auth, sizeof auth, w.tok_d1u_updater);
  snprintf(head, sizeof head, "GET /v1/transfers/%s/documents/%s/content HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n",
           t->id, doc, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 403);
  th_http_resp_free(&r);
  bearer(auth, sizeof auth, w.tok_d1_updater);
  snprintf(head, sizeof head, "GET /v1/transfers/%s/documents/999999/content HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n",
           t->id, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 404);
  th_http_resp_free(&r);
  snprintf(head, sizeof head, "POST /v1/transfers/%s/documents/%s/content HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           "Content-Length: 0\r\n%s\r\n", t->id, doc, auth);
  request(head, NULL, 0, &r);
  assert_int_equal(r.status, 405);
  th_http_resp_free(&r);
  th_tr_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_upload_and_download),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_client_leaves),
      cmocka_unit_test(test_self_papers),
      cmocka_unit_test(test_transfer_document),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
