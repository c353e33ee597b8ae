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
 * mutual TLS); plaintext only with HOSO_PLAINTEXT=1, else NULL (logged). Thread-safe; keep it
 * and reuse it for many calls. */
cli_chan *cli_open(const char *addr);
/* Explicit security: ca_pem NULL = plaintext; cert/key PEM file paths may be NULL. */
cli_chan *cli_open_tls(const char *addr, const char *ca_file, const char *cert_file,
                       const char *key_file);
void cli_close(cli_chan *ch);

/* grpc_init with the process-wide settings a client and the service runtime want (the system
 * resolver); reference counted like grpc_init. */
void cli_grpc_init(void);
/* A PEM file (at most 4 MiB) as a NUL-terminated malloc'd string, or NULL (errno set). */
char *cli_read_pem(const char *path);

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

/* A streaming call (client, server or both directions), driven one step at a time: open, send
 * requests, close the sending side, read responses, finish for the status. Not thread-safe. */
typedef struct cli_stream cli_stream;
/* Starts the call (metadata as for cli_call, timeout in ms, 0 = none). NULL on out of memory
 * or metadata gRPC refuses. */
cli_stream *cli_stream_open(cli_chan *ch, const char *method, const cli_md *md, size_t n_md,
                            int timeout_ms);
/* One request message (or raw bytes). 0, or -1 when the call has already ended. */
int cli_stream_send(cli_stream *s, const ProtobufCMessage *msg);
int cli_stream_send_raw(cli_stream *s, const void *body, size_t len);
/* No more requests (half-close). 0, or -1 when the call has already ended. */
int cli_stream_close_send(cli_stream *s);
/* The next response: 1 with *msg (free with protobuf_c_message_free_unpacked(*msg, NULL)), 0 at
 * the end of the responses (the status follows from cli_stream_finish), -1 on a malformed one. */
int cli_stream_recv(cli_stream *s, const ProtobufCMessageDescriptor *d, ProtobufCMessage **msg);
/* Abandons the call: the server sees it cancelled. */
void cli_stream_cancel(cli_stream *s);
/* Waits for the status, frees the stream and returns the code (also in *st). */
grpc_status_code cli_stream_finish(cli_stream *s, cli_status *st);

/* grpc.health.v1.Health/Check: 1 if SERVING, 0 otherwise. */
int cli_health(cli_chan *ch, int timeout_ms);

/* Name of a status code ("INVALID_ARGUMENT"). */
const char *cli_status_name(grpc_status_code c);

#endif
