/* Passwords: argon2id hashing into PHC strings with today's OWASP parameters, verification,
 * the rehash test, the policy a new password must meet, and small constant-time helpers. */
#include "pw.h"
#include "b64.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include "val.h"

/* OWASP Password Storage Cheat Sheet, argon2id: m = 19 MiB, t = 2, p = 1. */
#define PW_T 2
#define PW_M 19456
#define PW_P 1
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32

/* Bounds on what we agree to run from a stored PHC string: a corrupted or planted row must not
 * make a login allocate gigabytes or spin for minutes. */
#define PW_M_MAX 262144
#define PW_T_MAX 16
#define PW_P_MAX 16

typedef struct {
  unsigned long m, t, p;
  size_t salt_chars, hash_chars;
} phc_params;

static int b64_std_char(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         ch == '+' || ch == '/';
}

/* Reads "<digits>" without sign or leading zeros, at most max. */
static const char *parse_num(const char *s, unsigned long max, unsigned long *v) {
  unsigned long x = 0;
  const char *p = s;
  if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9')) return NULL;
  for (; *p >= '0' && *p <= '9'; p++) {
    x = x * 10 + (unsigned long)(*p - '0');
    if (x > max) return NULL;
  }
  *v = x;
  return p;
}

static const char *parse_b64(const char *s, size_t *n) {
  const char *p = s;
  while (b64_std_char(*p)) p++;
  *n = (size_t)(p - s);
  return p;
}

/* "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>", nothing else. */
static int phc_parse(const char *phc, phc_params *pp) {
  static const char prefix[] = "$argon2id$v=19$m=";
  const char *s = phc;
  if (!s || strnlen(s, PW_PHC_MAX) >= PW_PHC_MAX) return -1;
  if (strncmp(s, prefix, sizeof prefix - 1) != 0) return -1;
  s += sizeof prefix - 1;
  if (!(s = parse_num(s, PW_M_MAX, &pp->m)) || strncmp(s, ",t=", 3) != 0) return -1;
  if (!(s = parse_num(s + 3, PW_T_MAX, &pp->t)) || strncmp(s, ",p=", 3) != 0) return -1;
  if (!(s = parse_num(s + 3, PW_P_MAX, &pp->p)) || *s != '$') return -1;
  s = parse_b64(s + 1, &pp->salt_chars);
  if (*s != '$') return -1;
  s = parse_b64(s + 1, &pp->hash_chars);
  if (*s != '\0') return -1;
  /* argon2's own minimums: 8-byte salt (11 chars), 4-byte hash; m >= 8 * p. */
  if (pp->t < 1 || pp->p < 1 || pp->m < 8 * pp->p) return -1;
  if (pp->salt_chars < 11 || pp->hash_chars < 6) return -1;
  return 0;
}

int pw_hash(const char *password, char out[PW_PHC_MAX]) {
  unsigned char salt[PW_SALT_LEN];
  if (!password || !out) return -1;
  out[0] = '\0';
  if (RAND_bytes(salt, sizeof salt) != 1) return -1;
  int rc = argon2id_hash_encoded(PW_T, PW_M, PW_P, password, strlen(password), salt, sizeof salt,
                                 PW_HASH_LEN, out, PW_PHC_MAX);
  OPENSSL_cleanse(salt, sizeof salt);
  if (rc != ARGON2_OK) {
    out[0] = '\0';
    return -1;
  }
  return 0;
}

int pw_verify(const char *phc, const char *password) {
  phc_params pp;
  if (phc_parse(phc, &pp)) return -1;
  if (!password) return 0;
  int rc = argon2id_verify(phc, password, strlen(password));
  if (rc == ARGON2_OK) return 1;
  if (rc == ARGON2_VERIFY_MISMATCH) return 0;
  return -1;
}

int pw_needs_rehash(const char *phc) {
  phc_params pp;
  if (phc_parse(phc, &pp)) return 1;
  /* Salt and hash lengths in base64 characters: 16 bytes = 22, 32 bytes = 43. */
  return pp.m < PW_M || pp.t < PW_T || pp.p != PW_P || pp.salt_chars < 22 || pp.hash_chars < 43;
}

/* Case-folded NFC copy; NULL on failure. */
static uint8_t *fold(const char *s, size_t *n) {
  return u8_casefold((const uint8_t *)s, strlen(s), NULL, UNINORM_NFC, NULL, n);
}

static int contains_folded(const char *hay, const char *needle) {
  size_t hn = 0, nn = 0;
  uint8_t *h = fold(hay, &hn);
  uint8_t *n = fold(needle, &nn);
  int found = -1;
  if (h && n) found = nn > 0 && nn <= hn && memmem(h, hn, n, nn) != NULL;
  free(h);
  free(n);
  return found;
}

const char *pw_policy_check(const char *password, const char *username) {
  if (!password || password[0] == '\0') return "must not be empty";
  size_t len = strlen(password);
  if (len > PW_MAX_LEN) return "must not be longer than 256 bytes";
  if (!val_utf8(password, len)) return "must be valid UTF-8 text";
  /* Characters, not bytes: "mật khẩu" is 8 characters however it is encoded. */
  const uint8_t *u = (const uint8_t *)password;
  if (u8_mbsnlen(u, len) < PW_MIN_LEN) return "must be at least 10 characters";

  ucs4_t first, c;
  const uint8_t *p = u8_next(&first, u);
  int same = 1;
  while (p && (p = u8_next(&c, p)) != NULL)
    if (c != first) {
      same = 0;
      break;
    }
  if (same) return "must not repeat a single character";

  /* Usernames are at least 3 characters (val_username); a shorter one would forbid half the
   * passwords people choose, so the check only applies from 3 on. */
  if (username && strlen(username) >= 3 && val_utf8(username, strlen(username))) {
    int r = contains_folded(password, username);
    if (r < 0) return "could not be checked, please try again";
    if (r) return "must not contain the username";
  }
  return NULL;
}

int pw_random_secret(size_t n, char *out, size_t outlen) {
  unsigned char buf[1024];
  if (!out || n == 0 || n > sizeof buf) return -1;
  if (outlen < B64URL_ENCODED_SIZE(n)) return -1;
  if (RAND_bytes(buf, (int)n) != 1) return -1;
  b64url_encode(buf, n, out, outlen);
  OPENSSL_cleanse(buf, n);
  return 0;
}

int pw_ct_equal(const void *a, const void *b, size_t n) {
  if (n == 0) return 1;
  return CRYPTO_memcmp(a, b, n) == 0;
}

void pw_sha256_hex(const char *s, char out[65]) {
  unsigned char md[32];
  unsigned int mdlen = 0;
  if (!s) s = "";
  if (!EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof md) {
    /* Never hand back a stale buffer as if it were a digest: an empty string matches no row. */
    out[0] = '\0';
    return;
  }
  for (size_t i = 0; i < sizeof md; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}
