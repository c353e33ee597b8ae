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

/* How long a retired key stays published: the longest-lived token it signed, plus clock skew. */
#define KEY_GRACE_SECONDS (TOK_ACCESS_TTL + 300)
/* How often a process re-reads which key signs (another replica may have rotated). */
#define SIGNER_RECHECK_SECONDS 60

static pthread_mutex_t signer_mu = PTHREAD_MUTEX_INITIALIZER;
static char signer_kid[64];
static char *signer_pem;
static time_t signer_loaded;

/* Creates a key pair and stores it as the active signer. Caller holds a transaction. */
static int key_insert(db_conn *db, char *kid_out, size_t kid_len) {
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
    int bad = !sealed || db_cmd(db, "INSERT INTO signing_keys (kid, private_sealed, public_pem) VALUES ($1, $2, $3)",
                                3, kid, sealed, pub) != 0;
    free(sealed);
    if (bad) goto out;
  } else if (db_cmd(db, "INSERT INTO signing_keys (kid, private_pem, public_pem) VALUES ($1, $2, $3)", 3, kid, priv,
                    pub) != 0) {
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
static int seal_clear_keys(db_conn *db, rotate_arg *a) {
  if (!seal_enabled()) return 0;
  PGresult *r = db_q(db, "SELECT kid, private_pem, retired_at IS NULL FROM signing_keys WHERE private_pem IS NOT NULL", 0);
  if (!r) return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
    char *sealed = seal_private(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    if (!sealed ||
        db_cmd(db, "UPDATE signing_keys SET private_sealed = $2, private_pem = NULL WHERE kid = $1", 2,
               PQgetvalue(r, i, 0), sealed) != 0)
      rc = -1;
    free(sealed);
    a->sealed++;
    if (PQgetvalue(r, i, 2)[0] == 't') a->force = 1;
  }
  PQclear(r);
  return rc;
}

static int rotate_tx(db_conn *db, void *p) {
  rotate_arg *a = p;
  /* One rotation at a time across replicas. */
  if (db_cmd(db, "SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))", 0) != 0) return -1;
  if (seal_clear_keys(db, a) != 0) return -1;
  long max_age = cfg_int("HOSO_KEY_ROTATE_DAYS", 30, 1, 3650) * 86400L;
  char age[32];
  snprintf(age, sizeof age, "%ld", max_age);
  PGresult *r = db_q(db,
                     "SELECT kid, extract(epoch FROM now() - created_at) > $1::bigint FROM signing_keys "
                     "WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
                     1, age);
  if (!r) return -1;
  int have = PQntuples(r) == 1, old = have && PQgetvalue(r, 0, 1)[0] == 't';
  if (have) snprintf(a->kid, sizeof a->kid, "%s", PQgetvalue(r, 0, 0));
  a->had_key = have;
  PQclear(r);
  if (have && !old && !a->force) return 0;
  char grace[32];
  snprintf(grace, sizeof grace, "%d", KEY_GRACE_SECONDS);
  if (db_cmd(db,
             "UPDATE signing_keys SET retired_at = now(), expires_at = now() + make_interval(secs => $1::int) "
             "WHERE retired_at IS NULL",
             1, grace) != 0)
    return -1;
  if (key_insert(db, a->kid, sizeof a->kid) != 0) return -1;
  a->rotated = 1;
  return 0;
}

/* Rotation by age (or the first key), audited as the system's own act in the same transaction. */
static int rotate_by_age_tx(db_conn *db, void *p) {
  rotate_arg *a = p;
  if (rotate_tx(db, a) != 0) return -1;
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
  return audit_write(db, &e);
}

static void signer_forget(void) {
  pthread_mutex_lock(&signer_mu);
  signer_loaded = 0;
  pthread_mutex_unlock(&signer_mu);
}

int keys_ensure(db_conn *db) {
  rotate_arg a = {.force = 0};
  if (db_tx(db, DB_READ_COMMITTED, "*", "system", rotate_by_age_tx, &a) != 0) return -1;
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

int keys_rotate(db_conn *db, char *kid_out, size_t kid_len) {
  rotate_arg a = {.force = 1};
  if (rotate_tx(db, &a) != 0) return -1;
  snprintf(kid_out, kid_len, "%s", a.kid);
  signer_forget();
  return 0;
}

/* Loads the active signer from the database when the cache is empty or stale. The public key
 * goes into this process's keyring too, so tokens we sign verify here at once. */
static int signer_load(db_conn *db) {
  PGresult *r = db_q(db,
                     "SELECT kid, private_pem, public_pem, private_sealed FROM signing_keys WHERE retired_at IS NULL "
                     "ORDER BY created_at DESC LIMIT 1",
                     0);
  if (!r) return -1;
  if (PQntuples(r) != 1) {
    PQclear(r);
    log_error("no active signing key; restart identity to create one");
    return -1;
  }
  char *pem = NULL;
  if (!PQgetisnull(r, 0, 3)) {
    pem = seal_open(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 3));
    if (!pem)
      log_error("the signing key %s does not open with %s: is HOSO_KEY_ENCRYPTION_KEY the file this "
                "deployment's keys were sealed with?",
                PQgetvalue(r, 0, 0), seal_enabled() ? "this key encryption key" : "no key encryption key");
  } else if (!PQgetisnull(r, 0, 1)) {
    pem = strdup(PQgetvalue(r, 0, 1));
  }
  if (!pem) {
    PQclear(r);
    return -1;
  }
  tok_keyring *kr = srv_keyring();
  if (kr) tok_keyring_add(kr, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 2));
  pthread_mutex_lock(&signer_mu);
  seal_wipe_free(signer_pem);
  signer_pem = pem;
  snprintf(signer_kid, sizeof signer_kid, "%s", PQgetvalue(r, 0, 0));
  signer_loaded = time(NULL);
  pthread_mutex_unlock(&signer_mu);
  PQclear(r);
  return 0;
}

int keys_check_signer(db_conn *db) { return signer_load(db); }

int keys_sign(srv_ctx *ctx, const tok_claims *claims, int ttl, char **jwt) {
  pthread_mutex_lock(&signer_mu);
  int stale = !signer_pem || time(NULL) - signer_loaded > SIGNER_RECHECK_SECONDS;
  pthread_mutex_unlock(&signer_mu);
  if (stale && signer_load(ctx->db) != 0) {
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
  int rc = -1;
  if (!db || db_ensure(db) != 0) goto out;
  PGresult *r = db_q(db,
                     "SELECT kid, public_pem FROM signing_keys WHERE expires_at IS NULL OR expires_at > now()",
                     0);
  if (!r) goto out;
  int n = PQntuples(r);
  const char **kids = calloc((size_t)n + 1, sizeof *kids), **pems = calloc((size_t)n + 1, sizeof *pems);
  if (kids && pems) {
    for (int i = 0; i < n; i++) {
      kids[i] = PQgetvalue(r, i, 0);
      pems[i] = PQgetvalue(r, i, 1);
    }
    rc = tok_keyring_replace(kr, (size_t)n, kids, pems);
  }
  free(kids);
  free(pems);
  PQclear(r);
out:
  if (db) db_close(db);
  return rc;
}
