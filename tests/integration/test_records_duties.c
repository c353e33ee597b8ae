/* Separation of duties over real records, identity and PostgreSQL: nobody approves a record they
 * created, changed since its last approval, or that is their own dossier, nor a change request
 * they submitted; another administrator of the unit does. A deployment may turn the rule off or
 * exempt a one-person unit, and then each such approval leaves a SOD_OVERRIDE audit row. */
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
#define R(x) HOSO__COMMON__V1__ROLE__##x

typedef Hoso__Records__V1__Record Record;

static th_world w;
static char *tok_both;  /* UNIT_ADMIN and UPDATER of d1: may enter and approve */
static char *tok_both2; /* another one, for the rule's other side */

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  int both[2] = {R(UNIT_ADMIN), R(UPDATER)};
  tok_both = th_world_account(&w, "ln.kiemnhiem", w.d1_id, both, 2, NULL);
  tok_both2 = th_world_account(&w, "ln.kiemnhiem2", w.d1_id, both, 2, NULL);
  return tok_both && tok_both2 ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(tok_both);
  free(tok_both2);
  return th_world_stop(&w);
}

static Record *get(cli_chan *ch, const char *tok, const char *id) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  Hoso__Records__V1__GetRecordResponse *r = NULL;
  cli_status st;
  th_expect(th_call(ch, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor, (void **)&r, tok,
                    &st),
            &st, GRPC_STATUS_OK, NULL);
  Record *out = r->record;
  r->record = NULL;
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return out;
}

static grpc_status_code submit(cli_chan *ch, const char *tok, const char *id, cli_status *st) {
  Hoso__Records__V1__SubmitRecordRequest req = HOSO__RECORDS__V1__SUBMIT_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  return th_call(ch, REC "SubmitRecord", &req, &hoso__records__v1__submit_record_response__descriptor, NULL, tok, st);
}

static grpc_status_code approve(cli_chan *ch, const char *tok, const char *id, cli_status *st) {
  Hoso__Records__V1__ApproveRecordRequest req = HOSO__RECORDS__V1__APPROVE_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  return th_call(ch, REC "ApproveRecord", &req, &hoso__records__v1__approve_record_response__descriptor, NULL, tok, st);
}

