/* The SQL of the token signing keys (keys.c, rpc_keys.c): the active signer, rotation, and
 * the public keys still published. Each runs inside the caller's transaction; what it reads is
 * in the call's arena. 0 (1 / 0 when it says found or not), -1 on a database error. */
#ifndef HOSO_IDENTITY_STORE_KEYS_H
#define HOSO_IDENTITY_STORE_KEYS_H

#include <stddef.h>
#include "identity.h"

/* One rotation at a time across replicas: held until the transaction ends. */
int signing_keys_lock(srv_ctx *ctx);

/* The key that signs now: its kid, its private half (sealed, key_seal.h; or in the clear from
 * an older identity or the development mode: the other one NULL), its public PEM, and whether
 * it is older than max_age seconds. 1 / 0 (none yet). */
typedef struct {
  const char *kid, *private_sealed, *private_pem, *public_pem;
  int older;
} signing_key;
int signing_keys_current(srv_ctx *ctx, long max_age, signing_key *out);

/* Retires the active key: still published for grace seconds, then no longer. */
int signing_keys_retire(srv_ctx *ctx, int grace);
/* Stores a new active key, its private half sealed (private_pem NULL) or, only in the
 * development mode, in the clear (private_sealed NULL). */
int signing_keys_insert(srv_ctx *ctx, const char *kid, const char *private_sealed, const char *private_pem,
                        const char *public_pem);

/* The keys whose private half is still in the clear: kid, PEM, whether it is the active one. */
typedef struct {
  const char *kid, *private_pem;
  int active;
} signing_key_clear;
int signing_keys_in_clear(srv_ctx *ctx, signing_key_clear **out, size_t *n);
/* Replaces a key's clear private half by its sealed form. */
int signing_keys_seal(srv_ctx *ctx, const char *kid, const char *private_sealed);

/* The keys published now (the active one and those retired less than their grace ago), oldest
 * first, as the contract shows them. */
int signing_keys_published(srv_ctx *ctx, Hoso__Identity__V1__PublicKey ***out, size_t *n);

#endif
