/* The keyring of tok.h: the public keys a service trusts, parsed once, refreshed when a token
 * names an unknown kid, and the cache of verified tokens (tok_verify_cached). */
#include "tok_int.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- keyring --------------------------------------------------------------------------- */

/* Keys are held parsed. OpenSSL 3 decodes a PEM through its provider-based decoder at about
 * 0.5 ms a time (measured by bench_token), several times the ECDSA check itself, so parsing
 * once per key rather than once per request is what keeps the token check cheap. */
typedef struct {
  char kid[64];
  EVP_PKEY *pkey;  /* EC P-256 public key; shared read-only with verifiers via up_ref */
} ring_key;

/* A verified token, named by the SHA-256 of its whole text: any changed byte is another name,
 * so a tampered token never meets a cached result. */
typedef struct {
  unsigned char h[SHA256_DIGEST_LENGTH];
  unsigned long long gen;  /* the ring's generation when the check began; 0 = empty slot */
  tok_claims c;
} cache_slot;

struct tok_keyring {
  pthread_mutex_t mu;          /* guards keys, n, gen */
  pthread_mutex_t refresh_mu;  /* one refresh at a time; guards refreshed, last_refresh */
  ring_key keys[TOK_RING_MAX];
  size_t n;
  tok_refresh_fn refresh;
  void *arg;
  int refreshed;
  long long last_refresh;
  unsigned long long gen;      /* +1 on every change of the keys; starts at 1 */
  pthread_mutex_t cache_mu[TOK_CACHE_SHARDS];  /* slot i is guarded by cache_mu[i % SHARDS] */
  cache_slot *cache;           /* TOK_CACHE_SLOTS slots, or NULL (then nothing is cached) */
  _Atomic unsigned long long cache_hits;
};

tok_keyring *tok_keyring_new(tok_refresh_fn refresh, void *arg) {
  tok_keyring *kr = calloc(1, sizeof *kr);
  if (!kr) return NULL;
  if (pthread_mutex_init(&kr->mu, NULL)) {
    free(kr);
    return NULL;
  }
  if (pthread_mutex_init(&kr->refresh_mu, NULL)) {
    pthread_mutex_destroy(&kr->mu);
    free(kr);
    return NULL;
  }
  for (int i = 0; i < TOK_CACHE_SHARDS; i++) pthread_mutex_init(&kr->cache_mu[i], NULL);
  /* calloc: the 5 MB of slots are only touched as tokens arrive. Without it the ring still
   * works, every call verifying in full. */
  kr->cache = calloc(TOK_CACHE_SLOTS, sizeof *kr->cache);
  kr->refresh = refresh;
  kr->arg = arg;
  kr->gen = 1;
  return kr;
}

void tok_keyring_free(tok_keyring *kr) {
  if (!kr) return;
  for (size_t i = 0; i < kr->n; i++) EVP_PKEY_free(kr->keys[i].pkey);
  pthread_mutex_destroy(&kr->mu);
  pthread_mutex_destroy(&kr->refresh_mu);
  for (int i = 0; i < TOK_CACHE_SHARDS; i++) pthread_mutex_destroy(&kr->cache_mu[i]);
  free(kr->cache);
  free(kr);
}

static int kid_ok(const char *kid) {
  if (!kid || kid[0] == '\0' || strlen(kid) > 63) return 0;
  for (const char *p = kid; *p; p++)
    if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) return 0;
  return 1;
}

/* Parses a SubjectPublicKeyInfo PEM and insists on EC P-256: an RSA or P-384 key in the ring
 * would be a key our ES256-only check can never use correctly. */
