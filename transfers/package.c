/* package.h: the package's manifest (JSON: format, signer, what it is about, each part's name,
 * size, type and SHA-256) and its signature, the deployment's key and the keys it trusts (read
 * once from the files the settings name). The framing is package_stream.c's. */
#include "package.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "cfg.h"
#include "log.h"

#define MAX_TRUSTED 32

typedef struct {
  EVP_PKEY *key;
  char id[65];
} trusted_key;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_PKEY *own;             /* private */
static char own_id[65];
static char own_err[PKG_ERR];
static trusted_key trusted[MAX_TRUSTED];
static size_t n_trusted;

void pkg_hex(const unsigned char md[32], char out[65]) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[64] = 0;
}

void pkg_sha256(const void *data, size_t len, char out[65]) {
  unsigned char md[32];
  unsigned n = 0;
  EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
  pkg_hex(md, out);
}

/* The id of a key: SHA-256 of its public half, DER SubjectPublicKeyInfo. */
static int key_id_of(EVP_PKEY *k, char id[65]) {
  unsigned char *der = NULL;
  int n = i2d_PUBKEY(k, &der);
  if (n <= 0) return -1;
  pkg_sha256(der, (size_t)n, id);
  OPENSSL_free(der);
  return 0;
}

static int p256(EVP_PKEY *k) {
  char group[64] = "";
  size_t len = 0;
  return EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
         EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof group, &len) == 1 &&
         (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"));
}

static void trust(EVP_PKEY *k, const char *from) {
  if (n_trusted >= MAX_TRUSTED || key_id_of(k, trusted[n_trusted].id) != 0) {
    log_error("transfers: cannot trust the package key of %s", from);
    return;
  }
  if (!EVP_PKEY_up_ref(k)) return;
  trusted[n_trusted++].key = k;
}

static void load_keys(void) {
  const char *path = cfg_str("HOSO_PACKAGE_KEY", "");
  if (!*path) {
    snprintf(own_err, sizeof own_err, "no package signing key is configured (HOSO_PACKAGE_KEY)");
  } else {
    FILE *f = fopen(path, "r");
    if (!f) {
      snprintf(own_err, sizeof own_err, "the package signing key %s cannot be read", path);
    } else {
      own = PEM_read_PrivateKey(f, NULL, NULL, NULL);
      fclose(f);
      if (!own || !p256(own) || key_id_of(own, own_id) != 0) {
        snprintf(own_err, sizeof own_err, "%s is not an EC P-256 private key (PEM)", path);
        EVP_PKEY_free(own);
        own = NULL;
      } else {
        trust(own, path);
      }
    }
  }
  /* Other deployments whose packages are taken in: their public keys, comma-separated files. */
  const char *list = cfg_str("HOSO_PACKAGE_TRUST", "");
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
    FILE *f = fopen(p, "r");
    EVP_PKEY *k = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
    if (f) fclose(f);
    if (!k || !p256(k))
      log_error("transfers: HOSO_PACKAGE_TRUST: %s is not an EC P-256 public key (PEM); ignored", p);
    else
      trust(k, p);
    EVP_PKEY_free(k);
  }
  if (!own) log_warn("transfers: %s: packages can be checked but not made", own_err);
}

int pkg_key_id(char id[65], char *err, size_t errlen) {
  pthread_once(&once, load_keys);
  if (!own) {
    snprintf(err, errlen, "%s", own_err);
    return -1;
  }
  memcpy(id, own_id, 65);
  return 0;
}

/* ------------------------------------------------------------ signing ------------------- */

