/* ImportRecords over real gRPC and PostgreSQL: good CSV, JSON and binary (length-prefixed
 * Record) batches stored as drafts with their first versions and one audit row, a bad row
 * reported with its line and field while nothing is applied, broken binary framing, dry runs,
 * the error cap, content over the 4 MiB limit, who may import where, request_id idempotency, and
 * the binary format through the HTTP gateway. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "pbjson.h"
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"

typedef Hoso__Records__V1__ImportRecordsRequest ImportReq;
typedef Hoso__Records__V1__ImportRecordsResponse ImportResp;

static th_world w;
static th_svc gw; /* the HTTP gateway in front of the world's identity and records */
static PGconn *admin_db;

static long long sql_long(const char *q, const char *p1) {
  const char *params[1] = {p1};
  PGresult *r = PQexecParams(admin_db, q, p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static long long n_records(void) { return sql_long("SELECT count(*) FROM records.records", NULL); }

static grpc_status_code import(const char *tok, const char *unit, int format, const char *content, size_t len,
                               int dry_run, const char *request_id, ImportResp **out, cli_status *st) {
  ImportReq req = HOSO__RECORDS__V1__IMPORT_RECORDS_REQUEST__INIT;
  req.unit_id = (char *)unit;
  req.format = format;
  req.content.data = (uint8_t *)content;
  req.content.len = len ? len : strlen(content);
  req.dry_run = dry_run;
  req.request_id = (char *)(request_id ? request_id : "");
  cli_status local;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  *out = NULL;
  /* a whole 4 MiB import under the sanitizers on a loaded machine takes longer than th_call's
   * 15 s (seen: the memory bomb's, past 35 s); waited for, up to 3 minutes */
  return th_call_ms(w.rec_ch, REC "ImportRecords", &req, &hoso__records__v1__import_records_response__descriptor,
                    (void **)out, tok, 180000, st);
}

#define CSV HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_CSV
#define JSON HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON
#define PROTO HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_PROTO

static const char good_csv[] =
    "full_name,birth_date,gender,personal.ethnicity_code,personal.home_town,employment.category,"
    "salary.rank_code,salary.step,salary.coefficient,work_history[0].from,work_history[0].unit\n"
    "Nguyễn Văn Bảy,1979-05-01,GENDER_MALE,01,\"Xã Tiên Hưng, huyện Lục Nam\",CATEGORY_CIVIL_SERVANT,01.003,4,3.33,"
    "2004-09,UBND huyện Lục Nam\n"
    "Hoàng Thị Tám,1986-11-20,GENDER_FEMALE,02,Xã Bảo Sơn,CATEGORY_PUBLIC_EMPLOYEE,V.07.04.32,2,2.67,2010-09,"
    "Trường THCS Thị trấn Đồi Ngô\n"
    "Lý Văn Chín,1990-02-28,GENDER_MALE,09,Xã An Lạc,CATEGORY_COMMUNE_OFFICIAL,01.004,1,2.10,,\n";

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  if (PQstatus(admin_db) != CONNECTION_OK) return -1;
  char idn[96], rec[96], dead[96], dead2[96];
  snprintf(idn, sizeof idn, "HOSO_IDENTITY_ADDR=%s", w.identity.addr);
  snprintf(rec, sizeof rec, "HOSO_RECORDS_ADDR=%s", w.records.addr);
  int port = th_free_port();
  snprintf(dead, sizeof dead, "HOSO_TRANSFERS_ADDR=127.0.0.1:%d", port);
  snprintf(dead2, sizeof dead2, "HOSO_REPORTING_ADDR=127.0.0.1:%d", port);
  const char *env[] = {idn, rec, dead, dead2, "HOSO_GATEWAY_READY_BACKENDS=identity,records", NULL};
  return th_http_start(&gw, "hoso-gateway", "HOSO_GATEWAY_ADDR", &w.pg, env);
}

static int teardown(void **state) {
  (void)state;
  if (admin_db) PQfinish(admin_db);
  int rc = gw.pid > 0 && th_svc_stop(&gw) != 0 ? -1 : 0;
  int errors = th_log_errors(w.records.log) + (gw.pid > 0 ? th_log_errors(gw.log) : 0);
  return th_world_stop(&w) == 0 && errors == 0 && rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ binary batches ------------ */

typedef Hoso__Records__V1__Record Record;

/* A growing IMPORT_FORMAT_PROTO file. */
typedef struct {
  uint8_t *b;
  size_t len, cap;
} pbfile;

static void pb_raw(pbfile *f, const void *p, size_t n) {
  if (n == 0) return;
  if (f->len + n > f->cap) {
    f->cap = (f->len + n) * 2 + 64;
    f->b = realloc(f->b, f->cap);
    assert_non_null(f->b);
  }
  memcpy(f->b + f->len, p, n);
  f->len += n;
}

static void pb_varint(pbfile *f, uint64_t v) {
  uint8_t b[10];
  size_t k = 0;
  do {
    b[k++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
    v >>= 7;
  } while (v);
  pb_raw(f, b, k);
}

/* Appends r's length then r, with `extra` bytes of wire form added inside the message. */
static void pb_add_with(pbfile *f, const Record *r, const void *extra, size_t extra_len) {
  size_t n = protobuf_c_message_get_packed_size(&r->base);
  uint8_t *m = malloc(n + 1);
  protobuf_c_message_pack(&r->base, m);
  pb_varint(f, n + extra_len);
  pb_raw(f, m, n);
  pb_raw(f, extra, extra_len);
  free(m);
}

static void pb_add(pbfile *f, const Record *r) { pb_add_with(f, r, NULL, 0); }

/* Imports f as IMPORT_FORMAT_PROTO; the call itself must succeed (refused records are in the
 * response). */
static ImportResp *import_pb(const char *tok, const char *unit, const pbfile *f, const char *request_id) {
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(tok, unit, PROTO, (const char *)f->b, f->len, 0, request_id, &r, &st), &st, GRPC_STATUS_OK, NULL);
  return r;
}

/* A dossier with the fields every import test fills, the rest empty. */
typedef struct {
  Record r;
  Hoso__Records__V1__PersonalInfo p;
  Hoso__Records__V1__Employment e;
  Hoso__Records__V1__WorkHistoryEntry wp, *wps[1];
} person;

static void person_init(person *x, const char *name, const char *birth, int male, const char *ethnicity) {
  hoso__records__v1__record__init(&x->r);
  hoso__records__v1__personal_info__init(&x->p);
  hoso__records__v1__employment__init(&x->e);
  hoso__records__v1__work_history_entry__init(&x->wp);
  x->r.full_name = (char *)name;
  x->r.birth_date = (char *)birth;
  x->r.gender = male ? HOSO__RECORDS__V1__GENDER__GENDER_MALE : HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  x->p.ethnicity_code = (char *)ethnicity;
  x->p.home_town = "Xã Tiên Hưng, huyện Lục Nam";
  x->r.personal = &x->p;
  x->e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  x->r.employment = &x->e;
  x->wp.from = "2005-09";
  x->wp.unit = "Phòng Nội vụ huyện Lục Nam";
  x->wps[0] = &x->wp;
  x->r.work_history = x->wps;
  x->r.n_work_history = 1;
}

static long long n_versions(void) { return sql_long("SELECT count(*) FROM records.record_versions", NULL); }

/* A good CSV batch: every row becomes a draft record of the unit with a first version made by
 * action IMPORT, and the batch leaves one RECORD_IMPORT audit row naming every id. */
static void test_good_csv(void **state) {
  (void)state;
  long long before = n_records();
  long long audits = sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_IMPORT'", NULL);
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, 3);
  assert_int_equal(r->imported, 3);
  assert_int_equal(r->n_errors, 0);
  assert_int_equal(r->n_record_ids, 3);
  assert_int_equal(n_records(), before + 3);
  for (size_t i = 0; i < 3; i++) {
    const char *id = r->record_ids[i];
    /* Drafts of d1 (004 Đ10: the unit approves later), version 1. */
    assert_int_equal(sql_long("SELECT workflow_state FROM records.records WHERE id = $1::bigint", id), 1);
    assert_int_equal(sql_long("SELECT managing_unit_id FROM records.records WHERE id = $1::bigint", id), atoll(w.d1_id));
    assert_int_equal(sql_long("SELECT count(*) FROM records.record_versions WHERE record_id = $1::bigint "
                              "AND version = 1 AND action = 'IMPORT'", id),
                     1);
  }
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_IMPORT'", NULL), audits + 1);
  PGresult *a = PQexec(admin_db, "SELECT detail, unit_path FROM records.audit_log WHERE action = 'RECORD_IMPORT' "
                                 "ORDER BY seq DESC LIMIT 1");
  for (size_t i = 0; i < 3; i++) assert_non_null(strstr(PQgetvalue(a, 0, 0), r->record_ids[i]));
  assert_non_null(strstr(PQgetvalue(a, 0, 0), "\"count\":3"));
  assert_string_equal(PQgetvalue(a, 0, 1), w.d1_path);
  PQclear(a);

  /* The stored record is the row as read: GetRecord gives the CSV's values back. */
  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = r->record_ids[1];
  Hoso__Records__V1__GetRecordResponse *gr = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "GetRecord", &g, &hoso__records__v1__get_record_response__descriptor, (void **)&gr,
                           w.tok_d1_reader, &st),
                   GRPC_STATUS_OK);
  assert_string_equal(gr->record->full_name, "Hoàng Thị Tám");
  assert_string_equal(gr->record->salary->coefficient, "2.67");
  assert_string_equal(gr->record->work_history[0]->unit, "Trường THCS Thị trấn Đồi Ngô");
  assert_int_equal(gr->record->version, 1);
  free_msg(gr);
  free_msg(r);
}

