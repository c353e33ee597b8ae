/* Records follow identity's unit tree (common/unit_tree_follow.c with records/follow_units.c): a moved unit's records are found
 * and read from the new parent only, a merged unit's records become the successor's with a
 * version and an audit row, and each change is applied once, in order, across restarts. */
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
#include "audit.h"
#include "db.h"
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "th_world.h"

#define IDN "/hoso.identity.v1.Identity/"
#define REC "/hoso.records.v1.Records/"
#define MERGE_REASON "Nghị quyết 05/NQ-HĐND về sáp nhập đơn vị"

typedef Hoso__Records__V1__Record Record;

static th_world w;
static PGconn *admin_db;

/* The sync polls every 100 ms here, so a change shows within a second or so. */
static const char *const rec_env[] = {"HOSO_UNIT_SYNC_MS=100", NULL};

/* ------------------------------------------------------------ helpers ------------------- */

static long long sql_long(const char *q, const char *p1, const char *p2) {
  const char *params[2] = {p1, p2};
  int n = p2 ? 2 : p1 ? 1 : 0;
  PGresult *r = PQexecParams(admin_db, q, n, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static char *sql_text(const char *q, const char *p1) {
  const char *params[1] = {p1};
  PGresult *r = PQexecParams(admin_db, q, p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  char *v = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static void mk_unit(const char *parent, const char *code, const char *name, char id[32], char path[64]) {
  assert_int_equal(th_world_unit(&w, parent, code, name, HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_PUBLIC_SERVICE, id, path),
                   0);
}

static void mk_record(const char *unit, const char *name, char id[32]) {
  assert_int_equal(th_world_record(&w, w.tok_admin, unit, name, id), 0);
}

static grpc_status_code get(const char *tok, const char *id, const char *as_of, Record **rec, cli_status *st) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  req.as_of = (char *)(as_of ? as_of : "");
  Hoso__Records__V1__GetRecordResponse *out = NULL;
  grpc_status_code c = th_call(w.rec_ch, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor,
                               (void **)&out, tok, st);
  if (rec) *rec = NULL;
  if (c == GRPC_STATUS_OK && rec) {
    *rec = out->record;
    out->record = NULL;
  }
  if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
  return c;
}

/* How many records SearchRecords finds in the subtree of unit, and whether id is among them. */
static long long search_unit(const char *tok, const char *unit, const char *id, int *found) {
  Hoso__Records__V1__SearchRecordsRequest req = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  req.unit_id = (char *)unit;
  req.page_size = 500;
  Hoso__Records__V1__SearchRecordsResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.rec_ch, REC "SearchRecords", &req, &hoso__records__v1__search_records_response__descriptor,
                    (void **)&out, tok, &st),
            &st, GRPC_STATUS_OK, NULL);
  *found = 0;
  for (size_t i = 0; i < out->n_records; i++) *found |= strcmp(out->records[i]->id, id) == 0;
  long long total = out->total;
  protobuf_c_message_free_unpacked(&out->base, NULL);
  return total;
}

static grpc_status_code search_status(const char *tok, const char *unit, cli_status *st) {
  Hoso__Records__V1__SearchRecordsRequest req = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  req.unit_id = (char *)unit;
  return th_call(w.rec_ch, REC "SearchRecords", &req, &hoso__records__v1__search_records_response__descriptor, NULL,
                 tok, st);
}

static void move_unit(const char *unit, const char *parent) {
  Hoso__Identity__V1__MoveUnitRequest req = HOSO__IDENTITY__V1__MOVE_UNIT_REQUEST__INIT;
  req.unit_id = (char *)unit;
  req.new_parent_id = (char *)parent;
  req.reason = "Quyết định 12/QĐ-UBND điều chỉnh tổ chức";
  cli_status st;
  th_expect(th_call(w.id_ch, IDN "MoveUnit", &req, &hoso__identity__v1__move_unit_response__descriptor, NULL,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
}

static void merge_units(const char *a, const char *b) {
  Hoso__Identity__V1__MergeUnitsRequest req = HOSO__IDENTITY__V1__MERGE_UNITS_REQUEST__INIT;
  req.source_unit_id = (char *)a;
  req.target_unit_id = (char *)b;
  req.reason = MERGE_REASON;
  cli_status st;
  th_expect(th_call(w.id_ch, IDN "MergeUnits", &req, &hoso__identity__v1__merge_units_response__descriptor, NULL,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
}

/* The feed's newest number, as identity tells the administrator. */
static long long feed_last(void) {
  Hoso__Identity__V1__ListUnitChangesRequest req = HOSO__IDENTITY__V1__LIST_UNIT_CHANGES_REQUEST__INIT;
  req.after_seq = 1000000;
  Hoso__Identity__V1__ListUnitChangesResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.id_ch, IDN "ListUnitChanges", &req, &hoso__identity__v1__list_unit_changes_response__descriptor,
                    (void **)&out, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  long long last = out->last_seq;
  protobuf_c_message_free_unpacked(&out->base, NULL);
  return last;
}

static long long cursor(void) { return sql_long("SELECT last_seq FROM records.unit_tree_cursor", NULL, NULL); }

/* Waits until records has applied every change identity has made. The cursor advances in the
 * transaction that applies the change, so once it is there every record, version and audit
 * row of the change is committed, and records has emptied its unit-path cache before that
 * commit (unit_tree_follow.c apply()). Up to 60 s: a round that fails (an identity call gives up after
 * 5 s) is retried only after a pause that doubles up to 6.4 s, so on a loaded machine a couple
 * of failed rounds take well over the 20 s this used to allow. */
static void wait_synced(void) {
  long long want = feed_last();
  for (int i = 0; i < 1200 && cursor() < want; i++) usleep(50000);
  assert_int_equal(cursor(), want);
}

static long long versions(const char *id) {
  return sql_long("SELECT count(*) FROM records.record_versions WHERE record_id = $1::bigint", id, NULL);
}

static const char *today(void) { return th_vn_day(0); }

static void restart_channel(void) {
  cli_close(w.rec_ch);
  w.rec_ch = cli_open_tls(w.records.addr, NULL, NULL, NULL);
  assert_non_null(w.rec_ch);
}

/* ------------------------------------------------------------ tests --------------------- */

/* A unit moved from district 1 to district 2 takes its subtree's records along: district 2's
 * reader finds them by SearchRecords on the unit, on district 2, and reads them (also as of
 * today, through the versions' access paths); district 1's reader no longer does. A move is no
 * change of the dossier, so the version stays 1. */
static void test_move(void **state) {
  (void)state;
  char x[32], xp[64], y[32], yp[64], rx[32], ry[32];
  mk_unit(w.d1_id, "MV-X", "Phòng Tài chính – Kế hoạch", x, xp);
  mk_unit(x, "MV-Y", "Tổ Ngân sách", y, yp);
  mk_record(x, "Trần Thị Mai", rx);
  mk_record(y, "Lê Văn Hùng", ry);
  cli_status st;
  int found = 0;
  th_expect(get(w.tok_d2_reader, rx, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  assert_int_equal(search_unit(w.tok_d1_reader, x, rx, &found), 2);
  assert_true(found);

  move_unit(x, w.d2_id);
  wait_synced();

  char want_x[128], want_y[128];
  snprintf(want_x, sizeof want_x, "%s.%s", w.d2_path, x);
  snprintf(want_y, sizeof want_y, "%s.%s.%s", w.d2_path, x, y);
  Record *r = NULL;
  th_expect(get(w.tok_d2_reader, rx, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(r->managing_unit_path, want_x);
  assert_string_equal(r->managing_unit_id, x);
  assert_int_equal(r->version, 1);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  th_expect(get(w.tok_d2_reader, ry, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(r->managing_unit_path, want_y);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  th_expect(get(w.tok_d2_reader, ry, today(), &r, &st), &st, GRPC_STATUS_OK, NULL);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  /* records cached x's old path for the search before the move; the cache was emptied before
   * the cursor moved (wait_synced), so x is looked up again and is district 2's now. */
  assert_int_equal(search_unit(w.tok_d2_reader, x, ry, &found), 2);
  assert_true(found);
  search_unit(w.tok_d2_reader, w.d2_id, rx, &found);
  assert_true(found);
  /* Search's subtree key is derived from the path, so it moved too. */
  assert_int_equal(sql_long("SELECT count(*) FROM records.records WHERE id = $1::bigint AND unit_key = $2 || '.'", ry,
                            want_y),
                   1);

  th_expect(get(w.tok_d1_reader, rx, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  th_expect(get(w.tok_d1_reader, ry, today(), NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  search_unit(w.tok_d1_reader, w.d1_id, rx, &found);
  assert_false(found);
  /* The unit itself is now outside district 1's scope (identity says so). */
  th_expect(search_status(w.tok_d1_reader, x, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  assert_int_equal(versions(rx), 1);
  assert_int_equal(sql_long("SELECT (counts->>'moved_records')::bigint FROM records.unit_tree_applied ORDER BY seq DESC LIMIT 1", NULL,
                            NULL),
                   2);
}

/* Merging A into B: A's own records become B's with a new version (UNIT_MERGED, the merge's
 * decision as the reason, managing_unit_id in the diff) and an audit row each; the records of A's
 * sub-unit follow it under B; B's unit admin reads them and their history and approves them,
 * B's updater changes and submits them; district 1 loses them; every audit chain of records
 * still verifies. */
static void test_merge(void **state) {
  (void)state;
  char a[32], ap[64], c[32], b[32], bp[64], ra[32], rc[32];
  mk_unit(w.d1_id, "MG-A", "Trường Tiểu học Thị trấn", a, ap);
  mk_unit(a, "MG-C", "Điểm trường Bãi Chè", c, NULL);
  mk_unit(w.d2_id, "MG-B", "Trường Tiểu học và THCS Bố Hạ", b, bp);
  mk_record(a, "Phạm Thu Hà", ra);
  mk_record(c, "Đỗ Minh Khôi", rc);
  char *b_admin = th_world_account_token(&w, "bh.thutruong", b, HOSO__COMMON__V1__ROLE__UNIT_ADMIN);
  char *b_updater = th_world_account_token(&w, "bh.capnhat", b, HOSO__COMMON__V1__ROLE__UPDATER);
  assert_non_null(b_admin);
  assert_non_null(b_updater);
  cli_status st;
  th_expect(get(b_admin, ra, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");

  merge_units(a, b);
  wait_synced();

  /* A transfer step decided before the merge names the dissolved unit: ABORTED, which the
   * transfers service's outbox retries (it gives the step to the successor once it follows the
   * merge), not FAILED_PRECONDITION, which it would take as a refusal for good. */
  {
    Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
    d.number = "45/QĐ-UBND";
    d.date = "2025-12-15";
    d.effective_date = "2026-01-01";
    d.issuer = "UBND huyện Lục Nam";
    Hoso__Records__V1__SetManagingUnitRequest mv = HOSO__RECORDS__V1__SET_MANAGING_UNIT_REQUEST__INIT;
    mv.record_id = rc;
    mv.new_unit_id = a;
    mv.transfer_id = "tr-merged-9";
    mv.status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE;
    mv.decision = &d;
    cli_status ms;
    th_expect(th_call(w.rec_ch, REC "SetManagingUnit", &mv, &hoso__records__v1__set_managing_unit_response__descriptor,
                      NULL, w.tok_transfers, &ms),
              &ms, GRPC_STATUS_ABORTED, "new_unit_id");
  }

  Record *r = NULL;
  th_expect(get(b_admin, ra, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(r->managing_unit_id, b);
  assert_string_equal(r->managing_unit_path, bp);
  assert_int_equal(r->version, 2);
  /* History stays readable to the successor: the day's version, and the list of versions. */
  Record *past = NULL;
  th_expect(get(b_admin, ra, today(), &past, &st), &st, GRPC_STATUS_OK, NULL);
  protobuf_c_message_free_unpacked(&past->base, NULL);
  Hoso__Records__V1__ListRecordVersionsRequest lv = HOSO__RECORDS__V1__LIST_RECORD_VERSIONS_REQUEST__INIT;
  lv.record_id = ra;
  Hoso__Records__V1__ListRecordVersionsResponse *vs = NULL;
  th_expect(th_call(w.rec_ch, REC "ListRecordVersions", &lv, &hoso__records__v1__list_record_versions_response__descriptor,
                    (void **)&vs, b_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(vs->n_versions, 2);
  Hoso__Records__V1__RecordVersion *v = vs->versions[0];
  assert_string_equal(v->action, "UNIT_MERGED");
  assert_non_null(v->reason);
  assert_string_equal(v->reason->text, MERGE_REASON);
  int diff_unit = 0;
  for (size_t i = 0; i < v->n_changes; i++) diff_unit |= strcmp(v->changes[i]->path, "managing_unit_id") == 0;
  assert_true(diff_unit);
  char *svc = sql_text("SELECT 'svc:' || $1", w.records_client_id);
  assert_string_equal(v->changed_by, svc);
  free(svc);
  protobuf_c_message_free_unpacked(&vs->base, NULL);
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_UNIT_MERGED' "
                            "AND target_id = $1 AND unit_path = $2",
                            ra, bp),
                   1);

  /* B's updater changes it like any record of B. */
  Hoso__Records__V1__UpdateRecordRequest up = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  Hoso__Records__V1__ChangeReason why = HOSO__RECORDS__V1__CHANGE_REASON__INIT;
  why.text = "Cập nhật họ tên theo căn cước";
  char *own_name = r->full_name;
  r->full_name = "Phạm Thu Hằng";
  up.record = r;
  up.expected_version = 2;
  up.reason = &why;
  Hoso__Records__V1__UpdateRecordResponse *uo = NULL;
  th_expect(th_call(w.rec_ch, REC "UpdateRecord", &up, &hoso__records__v1__update_record_response__descriptor,
                    (void **)&uo, b_updater, &st),
            &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(uo->record->version, 3);
  protobuf_c_message_free_unpacked(&uo->base, NULL);
  r->full_name = own_name; /* the literal is not the message's to free */
  protobuf_c_message_free_unpacked(&r->base, NULL);
  /* B's head approves it once submitted: the approval right of B's admin covers it now. */
  Hoso__Records__V1__SubmitRecordRequest sub = HOSO__RECORDS__V1__SUBMIT_RECORD_REQUEST__INIT;
  sub.record_id = ra;
  sub.expected_version = 3;
  th_expect(th_call(w.rec_ch, REC "SubmitRecord", &sub, &hoso__records__v1__submit_record_response__descriptor, NULL,
                    b_updater, &st),
            &st, GRPC_STATUS_OK, NULL);
  Hoso__Records__V1__ApproveRecordRequest apr = HOSO__RECORDS__V1__APPROVE_RECORD_REQUEST__INIT;
  apr.record_id = ra;
  apr.expected_version = 4;
  th_expect(th_call(w.rec_ch, REC "ApproveRecord", &apr, &hoso__records__v1__approve_record_response__descriptor, NULL,
                    b_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(versions(ra), 5);

  /* The sub-unit's record keeps its unit, under B now, and gets no version: C is not dissolved. */
  char want_c[128];
  snprintf(want_c, sizeof want_c, "%s.%s", bp, c);
  th_expect(get(b_admin, rc, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(r->managing_unit_id, c);
  assert_string_equal(r->managing_unit_path, want_c);
  assert_int_equal(r->version, 1);
  protobuf_c_message_free_unpacked(&r->base, NULL);

  th_expect(get(w.tok_d1_reader, ra, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  th_expect(get(w.tok_d1_reader, rc, today(), NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");

  db_conn *db = db_open(w.pg.admin_dsn, "records");
  int64_t rows = 0, bad_seq = 0;
  int bad_chain = 0;
  assert_int_equal(audit_verify_ex(db, "records", &rows, &bad_chain, &bad_seq), 0);
  assert_true(rows > 0);
  db_close(db);
  free(b_admin);
  free(b_updater);
}

/* Records is down while a unit is moved and another merged; started again, it applies each
 * exactly once (the cursor is in its database, advanced in the change's own transaction). A second records
 * process on the same database then races the first for the next merge: the locked cursor row
 * lets one apply it and the other skip it, so the record still gains exactly one version. */
static void test_restart_and_two_processes(void **state) {
  (void)state;
  char m[32], n[32], np[64], rm[32], m2[32], rm2[32], v[32], rv[32];
  mk_unit(w.d1_id, "RS-M", "Trạm Y tế xã Tiên Hưng", m, NULL);
  mk_unit(w.d1_id, "RS-N", "Trung tâm Y tế huyện", n, np);
  mk_unit(w.d1_id, "RS-M2", "Trạm Y tế xã Tiên Nha", m2, NULL);
  mk_unit(w.d1_id, "RS-V", "Đội Quản lý thị trường", v, NULL);
  mk_record(m, "Vũ Thị Lan", rm);
  mk_record(m2, "Hoàng Văn Nam", rm2);
  mk_record(v, "Lại Thị Gấm", rv);
  wait_synced();

  assert_int_equal(th_svc_stop(&w.records), 0);
  move_unit(v, w.d2_id);
  merge_units(m, n);
  long long before = cursor();
  assert_true(before + 2 == feed_last()); /* nobody applied them meanwhile */
  assert_int_equal(th_world_records_start(&w, &w.records), 0);
  restart_channel();
  wait_synced();
  assert_int_equal(versions(rm), 2);
  assert_int_equal(sql_long("SELECT count(*) FROM records.unit_tree_applied WHERE unit_id = $1::bigint", m, NULL), 1);
  /* The move while stopped: re-filed once, and no version (a move is not a change of the dossier). */
  char want_v[128];
  snprintf(want_v, sizeof want_v, "%s.%s", w.d2_path, v);
  Record *moved = NULL;
  cli_status mst;
  th_expect(get(w.tok_d2_reader, rv, NULL, &moved, &mst), &mst, GRPC_STATUS_OK, NULL);
  assert_string_equal(moved->managing_unit_path, want_v);
  protobuf_c_message_free_unpacked(&moved->base, NULL);
  assert_int_equal(versions(rv), 1);
  assert_int_equal(sql_long("SELECT count(*) FROM records.unit_tree_applied WHERE unit_id = $1::bigint", v, NULL), 1);

  th_svc second;
  assert_int_equal(th_world_records_start(&w, &second), 0);
  merge_units(m2, n);
  wait_synced();
  usleep(500000); /* several more rounds of both processes */
  assert_int_equal(versions(rm2), 2);
  assert_int_equal(versions(rm), 2);
  assert_int_equal(sql_long("SELECT count(*) FROM records.unit_tree_applied WHERE unit_id = $1::bigint", m2, NULL), 1);
  assert_int_equal(sql_long("SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_UNIT_MERGED' AND target_id = $1",
                            rm2, NULL),
                   1);
  Record *r = NULL;
  cli_status st;
  th_expect(get(w.tok_d1_reader, rm2, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(r->managing_unit_id, n);
  assert_string_equal(r->managing_unit_path, np);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  assert_int_equal(th_svc_stop(&second), 0);
  assert_int_equal(th_log_errors(second.log), 0);
}

/* Two moves of one unit made while records is frozen are applied in feed order: applied the
 * other way round, the second (from P1's subtree to P2's) would find nothing to move and the
 * first would leave the records under P1. */
static void test_two_changes_in_order(void **state) {
  (void)state;
  char p1[32], p2[32], p2p[64], u[32], ru[32];
  mk_unit(w.d2_id, "IO-P1", "Phòng Giáo dục", p1, NULL);
  mk_unit(w.d2_id, "IO-P2", "Phòng Văn hóa", p2, p2p);
  mk_unit(w.d2_id, "IO-U", "Tổ Thư viện", u, NULL);
  mk_record(u, "Ngô Thị Bích", ru);
  wait_synced();
  long long first = feed_last() + 1;

  assert_int_equal(th_svc_pause(&w.records), 0);
  move_unit(u, p1);
  move_unit(u, p2);
  assert_int_equal(th_svc_resume(&w.records), 0);
  wait_synced();

  char want[128];
  snprintf(want, sizeof want, "%s.%s", p2p, u);
  Record *r = NULL;
  cli_status st;
  th_expect(get(w.tok_d2_reader, ru, NULL, &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(r->managing_unit_path, want);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  char s1[32];
  snprintf(s1, sizeof s1, "%lld", first);
  /* Applied in number order, each exactly once, the first moving the record, then the second. */
  assert_int_equal(sql_long("SELECT count(*) FROM records.unit_tree_applied WHERE seq >= $1::bigint", s1, NULL), 2);
  assert_int_equal(sql_long("SELECT (counts->>'moved_records')::bigint FROM records.unit_tree_applied WHERE seq = $1::bigint", s1, NULL), 1);
  assert_int_equal(sql_long("SELECT (counts->>'moved_records')::bigint FROM records.unit_tree_applied WHERE seq = $1::bigint + 1", s1, NULL),
                   1);
}

/* Waits until the query, with one parameter, answers want. Up to 30 s, for the reasons of
 * wait_synced; the sweep looks under an old path for 60 s after its change was applied, and the
 * late records below are put there within a second of that, so the wait ends inside it. */
enum { LATE_POLLS = 600 }; /* of 50 ms */
static void wait_for(const char *q, const char *p1, long long want) {
  for (int i = 0; i < LATE_POLLS && sql_long(q, p1, NULL) != want; i++) usleep(50000);
  assert_int_equal(sql_long(q, p1, NULL), want);
}

/* A record written with a unit's path from before a change (a CreateRecord in flight while the
 * change was applied) is made here by putting the old path back as the superuser. The sync's
 * look under recent changes' old paths finds it and re-files it: to the unit's new path after a
 * move, to the successor (with its UNIT_MERGED version) after a merge. */
static void test_late_writers(void **state) {
  (void)state;
  char l[32], lp[64], rl[32], m[32], mp[64], b[32], bp[64], rm[32];
  mk_unit(w.d1_id, "LW-L", "Tổ Kiểm tra", l, lp);
  mk_unit(w.d1_id, "LW-M", "Tổ Pháp chế", m, mp);
  mk_unit(w.d2_id, "LW-B", "Phòng Tư pháp", b, bp);
  mk_record(l, "Đinh Thị Thu", rl);
  mk_record(m, "Mai Văn Tiến", rm);
  move_unit(l, w.d2_id);
  merge_units(m, b);
  wait_synced();

  const char *late[2] = {rl, lp};
  /* The attachments trigger names its table as the service does (schema records first). */
  PGresult *r = PQexec(admin_db, "SET search_path = records, public");
  assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  r = PQexecParams(admin_db,
                             "WITH x AS (UPDATE records.records SET unit_path = $2::ltree WHERE id = $1::bigint) "
                             "UPDATE records.record_versions SET unit_path = $2::ltree WHERE record_id = $1::bigint",
                             2, NULL, late, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("%s", PQresultErrorMessage(r));
  PQclear(r);
  const char *late_m[3] = {rm, m, mp};
  r = PQexecParams(admin_db, "UPDATE records.records SET managing_unit_id = $2::bigint, unit_path = $3::ltree WHERE id = $1::bigint",
                   3, NULL, late_m, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);

  char want_l[128];
  snprintf(want_l, sizeof want_l, "%s.%s", w.d2_path, l);
  char *path_l = sql_text("SELECT unit_path::text FROM records.records WHERE id = $1::bigint", rl);
  for (int i = 0; i < LATE_POLLS && strcmp(path_l, want_l) != 0; i++) {
    free(path_l);
    usleep(50000);
    path_l = sql_text("SELECT unit_path::text FROM records.records WHERE id = $1::bigint", rl);
  }
  assert_string_equal(path_l, want_l);
  free(path_l);
  cli_status st;
  Record *rec = NULL;
  th_expect(get(w.tok_d2_reader, rl, today(), &rec, &st), &st, GRPC_STATUS_OK, NULL);
  protobuf_c_message_free_unpacked(&rec->base, NULL);
  th_expect(get(w.tok_d1_reader, rl, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  assert_int_equal(versions(rl), 1);

  /* The merged unit's late record gets its own UNIT_MERGED version, as at the merge. */
  wait_for("SELECT version FROM records.records WHERE id = $1::bigint", rm, 3);
  th_expect(get(w.tok_d2_reader, rm, NULL, &rec, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(rec->managing_unit_path, bp);
  protobuf_c_message_free_unpacked(&rec->base, NULL);
  char *action = sql_text("SELECT action FROM records.record_versions WHERE record_id = $1::bigint ORDER BY version DESC "
                          "LIMIT 1",
                          rm);
  assert_string_equal(action, "UNIT_MERGED");
  free(action);
  assert_int_equal(sql_long("SELECT managing_unit_id FROM records.records WHERE id = $1::bigint", rm, NULL), atoll(b));
}

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, rec_env) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  return PQstatus(admin_db) == CONNECTION_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  PQfinish(admin_db);
  char rec_log[256];
  snprintf(rec_log, sizeof rec_log, "%s", w.records.log);
  int rc = th_world_stop(&w);
  return rc == 0 && th_log_errors(rec_log) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_move),
      cmocka_unit_test(test_merge),
      cmocka_unit_test(test_restart_and_two_processes),
      cmocka_unit_test(test_two_changes_in_order),
      cmocka_unit_test(test_late_writers),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
