/* Who is calling: the request id, the client address (forwarding headers only from trusted
 * proxies), the bearer token check before each handler, and the process keyring. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include "cfg.h"
#include "cli.h"
#include "identity.pb-c.h"
#include "log.h"
#include "peer.h"
#include "srv_int.h"
#include "svc_client.h"

#define RID_MAX 64

static tok_keyring *g_kr;
static srv_keys_fn g_load;
/* The keys loader may need the database (identity reads its own keys table); a refresh runs
 * on whichever worker met the unknown kid, so it gets that worker's own connection. */
static _Thread_local db_conn *tl_db;

static int rid_ok(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (n >= RID_MAX || s[n] < 0x21 || s[n] > 0x7e) return 0;
  return n > 0;
}

const char *srv_pick_request_id(srv_ctx *ctx) {
  const char *v = srv_metadata(ctx, "x-request-id");
  if (v && rid_ok(v)) return srv_strdup(ctx, v);
  unsigned char b[16];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
    /* Uniqueness matters for matching logs, not secrecy: time and address will do. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 30) ^
                           (unsigned long long)(size_t)ctx;
    for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)(x >> ((i % 8) * 8)) ^ (unsigned char)i;
  }
  char *r = srv_alloc(ctx, 2 * sizeof b + 1);
  for (size_t i = 0; i < sizeof b; i++) snprintf(r + 2 * i, 3, "%02x", b[i]);
  return r;
}

/* "ipv4:1.2.3.4:5" → "1.2.3.4"; "ipv6:[::1]:5" → "::1"; "ipv6:%5B::1%5D:5" (percent-encoded
 * form some versions print) likewise; anything else is kept whole. */
static char *peer_ip(srv_ctx *ctx, const char *peer) {
  if (!peer) return srv_strdup(ctx, "");
  if (strncmp(peer, "ipv4:", 5) == 0) {
    const char *s = peer + 5, *colon = strrchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    char *r = srv_alloc(ctx, n + 1);
    memcpy(r, s, n);
    return r;
  }
  if (strncmp(peer, "ipv6:", 5) == 0) {
    const char *s = peer + 5, *e;
    if (*s == '[') {
      s++;
      e = strchr(s, ']');
    } else if (strncasecmp(s, "%5B", 3) == 0) {
      s += 3;
      e = strcasestr(s, "%5D");
    } else {
      e = strrchr(s, ':');
    }
    size_t n = e ? (size_t)(e - s) : strlen(s);
    char *r = srv_alloc(ctx, n + 1);
    memcpy(r, s, n);
    return r;
  }
  return srv_strdup(ctx, peer);
}

/* Whether the auth context has property `name` equal to `want`. */
static int has_property(const grpc_auth_context *ac, const char *name, const char *want) {
  grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ac, name);
  for (const grpc_auth_property *p; (p = grpc_auth_property_iterator_next(&it));)
    if (p->value && strlen(want) == p->value_length && memcmp(p->value, want, p->value_length) == 0)
      return 1;
  return 0;
}

/* Who may tell us the client's address. Over TLS only the gateway, known by the verified
 * client certificate that names it (HOSO_GATEWAY_CLIENT_NAME, common name or DNS name): an
 * address on the network proves nothing, since anyone there (or on the same host) can call us
 * directly. Plaintext has no certificates: there, peers listed in HOSO_TRUSTED_PROXIES. */
static int may_forward(const grpc_auth_context *ac, const char *ip, const char *trusted) {
  if (ac && has_property(ac, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME, GRPC_SSL_TRANSPORT_SECURITY_TYPE)) {
    if (!grpc_auth_context_peer_is_authenticated(ac)) return 0;
    const char *gw = cfg_str("HOSO_GATEWAY_CLIENT_NAME", "hoso-gateway");
    return has_property(ac, GRPC_X509_CN_PROPERTY_NAME, gw) || has_property(ac, GRPC_X509_SAN_PROPERTY_NAME, gw);
  }
  return peer_ip_in_list(ip, trusted);
}

const char *srv_pick_client_addr(srv_ctx *ctx, const char *peer, const grpc_auth_context *ac,
                                 const char *trusted) {
  char *ip = peer_ip(ctx, peer);
  char out[64];
  if (peer_client_addr(ip, may_forward(ac, ip, trusted), srv_metadata(ctx, "x-forwarded-for"), trusted,
                       out, sizeof out) != 0)
    return ip;
  return srv_strdup(ctx, out);
}

void srv_pick_cert_names(srv_ctx *ctx, const grpc_auth_context *ac) {
  struct srv_call_priv *p = ctx->priv;
  if (!ac || !grpc_auth_context_peer_is_authenticated(ac)) return;
  static const char *const props[] = {GRPC_X509_CN_PROPERTY_NAME, GRPC_X509_SAN_PROPERTY_NAME};
  size_t n = 0;
  for (size_t k = 0; k < 2; k++) {
    grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ac, props[k]);
    while (grpc_auth_property_iterator_next(&it)) n++;
  }
  p->cert_names = srv_alloc(ctx, (n + 1) * sizeof *p->cert_names);
  for (size_t k = 0; k < 2; k++) {
    grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ac, props[k]);
    for (const grpc_auth_property *q; (q = grpc_auth_property_iterator_next(&it)) && p->n_cert_names < n;) {
      if (!q->value) continue;
      char *v = srv_alloc(ctx, q->value_length + 1);
      memcpy(v, q->value, q->value_length);
      p->cert_names[p->n_cert_names++] = v;
    }
  }
}

/* With HOSO_SERVICE_MTLS=require, a service account's token counts only over a connection whose
 * verified client certificate names that client (its common name or a subject alternative
 * name is the client id): a leaked token or secret is of no use without the client's key. */
