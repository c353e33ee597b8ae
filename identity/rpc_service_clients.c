/* Service clients of other government systems (004 Đ3.3): CreateServiceClient,
 * ListServiceClients, RevokeServiceClient (SYSTEM_ADMIN) and ServiceLogin (public). */
#include <jansson.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "pw.h"
#include "scope.h"
#include "store_service_clients.h"
#include "throttle.h"
#include "val.h"

#define BAD_CLIENT "invalid client credentials"
#define MAX_GRANT_UNITS 100
#define MAX_TEXT_CHARS 255
#define MAX_REASON_CHARS 1000
#define MAX_CLIENT_ID 56 /* "svc:" + id must fit tok_claims.sub */
#define SECRET_BYTES 32

/* A hash to verify against when the client is unknown, so that answer takes as long as a
 * wrong secret for a real client and timing does not tell which client ids exist. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_phc[PW_PHC_MAX];
static void dummy_init(void) {
  if (pw_hash("no such service client: constant-time filler", dummy_phc) != 0) dummy_phc[0] = 0;
}

/* ------------------------------------------------------------- shared checks ------------ */

/* Client ids are ours ("svc-" and hex), but a caller may type anything: keep it printable. */
static int check_client_id(srv_ctx *ctx, const char *id) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "client_id: must not be empty");
  if (n > MAX_CLIENT_ID)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "client_id: must be at most %d characters",
                    MAX_CLIENT_ID);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "client_id: must be printable ASCII without spaces");
  return 0;
}

static int need_admin(srv_ctx *ctx) {
  return srv_need_right(ctx, RIGHT_ADMIN, 0, "managing service clients needs the SYSTEM_ADMIN role (004 Đ3.3)");
}

static int audit_client(srv_ctx *ctx, const char *action, const char *actor_id,
                        const char *actor_name, const char *client_id, const char *outcome,
                        json_t *detail) {
  audit_entry e = {.actor_id = actor_id, .actor_name = actor_name, .action = action,
                   .target_type = "service_client", .target_id = client_id, .unit_path = "",
                   .outcome = outcome};
  return srv_audit(ctx, &e, detail);
}

/* ------------------------------------------------------------- CreateServiceClient ------ */

typedef struct {
  const char *name, *approval, *request_id, *ids_array;
  char *const *unit_ids;
  size_t n_units;
  char client_id[32], secret[64], phc[PW_PHC_MAX];
  Hoso__Identity__V1__CreateServiceClientResponse *out;
} create_st;

static int create_tx(srv_ctx *ctx, void *p) {
  create_st *st = p;
  char first[64];
  int seen = idem_begin(ctx, st->request_id, first, sizeof first);
  if (seen < 0) return -1;
  if (seen == 1) {
    /* A retry of a call that already succeeded. Only the secret's hash was kept, so the retry
     * gets the client without it: if the first answer was lost, revoke and create again. */
    service_client_row c;
    int found = service_clients_get(ctx, first, 0, &c);
    if (found < 0) return -1;
    if (!found) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "client_id: no such service client");
    st->out->client = c.client;
    st->out->client_secret = "";
    return 0;
  }

  service_client_unit *units;
  size_t n;
  SRV_TRY(service_clients_units(ctx, st->ids_array, 0, &units, &n));
  for (size_t i = 0; i < st->n_units; i++) {
    const service_client_unit *u = NULL;
    for (size_t j = 0; j < n; j++)
      if (strcmp(units[j].id, st->unit_ids[i]) == 0) u = &units[j];
    if (!u) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "unit_ids: no such unit %s", st->unit_ids[i]);
    if (!u->active)
      return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "unit_ids: unit %s is dissolved; grant its successor",
                      st->unit_ids[i]);
  }

  if (service_clients_insert(ctx, st->client_id, st->name, st->phc, st->ids_array, st->approval, ctx->auth->sub,
                             &st->out->client) != 0) {
    if (db_err_kind(ctx->db) == DB_UNIQUE) {
      srv_fail_db(ctx, "client_id: a client with this id already exists; retry");
      return DB_TX_ROLLBACK;
    }
    return -1;
  }
  st->out->client_secret = srv_strdup(ctx, st->secret);
  if (idem_done(ctx, st->request_id, st->client_id) != 0) return -1;

  json_t *d = json_object(), *u = json_array();
  for (size_t i = 0; i < st->n_units; i++) json_array_append_new(u, json_string(st->unit_ids[i]));
  json_object_set_new(d, "name", json_string(st->name));
  json_object_set_new(d, "unit_ids", u);
  json_object_set_new(d, "approval_reference", json_string(st->approval));
  return audit_client(ctx, "SERVICE_CLIENT_CREATE", NULL, NULL, st->client_id, "ok", d);
}

