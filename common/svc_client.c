/* svc_client.h: one channel per service per process, and the service client's token — logged in
 * on first use, checked like any caller's, renewed before it expires — behind svc_call. */
#include "svc_client.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cfg.h"
#include "identity.pb-c.h"
#include "log.h"
#include "srv.h"
#include "srv_int.h"

#define SERVICE_LOGIN "/hoso.identity.v1.Identity/ServiceLogin"
#define MAX_CHANNELS 16

/* ------------------------------------------------------------ channels ------------------ */

static pthread_mutex_t chan_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char name[32];
  cli_chan *ch;
} chans[MAX_CHANNELS];

cli_chan *svc_channel(const char *service) {
  cli_chan *ch = NULL;
  if (!service || strlen(service) >= sizeof chans[0].name) return NULL;
  pthread_mutex_lock(&chan_lock);
  size_t i = 0;
  for (; i < MAX_CHANNELS && chans[i].name[0]; i++)
    if (strcmp(chans[i].name, service) == 0) break;
  if (i < MAX_CHANNELS && chans[i].ch) {
    ch = chans[i].ch;
  } else if (i < MAX_CHANNELS) {
    const char *addr = cfg_service_addr(service);
    if (!addr)
      log_error("no address for service %s: it is not in common/services.tsv", service);
    else if (!(ch = cli_open(addr)))
      log_error("cannot make a channel to %s at %s", service, addr);
    if (ch) {
      snprintf(chans[i].name, sizeof chans[i].name, "%s", service);
      chans[i].ch = ch;
    }
  } else {
    log_error("more than %d services called from one process; raise MAX_CHANNELS", MAX_CHANNELS);
  }
  pthread_mutex_unlock(&chan_lock);
  return ch;
}

/* ------------------------------------------------------------ the client's token -------- */

struct svc_client {
  char *id, *secret;
  pthread_mutex_t lock; /* over token and claims: workers and background jobs share a client */
  char *token;          /* malloc'd access token; NULL: log in first */
  tok_claims claims;    /* its verified claims */
};

static char *env_of(const char *service, const char *what) {
  char var[96];
  size_t n = 0;
  n += (size_t)snprintf(var, sizeof var, "HOSO_");
  for (const char *p = service; *p && n + 1 < sizeof var; p++) var[n++] = (char)toupper((unsigned char)*p);
  snprintf(var + n, sizeof var - n, "_CLIENT_%s", what);
  const char *v = cfg_str(var, NULL);
  return v ? strdup(v) : NULL;
}

svc_client *svc_client_from_env(const char *service) {
  svc_client *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->id = env_of(service, "ID");
  c->secret = env_of(service, "SECRET");
  pthread_mutex_init(&c->lock, NULL);
  if (!c->id || !c->secret) {
    svc_client_free(c);
    return NULL;
  }
  return c;
}