/* JSON: an array and JSON Lines both import; the names are searchable at once. */
static void test_good_json(void **state) {
  (void)state;
  long long before = n_records();
  ImportResp *r = NULL;
  cli_status st;
  const char *arr =
      "[{\"fullName\":\"Phan Thị Mười\",\"birthDate\":\"1991-01-01\",\"gender\":\"GENDER_FEMALE\","
      "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"},"
      "\"family\":[{\"relationCode\":\"FATHER\",\"fullName\":\"Phan Văn Một\",\"birthYear\":\"1960\"}]},"
      "{\"full_name\":\"Vũ Văn Mười Một\",\"birth_date\":\"1992-02-02\",\"gender\":\"GENDER_MALE\","
      "\"employment\":{\"category\":\"CATEGORY_PUBLIC_EMPLOYEE\"}}]";
  th_expect(import(w.tok_d2_updater, w.d2_id, JSON, arr, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, 2);
  assert_int_equal(r->imported, 2);
  free_msg(r);
  const char *lines =
      "{\"fullName\":\"Bùi Văn Mười Hai\",\"birthDate\":\"1993-03-03\",\"gender\":\"GENDER_MALE\",\"employment\":{\"category\":\"CATEGORY_CADRE\"}}\n"
      "{\"fullName\":\"Đỗ Thị Mười Ba\",\"birthDate\":\"1994-04-04\",\"gender\":\"GENDER_FEMALE\",\"employment\":{\"category\":\"CATEGORY_CONTRACT\"}}\n";
  th_expect(import(w.tok_d2_updater, w.d2_id, JSON, lines, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->imported, 2);
  free_msg(r);
  assert_int_equal(n_records(), before + 4);

  Hoso__Records__V1__SearchRecordsRequest q = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.name = "muoi";
  Hoso__Records__V1__SearchRecordsResponse *sr = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "SearchRecords", &q, &hoso__records__v1__search_records_response__descriptor,
                           (void **)&sr, w.tok_d2_reader, &st),
                   GRPC_STATUS_OK);
  /* Mười (given name), Mười Một and Mười Hai (middle words), Mười Ba: four word starts. */
  assert_int_equal(sr->total, 4);
  free_msg(sr);
}

