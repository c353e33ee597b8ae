/* Transfer packages (000 Đ9.3, 004 Đ9.2): named parts with a manifest of their sizes and SHA-256
 * sums, signed (ECDSA P-256, SHA-256) with the deployment's package key; the manifest made and
 * signed, and checked against the keys this deployment trusts. The file's framing, written and
 * read as a stream, is package_stream.h's. */
#ifndef HOSO_TRANSFERS_PACKAGE_H
#define HOSO_TRANSFERS_PACKAGE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define PKG_FORMAT "hoso-transfer-package/1"
#define PKG_ERR 512

/* A part as the manifest lists it. */
typedef struct {
  const char *name;     /* "record.pb", "attachments/9001/quyet-dinh.pdf" */
  const char *type;     /* media type, for people reading the manifest */
  long long size;
  char sha256[65];      /* hex */
  int seen;             /* (reading) the part came */
} pkg_entry;

/* The deployment's signing key, from HOSO_PACKAGE_KEY (a PEM file: an EC P-256 private key),
 * loaded once; its id is the SHA-256 of its public key (DER SubjectPublicKeyInfo), hex. 0, or
 * -1 with why in err (not configured, unreadable, not P-256). */
int pkg_key_id(char id[65], char *err, size_t errlen);

/* The manifest (JSON, compact, sorted keys) of `about` (an object, borrowed) and the parts in
 * their order in the package, and its signature with the deployment's key: *text and *sig
 * malloc'd (free both), kid the signer. 0, or -1 with why in err. */
int pkg_sign(json_t *about, const pkg_entry *parts, size_t n, char **text, uint8_t **sig, size_t *sig_len, char kid[65],
             char *err, size_t errlen);

/* A package's head checked: the signer among the trusted keys (this deployment's, and the PEM
 * public keys listed in HOSO_PACKAGE_TRUST), the signature over the manifest, the manifest's
 * format and its parts (each named, sized and summed, none twice). 0 with *out (its entries
 * point into out->json; pkg_manifest_free), or -1 with err naming what is wrong:
 * "package.signature: does not match the manifest (...)". */
typedef struct {
  pkg_entry *v;
  size_t n;
  json_t *json;
} pkg_manifest;
int pkg_manifest_check(const uint8_t *manifest, size_t mlen, const uint8_t *sig, size_t slen, const char *key_id,
                       pkg_manifest *out, char *err, size_t errlen);
/* The manifest's entry of part `name`, NULL when it lists none. */
pkg_entry *pkg_manifest_find(pkg_manifest *m, const char *name);
void pkg_manifest_free(pkg_manifest *m);

/* The SHA-256 of data, hex. */
void pkg_sha256(const void *data, size_t len, char out[65]);
/* A digest's 32 bytes as hex. */
void pkg_hex(const unsigned char md[32], char out[65]);

#endif
