/* Attachments of records over real gRPC streams and PostgreSQL: upload, list, download (bytes
 * and SHA-256 compared), type by content, size limit, scope, idempotency, audit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"
#define MIB (1u << 20)

typedef Hoso__Records__V1__AttachmentMeta att_meta;

static th_world w;
static PGconn *admin_db;
static char rec_d1[32];

/* A minimal but valid one-page PDF. */
static const char pdf[] =
    "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    "xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    "0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n166\n%%EOF\n";

static void sha_hex(const void *b, size_t n, char out[65]) {
  unsigned char d[32];
  unsigned len = 0;
  assert_true(EVP_Digest(b, n, d, &len, EVP_sha256(), NULL));
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static long long sql_long(const char *sql, const char *a, const char *b) {
  const char *p[2] = {a, b};
  PGresult *r = PQexecParams(admin_db, sql, 2, NULL, p, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

/* Uploads data in chunks of `chunk` bytes (metadata in the first message). *out: the stored
 * metadata on OK (caller frees), else NULL. */
static grpc_status_code upload(const char *tok, const char *record_id, const char *name, const char *desc,
                               const void *data, size_t len, size_t chunk, const char *request_id,
                               att_meta **out, cli_status *st) {
  *out = NULL;
  cli_stream *s = cli_stream_open(w.rec_ch, REC "UploadAttachment", th_bearer(tok), 1, 30000);
  assert_non_null(s);
  size_t off = 0;
  int first = 1;
  do {
    Hoso__Records__V1__UploadAttachmentRequest m = HOSO__RECORDS__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
    if (first) {
      m.record_id = (char *)record_id;
      m.file_name = (char *)name;
      m.description = (char *)desc;
      m.request_id = (char *)(request_id ? request_id : "");
    }
    size_t n = len - off < chunk ? len - off : chunk;
    m.chunk.data = (uint8_t *)data + off;
    m.chunk.len = n;
    off += n;
    first = 0;
    if (cli_stream_send(s, &m.base) != 0) break; /* the server has already answered */
  } while (off < len);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m = NULL;
  if (cli_stream_recv(s, &hoso__records__v1__upload_attachment_response__descriptor, &m) == 1) {
    Hoso__Records__V1__UploadAttachmentResponse *r = (void *)m;
    *out = r->attachment;
    r->attachment = NULL;
    protobuf_c_message_free_unpacked(m, NULL);
  }
  grpc_status_code c = cli_stream_finish(s, st);
  if (c != GRPC_STATUS_OK && *out) {
    protobuf_c_message_free_unpacked(&(*out)->base, NULL);
    *out = NULL;
  }
  return c;
}

/* Downloads an attachment: *buf (malloc'd) and *meta on OK. */
static grpc_status_code download(const char *tok, const char *id, unsigned char **buf, size_t *len,
                                 att_meta **meta, cli_status *st) {
  *buf = NULL;
  *len = 0;
  *meta = NULL;
  cli_stream *s = cli_stream_open(w.rec_ch, REC "DownloadAttachment", th_bearer(tok), 1, 30000);
  assert_non_null(s);
  Hoso__Records__V1__DownloadAttachmentRequest req = HOSO__RECORDS__V1__DOWNLOAD_ATTACHMENT_REQUEST__INIT;
  req.attachment_id = (char *)id;
  assert_int_equal(cli_stream_send(s, &req.base), 0);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m = NULL;
  int n = 0;
  while (cli_stream_recv(s, &hoso__records__v1__download_attachment_response__descriptor, &m) == 1) {
    Hoso__Records__V1__DownloadAttachmentResponse *r = (void *)m;
    if (n++ == 0) { /* the metadata comes first, alone */
      assert_non_null(r->attachment);
      *meta = r->attachment;
      r->attachment = NULL;
    } else {
      assert_null(r->attachment);
      assert_true(r->chunk.len > 0 && r->chunk.len <= MIB);
      *buf = realloc(*buf, *len + r->chunk.len);
      memcpy(*buf + *len, r->chunk.data, r->chunk.len);
      *len += r->chunk.len;
    }
    protobuf_c_message_free_unpacked(m, NULL);
  }
  return cli_stream_finish(s, st);
}

static Hoso__Records__V1__ListAttachmentsResponse *list(const char *tok, const char *record_id,
                                                        grpc_status_code want) {
  Hoso__Records__V1__ListAttachmentsRequest req = HOSO__RECORDS__V1__LIST_ATTACHMENTS_REQUEST__INIT;
  req.record_id = (char *)record_id;
  Hoso__Records__V1__ListAttachmentsResponse *out = NULL;
  cli_status st;
  grpc_status_code c = th_call(w.rec_ch, REC "ListAttachments", &req,
                               &hoso__records__v1__list_attachments_response__descriptor, (void **)&out, tok, &st);
  if (c != want) fail_msg("ListAttachments: %s %s", cli_status_name(c), st.message);
  return out;
}

static size_t count(const char *record_id) {
  Hoso__Records__V1__ListAttachmentsResponse *l = list(w.tok_d1_reader, record_id, GRPC_STATUS_OK);
  size_t n = l->n_attachments;
  protobuf_c_message_free_unpacked(&l->base, NULL);
  return n;
}

static void free_meta(att_meta *m) {
  if (m) protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* ------------------------------------------------------------ tests --------------------- */

/* What goes up comes down byte for byte, with the SHA-256 of those bytes, for a one-message PDF
 * and a PNG of 2.5 MiB sent in 1 MiB chunks (so it spans several messages both ways). */
static void test_roundtrip(void **state) {
  (void)state;
  size_t png_len = 5 * MIB / 2;
  unsigned char *png = malloc(png_len);
  static const unsigned char sig[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
  memcpy(png, sig, 8);
  for (size_t i = 8; i < png_len; i++) png[i] = (unsigned char)(i * 2654435761u >> 13);
  cli_status st;
  att_meta *a = NULL, *b = NULL;
  assert_int_equal(upload(w.tok_d1_updater, rec_d1, "Quyết định tuyển dụng.pdf", "QĐ số 12/QĐ-UBND",
                          pdf, sizeof pdf - 1, MIB, NULL, &a, &st), GRPC_STATUS_OK);
  assert_string_equal(a->content_type, "application/pdf");
  assert_int_equal(a->size, sizeof pdf - 1);
  assert_string_equal(a->file_name, "Quyết định tuyển dụng.pdf");
  assert_int_equal(upload(w.tok_d1_updater, rec_d1, "bang-tot-nghiep.png", "", png, png_len, MIB, NULL, &b, &st),
                   GRPC_STATUS_OK);
  assert_string_equal(b->content_type, "image/png");
  char want[65];
  sha_hex(png, png_len, want);
  assert_string_equal(b->sha256, want);

  Hoso__Records__V1__ListAttachmentsResponse *l = list(w.tok_d1_reader, rec_d1, GRPC_STATUS_OK);
  int seen = 0;
  for (size_t i = 0; i < l->n_attachments; i++)
    seen += !strcmp(l->attachments[i]->id, a->id) + !strcmp(l->attachments[i]->id, b->id);
  assert_int_equal(seen, 2);
  protobuf_c_message_free_unpacked(&l->base, NULL);
  /* The list names the person's documents: a read, recorded with the attachments it showed. */
  assert_true(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'ATTACHMENT_LIST' AND target_id = $1 "
                       "AND detail LIKE '%\"' || $2 || '\"%'", rec_d1, b->id) >= 1);

  unsigned char *got;
  size_t len;
  att_meta *m;
  assert_int_equal(download(w.tok_d1_reader, b->id, &got, &len, &m, &st), GRPC_STATUS_OK);
  assert_int_equal(len, png_len);
  assert_memory_equal(got, png, png_len);
  char have[65];
  sha_hex(got, len, have);
  assert_string_equal(have, m->sha256);
  free(got);
  free_meta(m);
  assert_int_equal(download(w.tok_d1_reader, a->id, &got, &len, &m, &st), GRPC_STATUS_OK);
  assert_int_equal(len, sizeof pdf - 1);
  assert_memory_equal(got, pdf, len);
  assert_string_equal(m->description, "QĐ số 12/QĐ-UBND");
  free(got);
  free_meta(m);
  /* Audit: one upload row each, and one download row per download. */
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'ATTACHMENT_UPLOAD' "
                            "AND target_id = $1 AND $2 <> ''", b->id, "x"), 1);
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'ATTACHMENT_DOWNLOAD' "
                            "AND target_id = $1 AND $2 <> ''", a->id, "x"), 1);
  free_meta(a);
  free_meta(b);
  free(png);
}

