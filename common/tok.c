/* Access tokens: roles, key generation, ES256 JWTs signed with libjwt, and checked here with
 * ES256 as the only algorithm (header pinned first, ECDSA by OpenSSL against the keyring's
 * parsed keys, tok_keyring.c). */
#include "tok_int.h"
#include "b64.h"

#include <jansson.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- roles ----------------------------------------------------------------------------- */

static const char *const role_names[] = {
    NULL, "SYSTEM_ADMIN", "UNIT_ADMIN", "UPDATER", "READER", "SELF", "SERVICE",
};
#define ROLE_COUNT ((int)(sizeof role_names / sizeof role_names[0]))

unsigned tok_role_bit(int role_enum) {
  if (role_enum < 1 || role_enum >= ROLE_COUNT) return 0;
  return 1u << role_enum;
}

const char *tok_role_name(unsigned bit) {
  for (int i = 1; i < ROLE_COUNT; i++)
    if (bit == 1u << i) return role_names[i];
  return NULL;
}

unsigned tok_role_from_name(const char *name) {
  if (!name) return 0;
  for (int i = 1; i < ROLE_COUNT; i++)
    if (strcmp(name, role_names[i]) == 0) return 1u << i;
  return 0;
}

static unsigned all_role_bits(void) {
  unsigned all = 0;
  for (int i = 1; i < ROLE_COUNT; i++) all |= 1u << i;
  return all;
}

/* --- key generation -------------------------------------------------------------------- */

static char *bio_to_string(BIO *b) {
  char *data = NULL;
  long len = BIO_get_mem_data(b, &data);
  if (len <= 0) return NULL;
  char *s = malloc((size_t)len + 1);
  if (!s) return NULL;
  memcpy(s, data, (size_t)len);
  s[len] = '\0';
  return s;
}

int tok_keygen(char **priv_pem, char **pub_pem) {
  int rc = -1;
  EVP_PKEY *pkey = NULL;
  BIO *bpriv = NULL, *bpub = NULL;
  char *priv = NULL, *pub = NULL;
  if (!priv_pem || !pub_pem) return -1;
  *priv_pem = *pub_pem = NULL;

  pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  if (!pkey) goto out;
  bpriv = BIO_new(BIO_s_mem());
  bpub = BIO_new(BIO_s_mem());
  if (!bpriv || !bpub) goto out;
  /* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY") in OpenSSL 3. */
  if (!PEM_write_bio_PrivateKey(bpriv, pkey, NULL, NULL, 0, NULL, NULL)) goto out;
  if (!PEM_write_bio_PUBKEY(bpub, pkey)) goto out;
  priv = bio_to_string(bpriv);
  pub = bio_to_string(bpub);
  if (!priv || !pub) goto out;
  *priv_pem = priv;
  *pub_pem = pub;
  priv = pub = NULL;
  rc = 0;
out:
  if (priv) OPENSSL_cleanse(priv, strlen(priv));
  free(priv);
  free(pub);
  BIO_free(bpriv);
  BIO_free(bpub);
  EVP_PKEY_free(pkey);
  return rc;
}

/* --- signing --------------------------------------------------------------------------- */

static int fits(const char *s, size_t cap) { return strnlen(s, cap) < cap; }

static int add_opt(jwt_t *j, const char *name, const char *val) {
  if (val[0] == '\0') return 0;
  return jwt_add_grant(j, name, val) ? -1 : 0;
}

