/* Calls from one service to another: the process's one channel to each service of the service
 * table, calls made as the service itself through its service client (ServiceLogin, the
 * token cached and renewed before it expires, calls retried while the other side is down), and
 * calls made as the caller of a handler, with the caller's own token. */
#ifndef HOSO_SVC_CLIENT_H
#define HOSO_SVC_CLIENT_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include "cli.h"
#include "srv.h"
#include "tok.h"

/* The process's channel to `service` (a name of common/services.tsv), opened on first use at
 * cfg_service_addr(service) with the TLS settings of the environment (cli_open). NULL when it
 * cannot be made (logged; asked again next time). Thread-safe; kept until the process ends. */
cli_chan *svc_channel(const char *service);

/* A service client of this process: the account identity issued for it (CreateServiceClient,
 * ./hoso up's `hoso-seed service-clients`), whose grant is the units it may act on. */
typedef struct svc_client svc_client;

/* The client named by HOSO_<SERVICE>_CLIENT_ID and HOSO_<SERVICE>_CLIENT_SECRET (service:
 * "records" → HOSO_RECORDS_CLIENT_ID). NULL when either is unset (the caller says what is off
 * without it) or on out of memory. Nothing is asked of identity until the first call. */
svc_client *svc_client_from_env(const char *service);
void svc_client_free(svc_client *c);
const char *svc_client_id(const svc_client *c);

/* Makes sure the client holds a token with more than SVC_RENEW_BEFORE_S seconds left, logging in
 * (ServiceLogin, retried while identity is UNAVAILABLE) when it does not, and copies the token's
 * claims, verified with identity's public keys like any caller's, to *claims: the actor of what
 * the caller writes as the service. 0, or -1 (logged: warn for an outage, error for a refusal). */
#define SVC_RENEW_BEFORE_S 120
int svc_client_login(svc_client *c, tok_claims *claims);

/* One unary call to `service`'s `method` ("/hoso.identity.v1.Identity/ListUnitChanges") as the
 * client, with a deadline of SVC_CALL_TIMEOUT_MS per attempt: logs in first when needed; a
 * refused token (UNAUTHENTICATED: keys rotated, token revoked) makes it log in again and try once
 * more; UNAVAILABLE is tried again up to SVC_RETRIES times, 100 ms later, then 200, 400 ...
 * Only for calls that are safe to repeat (reads, or writes keyed by an idempotency key). On OK
 * *out is the response (free with protobuf_c_message_free_unpacked(*out, NULL)). The status,
 * with the other side's message in st. An outage is logged as a warning, a refused client
 * (UNAUTHENTICATED, PERMISSION_DENIED) as an error; other answers are the caller's to judge. */
#define SVC_CALL_TIMEOUT_MS 5000
#define SVC_RETRIES 4
grpc_status_code svc_call(svc_client *c, const char *service, const char *method, const ProtobufCMessage *req,
                          const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out, cli_status *st);

/* A streaming call to `service`'s `method` as the client (its token attached, logged in first
 * when needed), for the cli_stream_* functions; NULL when no token or channel can be had (logged
 * by the login). No retries: a stream is not repeated blindly. */
cli_stream *svc_stream_open(svc_client *c, const char *service, const char *method, int timeout_ms);
/* One unary call to `service`'s `method` as the caller of the handler running in ctx: the
 * caller's own bearer token and request id go with it, so the other service decides with the
 * caller's rights, not with ours (identity asks records whether a record lies in the scope of
 * the administrator linking it to an account; records asks identity where a unit is). One try,
 * with SVC_CALL_TIMEOUT_MS or what is left of the caller's deadline if less. On OK *out is the
 * response copied into the call's arena (nothing to free); st gets the other side's message. */
grpc_status_code svc_call_as_caller(srv_ctx *ctx, const char *service, const char *method, const ProtobufCMessage *req,
                                    const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out,
                                    cli_status *st);

/* Whose token a call to another service carried: the service's own (svc_call, svc_stream_open)
 * or the caller's (svc_call_as_caller). */
typedef enum { SVC_AS_SERVICE = 0, SVC_AS_CALLER = 1 } svc_as;

/* Answers our own caller for a call to `peer`'s `method` ("/hoso.records.v1.Records/GetRecord")
 * that ended with st (st->code not OK), as srv_fail does (returns -1), one way in every service:
 *  - UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED: UNAVAILABLE "the <peer> service is
 *    unavailable; retry" (logged as a warning);
 *  - UNAUTHENTICATED of a call made as the caller: UNAUTHENTICATED, the caller's session is no
 *    longer valid, "log in again";
 *  - INVALID_ARGUMENT, PERMISSION_DENIED, NOT_FOUND, FAILED_PRECONDITION of a call made as the
 *    caller: the same status with the other side's message (it is about the caller's request);
 *  - anything else, and every refusal of a call made as the service (its credentials, its grant,
 *    a request it built): INTERNAL naming the peer and method, the detail logged as an error.
 * A site that knows better for a status about the request (which field of its own request a
 * NOT_FOUND is about) answers that itself and hands the rest here. In a transaction body use
 * SVC_FAIL_DOWNSTREAM, which rolls back. A reply that goes on without the peer's part (a note)
 * takes the message back with srv_fail_take. */
int svc_fail_downstream(srv_ctx *ctx, const cli_status *st, svc_as as, const char *peer, const char *method);
#define SVC_FAIL_DOWNSTREAM(ctx, st, as, peer, method) \
  (svc_fail_downstream((ctx), (st), (as), (peer), (method)), DB_TX_ROLLBACK)

#endif
