/* Signing keys of the identity service: the current ES256 signer (cached per process, made on
 * first start), rotation that keeps old public keys published until their tokens expire, and
 * loading the published keys into a keyring. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "audit.h"
#include "cfg.h"
#include "identity.h"
#include "key_seal.h"
#include "log.h"
#include "pw.h"
#include "store_keys.h"

/* How long a retired key stays published: the longest-lived token it signed, plus clock skew. */
#define KEY_GRACE_SECONDS (TOK_ACCESS_TTL + 300)
/* How often a process re-reads which key signs (another replica may have rotated). */
#define SIGNER_RECHECK_SECONDS 60

static pthread_mutex_t signer_mu = PTHREAD_MUTEX_INITIALIZER;
static char signer_kid[64];
static char *signer_pem;
static time_t signer_loaded;

/* Identity's own acts (key rotation) are the system's: the actor of their transactions. */
static const tok_claims system_actor = {.sub = "system", .username = "system", .scope = "*"};

/* A context for work outside any call, acting as the system on connection db. */
static srv_ctx *system_job(db_conn *db) {
  srv_ctx *ctx = srv_job_new(db, "signing-keys");
  if (ctx) ctx->auth = &system_actor;
  return ctx;
}

/* Creates a key pair and stores it as the active signer. Caller holds a transaction. */
static int key_insert(srv_ctx *ctx, char *kid_out, size_t kid_len) {
  char *priv = NULL, *pub = NULL, rnd[16], kid[64];
  int rc = -1;
  if (tok_keygen(&priv, &pub) != 0) goto out;
  if (pw_random_secret(6, rnd, sizeof rnd) != 0) goto out;
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  snprintf(kid, sizeof kid, "%04d%02d%02d-%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, rnd);
  /* Sealed: the database never sees the private key (in the clear only in HOSO_INSECURE_DEV). */
  if (seal_enabled()) {
    char *sealed = seal_private(kid, priv);
    int bad = !sealed || signing_keys_insert(ctx, kid, sealed, NULL, pub) != 0;
    free(sealed);
    if (bad) goto out;
  } else if (signing_keys_insert(ctx, kid, NULL, priv, pub) != 0) {
    goto out;
  }
  if (kid_out) snprintf(kid_out, kid_len, "%s", kid);
  rc = 0;
out:
  seal_wipe_free(priv);
  free(pub);
  return rc;
}

typedef struct {
  char kid[64];
  int force;   /* rotate even if the current key is young */
  int rotated; /* out: a new key signs */
  int had_key; /* out: one signed before it */
  int sealed;  /* out: keys found in the clear and sealed now */
} rotate_arg;

/* Keys an older identity (or the development mode) stored in the clear are sealed as soon as a
 * key encryption key is there; the active one is then replaced, since its clear copy may live
 * on in backups. Caller holds the rotation lock. */
static int seal_clear_keys(srv_ctx *ctx, rotate_arg *a) {
  if (!seal_enabled()) return 0;
  signing_key_clear *keys;
  size_t n;
  if (signing_keys_in_clear(ctx, &keys, &n) != 0) return -1;
  for (size_t i = 0; i < n; i++) {
    char *sealed = seal_private(keys[i].kid, keys[i].private_pem);
    int bad = !sealed || signing_keys_seal(ctx, keys[i].kid, sealed) != 0;
    free(sealed);
    if (bad) return -1;
    a->sealed++;
    if (keys[i].active) a->force = 1;
  }
  return 0;
}

static int rotate_tx(srv_ctx *ctx, void *p) {
  rotate_arg *a = p;
  /* One rotation at a time across replicas. */
  if (signing_keys_lock(ctx) != 0) return -1;
  if (seal_clear_keys(ctx, a) != 0) return -1;
  signing_key k;
  int have = signing_keys_current(ctx, cfg_int("HOSO_KEY_ROTATE_DAYS", 30, 1, 3650) * 86400L, &k);
  if (have < 0) return -1;
  if (have) snprintf(a->kid, sizeof a->kid, "%s", k.kid);
  a->had_key = have;
  if (have && !k.older && !a->force) return 0;
  if (signing_keys_retire(ctx, KEY_GRACE_SECONDS) != 0) return -1;
  if (key_insert(ctx, a->kid, sizeof a->kid) != 0) return -1;
  a->rotated = 1;
  return 0;
}

/* Rotation by age (or the first key), audited as the system's own act in the same transaction. */
static int rotate_by_age_tx(srv_ctx *ctx, void *p) {
  rotate_arg *a = p;
  if (rotate_tx(ctx, a) != 0) return -1;
  if (!a->rotated) return 0;
  audit_entry e;
  memset(&e, 0, sizeof e);
  e.actor_id = "";
  e.actor_name = "system";
  e.action = "KEY_ROTATE";
  e.target_type = "signing_key";
  e.target_id = a->kid;
  e.outcome = "ok";
  e.client_addr = "";
  e.request_id = "key-rotation";
  e.detail_json = !a->had_key ? "{\"why\":\"first key\"}"
                  : a->sealed  ? "{\"why\":\"the previous key was stored in the clear\"}"
                               : "{\"why\":\"age\"}";
  return audit_write(ctx->db, &e);
}

static void signer_forget(void) {
  pthread_mutex_lock(&signer_mu);
  signer_loaded = 0;
  pthread_mutex_unlock(&signer_mu);
}

int keys_ensure(db_conn *db) {
  rotate_arg a = {.force = 0};
  srv_ctx *ctx = system_job(db);
  /* A failure is the caller's to log: start-up stops, the periodic check retries. */
  int rc = ctx ? srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", rotate_by_age_tx, &a) : -1;
  srv_job_free(ctx);
  if (rc != 0) return -1;
  if (a.sealed) log_info("sealed %d signing key(s) stored in the clear with HOSO_KEY_ENCRYPTION_KEY", a.sealed);
  if (a.rotated && a.had_key)
    log_info("signing key %s now signs (the previous one was %s)", a.kid,
             a.sealed ? "stored in the clear" : "older than HOSO_KEY_ROTATE_DAYS");
  signer_forget();
  return 0;
}

/* A running identity rotates by age too, not only at start-up: checked every
 * HOSO_KEY_CHECK_SECONDS (default an hour); a failed check is logged and retried in a minute. */
static long rotation_round(srv_ctx *ctx, void *arg) {
  (void)arg;
  if (db_ensure(ctx->db) != 0 || keys_ensure(ctx->db) != 0) {
    log_warn("signing key check failed (%s); retrying in a minute", db_err_message(ctx->db));
    return 60000;
  }
  return cfg_int("HOSO_KEY_CHECK_SECONDS", 3600, 1, 86400) * 1000L;
}

static srv_periodic *rotation_job;

int keys_rotation_start(void) {
  long first = cfg_int("HOSO_KEY_CHECK_SECONDS", 3600, 1, 86400) * 1000L;
  return (rotation_job = srv_periodic_start("key-rotation", "identity", rotation_round, NULL, first)) ? 0 : -1;
}

void keys_rotation_stop(void) {
  srv_periodic_stop(rotation_job);
  rotation_job = NULL;
}

int keys_rotate(srv_ctx *ctx, char *kid_out, size_t kid_len) {
  rotate_arg a = {.force = 1};
  if (rotate_tx(ctx, &a) != 0) return -1;
  snprintf(kid_out, kid_len, "%s", a.kid);
  signer_forget();
  return 0;
}

/* Loads the active signer from the database when the cache is empty or stale. The public key
 * goes into this process's keyring too, so tokens we sign verify here at once. */
static int signer_load(srv_ctx *ctx) {
  signing_key k;
  int found = signing_keys_current(ctx, 0, &k);
  if (found < 0) return -1;
  if (!found) {
    log_error("no active signing key; restart identity to create one");
    return -1;
  }
  char *pem = NULL;
  if (k.private_sealed) {
    pem = seal_open(k.kid, k.private_sealed);
    if (!pem)
      log_error("the signing key %s does not open with %s: is HOSO_KEY_ENCRYPTION_KEY the file this "
                "deployment's keys were sealed with?",
                k.kid, seal_enabled() ? "this key encryption key" : "no key encryption key");
  } else if (k.private_pem) {
    pem = strdup(k.private_pem);
  }
  if (!pem) return -1;
  tok_keyring *kr = srv_keyring();
  if (kr) tok_keyring_add(kr, k.kid, k.public_pem);
  pthread_mutex_lock(&signer_mu);
  seal_wipe_free(signer_pem);
  signer_pem = pem;
  snprintf(signer_kid, sizeof signer_kid, "%s", k.kid);
  signer_loaded = time(NULL);
  pthread_mutex_unlock(&signer_mu);
  return 0;
}

int keys_check_signer(db_conn *db) {
  srv_ctx *ctx = system_job(db);
  int rc = ctx ? signer_load(ctx) : -1;
  srv_job_free(ctx);
  return rc;
}

int keys_sign(srv_ctx *ctx, const tok_claims *claims, int ttl, char **jwt) {
  pthread_mutex_lock(&signer_mu);
  int stale = !signer_pem || time(NULL) - signer_loaded > SIGNER_RECHECK_SECONDS;
  pthread_mutex_unlock(&signer_mu);
  if (stale && signer_load(ctx) != 0) {
    if (db_err_kind(ctx->db) != DB_OK) return srv_fail_db(ctx, "signing key");
    return srv_fail(ctx, GRPC_STATUS_INTERNAL, "no signing key available");
  }
  pthread_mutex_lock(&signer_mu);
  tok_signer s;
  snprintf(s.kid, sizeof s.kid, "%s", signer_kid);
  s.private_pem = signer_pem;
  int rc = tok_sign(&s, claims, (long long)time(NULL), ttl, jwt);
  pthread_mutex_unlock(&signer_mu);
  if (rc != 0) return srv_fail(ctx, GRPC_STATUS_INTERNAL, "could not sign the token");
  return 0;
}

int keys_load_ring(tok_keyring *kr, void *arg) {
  (void)arg;
  /* Runs rarely (start, unknown kid): a short-lived connection keeps workers' own untouched. */
  db_conn *db = db_open(cfg_str("HOSO_PG_DSN", CFG_PG_DSN_DEFAULT), "identity");
  srv_ctx *ctx = db ? system_job(db) : NULL;
  Hoso__Identity__V1__PublicKey **keys = NULL;
  size_t n = 0;
  int rc = -1;
  if (!ctx || db_ensure(db) != 0 || signing_keys_published(ctx, &keys, &n) != 0) goto out;
  const char **kids = calloc(n + 1, sizeof *kids), **pems = calloc(n + 1, sizeof *pems);
  if (kids && pems) {
    for (size_t i = 0; i < n; i++) {
      kids[i] = keys[i]->kid;
      pems[i] = keys[i]->public_key_pem;
    }
    rc = tok_keyring_replace(kr, n, kids, pems);
  }
  free(kids);
  free(pems);
out:
  srv_job_free(ctx);
  if (db) db_close(db);
  return rc;
}
