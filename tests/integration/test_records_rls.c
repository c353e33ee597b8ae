/* Row-level security behind the records service's own scope check (defence in depth):
 * every table of schema records with a unit column, found from information_schema so tables
 * added later are covered too, forces RLS, and a query as the service's role with another
 * district's scope set returns none of district 1's rows. */
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

static th_world w;
static PGconn *admin_db; /* superuser: sees every row (superusers bypass RLS) */
static PGconn *svc_db;   /* the service's own role "hoso", subject to RLS */

typedef struct {
  char name[128];
  int has_path, has_unit_id;
} unit_table;

static unit_table tables[64];
static int n_tables;

/* ------------------------------------------------------------ helpers ------------------- */

static PGresult *q(PGconn *c, const char *sql, int n, const char *const *p, ExecStatusType want) {
  PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != want) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
  return r;
}

/* The record as stored, for requests that carry a whole record. Caller frees. */
static Hoso__Records__V1__Record *get(const char *tok, const char *id) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  Hoso__Records__V1__GetRecordResponse *out = NULL;
  cli_status st;
  grpc_status_code c = th_call(w.rec_ch, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor,
                               (void **)&out, tok, &st);
  if (c != GRPC_STATUS_OK) fail_msg("GetRecord %s: %s %s", id, cli_status_name(c), st.message);
  Hoso__Records__V1__Record *r = out->record;
  out->record = NULL;
  protobuf_c_message_free_unpacked(&out->base, NULL);
  return r;
}

/* ------------------------------------------------------------ fill ---------------------- */

/* District 1 gets a row in every table the records RPCs write, through those RPCs: a record
 * (records, record_versions), an update (a second version), a change request of the person, an
 * attachment, a read grant (the transfers service's). A
 * table added later that none of these fills makes test_unit_tables_hidden fail naming it:
 * add its RPC here. */
static void fill_district_1(void) {
  char d1rec[32], d2rec[32];
  cli_status st;
  grpc_status_code c;
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Phan Văn Sơn", d1rec), 0);
  assert_int_equal(th_world_record(&w, w.tok_d2_updater, w.d2_id, "Hà Thị Tâm", d2rec), 0);

  Hoso__Records__V1__Record *r = get(w.tok_d1_updater, d1rec);
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  Hoso__Records__V1__PersonalInfo *saved = r->personal;
  p.birth_place = "Thị trấn Đồi Ngô, huyện Lục Nam";
  r->personal = &p;
  Hoso__Records__V1__UpdateRecordRequest up = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  up.record = r;
  up.expected_version = r->version;
  c = th_call(w.rec_ch, REC "UpdateRecord", &up, &hoso__records__v1__update_record_response__descriptor, NULL,
              w.tok_d1_updater, &st);
  if (c != GRPC_STATUS_OK) fail_msg("UpdateRecord: %s %s", cli_status_name(c), st.message);

  /* The person's own declaration (phiếu bổ sung lý lịch), when that RPC exists. */
  char *self = th_world_self_token(&w, w.d1_id, d1rec);
  if (!self) fail_msg("SELF account for record %s", d1rec);
  Hoso__Records__V1__CreateChangeRequestRequest cr = HOSO__RECORDS__V1__CREATE_CHANGE_REQUEST_REQUEST__INIT;
  p.phone = "0987 654 321";
  cr.proposed = r;
  cr.base_version = r->version + 1;
  cr.note = "Bổ sung số điện thoại";
  c = th_call(w.rec_ch, REC "CreateChangeRequest", &cr, &hoso__records__v1__create_change_request_response__descriptor,
              NULL, self, &st);
  if (c != GRPC_STATUS_OK && c != GRPC_STATUS_UNIMPLEMENTED)
    fail_msg("CreateChangeRequest: %s %s", cli_status_name(c), st.message);
  free(self);
  r->personal = saved;
  protobuf_c_message_free_unpacked(&r->base, NULL);

  /* An attachment (a scanned decision, PDF by its first bytes): one client-streamed message. */
  static const char pdf[] = "%PDF-1.4\n%%EOF\n";
  cli_stream *s = cli_stream_open(w.rec_ch, REC "UploadAttachment", th_bearer(w.tok_d1_updater), 1, 10000);
  if (!s) fail_msg("UploadAttachment: no stream");
  Hoso__Records__V1__UploadAttachmentRequest ua = HOSO__RECORDS__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
  ua.record_id = d1rec;
  ua.file_name = "quyet-dinh.pdf";
  ua.chunk.data = (uint8_t *)pdf;
  ua.chunk.len = sizeof pdf - 1;
  (void)cli_stream_send(s, &ua.base);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *ur = NULL;
  if (cli_stream_recv(s, &hoso__records__v1__upload_attachment_response__descriptor, &ur) == 1)
    protobuf_c_message_free_unpacked(ur, NULL);
  c = cli_stream_finish(s, &st);
  if (c != GRPC_STATUS_OK && c != GRPC_STATUS_UNIMPLEMENTED)
    fail_msg("UploadAttachment: %s %s", cli_status_name(c), st.message);

  /* A read grant held by district 1 (a secondment's host unit) on district 2's record. */
  Hoso__Records__V1__SetReadGrantRequest g = HOSO__RECORDS__V1__SET_READ_GRANT_REQUEST__INIT;
  g.record_id = d2rec;
  g.unit_id = w.d1_id;
  g.until = "2099-12-31";
  g.key = "secondment:rls-test";
  c = th_call(w.rec_ch, REC "SetReadGrant", &g, &hoso__records__v1__set_read_grant_response__descriptor, NULL,
              w.tok_transfers, &st);
  if (c != GRPC_STATUS_OK && c != GRPC_STATUS_UNIMPLEMENTED)
    fail_msg("SetReadGrant: %s %s", cli_status_name(c), st.message);
}

