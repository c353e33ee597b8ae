/* Out of the system and back in through a package, over real services: an OUT_OF_SYSTEM
 * transfer freezes the record, its package (record, every version, attachments, scans, a signed
 * manifest of SHA-256 sums) makes it TRANSFERRED_OUT — read by its unit's administrators only,
 * changed by nobody — and the same package again on request, streamed in chunks of at most
 * 1 MiB; a package with a changed part, a changed manifest, a cut end, a stream that stops early
 * or no framing at all is refused naming what is wrong and changes nothing; the good one becomes
 * a draft of the receiving unit with its history, attachments and NEW_RECORD deadline. A dossier
 * with 30 MiB of scans (past gRPC's 4 MiB message) goes out and back in the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "th_transfers.h"

#define K(x) HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_##x
#define S(x) HOSO__TRANSFERS__V1__TRANSFER_STATE__TRANSFER_STATE_##x
#define RS(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x
#define OK GRPC_STATUS_OK
#define WAIT_MS 60000
#define REC "/hoso.records.v1.Records/"

static th_world w;
static th_tr tr;
static char key_path[256], key_env[300];
static uint8_t *pkg;
static size_t pkg_len;
static char rec[32], transfer[32];

static int make_key(void) { return th_tr_package_key("package", key_path, sizeof key_path, key_env, sizeof key_env); }

static int setup(void **state) {
  (void)state;
  if (make_key() != 0 || th_world_start(&w, 1, NULL) != 0) return -1;
  const char *env[] = {key_env, NULL};
  return th_tr_start(&tr, &w, env);
}

static int teardown(void **state) {
  (void)state;
  free(pkg);
  unlink(key_path);
  char logs[2][256];
  snprintf(logs[0], 256, "%s", tr.svc.log);
  snprintf(logs[1], 256, "%s", w.records.log);
  int rc = th_tr_stop(&tr) | th_world_stop(&w);
  for (int i = 0; i < 2; i++) rc |= th_log_errors(logs[i]) != 0;
  return rc ? -1 : 0;
}

static long long sql_long(const char *sql) {
  PGconn *c = PQconnectdb(w.pg.admin_dsn);
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
  long long n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return n;
}

static grpc_status_code upload(const char *id) {
  static const char pdf[] = "%PDF-1.4\n% the appointment decision\n%%EOF\n";
  cli_stream *s = cli_stream_open(w.rec_ch, REC "UploadAttachment", th_bearer(w.tok_d1_updater), 1, 15000);
  Hoso__Records__V1__UploadAttachmentRequest ua = HOSO__RECORDS__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
  ua.record_id = (char *)id;
  ua.file_name = "quyet-dinh-bo-nhiem.pdf";
  ua.chunk.data = (uint8_t *)pdf;
  ua.chunk.len = sizeof pdf - 1;
  (void)cli_stream_send(s, &ua.base);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m = NULL;
  if (cli_stream_recv(s, &hoso__records__v1__upload_attachment_response__descriptor, &m) == 1)
    protobuf_c_message_free_unpacked(m, NULL);
  cli_status st;
  return cli_stream_finish(s, &st);
}

/* The package of `transfer` as the sending unit's updater gets it: the status wanted, else the
 * test fails; chunks never above 1 MiB, the first message's size and sum those of the bytes. */