/* The bytes decide the type, never the name; anything but PDF, JPEG or PNG is refused, and a
 * refused upload stores nothing. */
static void test_type_by_content(void **state) {
  (void)state;
  static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9};
  static const char elf[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
  static const char html[] = "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>";
  cli_status st;
  att_meta *a = NULL;
  assert_int_equal(upload(w.tok_d1_updater, rec_d1, "scan.pdf", "", jpeg, sizeof jpeg, MIB, NULL, &a, &st),
                   GRPC_STATUS_OK);
  assert_string_equal(a->content_type, "image/jpeg");
  free_meta(a);
  size_t before = count(rec_d1);
  th_expect(upload(w.tok_d1_updater, rec_d1, "scan.pdf", "", elf, sizeof elf - 1, MIB, NULL, &a, &st), &st,
            GRPC_STATUS_INVALID_ARGUMENT, "content");
  assert_non_null(strstr(st.message, "only PDF, JPEG or PNG scans are accepted (detected: an ELF executable)"));
  th_expect(upload(w.tok_d1_updater, rec_d1, "scan.png", "", html, sizeof html - 1, MIB, NULL, &a, &st), &st,
            GRPC_STATUS_INVALID_ARGUMENT, "content");
  assert_non_null(strstr(st.message, "detected: text or HTML"));
  th_expect(upload(w.tok_d1_updater, rec_d1, "empty.pdf", "", "", 0, MIB, NULL, &a, &st), &st,
            GRPC_STATUS_INVALID_ARGUMENT, "content");
  assert_int_equal(count(rec_d1), before);
}

