/* The read contract records publishes for reporting (migrations 030, 031), through the real
 * records service and read as the reporting role: the role reads the views and nothing else,
 * row-level security still applies, and the facts are right in valid time (the decisions'
 * effective dates) and in transaction time (as known on a day) across moves, status changes,
 * late entries, future-dated decisions and bulk imports. Dates are relative to today so the
 * test means the same every year. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"

typedef Hoso__Records__V1__Record Record;
typedef Hoso__Records__V1__Decision Decision;

static th_world w;
static PGconn *reader; /* role hoso_report: the contract's reader */

/* ------------------------------------------------------------ helpers ------------------- */

/* Today plus `days` (UTC) as YYYY-MM-DD in buf. */
static const char *day(int days, char buf[11]) {
  time_t t = time(NULL) + (time_t)days * 86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, 11, "%Y-%m-%d", &tm);
  return buf;
}

/* One value as text from the reader inside a transaction with hoso.scope set (NULL: no row). */
static char *reader_value(const char *scope, const char *sql, int n, const char *const *p) {
  PGresult *b = PQexec(reader, "BEGIN");
  PQclear(b);
  const char *sp[1] = {scope};
  PGresult *s = PQexecParams(reader, "SELECT set_config('hoso.scope', $1, true)", 1, NULL, sp, NULL, NULL, 0);
  if (PQresultStatus(s) != PGRES_TUPLES_OK) fail_msg("set scope: %s", PQresultErrorMessage(s));
  PQclear(s);
  PGresult *r = PQexecParams(reader, sql, n, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
  char *v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
  PQclear(r);
  PGresult *e = PQexec(reader, "COMMIT");
  PQclear(e);
  return v;
}

/* A fact of a record on day `on`, as known now ("" when no period covers the day). */
static char *fact_on(const char *record, const char *fact, const char *on) {
  char sql[300];
  snprintf(sql, sizeof sql,
           "SELECT %s::text FROM records.report_facts WHERE record_id = $1::bigint AND known_to = 'infinity' "
           "AND valid_from <= $2::date AND $2::date < valid_to",
           fact);
  const char *p[2] = {record, on};
  char *v = reader_value("*", sql, 2, p);
  return v ? v : strdup("");
}

/* The same as known at the transaction time `at` (a timestamptz). */
static char *fact_on_known_at(const char *record, const char *fact, const char *on, const char *at) {
  char sql[300];
  snprintf(sql, sizeof sql,
           "SELECT %s::text FROM records.report_facts WHERE record_id = $1::bigint AND known_from <= $3::timestamptz "
           "AND $3::timestamptz < known_to AND valid_from <= $2::date AND $2::date < valid_to",
           fact);
  const char *p[3] = {record, on, at};
  char *v = reader_value("*", sql, 3, p);
  return v ? v : strdup("");
}

static void expect_fact(const char *record, const char *fact, const char *on, const char *want) {
  char *v = fact_on(record, fact, on);
  if (strcmp(v, want) != 0) fail_msg("record %s: %s on %s is '%s', want '%s'", record, fact, on, v, want);
  free(v);
}

static char *db_now(void) { return reader_value("*", "SELECT now()::text", 0, NULL); }

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

/* A civil servant of unit, recruited on `recruited`. Caller frees. */
static Record *create(const char *unit, const char *name, const char *recruited) {
  Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  Hoso__Records__V1__Qualifications q = HOSO__RECORDS__V1__QUALIFICATIONS__INIT;
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  r.managing_unit_id = (char *)unit;
  r.full_name = (char *)name;
  r.birth_date = "1980-03-02";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  e.recruitment_date = (char *)recruited;
  r.employment = &e;
  q.degree_code = "DH";
  r.qualifications = &q;
  req.record = &r;
  Hoso__Records__V1__CreateRecordResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor,
                    (void **)&out, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  Record *rec = out->record;
  out->record = NULL;
  free_msg(out);
  return rec;
}

static Record *get(const char *id) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  Hoso__Records__V1__GetRecordResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor,
                    (void **)&out, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  Record *r = out->record;
  out->record = NULL;
  free_msg(out);
  return r;
}

