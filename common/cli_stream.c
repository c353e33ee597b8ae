/* gRPC client streams (cli_stream_*): one call on its own queue, each operation one batch waited
 * for at once, the status batch posted at the start and collected by cli_stream_finish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include "cli_int.h"

#define TAG_OP ((void *)1)
#define TAG_STATUS ((void *)2)

struct cli_stream {
  grpc_completion_queue *cq;
  grpc_call *call;
  int got_initial_md, status_started;
  grpc_metadata_array init_md, trail_md;
  grpc_status_code code;
  grpc_slice details;
};

/* Runs one batch and waits for it: 1 when it succeeded. */
static int run(cli_stream *s, grpc_op *ops, size_t n) {
  if (grpc_call_start_batch(s->call, ops, n, TAG_OP, NULL) != GRPC_CALL_OK) return 0;
  return grpc_completion_queue_pluck(s->cq, TAG_OP, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).success;
}

cli_stream *cli_stream_open(cli_chan *ch, const char *method, const cli_md *md, size_t n_md,
                            int timeout_ms) {
  cli_stream *s = calloc(1, sizeof *s);
  grpc_metadata *sm = n_md ? calloc(n_md, sizeof *sm) : NULL;
  int ok = 0;
  if (!s || (n_md && !sm)) goto out;
  s->cq = grpc_completion_queue_create_for_pluck(NULL);
  s->details = grpc_empty_slice();
  s->code = GRPC_STATUS_UNKNOWN;
  grpc_metadata_array_init(&s->init_md);
  grpc_metadata_array_init(&s->trail_md);
  gpr_timespec deadline = timeout_ms > 0
                              ? gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                             gpr_time_from_millis(timeout_ms, GPR_TIMESPAN))
                              : gpr_inf_future(GPR_CLOCK_MONOTONIC);
  grpc_slice mslice = grpc_slice_from_copied_string(method);
  s->call = ch ? cli_create_call(ch, s->cq, mslice, deadline) : NULL;
  grpc_slice_unref(mslice);
  if (!s->call) goto out;
  for (size_t i = 0; i < n_md; i++) {
    sm[i].key = grpc_slice_from_copied_string(md[i].key);
    sm[i].value = grpc_slice_from_copied_string(md[i].value ? md[i].value : "");
  }
  grpc_op op[1];
  memset(op, 0, sizeof op);
  op[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  op[0].data.recv_status_on_client.trailing_metadata = &s->trail_md;
  op[0].data.recv_status_on_client.status = &s->code;
  op[0].data.recv_status_on_client.status_details = &s->details;
  s->status_started = grpc_call_start_batch(s->call, op, 1, TAG_STATUS, NULL) == GRPC_CALL_OK;
  memset(op, 0, sizeof op);
  op[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  op[0].data.send_initial_metadata.count = n_md;
  op[0].data.send_initial_metadata.metadata = sm;
  ok = s->status_started && run(s, op, 1);
out:
  for (size_t i = 0; sm && i < n_md; i++) {
    grpc_slice_unref(sm[i].key);
    grpc_slice_unref(sm[i].value);
  }
  free(sm);
  if (s && !ok) {
    if (s->call) cli_stream_cancel(s);
    cli_stream_finish(s, NULL);
    s = NULL;
  }
  return s;
}

int cli_stream_send_raw(cli_stream *s, const void *body, size_t len) {
  grpc_slice payload = grpc_slice_from_copied_buffer(body ? body : "", len);
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&payload, 1);
  grpc_slice_unref(payload);
  grpc_op op = {.op = GRPC_OP_SEND_MESSAGE};
  op.data.send_message.send_message = bb;
  int ok = run(s, &op, 1);
  grpc_byte_buffer_destroy(bb);
  return ok ? 0 : -1;
}

int cli_stream_send(cli_stream *s, const ProtobufCMessage *msg) {
  size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return -1;
  protobuf_c_message_pack(msg, buf);
  int rc = cli_stream_send_raw(s, buf, len);
  free(buf);
  return rc;
}

int cli_stream_close_send(cli_stream *s) {
  grpc_op op = {.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT};
  return run(s, &op, 1) ? 0 : -1;
}

int cli_stream_recv(cli_stream *s, const ProtobufCMessageDescriptor *d, ProtobufCMessage **msg) {
  *msg = NULL;
  grpc_byte_buffer *bb = NULL;
  grpc_op ops[2];
  size_t n = 0;
  memset(ops, 0, sizeof ops);
  if (!s->got_initial_md) {
    ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[n].data.recv_initial_metadata.recv_initial_metadata = &s->init_md;
    n++;
  }
  ops[n].op = GRPC_OP_RECV_MESSAGE;
  ops[n].data.recv_message.recv_message = &bb;
  n++;
  s->got_initial_md = 1;
  if (!run(s, ops, n) || !bb) {
    if (bb) grpc_byte_buffer_destroy(bb);
    return 0; /* no more responses: the status says why */
  }
  grpc_byte_buffer_reader rd;
  int rc = -1;
  if (grpc_byte_buffer_reader_init(&rd, bb)) {
    grpc_slice b = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    *msg = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(b), GRPC_SLICE_START_PTR(b));
    grpc_slice_unref(b);
    rc = *msg ? 1 : -1;
  }
  grpc_byte_buffer_destroy(bb);
  return rc;
}

void cli_stream_cancel(cli_stream *s) { grpc_call_cancel(s->call, NULL); }

grpc_status_code cli_stream_finish(cli_stream *s, cli_status *st) {
  grpc_status_code code = GRPC_STATUS_UNKNOWN;
  if (s->status_started && !s->got_initial_md) {
    /* Measured: without a pending RECV_INITIAL_METADATA the status of a call the server ended
     * early (a trailers-only response) does not arrive before the deadline. */
    grpc_op op = {.op = GRPC_OP_RECV_INITIAL_METADATA};
    op.data.recv_initial_metadata.recv_initial_metadata = &s->init_md;
    s->got_initial_md = 1;
    (void)run(s, &op, 1);
  }
  if (s->status_started) {
    grpc_completion_queue_pluck(s->cq, TAG_STATUS, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    code = s->code;
  }
  if (st) {
    size_t dn = GRPC_SLICE_LENGTH(s->details);
    if (dn >= sizeof st->message) dn = sizeof st->message - 1;
    st->code = code;
    memcpy(st->message, GRPC_SLICE_START_PTR(s->details), dn);
    st->message[dn] = 0;
  }
  if (s->call) grpc_call_unref(s->call);
  if (s->cq) {
    grpc_completion_queue_shutdown(s->cq);
    grpc_completion_queue_pluck(s->cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    grpc_completion_queue_destroy(s->cq);
  }
  grpc_slice_unref(s->details);
  grpc_metadata_array_destroy(&s->init_md);
  grpc_metadata_array_destroy(&s->trail_md);
  free(s);
  return code;
}
