/* Passwords: argon2id PHC strings with the OWASP parameters (m = 19 MiB, t = 2, p = 1),
 * constant-time checks, and the password policy. */
#ifndef HOSO_PW_H
#define HOSO_PW_H

#include <stddef.h>

#define PW_MIN_LEN 10
#define PW_MAX_LEN 256
#define PW_PHC_MAX 256

/* Hashes with a random 16-byte salt into a PHC string ("$argon2id$v=19$m=19456,t=2,p=1$..").
 * 0 / -1. */
int pw_hash(const char *password, char out[PW_PHC_MAX]);
/* 1 if password matches phc, 0 if not, -1 if phc is malformed. Constant time in the password. */
int pw_verify(const char *phc, const char *password);
/* 1 when phc was made with weaker parameters than today's (rehash on next login). */
int pw_needs_rehash(const char *phc);
/* NULL when acceptable, else a message a person can act on ("must be at least 10
 * characters", "must not contain the username", "must not be longer than 256 bytes", ...). */
const char *pw_policy_check(const char *password, const char *username);
/* A random secret of n bytes, base64url without padding, into out (size >= 4*n/3 + 2). */
int pw_random_secret(size_t n, char *out, size_t outlen);
/* Constant-time equality of two byte strings of length n. */
int pw_ct_equal(const void *a, const void *b, size_t n);
/* SHA-256 of s as 64 lowercase hex chars (for storing refresh tokens and client secrets
 * lookups by hash). */
void pw_sha256_hex(const char *s, char out[65]);

#endif