int rpc_create_service_client(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__CreateServiceClientRequest *in = (const void *)req;
  create_st st;
  memset(&st, 0, sizeof st);
  if (srv_clean_text(ctx, "name", in->name, 1, MAX_TEXT_CHARS, &st.name) != 0) return -1;
  if (srv_clean_text(ctx, "approval_reference", in->approval_reference, 1, MAX_TEXT_CHARS, &st.approval) != 0) {
    grpc_status_code code;
    const char *why = srv_fail_take(ctx, &code);
    return srv_fail(ctx, code, "%s; every connection needs a written approval (004 Đ3.3)", why);
  }
  if (in->n_unit_ids == 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "unit_ids: at least one unit is required (the units of the grant)");
  if (in->n_unit_ids > MAX_GRANT_UNITS)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "unit_ids: at most %d units",
                    MAX_GRANT_UNITS);
  /* "{4,17}": an array literal passed as one parameter, never pasted into the SQL. */
  size_t len = 3;
  for (size_t i = 0; i < in->n_unit_ids; i++) {
    if (srv_check_id(ctx, "unit_ids", in->unit_ids[i]) != 0) return -1;
    for (size_t j = 0; j < i; j++)
      if (strcmp(in->unit_ids[i], in->unit_ids[j]) == 0)
        return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "unit_ids: unit %s is listed twice",
                        in->unit_ids[i]);
    len += strlen(in->unit_ids[i]) + 1;
  }
  char *arr = srv_alloc(ctx, len);
  strcpy(arr, "{");
  for (size_t i = 0; i < in->n_unit_ids; i++) {
    if (i) strcat(arr, ",");
    strcat(arr, in->unit_ids[i]);
  }
  strcat(arr, "}");
  st.ids_array = arr;
  st.unit_ids = in->unit_ids;
  st.n_units = in->n_unit_ids;
  if (srv_check_request_id(ctx, in->request_id) != 0) return -1;
  st.request_id = in->request_id;
  if (need_admin(ctx) != 0) return -1;

  unsigned char raw[8];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return srv_fail(ctx, GRPC_STATUS_INTERNAL, "could not make a client id");
  int o = snprintf(st.client_id, sizeof st.client_id, "svc-");
  for (size_t i = 0; i < sizeof raw; i++)
    o += snprintf(st.client_id + o, sizeof st.client_id - (size_t)o, "%02x", raw[i]);
  if (pw_random_secret(SECRET_BYTES, st.secret, sizeof st.secret) != 0 || pw_hash(st.secret, st.phc) != 0)
    return srv_fail(ctx, GRPC_STATUS_INTERNAL, "could not make a client secret");

  st.out = srv_new(ctx, &hoso__identity__v1__create_service_client_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, create_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ------------------------------------------------------------- ListServiceClients ------- */

typedef struct {
  char after[128];
  int page_size;
  Hoso__Identity__V1__ListServiceClientsResponse *out;
} list_st;

static int list_tx(srv_ctx *ctx, void *p) {
  list_st *st = p;
  Hoso__Identity__V1__ListServiceClientsResponse *o = st->out;
  size_t n;
  SRV_TRY(service_clients_list(ctx, st->after, st->page_size + 1, &o->clients, &n));
  int more;
  o->n_clients = srv_page_cut(n, st->page_size, &more);
  if (!more) return 0;
  return srv_page_next(ctx, &o->next_page_token, "%s", o->clients[o->n_clients - 1]->client_id);
}

int rpc_list_service_clients(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__ListServiceClientsRequest *in = (const void *)req;
  list_st st;
  memset(&st, 0, sizeof st);
  st.page_size = val_page_size(in->page_size);
  if (st.page_size < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (in->page_token && *in->page_token &&
      val_page_token_decode(in->page_token, st.after, sizeof st.after) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "page_token: not a token from this list; start again without one");
  if (need_admin(ctx) != 0) return -1;
  st.out = srv_new(ctx, &hoso__identity__v1__list_service_clients_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, list_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ------------------------------------------------------------- RevokeServiceClient ------ */

typedef struct {
  const char *client_id, *reason;
  Hoso__Identity__V1__ServiceClient *out;
} revoke_st;

static int revoke_tx(srv_ctx *ctx, void *p) {
  revoke_st *st = p;
  service_client_row c;
  int found = service_clients_get(ctx, st->client_id, 1, &c);
  if (found < 0) return -1;
  if (!found) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "client_id: no such service client");
  if (c.client->revoked) {
    /* Already revoked: a retried call changes nothing and records nothing. */
    st->out = c.client;
    return 0;
  }
  found = service_clients_revoke(ctx, st->client_id, st->reason, &st->out);
  if (found < 0) return -1;
  if (!found) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "client_id: no such service client");
  json_t *d = json_object();
  json_object_set_new(d, "reason", json_string(st->reason));
  return audit_client(ctx, "SERVICE_CLIENT_REVOKE", NULL, NULL, st->client_id, "ok", d);
}

int rpc_revoke_service_client(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__RevokeServiceClientRequest *in = (const void *)req;
  revoke_st st = {0};
  if (check_client_id(ctx, in->client_id) != 0) return -1;
  st.client_id = in->client_id;
  if (srv_clean_text(ctx, "reason", in->reason, 1, MAX_REASON_CHARS, &st.reason) != 0) return -1;
  if (need_admin(ctx) != 0) return -1;
  if (srv_tx(ctx, DB_READ_COMMITTED, revoke_tx, &st) != 0) return -1;
  Hoso__Identity__V1__RevokeServiceClientResponse *o =
      srv_new(ctx, &hoso__identity__v1__revoke_service_client_response__descriptor);
  o->client = st.out;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------- ServiceLogin ------------- */

typedef struct {
  const char *client_id, *secret;
  char key[64];      /* throttle name: "svc:<client_id>" */
  char subject[64];  /* "svc:<client_id>" */
  int found, revoked, verified, busy;
  thr_try thr;
  long long gen;     /* the client's token generation (013_token_revocations.sql) */
  char phc[PW_PHC_MAX];
  char *ids_array;   /* the grant, "{4,17}" */
  Hoso__Identity__V1__ServiceLoginResponse *out;
} login_st;

/* A failure that must be remembered: the audit row and the throttle count commit while the
 * caller gets the error (srv_tx sends the status fn recorded, after committing). */
static int login_refuse(srv_ctx *ctx, login_st *st, const char *outcome) {
  /* counted already, by throttle_begin */
  if (audit_client(ctx, "SERVICE_LOGIN_FAILED", st->found ? st->subject : "", st->client_id,
                   st->found ? st->client_id : "", outcome, NULL) != 0)
    return -1;
  srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, BAD_CLIENT);
  return 0;
}

static int login_lookup_tx(srv_ctx *ctx, void *p) {
  login_st *st = p;
  long wait = throttle_begin(ctx, THR_SERVICE, st->key, ctx->client_addr, &st->thr);
  if (wait < 0) return -1;
  if (wait > 0) {
    if (audit_client(ctx, "SERVICE_LOGIN_FAILED", "", st->client_id, "", "locked", NULL) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "too many failed attempts; try again in %ld s", wait);
    return 0;
  }
  service_client_row c;
  st->found = service_clients_get(ctx, st->client_id, 0, &c);
  if (st->found < 0) return -1;
  if (st->found) {
    snprintf(st->phc, sizeof st->phc, "%s", c.secret_phc);
    st->revoked = c.client->revoked;
    st->gen = c.token_gen;
    st->ids_array = (char *)c.ids_array;
  }
  return 0;
}

static int login_finish_tx(srv_ctx *ctx, void *p) {
  login_st *st = p;
  if (st->busy) {
    if (throttle_end(ctx, &st->thr, THR_NOT_TRIED) != 0) return -1;
    if (audit_client(ctx, "SERVICE_LOGIN_FAILED", "", st->client_id, "", "busy", NULL) != 0) return -1;
    srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED,
             "too many logins are being checked right now; try again in a few seconds");
    return 0;
  }
  if (!st->found) return login_refuse(ctx, st, "unknown_client");
  if (!st->verified) return login_refuse(ctx, st, "bad_secret");
  /* Checked only after the secret, and answered the same: a revoked client learns nothing. */
  if (st->revoked) return login_refuse(ctx, st, "revoked");
  if (throttle_end(ctx, &st->thr, THR_OK) != 0) return -1;

  /* The token's scope is the grant as it stands now: units dissolved since are left out. */
  service_client_unit *units;
  size_t n;
  SRV_TRY(service_clients_units(ctx, st->ids_array, 1, &units, &n));
  tok_claims c;
  memset(&c, 0, sizeof c);
  snprintf(c.sub, sizeof c.sub, "%s", st->subject);
  snprintf(c.username, sizeof c.username, "%s", st->client_id);
  snprintf(c.typ, sizeof c.typ, "%s", TOK_TYP_ACCESS);
  c.roles = ROLE_SERVICE;
  c.gen = st->gen;
  size_t used = 0;
  int fits = 1;
  for (size_t i = 0; i < n && fits; i++) {
    const char *path = units[i].path;
    size_t need = strlen(path) + (i ? 1 : 0);
    if (used + need >= sizeof c.scope) fits = 0;
    else used += (size_t)snprintf(c.scope + used, sizeof c.scope - used, "%s%s", i ? "," : "", path);
  }
  if (n > 0) {
    snprintf(c.unit_id, sizeof c.unit_id, "%s", units[0].id);
    snprintf(c.unit_path, sizeof c.unit_path, "%s", units[0].path);
  }
  if (n == 0) {
    if (audit_client(ctx, "SERVICE_LOGIN_FAILED", st->subject, st->client_id, st->client_id,
                     "no_active_unit", NULL) != 0)
      return -1;
    srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
             "the client's grant names no active unit; ask for a new grant (004 Đ3.3)");
    return 0;
  }
  if (!fits)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                   "the client's grant is too large for one token; split it into several clients");

  char *jwt = NULL;
  if (keys_sign(ctx, &c, TOK_ACCESS_TTL, &jwt) != 0) return DB_TX_ROLLBACK;
  st->out->access_token = srv_strdup(ctx, jwt);
  free(jwt);
  st->out->expires_in = TOK_ACCESS_TTL;
  st->out->token_type = "Bearer";
  json_t *d = json_object();
  json_object_set_new(d, "scope", json_string(c.scope));
  return audit_client(ctx, "SERVICE_LOGIN", st->subject, st->client_id, st->client_id, "ok", d);
}

