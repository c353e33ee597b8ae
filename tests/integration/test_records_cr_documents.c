/* A person's supporting papers for their own change request (phiếu bổ sung lý lịch, 001 Đ9.2a)
 * over real gRPC streams and PostgreSQL: the person uploads to their own pending request only;
 * the unit that verifies it lists and downloads the papers, nobody else does; once the request
 * is decided no paper is added; a repeated request_id stores one; the audit row names the
 * request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"

typedef Hoso__Records__V1__Record Record;
typedef Hoso__Records__V1__ChangeRequest CR;
typedef Hoso__Records__V1__AttachmentMeta att_meta;

static th_world w;
static PGconn *admin_db; /* superuser: inspection only */

/* A small PDF, what a scanner's file starts with (the service types files by content). */
static const char pdf[] = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                          "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
                          "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
                          "trailer<</Root 1 0 R>>\n%%EOF\n";

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static long long sql_long(const char *q, const char *p1) {
  const char *params[1] = {p1};
  PGresult *r = PQexecParams(admin_db, q, 1, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static grpc_status_code call(const char *tok, const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                             void *out, cli_status *st) {
  memset(st, 0, sizeof *st);
  return th_call(w.rec_ch, method, req, d, (void **)out, tok, st);
}

/* One upload stream: metadata and the whole content in the first message. *out (caller
 * frees) on OK. */
static grpc_status_code upload(const char *tok, const char *record_id, const char *cr_id, const char *request_id,
                               att_meta **out, cli_status *st) {
  *out = NULL;
  memset(st, 0, sizeof *st);
  cli_stream *s = cli_stream_open(w.rec_ch, REC "UploadAttachment", th_bearer(tok), 1, 30000);
  assert_non_null(s);
  Hoso__Records__V1__UploadAttachmentRequest m = HOSO__RECORDS__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
  m.record_id = (char *)record_id;
  m.file_name = "giay-khai-sinh-con.pdf";
  m.description = "Giấy khai sinh của con";
  m.request_id = (char *)(request_id ? request_id : "");
  m.change_request_id = (char *)(cr_id ? cr_id : "");
  m.chunk.data = (uint8_t *)pdf;
  m.chunk.len = sizeof pdf - 1;
  (void)cli_stream_send(s, &m.base);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *r = NULL;
  if (cli_stream_recv(s, &hoso__records__v1__upload_attachment_response__descriptor, &r) == 1) {
    Hoso__Records__V1__UploadAttachmentResponse *u = (void *)r;
    *out = u->attachment;
    u->attachment = NULL;
    free_msg(r);
  }
  grpc_status_code c = cli_stream_finish(s, st);
  if (c != GRPC_STATUS_OK && *out) {
    free_msg(*out);
    *out = NULL;
  }
  return c;
}

/* The bytes of an attachment (malloc'd, *len) on OK. */
static grpc_status_code download(const char *tok, const char *id, unsigned char **buf, size_t *len, cli_status *st) {
  *buf = NULL;
  *len = 0;
  memset(st, 0, sizeof *st);
  cli_stream *s = cli_stream_open(w.rec_ch, REC "DownloadAttachment", th_bearer(tok), 1, 30000);
  assert_non_null(s);
  Hoso__Records__V1__DownloadAttachmentRequest req = HOSO__RECORDS__V1__DOWNLOAD_ATTACHMENT_REQUEST__INIT;
  req.attachment_id = (char *)id;
  assert_int_equal(cli_stream_send(s, &req.base), 0);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m = NULL;
  while (cli_stream_recv(s, &hoso__records__v1__download_attachment_response__descriptor, &m) == 1) {
    Hoso__Records__V1__DownloadAttachmentResponse *r = (void *)m;
    if (r->chunk.len) {
      *buf = realloc(*buf, *len + r->chunk.len);
      memcpy(*buf + *len, r->chunk.data, r->chunk.len);
      *len += r->chunk.len;
    }
    free_msg(m);
  }
  return cli_stream_finish(s, st);
}

/* The attachments of a record as tok lists them (caller frees). */
static grpc_status_code list(const char *tok, const char *record_id, Hoso__Records__V1__ListAttachmentsResponse **out,
                             cli_status *st) {
  Hoso__Records__V1__ListAttachmentsRequest req = HOSO__RECORDS__V1__LIST_ATTACHMENTS_REQUEST__INIT;
  req.record_id = (char *)record_id;
  *out = NULL;
  return call(tok, REC "ListAttachments", &req, &hoso__records__v1__list_attachments_response__descriptor, out, st);
}

/* A dossier of d1 with a phone number, made by d1's updater; its id in id. */
static void new_record(const char *name, char id[32]) {
  Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  p.phone = "0204 3884 123";
  e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  r.managing_unit_id = w.d1_id;
  r.full_name = (char *)name;
  r.birth_date = "1987-02-03";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  r.personal = &p;
  r.employment = &e;
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  req.record = &r;
  Hoso__Records__V1__CreateRecordResponse *out = NULL;
  cli_status st;
  th_expect(call(w.tok_d1_updater, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor,
                 &out, &st),
            &st, GRPC_STATUS_OK, NULL);
  snprintf(id, 32, "%s", out->record->id);
  free_msg(out);
}

/* The person declares a new phone number on their own record: the pending request. */
static CR *declare_phone(const char *self, const char *record_id, const char *phone) {
  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = (char *)record_id;
  Hoso__Records__V1__GetRecordResponse *got = NULL;
  cli_status st;
  th_expect(call(self, REC "GetRecord", &g, &hoso__records__v1__get_record_response__descriptor, &got, &st), &st,
            GRPC_STATUS_OK, NULL);
  char *old = got->record->personal->phone;
  got->record->personal->phone = (char *)phone;
  Hoso__Records__V1__CreateChangeRequestRequest req = HOSO__RECORDS__V1__CREATE_CHANGE_REQUEST_REQUEST__INIT;
  req.proposed = got->record;
  req.base_version = got->record->version;
  req.note = "Đổi số điện thoại";
  Hoso__Records__V1__CreateChangeRequestResponse *r = NULL;
  th_expect(call(self, REC "CreateChangeRequest", &req, &hoso__records__v1__create_change_request_response__descriptor,
                 &r, &st),
            &st, GRPC_STATUS_OK, NULL);
  got->record->personal->phone = old;
  free_msg(got);
  CR *cr = r->change_request;
  r->change_request = NULL;
  free_msg(r);
  return cr;
}

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  return PQstatus(admin_db) == CONNECTION_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  if (admin_db) PQfinish(admin_db);
  char rec_log[256];
  snprintf(rec_log, sizeof rec_log, "%s", w.records.log);
  int rc = th_world_stop(&w);
  int errors = th_log_errors(rec_log); /* refusals must be chosen statuses, never faults */
  return rc == 0 && errors == 0 ? 0 : -1;
}

/* The person adds a paper to their pending request: stored with the record (filed at its
 * managing unit d1) and tied to the request; a repeat of the same request_id stores nothing
 * more; the audit row names the request. d1's head, who verifies it, lists and downloads it
 * byte for byte; d2's head does not see it; the person reads their own paper back. */
static void test_person_adds_papers_unit_reads_them(void **state) {
  (void)state;
  char rec[32];
  new_record("Phạm Văn Giấy", rec);
  char *self = th_world_self_token(&w, w.d1_id, rec);
  assert_non_null(self);
  CR *cr = declare_phone(self, rec, "0912 000 111");

  att_meta *a = NULL, *again = NULL;
  cli_status st;
  th_expect(upload(self, rec, cr->id, "cr-doc-1", &a, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(a->record_id, rec);
  assert_string_equal(a->change_request_id, cr->id);
  assert_string_equal(a->content_type, "application/pdf");
  th_expect(upload(self, rec, cr->id, "cr-doc-1", &again, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(again->id, a->id);
  assert_int_equal(sql_long("SELECT count(*) FROM records.attachments WHERE change_request_id = $1::bigint", cr->id), 1);
  assert_int_equal(sql_long("SELECT count(*) FROM records.attachments a JOIN records.records r ON r.id = a.record_id "
                            "WHERE a.id = $1::bigint AND a.unit_path = r.unit_path",
                            a->id),
                   1);
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'ATTACHMENT_UPLOAD' "
                            "AND target_id = $1 AND detail::jsonb->>'change_request_id' <> ''",
                            a->id),
                   1);

  Hoso__Records__V1__ListAttachmentsResponse *l = NULL;
  th_expect(list(w.tok_d1_admin, rec, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(l->n_attachments, 1);
  assert_string_equal(l->attachments[0]->change_request_id, cr->id);
  free_msg(l);
  unsigned char *buf;
  size_t len;
  th_expect(download(w.tok_d1_admin, a->id, &buf, &len, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(len, sizeof pdf - 1);
  assert_memory_equal(buf, pdf, len);
  free(buf);
  th_expect(list(w.tok_d2_admin, rec, &l, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  free_msg(l);
  th_expect(download(w.tok_d2_admin, a->id, &buf, &len, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  free(buf);
  th_expect(list(self, rec, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(l->n_attachments, 1);
  free_msg(l);
  th_expect(download(self, a->id, &buf, &len, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(len, sizeof pdf - 1);
  free(buf);
  free_msg(a);
  free_msg(again);
  free_msg(cr);
  free(self);
}

/* Who may add papers, and to what: a person without a request (that is the updater's upload),
 * to another record, to another person's request, to a request that does not exist; an updater
 * does not add papers to a person's request; nothing is stored by any of them. */
static void test_only_own_pending_request(void **state) {
  (void)state;
  char rec[32], other[32];
  new_record("Đỗ Thị Chứng", rec);
  new_record("Vũ Văn Khác", other);
  char *self = th_world_self_token(&w, w.d1_id, rec), *self_other = th_world_self_token(&w, w.d1_id, other);
  assert_non_null(self);
  assert_non_null(self_other);
  CR *cr = declare_phone(self, rec, "0912 222 333");
  att_meta *a = NULL;
  cli_status st;
  th_expect(upload(self, rec, NULL, NULL, &a, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  assert_non_null(strstr(st.message, "change_request_id"));
  th_expect(upload(self, other, cr->id, NULL, &a, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  th_expect(upload(self_other, other, cr->id, NULL, &a, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "change_request_id");
  th_expect(upload(self, rec, "999999", NULL, &a, &st), &st, GRPC_STATUS_NOT_FOUND, "change_request_id");
  th_expect(upload(self, rec, "x1", NULL, &a, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "change_request_id");
  th_expect(upload(w.tok_d1_updater, rec, cr->id, NULL, &a, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
            "change_request_id");
  assert_null(a);
  assert_int_equal(sql_long("SELECT count(*) FROM records.attachments WHERE record_id IN ($1::bigint)", rec), 0);
  free_msg(cr);
  free(self);
  free(self_other);
}

/* Once the unit has decided the request, its papers are closed: a later one is refused with
 * what to do, and the one sent before stays. */
static void test_decided_request_takes_no_papers(void **state) {
  (void)state;
  char rec[32];
  new_record("Lương Thị Xong", rec);
  char *self = th_world_self_token(&w, w.d1_id, rec);
  assert_non_null(self);
  CR *cr = declare_phone(self, rec, "0912 444 555");
  att_meta *a = NULL;
  cli_status st;
  th_expect(upload(self, rec, cr->id, NULL, &a, &st), &st, GRPC_STATUS_OK, NULL);
  free_msg(a);
  Hoso__Records__V1__ApproveChangeRequestRequest ar = HOSO__RECORDS__V1__APPROVE_CHANGE_REQUEST_REQUEST__INIT;
  ar.change_request_id = cr->id;
  th_expect(call(w.tok_d1_admin, REC "ApproveChangeRequest", &ar,
                 &hoso__records__v1__approve_change_request_response__descriptor, NULL, &st),
            &st, GRPC_STATUS_OK, NULL);
  th_expect(upload(self, rec, cr->id, NULL, &a, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, "change_request_id");
  assert_int_equal(sql_long("SELECT count(*) FROM records.attachments WHERE change_request_id = $1::bigint", cr->id), 1);
  free_msg(cr);
  free(self);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_person_adds_papers_unit_reads_them),
      cmocka_unit_test(test_only_own_pending_request),
      cmocka_unit_test(test_decided_request_takes_no_papers),
  };
  return cmocka_run_group_tests_name("records_cr_documents", tests, setup, teardown);
}