static void export_pkg(const char *id, grpc_status_code want, th_package *p, cli_status *st) {
  grpc_status_code c = th_tr_export(&tr, w.tok_d1_updater, id, p, st);
  if (c != want) fail_msg("ExportTransferPackage: %s %s", cli_status_name(c), st->message);
  if (c != OK) return;
  assert_non_null(p->head);
  assert_true(p->largest_chunk <= (1u << 20));
  assert_int_equal(p->head->size, (long long)p->len);
  unsigned char md[32];
  unsigned n = 0;
  char hex[65];
  EVP_Digest(p->bytes, p->len, md, &n, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  assert_string_equal(p->head->sha256, hex);
}

/* The record goes out: frozen by the send, packaged, then TRANSFERRED_OUT for good. */
static void test_export(void **state) {
  (void)state;
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Trương Thị Ra Đi", rec), 0);
  assert_int_equal(upload(rec), OK);
  th_transfer *x = th_tr_begin(&tr, w.tok_d1_updater, rec, K(OUT_OF_SYSTEM), NULL, NULL, "2026-01-05", &st);
  if (!x) fail_msg("StartTransfer: %s", st.message);
  snprintf(transfer, sizeof transfer, "%s", x->id);
  assert_string_equal(x->destination, "Tỉnh ủy Bắc Giang");
  th_tr_free(x);
  th_package p;
  export_pkg(transfer, GRPC_STATUS_FAILED_PRECONDITION, &p, &st); /* not sent yet */
  th_package_free(&p);
  th_tr_free(th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", transfer, &st));
  assert_int_equal(th_tr_wait_delivered(&tr, transfer, WAIT_MS), 0);
  Hoso__Records__V1__Record *r = th_tr_record(&tr, rec);
  assert_int_equal(r->status, RS(PENDING_TRANSFER));
  protobuf_c_message_free_unpacked(&r->base, NULL);

  export_pkg(transfer, OK, &p, &st);
  assert_int_equal(p.head->transfer->state, S(EXPORTED));
  assert_true(p.len > 100);
  assert_string_equal(p.head->transfer->package_sha256, p.head->sha256);
  pkg_len = p.len;
  pkg = malloc(pkg_len);
  memcpy(pkg, p.bytes, pkg_len);
  char sha[65];
  snprintf(sha, sizeof sha, "%s", p.head->sha256);
  th_package_free(&p);
  assert_int_equal(th_tr_wait_delivered(&tr, transfer, WAIT_MS), 0);

  /* Asked again: the same package, and the copy handed out is in the audit log. */
  long long reads = sql_long("SELECT count(*) FROM transfers.audit_log WHERE action = 'TRANSFER_PACKAGE_READ'");
  export_pkg(transfer, OK, &p, &st);
  assert_string_equal(p.head->sha256, sha);
  assert_int_equal(p.len, pkg_len);
  assert_memory_equal(p.bytes, pkg, pkg_len);
  th_package_free(&p);
  assert_true(sql_long("SELECT count(*) FROM transfers.audit_log WHERE action = 'TRANSFER_PACKAGE_READ'") == reads + 1);

  /* Out of the system: read-only, read by its last unit's administrators only. */
  r = th_tr_record(&tr, rec);
  assert_int_equal(r->status, RS(TRANSFERRED_OUT));
  protobuf_c_message_free_unpacked(&r->base, NULL);
  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = rec;
  assert_int_equal(th_call(w.rec_ch, REC "GetRecord", &g, &hoso__records__v1__get_record_response__descriptor, NULL,
                           w.tok_d1_admin, NULL),
                   OK);
  assert_int_equal(th_call(w.rec_ch, REC "GetRecord", &g, &hoso__records__v1__get_record_response__descriptor, NULL,
                           w.tok_d1_reader, NULL),
                   GRPC_STATUS_PERMISSION_DENIED);
  assert_int_equal(upload(rec), GRPC_STATUS_FAILED_PRECONDITION);
}

static long long made_count(void) {
  return sql_long("SELECT (SELECT count(*) FROM records.records) + (SELECT count(*) FROM transfers.transfers) + "
                  "(SELECT count(*) FROM records.attachments)");
}

/* A package sent as `size` bytes of which the first len come, refused with INVALID_ARGUMENT
 * whose message starts with `field` (and holds `also` when given); nothing is made. */
static void import_fails(const uint8_t *bytes, size_t len, long long size, const char *field, const char *also) {
  long long before = made_count();
  cli_status st;
  grpc_status_code c = th_tr_import(&tr, w.tok_d2_updater, bytes, len, size, w.d2_id, NULL, NULL, &st);
  fprintf(stderr, "refused: %s %s\n", cli_status_name(c), st.message);
  assert_int_equal(c, GRPC_STATUS_INVALID_ARGUMENT);
  /* The message starts with the field it names: the part, the signature, the package. */
  assert_memory_equal(st.message, field, strlen(field));
  if (also) assert_non_null(strstr(st.message, also));
  assert_true(made_count() == before);
}

/* Each damage is named and nothing is made. */
static void test_tampered_packages_refused(void **state) {
  (void)state;
  assert_non_null(pkg);
  uint8_t *bad = malloc(pkg_len);
  /* A byte of the attachment changed. */
  memcpy(bad, pkg, pkg_len);
  const uint8_t *pdf = memmem(bad, pkg_len, "the appointment decision", 24);
  assert_non_null(pdf);
  bad[pdf - bad] ^= 0x20;
  import_fails(bad, pkg_len, (long long)pkg_len, "package.parts[attachments/", "SHA-256");
  /* The manifest changed: the signature no longer holds. */
  memcpy(bad, pkg, pkg_len);
  uint8_t *m = memmem(bad, pkg_len, "\"record_name\"", 13);
  assert_non_null(m);
  m[2] ^= 0x01;
  import_fails(bad, pkg_len, (long long)pkg_len, "package.signature", NULL);
  /* Cut short: the file itself (its size as announced), and the stream stopping early. */
  import_fails(pkg, pkg_len - 7, (long long)pkg_len - 7, "package.parts[", "truncated");
  import_fails(pkg, pkg_len - 7, (long long)pkg_len, "package.parts[", "the stream ended after");
  /* Not a package at all. */
  import_fails((const uint8_t *)"%PDF-1.4 not a package", 22, 22, "package", NULL);
  free(bad);
}

/* The good package comes back in as a draft of district 2: a new record, its versions kept
 * below the draft's, its attachment with the same bytes; asked again, the same draft. */
static void test_import_back_in(void **state) {
  (void)state;
  assert_non_null(pkg);
  Hoso__Transfers__V1__ImportTransferPackageResponse *o = NULL;
  cli_status st;
  char imported_on[11];
  th_tr_day(0, imported_on);
  th_expect(th_tr_import(&tr, w.tok_d1_updater, pkg, pkg_len, (long long)pkg_len, w.d2_id, NULL, NULL, &st), &st,
            GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  if (th_tr_import(&tr, w.tok_d2_updater, pkg, pkg_len, (long long)pkg_len, w.d2_id, NULL, &o, &st) != OK)
    fail_msg("ImportTransferPackage: %s", st.message);
  char made[32];
  snprintf(made, sizeof made, "%s", o->record_id);
  assert_string_not_equal(made, rec);
  assert_int_equal(o->transfer->kind, K(IMPORT));
  assert_int_equal(o->transfer->state, S(IMPORTED));
  protobuf_c_message_free_unpacked(&o->base, NULL);
  /* The draft is district 2's new record: its NEW_RECORD deadline counts from the day it was
   * taken in (the person's recruitment lies years back, in the other deployment). */
  Hoso__Transfers__V1__Deadline *dl =
      th_tr_wait_deadline(&tr, w.tok_d2_reader, w.d2_id, made, HOSO__TRANSFERS__V1__STEP_KIND__STEP_KIND_NEW_RECORD,
                          WAIT_MS);
  assert_non_null(dl);
  char today[11];
  th_tr_day(0, today);
  assert_string_equal(dl->unit_id, w.d2_id);
  /* taken in today (or yesterday, when midnight passed since the import) */
  assert_true(!strcmp(dl->start_date, today) || !strcmp(dl->start_date, imported_on));
  assert_true(strcmp(dl->due_date, dl->start_date) > 0);
  protobuf_c_message_free_unpacked(&dl->base, NULL);

  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = made;
  Hoso__Records__V1__GetRecordResponse *got = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "GetRecord", &g, &hoso__records__v1__get_record_response__descriptor,
                           (void **)&got, w.tok_d2_reader, NULL),
                   OK);
  assert_string_equal(got->record->full_name, "Trương Thị Ra Đi");
  assert_string_equal(got->record->managing_unit_id, w.d2_id);
  assert_int_equal(got->record->workflow_state, HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_DRAFT);
  assert_int_equal(got->record->status, RS(ACTIVE));
  protobuf_c_message_free_unpacked(&got->base, NULL);
  Hoso__Records__V1__ListRecordVersionsRequest lv = HOSO__RECORDS__V1__LIST_RECORD_VERSIONS_REQUEST__INIT;
  lv.record_id = made;
  Hoso__Records__V1__ListRecordVersionsResponse *vs = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "ListRecordVersions", &lv,
                           &hoso__records__v1__list_record_versions_response__descriptor, (void **)&vs, w.tok_d2_reader,
                           NULL),
                   OK);
  /* The draft (version 1) above the record's own past as the package holds it: created, then
   * frozen for the package (PENDING_TRANSFER). */
  assert_int_equal(vs->n_versions, 3);
  assert_string_equal(vs->versions[0]->action, "IMPORT_PACKAGE");
  assert_int_equal(vs->versions[0]->version, 1);
  assert_string_equal(vs->versions[1]->action, "IMPORTED_MANAGING_UNIT");
  assert_string_equal(vs->versions[vs->n_versions - 1]->action, "IMPORTED_CREATE");
  protobuf_c_message_free_unpacked(&vs->base, NULL);
  Hoso__Records__V1__ListAttachmentsRequest la = HOSO__RECORDS__V1__LIST_ATTACHMENTS_REQUEST__INIT;
  la.record_id = made;
  Hoso__Records__V1__ListAttachmentsResponse *as = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "ListAttachments", &la, &hoso__records__v1__list_attachments_response__descriptor,
                           (void **)&as, w.tok_d2_reader, NULL),
                   OK);
  assert_int_equal(as->n_attachments, 1);
  assert_string_equal(as->attachments[0]->file_name, "quyet-dinh-bo-nhiem.pdf");
  protobuf_c_message_free_unpacked(&as->base, NULL);

  /* The same package again: the same draft, no second record. */
  long long records = sql_long("SELECT count(*) FROM records.records");
  if (th_tr_import(&tr, w.tok_d2_updater, pkg, pkg_len, (long long)pkg_len, w.d2_id, NULL, &o, &st) != OK)
    fail_msg("ImportTransferPackage again: %s", st.message);
  assert_string_equal(o->record_id, made);
  protobuf_c_message_free_unpacked(&o->base, NULL);
  assert_true(sql_long("SELECT count(*) FROM records.records") == records);
}

