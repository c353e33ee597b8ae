/* package.h: the package's framing (hoso.transfers.v1.TransferPackage), its manifest (JSON:
 * format, signer, what it is about, each part's name, size, type and SHA-256) and signature,
 * the deployment's key and the keys it trusts (read once from the files the settings name). */
#include "package.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "cfg.h"
#include "log.h"
#include "transfers.pb-c.h"

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

void pkg_sha256(const void *data, size_t len, char out[65]) {
  unsigned char md[32];
  unsigned n = 0;
  EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
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

/* ------------------------------------------------------------ building ------------------ */

int pkg_build(const pkg_part *parts, size_t n, json_t *about, uint8_t **out, size_t *out_len, char sha[65], char *err,
              size_t errlen) {
  char kid[65];
  *out = NULL;
  if (pkg_key_id(kid, err, errlen) != 0) return -1;
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) {
    char sum[65];
    pkg_sha256(parts[i].data, parts[i].len, sum);
    json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:s}", "name", parts[i].name, "size",
                                          (json_int_t)parts[i].len, "sha256", sum, "type", parts[i].type));
  }
  json_t *m = json_pack("{s:s, s:s, s:O, s:o}", "format", PKG_FORMAT, "key_id", kid, "about", about, "parts", list);
  char *text = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(m);
  unsigned char *sig = NULL;
  size_t siglen = 0;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = text && md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, own) == 1 &&
           EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)text, strlen(text)) == 1 &&
           (sig = malloc(siglen)) &&
           EVP_DigestSign(md, sig, &siglen, (const unsigned char *)text, strlen(text)) == 1;
  EVP_MD_CTX_free(md);
  if (ok) {
    Hoso__Transfers__V1__TransferPackage pkg = HOSO__TRANSFERS__V1__TRANSFER_PACKAGE__INIT;
    Hoso__Transfers__V1__PackagePart *ps = calloc(n ? n : 1, sizeof *ps), **pp = calloc(n ? n : 1, sizeof *pp);
    for (size_t i = 0; ps && pp && i < n; i++) {
      hoso__transfers__v1__package_part__init(&ps[i]);
      ps[i].name = (char *)parts[i].name;
      ps[i].content.data = (uint8_t *)parts[i].data;
      ps[i].content.len = parts[i].len;
      pp[i] = &ps[i];
    }
    pkg.manifest.data = (uint8_t *)text;
    pkg.manifest.len = strlen(text);
    pkg.signature.data = sig;
    pkg.signature.len = siglen;
    pkg.key_id = kid;
    pkg.parts = pp;
    pkg.n_parts = n;
    *out_len = protobuf_c_message_get_packed_size(&pkg.base);
    ok = ps && pp && (*out = malloc(*out_len ? *out_len : 1));
    if (ok) {
      protobuf_c_message_pack(&pkg.base, *out);
      pkg_sha256(*out, *out_len, sha);
    }
    free(ps);
    free(pp);
  }
  if (!ok) snprintf(err, errlen, "the package could not be signed");
  free(sig);
  free(text);
  return ok ? 0 : -1;
}

/* ------------------------------------------------------------ checking ------------------ */

static int varint(const uint8_t *d, size_t len, size_t *pos, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
    uint8_t b = d[(*pos)++];
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return 0;
  }
  return -1;
}

/* The name field of a part, from whatever of it is there (NULL when not even that). */
static char *name_in(const uint8_t *d, size_t len) {
  size_t pos = 0;
  uint64_t tag, n;
  if (varint(d, len, &pos, &tag) != 0 || tag != ((1 << 3) | 2) || varint(d, len, &pos, &n) != 0 || n > len - pos ||
      n > 512)
    return NULL;
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, d + pos, n);
    s[n] = 0;
  }
  return s;
}

/* The framing, field by field: a length running past the end names what it cut. */
static int walk(const uint8_t *d, size_t len, char *err, size_t errlen) {
  size_t pos = 0, part = 0;
  while (pos < len) {
    uint64_t tag, n;
    size_t at = pos;
    if (varint(d, len, &pos, &tag) != 0) {
      snprintf(err, errlen, "package: not a transfer package (unreadable at byte %zu)", at);
      return -1;
    }
    unsigned field = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
    if (wt == 0 && varint(d, len, &pos, &n) == 0) continue;
    if (wt != 2 || varint(d, len, &pos, &n) != 0) {
      snprintf(err, errlen, "package: not a transfer package (unexpected data at byte %zu)", at);
      return -1;
    }
    if (n > len - pos) {
      if (field == 4) {
        char *name = name_in(d + pos, len - pos);
        snprintf(err, errlen, "package.parts[%s]: truncated: the package ends inside it (part %zu)",
                 name ? name : "?", part + 1);
        free(name);
      } else {
        snprintf(err, errlen, "package.%s: truncated: the package ends inside it",
                 field == 1 ? "manifest" : field == 2 ? "signature" : field == 3 ? "key_id" : "?");
      }
      return -1;
    }
    pos += n;
    part += field == 4;
  }
  return 0;
}