/* One bad row among good ones: the whole batch is refused, each error names its line and
 * field, and not one record is added. */
static void test_bad_row_nothing_applied(void **state) {
  (void)state;
  long long before = n_records();
  long long versions = sql_long("SELECT count(*) FROM records.record_versions", NULL);
  const char *csv =
      "full_name,birth_date,gender,personal.ethnicity_code,employment.category\n"
      "Trần Văn Một,1980-01-01,GENDER_MALE,01,CATEGORY_CIVIL_SERVANT\n"
      "Trần Văn Hai,1980-01-01,GENDER_MALE,99,CATEGORY_CIVIL_SERVANT\n"   /* line 3: unknown ethnicity */
      "Trần Văn Ba,1980-02-30,GENDER_MALE,01,CATEGORY_CIVIL_SERVANT\n"    /* line 4: no such date */
      "Trần Văn Bốn,1980-01-01,GENDER_MALE,01,CATEGORY_CIVIL_SERVANT\n";
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, 4);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_record_ids, 0);
  assert_int_equal(r->n_errors, 2);
  assert_int_equal(r->errors[0]->line, 3);
  assert_string_equal(r->errors[0]->field, "personal.ethnicity_code");
  assert_non_null(strstr(r->errors[0]->message, "99"));
  assert_int_equal(r->errors[1]->line, 4);
  assert_string_equal(r->errors[1]->field, "birth_date");
  free_msg(r);
  assert_int_equal(n_records(), before);
  assert_int_equal(sql_long("SELECT count(*) FROM records.record_versions", NULL), versions);

  /* JSON: the error is at the array index + 1. */
  const char *arr = "[{\"fullName\":\"Lê Văn Năm\",\"birthDate\":\"1980-01-01\",\"gender\":\"GENDER_MALE\","
                    "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"}},"
                    "{\"fullName\":\"Lê Văn Sáu\",\"birthDate\":\"1980-01-01\",\"gender\":\"GENDER_MALE\","
                    "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"},\"salary\":{\"rankCode\":\"XX.999\"}}]";
  th_expect(import(w.tok_d1_updater, w.d1_id, JSON, arr, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_errors, 1);
  assert_int_equal(r->errors[0]->line, 2);
  assert_string_equal(r->errors[0]->field, "salary.rank_code");
  free_msg(r);
  assert_int_equal(n_records(), before);
}

/* Past 1 000 errors the response lists the first 1 000 and says how many more there were. */
static void test_error_cap(void **state) {
  (void)state;
  size_t cap = 1300 * 80 + 200, o = 0;
  char *csv = malloc(cap);
  o += (size_t)snprintf(csv + o, cap - o, "full_name,birth_date,gender,employment.category\n");
  for (int i = 0; i < 1200; i++)
    o += (size_t)snprintf(csv + o, cap - o, "Người Thứ %d,1980-13-01,GENDER_MALE,CATEGORY_CIVIL_SERVANT\n", i);
  long long before = n_records();
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, csv, o, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, 1200);
  assert_int_equal(r->imported, 0);
  /* 1 000 listed, then one line that counts the rest. */
  assert_int_equal(r->n_errors, 1001);
  assert_int_equal(r->errors[0]->line, 2);
  assert_non_null(strstr(r->errors[1000]->message, "200 more errors"));
  free_msg(r);
  free(csv);
  assert_int_equal(n_records(), before);
}

