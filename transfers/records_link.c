/* The transfers service's side of its calls to records and identity, made as the service
 * itself (its service client, granted the units it moves records between): a record as it is
 * now, a unit the caller may name without seeing it, and the outbox row of each move. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "transfers.h"

#define RS(x) HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_##x

static pthread_once_t once = PTHREAD_ONCE_INIT;
static svc_client *client;

static void make_client(void) { client = svc_client_from_env("transfers"); }

svc_client *tr_client(void) {
  pthread_once(&once, make_client);
  return client;
}

static int no_client(srv_ctx *ctx) {
  log_error("transfers: HOSO_TRANSFERS_CLIENT_ID / HOSO_TRANSFERS_CLIENT_SECRET are not set: records cannot be asked");
  return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE, "the transfers service cannot reach records (not configured); retry "
                                                "later or tell the operator");
}

int tr_record(srv_ctx *ctx, const char *record_id, Hoso__Records__V1__Record **out) {
  *out = NULL;
  svc_client *c = tr_client();
  if (!c) return no_client(ctx);
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)record_id;
  ProtobufCMessage *resp = NULL;
  cli_status st;
  grpc_status_code code = svc_call(c, "records", "/hoso.records.v1.Records/GetRecord", &req.base,
                                   &hoso__records__v1__get_record_response__descriptor, &resp, &st);
  int rc = 0;
  switch (code) {
  case GRPC_STATUS_OK:
    *out = srv_msg_copy(ctx, &((Hoso__Records__V1__GetRecordResponse *)resp)->record->base);
    if (!*out) rc = srv_fail_internal(ctx);
    break;
  case GRPC_STATUS_NOT_FOUND:
    rc = srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "record_id: record %s does not exist", record_id);
    break;
  case GRPC_STATUS_PERMISSION_DENIED:
    rc = srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "record_id: record %s is outside the transfers service's grant",
                  record_id);
    break;
  case GRPC_STATUS_INVALID_ARGUMENT:
    rc = srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "record_id: %s", st.message);
    break;
  default:
    rc = svc_fail_downstream(ctx, &st, SVC_AS_SERVICE, "records", "/hoso.records.v1.Records/GetRecord");
  }
  if (resp) protobuf_c_message_free_unpacked(resp, NULL);
  return rc;
}

int tr_unit_path(srv_ctx *ctx, const char *field, const char *unit_id, char path[UNIT_TREE_PATH_MAX]) {
  svc_client *c = tr_client();
  if (!c) return no_client(ctx);
  return unit_tree_path_as(ctx, c, field, unit_id, path);
}

/* ------------------------------------------------------------ the moves ----------------- */

static Hoso__Records__V1__Decision *decision_of(srv_ctx *ctx, const transfer_t *t) {
  Hoso__Records__V1__Decision *d = srv_new(ctx, &hoso__records__v1__decision__descriptor);
  const tr_decision_t *td = t->decision;
  d->number = td ? td->number : "";
  d->effective_date = td ? td->effective_date : "";
  /* The signing date, when not given, is taken to be the effective date. */
  d->date = td && td->date && *td->date ? td->date : d->effective_date;
  d->issuer = td ? td->issuer : "";
  return d;
}

static int queue_unit(srv_ctx *ctx, const tr_row *r, const char *unit, int status, const char *pending) {
  Hoso__Records__V1__SetManagingUnitRequest *q = srv_new(ctx, &hoso__records__v1__set_managing_unit_request__descriptor);
  q->record_id = r->t->record_id;
  q->new_unit_id = (char *)unit;
  q->transfer_id = r->t->id;
  q->status = status;
  q->decision = decision_of(ctx, r->t);
  q->pending_unit_id = (char *)(pending ? pending : "");
  /* Each transition of a transfer has its own version: the key of its one step in records. */
  q->step_key = srv_printf(ctx, "v%lld", (long long)r->t->version);
  /* The units named were read on the tree as this service has followed it: records waits until
   * it has followed as far (a merge applied here first would otherwise reach records as a move). */
  long long seq = 0;
  if (unit_tree_followed(ctx, &seq) != 0) return -1;
  q->unit_tree_seq = seq;
  return store_outbox_add(ctx, r, "/hoso.records.v1.Records/SetManagingUnit", &q->base);
}

static int queue_grant(srv_ctx *ctx, const tr_row *r, int ended) {
  Hoso__Records__V1__SetReadGrantRequest *q = srv_new(ctx, &hoso__records__v1__set_read_grant_request__descriptor);
  q->record_id = r->t->record_id;
  q->unit_id = r->t->to_unit_id;
  q->until = r->t->end_date;
  q->ended = ended;
  q->key = srv_printf(ctx, "secondment:%s", r->t->id);
  return store_outbox_add(ctx, r, "/hoso.records.v1.Records/SetReadGrant", &q->base);
}

int tr_queue_move(srv_ctx *ctx, const tr_row *r, flow_move m) {
  const transfer_t *t = r->t;
  switch (m) {
  case MOVE_NONE: return 0;
  case MOVE_ACTIVE_AT_FROM: return queue_unit(ctx, r, t->from_unit_id, RS(ACTIVE), NULL);
  case MOVE_ACTIVE_AT_TO: return queue_unit(ctx, r, t->to_unit_id, RS(ACTIVE), NULL);
  case MOVE_ACTIVE_AT_FINAL: return queue_unit(ctx, r, t->final_unit_id, RS(ACTIVE), NULL);
  case MOVE_PENDING_TO_TO: return queue_unit(ctx, r, t->from_unit_id, RS(PENDING_TRANSFER), t->to_unit_id);
  case MOVE_PENDING_TO_FINAL: return queue_unit(ctx, r, t->to_unit_id, RS(PENDING_TRANSFER), t->final_unit_id);
  case MOVE_PENDING_OUT: return queue_unit(ctx, r, t->from_unit_id, RS(PENDING_TRANSFER), NULL);
  case MOVE_OUT: return queue_unit(ctx, r, t->from_unit_id, RS(TRANSFERRED_OUT), NULL);
  case MOVE_GRANT_HOST: return queue_grant(ctx, r, 0);
  case MOVE_GRANT_END: return queue_grant(ctx, r, 1);
  }
  return 0;
}