static const trusted_key *trusted_by_id(const char *id) {
  for (size_t i = 0; i < n_trusted; i++)
    if (!strcmp(trusted[i].id, id)) return &trusted[i];
  return NULL;
}

int pkg_verify(const uint8_t *data, size_t len, Hoso__Transfers__V1__TransferPackage **out, json_t **manifest,
               char key_id[65], char *err, size_t errlen) {
  pthread_once(&once, load_keys);
  *out = NULL;
  *manifest = NULL;
  if (walk(data, len, err, errlen) != 0) return -1;
  Hoso__Transfers__V1__TransferPackage *pkg =
      (void *)protobuf_c_message_unpack(&hoso__transfers__v1__transfer_package__descriptor, NULL, len, data);
  if (!pkg) {
    snprintf(err, errlen, "package: not a transfer package");
    return -1;
  }
  int rc = -1;
  json_t *m = NULL;
  const trusted_key *k = trusted_by_id(pkg->key_id ? pkg->key_id : "");
  EVP_MD_CTX *md = NULL;
  if (!k) {
    snprintf(err, errlen, "package.key_id: signed by a deployment this one does not trust (key %.64s); its public key "
             "goes in HOSO_PACKAGE_TRUST", pkg->key_id ? pkg->key_id : "");
    goto out;
  }
  md = EVP_MD_CTX_new();
  if (!md || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->key) != 1 ||
      EVP_DigestVerify(md, pkg->signature.data, pkg->signature.len, pkg->manifest.data, pkg->manifest.len) != 1) {
    snprintf(err, errlen, "package.signature: does not match the manifest (the manifest was changed after signing, or "
             "another key signed it)");
    goto out;
  }
  json_error_t je;
  m = json_loadb((const char *)pkg->manifest.data, pkg->manifest.len, 0, &je);
  const char *format = m ? json_string_value(json_object_get(m, "format")) : NULL;
  json_t *list = m ? json_object_get(m, "parts") : NULL;
  if (!format || strcmp(format, PKG_FORMAT) != 0 || !json_is_array(list)) {
    snprintf(err, errlen, "package.manifest: not a manifest of %s", PKG_FORMAT);
    goto out;
  }
  /* Every part listed is there with its size and sum; nothing is there unlisted. */
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *e = json_array_get(list, i);
    const char *name = json_string_value(json_object_get(e, "name")), *sum = json_string_value(json_object_get(e, "sha256"));
    json_int_t size = json_integer_value(json_object_get(e, "size"));
    const Hoso__Transfers__V1__PackagePart *found = NULL;
    for (size_t j = 0; name && j < pkg->n_parts; j++)
      if (pkg->parts[j]->name && !strcmp(pkg->parts[j]->name, name)) found = pkg->parts[j];
    if (!name || !sum) {
      snprintf(err, errlen, "package.manifest: part %zu has no name or sum", i);
      goto out;
    }
    if (!found) {
      snprintf(err, errlen, "package.parts[%s]: missing (the manifest lists it)", name);
      goto out;
    }
    char got[65];
    pkg_sha256(found->content.data, found->content.len, got);
    if ((json_int_t)found->content.len != size) {
      snprintf(err, errlen, "package.parts[%s]: %zu bytes where the manifest says %lld (cut or changed)", name,
               found->content.len, (long long)size);
      goto out;
    }
    if (strcmp(got, sum) != 0) {
      snprintf(err, errlen, "package.parts[%s]: SHA-256 does not match the manifest (changed after signing)", name);
      goto out;
    }
  }
  if (pkg->n_parts != json_array_size(list)) {
    for (size_t j = 0; j < pkg->n_parts; j++) {
      int listed = 0;
      for (size_t i = 0; i < json_array_size(list); i++)
        listed |= !strcmp(json_string_value(json_object_get(json_array_get(list, i), "name")), pkg->parts[j]->name);
      if (!listed) {
        snprintf(err, errlen, "package.parts[%s]: not listed in the manifest", pkg->parts[j]->name);
        goto out;
      }
    }
    snprintf(err, errlen, "package.parts: a part is there twice");
    goto out;
  }
  rc = 0;
out:
  EVP_MD_CTX_free(md);
  if (rc == 0) {
    snprintf(key_id, 65, "%s", pkg->key_id);
    *manifest = m;
    *out = pkg;
  } else {
    json_decref(m);
    protobuf_c_message_free_unpacked(&pkg->base, NULL);
  }
  return rc;
}