int tok_sign(const tok_signer *key, const tok_claims *c, long long now, int ttl, char **out) {
  int rc = -1;
  jwt_t *j = NULL;
  json_t *roles = NULL, *wrap = NULL;
  char *roles_json = NULL;
  char jti[sizeof c->jti];
  if (!out) return -1;
  *out = NULL;
  if (!key || !key->private_pem || !c || ttl <= 0 || now <= 0) return -1;
  if (key->kid[0] == '\0' || !fits(key->kid, sizeof key->kid)) return -1;
  /* Every field must be terminated within its array: the struct comes from callers' code. */
  if (!fits(c->sub, sizeof c->sub) || !fits(c->username, sizeof c->username) ||
      !fits(c->unit_id, sizeof c->unit_id) || !fits(c->unit_path, sizeof c->unit_path) ||
      !fits(c->record_id, sizeof c->record_id) || !fits(c->scope, sizeof c->scope) ||
      !fits(c->jti, sizeof c->jti) || !fits(c->typ, sizeof c->typ))
    return -1;
  /* No default type: defaulting to "access" would silently promote a pwchange token. */
  if (strcmp(c->typ, TOK_TYP_ACCESS) != 0 && strcmp(c->typ, TOK_TYP_PWCHANGE) != 0) return -1;
  if (c->sub[0] == '\0' || (c->roles & ~all_role_bits()) != 0) return -1;

  if (c->jti[0] == '\0') {
    unsigned char rnd[16];
    if (RAND_bytes(rnd, sizeof rnd) != 1) return -1;
    for (size_t i = 0; i < sizeof rnd; i++) snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
  } else {
    memcpy(jti, c->jti, strlen(c->jti) + 1);
  }

  roles = json_array();
  if (!roles) goto out;
  for (int i = 1; i < ROLE_COUNT; i++)
    if ((c->roles & (1u << i)) && json_array_append_new(roles, json_string(role_names[i])))
      goto out;
  wrap = json_pack("{sO}", "roles", roles);
  if (!wrap) goto out;
  roles_json = json_dumps(wrap, JSON_COMPACT);
  if (!roles_json) goto out;

  if (jwt_new(&j)) goto out;
  if (jwt_add_grant(j, "iss", TOK_ISSUER) || jwt_add_grant(j, "aud", TOK_AUDIENCE) ||
      jwt_add_grant(j, "sub", c->sub) || jwt_add_grant(j, "typ", c->typ) ||
      jwt_add_grant(j, "jti", jti))
    goto out;
  if (add_opt(j, "name", c->username) || add_opt(j, "unit_id", c->unit_id) ||
      add_opt(j, "unit_path", c->unit_path) || add_opt(j, "rid", c->record_id) ||
      add_opt(j, "scp", c->scope))
    goto out;
  if (jwt_add_grant_int(j, "iat", (long)now) || jwt_add_grant_int(j, "nbf", (long)now) ||
      jwt_add_grant_int(j, "exp", (long)(now + ttl)) ||
      (c->gen > 0 && jwt_add_grant_int(j, "gen", (long)c->gen)))
    goto out;
  if (jwt_add_grants_json(j, roles_json)) goto out;
  if (jwt_add_header(j, "kid", key->kid) || jwt_add_header(j, "typ", "JWT")) goto out;
  if (jwt_set_alg(j, JWT_ALG_ES256, (const unsigned char *)key->private_pem,
                  (int)strlen(key->private_pem)))
    goto out;
  *out = jwt_encode_str(j);
  if (*out) rc = 0;
out:
  jwt_free(j);
  free(roles_json);
  json_decref(wrap);
  json_decref(roles);
  return rc;
}

/* --- verification ---------------------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *why) {
  if (err && errlen) snprintf(err, errlen, "%s", why);
  return -1;
}

/* Decodes one segment and parses it as a JSON object. Duplicate names are refused: two JSON
 * readers (ours, a client's) must never see different values in the same bytes. */
static json_t *segment_json(const char *seg, size_t n) {
  unsigned char buf[TOK_MAX_LEN];
  size_t len = 0;
  if (n == 0 || b64url_decode(seg, n, buf, sizeof buf, &len)) return NULL;
  json_t *o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
  if (o && !json_is_object(o)) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* Copies string claim `name` into dst; absent is fine unless required. Over-long values are
 * refused rather than cut: a truncated unit path would name a different (wider) unit. */
static int claim_str(json_t *p, const char *name, char *dst, size_t cap, int required) {
  json_t *v = json_object_get(p, name);
  dst[0] = '\0';
  if (!v) return required ? -1 : 0;
  if (!json_is_string(v)) return -1;
  size_t len = json_string_length(v);
  if (len >= cap || (required && len == 0)) return -1;
  memcpy(dst, json_string_value(v), len + 1);
  return 0;
}

static int claim_int(json_t *p, const char *name, long long *dst, int required) {
  json_t *v = json_object_get(p, name);
  *dst = 0;
  if (!v) return required ? -1 : 0;
  if (!json_is_integer(v)) return -1;
  *dst = json_integer_value(v);
  return 0;
}

static int aud_ok(json_t *aud) {
  if (json_is_string(aud)) return strcmp(json_string_value(aud), TOK_AUDIENCE) == 0;
  if (!json_is_array(aud)) return 0;
  size_t i;
  json_t *v;
  json_array_foreach(aud, i, v) {
    if (json_is_string(v) && strcmp(json_string_value(v), TOK_AUDIENCE) == 0) return 1;
  }
  return 0;
}

static const char *read_claims(json_t *p, long long now, tok_claims *c) {
  json_t *v;
  v = json_object_get(p, "iss");
  if (!json_is_string(v) || strcmp(json_string_value(v), TOK_ISSUER) != 0) return "wrong issuer";
  if (!aud_ok(json_object_get(p, "aud"))) return "wrong audience";
  if (claim_str(p, "typ", c->typ, sizeof c->typ, 1) ||
      (strcmp(c->typ, TOK_TYP_ACCESS) != 0 && strcmp(c->typ, TOK_TYP_PWCHANGE) != 0))
    return "wrong token type";
  if (claim_int(p, "exp", &c->exp, 1) || claim_int(p, "nbf", &c->nbf, 0) ||
      claim_int(p, "iat", &c->iat, 0) || claim_int(p, "gen", &c->gen, 0) || c->gen < 0)
    return "bad claims";
  if (now >= c->exp) return "expired";
  if (json_object_get(p, "nbf") && c->nbf > now + TOK_LEEWAY) return "not yet valid";
  if (json_object_get(p, "iat") && c->iat > now + TOK_LEEWAY) return "not yet valid";

  if (claim_str(p, "sub", c->sub, sizeof c->sub, 1) ||
      claim_str(p, "name", c->username, sizeof c->username, 0) ||
      claim_str(p, "unit_id", c->unit_id, sizeof c->unit_id, 0) ||
      claim_str(p, "unit_path", c->unit_path, sizeof c->unit_path, 0) ||
      claim_str(p, "rid", c->record_id, sizeof c->record_id, 0) ||
      claim_str(p, "scp", c->scope, sizeof c->scope, 0) ||
      claim_str(p, "jti", c->jti, sizeof c->jti, 1))
    return "bad claims";

  json_t *roles = json_object_get(p, "roles");
  if (!json_is_array(roles)) return "bad claims";
  size_t i;
  json_array_foreach(roles, i, v) {
    unsigned bit = json_is_string(v) ? tok_role_from_name(json_string_value(v)) : 0;
    if (!bit) return "bad claims";
    c->roles |= bit;
  }
  return NULL;
}

/* ECDSA P-256 with SHA-256 over msg, the signature in JWS form (r || s, 32 bytes each). This is
 * the only algorithm the check can run: nothing in the token can select another one. */
static int es256_verify(EVP_PKEY *pkey, const char *msg, size_t n,
                        const unsigned char sig[TOK_ES256_SIG_LEN]) {
  int ok = 0;
  ECDSA_SIG *es = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, 32, NULL);
  BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);
  unsigned char *der = NULL;
  EVP_MD_CTX *ctx = NULL;
  if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) goto out;
  r = s = NULL;  /* owned by es now */
  int derlen = i2d_ECDSA_SIG(es, &der);
  if (derlen <= 0) goto out;
  ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1) goto out;
  ok = EVP_DigestVerify(ctx, der, (size_t)derlen, (const unsigned char *)msg, n) == 1;
