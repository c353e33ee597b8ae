/* AES-256-GCM sealing of the token-signing private keys under the key encryption key of
 * HOSO_KEY_ENCRYPTION_KEY (key_seal.h). The database holds only what this seals. */
#include "key_seal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "b64.h"
#include "cfg.h"
#include "log.h"

#define PREFIX "sealed:v1:"
#define NONCE 12
#define TAG 16

static unsigned char kek[32];
static int have_kek;

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int seal_init(void) {
  const char *path = cfg_str("HOSO_KEY_ENCRYPTION_KEY", NULL);
  if (!path) {
    if (cfg_bool("HOSO_INSECURE_DEV", 0)) {
      log_warn("HOSO_INSECURE_DEV=1: token signing keys are stored in the clear; a dump of the "
               "database can sign tokens. Development only: set HOSO_KEY_ENCRYPTION_KEY");
      return 0;
    }
    log_error("HOSO_KEY_ENCRYPTION_KEY is not set: identity seals its token signing keys with a key "
              "kept outside the database (a file of 32 random bytes, mode 0600, e.g. "
              "`openssl rand -hex 32 > kek && chmod 600 kek`; docs/SECURITY.md). Not starting");
    return -1;
  }
  int rc = -1;
  unsigned char buf[130];
  ssize_t n = -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    log_error("HOSO_KEY_ENCRYPTION_KEY %s: %s", path, strerror(errno));
    goto out;
  }
  /* An ssh-like rule: a key others can read is not a secret any more. */
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
    log_error("HOSO_KEY_ENCRYPTION_KEY %s: must be a regular file readable by its owner only "
              "(mode %04o; chmod 600 it)", path, (unsigned)(st.st_mode & 07777));
    goto out;
  }
  n = read(fd, buf, sizeof buf);
  size_t len = n > 0 ? (size_t)n : 0;
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) len--;
  if (n == 32) {
    memcpy(kek, buf, 32);
    rc = 0;
  } else if (len == 64) {
    rc = 0;
    for (int i = 0; i < 32 && rc == 0; i++) {
      int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);
      if (hi < 0 || lo < 0) rc = -1;
      else kek[i] = (unsigned char)(hi << 4 | lo);
    }
  }
  if (rc != 0) log_error("HOSO_KEY_ENCRYPTION_KEY %s: expected 32 bytes, raw or as 64 hex digits", path);
  else have_kek = 1;
out:
  OPENSSL_cleanse(buf, sizeof buf);
  if (fd >= 0) close(fd);
  return rc;
}

int seal_enabled(void) { return have_kek; }

void seal_free(void) {
  OPENSSL_cleanse(kek, sizeof kek);
  have_kek = 0;
}

void seal_wipe_free(char *s) {
  if (!s) return;
  OPENSSL_cleanse(s, strlen(s));
  free(s);
}

/* The additional data: the key id, so a sealed key moved to another row does not open. */
static int aad(EVP_CIPHER_CTX *c, const char *kid) {
  static const char dom[] = "hoso-signing-key:";
  int outl;
  return EVP_CipherUpdate(c, NULL, &outl, (const unsigned char *)dom, (int)strlen(dom)) == 1 &&
         EVP_CipherUpdate(c, NULL, &outl, (const unsigned char *)kid, (int)strlen(kid)) == 1;
}

char *seal_with(const unsigned char key[32], const char *kid, const char *pem) {
  size_t plen = strlen(pem), blen = NONCE + plen + TAG;
  unsigned char *b = malloc(blen);
  char *out = NULL;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int l1 = 0, l2 = 0;
  if (!b || !c || RAND_bytes(b, NONCE) != 1) goto done;
  if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, b) != 1 || !aad(c, kid) ||
      EVP_EncryptUpdate(c, b + NONCE, &l1, (const unsigned char *)pem, (int)plen) != 1 ||
      EVP_EncryptFinal_ex(c, b + NONCE + l1, &l2) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, b + NONCE + plen) != 1)
    goto done;
  size_t cap = sizeof PREFIX + B64URL_ENCODED_SIZE(blen);
  if (!(out = malloc(cap))) goto done;
  memcpy(out, PREFIX, sizeof PREFIX - 1);
  if (b64url_encode(b, blen, out + sizeof PREFIX - 1, cap - (sizeof PREFIX - 1)) == 0) {
    free(out);
    out = NULL;
  }
done:
  EVP_CIPHER_CTX_free(c);
  free(b);
  return out;
}

char *seal_open_with(const unsigned char key[32], const char *kid, const char *sealed) {
  if (!sealed || strncmp(sealed, PREFIX, sizeof PREFIX - 1) != 0) return NULL;
  const char *t = sealed + sizeof PREFIX - 1;
  size_t tl = strlen(t), cap = tl, n = 0;
  unsigned char *b = malloc(cap + 1);
  char *pem = NULL;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int l1 = 0, l2 = 0;
  if (!b || !c || b64url_decode(t, tl, b, cap, &n) != 0 || n < NONCE + TAG + 1) goto done;
  size_t plen = n - NONCE - TAG;
  if (!(pem = malloc(plen + 1))) goto done;
  if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, b) != 1 || !aad(c, kid) ||
      EVP_DecryptUpdate(c, (unsigned char *)pem, &l1, b + NONCE, (int)plen) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG, b + NONCE + plen) != 1 ||
      EVP_DecryptFinal_ex(c, (unsigned char *)pem + l1, &l2) != 1) {
    OPENSSL_cleanse(pem, plen);
    free(pem);
    pem = NULL;
    goto done;
  }
  pem[plen] = 0;
done:
  EVP_CIPHER_CTX_free(c);
  free(b);
  return pem;
}

char *seal_private(const char *kid, const char *pem) { return have_kek ? seal_with(kek, kid, pem) : NULL; }

char *seal_open(const char *kid, const char *sealed) { return have_kek ? seal_open_with(kek, kid, sealed) : NULL; }
