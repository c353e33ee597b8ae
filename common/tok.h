/* Access tokens: ES256 JWTs signed by identity and checked by every service with identity's
 * public keys. The algorithm is pinned before any verification; the key is chosen by kid from
 * keys loaded from identity, never from the token. */
#ifndef HOSO_TOK_H
#define HOSO_TOK_H

#include <stddef.h>
#include <time.h>

#define TOK_ISSUER "hoso-identity"
#define TOK_AUDIENCE "hoso"
#define TOK_TYP_ACCESS "access"       /* a full access token */
#define TOK_TYP_PWCHANGE "pwchange"   /* first-login token: allows ChangePassword only */
#define TOK_ACCESS_TTL 900            /* 15 minutes */
/* How long a token revocation matters: every token it voids has expired by then (with room for
 * clocks that differ between services). */
#define TOK_REVOCATION_WINDOW (TOK_ACCESS_TTL + 120)

/* Role bits (the names travel in the token as strings, as in proto/common.proto). */
enum {
  ROLE_SYSTEM_ADMIN = 1u << 1,
  ROLE_UNIT_ADMIN = 1u << 2,
  ROLE_UPDATER = 1u << 3,
  ROLE_READER = 1u << 4,
  ROLE_SELF = 1u << 5,
  ROLE_SERVICE = 1u << 6,
};
/* Bit for a hoso.common.v1.Role value (1..6), 0 for anything else. */
unsigned tok_role_bit(int role_enum);
/* "SYSTEM_ADMIN" for ROLE_SYSTEM_ADMIN, NULL for a value that is not exactly one known bit. */
const char *tok_role_name(unsigned bit);
/* ROLE_* bit for a name, 0 if unknown. */
unsigned tok_role_from_name(const char *name);

typedef struct {
  char sub[64];         /* account id, or "svc:<client_id>" for a service account */
  char username[128];   /* login name (claim "name"); the service client's id for services */
  char unit_id[32];     /* the account's unit */
  char unit_path[512];  /* its ltree path, e.g. "1.4.17" */
  unsigned roles;       /* ROLE_* bits */
  char record_id[64];   /* SELF: the person's record id ("rid") */
  char scope[4096];     /* comma separated unit paths the token may act on ("scp"); for people
                           this equals unit_path, for SYSTEM_ADMIN it is "*" */
  char jti[64];
  char typ[16];         /* TOK_TYP_ACCESS or TOK_TYP_PWCHANGE */
  long long iat, nbf, exp;
  long long gen;        /* the subject's token generation when signed ("gen", 0 when absent):
                           a revocation cuts every token of the subject below a generation */
} tok_claims;

/* A signing key of identity: EC P-256 private key in PEM, with its kid. */
typedef struct {
  char kid[64];
  const char *private_pem;
} tok_signer;

/* Generates a fresh P-256 key pair. *priv_pem and *pub_pem are malloc'd PEM strings. 0 / -1. */
int tok_keygen(char **priv_pem, char **pub_pem);

/* Signs claims (iss, aud, iat/nbf/exp from `now` and ttl, a random jti when c->jti is
 * empty; c->iat/nbf/exp are ignored). *out is a malloc'd compact JWT. 0 / -1. */
int tok_sign(const tok_signer *key, const tok_claims *c, long long now, int ttl, char **out);

/* The public keys a service trusts, by kid. Thread-safe. */
typedef struct tok_keyring tok_keyring;

/* Called when a token names a kid the ring does not hold: should call tok_keyring_replace /
 * tok_keyring_add with the current keys. Return 0 on success. Rate-limited by the ring
 * (at most once per 5 s). */
typedef int (*tok_refresh_fn)(tok_keyring *kr, void *arg);

tok_keyring *tok_keyring_new(tok_refresh_fn refresh, void *arg);
void tok_keyring_free(tok_keyring *kr);
/* Adds or replaces the key `kid` (PEM public key). 0 / -1 (not a P-256 public key). */
int tok_keyring_add(tok_keyring *kr, const char *kid, const char *public_pem);
/* Replaces the whole set at once (n keys). 0 / -1. */
int tok_keyring_replace(tok_keyring *kr, size_t n, const char *const *kids,
                        const char *const *pems);
size_t tok_keyring_size(tok_keyring *kr);
/* A counter that grows on every tok_keyring_add / tok_keyring_replace (starts at 1). */
unsigned long long tok_keyring_generation(tok_keyring *kr);

/* Verifies a compact JWT: header alg must be ES256 and typ JWT (checked before the key is
 * touched), kid known (after one refresh), signature valid, iss/aud as above, typ claim
 * access or pwchange, now within [nbf - 30 s, exp). Fills *out. Returns 0, or -1 with a
 * short reason in err ("expired", "bad signature", "unknown key", "wrong audience", ...). */
int tok_verify(tok_keyring *kr, const char *jwt, long long now, tok_claims *out, char *err,
               size_t errlen);

/* tok_verify, remembering each verified token (by the SHA-256 of its text) in a bounded
 * cache of the ring, so a token is checked in full once per process. A cached token is served
 * only while now is within [nbf - 30 s, exp) and the keys have not changed since it was
 * checked; anything else goes through tok_verify, which gives the reason. */
int tok_verify_cached(tok_keyring *kr, const char *jwt, long long now, tok_claims *out,
                      char *err, size_t errlen);
/* What the cache holds (filled slots, at most 1024) and how many checks it answered. */
void tok_keyring_cache_stats(tok_keyring *kr, size_t *entries, unsigned long long *hits);

#endif
