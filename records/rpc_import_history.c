/* ImportRecordHistory: a record that came from another deployment (or back from this one) in a
 * transfer package — signature and every part already checked by the transfers service, its
 * only caller — becomes a draft of the unit that takes the person in, awaiting approval like
 * any new record (004 Đ10), with its past kept: the versions it had, numbered below the draft's
 * (0, -1, ...: as_of reads and ListRecordVersions show them, marked IMPORTED_<action>), and its
 * attachments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "rpc_util.h"
#include "records.h"
#include "scope.h"
#include "store_records.h"
#include "val.h"

#define STATUS(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x
#define KEY_MAX_CHARS 128

typedef Hoso__Records__V1__RecordVersion rec_version;

typedef struct {
  const Hoso__Records__V1__ImportRecordHistoryRequest *in;
  char path[UNIT_TREE_PATH_MAX];
  rec_t *out;
} hist_st;

static int by_version(const void *a, const void *b) {
  const rec_version *x = *(const rec_version *const *)a, *y = *(const rec_version *const *)b;
  return x->version < y->version ? -1 : x->version > y->version;
}

static int hist_tx(srv_ctx *ctx, void *p) {
  hist_st *st = p;
  const Hoso__Records__V1__ImportRecordHistoryRequest *in = st->in;
  int replayed;
  SRV_TRY(rec_replay(ctx, in->key, &replayed, &st->out));
  if (replayed) return 0;

  /* The draft: the package's record, managed here, from the beginning of the workflow. */
  rec_t *r = srv_msg_copy(ctx, &in->record->base);
  r->id = "";
  r->version = 0;
  r->managing_unit_id = in->unit_id;
  r->workflow_state = HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_DRAFT;
  r->verified = 0;
  r->status = STATUS(ACTIVE);
  r->approved_by = r->approved_at = r->created_at = r->updated_at = "";
  SRV_TRY(rec_validate(ctx, r, "record"));
  r->managing_unit_path = srv_strdup(ctx, st->path);
  rec_reason *why = srv_new(ctx, &hoso__records__v1__change_reason__descriptor);
  why->text = srv_printf(ctx, "transfer package from %s", in->source ? in->source : "another deployment");
  SRV_TRY(record_store(ctx, NULL, r, "IMPORT_PACKAGE", why));

  /* Its past: every version it had, oldest lowest, below the draft's version 1. */
  size_t n = in->n_versions;
  rec_version **v = srv_alloc(ctx, (n ? n : 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = srv_msg_copy(ctx, &in->versions[i]->base);
  qsort(v, n, sizeof *v, by_version);
  for (size_t i = 0; i < n; i++) {
    if (!v[i]->record)
      return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "versions[%zu].record: each version comes with its record", i);
    rec_t *data = v[i]->record;
    data->id = r->id;
    data->managing_unit_id = in->unit_id;
    data->managing_unit_path = "";
    v[i]->record = NULL;
    v[i]->version = (int64_t)i - (int64_t)n; /* -n .. -1 */
    v[i]->action = srv_printf(ctx, "IMPORTED_%s", v[i]->action ? v[i]->action : "");
    SRV_TRY(record_store_past_version(ctx, r->id, st->path, v[i], data));
  }
  for (size_t i = 0; i < in->n_attachments; i++) {
    const Hoso__Records__V1__ImportedAttachment *a = in->attachments[i];
    if (!a->meta || !a->content.len || !val_scan_type(a->content.data, a->content.len))
      return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "attachments[%zu]: a PDF, JPEG or PNG with its metadata", i);
    SRV_TRY(record_store_past_attachment(ctx, r->id, st->path, a->meta, &a->content));
  }
  audit_entry e = {.action = "RECORD_IMPORT_PACKAGE", .target_type = "record", .target_id = r->id,
                   .unit_path = r->managing_unit_path};
  SRV_TRY(srv_audit(ctx, &e,
                    json_pack("{s:s, s:s, s:i, s:i}", "source", in->source ? in->source : "", "key", in->key,
                              "versions", (int)n, "attachments", (int)in->n_attachments)));
  SRV_TRY(rec_idem_done(ctx, in->key, r));
  st->out = r;
  return 0;
}

int rpc_import_record_history(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__ImportRecordHistoryRequest *in = (const void *)req;
  hist_st st = {.in = in};
  const char *e;
  if (!in->record) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "record: must be given");
  if (srv_check_id(ctx, "unit_id", in->unit_id)) return -1;
  if ((e = val_text(in->key ? in->key : "", 1, KEY_MAX_CHARS)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "key: %s", e);
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  if (!record_is_transfers_service(ctx))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "ImportRecordHistory is reserved for the transfers service; a package is taken in with "
                    "ImportTransferPackage");
  if (unit_tree_path(ctx, "unit_id", in->unit_id, st.path)) return -1;
  if (!scope_allows(ctx->auth, st.path, RIGHT_READ))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside the transfers service's grant",
                    in->unit_id);
  if (srv_tx(ctx, DB_READ_COMMITTED, hist_tx, &st) != 0) return -1;
  Hoso__Records__V1__ImportRecordHistoryResponse *o =
      srv_new(ctx, &hoso__records__v1__import_record_history_response__descriptor);
  o->record = st.out;
  *resp = &o->base;
  return 0;
}
