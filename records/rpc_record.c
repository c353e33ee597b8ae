/* The record RPCs of hoso.records.v1.Records: create a dossier (a draft of its managing unit),
 * read it now or as of a past day, change it with optimistic concurrency, list its versions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "pbwalk.h"
#include "records.h"
#include "rpc_util.h"
#include "scope.h"
#include "store_records.h"
#include "val.h"

#define VERSIONS_TOKEN_MAX 64

static const char *str(const char *s) { return s ? s : ""; }

/* ------------------------------------------------------------ CreateRecord -------------- */

typedef struct {
  const rec_t *in;
  const char *request_id;
  char path[UNIT_TREE_PATH_MAX];
  rec_t *out;
} create_st;

static int create_tx(srv_ctx *ctx, void *p) {
  create_st *st = p;
  st->out = NULL;
  int replayed;
  SRV_TRY(rec_replay(ctx, st->request_id, &replayed, &st->out));
  if (replayed) return 0;

  /* A fresh copy each time: the body runs again after a serialization failure. */
  rec_t *r = srv_msg_copy(ctx, &st->in->base);
  /* What the workflow owns starts from the beginning, whatever the client sent (004 Đ10). */
  r->id = "";
  r->version = 0;
  r->workflow_state = HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_DRAFT;
  r->verified = 0;
  r->approved_by = r->approved_at = r->created_at = r->updated_at = "";
  if (r->status == HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_UNSPECIFIED)
    r->status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE;
  SRV_TRY(rec_validate(ctx, r, "record"));
  /* The reply is packed after the handler returns: the path must live in the call's arena,
   * not in st (the handler's stack frame). */
  r->managing_unit_path = srv_strdup(ctx, st->path);
  SRV_TRY(record_store(ctx, NULL, r, "CREATE", NULL));
  SRV_TRY(rec_idem_done(ctx, st->request_id, r));
  st->out = r;
  return 0;
}

int rpc_create_record(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__CreateRecordRequest *in = (const void *)req;
  create_st st = {.in = in->record, .request_id = in->request_id};
  if (!in->record) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "record: must be given");
  if (srv_check_id(ctx, "record.managing_unit_id", in->record->managing_unit_id) ||
      srv_check_request_id(ctx, in->request_id) ||
      srv_need_right(ctx, RIGHT_UPDATE, 0, "creating records needs the UPDATER role"))
    return -1;
  /* Asked of identity before the transaction, so no row lock waits on another service. */
  if (unit_tree_path(ctx, "record.managing_unit_id", in->record->managing_unit_id, st.path)) return -1;
  if (!scope_allows(ctx->auth, st.path, RIGHT_UPDATE))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "record.managing_unit_id: unit %s is outside your scope; records are created "
                    "by the updaters of their own unit or a unit above it",
                    in->record->managing_unit_id);

  if (srv_tx(ctx, DB_READ_COMMITTED, create_tx, &st) != 0) return -1;
  Hoso__Records__V1__CreateRecordResponse *o = srv_new(ctx, &hoso__records__v1__create_record_response__descriptor);
  o->record = st.out;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ GetRecord ----------------- */

typedef struct {
  const char *id, *as_of;
  rec_t *out;
} get_st;

static int get_tx(srv_ctx *ctx, void *p) {
  get_st *st = p;
  if (*st->as_of) return record_fetch_as_of(ctx, st->id, st->as_of, RIGHT_READ, &st->out);
  /* one statement when the read is allowed: it and the COMMIT in one round trip */
  db_commit_with_next(ctx->db);
  return record_fetch(ctx, st->id, RIGHT_READ, 0, &st->out);
}