/* ------------------------------------------------------------ setup --------------------- */

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  svc_db = PQconnectdb(w.pg.dsn);
  if (PQstatus(admin_db) != CONNECTION_OK || PQstatus(svc_db) != CONNECTION_OK) {
    fprintf(stderr, "connect: %s %s\n", PQerrorMessage(admin_db), PQerrorMessage(svc_db));
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (admin_db) PQfinish(admin_db);
  if (svc_db) PQfinish(svc_db);
  char rec_log[256];
  snprintf(rec_log, sizeof rec_log, "%s", w.records.log);
  int rc = th_world_stop(&w);
  /* The fillers' calls must have been served without a fault inside the service. */
  return rc == 0 && th_log_errors(rec_log) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ tests --------------------- */

/* The tables with a unit column, as the catalogue of the database lists them now. */
static void test_find_unit_tables(void **state) {
  (void)state;
  fill_district_1();
  PGresult *r = q(admin_db,
                  "SELECT c.table_name, bool_or(c.column_name = 'unit_path'), bool_or(c.column_name = 'managing_unit_id') "
                  "FROM information_schema.columns c JOIN information_schema.tables t "
                  "  ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
                  "WHERE c.table_schema = 'records' AND t.table_type = 'BASE TABLE' "
                  "  AND c.column_name IN ('unit_path', 'managing_unit_id') "
                  "GROUP BY c.table_name ORDER BY c.table_name",
                  0, NULL, PGRES_TUPLES_OK);
  n_tables = 0;
  for (int i = 0; i < PQntuples(r) && n_tables < 64; i++) {
    /* The audit log (common/migrations, in every service schema) keeps the unit of each event
     * as text for scoped audit queries: it is append-only, written for units outside the
     * caller's scope too (a person reading their own record), and read by no records RPC. Not
     * a table of unit data, so not under the scope policy; every other table is. */
    if (strcmp(PQgetvalue(r, i, 0), "audit_log") == 0) continue;
    /* The search words (020) are read by no one but search_match, which applies this scope
     * rule itself: the services' role sees none of them (test_record_search_unreadable). */
    if (strcmp(PQgetvalue(r, i, 0), "record_search") == 0) continue;
    unit_table *t = &tables[n_tables++];
    snprintf(t->name, sizeof t->name, "%s", PQgetvalue(r, i, 0));
    t->has_path = PQgetvalue(r, i, 1)[0] == 't';
    t->has_unit_id = PQgetvalue(r, i, 2)[0] == 't';
  }
  PQclear(r);
  /* The enumeration must at least find the two tables this test is known to cover. */
  int records = 0, versions = 0;
  for (int i = 0; i < n_tables; i++) {
    records |= strcmp(tables[i].name, "records") == 0;
    versions |= strcmp(tables[i].name, "record_versions") == 0;
    fprintf(stderr, "unit table: records.%s\n", tables[i].name);
  }
  assert_true(records);
  assert_true(versions);
}

/* ENABLE alone would exempt the owner, and the service's role owns its tables: FORCE makes
 * the policies apply to it too. */
static void test_rls_forced(void **state) {
  (void)state;
  assert_true(n_tables >= 2);
  for (int i = 0; i < n_tables; i++) {
    const char *p[1] = {tables[i].name};
    PGresult *r = q(admin_db,
                    "SELECT relrowsecurity, relforcerowsecurity, "
                    "  (SELECT count(*) FROM pg_policy WHERE polrelid = c.oid) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'records' AND c.relname = $1",
                    1, p, PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    if (PQgetvalue(r, 0, 0)[0] != 't') fail_msg("records.%s: row-level security is not enabled", tables[i].name);
    if (PQgetvalue(r, 0, 1)[0] != 't') fail_msg("records.%s: row-level security is not forced", tables[i].name);
    if (atoi(PQgetvalue(r, 0, 2)) < 1) fail_msg("records.%s: no policy", tables[i].name);
    PQclear(r);
  }
}

/* How many of district 1's rows (its unit and every unit below) conn sees in table t. */
static long long d1_rows(PGconn *conn, const unit_table *t) {
  char *ident = PQescapeIdentifier(conn, t->name, strlen(t->name));
  char sql[512];
  /* A table name cannot be a parameter: it comes from the catalogue, quoted as an identifier. */
  if (t->has_path)
    snprintf(sql, sizeof sql, "SELECT count(*) FROM records.%s WHERE unit_path OPERATOR(public.<@) $1::public.ltree", ident);
  else
    snprintf(sql, sizeof sql, "SELECT count(*) FROM records.%s WHERE managing_unit_id::text = ANY (ARRAY[$2, $3])", ident);
  PQfreemem(ident);
  const char *p[3] = {w.d1_path, w.d1_id, w.d1u_id};
  PGresult *r = t->has_path ? q(conn, sql, 1, p, PGRES_TUPLES_OK) : q(conn, sql, 3, p, PGRES_TUPLES_OK);
  long long n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

/* As the service's role, in a transaction whose scope is `scope`. */
static long long d1_rows_as_service(const unit_table *t, const char *scope) {
  PQclear(q(svc_db, "BEGIN", 0, NULL, PGRES_COMMAND_OK));
  const char *p[1] = {scope};
  PQclear(q(svc_db, "SELECT set_config('hoso.scope', $1, true)", 1, p, PGRES_TUPLES_OK));
  long long n = d1_rows(svc_db, t);
  PQclear(q(svc_db, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK));
  return n;
}

static void test_unit_tables_hidden(void **state) {
  (void)state;
  assert_true(n_tables >= 2);
  for (int i = 0; i < n_tables; i++) {
    const unit_table *t = &tables[i];
    long long all = d1_rows(admin_db, t);
    /* Without a district-1 row the check below proves nothing. */
    if (all == 0)
      fail_msg("records.%s has a unit column but no row of district 1: make fill_district_1() in "
               "test_records_rls.c write one through the RPC that fills this table",
               t->name);
    /* The second district's scope hides every one of them; the first's shows them all, so the
     * zero is the policy at work, not a table the role cannot read at all. */
    long long from_d2 = d1_rows_as_service(t, w.d2_path);
    if (from_d2 != 0) fail_msg("records.%s: %lld district-1 rows visible with district 2's scope", t->name, from_d2);
    assert_int_equal(d1_rows_as_service(t, w.d1_path), all);
    /* No scope at all (a transaction that forgot to set one) shows nothing either. */
    assert_int_equal(d1_rows_as_service(t, ""), 0);
  }
}

/* The words of the search are no table of the service's: row-level security without a policy
 * for it, so its role reads none of them whatever the scope, and writes none; the function that
 * reads them for a search applies the scope rule itself (test_records_search_words.c). */
static void test_record_search_unreadable(void **state) {
  (void)state;
  unit_table t = {.name = "record_search", .has_path = 1};
  assert_true(d1_rows(admin_db, &t) > 0);
  assert_int_equal(d1_rows_as_service(&t, w.d1_path), 0);
  assert_int_equal(d1_rows_as_service(&t, "*"), 0);
  PGresult *r = PQexec(svc_db, "UPDATE records.record_search SET name_folded = 'x'");
  assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  assert_string_equal(PQcmdTuples(r), "0");
  PQclear(r);
}

/* The policies also refuse writes out of scope: the service's role cannot move a district-1
 * row into view, nor write a row for a unit outside the scope. */
static void test_writes_checked(void **state) {
  (void)state;
  PQclear(q(svc_db, "BEGIN", 0, NULL, PGRES_COMMAND_OK));
  const char *p[2] = {w.d2_path, w.d1_path};
  PQclear(q(svc_db, "SELECT set_config('hoso.scope', $1, true)", 1, p, PGRES_TUPLES_OK));
  /* Updating district 1's records from district 2's scope touches nothing. */
  PGresult *r = q(svc_db, "UPDATE records.records SET full_name = full_name WHERE unit_path OPERATOR(public.<@) $1::public.ltree",
                  1, p + 1, PGRES_COMMAND_OK);
  assert_string_equal(PQcmdTuples(r), "0");
  PQclear(r);
  /* Moving a district-2 record into district 1 fails the policy's WITH CHECK. */
  r = PQexecParams(svc_db,
                   "UPDATE records.records SET unit_path = $1::public.ltree WHERE unit_path OPERATOR(public.<@) $2::public.ltree",
                   2, NULL, (const char *[]){w.d1_path, w.d2_path}, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
  assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
  PQclear(r);
  PQclear(PQexec(svc_db, "ROLLBACK"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_find_unit_tables),
      cmocka_unit_test(test_rls_forced),
      cmocka_unit_test(test_unit_tables_hidden),
      cmocka_unit_test(test_writes_checked),
      cmocka_unit_test(test_record_search_unreadable),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