out:
  if (!ok) ERR_clear_error();  /* leave no stale errors on this thread's queue */
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(es);
  return ok;
}

int tok_verify(tok_keyring *kr, const char *token, long long now, tok_claims *out, char *err,
               size_t errlen) {
  int rc = -1;
  json_t *hdr = NULL, *payload = NULL;
  EVP_PKEY *pkey = NULL;
  char kid[64];
  unsigned char sig[TOK_ES256_SIG_LEN + 3];
  tok_claims c;
  const char *why;

  memset(&c, 0, sizeof c);
  if (out) memset(out, 0, sizeof *out);
  if (err && errlen) err[0] = '\0';
  if (!kr || !token || !out) return fail(err, errlen, "malformed");

  size_t len = strnlen(token, TOK_MAX_LEN + 1);
  if (len == 0 || len > TOK_MAX_LEN) return fail(err, errlen, "malformed");
  const char *d1 = memchr(token, '.', len);
  const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
  if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
    return fail(err, errlen, "malformed");

  /* The header decides nothing by itself: it only has to name exactly what we accept. */
  hdr = segment_json(token, (size_t)(d1 - token));
  if (!hdr) {
    why = "malformed";
    goto out;
  }
  json_t *alg = json_object_get(hdr, "alg");
  if (!json_is_string(alg) || strcmp(json_string_value(alg), "ES256") != 0) {
    why = "unsupported algorithm";
    goto out;
  }
  json_t *typ = json_object_get(hdr, "typ");
  json_t *jkid = json_object_get(hdr, "kid");
  /* crit names extensions we would have to understand; we understand none. */
  if (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0 ||
      !json_is_string(jkid) || json_string_length(jkid) == 0 ||
      json_string_length(jkid) >= sizeof kid || json_object_get(hdr, "crit")) {
    why = "malformed";
    goto out;
  }
  memcpy(kid, json_string_value(jkid), json_string_length(jkid) + 1);

  payload = segment_json(d1 + 1, (size_t)(d2 - d1 - 1));
  if (!payload) {
    why = "malformed";
    goto out;
  }
  size_t siglen = 0, sn = len - (size_t)(d2 + 1 - token);
  if (sn == 0 || b64url_decode(d2 + 1, sn, sig, sizeof sig, &siglen) ||
      siglen != TOK_ES256_SIG_LEN) {
    why = "bad signature";
    goto out;
  }

  pkey = tok__ring_lookup(kr, kid);
  if (!pkey) {
    tok__ring_maybe_refresh(kr, now);
    pkey = tok__ring_lookup(kr, kid);
    if (!pkey) {
      why = "unknown key";
      goto out;
    }
  }
  /* The signing input is the text of the first two segments, exactly as received. */
  if (!es256_verify(pkey, token, (size_t)(d2 - token), sig)) {
    why = "bad signature";
    goto out;
  }

  /* Claims come from our own decode of the payload bytes the signature covers. */
  why = read_claims(payload, now, &c);
  if (why) goto out;
  *out = c;
  rc = 0;
out:
  if (rc) fail(err, errlen, why);
  EVP_PKEY_free(pkey);
  json_decref(hdr);
  json_decref(payload);
  return rc;
}