int rpc_service_login(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__ServiceLoginRequest *in = (const void *)req;
  login_st st;
  memset(&st, 0, sizeof st);
  if (check_client_id(ctx, in->client_id) != 0) return -1;
  if (!in->client_secret || !*in->client_secret)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "client_secret: must not be empty");
  if (strlen(in->client_secret) > PW_MAX_LEN)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "client_secret: must be at most %d bytes",
                    PW_MAX_LEN);
  st.client_id = in->client_id;
  st.secret = in->client_secret;
  snprintf(st.key, sizeof st.key, "svc:%s", st.client_id);
  snprintf(st.subject, sizeof st.subject, "svc:%s", st.client_id);

  /* Nobody is known yet: the lookups see every row, as Login's do. */
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", login_lookup_tx, &st) != 0) return -1;
  /* argon2id between the transactions, never while one holds the throttle rows. */
  pthread_once(&dummy_once, dummy_init);
  /* From an address the client has not logged in from lately, the check waits its turn
   * (throttle.h); a service restarted elsewhere retries a refusal. */
  const char *phc = st.found ? st.phc : dummy_phc;
  int ok = 0;
  if (!throttle_check_password(&st.thr, phc, st.secret, &ok)) st.busy = 1;
  st.verified = st.found && ok;
  st.out = srv_new(ctx, &hoso__identity__v1__service_login_response__descriptor);
  if (srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", login_finish_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