static Decision decision(const char *number, const char *effective) {
  Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = (char *)number;
  d.date = (char *)effective;
  d.effective_date = (char *)effective;
  d.issuer = "UBND tỉnh";
  return d;
}

static void change_status(const char *id, int status, const char *effective) {
  Decision d = decision("12/QĐ-UBND", effective);
  Hoso__Records__V1__ChangeRecordStatusRequest req = HOSO__RECORDS__V1__CHANGE_RECORD_STATUS_REQUEST__INIT;
  req.record_id = (char *)id;
  req.status = (Hoso__Records__V1__RecordStatus)status;
  req.decision = &d;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "ChangeRecordStatus", &req, &hoso__records__v1__change_record_status_response__descriptor,
                    NULL, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
}

static void move(const char *id, const char *unit, const char *transfer, const char *effective) {
  Decision d = decision("310/QĐ-UBND", effective);
  Hoso__Records__V1__SetManagingUnitRequest req = HOSO__RECORDS__V1__SET_MANAGING_UNIT_REQUEST__INIT;
  req.record_id = (char *)id;
  req.new_unit_id = (char *)unit;
  req.transfer_id = (char *)transfer;
  req.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE;
  req.decision = &d;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "SetManagingUnit", &req, &hoso__records__v1__set_managing_unit_response__descriptor,
                    NULL, w.tok_transfers, &st),
            &st, GRPC_STATUS_OK, NULL);
}

/* The degree changed by an update resting on a decision effective on `effective`. */
static void set_degree(const char *id, const char *degree, const char *effective) {
  Record *r = get(id);
  char *was = r->qualifications->degree_code;
  r->qualifications->degree_code = (char *)degree;
  Decision d = decision("77/QĐ-SNV", effective);
  Hoso__Records__V1__ChangeReason why = HOSO__RECORDS__V1__CHANGE_REASON__INIT;
  why.decision = &d;
  Hoso__Records__V1__UpdateRecordRequest req = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  req.record = r;
  req.expected_version = r->version;
  req.reason = &why;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "UpdateRecord", &req, &hoso__records__v1__update_record_response__descriptor, NULL,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  r->qualifications->degree_code = was; /* the unpacked string, freed with r */
  free_msg(r);
}

/* ------------------------------------------------------------ set-up -------------------- */