void svc_client_free(svc_client *c) {
  if (!c) return;
  free(c->id);
  free(c->secret);
  free(c->token);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

const char *svc_client_id(const svc_client *c) { return c ? c->id : ""; }

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static int outage(grpc_status_code c) {
  return c == GRPC_STATUS_UNAVAILABLE || c == GRPC_STATUS_DEADLINE_EXCEEDED || c == GRPC_STATUS_RESOURCE_EXHAUSTED;
}

/* One call on the service's channel, tried again while the other side is UNAVAILABLE. */
static grpc_status_code call_retrying(const char *service, const char *method, const ProtobufCMessage *req,
                                      const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out,
                                      const cli_md *md, size_t n_md, cli_status *st) {
  grpc_status_code code = GRPC_STATUS_UNAVAILABLE;
  *out = NULL;
  for (int attempt = 0; attempt <= SVC_RETRIES; attempt++) {
    if (attempt) sleep_ms(100L << (attempt - 1));
    cli_chan *ch = svc_channel(service);
    if (!ch) {
      st->code = code = GRPC_STATUS_UNAVAILABLE;
      snprintf(st->message, sizeof st->message, "no channel to %s", service);
      continue;
    }
    code = cli_call(ch, method, req, out_desc, out, md, n_md, SVC_CALL_TIMEOUT_MS, st);
    if (code != GRPC_STATUS_UNAVAILABLE) break;
  }
  return code;
}

/* ServiceLogin, and the claims of the token it gives. Called with c->lock held. GRPC_STATUS_OK,
 * or why not (logged). */
static grpc_status_code login_locked(svc_client *c) {
  free(c->token);
  c->token = NULL;
  memset(&c->claims, 0, sizeof c->claims);
  Hoso__Identity__V1__ServiceLoginRequest req = HOSO__IDENTITY__V1__SERVICE_LOGIN_REQUEST__INIT;
  req.client_id = c->id;
  req.client_secret = c->secret;
  ProtobufCMessage *out = NULL;
  cli_status st;
  grpc_status_code code = call_retrying("identity", SERVICE_LOGIN, &req.base,
                                        &hoso__identity__v1__service_login_response__descriptor, &out, NULL, 0, &st);
  if (code != GRPC_STATUS_OK) {
    if (outage(code))
      log_warn("service client %s: ServiceLogin: %s %s; retrying later", c->id, cli_status_name(code), st.message);
    else
      log_error("service client %s: ServiceLogin refused: %s %s (check its HOSO_*_CLIENT_ID / _SECRET and its grant)",
                c->id, cli_status_name(code), st.message);
    return code;
  }
  const char *jwt = ((Hoso__Identity__V1__ServiceLoginResponse *)out)->access_token;
  char err[128] = "";
  int rc = -1;
  if (tok_verify_cached(srv_keyring(), jwt, (long long)time(NULL), &c->claims, err, sizeof err) != 0)
    log_error("service client %s: the token identity issued does not verify: %s", c->id, err);
  else if (!(c->claims.roles & ROLE_SERVICE))
    log_error("service client %s: identity issued a token that is not a service token", c->id);
  else if (!(c->token = strdup(jwt)))
    log_error("service client %s: out of memory", c->id);
  else
    rc = 0;
  if (rc == 0) log_info("service client %s: logged in (scope %s)", c->id, c->claims.scope);
  else memset(&c->claims, 0, sizeof c->claims);
  protobuf_c_message_free_unpacked(out, NULL);
  return rc == 0 ? GRPC_STATUS_OK : GRPC_STATUS_INTERNAL;
}

/* A "Bearer <token>" (malloc'd) of a token with time left, logging in when needed; claims
 * copied when asked. NULL when there is none, with *why. */
static char *bearer(svc_client *c, tok_claims *claims, grpc_status_code *why) {
  char *b = NULL;
  pthread_mutex_lock(&c->lock);
  long long now = (long long)time(NULL);
  *why = c->token && c->claims.exp - now > SVC_RENEW_BEFORE_S ? GRPC_STATUS_OK : login_locked(c);
  if (*why == GRPC_STATUS_OK) {
    size_t n = strlen(c->token) + sizeof "Bearer ";
    if ((b = malloc(n))) snprintf(b, n, "Bearer %s", c->token);
    else *why = GRPC_STATUS_RESOURCE_EXHAUSTED;
    if (claims) *claims = c->claims;
  }
  pthread_mutex_unlock(&c->lock);
  return b;
}

int svc_client_login(svc_client *c, tok_claims *claims) {
  grpc_status_code why;
  char *b = bearer(c, claims, &why);
  free(b);
  return b ? 0 : -1;
}

/* The token the other side refused is dropped, unless another thread has already replaced it. */
static void forget(svc_client *c, const char *refused_bearer) {
  pthread_mutex_lock(&c->lock);
  if (c->token && strcmp(refused_bearer + strlen("Bearer "), c->token) == 0) {
    free(c->token);
    c->token = NULL;
    memset(&c->claims, 0, sizeof c->claims);
  }
  pthread_mutex_unlock(&c->lock);
}

grpc_status_code svc_call_as_caller(srv_ctx *ctx, const char *service, const char *method, const ProtobufCMessage *req,
                                    const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out,
                                    cli_status *st) {
  *out = NULL;
  cli_chan *ch = svc_channel(service);
  if (!ch) {
    st->code = GRPC_STATUS_UNAVAILABLE;
    snprintf(st->message, sizeof st->message, "no channel to %s", service);
    return GRPC_STATUS_UNAVAILABLE;
  }
  cli_md md[2];
  size_t n = 0;
  const char *authz = srv_metadata(ctx, "authorization");
  if (authz) md[n++] = (cli_md){"authorization", authz};
  if (ctx->request_id) md[n++] = (cli_md){"x-request-id", ctx->request_id};
  long long left = srv_remaining_ms(ctx);
  int timeout = left > 0 && left < SVC_CALL_TIMEOUT_MS ? (int)left : SVC_CALL_TIMEOUT_MS;
  ProtobufCMessage *resp = NULL;
  grpc_status_code code = cli_call(ch, method, req, out_desc, &resp, md, n, timeout, st);
  if (code == GRPC_STATUS_OK && resp && !(*out = srv_msg_copy(ctx, resp))) {
    code = GRPC_STATUS_RESOURCE_EXHAUSTED;
    snprintf(st->message, sizeof st->message, "out of memory for the answer");
  }
  if (resp) protobuf_c_message_free_unpacked(resp, NULL);
  st->code = code;
  return code;
}

grpc_status_code svc_call(svc_client *c, const char *service, const char *method, const ProtobufCMessage *req,
                          const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out, cli_status *st) {
  grpc_status_code code = GRPC_STATUS_UNAUTHENTICATED;
  *out = NULL;
  for (int round = 0; round < 2 && code == GRPC_STATUS_UNAUTHENTICATED; round++) {
    char *b = bearer(c, NULL, &code);
    if (!b) {
      /* ServiceLogin said why (logged): an outage stays one, a refusal is the client's. */
      st->code = code = outage(code) ? GRPC_STATUS_UNAVAILABLE : GRPC_STATUS_UNAUTHENTICATED;
      snprintf(st->message, sizeof st->message, "service client %s could not log in", c->id);
      return code;
    }
    cli_md md[1] = {{"authorization", b}};
    code = call_retrying(service, method, req, out_desc, out, md, 1, st);
    /* Keys rotated, or the token was revoked: a new one, once. */
    if (code == GRPC_STATUS_UNAUTHENTICATED) forget(c, b);
    free(b);
  }
  /* Answers about the request itself (NOT_FOUND, INVALID_ARGUMENT...) are the caller's to judge. */
  if (outage(code))
    log_warn("service client %s: %s at %s: %s %s", c->id, method, service, cli_status_name(code), st->message);
  else if (code == GRPC_STATUS_UNAUTHENTICATED || code == GRPC_STATUS_PERMISSION_DENIED)
    log_error("service client %s: %s at %s refused: %s %s (check its grant)", c->id, method, service,
              cli_status_name(code), st->message);
  st->code = code;
  return code;
}

cli_stream *svc_stream_open(svc_client *c, const char *service, const char *method, int timeout_ms) {
  grpc_status_code why;
  char *b = bearer(c, NULL, &why);
  if (!b) return NULL;
  cli_chan *ch = svc_channel(service);
  cli_md md[1] = {{"authorization", b}};
  cli_stream *s = ch ? cli_stream_open(ch, method, md, 1, timeout_ms) : NULL;
  free(b);
  return s;
}

/* "/hoso.records.v1.Records/GetRecord" -> "GetRecord" */
static const char *method_name(const char *method) {
  const char *slash = method ? strrchr(method, '/') : NULL;
  return slash ? slash + 1 : method ? method : "";
}

int svc_fail_downstream(srv_ctx *ctx, const cli_status *st, svc_as as, const char *peer, const char *method) {
  grpc_status_code code = st->code;
  const char *m = method_name(method);
  if (outage(code)) {
    log_warn("%s at %s: %s %s", m, peer, cli_status_name(code), st->message);
    return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE, "the %s service is unavailable; retry", peer);
  }
  if (as == SVC_AS_CALLER) switch (code) {
    case GRPC_STATUS_UNAUTHENTICATED:
      return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED,
                      "your session is no longer valid (the %s service refused it: %s); log in again", peer, st->message);
    case GRPC_STATUS_INVALID_ARGUMENT:
    case GRPC_STATUS_PERMISSION_DENIED:
    case GRPC_STATUS_NOT_FOUND:
    case GRPC_STATUS_FAILED_PRECONDITION:
      return srv_fail(ctx, code, "%s", st->message);
    default:
      break;
    }
  log_error("%s at %s%s: %s %s", m, peer, as == SVC_AS_SERVICE ? " (as this service)" : "", cli_status_name(code),
            st->message);
  if (as == SVC_AS_SERVICE && (code == GRPC_STATUS_UNAUTHENTICATED || code == GRPC_STATUS_PERMISSION_DENIED))
    return srv_fail(ctx, GRPC_STATUS_INTERNAL,
                    "internal error: the %s service refused %s to this service (its service client or grant); tell "
                    "the operator (request id %s)",
                    peer, m, ctx->request_id ? ctx->request_id : "");
  return srv_fail(ctx, GRPC_STATUS_INTERNAL, "internal error: the %s service's %s answered %s (request id %s)", peer, m,
                  cli_status_name(code), ctx->request_id ? ctx->request_id : "");
}
