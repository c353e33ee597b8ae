/* Access follows the record as it is now (records migration 040, store_access.c), over real gRPC
 * and PostgreSQL: after a transfer the old unit reads nothing of the record on any path (now,
 * as_of any day, versions, export, attachments) while the new unit reads its whole history; in
 * transit both sides read and neither changes; a secondment's host unit reads until the end
 * date; a record out of the system is read by its last unit's administrators only; and the
 * feed of records' own open steps the transfers service counts deadlines from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"
#define ST(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x
#define OK GRPC_STATUS_OK
#define DENIED GRPC_STATUS_PERMISSION_DENIED

typedef Hoso__Records__V1__Record Record;

static th_world w;

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

/* Today in Vietnam (UTC+7), plus `days`: the day grants end on. */
static void vn_day(int days, char out[11]) { memcpy(out, th_vn_day(days), 11); }

/* ------------------------------------------------------------ calls --------------------- */

static Record *get_as(const char *tok, const char *id, const char *as_of, grpc_status_code want) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  req.as_of = (char *)as_of;
  Hoso__Records__V1__GetRecordResponse *out = NULL;
  cli_status st;
  grpc_status_code c = th_call(w.rec_ch, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor,
                               (void **)&out, tok, &st);
  if (c != want) fail_msg("GetRecord %s as_of '%s': %s %s", id, as_of, cli_status_name(c), st.message);
  if (!out) return NULL;
  Record *r = out->record;
  out->record = NULL;
  free_msg(out);
  return r;
}

static grpc_status_code export_as(const char *tok, const char *id, const char *as_of) {
  Hoso__Records__V1__ExportRecordRequest req = HOSO__RECORDS__V1__EXPORT_RECORD_REQUEST__INIT;
  req.record_id = (char *)id;
  req.format = HOSO__RECORDS__V1__EXPORT_FORMAT__EXPORT_FORMAT_JSON;
  req.as_of = (char *)as_of;
  return th_call(w.rec_ch, REC "ExportRecord", &req, &hoso__records__v1__export_record_response__descriptor, NULL,
                 tok, NULL);
}

/* The number of versions the caller reads, or -1 when refused with `want`. */
static int versions(const char *tok, const char *id, grpc_status_code want) {
  Hoso__Records__V1__ListRecordVersionsRequest req = HOSO__RECORDS__V1__LIST_RECORD_VERSIONS_REQUEST__INIT;
  req.record_id = (char *)id;
  Hoso__Records__V1__ListRecordVersionsResponse *out = NULL;
  cli_status st;
  grpc_status_code c = th_call(w.rec_ch, REC "ListRecordVersions", &req,
                               &hoso__records__v1__list_record_versions_response__descriptor, (void **)&out, tok, &st);
  if (c != want) fail_msg("ListRecordVersions %s: %s %s", id, cli_status_name(c), st.message);
  int n = out ? (int)out->n_versions : -1;
  free_msg(out);
  return n;
}

static grpc_status_code list_attachments(const char *tok, const char *id) {
  Hoso__Records__V1__ListAttachmentsRequest req = HOSO__RECORDS__V1__LIST_ATTACHMENTS_REQUEST__INIT;
  req.record_id = (char *)id;
  return th_call(w.rec_ch, REC "ListAttachments", &req, &hoso__records__v1__list_attachments_response__descriptor,
                 NULL, tok, NULL);
}

static grpc_status_code download(const char *tok, const char *att) {
  cli_stream *s = cli_stream_open(w.rec_ch, REC "DownloadAttachment", th_bearer(tok), 1, 15000);
  assert_non_null(s);
  Hoso__Records__V1__DownloadAttachmentRequest req = HOSO__RECORDS__V1__DOWNLOAD_ATTACHMENT_REQUEST__INIT;
  req.attachment_id = (char *)att;
  (void)cli_stream_send(s, &req.base);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m = NULL;
  while (cli_stream_recv(s, &hoso__records__v1__download_attachment_response__descriptor, &m) == 1) free_msg(m);
  cli_status st;
  return cli_stream_finish(s, &st);
}