/* 21 MiB in 1 MiB chunks passes the 20 MiB limit on the 21st chunk: refused, nothing stored,
 * and the service goes on (the next small upload works). A chunk over 1 MiB is refused too. */
static void test_too_big(void **state) {
  (void)state;
  size_t n = 21 * MIB;
  char *big = malloc(n);
  memset(big, 0, n);
  memcpy(big, "%PDF-1.4\n", 9);
  size_t before = count(rec_d1);
  cli_status st;
  att_meta *a = NULL;
  th_expect(upload(w.tok_d1_updater, rec_d1, "big.pdf", "", big, n, MIB, NULL, &a, &st), &st,
            GRPC_STATUS_INVALID_ARGUMENT, "content");
  assert_non_null(strstr(st.message, "larger than 20 MiB"));
  th_expect(upload(w.tok_d1_updater, rec_d1, "big.pdf", "", big, 2 * MIB, 2 * MIB, NULL, &a, &st), &st,
            GRPC_STATUS_INVALID_ARGUMENT, "chunk");
  free(big);
  assert_int_equal(count(rec_d1), before);
  assert_int_equal(upload(w.tok_d1_updater, rec_d1, "after.pdf", "", pdf, sizeof pdf - 1, MIB, NULL, &a, &st),
                   GRPC_STATUS_OK);
  free_meta(a);
}