/* ------------------------------------------------------------ 30 MiB of scans ---------- */

#define BIG_FILES 3
#define BIG_FILE (10u << 20)

/* A scanned PDF of n bytes (the header, then pseudo-random "pages"), uploaded in 1 MiB chunks. */
static void upload_big(const char *id, int k, char sha[65]) {
  uint8_t *b = malloc(BIG_FILE);
  memcpy(b, "%PDF-1.4\n", 9);
  uint32_t x = 2463534242u + (uint32_t)k;
  for (size_t i = 9; i < BIG_FILE; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b[i] = (uint8_t)x;
  }
  unsigned char md[32];
  unsigned n = 0;
  EVP_Digest(b, BIG_FILE, md, &n, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++) snprintf(sha + 2 * i, 3, "%02x", md[i]);
  cli_stream *s = cli_stream_open(w.rec_ch, REC "UploadAttachment", th_bearer(w.tok_d1_updater), 1, 120000);
  Hoso__Records__V1__UploadAttachmentRequest ua = HOSO__RECORDS__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
  ua.record_id = (char *)id;
  char name[64];
  snprintf(name, sizeof name, "ho-so-quet-%d.pdf", k);
  ua.file_name = name;
  for (size_t off = 0; off < BIG_FILE; off += 1u << 20) {
    ua.chunk.data = b + off;
    ua.chunk.len = 1u << 20;
    assert_int_equal(cli_stream_send(s, &ua.base), 0);
    ua = (Hoso__Records__V1__UploadAttachmentRequest)HOSO__RECORDS__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
  }
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m = NULL;
  if (cli_stream_recv(s, &hoso__records__v1__upload_attachment_response__descriptor, &m) == 1)
    protobuf_c_message_free_unpacked(m, NULL);
  cli_status st;
  if (cli_stream_finish(s, &st) != OK) fail_msg("UploadAttachment: %s", st.message);
  free(b);
}

