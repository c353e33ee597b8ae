/* Transfer packages (000 Đ9.3, 004 Đ9.2): named parts with a manifest of their sizes and SHA-256
 * sums, signed (ECDSA P-256, SHA-256) with the deployment's package key; built, and verified
 * part by part so that a tampered or truncated package is refused naming the part. */
#ifndef HOSO_TRANSFERS_PACKAGE_H
#define HOSO_TRANSFERS_PACKAGE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "transfers.pb-c.h"

#define PKG_FORMAT "hoso-transfer-package/1"
#define PKG_ERR 512

typedef struct {
  const char *name;     /* "record.pb", "attachments/9001/quyet-dinh.pdf" */
  const uint8_t *data;
  size_t len;
  const char *type;     /* media type, for people reading the manifest */
} pkg_part;

/* The deployment's signing key, from HOSO_PACKAGE_KEY (a PEM file: an EC P-256 private key),
 * loaded once; its id is the SHA-256 of its public key (DER SubjectPublicKeyInfo), hex. 0, or
 * -1 with why in err (not configured, unreadable, not P-256). */
int pkg_key_id(char id[65], char *err, size_t errlen);

/* The package of parts, with `about` (a JSON object, borrowed) in its manifest: malloc'd bytes
 * in *out (free), their SHA-256 in sha (hex). 0, or -1 with why in err. */
int pkg_build(const pkg_part *parts, size_t n, json_t *about, uint8_t **out, size_t *out_len, char sha[65], char *err,
              size_t errlen);

/* A package checked: its framing (a truncated part is named), the signer among the trusted keys
 * (this deployment's, and the PEM public keys listed in HOSO_PACKAGE_TRUST), the signature over
 * the manifest, and every part against the manifest (missing, extra, size, SHA-256). On success
 * *out is the package (protobuf_c_message_free_unpacked), *manifest the parsed manifest
 * (json_decref) and key_id the signer's. 0, or -1 with err naming the part:
 * "package.parts[versions.pb]: SHA-256 does not match the manifest (changed after signing)". */
int pkg_verify(const uint8_t *data, size_t len, Hoso__Transfers__V1__TransferPackage **out, json_t **manifest,
               char key_id[65], char *err, size_t errlen);

/* The SHA-256 of data, hex. */
void pkg_sha256(const void *data, size_t len, char out[65]);

#endif