/* Every metadata field is checked, naming the field. */
static void test_validation(void **state) {
  (void)state;
  cli_status st;
  att_meta *a = NULL;
  char longdesc[2100];
  memset(longdesc, 'a', 2001);
  longdesc[2001] = 0;
  th_expect(upload(w.tok_d1_updater, rec_d1, "../etc/passwd.pdf", "", pdf, sizeof pdf - 1, MIB, NULL, &a, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "file_name");
  th_expect(upload(w.tok_d1_updater, rec_d1, "a\\b.pdf", "", pdf, sizeof pdf - 1, MIB, NULL, &a, &st), &st,
            GRPC_STATUS_INVALID_ARGUMENT, "file_name");
  th_expect(upload(w.tok_d1_updater, rec_d1, "", "", pdf, sizeof pdf - 1, MIB, NULL, &a, &st), &st,
            GRPC_STATUS_INVALID_ARGUMENT, "file_name");
  th_expect(upload(w.tok_d1_updater, rec_d1, "x.pdf", longdesc, pdf, sizeof pdf - 1, MIB, NULL, &a, &st), &st,
            GRPC_STATUS_INVALID_ARGUMENT, "description");
  th_expect(upload(w.tok_d1_updater, "abc", "x.pdf", "", pdf, sizeof pdf - 1, MIB, NULL, &a, &st), &st,
            GRPC_STATUS_INVALID_ARGUMENT, "record_id");
  th_expect(upload(w.tok_d1_updater, "999999999", "x.pdf", "", pdf, sizeof pdf - 1, MIB, NULL, &a, &st), &st,
            GRPC_STATUS_NOT_FOUND, "record_id");
}

/* Scope: a READER of d2 sees nothing of a d1 record's attachments; a READER of d1 may read but
 * not upload; the person (SELF) may download the attachments of their own record. */
static void test_scope(void **state) {
  (void)state;
  cli_status st;
  att_meta *a = NULL;
  assert_int_equal(upload(w.tok_d1_updater, rec_d1, "hop-dong.pdf", "", pdf, sizeof pdf - 1, MIB, NULL, &a, &st),
                   GRPC_STATUS_OK);
  assert_null(list(w.tok_d2_reader, rec_d1, GRPC_STATUS_PERMISSION_DENIED));
  unsigned char *got;
  size_t len;
  att_meta *m;
  th_expect(download(w.tok_d2_reader, a->id, &got, &len, &m, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  assert_null(got);
  att_meta *b = NULL;
  th_expect(upload(w.tok_d1_reader, rec_d1, "x.pdf", "", pdf, sizeof pdf - 1, MIB, NULL, &b, &st), &st,
            GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(upload(w.tok_d2_updater, rec_d1, "x.pdf", "", pdf, sizeof pdf - 1, MIB, NULL, &b, &st), &st,
            GRPC_STATUS_PERMISSION_DENIED, "record_id");
  char *self = th_world_self_token(&w, w.d1u_id, rec_d1);
  assert_non_null(self);
  assert_int_equal(download(self, a->id, &got, &len, &m, &st), GRPC_STATUS_OK);
  assert_int_equal(len, sizeof pdf - 1);
  free(got);
  free_meta(m);
  free(self);
  th_expect(download(w.tok_d1_reader, "999999999", &got, &len, &m, &st), &st, GRPC_STATUS_NOT_FOUND,
            "attachment_id");
  free_meta(a);
}

/* A retried upload with the same request_id returns the first attachment and stores no second. */
static void test_idempotent(void **state) {
  (void)state;
  cli_status st;
  att_meta *a = NULL, *b = NULL;
  size_t before = count(rec_d1);
  assert_int_equal(upload(w.tok_d1_updater, rec_d1, "lan1.pdf", "", pdf, sizeof pdf - 1, MIB, "att-req-1", &a, &st),
                   GRPC_STATUS_OK);
  assert_int_equal(upload(w.tok_d1_updater, rec_d1, "lan1.pdf", "", pdf, sizeof pdf - 1, MIB, "att-req-1", &b, &st),
                   GRPC_STATUS_OK);
  assert_string_equal(a->id, b->id);
  assert_int_equal(count(rec_d1), before + 1);
  free_meta(a);
  free_meta(b);
}

/* A record moved to d2 by the transfers service takes its attachments along: d2's reader lists
 * and downloads them, d1's reader no longer does, and the stored unit path is d2's. */
static void test_follows_transfer(void **state) {
  (void)state;
  char id[32];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Trần Văn Chuyển", id), 0);
  cli_status st;
  att_meta *a = NULL;
  assert_int_equal(upload(w.tok_d1_updater, id, "qd-dieu-dong.pdf", "", pdf, sizeof pdf - 1, MIB, NULL, &a, &st),
                   GRPC_STATUS_OK);

  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = "310/QĐ-UBND";
  d.date = "2025-12-15";
  d.effective_date = "2026-01-01";
  d.issuer = "UBND tỉnh";
  Hoso__Records__V1__SetManagingUnitRequest mv = HOSO__RECORDS__V1__SET_MANAGING_UNIT_REQUEST__INIT;
  mv.record_id = id;
  mv.new_unit_id = w.d2_id;
  mv.transfer_id = "tr-att-1";
  mv.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE;
  mv.decision = &d;
  th_expect(th_call(w.rec_ch, REC "SetManagingUnit", &mv, &hoso__records__v1__set_managing_unit_response__descriptor,
                    NULL, w.tok_transfers, &st), &st, GRPC_STATUS_OK, NULL);

  Hoso__Records__V1__ListAttachmentsResponse *l = list(w.tok_d2_reader, id, GRPC_STATUS_OK);
  assert_int_equal(l->n_attachments, 1);
  protobuf_c_message_free_unpacked(&l->base, NULL);
  assert_null(list(w.tok_d1_reader, id, GRPC_STATUS_PERMISSION_DENIED));
  unsigned char *got;
  size_t len;
  att_meta *m;
  assert_int_equal(download(w.tok_d2_reader, a->id, &got, &len, &m, &st), GRPC_STATUS_OK);
  free(got);
  free_meta(m);
  assert_int_equal(sql_long("SELECT count(*) FROM records.attachments WHERE id = $1::bigint AND unit_path::text = $2",
                            a->id, w.d2_path), 1);
  free_meta(a);
}

/* ------------------------------------------------------------ setup --------------------- */

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  if (PQstatus(admin_db) != CONNECTION_OK) return -1;
  return th_world_record(&w, w.tok_d1_updater, w.d1_id, "Nguyễn Thị Lan", rec_d1);
}

static int teardown(void **state) {
  (void)state;
  if (admin_db) PQfinish(admin_db);
  char rec_log[256];
  snprintf(rec_log, sizeof rec_log, "%s", w.records.log);
  int rc = th_world_stop(&w);
  /* Every refusal above is a chosen status: no fault inside the service. */
  return rc == 0 && th_log_errors(rec_log) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),       cmocka_unit_test(test_type_by_content),
      cmocka_unit_test(test_too_big),         cmocka_unit_test(test_validation),
      cmocka_unit_test(test_scope),           cmocka_unit_test(test_idempotent),
      cmocka_unit_test(test_follows_transfer),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