/* A dossier with three 10 MiB scans goes out in a package of more than 30 MiB, streamed in
 * chunks of at most 1 MiB; a byte changed in the second scan, or the stream stopping halfway,
 * is refused naming the part and makes nothing; the whole package comes back in as a draft
 * whose three scans have the sums they left with. */
static void test_thirty_mib_of_scans(void **state) {
  (void)state;
  char big[32], id[32], sums[BIG_FILES][65];
  cli_status st;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Phùng Văn Nhiều Trang", big), 0);
  for (int k = 0; k < BIG_FILES; k++) upload_big(big, k, sums[k]);
  th_transfer *x = th_tr_begin(&tr, w.tok_d1_updater, big, K(OUT_OF_SYSTEM), NULL, NULL, "2026-01-05", &st);
  if (!x) fail_msg("StartTransfer: %s", st.message);
  snprintf(id, sizeof id, "%s", x->id);
  th_tr_free(x);
  th_tr_free(th_tr_act(&tr, w.tok_d1_updater, "SendTransfer", id, &st));
  assert_int_equal(th_tr_wait_delivered(&tr, id, WAIT_MS), 0);
  th_package p;
  export_pkg(id, OK, &p, &st);
  assert_true(p.len > (size_t)BIG_FILES * BIG_FILE);
  assert_true(p.messages > BIG_FILES * 10);
  fprintf(stderr, "package: %zu bytes in %d messages, largest chunk %zu\n", p.len, p.messages, p.largest_chunk);

  /* A byte of the second scan changed: its name's last occurrence is its part's framing (the
   * manifest names it before), its content follows. */
  const char *mark = "/ho-so-quet-1.pdf";
  uint8_t *second = NULL;
  for (uint8_t *q = p.bytes, *end = p.bytes + p.len; (q = memmem(q, (size_t)(end - q), mark, strlen(mark))); q++)
    second = q;
  assert_non_null(second);
  second[4096] ^= 0x01; /* inside its content, past the framing */
  import_fails(p.bytes, p.len, (long long)p.len, "package.parts[attachments/", "ho-so-quet-1.pdf");
  second[4096] ^= 0x01;
  /* The stream stops halfway through (the second scan). */
  import_fails(p.bytes, p.len / 2, (long long)p.len, "package.parts[attachments/", "truncated");

  Hoso__Transfers__V1__ImportTransferPackageResponse *o = NULL;
  if (th_tr_import(&tr, w.tok_d2_updater, p.bytes, p.len, (long long)p.len, w.d2_id, "import-big-1", &o, &st) != OK)
    fail_msg("ImportTransferPackage: %s", st.message);
  th_package_free(&p);
  Hoso__Records__V1__ListAttachmentsRequest la = HOSO__RECORDS__V1__LIST_ATTACHMENTS_REQUEST__INIT;
  la.record_id = o->record_id;
  Hoso__Records__V1__ListAttachmentsResponse *as = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "ListAttachments", &la, &hoso__records__v1__list_attachments_response__descriptor,
                           (void **)&as, w.tok_d2_reader, NULL),
                   OK);
  assert_int_equal(as->n_attachments, BIG_FILES);
  for (int k = 0; k < BIG_FILES; k++) {
    assert_int_equal(as->attachments[k]->size, BIG_FILE);
    assert_string_equal(as->attachments[k]->sha256, sums[k]);
  }
  protobuf_c_message_free_unpacked(&as->base, NULL);
  protobuf_c_message_free_unpacked(&o->base, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_export),
      cmocka_unit_test(test_tampered_packages_refused),
      cmocka_unit_test(test_import_back_in),
      cmocka_unit_test(test_thirty_mib_of_scans),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