static int setup(void **state) {
  (void)state;
  /* the backfill job looks for records without facts every 200 ms (test_backfill) */
  static const char *const env[] = {"HOSO_FACTS_BACKFILL_IDLE_MS=200", NULL};
  if (th_world_start(&w, 1, env) != 0) return -1;
  char dsn[600];
  snprintf(dsn, sizeof dsn, "host=%s port=%d dbname=hoso user=hoso_report", w.pg.sock_dir, w.pg.port);
  reader = PQconnectdb(dsn);
  if (PQstatus(reader) != CONNECTION_OK) {
    fprintf(stderr, "connect as hoso_report: %s", PQerrorMessage(reader));
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (reader) PQfinish(reader);
  char rec_log[256];
  snprintf(rec_log, sizeof rec_log, "%s", w.records.log);
  int rc = th_world_stop(&w);
  return rc == 0 && th_log_errors(rec_log) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ tests --------------------- */

/* The reporting role reads the views and nothing else; the tables' row-level security still
 * decides which rows: none without a scope, one district's with its path. */
static void test_reader_role_and_scope(void **state) {
  (void)state;
  Record *a = create(w.d1_id, "Lê Văn Một", "2015-09-01");
  Record *b = create(w.d2_id, "Lê Văn Hai", "2015-09-01");
  static const char *const tables[] = {"records.records", "records.record_versions", "records.fact_periods",
                                       "records.change_requests", "records.catalog_entries"};
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
    char sql[100];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
    PGresult *r = PQexec(reader, sql);
    if (PQresultStatus(r) != PGRES_FATAL_ERROR || strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501") != 0)
      fail_msg("%s readable by hoso_report (%s)", tables[i], PQresStatus(PQresultStatus(r)));
    PQclear(r);
  }
  static const char *const views[] = {"report_facts", "report_catalog", "report_versions", "report_change_requests",
                                      "report_search_text"};
  for (size_t i = 0; i < sizeof views / sizeof *views; i++) {
    char sql[100];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM records.%s", views[i]);
    char *n = reader_value("*", sql, 0, NULL);
    assert_non_null(n);
    free(n);
  }
  const char *p[2] = {a->id, b->id};
  const char *sql = "SELECT string_agg(DISTINCT record_id::text, ',') FROM records.report_facts "
                    "WHERE record_id IN ($1::bigint, $2::bigint)";
  char *none = reader_value("", sql, 2, p), *d1 = reader_value(w.d1_path, sql, 2, p), *all = reader_value("*", sql, 2, p);
  assert_null(none);
  assert_string_equal(d1, a->id);
  /* the versions and the search text follow their record's policy (040), which looks up read
   * grants the reader has no right on (042: the lookup runs as the owner) */
  static const char *const by_record[] = {
      "SELECT string_agg(DISTINCT record_id::text, ',') FROM records.report_versions WHERE record_id IN ($1::bigint, $2::bigint)",
      "SELECT string_agg(DISTINCT record_id::text, ',') FROM records.report_search_text WHERE record_id IN ($1::bigint, $2::bigint)"};
  for (size_t i = 0; i < sizeof by_record / sizeof *by_record; i++) {
    char *seen = reader_value(w.d1_path, by_record[i], 2, p);
    if (!seen) fail_msg("district 1 reads nothing of its record through: %s", by_record[i]);
    assert_string_equal(seen, a->id);
    free(seen);
  }
  char both[80];
  snprintf(both, sizeof both, "%s,%s", a->id, b->id);
  assert_string_equal(all, both);
  free(d1);
  free(all);
  /* the catalogue comes with its salary tables */
  char *grp = reader_value("", "SELECT rank_group FROM records.report_catalog WHERE catalog = 'RANK' AND code = '01.003'",
                           0, NULL);
  assert_string_equal(grp, "A1");
  free(grp);
  free_msg(a);
  free_msg(b);
}

/* A person moved from district 1 to district 2 counts in district 1 on a day before the move's
 * effective date and in district 2 from it; the record did not exist before its recruitment. */
static void test_move_by_effective_date(void **state) {
  (void)state;
  char past[11], moved[11], before[11], today[11];
  day(-400, past);
  day(-100, moved);
  day(-101, before);
  day(0, today);
  Record *r = create(w.d1_id, "Trần Thị Chuyển", "2015-09-01");
  move(r->id, w.d2_id, "tr-contract-1", moved);
  expect_fact(r->id, "managing_unit_id", past, w.d1_id);
  expect_fact(r->id, "managing_unit_id", before, w.d1_id);
  expect_fact(r->id, "managing_unit_id", moved, w.d2_id);
  expect_fact(r->id, "managing_unit_id", today, w.d2_id);
  expect_fact(r->id, "unit_path", past, w.d1_path);
  expect_fact(r->id, "unit_path", today, w.d2_path);
  expect_fact(r->id, "managing_unit_id", "2015-08-31", "");
  expect_fact(r->id, "managing_unit_id", "2015-09-01", w.d1_id);
  /* district 1's scope sees the past period, district 2's the present one */
  const char *p[2] = {r->id, past};
  const char *sql = "SELECT count(*)::text FROM records.report_facts WHERE record_id = $1::bigint "
                    "AND known_to = 'infinity' AND valid_from <= $2::date AND $2::date < valid_to";
  char *in_d1 = reader_value(w.d1_path, sql, 2, p), *in_d2 = reader_value(w.d2_path, sql, 2, p);
  assert_string_equal(in_d1, "1");
  assert_string_equal(in_d2, "0");
  free(in_d1);
  free(in_d2);
  free_msg(r);
}

/* A retirement effective on a past day, entered today after another change: it counts from
 * its effective date in a report run now; a report "as known" before it was entered shows the
 * person at work, as the report sent then did. */
static void test_late_retirement_and_known_on(void **state) {
  (void)state;
  char eff[11], day_before[11], today[11];
  day(-5, eff);
  day(-6, day_before);
  day(0, today);
  Record *r = create(w.d1_id, "Phạm Văn Hưu", "2001-02-01");
  set_degree(r->id, "THS", day_before); /* an earlier-effective change entered first */
  char *before_entry = db_now();
  change_status(r->id, 4 /* RETIRED */, eff);
  expect_fact(r->id, "status", day_before, "1");
  expect_fact(r->id, "status", eff, "4");
  expect_fact(r->id, "status", today, "4");
  expect_fact(r->id, "degree_code", eff, "THS");
  char *then = fact_on_known_at(r->id, "status", eff, before_entry);
  assert_string_equal(then, "1");
  free(then);
  /* the periods replaced are kept, closed, never deleted */
  const char *p[1] = {r->id};
  char *closed = reader_value("*",
                              "SELECT count(*)::text FROM records.report_facts WHERE record_id = $1::bigint "
                              "AND known_to <> 'infinity'",
                              1, p);
  assert_true(atoi(closed) >= 1);
  free(closed);
  /* the versions carry their effective dates */
  char *effs = reader_value("*",
                            "SELECT string_agg(effective_date::text, ',' ORDER BY version) FROM records.report_versions "
                            "WHERE record_id = $1::bigint",
                            1, p);
  char want[40];
  snprintf(want, sizeof want, "2001-02-01,%s,%s", day_before, eff);
  assert_string_equal(effs, want);
  free(effs);
  free(before_entry);
  free_msg(r);
}

/* A decision effective in the future changes nothing today; a change entered later but
 * effective earlier does not carry that future change back with it. */
static void test_future_decision_and_out_of_order(void **state) {
  (void)state;
  char soon[11], moved[11], today[11];
  day(30, soon);
  day(-20, moved);
  day(0, today);
  Record *r = create(w.d1_id, "Đỗ Thị Tương Lai", "2010-01-04");
  set_degree(r->id, "TS", soon);
  move(r->id, w.d2_id, "tr-contract-2", moved); /* its version's snapshot holds TS already */
  expect_fact(r->id, "degree_code", today, "DH");
  expect_fact(r->id, "degree_code", soon, "TS");
  expect_fact(r->id, "managing_unit_id", moved, w.d2_id);
  expect_fact(r->id, "degree_code", moved, "DH");
  free_msg(r);
}

/* ImportRecords writes the first periods of its records in the same transaction. */
static void test_import_has_periods(void **state) {
  (void)state;
  const char csv[] =
      "full_name,birth_date,gender,employment.category,employment.recruitment_date,qualifications.foreign_languages\n"
      "Vũ Văn Nhập,1979-01-02,GENDER_MALE,CATEGORY_CIVIL_SERVANT,2012-05-07,Tiếng Anh B1\n";
  Hoso__Records__V1__ImportRecordsRequest req = HOSO__RECORDS__V1__IMPORT_RECORDS_REQUEST__INIT;
  req.unit_id = w.d1_id;
  req.format = HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_CSV;
  req.content.data = (uint8_t *)csv;
  req.content.len = strlen(csv);
  Hoso__Records__V1__ImportRecordsResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "ImportRecords", &req, &hoso__records__v1__import_records_response__descriptor,
                    (void **)&out, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  if (out->n_errors) fail_msg("import: %s: %s", out->errors[0]->field, out->errors[0]->message);
  assert_int_equal(out->n_record_ids, 1);
  const char *id = out->record_ids[0];
  expect_fact(id, "managing_unit_id", "2012-05-07", w.d1_id);
  expect_fact(id, "english_class", "2012-05-07", "1");
  expect_fact(id, "managing_unit_id", "2012-05-06", "");
  free_msg(out);
}

/* A record taken in from another deployment's transfer package keeps its past versions
 * (ImportRecordHistory), but it was not managed here then: its facts start when it came in,
 * also after a later write has composed its periods from all its versions again. */
static void test_package_past_not_counted(void **state) {
  (void)state;
  Record r = HOSO__RECORDS__V1__RECORD__INIT, past = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  r.full_name = past.full_name = "Trịnh Văn Đến";
  r.birth_date = past.birth_date = "1984-07-07";
  r.gender = past.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  e.recruitment_date = "2009-09-01";
  r.employment = past.employment = &e;
  Hoso__Records__V1__Qualifications q = HOSO__RECORDS__V1__QUALIFICATIONS__INIT;
  q.degree_code = "DH";
  r.qualifications = past.qualifications = &q;
  Hoso__Records__V1__RecordVersion v = HOSO__RECORDS__V1__RECORD_VERSION__INIT, *vs[1] = {&v};
  v.version = 4;
  v.action = "UPDATE";
  v.changed_at = "2019-05-02T03:00:00Z";
  v.record = &past;
  Hoso__Records__V1__ImportRecordHistoryRequest req = HOSO__RECORDS__V1__IMPORT_RECORD_HISTORY_REQUEST__INIT;
  req.record = &r;
  req.versions = vs;
  req.n_versions = 1;
  req.unit_id = w.d2_id;
  req.key = "package-contract-1";
  req.source = "another province";
  Hoso__Records__V1__ImportRecordHistoryResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "ImportRecordHistory", &req, &hoso__records__v1__import_record_history_response__descriptor,
                    (void **)&out, w.tok_transfers, &st),
            &st, GRPC_STATUS_OK, NULL);
  char today[11];
  day(0, today);
  set_degree(out->record->id, "THS", today); /* the periods made again from every version */
  expect_fact(out->record->id, "managing_unit_id", "2019-06-01", "");
  expect_fact(out->record->id, "managing_unit_id", today, w.d2_id);
  expect_fact(out->record->id, "degree_code", today, "THS");
  free_msg(out);
}

