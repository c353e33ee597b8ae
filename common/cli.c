/* gRPC client helper: channels (TLS from the environment or explicit files), one unary call
 * per cli_call on its own completion queue, health checks and status names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include "cfg.h"
#include "cli.h"
#include "grpc/health/v1/health.pb-c.h"
#include "log.h"
#include "cli_int.h"

/* Replies (lists, exports) may be larger than the 4 MiB gRPC allows by default. */
#define CLI_MAX_RECV (64 << 20)

struct cli_chan {
  grpc_channel *ch;
};

static cli_chan *open_with(const char *addr, grpc_channel_credentials *creds) {
  cli_chan *c = calloc(1, sizeof *c);
  if (!c) {
    grpc_channel_credentials_release(creds);
    grpc_shutdown();
    return NULL;
  }
  /* A pool of its own: gRPC otherwise shares one connection among all channels to the same
   * address, and a caller that opens several channels to spread its load (the gateway) would
   * still queue everything on one TCP connection. */
  grpc_arg args[2] = {
      {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, .value.integer = CLI_MAX_RECV},
      {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, .value.integer = 1}};
  grpc_channel_args cargs = {2, args};
  c->ch = grpc_channel_create(addr, creds, &cargs);
  grpc_channel_credentials_release(creds);
  return c;
}

/* PEM files are small; anything past this is not a certificate bundle we want to load. */
#define PEM_MAX (4 << 20)

char *cli_read_pem(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (cap - len < 4096) {
      cap = cap ? cap * 2 : 8192;
      if (cap > PEM_MAX) {
        errno = EFBIG;
        goto fail;
      }
      char *nb = realloc(buf, cap + 1);
      if (!nb) goto fail;
      buf = nb;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  if (ferror(f)) goto fail;
  fclose(f);
  buf[len] = 0;
  return buf;
fail:
  free(buf);
  fclose(f);
  return NULL;
}

void cli_grpc_init(void) {
  /* gRPC 1.51's c-ares resolver leaks a few bytes per process that resolves a host name
   * ("localhost:50051"), which fails every sanitizer run; the system resolver does not. Only
   * before gRPC is up: no gRPC thread can be reading the environment then. */
  if (!grpc_is_initialized()) setenv("GRPC_DNS_RESOLVER", "native", 0);
  grpc_init();
}

cli_chan *cli_open_tls(const char *addr, const char *ca_file, const char *cert_file,
                       const char *key_file) {
  cli_grpc_init(); /* reference counted; undone by cli_close */
  if (!ca_file) return open_with(addr, grpc_insecure_credentials_create());
  char *ca = NULL, *cert = NULL, *key = NULL;
  grpc_channel_credentials *creds = NULL;
  if (!(ca = cli_read_pem(ca_file))) {
    log_error("TLS CA %s: %s", ca_file, strerror(errno));
    goto out;
  }
  if (cert_file && key_file) {
    if (!(cert = cli_read_pem(cert_file))) {
      log_error("TLS client certificate %s: %s", cert_file, strerror(errno));
      goto out;
    }
    if (!(key = cli_read_pem(key_file))) {
      log_error("TLS client key %s: %s", key_file, strerror(errno));
      goto out;
    }
  }
  grpc_ssl_pem_key_cert_pair pair = {key, cert};
  /* Host name verification stays on: our certificates name both localhost and 127.0.0.1. */
  creds = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
out:
  free(ca);
  free(cert);
  free(key);
  if (!creds) {
    grpc_shutdown();
    return NULL;
  }
  return open_with(addr, creds);
}

cli_chan *cli_open(const char *addr) {
  const char *ca = cfg_str("HOSO_TLS_CA", NULL);
  /* Fail closed: without a CA the call (tokens, secrets, dossiers) would cross the network in
   * the clear, so plaintext must be asked for by name. */
  if (!ca && !cfg_bool("HOSO_PLAINTEXT", 0)) {
    log_error("no TLS CA to verify %s with: set HOSO_TLS_CA (docs/OPERATIONS.md), or "
              "HOSO_PLAINTEXT=1 to call without TLS (development only)", addr);
    return NULL;
  }
  const char *cert = cfg_str("HOSO_TLS_CLIENT_CERT", NULL), *key = cfg_str("HOSO_TLS_CLIENT_KEY", NULL);
  if (!cert || !key) {
    cert = cfg_str("HOSO_TLS_CERT", NULL);
    key = cfg_str("HOSO_TLS_KEY", NULL);
  }
  return cli_open_tls(addr, ca, cert, key);
}

void cli_close(cli_chan *c) {
  if (!c) return;
  grpc_channel_destroy(c->ch);
  free(c);
  grpc_shutdown();
}

grpc_call *cli_create_call(cli_chan *c, grpc_completion_queue *cq, grpc_slice method,
                           gpr_timespec deadline) {
  return grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL, deadline, NULL);
}

static grpc_status_code set_st(cli_status *st, grpc_status_code code, const char *msg) {
  if (st) {
    st->code = code;
    snprintf(st->message, sizeof st->message, "%s", msg);
  }
  return code;
}

