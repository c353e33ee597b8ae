/* Internals shared by tok.c (tokens) and tok_keyring.c (the keyring and its cache). */
#ifndef HOSO_TOK_INT_H
#define HOSO_TOK_INT_H

#include <openssl/evp.h>
#include "tok.h"

#define TOK_MAX_LEN 16384       /* scp may name many units; anything longer is not ours */
#define TOK_LEEWAY 30           /* clock skew allowed on nbf and iat between services */
#define TOK_REFRESH_GAP 5       /* seconds between two refreshes of one ring */
#define TOK_ES256_SIG_LEN 64    /* raw r || s of P-256 */
#define TOK_PEM_MAX 4096        /* a P-256 SubjectPublicKeyInfo PEM is 178 bytes */
#define TOK_RING_MAX 64
#define TOK_CACHE_SLOTS 1024    /* verified tokens remembered per ring (direct-mapped) */
#define TOK_CACHE_SHARDS 16     /* locks over the slots, so workers rarely wait on each other */

/* tok_keyring.c: the key named kid (a reference the caller frees with EVP_PKEY_free), NULL when
 * the ring has none; a refresh of the ring when it is due (rate-limited). */
EVP_PKEY *tok__ring_lookup(tok_keyring *kr, const char *kid);
void tok__ring_maybe_refresh(tok_keyring *kr, long long now);
/* tok.c: whether verified claims still hold at now (the time rules of a fresh check). */
int tok__claims_current(const tok_claims *c, long long now);

#endif
