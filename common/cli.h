/* gRPC client helper for service-to-service calls, tools and tests: reusable channels,
 * deadlines, metadata, TLS from the environment. */
#ifndef HOSO_CLI_H
#define HOSO_CLI_H

#include <stddef.h>
#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

typedef struct cli_chan cli_chan;

/* A channel to addr ("127.0.0.1:50051"). TLS when HOSO_TLS_CA is set (peer verified against
 * that CA; client certificate from HOSO_TLS_CLIENT_CERT/KEY, else HOSO_TLS_CERT/KEY, for
 * mutual TLS), plaintext otherwise. Thread-safe; keep it and reuse it for many calls. */
cli_chan *cli_open(const char *addr);
/* Explicit security: ca_pem NULL = plaintext; cert/key PEM file paths may be NULL. */
cli_chan *cli_open_tls(const char *addr, const char *ca_file, const char *cert_file,
                       const char *key_file);
void cli_close(cli_chan *ch);

typedef struct {
  const char *key;
  const char *value;
} cli_md;

typedef struct {
  grpc_status_code code;
  char message[1024];
} cli_status;

/* One unary call: method path, request, response descriptor, optional metadata (bearer token
 * as {"authorization", "Bearer ..."}), timeout in ms. On GRPC_STATUS_OK *resp is the unpacked
 * response (free with protobuf_c_message_free_unpacked(*resp, NULL)); otherwise *resp is NULL.
 * Returns the status code (also in *st when st is non-NULL). */
grpc_status_code cli_call(cli_chan *ch, const char *method, const ProtobufCMessage *req,
                          const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
                          const cli_md *md, size_t n_md, int timeout_ms, cli_status *st);

/* Same, with a raw request body (for tests of malformed or oversized messages). */
grpc_status_code cli_call_raw(cli_chan *ch, const char *method, const void *body, size_t len,
                              const ProtobufCMessageDescriptor *resp_desc,
                              ProtobufCMessage **resp, const cli_md *md, size_t n_md,
                              int timeout_ms, cli_status *st);

/* grpc.health.v1.Health/Check: 1 if SERVING, 0 otherwise. */
int cli_health(cli_chan *ch, int timeout_ms);

/* Name of a status code ("INVALID_ARGUMENT"). */
const char *cli_status_name(grpc_status_code c);

#endif