grpc_status_code cli_call_raw(cli_chan *c, const char *method, const void *body, size_t len,
                              const ProtobufCMessageDescriptor *resp_desc,
                              ProtobufCMessage **resp, const cli_md *md, size_t n_md,
                              int timeout_ms, cli_status *st) {
  if (resp) *resp = NULL;
  if (!c) return set_st(st, GRPC_STATUS_UNAVAILABLE, "no channel");
  grpc_status_code code = GRPC_STATUS_UNKNOWN;
  grpc_slice details = grpc_empty_slice();
  grpc_metadata_array init_md, trail_md;
  grpc_metadata_array_init(&init_md);
  grpc_metadata_array_init(&trail_md);
  grpc_byte_buffer *out_bb = NULL, *in_bb = NULL;
  grpc_metadata *sm = n_md ? calloc(n_md, sizeof *sm) : NULL;
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
  grpc_call *call = NULL;
  char msg[sizeof ((cli_status *)0)->message] = "";
  if (n_md && !sm) {
    code = set_st(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    goto out;
  }

  gpr_timespec deadline = timeout_ms > 0
                              ? gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                             gpr_time_from_millis(timeout_ms, GPR_TIMESPAN))
                              : gpr_inf_future(GPR_CLOCK_MONOTONIC);
  grpc_slice mslice = grpc_slice_from_copied_string(method);
  call = cli_create_call(c, cq, mslice, deadline);
  grpc_slice_unref(mslice);
  for (size_t i = 0; i < n_md; i++) {
    sm[i].key = grpc_slice_from_copied_string(md[i].key);
    sm[i].value = grpc_slice_from_copied_string(md[i].value ? md[i].value : "");
  }
  grpc_slice payload = grpc_slice_from_copied_buffer(body ? body : "", len);
  out_bb = grpc_raw_byte_buffer_create(&payload, 1);
  grpc_slice_unref(payload);

  grpc_op ops[6];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count = n_md;
  ops[0].data.send_initial_metadata.metadata = sm;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = out_bb;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &in_bb;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.trailing_metadata = &trail_md;
  ops[5].data.recv_status_on_client.status = &code;
  ops[5].data.recv_status_on_client.status_details = &details;
  grpc_call_error ce = grpc_call_start_batch(call, ops, 6, (void *)1, NULL);
  if (ce != GRPC_CALL_OK) {
    /* Typically metadata gRPC refuses to send (bad key or value characters). */
    code = set_st(st, GRPC_STATUS_INVALID_ARGUMENT,
                  ce == GRPC_CALL_ERROR_INVALID_METADATA ? "invalid metadata" : "call could not start");
    goto out;
  }
  grpc_completion_queue_pluck(cq, (void *)1, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
  size_t dn = GRPC_SLICE_LENGTH(details);
  if (dn >= sizeof msg) dn = sizeof msg - 1;
  memcpy(msg, GRPC_SLICE_START_PTR(details), dn);
  msg[dn] = 0;

  if (code == GRPC_STATUS_OK && resp && resp_desc) {
    grpc_byte_buffer_reader rd;
    if (!in_bb || !grpc_byte_buffer_reader_init(&rd, in_bb)) {
      code = GRPC_STATUS_INTERNAL;
      snprintf(msg, sizeof msg, "response: missing message");
    } else {
      grpc_slice b = grpc_byte_buffer_reader_readall(&rd);
      grpc_byte_buffer_reader_destroy(&rd);
      *resp = protobuf_c_message_unpack(resp_desc, NULL, GRPC_SLICE_LENGTH(b), GRPC_SLICE_START_PTR(b));
      grpc_slice_unref(b);
      if (!*resp) {
        code = GRPC_STATUS_INTERNAL;
        snprintf(msg, sizeof msg, "response: malformed protobuf message");
      }
    }
  }
  set_st(st, code, msg);
out:
  if (call) grpc_call_unref(call);
  grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
  grpc_completion_queue_destroy(cq);
  for (size_t i = 0; sm && i < n_md; i++) {
    grpc_slice_unref(sm[i].key);
    grpc_slice_unref(sm[i].value);
  }
  free(sm);
  if (out_bb) grpc_byte_buffer_destroy(out_bb);
  if (in_bb) grpc_byte_buffer_destroy(in_bb);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&init_md);
  grpc_metadata_array_destroy(&trail_md);
  return code;
}

grpc_status_code cli_call(cli_chan *c, const char *method, const ProtobufCMessage *req,
                          const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
                          const cli_md *md, size_t n_md, int timeout_ms, cli_status *st) {
  size_t len = req ? protobuf_c_message_get_packed_size(req) : 0;
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) {
    if (resp) *resp = NULL;
    return set_st(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  if (req) protobuf_c_message_pack(req, buf);
  grpc_status_code code = cli_call_raw(c, method, buf, len, resp_desc, resp, md, n_md, timeout_ms, st);
  free(buf);
  return code;
}

int cli_health(cli_chan *c, int timeout_ms) {
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  ProtobufCMessage *out = NULL;
  if (cli_call(c, "/grpc.health.v1.Health/Check", &req.base,
               &grpc__health__v1__health_check_response__descriptor, &out, NULL, 0, timeout_ms,
               NULL) != GRPC_STATUS_OK)
    return 0;
  int ok = ((Grpc__Health__V1__HealthCheckResponse *)out)->status ==
           GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
  protobuf_c_message_free_unpacked(out, NULL);
  return ok;
}

const char *cli_status_name(grpc_status_code c) {
  static const char *const names[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  if ((int)c >= 0 && (size_t)c < sizeof names / sizeof names[0]) return names[c];
  return "UNKNOWN_STATUS";
}