int pkg_sign(json_t *about, const pkg_entry *parts, size_t n, char **text, uint8_t **sig, size_t *sig_len, char kid[65],
             char *err, size_t errlen) {
  *text = NULL;
  *sig = NULL;
  if (pkg_key_id(kid, err, errlen) != 0) return -1;
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:s}", "name", parts[i].name, "size",
                                          (json_int_t)parts[i].size, "sha256", parts[i].sha256, "type",
                                          parts[i].type ? parts[i].type : ""));
  json_t *m = json_pack("{s:s, s:s, s:O, s:o}", "format", PKG_FORMAT, "key_id", kid, "about", about, "parts", list);
  *text = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(m);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = *text && md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, own) == 1 &&
           EVP_DigestSign(md, NULL, sig_len, (const unsigned char *)*text, strlen(*text)) == 1 &&
           (*sig = malloc(*sig_len)) &&
           EVP_DigestSign(md, *sig, sig_len, (const unsigned char *)*text, strlen(*text)) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) {
    snprintf(err, errlen, "the package could not be signed");
    free(*text);
    free(*sig);
    *text = NULL;
    *sig = NULL;
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ checking ------------------ */

static const trusted_key *trusted_by_id(const char *id) {
  for (size_t i = 0; i < n_trusted; i++)
    if (!strcmp(trusted[i].id, id)) return &trusted[i];
  return NULL;
}

void pkg_manifest_free(pkg_manifest *m) {
  free(m->v);
  json_decref(m->json);
  memset(m, 0, sizeof *m);
}

pkg_entry *pkg_manifest_find(pkg_manifest *m, const char *name) {
  for (size_t i = 0; i < m->n; i++)
    if (!strcmp(m->v[i].name, name)) return &m->v[i];
  return NULL;
}

int pkg_manifest_check(const uint8_t *manifest, size_t mlen, const uint8_t *sig, size_t slen, const char *key_id,
                       pkg_manifest *out, char *err, size_t errlen) {
  pthread_once(&once, load_keys);
  memset(out, 0, sizeof *out);
  if (!manifest || !mlen) {
    snprintf(err, errlen, "package.manifest: missing: not a transfer package");
    return -1;
  }
  const trusted_key *k = trusted_by_id(key_id ? key_id : "");
  if (!k) {
    snprintf(err, errlen, "package.key_id: signed by a deployment this one does not trust (key %.64s); its public key "
             "goes in HOSO_PACKAGE_TRUST", key_id ? key_id : "");
    return -1;
  }
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = md && sig && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->key) == 1 &&
           EVP_DigestVerify(md, sig, slen, manifest, mlen) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) {
    snprintf(err, errlen, "package.signature: does not match the manifest (the manifest was changed after signing, or "
             "another key signed it)");
    return -1;
  }
  json_error_t je;
  json_t *m = json_loadb((const char *)manifest, mlen, 0, &je);
  const char *format = m ? json_string_value(json_object_get(m, "format")) : NULL;
  json_t *list = m ? json_object_get(m, "parts") : NULL;
  if (!format || strcmp(format, PKG_FORMAT) != 0 || !json_is_array(list)) {
    snprintf(err, errlen, "package.manifest: not a manifest of %s", PKG_FORMAT);
    json_decref(m);
    return -1;
  }
  out->json = m;
  out->n = json_array_size(list);
  out->v = calloc(out->n ? out->n : 1, sizeof *out->v);
  if (!out->v) {
    snprintf(err, errlen, "package.manifest: out of memory");
    pkg_manifest_free(out);
    return -1;
  }
  for (size_t i = 0; i < out->n; i++) {
    json_t *e = json_array_get(list, i);
    pkg_entry *p = &out->v[i];
    const char *sum = json_string_value(json_object_get(e, "sha256"));
    p->name = json_string_value(json_object_get(e, "name"));
    p->type = json_string_value(json_object_get(e, "type"));
    p->size = json_integer_value(json_object_get(e, "size"));
    if (!p->name || !sum || strlen(sum) != 64 || p->size < 0) {
      snprintf(err, errlen, "package.manifest: part %zu has no name, size or sum", i);
      pkg_manifest_free(out);
      return -1;
    }
    memcpy(p->sha256, sum, 65);
    for (size_t j = 0; j < i; j++)
      if (!strcmp(out->v[j].name, p->name)) {
        snprintf(err, errlen, "package.manifest: part %.300s is listed twice", p->name);
        pkg_manifest_free(out);
        return -1;
      }
  }
  return 0;
}