static grpc_status_code upload(const char *tok, const char *id, char att[32]) {
  static const char pdf[] = "%PDF-1.4\n%%EOF\n";
  cli_stream *s = cli_stream_open(w.rec_ch, REC "UploadAttachment", th_bearer(tok), 1, 15000);
  assert_non_null(s);
  Hoso__Records__V1__UploadAttachmentRequest ua = HOSO__RECORDS__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
  ua.record_id = (char *)id;
  ua.file_name = "quyet-dinh-dieu-dong.pdf";
  ua.chunk.data = (uint8_t *)pdf;
  ua.chunk.len = sizeof pdf - 1;
  (void)cli_stream_send(s, &ua.base);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m = NULL;
  if (cli_stream_recv(s, &hoso__records__v1__upload_attachment_response__descriptor, &m) == 1) {
    if (att) snprintf(att, 32, "%s", ((Hoso__Records__V1__UploadAttachmentResponse *)m)->attachment->id);
    free_msg(m);
  }
  cli_status st;
  return cli_stream_finish(s, &st);
}

/* An edit of the birth place, as `tok`: the status. */
static grpc_status_code edit(const char *tok, const char *id, const char *place) {
  Record *r = get_as(w.tok_admin, id, "", OK);
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT, *saved = r->personal;
  p.birth_place = (char *)place;
  r->personal = &p;
  Hoso__Records__V1__UpdateRecordRequest up = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  up.record = r;
  up.expected_version = r->version;
  grpc_status_code c = th_call(w.rec_ch, REC "UpdateRecord", &up, &hoso__records__v1__update_record_response__descriptor,
                               NULL, tok, NULL);
  r->personal = saved;
  free_msg(r);
  return c;
}

/* The transfers service's step: the record at `unit` with `status`, pending to `pending`. */
static void move(const char *id, const char *unit, const char *transfer, int status, const char *pending) {
  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = "77/QĐ-UBND";
  d.date = "2026-01-05";
  d.effective_date = "2026-01-10";
  Hoso__Records__V1__SetManagingUnitRequest req = HOSO__RECORDS__V1__SET_MANAGING_UNIT_REQUEST__INIT;
  req.record_id = (char *)id;
  req.new_unit_id = (char *)unit;
  req.transfer_id = (char *)transfer;
  req.status = status;
  req.decision = &d;
  req.pending_unit_id = (char *)(pending ? pending : "");
  cli_status st;
  grpc_status_code c = th_call(w.rec_ch, REC "SetManagingUnit", &req,
                               &hoso__records__v1__set_managing_unit_response__descriptor, NULL, w.tok_transfers, &st);
  if (c != OK) fail_msg("SetManagingUnit: %s %s", cli_status_name(c), st.message);
}

static grpc_status_code grant(const char *tok, const char *id, const char *unit, const char *until, int ended,
                              const char *key) {
  Hoso__Records__V1__SetReadGrantRequest req = HOSO__RECORDS__V1__SET_READ_GRANT_REQUEST__INIT;
  req.record_id = (char *)id;
  req.unit_id = (char *)unit;
  req.until = (char *)until;
  req.ended = ended;
  req.key = (char *)key;
  return th_call(w.rec_ch, REC "SetReadGrant", &req, &hoso__records__v1__set_read_grant_response__descriptor, NULL,
                 tok, NULL);
}

/* Versions of record `id` that the service's database role sees with `scope` (row-level
 * security alone, behind the service's own check). */
