/* The records service with HOSO_READ_AUDIT_SYNC=0 (read transactions commit without waiting
 * for the WAL flush): every full read still leaves its audit row, a refused read none, the
 * chains verify, and writes keep working. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "audit.h"
#include "db.h"
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"

static th_world w;
static PGconn *admin_db; /* superuser: inspection only */

static int setup(void **state) {
  (void)state;
  static const char *const env[] = {"HOSO_READ_AUDIT_SYNC=0", NULL};
  if (th_world_start(&w, 1, env) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  return PQstatus(admin_db) == CONNECTION_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  PQfinish(admin_db);
  int rc = th_world_stop(&w);
  /* every refusal below is a chosen status: nothing may show as a fault in the log */
  return rc == 0 && th_log_errors(w.records.log) == 0 ? 0 : -1;
}

static long long audit_count(const char *action, const char *id) {
  const char *p[2] = {action, id};
  PGresult *r = PQexecParams(admin_db,
                             "SELECT count(*) FROM records.audit_log WHERE action = $1 AND target_id = $2",
                             2, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("audit count: %s", PQresultErrorMessage(r));
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static grpc_status_code get(const char *token, const char *id, cli_status *st) {
  Hoso__Records__V1__GetRecordRequest q = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  q.record_id = (char *)id;
  void *resp = NULL;
  grpc_status_code c = th_call(w.rec_ch, REC "GetRecord", &q, &hoso__records__v1__get_record_response__descriptor,
                               &resp, token, st);
  if (c == GRPC_STATUS_OK) {
    Hoso__Records__V1__GetRecordResponse *o = resp;
    assert_non_null(o->record);
    assert_string_equal(o->record->id, id);
  }
  if (resp) protobuf_c_message_free_unpacked(resp, NULL);
  return c;
}

static void test_reads_audited(void **state) {
  (void)state;
  char id[32];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Hoàng Văn Thụ", id), 0);
  cli_status st;

  /* Three reads, three rows: the setting changes when the commit is flushed, not whether the
   * row is written with the read. */
  for (int i = 0; i < 3; i++) th_expect(get(w.tok_d1_reader, id, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(audit_count("RECORD_READ", id), 3);

  /* A refused read rolls back with its row, as before. */
  th_expect(get(w.tok_d2_reader, id, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  assert_int_equal(audit_count("RECORD_READ", id), 3);

  /* The other audited reads take the same path. */
  Hoso__Records__V1__ListRecordVersionsRequest lv = HOSO__RECORDS__V1__LIST_RECORD_VERSIONS_REQUEST__INIT;
  lv.record_id = id;
  th_expect(th_call(w.rec_ch, REC "ListRecordVersions", &lv, &hoso__records__v1__list_record_versions_response__descriptor,
                    NULL, w.tok_d1_reader, &st),
            &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(audit_count("RECORD_HISTORY_READ", id), 1);
  Hoso__Records__V1__ExportRecordRequest ex = HOSO__RECORDS__V1__EXPORT_RECORD_REQUEST__INIT;
  ex.record_id = id;
  ex.format = HOSO__RECORDS__V1__EXPORT_FORMAT__EXPORT_FORMAT_JSON;
  th_expect(th_call(w.rec_ch, REC "ExportRecord", &ex, &hoso__records__v1__export_record_response__descriptor, NULL,
                    w.tok_d1_reader, &st),
            &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(audit_count("RECORD_EXPORT", id), 1);

  /* Writes are untouched by the setting and still work on the same connections. */
  char id2[32];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Võ Thị Sáu", id2), 0);
  th_expect(get(w.tok_d1_reader, id2, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(audit_count("RECORD_CREATE", id2), 1);
  assert_int_equal(audit_count("RECORD_READ", id2), 1);

  /* The chains, with the rows written by these commits, recompute intact. */
  db_conn *c = db_open(w.pg.dsn, "records");
  assert_non_null(c);
  int64_t rows = 0, bad = 0;
  assert_int_equal(audit_verify(c, "records", &rows, &bad), 0);
  assert_true(rows >= 8); /* at least the 2 creates, 4 reads, 1 history read, 1 export above */
  db_close(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reads_audited),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