static int in_list(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; n && *p;) {
    while (*p == ',' || *p == ' ') p++;
    const char *e = p;
    while (*e && *e != ',' && *e != ' ') e++;
    if ((size_t)(e - p) == n && strncmp(p, name, n) == 0) return 1;
    p = e;
  }
  return 0;
}

/* HOSO_SERVICE_MTLS_RELAYS names the certificates of the deployment's own services, which pass
 * a caller's token on to another service (svc_call_as_caller) after checking it themselves under
 * the same rule: over their connection a service account's token is the one they were given. */
static int service_cert_ok(const srv_ctx *ctx, const tok_claims *c) {
  const struct srv_call_priv *p = ctx->priv;
  const char *relays = cfg_str("HOSO_SERVICE_MTLS_RELAYS", "");
  for (size_t i = 0; i < p->n_cert_names; i++)
    if (strcmp(p->cert_names[i], c->username) == 0 || in_list(relays, p->cert_names[i])) return 1;
  return 0;
}

int srv_authenticate(srv_ctx *ctx, unsigned flags, int service_mtls) {
  const char *h = srv_metadata(ctx, "authorization");
  const char *jwt = NULL;
  if (h && strncasecmp(h, "Bearer ", 7) == 0) {
    jwt = h + 7;
    while (*jwt == ' ') jwt++;
    if (!*jwt) jwt = NULL;
  }
  tok_claims *c = &ctx->priv->claims;
  char why[128] = "";
  if (flags & SRV_NO_TOKEN) {
    /* A public method works without a token; a good one is passed on, a bad one ignored. */
    if (jwt && tok_verify_cached(g_kr, jwt, (long long)time(NULL), c, why, sizeof why) == 0 &&
        (strcmp(c->typ, TOK_TYP_PWCHANGE) != 0 || (flags & SRV_PWCHANGE_OK)) &&
        !(service_mtls && (c->roles & ROLE_SERVICE) && !service_cert_ok(ctx, c)) && !srv_revoked(c))
      ctx->auth = c;
    return 0;
  }
  if (!jwt) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "missing bearer token");
  if (tok_verify_cached(g_kr, jwt, (long long)time(NULL), c, why, sizeof why) != 0)
    return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "invalid token: %s",
                    *why ? why : "rejected");
  if (srv_revoked(c))
    return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED,
                    "invalid token: revoked (the account was disabled or changed since you logged in); "
                    "log in again");
  if (strcmp(c->typ, TOK_TYP_PWCHANGE) == 0 && !(flags & SRV_PWCHANGE_OK))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "password change required: call ChangePassword first");
  if (service_mtls && (c->roles & ROLE_SERVICE) && !ctx->peer_has_cert)
    return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED,
                    "service accounts must connect with mutual TLS");
  if (service_mtls && (c->roles & ROLE_SERVICE) && !service_cert_ok(ctx, c))
    return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED,
                    "service account %s must connect with a client certificate that names it (common name "
                    "or subject alternative name %s)",
                    c->username, c->username);
  ctx->auth = c;
  return 0;
}

/* Default loader: the published keys of identity, fetched over gRPC. */
static int load_from_identity(tok_keyring *kr) {
  const char *addr = cfg_service_addr("identity");
  int rc = -1;
  ProtobufCMessage *out = NULL;
  const char **kids = NULL, **pems = NULL;
  cli_chan *ch = svc_channel("identity");
  if (!ch) goto out;
  Hoso__Identity__V1__GetPublicKeysRequest req = HOSO__IDENTITY__V1__GET_PUBLIC_KEYS_REQUEST__INIT;
  cli_status st;
  if (cli_call(ch, "/hoso.identity.v1.Identity/GetPublicKeys", &req.base,
               &hoso__identity__v1__get_public_keys_response__descriptor, &out, NULL, 0, 3000,
               &st) != GRPC_STATUS_OK) {
    log_warn("keys: GetPublicKeys at %s failed: %s %s", addr, cli_status_name(st.code),
             st.message);
    goto out;
  }
  Hoso__Identity__V1__GetPublicKeysResponse *r = (void *)out;
  kids = calloc(r->n_keys + 1, sizeof *kids);
  pems = calloc(r->n_keys + 1, sizeof *pems);
  if (!kids || !pems) goto out;
  for (size_t i = 0; i < r->n_keys; i++) {
    kids[i] = r->keys[i]->kid;
    pems[i] = r->keys[i]->public_key_pem;
  }
  rc = tok_keyring_replace(kr, r->n_keys, kids, pems);
  if (rc == 0)
    log_info("keys: loaded %zu public key(s) from %s", r->n_keys, addr);
  else
    log_warn("keys: identity at %s returned a key that is not a P-256 public key", addr);
out:
  free(kids);
  free(pems);
  if (out) protobuf_c_message_free_unpacked(out, NULL);
  return rc;
}

static int refresh(tok_keyring *kr, void *arg) {
  (void)arg;
  return g_load ? g_load(kr, tl_db) : load_from_identity(kr);
}

int srv_keyring_init(srv_keys_fn load) {
  g_load = load;
  g_kr = tok_keyring_new(refresh, NULL);
  return g_kr ? 0 : -1;
}

void srv_keyring_free(void) {
  tok_keyring_free(g_kr);
  g_kr = NULL;
}

void srv_set_thread_db(db_conn *db) { tl_db = db; }

void srv_keyring_load_now(db_conn *db) {
  db_conn *saved = tl_db;
  tl_db = db;
  if (refresh(g_kr, NULL) != 0)
    log_warn("keys: initial load failed; tokens are checked once keys can be fetched "
             "(on the first unknown kid)");
  tl_db = saved;
}

tok_keyring *srv_keyring(void) { return g_kr; }