int rpc_get_record(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__GetRecordRequest *in = (const void *)req;
  get_st st = {.id = in->record_id, .as_of = str(in->as_of)};
  const char *e;
  if (srv_check_id(ctx, "record_id", in->record_id)) return -1;
  if (*st.as_of && (e = val_date(st.as_of)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "as_of: %s", e);
  if (srv_need_right(ctx, RIGHT_READ, 1, "reading records needs a role with read access")) return -1;

  /* The read writes nothing; the dossiers are confidential, so who read whom is recorded and
   * durable before the record is sent (the batched read audit). */
  if (srv_tx(ctx, DB_READ_COMMITTED | DB_READ_ONLY, get_tx, &st) != 0 ||
      record_audit_read(ctx, "RECORD_READ", st.out, *st.as_of ? json_pack("{s:s}", "as_of", st.as_of) : NULL) != 0)
    return -1;
  Hoso__Records__V1__GetRecordResponse *o = srv_new(ctx, &hoso__records__v1__get_record_response__descriptor);
  o->record = st.out;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ UpdateRecord -------------- */

typedef struct {
  const rec_t *in;
  long long expected;
  rec_reason *reason;
  const char *request_id;
  rec_t *out;
} update_st;

static int differs(const char *given, const char *now) { return given && *given && strcmp(given, str(now)) != 0; }

/* The fields other RPCs own: sent unchanged (as read) they are fine, changed they are refused
 * with the RPC that does change them. */
static int owned_elsewhere(srv_ctx *ctx, const rec_t *n, const rec_t *o) {
  const char *why = NULL, *field = NULL;
  if (differs(n->managing_unit_id, o->managing_unit_id)) {
    field = "record.managing_unit_id";
    why = "the managing unit changes through a transfer (SetManagingUnit), not UpdateRecord";
  } else if ((n->status && n->status != o->status) || differs(n->status_date, o->status_date) ||
             (n->status_decision && !rec_msg_equal(&n->status_decision->base,
                                                   o->status_decision ? &o->status_decision->base : NULL))) {
    field = n->status && n->status != o->status ? "record.status"
            : differs(n->status_date, o->status_date) ? "record.status_date"
                                                       : "record.status_decision";
    why = "the status changes with its decision through ChangeRecordStatus, not UpdateRecord";
  } else if (n->workflow_state && n->workflow_state != o->workflow_state) {
    field = "record.workflow_state";
    why = "the workflow moves through SubmitRecord, ApproveRecord and RejectRecord";
  } else if (n->verified && !o->verified) {
    field = "record.verified";
    why = "a change is verified by ApproveRecord";
  } else if (differs(n->approved_by, o->approved_by) || differs(n->approved_at, o->approved_at)) {
    field = differs(n->approved_by, o->approved_by) ? "record.approved_by" : "record.approved_at";
    why = "approval is recorded by ApproveRecord";
  }
  return field ? srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s", field, why) : 0;
}

static int update_tx(srv_ctx *ctx, void *p) {
  update_st *st = p;
  rec_t *old;
  st->out = NULL;
  int replayed;
  SRV_TRY(rec_replay(ctx, st->request_id, &replayed, &st->out));
  if (replayed) return 0;

  SRV_TRY(record_fetch(ctx, st->in->id, RIGHT_UPDATE, 1, &old));
  SRV_TRY(rec_check_version(ctx, old, st->expected));
  if (old->workflow_state == HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUBMITTED)
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "record is awaiting approval; it can be edited again once it is approved or rejected");
  SRV_TRY(owned_elsewhere(ctx, st->in, old));

  rec_t *r = srv_msg_copy(ctx, &st->in->base);
  r->managing_unit_id = old->managing_unit_id;
  r->managing_unit_path = old->managing_unit_path;
  r->status = old->status;
  r->status_date = old->status_date;
  r->status_decision = old->status_decision;
  r->workflow_state = old->workflow_state;
  r->verified = old->verified;
  r->approved_by = old->approved_by;
  r->approved_at = old->approved_at;
  SRV_TRY(rec_validate_change(ctx, r, "record", old));

  /* Saving an unchanged form makes no version. Otherwise drafts stay drafts, and a change to
   * an approved record (decided by the state) applies at once but awaits verification. */
  Hoso__Records__V1__FieldChange **ch;
  size_t n = 0;
  r->version = old->version;
  r->created_at = old->created_at;
  r->updated_at = old->updated_at;
  if (rec_diff(ctx, &old->base, &r->base, &ch, &n) == 0 && n == 0) {
    st->out = old;
    return rec_idem_done(ctx, st->request_id, old);
  }
  if (old->workflow_state == HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_APPROVED) r->verified = 0;
  SRV_TRY(record_store(ctx, old, r, "UPDATE", st->reason));
  SRV_TRY(rec_idem_done(ctx, st->request_id, r));
  st->out = r;
  return 0;
}

int rpc_update_record(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__UpdateRecordRequest *in = (const void *)req;
  update_st st = {.in = in->record, .expected = in->expected_version, .request_id = in->request_id};
  if (!in->record) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "record: must be given");
  if (srv_check_id(ctx, "record.id", in->record->id)) return -1;
  if (in->expected_version <= 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "expected_version: required: the version you read (a stale one is refused)");
  if (srv_check_request_id(ctx, in->request_id) ||
      rec_reason_clean(ctx, "reason", in->reason, 0, &st.reason) ||
      srv_need_right(ctx, RIGHT_UPDATE, 0, "changing records needs the UPDATER role"))
    return -1;

  if (srv_tx(ctx, DB_READ_COMMITTED, update_tx, &st) != 0) return -1;
  Hoso__Records__V1__UpdateRecordResponse *o = srv_new(ctx, &hoso__records__v1__update_record_response__descriptor);
  o->record = st.out;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ ListRecordVersions -------- */

typedef struct {
  const char *id, *before; /* before: versions below this one (NULL: from the newest) */
  int size, with_records;
  Hoso__Records__V1__ListRecordVersionsResponse *out;
  rec_t *cur;
} versions_st;

static int versions_tx(srv_ctx *ctx, void *p) {
  versions_st *st = p;
  rec_t *cur;
  int more;
  SRV_TRY(record_fetch(ctx, st->id, RIGHT_READ, 0, &cur));
  SRV_TRY(record_versions_page(ctx, st->id, st->before, st->size, st->with_records, &st->out->versions,
                               &st->out->n_versions, &more));
  if (more && st->out->n_versions > 0)
    SRV_TRY(srv_page_next(ctx, &st->out->next_page_token, "v%lld",
                          (long long)st->out->versions[st->out->n_versions - 1]->version));
  st->cur = cur;
  return 0;
}

/* The versions carry the old and new values of every change: a read of the record, and of
 * exactly these versions. */
static json_t *versions_read(const Hoso__Records__V1__ListRecordVersionsResponse *o, int with_records) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < o->n_versions; i++) json_array_append_new(a, json_integer(o->versions[i]->version));
  return json_pack("{s:o, s:b}", "versions", a, "with_records", with_records);
}

int rpc_list_record_versions(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__ListRecordVersionsRequest *in = (const void *)req;
  versions_st st = {.id = in->record_id, .with_records = in->include_records};
  if (srv_check_id(ctx, "record_id", in->record_id)) return -1;
  st.size = val_page_size(in->page_size);
  if (st.size < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (in->page_token && *in->page_token) {
    char key[VERSIONS_TOKEN_MAX];
    /* Versions below 1 are a transfer package's past (rpc_import_history.c). */
    if (val_page_token_decode(in->page_token, key, sizeof key) != 0 || key[0] != 'v' ||
        (strcmp(key, "v0") != 0 && val_id(key + 1 + (key[1] == '-'))))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
    st.before = srv_strdup(ctx, key + 1);
  }
  if (srv_need_right(ctx, RIGHT_READ, 1, "reading records needs a role with read access")) return -1;

  st.out = srv_new(ctx, &hoso__records__v1__list_record_versions_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED | DB_READ_ONLY, versions_tx, &st) != 0 ||
      record_audit_read(ctx, "RECORD_HISTORY_READ", st.cur, versions_read(st.out, st.with_records)) != 0)
    return -1;
  *resp = &st.out->base;
  return 0;
}