/* A dry run validates and counts, and stores nothing, even when every row is good. */
static void test_dry_run(void **state) {
  (void)state;
  long long before = n_records();
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, good_csv, 0, 1, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, 3);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_errors, 0);
  assert_int_equal(r->n_record_ids, 0);
  free_msg(r);
  assert_int_equal(n_records(), before);
}

/* Content beyond the 4 MiB message limit is refused before any handler runs; nothing changes. */
static void test_oversize(void **state) {
  (void)state;
  size_t n = (4u << 20) + 1024;
  char *big = malloc(n + 1);
  memset(big, 'a', n);
  big[n] = 0;
  long long before = n_records();
  ImportResp *r = NULL;
  cli_status st;
  grpc_status_code c = import(w.tok_d1_updater, w.d1_id, CSV, big, n, 0, NULL, &r, &st);
  assert_int_equal(c, GRPC_STATUS_RESOURCE_EXHAUSTED);
  assert_null(r);
  free(big);
  assert_int_equal(n_records(), before);
  /* Empty content is named. */
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, "", 0, 0, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "content");
}

/* Importing is the updaters' job within their subtree: a READER may not, an UPDATER of d2 may
 * not import into d1, and bad fields are named. */
static void test_permissions_and_fields(void **state) {
  (void)state;
  long long before = n_records();
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_reader, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(import(w.tok_d2_updater, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
            "unit_id");
  th_expect(import(w.tok_d1_admin, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  /* An updater of d1u (below d1) may not import into d1 above it. */
  th_expect(import(w.tok_d1u_updater, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
            "unit_id");
  th_expect(import(NULL, w.d1_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
  th_expect(import(w.tok_d1_updater, "", CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_id");
  th_expect(import(w.tok_d1_updater, w.d1_id, 0, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "format");
  /* unit_tree_path answers an unknown unit as a bad argument naming the field. */
  th_expect(import(w.tok_d1_updater, "999999", CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_id");
  assert_int_equal(n_records(), before);
  /* The UPDATER of d1 may import into d1u below it. */
  th_expect(import(w.tok_d1_updater, w.d1u_id, CSV, good_csv, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->imported, 3);
  free_msg(r);
  assert_int_equal(n_records(), before + 3);
}

/* The same request_id again returns the first call's ids and adds nothing. */
static void test_idempotent(void **state) {
  (void)state;
  long long before = n_records();
  ImportResp *a = NULL, *b = NULL;
  cli_status st;
  th_expect(import(w.tok_d2_updater, w.d2_id, CSV, good_csv, 0, 0, "nhap-lo-2026-001", &a, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(import(w.tok_d2_updater, w.d2_id, CSV, good_csv, 0, 0, "nhap-lo-2026-001", &b, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(a->imported, 3);
  assert_int_equal(b->imported, 3);
  assert_int_equal(b->rows, 3);
  assert_int_equal(b->n_record_ids, 3);
  for (size_t i = 0; i < 3; i++) assert_string_equal(a->record_ids[i], b->record_ids[i]);
  free_msg(a);
  free_msg(b);
  assert_int_equal(n_records(), before + 3);
  /* A failed batch does not use up its request_id: fixed and sent again, it imports. */
  const char *bad = "full_name,birth_date,gender,employment.category\nLê Văn Lỗi,1980-01-01,GENDER_MALE,CATEGORY_NONE\n";
  th_expect(import(w.tok_d2_updater, w.d2_id, CSV, bad, 0, 0, "nhap-lo-2026-002", &a, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(a->imported, 0);
  assert_true(a->n_errors >= 1);
  free_msg(a);
  const char *fixed = "full_name,birth_date,gender,employment.category\nLê Văn Lỗi,1980-01-01,GENDER_MALE,CATEGORY_CADRE\n";
  th_expect(import(w.tok_d2_updater, w.d2_id, CSV, fixed, 0, 0, "nhap-lo-2026-002", &a, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(a->imported, 1);
  free_msg(a);
  assert_int_equal(n_records(), before + 4);
}

/* A good binary batch: each message becomes a draft of the unit with its first version, the
 * batch one audit row, and the stored dossier is the message as sent (a decomposed "ễ" comes
 * back composed: binary text goes through the same NFC cleaning as CSV and JSON). */
static void test_proto_good(void **state) {
  (void)state;
  long long before = n_records(), versions = n_versions();
  long long audits = sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_IMPORT'", NULL);
  person a, b, c;
  person_init(&a, "Nguye\xcc\x82\xcc\x83n Văn Nhị", "1981-03-04", 1, "01"); /* ễ as e + two marks */
  person_init(&b, "Hoàng Thị Tam", "1987-07-08", 0, "02");
  person_init(&c, "Lý Văn Tứ", "1991-09-10", 1, "09");
  c.r.n_work_history = 0;
  pbfile f = {0};
  pb_add(&f, &a.r);
  pb_add(&f, &b.r);
  pb_add(&f, &c.r);
  cli_status st;
  ImportResp *r = import_pb(w.tok_d1_updater, w.d1_id, &f, NULL);
  assert_int_equal(r->rows, 3);
  assert_int_equal(r->imported, 3);
  assert_int_equal(r->n_errors, 0);
  assert_int_equal(r->n_record_ids, 3);
  assert_int_equal(n_records(), before + 3);
  assert_int_equal(n_versions(), versions + 3);
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_IMPORT'", NULL), audits + 1);
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(sql_long("SELECT workflow_state FROM records.records WHERE id = $1::bigint", r->record_ids[i]), 1);
    /* The first version holds the same dossier as the record. */
    assert_int_equal(sql_long("SELECT count(*) FROM records.record_versions v JOIN records.records r ON r.id = "
                              "v.record_id WHERE v.record_id = $1::bigint AND v.version = 1 AND v.action = 'IMPORT' "
                              "AND v.data = r.data",
                              r->record_ids[i]),
                     1);
  }
  /* The search columns are computed from the stored name: "Nhi" finds the first one. */
  assert_int_equal(sql_long("SELECT count(*) FROM records.records WHERE id = $1::bigint AND name_folded = "
                            "'nguyen van nhi'",
                            r->record_ids[0]),
                   1);
  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = r->record_ids[0];
  Hoso__Records__V1__GetRecordResponse *gr = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "GetRecord", &g, &hoso__records__v1__get_record_response__descriptor,
                           (void **)&gr, w.tok_d1_reader, &st),
                   GRPC_STATUS_OK);
  assert_string_equal(gr->record->full_name, "Nguyễn Văn Nhị");
  assert_string_equal(gr->record->personal->home_town, "Xã Tiên Hưng, huyện Lục Nam");
  assert_int_equal(gr->record->n_work_history, 1);
  assert_string_equal(gr->record->work_history[0]->unit, "Phòng Nội vụ huyện Lục Nam");
  assert_string_equal(gr->record->managing_unit_id, w.d1_id);
  free_msg(gr);
  free_msg(r);
  free(f.b);
}

/* One bad record in the middle of a binary batch: the error names its ordinal (2) and its field
 * as the validation of every format does, and nothing of the batch is stored. A field number
 * Record does not have and a NUL inside a string are named too, with their path: protobuf-c
 * would otherwise drop the one and cut the other silently. */
static void test_proto_bad_record(void **state) {
  (void)state;
  long long before = n_records(), versions = n_versions();
  person a, b, c;
  person_init(&a, "Trần Văn Một", "1980-01-01", 1, "01");
  person_init(&b, "Trần Văn Hai", "1980-01-01", 1, "99"); /* no ethnicity 99 in the catalogue */
  person_init(&c, "Trần Văn Ba", "1980-01-01", 1, "01");
  pbfile f = {0};
  pb_add(&f, &a.r);
  pb_add(&f, &b.r);
  pb_add(&f, &c.r);
  ImportResp *r = import_pb(w.tok_d1_updater, w.d1_id, &f, NULL);
  assert_int_equal(r->rows, 3);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_record_ids, 0);
  assert_int_equal(r->n_errors, 1);
  assert_int_equal(r->errors[0]->line, 2);
  assert_string_equal(r->errors[0]->field, "personal.ethnicity_code");
  assert_non_null(strstr(r->errors[0]->message, "99"));
  free_msg(r);
  assert_int_equal(n_records(), before);
  assert_int_equal(n_versions(), versions);

  /* Record 1: field 999 (varint 1) inside its work period; record 3: a NUL in the name. */
  f.len = 0;
  static const uint8_t field999[] = {0xb8, 0x3e, 0x01}; /* tag (999 << 3 | 0), value 1 */
  Hoso__Records__V1__WorkHistoryEntry *wp = a.r.work_history[0];
  size_t n = protobuf_c_message_get_packed_size(&wp->base);
  uint8_t *inner = malloc(n + sizeof field999);
  protobuf_c_message_pack(&wp->base, inner);
  memcpy(inner + n, field999, sizeof field999);
  a.r.n_work_history = 0;
  /* The work period again, by hand: its tag from the descriptor, its bytes with field 999. */
  const ProtobufCFieldDescriptor *fd =
      protobuf_c_message_descriptor_get_field_by_name(&hoso__records__v1__record__descriptor, "work_history");
  pbfile wrapped = {0};
  pb_varint(&wrapped, (uint64_t)fd->id << 3 | 2);
  pb_varint(&wrapped, n + sizeof field999);
  pb_raw(&wrapped, inner, n + sizeof field999);
  pb_add_with(&f, &a.r, wrapped.b, wrapped.len);
  pb_add(&f, &b.r);
  person_init(&c, "Trần Văn BXa", "1980-01-01", 1, "01");
  size_t at = f.len;
  pb_add(&f, &c.r);
  uint8_t *x = memchr(f.b + at, 'X', f.len - at);
  assert_non_null(x);
  *x = 0;
  r = import_pb(w.tok_d1_updater, w.d1_id, &f, NULL);
  assert_int_equal(r->rows, 3);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_errors, 3);
  assert_int_equal(r->errors[0]->line, 1);
  assert_string_equal(r->errors[0]->field, "work_history[0].#999");
  assert_int_equal(r->errors[1]->line, 2);
  assert_string_equal(r->errors[1]->field, "personal.ethnicity_code");
  assert_int_equal(r->errors[2]->line, 3);
  assert_string_equal(r->errors[2]->field, "full_name");
  assert_non_null(strstr(r->errors[2]->message, "NUL"));
  free_msg(r);
  free(inner);
  free(wrapped.b);
  free(f.b);
  assert_int_equal(n_records(), before);
}

/* Broken framing: a length prefix cut off at the end, or a length beyond the end, is reported at
 * that record and ends the read (nothing after it can be found again); bytes that are not a
 * Record message are reported with their ordinal and the read goes on. A batch with any of
 * these imports nothing. */
static void test_proto_truncated(void **state) {
  (void)state;
  long long before = n_records();
  person a;
  person_init(&a, "Đỗ Văn Năm", "1985-05-05", 1, "01");
  ImportResp *r = NULL;
  cli_status st;

  /* Two good records, then a prefix whose last byte still says "more follows". */
  pbfile f = {0};
  pb_add(&f, &a.r);
  pb_add(&f, &a.r);
  static const uint8_t cut[] = {0xa5, 0x80};
  pb_raw(&f, cut, sizeof cut);
  r = import_pb(w.tok_d1_updater, w.d1_id, &f, NULL);
  assert_int_equal(r->rows, 3);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_errors, 1);
  assert_int_equal(r->errors[0]->line, 3);
  assert_non_null(strstr(r->errors[0]->message, "truncated"));
  free_msg(r);

  /* The second record's last 10 bytes are missing. */
  f.len = 0;
  pb_add(&f, &a.r);
  pb_add(&f, &a.r);
  f.len -= 10;
  r = import_pb(w.tok_d1_updater, w.d1_id, &f, NULL);
  assert_int_equal(r->rows, 2);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_errors, 1);
  assert_int_equal(r->errors[0]->line, 2);
  assert_non_null(strstr(r->errors[0]->message, "truncated"));
  free_msg(r);

  /* A JSON file sent as PROTO: "{" is a length of 123 whose bytes are no Record. */
  const char *json = "{\"fullName\":\"Đỗ Văn Năm\",\"birthDate\":\"1985-05-05\",\"gender\":\"GENDER_MALE\","
                     "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"},\"personal\":{\"homeTown\":\"Xã "
                     "Bảo Sơn, huyện Lục Nam, tỉnh Bắc Giang\"}}\n";
  th_expect(import(w.tok_d1_updater, w.d1_id, PROTO, json, 0, 0, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->imported, 0);
  assert_true(r->n_errors >= 1);
  assert_int_equal(r->errors[0]->line, 1);
  assert_non_null(strstr(r->errors[0]->message, "not a valid hoso.records.v1.Record"));
  free_msg(r);
  free(f.b);
  assert_int_equal(n_records(), before);
}

/* A record over 1 MiB (a length prefix no dossier needs), or with a list longer than any dossier
 * holds, is refused with its ordinal while the records around it are still read, so the answer
 * lists every problem at once; content over the 4 MiB message limit is refused whole, as for
 * the other formats. Nothing is stored. */
static void test_proto_oversize(void **state) {
  (void)state;
  long long before = n_records();
  person a, big;
  person_init(&a, "Phạm Văn Sáu", "1986-06-06", 1, "01");
  person_init(&big, "Phạm Văn Bảy", "1987-07-07", 1, "01");
  size_t n = (1u << 20) + 100;
  char *text = malloc(n + 1);
  memset(text, 'a', n);
  text[n] = 0;
  big.p.permanent_address = text;
  Hoso__Records__V1__Record bad = a.r;
  bad.birth_date = "1986-02-30";
  pbfile f = {0};
  pb_add(&f, &a.r);
  pb_add(&f, &big.r);
  pb_add(&f, &bad);
  cli_status st;
  ImportResp *r = import_pb(w.tok_d1_updater, w.d1_id, &f, NULL);
  assert_int_equal(r->rows, 3);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_errors, 2);
  assert_int_equal(r->errors[0]->line, 2);
  assert_non_null(strstr(r->errors[0]->message, "at most 1048576 bytes per record"));
  assert_int_equal(r->errors[1]->line, 3);
  assert_string_equal(r->errors[1]->field, "birth_date");
  free_msg(r);

  /* 1 001 empty family entries: 3 bytes each on the wire, a struct each once unpacked; refused
   * before unpacking (validation would allow 500), and the next record is still read. */
  f.len = 0;
  const ProtobufCFieldDescriptor *fam =
      protobuf_c_message_descriptor_get_field_by_name(&hoso__records__v1__record__descriptor, "family");
  pbfile many = {0};
  for (int i = 0; i < 1001; i++) {
    pb_varint(&many, (uint64_t)fam->id << 3 | 2);
    pb_varint(&many, 0);
  }
  pb_add_with(&f, &a.r, many.b, many.len);
  pb_add(&f, &bad);
  r = import_pb(w.tok_d1_updater, w.d1_id, &f, NULL);
  assert_int_equal(r->rows, 2);
  assert_int_equal(r->imported, 0);
  assert_int_equal(r->n_errors, 2);
  assert_int_equal(r->errors[0]->line, 1);
  assert_string_equal(r->errors[0]->field, "family");
  assert_non_null(strstr(r->errors[0]->message, "more than 1000 entries"));
  assert_string_equal(r->errors[1]->field, "birth_date");
  free_msg(r);
  free(many.b);

  /* Four such records: over the message limit before the service sees them. */
  f.len = 0;
  for (int i = 0; i < 4; i++) pb_add(&f, &big.r);
  assert_int_equal(import(w.tok_d1_updater, w.d1_id, PROTO, (const char *)f.b, f.len, 0, NULL, &r, &st),
                   GRPC_STATUS_RESOURCE_EXHAUSTED);
  assert_null(r);
  free(text);
  free(f.b);
  assert_int_equal(n_records(), before);
}

/* request_id with the binary format: the same id again returns the first ids and adds nothing;
 * a refused batch leaves its id unused; and an id belongs to the call, not to the format, so the
 * same batch sent as CSV under an id already used returns the first result. */
static void test_proto_idempotent(void **state) {
  (void)state;
  long long before = n_records();
  person a, b;
  person_init(&a, "Vũ Văn Tám", "1988-08-08", 1, "01");
  person_init(&b, "Vũ Thị Chín", "1989-09-09", 0, "01");
  pbfile f = {0};
  pb_add(&f, &a.r);
  pb_add(&f, &b.r);
  ImportResp *x = NULL, *y = NULL;
  cli_status st;
  x = import_pb(w.tok_d2_updater, w.d2_id, &f, "nhap-nhi-phan-001");
  y = import_pb(w.tok_d2_updater, w.d2_id, &f, "nhap-nhi-phan-001");
  assert_int_equal(x->imported, 2);
  assert_int_equal(y->imported, 2);
  assert_int_equal(y->n_record_ids, 2);
  for (size_t i = 0; i < 2; i++) assert_string_equal(x->record_ids[i], y->record_ids[i]);
  free_msg(y);
  th_expect(import(w.tok_d2_updater, w.d2_id, CSV, good_csv, 0, 0, "nhap-nhi-phan-001", &y, &st), &st, GRPC_STATUS_OK,
            NULL);
  assert_int_equal(y->imported, 2);
  assert_string_equal(x->record_ids[0], y->record_ids[0]);
  free_msg(x);
  free_msg(y);
  assert_int_equal(n_records(), before + 2);

  /* Refused (a record without a name), then fixed and sent again under the same id. */
  b.r.full_name = "";
  f.len = 0;
  pb_add(&f, &a.r);
  pb_add(&f, &b.r);
  x = import_pb(w.tok_d2_updater, w.d2_id, &f, "nhap-nhi-phan-002");
  assert_int_equal(x->imported, 0);
  assert_int_equal(x->errors[0]->line, 2);
  assert_string_equal(x->errors[0]->field, "full_name");
  free_msg(x);
  b.r.full_name = "Vũ Thị Mười";
  f.len = 0;
  pb_add(&f, &a.r);
  pb_add(&f, &b.r);
  x = import_pb(w.tok_d2_updater, w.d2_id, &f, "nhap-nhi-phan-002");
  assert_int_equal(x->imported, 2);
  free_msg(x);
  free(f.b);
  assert_int_equal(n_records(), before + 4);
}

/* ------------------------------------------------------------ through the gateway ------- */

/* One HTTP/1.1 request to the gateway, the whole answer read until it closes the connection.
 * Returns the status code and sets *body (malloc'd). */
static int http_post(const char *path, const char *token, const char *json, char **body) {
  int port = atoi(strrchr(gw.addr, ':') + 1);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  size_t jn = strlen(json), cap = jn + 1024, o = 0;
  char *req = malloc(cap);
  o = (size_t)snprintf(req, cap,
                       "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                       "Authorization: Bearer %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                       path, token, jn);
  memcpy(req + o, json, jn);
  o += jn;
  for (size_t sent = 0; sent < o;) {
    ssize_t k = write(fd, req + sent, o - sent);
    assert_true(k > 0);
    sent += (size_t)k;
  }
  free(req);
  size_t rcap = 65536, rn = 0;
  char *resp = malloc(rcap);
  for (ssize_t k; (k = read(fd, resp + rn, rcap - rn - 1)) > 0;) {
    rn += (size_t)k;
    if (rn + 1 == rcap) resp = realloc(resp, rcap *= 2);
  }
  close(fd);
  resp[rn] = 0;
  int status = 0;
  sscanf(resp, "HTTP/1.1 %d", &status);
  char *b = strstr(resp, "\r\n\r\n");
  *body = strdup(b ? b + 4 : "");
  free(resp);
  return status;
}

/* ImportRecords is reachable over HTTP (the Connect-style JSON face): the binary batch travels
 * as the base64 of `content` and the enum by name, and the answer is the same as over gRPC —
 * stored and counted, or refused with the ordinal and field of the bad record. */
static void test_proto_through_gateway(void **state) {
  (void)state;
  long long before = n_records();
  person a, b;
  person_init(&a, "Bùi Văn Mười Lăm", "1990-01-15", 1, "01");
  person_init(&b, "Bùi Thị Mười Sáu", "1991-01-16", 0, "01");
  pbfile f = {0};
  pb_add(&f, &a.r);
  pb_add(&f, &b.r);
  ImportReq req = HOSO__RECORDS__V1__IMPORT_RECORDS_REQUEST__INIT;
  req.unit_id = w.d1_id;
  req.format = PROTO;
  req.content.data = f.b;
  req.content.len = f.len;
  char *json = pbjson_encode(&req.base, 0);
  assert_non_null(strstr(json, "IMPORT_FORMAT_PROTO"));
  char *body = NULL;
  int code = http_post("/hoso.records.v1.Records/ImportRecords", w.tok_d1_updater, json, &body);
  if (code != 200) fail_msg("gateway answered %d: %s", code, body);
  assert_non_null(strstr(body, "\"imported\":2"));
  free(body);
  free(json);
  assert_int_equal(n_records(), before + 2);

  b.r.birth_date = "1991-13-01";
  f.len = 0;
  pb_add(&f, &a.r);
  pb_add(&f, &b.r);
  req.content.data = f.b;
  req.content.len = f.len;
  json = pbjson_encode(&req.base, 0);
  code = http_post("/hoso.records.v1.Records/ImportRecords", w.tok_d1_updater, json, &body);
  assert_int_equal(code, 200);
  assert_null(strstr(body, "\"imported\":2"));
  assert_non_null(strstr(body, "\"line\":2"));
  assert_non_null(strstr(body, "\"field\":\"birth_date\""));
  free(body);
  free(json);
  free(f.b);
  assert_int_equal(n_records(), before + 2);
}

/* The memory bombs of the review, sent to the running service: list indexes cost nothing by
 * themselves (10 000 two-byte rows naming work_history[499] are read like any rows), an index
 * past what a list may hold is refused by its column, and a file whose records would take more
 * memory than one import may (empty family entries, 1 byte each in a 4 MiB CSV) is refused
 * whole with INVALID_ARGUMENT naming the line and column where the reading stopped. The
 * service answers the next import as before. */
static void test_memory_bombs(void **state) {
  (void)state;
  long long before = n_records();
  size_t n = 10000, len = strlen("work_history[499].from\n") + 2 * n;
  char *t = malloc(len + 1);
  size_t o = (size_t)sprintf(t, "work_history[499].from\n");
  for (size_t i = 0; i < n; i++) o += (size_t)sprintf(t + o, "x\n");
  ImportResp *r = NULL;
  cli_status st;
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, t, o, 1, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->rows, (int)n);
  assert_true(r->n_errors > 0); /* no names, no dates: validation's errors, row by row */
  free_msg(r);
  memcpy(t, "work_history[999].from\n", strlen("work_history[999].from\n"));
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, t, o, 1, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->n_errors, 1);
  assert_string_equal(r->errors[0]->field, "work_history[999].from");
  free_msg(r);
  free(t);

  char head[500 * 32 + 2], row[500 * 2 + 2];
  size_t h = 0, k = 0;
  for (int i = 0; i < 500; i++) {
    h += (size_t)sprintf(head + h, "%sfamily[%d].full_name", i ? "," : "", i);
    k += (size_t)sprintf(row + k, "%sx", i ? "," : "");
  }
  h += (size_t)sprintf(head + h, "\n");
  k += (size_t)sprintf(row + k, "\n");
  size_t rows = ((4u << 20) - 64 * 1024 - h) / k;
  t = malloc(h + rows * k);
  memcpy(t, head, h);
  for (size_t i = 0; i < rows; i++) memcpy(t + h + i * k, row, k);
  assert_int_equal(import(w.tok_d1_updater, w.d1_id, CSV, t, h + rows * k, 0, NULL, &r, &st),
                   GRPC_STATUS_INVALID_ARGUMENT);
  assert_null(r);
  assert_true(strncmp(st.message, "content: line ", 14) == 0);
  assert_non_null(strstr(st.message, "column family["));
  assert_non_null(strstr(st.message, "split the file"));
  free(t);
  th_expect(import(w.tok_d1_updater, w.d1_id, CSV, good_csv, 0, 1, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->n_errors, 0);
  free_msg(r);
  assert_int_equal(n_records(), before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_csv),
      cmocka_unit_test(test_good_json),
      cmocka_unit_test(test_bad_row_nothing_applied),
      cmocka_unit_test(test_error_cap),
      cmocka_unit_test(test_dry_run),
      cmocka_unit_test(test_oversize),
      cmocka_unit_test(test_permissions_and_fields),
      cmocka_unit_test(test_idempotent),
      cmocka_unit_test(test_proto_good),
      cmocka_unit_test(test_proto_bad_record),
      cmocka_unit_test(test_proto_truncated),
      cmocka_unit_test(test_proto_oversize),
      cmocka_unit_test(test_proto_idempotent),
      cmocka_unit_test(test_proto_through_gateway),
      cmocka_unit_test(test_memory_bombs),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