static EVP_PKEY *parse_p256_public(const char *pem) {
  BIO *in = NULL;
  EVP_PKEY *pkey = NULL;
  char group[64];
  size_t glen = 0;
  if (!pem || strlen(pem) > TOK_PEM_MAX) return NULL;
  in = BIO_new_mem_buf(pem, -1);
  if (!in) return NULL;
  pkey = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL);
  BIO_free(in);
  if (!pkey) {
    ERR_clear_error();
    return NULL;
  }
  if (!EVP_PKEY_is_a(pkey, "EC") ||
      !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                      &glen) ||
      (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)) {
    EVP_PKEY_free(pkey);
    return NULL;
  }
  return pkey;
}

/* Inserts or replaces under kr->mu (held by the caller); takes ownership of pkey. */
static int ring_put_locked(tok_keyring *kr, const char *kid, EVP_PKEY *pkey) {
  for (size_t i = 0; i < kr->n; i++) {
    if (strcmp(kr->keys[i].kid, kid) == 0) {
      EVP_PKEY_free(kr->keys[i].pkey);
      kr->keys[i].pkey = pkey;
      return 0;
    }
  }
  if (kr->n >= TOK_RING_MAX) {
    EVP_PKEY_free(pkey);
    return -1;
  }
  ring_key *k = &kr->keys[kr->n++];
  memcpy(k->kid, kid, strlen(kid) + 1);
  k->pkey = pkey;
  return 0;
}

int tok_keyring_add(tok_keyring *kr, const char *kid, const char *public_pem) {
  if (!kr || !kid_ok(kid)) return -1;
  EVP_PKEY *pkey = parse_p256_public(public_pem);
  if (!pkey) return -1;
  pthread_mutex_lock(&kr->mu);
  int rc = ring_put_locked(kr, kid, pkey);
  kr->gen++;  /* a replaced key must not keep vouching for tokens checked with the old one */
  pthread_mutex_unlock(&kr->mu);
  return rc;
}

int tok_keyring_replace(tok_keyring *kr, size_t n, const char *const *kids,
                        const char *const *pems) {
  int rc = -1;
  EVP_PKEY **parsed = NULL;
  if (!kr || n > TOK_RING_MAX || (n > 0 && (!kids || !pems))) return -1;
  if (n > 0) {
    parsed = calloc(n, sizeof *parsed);
    if (!parsed) return -1;
  }
  /* Validate everything first so a bad key leaves the old set in place. */
  for (size_t i = 0; i < n; i++) {
    if (!kid_ok(kids[i])) goto out;
    for (size_t k = 0; k < i; k++)
      if (strcmp(kids[k], kids[i]) == 0) goto out;
    parsed[i] = parse_p256_public(pems[i]);
    if (!parsed[i]) goto out;
  }
  pthread_mutex_lock(&kr->mu);
  for (size_t i = 0; i < kr->n; i++) EVP_PKEY_free(kr->keys[i].pkey);
  kr->n = 0;
  for (size_t i = 0; i < n; i++) {
    ring_put_locked(kr, kids[i], parsed[i]);  /* cannot fail: n <= TOK_RING_MAX, kids unique */
    parsed[i] = NULL;
  }
  kr->gen++;  /* a dropped kid's tokens must be checked again (and fail) */
  pthread_mutex_unlock(&kr->mu);
  rc = 0;
out:
  for (size_t i = 0; i < n && parsed; i++) EVP_PKEY_free(parsed[i]);
  free(parsed);
  return rc;
}

unsigned long long tok_keyring_generation(tok_keyring *kr) {
  if (!kr) return 0;
  pthread_mutex_lock(&kr->mu);
  unsigned long long g = kr->gen;
  pthread_mutex_unlock(&kr->mu);
  return g;
}

void tok_keyring_cache_stats(tok_keyring *kr, size_t *entries, unsigned long long *hits) {
  size_t n = 0;
  for (size_t i = 0; kr && kr->cache && i < TOK_CACHE_SLOTS; i++) {
    pthread_mutex_lock(&kr->cache_mu[i % TOK_CACHE_SHARDS]);
    n += kr->cache[i].gen != 0;
    pthread_mutex_unlock(&kr->cache_mu[i % TOK_CACHE_SHARDS]);
  }
  if (entries) *entries = n;
  if (hits) *hits = kr ? kr->cache_hits : 0;
}