/* A change by tok to an approved record (it applies at once and awaits verification). */
static void update_phone(cli_chan *ch, const char *tok, const char *id, const char *phone) {
  Record *r = get(ch, tok, id);
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  if (!r->personal) r->personal = &p;
  char *was = r->personal->phone;
  r->personal->phone = (char *)phone;
  Hoso__Records__V1__UpdateRecordRequest req = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  req.record = r;
  req.expected_version = r->version;
  cli_status st;
  th_expect(th_call(ch, REC "UpdateRecord", &req, &hoso__records__v1__update_record_response__descriptor, NULL, tok,
                    &st),
            &st, GRPC_STATUS_OK, NULL);
  if (r->personal == &p) r->personal = NULL;
  else r->personal->phone = was; /* the unpacked message frees its own */
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

static long long audit_count(const char *action, const char *target) {
  PGconn *db = PQconnectdb(w.pg.admin_dsn);
  const char *p[2] = {action, target};
  PGresult *r = PQexecParams(db, "SELECT count(*) FROM records.audit_log WHERE action = $1 AND target_id = $2", 2, NULL,
                             p, NULL, NULL, 0);
  long long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  PQfinish(db);
  return n;
}

/* The one who entered a dossier does not approve it; another head of the unit does. */
static void test_creator_does_not_approve(void **state) {
  (void)state;
  char id[32];
  assert_int_equal(th_world_record(&w, tok_both, w.d1_id, "Ngô Thị Kiểm", id), 0);
  cli_status st;
  th_expect(submit(w.rec_ch, tok_both, id, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(approve(w.rec_ch, tok_both, id, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  assert_non_null(strstr(st.message, "separation of duties"));
  assert_int_equal(audit_count("RECORD_APPROVE", id), 0);
  th_expect(approve(w.rec_ch, w.tok_d1_admin, id, &st), &st, GRPC_STATUS_OK, NULL);
  /* later changes by others: the creator still never approves the record */
  update_phone(w.rec_ch, w.tok_d1_updater, id, "0204 3884 001");
  th_expect(approve(w.rec_ch, tok_both, id, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  th_expect(approve(w.rec_ch, tok_both2, id, &st), &st, GRPC_STATUS_OK, NULL);
}

/* A change since the last approval is its author's to have verified by someone else; once that
 * is done, the author may verify the next change of another. */
static void test_author_of_a_change_does_not_approve_it(void **state) {
  (void)state;
  char id[32];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Đinh Văn Đổi", id), 0);
  cli_status st;
  th_expect(submit(w.rec_ch, w.tok_d1_updater, id, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(approve(w.rec_ch, w.tok_d1_admin, id, &st), &st, GRPC_STATUS_OK, NULL);
  update_phone(w.rec_ch, tok_both, id, "0204 3884 002");
  th_expect(approve(w.rec_ch, tok_both, id, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  assert_non_null(strstr(st.message, "since it was last approved"));
  th_expect(approve(w.rec_ch, w.tok_d1_admin, id, &st), &st, GRPC_STATUS_OK, NULL);
  update_phone(w.rec_ch, w.tok_d1_updater, id, "0204 3884 003");
  th_expect(approve(w.rec_ch, tok_both, id, &st), &st, GRPC_STATUS_OK, NULL);
}

/* A head of unit who is also a person on file approves neither their own dossier nor a change
 * they declared about themselves. */
static void test_own_dossier_and_own_change_request(void **state) {
  (void)state;
  char id[32];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Trịnh Văn Trưởng", id), 0);
  int roles[2] = {R(UNIT_ADMIN), R(SELF)};
  char *me = th_world_account(&w, "ln.truong.ca.nhan", w.d1_id, roles, 2, id);
  assert_non_null(me);
  cli_status st;
  th_expect(submit(w.rec_ch, w.tok_d1_updater, id, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(approve(w.rec_ch, me, id, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  assert_non_null(strstr(st.message, "your own dossier"));
  th_expect(approve(w.rec_ch, w.tok_d1_admin, id, &st), &st, GRPC_STATUS_OK, NULL);

  Record *r = get(w.rec_ch, me, id);
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  if (!r->personal) r->personal = &p;
  char *was = r->personal->current_address;
  r->personal->current_address = "Thị trấn Đồi Ngô, huyện Lục Nam, tỉnh Bắc Giang";
  Hoso__Records__V1__CreateChangeRequestRequest cq = HOSO__RECORDS__V1__CREATE_CHANGE_REQUEST_REQUEST__INIT;
  cq.proposed = r;
  cq.base_version = r->version;
  Hoso__Records__V1__CreateChangeRequestResponse *cr = NULL;
  th_expect(th_call(w.rec_ch, REC "CreateChangeRequest", &cq,
                    &hoso__records__v1__create_change_request_response__descriptor, (void **)&cr, me, &st),
            &st, GRPC_STATUS_OK, NULL);
  if (r->personal == &p) r->personal = NULL;
  else r->personal->current_address = was;
  protobuf_c_message_free_unpacked(&r->base, NULL);
  Hoso__Records__V1__ApproveChangeRequestRequest aq = HOSO__RECORDS__V1__APPROVE_CHANGE_REQUEST_REQUEST__INIT;
  aq.change_request_id = cr->change_request->id;
  th_expect(th_call(w.rec_ch, REC "ApproveChangeRequest", &aq,
                    &hoso__records__v1__approve_change_request_response__descriptor, NULL, me, &st),
            &st, GRPC_STATUS_PERMISSION_DENIED, "change_request_id");
  th_expect(th_call(w.rec_ch, REC "ApproveChangeRequest", &aq,
                    &hoso__records__v1__approve_change_request_response__descriptor, NULL, w.tok_d1_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  protobuf_c_message_free_unpacked(&cr->base, NULL);
  free(me);
}

/* A records process of a deployment that turned the rule off, or exempted a one-person unit:
 * the approval goes ahead, and the audit log says it went against the rule. Elsewhere the rule
 * holds. A value that is neither on nor off stops the start. */
static void test_off_and_exempt_are_audited(void **state) {
  (void)state;
  th_svc off;
  const char *env_off[] = {"HOSO_SEPARATION_OF_DUTIES=off", NULL};
  assert_int_equal(th_world_service_start(&w, "records", &off, env_off), 0);
  cli_chan *ch = cli_open_tls(off.addr, NULL, NULL, NULL);
  char id[32];
  assert_int_equal(th_world_record(&w, tok_both, w.d1_id, "Mai Văn Một", id), 0);
  cli_status st;
  th_expect(submit(ch, tok_both, id, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(approve(ch, tok_both, id, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(audit_count("SOD_OVERRIDE", id), 1);
  assert_int_equal(audit_count("RECORD_APPROVE", id), 1);
  cli_close(ch);
  assert_int_equal(th_svc_stop(&off), 0);

  char exempt[160];
  snprintf(exempt, sizeof exempt, "HOSO_SEPARATION_OF_DUTIES_EXEMPT_UNITS=%s", w.d1u_id);
  const char *env_ex[] = {exempt, NULL};
  th_svc ex;
  assert_int_equal(th_world_service_start(&w, "records", &ex, env_ex), 0);
  ch = cli_open_tls(ex.addr, NULL, NULL, NULL);
  char one[32], other[32];
  assert_int_equal(th_world_record(&w, tok_both, w.d1u_id, "Xã Một Người", one), 0);
  assert_int_equal(th_world_record(&w, tok_both, w.d1_id, "Huyện Nhiều Người", other), 0);
  th_expect(submit(ch, tok_both, one, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(submit(ch, tok_both, other, &st), &st, GRPC_STATUS_OK, NULL);
  th_expect(approve(ch, tok_both, one, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(audit_count("SOD_OVERRIDE", one), 1);
  th_expect(approve(ch, tok_both, other, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "record_id");
  assert_int_equal(audit_count("SOD_OVERRIDE", other), 0);
  cli_close(ch);
  assert_int_equal(th_svc_stop(&ex), 0);

  const char *env_bad[] = {"HOSO_SEPARATION_OF_DUTIES=sometimes", NULL};
  th_svc bad;
  assert_int_not_equal(th_world_service_start(&w, "records", &bad, env_bad), 0);
  assert_true(th_log_count(bad.log, "HOSO_SEPARATION_OF_DUTIES=sometimes", NULL) >= 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_creator_does_not_approve),
      cmocka_unit_test(test_author_of_a_change_does_not_approve_it),
      cmocka_unit_test(test_own_dossier_and_own_change_request),
      cmocka_unit_test(test_off_and_exempt_are_audited),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