static long long versions_seen_by_db(const char *id, const char *scope) {
  PGconn *c = PQconnectdb(w.pg.dsn);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PQclear(PQexec(c, "BEGIN"));
  const char *p[1] = {scope};
  PQclear(PQexecParams(c, "SELECT set_config('hoso.scope', $1, true)", 1, NULL, p, NULL, NULL, 0));
  const char *q[1] = {id};
  PGresult *r = PQexecParams(c, "SELECT count(*) FROM records.record_versions WHERE record_id = $1::bigint", 1, NULL,
                             q, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  long long n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return n;
}

/* ------------------------------------------------------------ tests --------------------- */

static int setup(void **state) {
  (void)state;
  return th_world_start(&w, 1, NULL);
}

static int teardown(void **state) {
  (void)state;
  char log[256];
  snprintf(log, sizeof log, "%s", w.records.log);
  int rc = th_world_stop(&w);
  return rc == 0 && th_log_errors(log) == 0 ? 0 : -1;
}

/* Received by district 2: district 1 reads nothing of the record any more, on any path and for
 * any day — the days it managed it included — while district 2 reads all of its history, and
 * the database's row-level security agrees. Before 040 the as_of reads and the versions were
 * decided on the unit that made each version, so district 1 kept its old view of the record. */
static void test_old_unit_loses_every_read_path(void **state) {
  (void)state;
  char id[32], att[32] = "", today[11], tomorrow[11];
  vn_day(0, today);
  vn_day(1, tomorrow);
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Nguyễn Thị Chuyển", id), 0);
  assert_int_equal(edit(w.tok_d1_updater, id, "Xã Nghĩa Phương, huyện Lục Nam"), OK);
  assert_int_equal(upload(w.tok_d1_updater, id, att), OK);
  assert_int_equal(versions(w.tok_d1_reader, id, OK), 2);
  free_msg(get_as(w.tok_d1_reader, id, tomorrow, OK));
  assert_true(versions_seen_by_db(id, w.d1_path) == 2);

  move(id, w.d2_id, "access-1", ST(ACTIVE), NULL);

  free_msg(get_as(w.tok_d1_reader, id, "", DENIED));
  free_msg(get_as(w.tok_d1_reader, id, today, DENIED));
  free_msg(get_as(w.tok_d1_reader, id, tomorrow, DENIED));
  free_msg(get_as(w.tok_d1_admin, id, "2025-06-30", DENIED));
  assert_int_equal(export_as(w.tok_d1_reader, id, ""), DENIED);
  assert_int_equal(export_as(w.tok_d1_reader, id, today), DENIED);
  assert_int_equal(versions(w.tok_d1_admin, id, DENIED), -1);
  assert_int_equal(list_attachments(w.tok_d1_reader, id), DENIED);
  assert_int_equal(download(w.tok_d1_reader, att), DENIED);
  assert_int_equal(edit(w.tok_d1_updater, id, "Thị trấn Đồi Ngô"), DENIED);
  assert_true(versions_seen_by_db(id, w.d1_path) == 0);

  /* The new unit reads the whole dossier, its past as it was written (the birth place entered
   * by district 1 is in the version district 1 made). */
  Record *now = get_as(w.tok_d2_reader, id, "", OK);
  assert_string_equal(now->managing_unit_id, w.d2_id);
  free_msg(now);
  Record *then = get_as(w.tok_d2_reader, id, tomorrow, OK);
  assert_string_equal(then->personal->birth_place, "Xã Nghĩa Phương, huyện Lục Nam");
  free_msg(then);
  assert_int_equal(versions(w.tok_d2_reader, id, OK), 3);
  assert_int_equal(export_as(w.tok_d2_reader, id, today), OK);
  assert_int_equal(list_attachments(w.tok_d2_reader, id), OK);
  assert_int_equal(download(w.tok_d2_reader, att), OK);
  assert_true(versions_seen_by_db(id, w.d2_path) == 3);
}

/* In transit (PENDING_TRANSFER at district 1, pending to district 2): both read it, neither
 * changes it; the receipt makes district 2 the managing unit, a cancellation takes the record
 * back and district 2 reads nothing again. */
static void test_in_transit(void **state) {
  (void)state;
  char id[32], att[32] = "", back[32];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Trần Văn Đường", id), 0);
  assert_int_equal(upload(w.tok_d1_updater, id, att), OK);
  free_msg(get_as(w.tok_d2_reader, id, "", DENIED));

  move(id, w.d1_id, "access-2", ST(PENDING_TRANSFER), w.d2_id);
  Record *r = get_as(w.tok_d2_reader, id, "", OK);
  assert_int_equal(r->status, ST(PENDING_TRANSFER));
  assert_string_equal(r->managing_unit_id, w.d1_id);
  free_msg(r);
  free_msg(get_as(w.tok_d1_reader, id, "", OK));
  assert_int_equal(versions(w.tok_d2_reader, id, OK), 2);
  assert_int_equal(export_as(w.tok_d2_reader, id, ""), OK);
  assert_int_equal(list_attachments(w.tok_d2_reader, id), OK);
  assert_int_equal(download(w.tok_d2_reader, att), OK);
  assert_true(versions_seen_by_db(id, w.d2_path) == 2);
  /* Changeable by neither: the sender is told why, the receiver is not its manager yet. */
  assert_int_equal(edit(w.tok_d1_updater, id, "Huyện Yên Thế"), GRPC_STATUS_FAILED_PRECONDITION);
  assert_int_equal(upload(w.tok_d1_updater, id, NULL), GRPC_STATUS_FAILED_PRECONDITION);
  assert_int_equal(edit(w.tok_d2_updater, id, "Huyện Yên Thế"), DENIED);

  move(id, w.d2_id, "access-2", ST(ACTIVE), NULL);
  free_msg(get_as(w.tok_d1_reader, id, "", DENIED));
  assert_int_equal(edit(w.tok_d2_updater, id, "Huyện Yên Thế"), OK);

  /* A second record sent and taken back: the receiving unit's grant ends with the transit. */
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Lê Thị Quay", back), 0);
  move(back, w.d1_id, "access-3", ST(PENDING_TRANSFER), w.d2_id);
  free_msg(get_as(w.tok_d2_reader, back, "", OK));
  move(back, w.d1_id, "access-3", ST(ACTIVE), NULL);
  free_msg(get_as(w.tok_d2_reader, back, "", DENIED));
  assert_int_equal(versions(w.tok_d2_reader, back, DENIED), -1);
  assert_true(versions_seen_by_db(back, w.d2_path) == 0);
  assert_int_equal(edit(w.tok_d1_updater, back, "Xã Cẩm Lý"), OK);
}

/* A secondment (biệt phái): the host unit reads the record through its last day and not after,
 * without anyone ending it; ended early, at once. Reserved for the transfers service. */
static void test_secondment_grant(void **state) {
  (void)state;
  char id[32], today[11], yesterday[11];
  vn_day(0, today);
  vn_day(-1, yesterday);
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Phạm Thị Biệt", id), 0);
  assert_int_equal(grant(w.tok_admin, id, w.d2_id, today, 0, "secondment:a"), DENIED);
  assert_int_equal(grant(w.tok_d1_updater, id, w.d2_id, today, 0, "secondment:a"), DENIED);
  free_msg(get_as(w.tok_d2_reader, id, "", DENIED));

  assert_int_equal(grant(w.tok_transfers, id, w.d2_id, today, 0, "secondment:a"), OK);
  assert_int_equal(grant(w.tok_transfers, id, w.d2_id, today, 0, "secondment:a"), OK); /* same again */
  free_msg(get_as(w.tok_d2_reader, id, "", OK));
  assert_int_equal(versions(w.tok_d2_reader, id, OK), 1);
  assert_int_equal(edit(w.tok_d2_updater, id, "Huyện Yên Thế"), DENIED);
  assert_int_equal(edit(w.tok_d1_updater, id, "Huyện Lục Nam"), OK);

  /* The same grant ending yesterday: over by itself. */
  assert_int_equal(grant(w.tok_transfers, id, w.d2_id, yesterday, 0, "secondment:a"), OK);
  free_msg(get_as(w.tok_d2_reader, id, "", DENIED));
  assert_true(versions_seen_by_db(id, w.d2_path) == 0);
  /* Ended early. */
  assert_int_equal(grant(w.tok_transfers, id, w.d2_id, "2099-12-31", 0, "secondment:a"), OK);
  free_msg(get_as(w.tok_d2_reader, id, "", OK));
  assert_int_equal(grant(w.tok_transfers, id, w.d2_id, "2099-12-31", 1, "secondment:a"), OK);
  free_msg(get_as(w.tok_d2_reader, id, "", DENIED));
  /* Bad input is named. */
  cli_status st;
  Hoso__Records__V1__SetReadGrantRequest req = HOSO__RECORDS__V1__SET_READ_GRANT_REQUEST__INIT;
  req.record_id = id;
  req.unit_id = w.d2_id;
  req.until = "2026-02-30";
  req.key = "k";
  th_expect(th_call(w.rec_ch, REC "SetReadGrant", &req, &hoso__records__v1__set_read_grant_response__descriptor, NULL,
                    w.tok_transfers, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "until");
  req.until = "";
  req.key = "";
  th_expect(th_call(w.rec_ch, REC "SetReadGrant", &req, &hoso__records__v1__set_read_grant_response__descriptor, NULL,
                    w.tok_transfers, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "key");
}

/* Out of the system: read-only, and read by the last unit's administrators only (000 Đ10,
 * 004 Đ11), for good. */
static void test_transferred_out(void **state) {
  (void)state;
  char id[32];
  assert_int_equal(th_world_record(&w, w.tok_d1_updater, w.d1_id, "Đinh Văn Ra", id), 0);
  move(id, w.d1_id, "access-4", ST(PENDING_TRANSFER), NULL);
  move(id, w.d1_id, "access-4", ST(TRANSFERRED_OUT), NULL);
  Record *r = get_as(w.tok_d1_admin, id, "", OK);
  assert_int_equal(r->status, ST(TRANSFERRED_OUT));
  free_msg(r);
  assert_int_equal(versions(w.tok_admin, id, OK), 3);
  cli_status st;
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = id;
  th_expect(th_call(w.rec_ch, REC "GetRecord", &req, &hoso__records__v1__get_record_response__descriptor, NULL,
                    w.tok_d1_reader, &st),
            &st, DENIED, "record_id");
  assert_non_null(strstr(st.message, "transferred out"));
  assert_int_equal(versions(w.tok_d1_updater, id, DENIED), -1);
  assert_int_equal(edit(w.tok_admin, id, "Tỉnh Lạng Sơn"), GRPC_STATUS_FAILED_PRECONDITION);
  free_msg(get_as(w.tok_d2_admin, id, "", DENIED));
}

/* ------------------------------------------------------------ the steps feed ------------ */

typedef Hoso__Records__V1__ListRecordStepsResponse Steps;

/* Reads the feed from *pos to its end; the entry of record id (NULL if absent) is copied out. */
static Hoso__Records__V1__RecordSteps *feed_until_end(char pos[128], const char *id) {
  Hoso__Records__V1__RecordSteps *found = NULL;
  for (int round = 0; round < 100; round++) {
    Hoso__Records__V1__ListRecordStepsRequest req = HOSO__RECORDS__V1__LIST_RECORD_STEPS_REQUEST__INIT;
    req.after = pos;
    req.page_size = 2;
    Steps *out = NULL;
    cli_status st;
    grpc_status_code c = th_call(w.rec_ch, REC "ListRecordSteps", &req,
                                 &hoso__records__v1__list_record_steps_response__descriptor, (void **)&out,
                                 w.tok_transfers, &st);
    if (c != OK) fail_msg("ListRecordSteps: %s %s", cli_status_name(c), st.message);
    for (size_t i = 0; i < out->n_records; i++)
      if (strcmp(out->records[i]->record_id, id) == 0) {
        free_msg(found);
        found = out->records[i];
        out->records[i] = NULL;
      }
    snprintf(pos, 128, "%s", out->next);
    int more = out->more;
    /* NULL entries are skipped by free_unpacked. */
    free_msg(out);
    if (!more) return found;
  }
  fail_msg("ListRecordSteps never ended");
  return NULL;
}

/* The record's entry once the feed has it. A window ends at the oldest transaction still running
 * when it is chosen (a read audit batch, a background job): a write committed after that one
 * began comes in a later window, so a reader that has caught up may need another call or two. */
static Hoso__Records__V1__RecordSteps *feed_wait(char pos[128], const char *id) {
  for (int i = 0; i < 100; i++) {
    Hoso__Records__V1__RecordSteps *rs = feed_until_end(pos, id);
    if (rs) return rs;
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
  }
  fail_msg("record %s never came in the steps feed (5 s)", id);
  return NULL;
}

/* Each of records' own steps appears with its dates, and leaves when done: a new record until
 * approved (from the recruitment date), a state-side change until approved (from its decision's
 * effective date), a declaration until verified. A reader who has caught up sees the record
 * again after each change; nobody but the transfers service reads the feed. */
static void test_record_steps_feed(void **state) {
  (void)state;
  char pos[128] = "", id[32], today[11];
  vn_day(0, today);
  Hoso__Records__V1__RecordSteps *rs;
  free_msg(feed_until_end(pos, "0"));

  Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  r.managing_unit_id = w.d1_id;
  r.full_name = "Vũ Thị Mới";
  r.birth_date = "1998-03-02";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  e.recruitment_date = "2026-01-12";
  r.employment = &e;
  Hoso__Records__V1__CreateRecordRequest cr = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  cr.record = &r;
  Hoso__Records__V1__CreateRecordResponse *made = NULL;
  assert_int_equal(th_call(w.rec_ch, REC "CreateRecord", &cr, &hoso__records__v1__create_record_response__descriptor,
                           (void **)&made, w.tok_d1_updater, NULL),
                   OK);
  snprintf(id, sizeof id, "%s", made->record->id);
  free_msg(made);

  rs = feed_wait(pos, id);
  assert_non_null(rs);
  assert_string_equal(rs->unit_id, w.d1_id);
  assert_string_equal(rs->unit_path, w.d1_path);
  assert_string_equal(rs->full_name, "Vũ Thị Mới");
  assert_int_equal(rs->n_steps, 1);
  assert_int_equal(rs->steps[0]->kind, HOSO__RECORDS__V1__RECORD_STEP_KIND__RECORD_STEP_KIND_NEW_RECORD);
  assert_string_equal(rs->steps[0]->effective_date, "2026-01-12");
  assert_string_equal(rs->steps[0]->previous_date, today);
  free_msg(rs);
  assert_null(feed_until_end(pos, id)); /* caught up: nothing new */

  /* Submitted and approved: the step is done. */
  Hoso__Records__V1__SubmitRecordRequest sub = HOSO__RECORDS__V1__SUBMIT_RECORD_REQUEST__INIT;
  sub.record_id = id;
  assert_int_equal(th_call(w.rec_ch, REC "SubmitRecord", &sub, &hoso__records__v1__submit_record_response__descriptor,
                           NULL, w.tok_d1_updater, NULL),
                   OK);
  Hoso__Records__V1__ApproveRecordRequest ap = HOSO__RECORDS__V1__APPROVE_RECORD_REQUEST__INIT;
  ap.record_id = id;
  assert_int_equal(th_call(w.rec_ch, REC "ApproveRecord", &ap, &hoso__records__v1__approve_record_response__descriptor,
                           NULL, w.tok_d1_admin, NULL),
                   OK);
  rs = feed_wait(pos, id);
  assert_non_null(rs);
  assert_int_equal(rs->n_steps, 0);
  free_msg(rs);

  /* A change decided by the state: open until the unit approves it, from its effective date. */
  Record *cur = get_as(w.tok_d1_updater, id, "", OK);
  Hoso__Records__V1__PersonalInfo p = HOSO__RECORDS__V1__PERSONAL_INFO__INIT, *saved = cur->personal;
  p.birth_place = "Xã Tiên Hưng";
  cur->personal = &p;
  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  d.number = "12/QĐ-UBND";
  d.date = "2026-02-02";
  d.effective_date = "2026-02-03";
  Hoso__Records__V1__ChangeReason why = HOSO__RECORDS__V1__CHANGE_REASON__INIT;
  why.decision = &d;
  Hoso__Records__V1__UpdateRecordRequest up = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  up.record = cur;
  up.expected_version = cur->version;
  up.reason = &why;
  cli_status st;
  grpc_status_code c = th_call(w.rec_ch, REC "UpdateRecord", &up, &hoso__records__v1__update_record_response__descriptor,
                               NULL, w.tok_d1_updater, &st);
  cur->personal = saved;
  free_msg(cur);
  if (c != OK) fail_msg("UpdateRecord: %s %s", cli_status_name(c), st.message);
  rs = feed_wait(pos, id);
  assert_non_null(rs);
  assert_int_equal(rs->n_steps, 1);
  assert_int_equal(rs->steps[0]->kind, HOSO__RECORDS__V1__RECORD_STEP_KIND__RECORD_STEP_KIND_STATE_UPDATE);
  assert_string_equal(rs->steps[0]->effective_date, "2026-02-03");
  free_msg(rs);

  /* The person declares a change: a second step, with its change request. */
  char *self = th_world_self_token(&w, w.d1_id, id);
  assert_non_null(self);
  cur = get_as(self, id, "", OK);
  Hoso__Records__V1__PersonalInfo p2 = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  p2.birth_place = "Xã Tiên Hưng";
  p2.phone = "0912 345 678";
  saved = cur->personal;
  cur->personal = &p2;
  Hoso__Records__V1__CreateChangeRequestRequest ccr = HOSO__RECORDS__V1__CREATE_CHANGE_REQUEST_REQUEST__INIT;
  ccr.proposed = cur;
  ccr.base_version = cur->version;
  ccr.note = "Số điện thoại mới";
  Hoso__Records__V1__CreateChangeRequestResponse *crr = NULL;
  c = th_call(w.rec_ch, REC "CreateChangeRequest", &ccr, &hoso__records__v1__create_change_request_response__descriptor,
              (void **)&crr, self, &st);
  cur->personal = saved;
  free_msg(cur);
  free(self);
  if (c != OK) fail_msg("CreateChangeRequest: %s %s", cli_status_name(c), st.message);
  rs = feed_wait(pos, id);
  assert_non_null(rs);
  assert_int_equal(rs->n_steps, 2);
  assert_int_equal(rs->steps[1]->kind, HOSO__RECORDS__V1__RECORD_STEP_KIND__RECORD_STEP_KIND_VERIFY_DECLARATION);
  assert_string_equal(rs->steps[1]->ref, crr->change_request->id);
  assert_string_equal(rs->steps[1]->previous_date, today);
  free_msg(rs);
  free_msg(crr);

  /* Only the transfers service reads it; a position it did not give is refused. */
  Hoso__Records__V1__ListRecordStepsRequest req = HOSO__RECORDS__V1__LIST_RECORD_STEPS_REQUEST__INIT;
  th_expect(th_call(w.rec_ch, REC "ListRecordSteps", &req, &hoso__records__v1__list_record_steps_response__descriptor,
                    NULL, w.tok_admin, &st),
            &st, DENIED, NULL);
  req.after = "abc";
  th_expect(th_call(w.rec_ch, REC "ListRecordSteps", &req, &hoso__records__v1__list_record_steps_response__descriptor,
                    NULL, w.tok_transfers, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "after");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_old_unit_loses_every_read_path),
      cmocka_unit_test(test_in_transit),
      cmocka_unit_test(test_secondment_grant),
      cmocka_unit_test(test_transferred_out),
      cmocka_unit_test(test_record_steps_feed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