size_t tok_keyring_size(tok_keyring *kr) {
  if (!kr) return 0;
  pthread_mutex_lock(&kr->mu);
  size_t n = kr->n;
  pthread_mutex_unlock(&kr->mu);
  return n;
}

/* A counted reference to kid's key, so verification runs without the lock and survives a
 * concurrent rotation. The caller frees it. */
EVP_PKEY *tok__ring_lookup(tok_keyring *kr, const char *kid) {
  EVP_PKEY *pkey = NULL;
  pthread_mutex_lock(&kr->mu);
  for (size_t i = 0; i < kr->n; i++) {
    if (strcmp(kr->keys[i].kid, kid) == 0) {
      if (EVP_PKEY_up_ref(kr->keys[i].pkey)) pkey = kr->keys[i].pkey;
      break;
    }
  }
  pthread_mutex_unlock(&kr->mu);
  return pkey;
}

/* Asks for fresh keys at most once per TOK_REFRESH_GAP seconds: a stream of tokens with
 * invented kids must not turn into a stream of calls to identity. A caller arriving while
 * another refresh runs waits for it and then uses its result. */
void tok__ring_maybe_refresh(tok_keyring *kr, long long now) {
  if (!kr->refresh) return;
  pthread_mutex_lock(&kr->refresh_mu);
  /* A clock that stepped backwards must not block refreshes until it catches up. */
  if (!kr->refreshed || now < kr->last_refresh || now - kr->last_refresh >= TOK_REFRESH_GAP) {
    kr->refreshed = 1;
    kr->last_refresh = now;
    (void)kr->refresh(kr, kr->arg);
  }
  pthread_mutex_unlock(&kr->refresh_mu);
}

/* Whether cached claims still hold at `now`: the same time rules as read_claims, so a cached
 * token expires exactly when a fresh check would refuse it. */
int tok__claims_current(const tok_claims *c, long long now) {
  return now < c->exp && c->nbf <= now + TOK_LEEWAY && c->iat <= now + TOK_LEEWAY;
}

int tok_verify_cached(tok_keyring *kr, const char *token, long long now, tok_claims *out,
                      char *err, size_t errlen) {
  if (!kr || !kr->cache || !token || !out) return tok_verify(kr, token, now, out, err, errlen);
  size_t len = strnlen(token, TOK_MAX_LEN + 1);
  if (len == 0 || len > TOK_MAX_LEN) return tok_verify(kr, token, now, out, err, errlen);
  unsigned char h[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)token, len, h);
  size_t slot = ((size_t)h[0] | (size_t)h[1] << 8) % TOK_CACHE_SLOTS;
  pthread_mutex_t *mu = &kr->cache_mu[slot % TOK_CACHE_SHARDS];
  /* Read before the check: if the keys change while it runs, the entry is born stale. */
  unsigned long long gen = tok_keyring_generation(kr);
  cache_slot *e = &kr->cache[slot];
  int hit = 0;
  pthread_mutex_lock(mu);
  if (e->gen == gen && memcmp(e->h, h, sizeof h) == 0 && tok__claims_current(&e->c, now)) {
    *out = e->c;
    hit = 1;
  }
  pthread_mutex_unlock(mu);
  if (hit) {
    kr->cache_hits++;
    if (err && errlen) err[0] = '\0';
    return 0;
  }
  /* A miss, a stale entry or an expired token: the full check decides, and says why. */
  int rc = tok_verify(kr, token, now, out, err, errlen);
  if (rc == 0) {
    pthread_mutex_lock(mu);
    memcpy(e->h, h, sizeof h);
    e->gen = gen;
    e->c = *out;
    pthread_mutex_unlock(mu);
  }
  return rc;
}
