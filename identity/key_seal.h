/* Token-signing private keys sealed with a key from outside the database: AES-256-GCM under
 * the key encryption key in the file HOSO_KEY_ENCRYPTION_KEY, so a dump of the database alone
 * cannot sign a token. */
#ifndef HOSO_IDENTITY_KEY_SEAL_H
#define HOSO_IDENTITY_KEY_SEAL_H

#include <stddef.h>

/* Reads the key encryption key once, at start-up: HOSO_KEY_ENCRYPTION_KEY names a file of the
 * owner only (mode 0600 or stricter) holding 32 random bytes, raw or as 64 hex digits
 * (`openssl rand -hex 32`). Without it identity refuses to start, unless the development mode
 * HOSO_INSECURE_DEV=1 says keys may stay in the clear (then 0 and seal_enabled() is 0).
 * 0, or -1 with the reason logged. */
int seal_init(void);
/* 1 when a key encryption key is loaded. */
int seal_enabled(void);
/* Forgets the key (shutdown). */
void seal_free(void);

/* The stored form of a private key PEM for key `kid`: "sealed:v1:" + base64url(nonce || ciphertext
 * || tag), bound to kid (moved to another row it does not open). malloc'd, or NULL. */
char *seal_private(const char *kid, const char *pem);
/* The PEM back from a stored form of `kid`; NULL when it does not open with this key (another
 * key, another row, altered). malloc'd; the caller wipes and frees it (seal_wipe_free). */
char *seal_open(const char *kid, const char *sealed);
/* Overwrites and frees a secret string (NULL is fine). */
void seal_wipe_free(char *s);

/* Pure, for tests: seal / open with an explicit 32-byte key. */
char *seal_with(const unsigned char key[32], const char *kid, const char *pem);
char *seal_open_with(const unsigned char key[32], const char *kid, const char *sealed);

#endif
