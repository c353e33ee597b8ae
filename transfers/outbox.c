/* Delivery of the outbox (GUIDE "Across services"): each row is records' SetManagingUnit or
 * SetReadGrant, keyed by the transfer and its version, sent as the service until records
 * answers. A repeated delivery changes nothing in records, so a crash anywhere — before the
 * call, during it, after it and before the row is marked — ends with the move made once. */
#include <stdio.h>
#include <string.h>
#include "fault.h"
#include "log.h"
#include "outbox.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 30000

typedef struct {
  const char *transfer_id;
  int max;
  outbox_row *rows;
  int n;
  const outbox_row *row;
  int refused;
  const char *error;
  long delay_ms;
} deliver_st;

static int due_tx(srv_ctx *ctx, void *p) {
  deliver_st *st = p;
  return store_outbox_due(ctx, st->transfer_id, st->max, &st->rows, &st->n);
}

static int done_tx(srv_ctx *ctx, void *p) {
  deliver_st *st = p;
  return st->delay_ms ? store_outbox_retry(ctx, st->row, st->error, st->delay_ms)
                      : store_outbox_done(ctx, st->row, st->refused, st->error);
}

/* An answer records will give again whatever the number of tries: the move cannot be made. */
static int refused_for_good(grpc_status_code c) {
  return c == GRPC_STATUS_INVALID_ARGUMENT || c == GRPC_STATUS_FAILED_PRECONDITION || c == GRPC_STATUS_NOT_FOUND ||
         c == GRPC_STATUS_PERMISSION_DENIED || c == GRPC_STATUS_ALREADY_EXISTS || c == GRPC_STATUS_OUT_OF_RANGE ||
         c == GRPC_STATUS_UNIMPLEMENTED;
}

static long backoff_ms(int attempts) {
  long ms = BACKOFF_FIRST_MS;
  for (int i = 0; i < attempts && ms < BACKOFF_MAX_MS; i++) ms *= 2;
  return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static const ProtobufCMessageDescriptor *request_desc(const char *method, const ProtobufCMessageDescriptor **resp) {
  if (strcmp(method, "/hoso.records.v1.Records/SetManagingUnit") == 0) {
    *resp = &hoso__records__v1__set_managing_unit_response__descriptor;
    return &hoso__records__v1__set_managing_unit_request__descriptor;
  }
  if (strcmp(method, "/hoso.records.v1.Records/SetReadGrant") == 0) {
    *resp = &hoso__records__v1__set_read_grant_response__descriptor;
    return &hoso__records__v1__set_read_grant_request__descriptor;
  }
  return NULL;
}

/* One row to records; what happened is recorded in st for done_tx. */
static void deliver_one(srv_ctx *ctx, svc_client *client, deliver_st *st, const outbox_row *o) {
  const ProtobufCMessageDescriptor *resp_desc = NULL, *desc = request_desc(o->method, &resp_desc);
  st->row = o;
  st->refused = 0;
  st->error = NULL;
  st->delay_ms = 0;
  ProtobufCMessage *req = desc ? protobuf_c_message_unpack(desc, NULL, o->len, o->request) : NULL;
  if (!req) {
    log_error("transfers: outbox row %s (%s) cannot be read; left undelivered", o->id, o->method);
    st->delay_ms = BACKOFF_MAX_MS;
    st->error = "the stored request does not unpack";
    return;
  }
  log_debug("outbox: delivering row %s of transfer %s (%s, attempt %d)", o->id, o->transfer_id, o->method,
            o->attempts + 1);
  fault_point("deliver.before_call");
  ProtobufCMessage *resp = NULL;
  cli_status cs;
  grpc_status_code c = svc_call(client, "records", o->method, req, resp_desc, &resp, &cs);
  protobuf_c_message_free_unpacked(req, NULL);
  if (resp) protobuf_c_message_free_unpacked(resp, NULL);
  fault_point("deliver.after_call");
  if (c == GRPC_STATUS_OK) return;
  st->error = srv_printf(ctx, "%s: %s", cli_status_name(c), cs.message);
  if (refused_for_good(c)) {
    log_error("transfers: records refused outbox row %s of transfer %s for good: %s", o->id, o->transfer_id, st->error);
    st->refused = 1;
  } else {
    st->delay_ms = backoff_ms(o->attempts);
    log_warn("transfers: outbox row %s of transfer %s not delivered (%s); again in %ld ms", o->id, o->transfer_id,
             st->error, st->delay_ms);
  }
}

int outbox_deliver(srv_ctx *ctx, const char *transfer_id, int max) {
  svc_client *client = tr_client();
  if (!client) return 0;
  int waiting = 0;
  while (max > 0) {
    deliver_st st = {.transfer_id = transfer_id, .max = max < 16 ? max : 16};
    if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", due_tx, &st) != 0) {
      grpc_status_code code;
      srv_fail_take(ctx, &code);
      return 1;
    }
    if (st.n == 0) break;
    for (int i = 0; i < st.n; i++) {
      deliver_one(ctx, client, &st, &st.rows[i]);
      if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", done_tx, &st) != 0) {
        /* Marked next time: the delivery is repeated then, and changes nothing in records. */
        grpc_status_code code;
        srv_fail_take(ctx, &code);
        return 1;
      }
      if (st.delay_ms) waiting++;
    }
    max -= st.n;
    /* A row that must wait keeps the rows of its record behind it; the rest went. */
    if (waiting) break;
  }
  return waiting;
}