/* A record written by an older release (no periods) gets them from the backfill job. */
static void test_backfill(void **state) {
  (void)state;
  Record *r = create(w.d2_id, "Ngô Văn Cũ", "2011-03-01");
  PGconn *admin = PQconnectdb(w.pg.admin_dsn);
  assert_int_equal(PQstatus(admin), CONNECTION_OK);
  const char *p[1] = {r->id};
  PGresult *x = PQexecParams(admin, "DELETE FROM records.fact_periods WHERE record_id = $1::bigint", 1, NULL, p, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(x), PGRES_COMMAND_OK);
  PQclear(x);
  expect_fact(r->id, "managing_unit_id", "2011-03-01", "");
  char *v = NULL;
  for (int i = 0; i < 600 && (!v || !*v); i++) { /* up to 60 s for the job's next round */
    free(v);
    usleep(100000);
    v = fact_on(r->id, "managing_unit_id", "2011-03-01");
  }
  assert_string_equal(v, w.d2_id);
  free(v);
  PQfinish(admin);
  free_msg(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reader_role_and_scope),
      cmocka_unit_test(test_move_by_effective_date),
      cmocka_unit_test(test_late_retirement_and_known_on),
      cmocka_unit_test(test_future_decision_and_out_of_order),
      cmocka_unit_test(test_import_has_periods),
      cmocka_unit_test(test_package_past_not_counted),
      cmocka_unit_test(test_backfill),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