/* ------------------------------------------------------------ a merge ------------------- */

static int names(const char *field, const char *unit) { return field && strcmp(field, unit) == 0; }

int outbox_give_unit(srv_ctx *ctx, const char *unit_id, const char *successor_id, json_t *counts) {
  outbox_row *rows;
  int n;
  if (store_outbox_undelivered(ctx, &rows, &n) != 0) return -1;
  long long seq = -1;
  for (int i = 0; i < n; i++) {
    const outbox_row *o = &rows[i];
    const ProtobufCMessageDescriptor *resp_desc = NULL, *desc = request_desc(o->method, &resp_desc);
    ProtobufCMessage *req = desc ? protobuf_c_message_unpack(desc, NULL, o->len, o->request) : NULL;
    if (!req) continue; /* the deliverer logs it */
    int changed = 0;
    if (desc == &hoso__records__v1__set_managing_unit_request__descriptor) {
      Hoso__Records__V1__SetManagingUnitRequest *q = (void *)req;
      int to = names(q->new_unit_id, unit_id), pending = names(q->pending_unit_id, unit_id);
      if (to || pending) {
        if (seq < 0 && store_outbox_merge_seq(ctx, unit_id, &seq) != 0) {
          protobuf_c_message_free_unpacked(req, NULL);
          return -1;
        }
        /* The pointers go into the arena copy below, never into freed memory. */
        q = srv_msg_copy(ctx, req);
        if (to) q->new_unit_id = (char *)successor_id;
        if (pending) q->pending_unit_id = (char *)successor_id;
        /* Records moves it once it has followed the merge too: before, the record may still be
         * filed under the dissolved unit, and the move would enter the merge as a transfer. */
        if (q->unit_tree_seq < seq) q->unit_tree_seq = seq;
        changed = store_outbox_rewrite(ctx, o, &q->base) == 0 ? 1 : -1;
      }
    } else if (desc == &hoso__records__v1__set_read_grant_request__descriptor) {
      Hoso__Records__V1__SetReadGrantRequest *q = (void *)req;
      if (names(q->unit_id, unit_id)) {
        q = srv_msg_copy(ctx, req);
        q->unit_id = (char *)successor_id;
        changed = store_outbox_rewrite(ctx, o, &q->base) == 0 ? 1 : -1;
      }
    }
    protobuf_c_message_free_unpacked(req, NULL);
    if (changed < 0) return -1;
    if (changed) unit_tree_count(counts, "given_outbox_rows", 1);
  }
  return 0;
}
