/* Unit tests of tok.c: ES256 signing and checking, the claims, the algorithm pin against the
 * classic JWT attacks, the keyring with refresh on an unknown kid, and key rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"

#define NOW 1700000000LL

typedef struct {
  char *priv1, *pub1, *priv2, *pub2;
} keys_t;

static keys_t K;

static int setup_keys(void **state) {
  (void)state;
  if (tok_keygen(&K.priv1, &K.pub1) || tok_keygen(&K.priv2, &K.pub2)) return -1;
  return 0;
}

static int teardown_keys(void **state) {
  (void)state;
  free(K.priv1);
  free(K.pub1);
  free(K.priv2);
  free(K.pub2);
  return 0;
}

static tok_claims sample_claims(void) {
  tok_claims c;
  memset(&c, 0, sizeof c);
  snprintf(c.sub, sizeof c.sub, "42");
  snprintf(c.username, sizeof c.username, "nguyen.van.an");
  snprintf(c.unit_id, sizeof c.unit_id, "17");
  snprintf(c.unit_path, sizeof c.unit_path, "1.4.17");
  snprintf(c.scope, sizeof c.scope, "1.4.17");
  snprintf(c.typ, sizeof c.typ, TOK_TYP_ACCESS);
  c.roles = ROLE_UPDATER | ROLE_READER;
  return c;
}

static char *sign_with(const char *priv, const char *kid, const tok_claims *c, long long now,
                       int ttl) {
  tok_signer s;
  memset(&s, 0, sizeof s);
  snprintf(s.kid, sizeof s.kid, "%s", kid);
  s.private_pem = priv;
  char *jwt = NULL;
  assert_int_equal(tok_sign(&s, c, now, ttl, &jwt), 0);
  assert_non_null(jwt);
  return jwt;
}

static tok_keyring *ring_with_k1(void) {
  tok_keyring *kr = tok_keyring_new(NULL, NULL);
  assert_non_null(kr);
  assert_int_equal(tok_keyring_add(kr, "k1", K.pub1), 0);
  return kr;
}

/* Verifies and returns the reason ("" on success). */
static const char *check(tok_keyring *kr, const char *jwt, long long now, tok_claims *out) {
  static char err[128];
  tok_claims tmp;
  int rc = tok_verify(kr, jwt, now, out ? out : &tmp, err, sizeof err);
  if (rc == 0) {
    assert_string_equal(err, "");
    return "";
  }
  assert_int_equal(rc, -1);
  assert_true(err[0] != '\0');
  return err;
}

/* --- hand-made tokens ------------------------------------------------------------------ */

static char *b64url(const void *data, size_t n) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const unsigned char *p = data;
  char *out = malloc(n * 4 / 3 + 4);
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    size_t rem = n - i;
    uint32_t v = (uint32_t)p[i] << 16;
    if (rem > 1) v |= (uint32_t)p[i + 1] << 8;
    if (rem > 2) v |= p[i + 2];
    out[o++] = a[(v >> 18) & 63];
    out[o++] = a[(v >> 12) & 63];
    if (rem > 1) out[o++] = a[(v >> 6) & 63];
    if (rem > 2) out[o++] = a[v & 63];
  }
  out[o] = '\0';
  return out;
}

static char *b64url_str(const char *s) { return b64url(s, strlen(s)); }

/* A valid, current payload as JSON text, for tokens built by hand. */
static const char *good_payload(void) {
  return "{\"iss\":\"hoso-identity\",\"aud\":\"hoso\",\"sub\":\"42\",\"typ\":\"access\","
         "\"jti\":\"j1\",\"roles\":[\"READER\"],\"scp\":\"1.4\",\"unit_path\":\"1.4\","
         "\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1700000900}";
}

/* ES256-signed with libjwt directly, so the payload can say things tok_sign never would. */
static char *sign_payload(const char *priv, const char *kid, const char *payload_json) {
  jwt_t *j = NULL;
  assert_int_equal(jwt_new(&j), 0);
  assert_int_equal(jwt_add_grants_json(j, payload_json), 0);
  if (kid) assert_int_equal(jwt_add_header(j, "kid", kid), 0);
  assert_int_equal(jwt_set_alg(j, JWT_ALG_ES256, (const unsigned char *)priv, (int)strlen(priv)),
                   0);
  char *s = jwt_encode_str(j);
  assert_non_null(s);
  jwt_free(j);
  return s;
}

static char *join3(const char *a, const char *b, const char *c) {
  size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
  char *s = malloc(n);
  snprintf(s, n, "%s.%s.%s", a, b, c);
  return s;
}

/* Splits a compact token into its three segments (malloc'd copies). */
static void split3(const char *token, char **h, char **p, char **s) {
  size_t a = strcspn(token, ".");
  size_t b = a + 1 + strcspn(token + a + 1, ".");
  *h = strndup(token, a);
  *p = strndup(token + a + 1, b - a - 1);
  *s = strdup(token + b + 1);
}

/* --- tests ----------------------------------------------------------------------------- */

static void test_roles_names(void **state) {
  (void)state;
  assert_int_equal(tok_role_bit(1), ROLE_SYSTEM_ADMIN);
  assert_int_equal(tok_role_bit(6), ROLE_SERVICE);
  assert_int_equal(tok_role_bit(0), 0);
  assert_int_equal(tok_role_bit(7), 0);
  assert_string_equal(tok_role_name(ROLE_UNIT_ADMIN), "UNIT_ADMIN");
  assert_null(tok_role_name(ROLE_UNIT_ADMIN | ROLE_READER));
  assert_null(tok_role_name(0));
  assert_int_equal(tok_role_from_name("SELF"), ROLE_SELF);
  assert_int_equal(tok_role_from_name("self"), 0);  /* the names are the contract, exactly */
  assert_int_equal(tok_role_from_name(NULL), 0);
}

static void test_sign_verify_ok(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  char *jwt = sign_with(K.priv1, "k1", &c, NOW, TOK_ACCESS_TTL);
  tok_claims out;
  assert_string_equal(check(kr, jwt, NOW + 10, &out), "");
  assert_string_equal(out.sub, "42");
  assert_int_equal(out.iat, NOW);
  assert_int_equal(out.nbf, NOW);
  assert_int_equal(out.exp, NOW + TOK_ACCESS_TTL);
  /* A jti was made up because none was given: 16 random bytes in hex. */
  assert_int_equal(strlen(out.jti), 32);
  /* The last second before exp is still good; exp itself is not. */
  assert_string_equal(check(kr, jwt, NOW + TOK_ACCESS_TTL - 1, NULL), "");
  assert_string_equal(check(kr, jwt, NOW + TOK_ACCESS_TTL, NULL), "expired");
  free(jwt);
  tok_keyring_free(kr);
}

static void test_claims_round_trip(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  snprintf(c.username, sizeof c.username, "Nguyễn Thị Ánh");
  c.roles = ROLE_SELF | ROLE_READER | ROLE_UNIT_ADMIN;
  snprintf(c.record_id, sizeof c.record_id, "900001");
  snprintf(c.scope, sizeof c.scope, "1.4.17,1.5");
  snprintf(c.jti, sizeof c.jti, "fixed-jti-1");
  snprintf(c.typ, sizeof c.typ, TOK_TYP_PWCHANGE);
  char *jwt = sign_with(K.priv1, "k1", &c, NOW, 60);
  tok_claims out;
  assert_string_equal(check(kr, jwt, NOW, &out), "");
  assert_string_equal(out.username, "Nguyễn Thị Ánh");
  assert_int_equal(out.roles, ROLE_SELF | ROLE_READER | ROLE_UNIT_ADMIN);
  assert_string_equal(out.record_id, "900001");
  assert_string_equal(out.scope, "1.4.17,1.5");
  assert_string_equal(out.jti, "fixed-jti-1");
  assert_string_equal(out.typ, TOK_TYP_PWCHANGE);
  assert_string_equal(out.unit_id, "17");
  assert_string_equal(out.unit_path, "1.4.17");
  free(jwt);

  /* SYSTEM_ADMIN with "*" and no roles besides: the array has one entry. */
  c = sample_claims();
  c.roles = ROLE_SYSTEM_ADMIN;
  snprintf(c.scope, sizeof c.scope, "*");
  jwt = sign_with(K.priv1, "k1", &c, NOW, 60);
  assert_string_equal(check(kr, jwt, NOW, &out), "");
  assert_int_equal(out.roles, ROLE_SYSTEM_ADMIN);
  assert_string_equal(out.scope, "*");
  free(jwt);
  tok_keyring_free(kr);
}

static void test_sign_refuses_bad_input(void **state) {
  (void)state;
  tok_signer s = {.kid = "k1", .private_pem = K.priv1};
  tok_claims c = sample_claims();
  char *jwt = (char *)"untouched";
  c.typ[0] = '\0';  /* no silent default to a full access token */
  assert_int_equal(tok_sign(&s, &c, NOW, 60, &jwt), -1);
  assert_null(jwt);
  c = sample_claims();
  c.sub[0] = '\0';
  assert_int_equal(tok_sign(&s, &c, NOW, 60, &jwt), -1);
  c = sample_claims();
  c.roles |= 1u << 9;
  assert_int_equal(tok_sign(&s, &c, NOW, 60, &jwt), -1);
  c = sample_claims();
  assert_int_equal(tok_sign(&s, &c, NOW, 0, &jwt), -1);
  s.private_pem = K.pub1;  /* a public key cannot sign */
  assert_int_equal(tok_sign(&s, &c, NOW, 60, &jwt), -1);
  assert_null(jwt);
}

static void test_expired(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  char *jwt = sign_with(K.priv1, "k1", &c, NOW - 1000, TOK_ACCESS_TTL);
  assert_string_equal(check(kr, jwt, NOW, NULL), "expired");
  free(jwt);
  tok_keyring_free(kr);
}

static void test_not_yet_valid(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  char *jwt = sign_with(K.priv1, "k1", &c, NOW + 100, TOK_ACCESS_TTL);
  assert_string_equal(check(kr, jwt, NOW, NULL), "not yet valid");
  /* 30 s of clock skew between identity and this service are forgiven. */
  assert_string_equal(check(kr, jwt, NOW + 70, NULL), "");
  assert_string_equal(check(kr, jwt, NOW + 69, NULL), "not yet valid");
  free(jwt);
  tok_keyring_free(kr);
}

static void test_wrong_claims(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  struct {
    const char *payload, *why;
  } cases[] = {
      {"{\"iss\":\"evil\",\"aud\":\"hoso\",\"sub\":\"1\",\"typ\":\"access\",\"jti\":\"j\","
       "\"roles\":[],\"exp\":1700000900}",
       "wrong issuer"},
      {"{\"aud\":\"hoso\",\"sub\":\"1\",\"typ\":\"access\",\"jti\":\"j\",\"roles\":[],"
       "\"exp\":1700000900}",
       "wrong issuer"},
      {"{\"iss\":\"hoso-identity\",\"aud\":\"other\",\"sub\":\"1\",\"typ\":\"access\","
       "\"jti\":\"j\",\"roles\":[],\"exp\":1700000900}",
       "wrong audience"},
      {"{\"iss\":\"hoso-identity\",\"aud\":[\"a\",\"b\"],\"sub\":\"1\",\"typ\":\"access\","
       "\"jti\":\"j\",\"roles\":[],\"exp\":1700000900}",
       "wrong audience"},
      {"{\"iss\":\"hoso-identity\",\"aud\":\"hoso\",\"sub\":\"1\",\"typ\":\"refresh\","
       "\"jti\":\"j\",\"roles\":[],\"exp\":1700000900}",
       "wrong token type"},
      {"{\"iss\":\"hoso-identity\",\"aud\":\"hoso\",\"sub\":\"1\",\"jti\":\"j\",\"roles\":[],"
       "\"exp\":1700000900}",
       "wrong token type"},
      /* exp is required: a token without it would never expire */
      {"{\"iss\":\"hoso-identity\",\"aud\":\"hoso\",\"sub\":\"1\",\"typ\":\"access\","
       "\"jti\":\"j\",\"roles\":[]}",
       "bad claims"},
      {"{\"iss\":\"hoso-identity\",\"aud\":\"hoso\",\"sub\":\"1\",\"typ\":\"access\","
       "\"jti\":\"j\",\"roles\":[],\"exp\":\"1700000900\"}",
       "bad claims"},
      {"{\"iss\":\"hoso-identity\",\"aud\":\"hoso\",\"typ\":\"access\",\"jti\":\"j\","
       "\"roles\":[],\"exp\":1700000900}",
       "bad claims"},
      {"{\"iss\":\"hoso-identity\",\"aud\":\"hoso\",\"sub\":\"1\",\"typ\":\"access\","
       "\"jti\":\"j\",\"roles\":[\"READER\",\"GOD\"],\"exp\":1700000900}",
       "bad claims"},
      {"{\"iss\":\"hoso-identity\",\"aud\":\"hoso\",\"sub\":\"1\",\"typ\":\"access\","
       "\"jti\":\"j\",\"roles\":\"READER\",\"exp\":1700000900}",
       "bad claims"},
      {"{\"iss\":\"hoso-identity\",\"aud\":\"hoso\",\"sub\":\"1\",\"typ\":\"access\","
       "\"jti\":\"j\",\"roles\":[],\"exp\":1700000900,\"iat\":1700000100}",
       "not yet valid"},
      /* aud as an array containing ours is fine */
      {"{\"iss\":\"hoso-identity\",\"aud\":[\"x\",\"hoso\"],\"sub\":\"1\",\"typ\":\"access\","
       "\"jti\":\"j\",\"roles\":[],\"exp\":1700000900}",
       ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *jwt = sign_payload(K.priv1, "k1", cases[i].payload);
    const char *why = check(kr, jwt, NOW, NULL);
    if (strcmp(why, cases[i].why) != 0) fail_msg("case %zu: got '%s', want '%s'", i, why, cases[i].why);
    free(jwt);
  }
  tok_keyring_free(kr);
}

static void test_overlong_claim_rejected(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  /* A unit_path longer than the struct holds is refused, not cut to a shorter (wider) path. */
  char path[700];
  memset(path, '1', sizeof path - 1);
  path[sizeof path - 1] = '\0';
  char payload[1200];
  snprintf(payload, sizeof payload,
           "{\"iss\":\"hoso-identity\",\"aud\":\"hoso\",\"sub\":\"1\",\"typ\":\"access\","
           "\"jti\":\"j\",\"roles\":[],\"exp\":1700000900,\"unit_path\":\"%s\"}",
           path);
  char *jwt = sign_payload(K.priv1, "k1", payload);
  assert_string_equal(check(kr, jwt, NOW, NULL), "bad claims");
  free(jwt);
  tok_keyring_free(kr);
}

static void test_alg_none(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  char *p = b64url_str(good_payload());
  /* The textbook form: {"alg":"none"} and an empty signature. */
  char *jwt = join3("eyJhbGciOiJub25lIn0", p, "");
  assert_string_equal(check(kr, jwt, NOW, NULL), "unsupported algorithm");
  free(jwt);
  /* With a kid we hold and typ JWT, and in other spellings. */
  const char *hdrs[] = {"{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
                        "{\"alg\":\"None\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
                        "{\"alg\":\"es256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
                        "{\"typ\":\"JWT\",\"kid\":\"k1\"}"};
  for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
    char *h = b64url_str(hdrs[i]);
    jwt = join3(h, p, "");
    assert_string_equal(check(kr, jwt, NOW, NULL), "unsupported algorithm");
    free(jwt);
    free(h);
  }
  free(p);
  tok_keyring_free(kr);
}

static int refresh_calls;

static int refresh_count_only(tok_keyring *kr, void *arg) {
  (void)kr;
  (void)arg;
  refresh_calls++;
  return 0;
}

static void test_hs256_with_public_key(void **state) {
  (void)state;
  refresh_calls = 0;
  tok_keyring *kr = tok_keyring_new(refresh_count_only, NULL);
  assert_int_equal(tok_keyring_add(kr, "k1", K.pub1), 0);
  /* The attacker knows the public key (GetPublicKeys publishes it) and uses its PEM text as
   * an HMAC secret. */
  jwt_t *j = NULL;
  assert_int_equal(jwt_new(&j), 0);
  assert_int_equal(jwt_add_grants_json(j, good_payload()), 0);
  assert_int_equal(jwt_add_header(j, "kid", "k1"), 0);
  assert_int_equal(jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)K.pub1,
                               (int)strlen(K.pub1)),
                   0);
  char *jwt = jwt_encode_str(j);
  jwt_free(j);
  assert_non_null(jwt);

  /* Why the pin matters: libjwt 1.x on its own accepts this forgery, because it verifies with
   * whatever algorithm the header names. */
  jwt_t *naive = NULL;
  int naive_rc = jwt_decode(&naive, jwt, (const unsigned char *)K.pub1, (int)strlen(K.pub1));
  jwt_free(naive);
  assert_int_equal(naive_rc, 0);

  assert_string_equal(check(kr, jwt, NOW, NULL), "unsupported algorithm");
  /* Rejected on the header alone: not even a key refresh was attempted. */
  assert_int_equal(refresh_calls, 0);
  free(jwt);
  tok_keyring_free(kr);
}

static void test_rs256_header(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  /* A real ES256 token whose header is swapped for one naming RS256 (and other algorithms). */
  tok_claims c = sample_claims();
  char *good = sign_with(K.priv1, "k1", &c, NOW, 60);
  char *h, *p, *s;
  split3(good, &h, &p, &s);
  const char *algs[] = {"RS256", "HS256", "ES384", "PS256", "ES256K"};
  for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
    char hdr[128];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"k1\"}", algs[i]);
    char *h2 = b64url_str(hdr);
    char *jwt = join3(h2, p, s);
    assert_string_equal(check(kr, jwt, NOW, NULL), "unsupported algorithm");
    free(jwt);
    free(h2);
  }
  free(h);
  free(p);
  free(s);
  free(good);
  tok_keyring_free(kr);
}

static void test_tampered_and_truncated(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  char *good = sign_with(K.priv1, "k1", &c, NOW, 60);
  char *h, *p, *s;
  split3(good, &h, &p, &s);

  /* The payload re-encoded with a wider scope, the signature kept. */
  char *p2 = b64url_str(good_payload());
  char *jwt = join3(h, p2, s);
  assert_string_equal(check(kr, jwt, NOW, NULL), "bad signature");
  free(jwt);
  free(p2);

  /* One signature character changed (kept canonical: 'A' <-> 'B' in the middle). */
  char *s2 = strdup(s);
  s2[10] = s2[10] == 'A' ? 'B' : 'A';
  jwt = join3(h, p, s2);
  assert_string_equal(check(kr, jwt, NOW, NULL), "bad signature");
  free(jwt);

  /* Truncated signature, and no signature at all. */
  s2[40] = '\0';
  jwt = join3(h, p, s2);
  assert_string_equal(check(kr, jwt, NOW, NULL), "bad signature");
  free(jwt);
  jwt = join3(h, p, "");
  assert_string_equal(check(kr, jwt, NOW, NULL), "bad signature");
  free(jwt);
  free(s2);

  /* r = s = 0, the degenerate signature some ECDSA checks have accepted. */
  char zero[87];
  memset(zero, 'A', 86);
  zero[86] = '\0';
  jwt = join3(h, p, zero);
  assert_string_equal(check(kr, jwt, NOW, NULL), "bad signature");
  free(jwt);

  /* A signature by another key under our kid. */
  char *other = sign_with(K.priv2, "k1", &c, NOW, 60);
  assert_string_equal(check(kr, other, NOW, NULL), "bad signature");
  free(other);

  free(h);
  free(p);
  free(s);
  free(good);
  tok_keyring_free(kr);
}

static void test_malformed(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  char *good = sign_with(K.priv1, "k1", &c, NOW, 60);
  char *h, *p, *s;
  split3(good, &h, &p, &s);
  assert_string_equal(check(kr, "", NOW, NULL), "malformed");
  assert_string_equal(check(kr, "abc", NOW, NULL), "malformed");
  assert_string_equal(check(kr, "a.b", NOW, NULL), "malformed");
  char *four = malloc(strlen(good) + 3);
  sprintf(four, "%s.x", good);
  assert_string_equal(check(kr, four, NOW, NULL), "malformed");
  free(four);

  const char *bad_hdrs[] = {
      "not json",
      "[\"ES256\"]",
      "{\"alg\":\"ES256\",\"kid\":\"k1\"}",                             /* no typ */
      "{\"alg\":\"ES256\",\"typ\":\"JOSE\",\"kid\":\"k1\"}",            /* other typ */
      "{\"alg\":\"ES256\",\"typ\":\"JWT\"}",                            /* no kid */
      "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":7}",                  /* kid not a string */
      "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"k1\",\"crit\":[\"b64\"]}",
      "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"k1\",\"kid\":\"k2\"}", /* duplicate name */
      "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\"}",
  };
  for (size_t i = 0; i < sizeof bad_hdrs / sizeof bad_hdrs[0]; i++) {
    char *h2 = b64url_str(bad_hdrs[i]);
    char *jwt = join3(h2, p, s);
    const char *why = check(kr, jwt, NOW, NULL);
    if (strcmp(why, "malformed") != 0) fail_msg("header %zu: got '%s'", i, why);
    free(jwt);
    free(h2);
  }
  /* Padding, standard-alphabet characters and a payload that is not an object. */
  char *hp = malloc(strlen(h) + 2);
  sprintf(hp, "%s=", h);
  char *jwt = join3(hp, p, s);
  assert_string_equal(check(kr, jwt, NOW, NULL), "malformed");
  free(jwt);
  free(hp);
  char *p2 = strdup(p);
  p2[3] = '+';
  jwt = join3(h, p2, s);
  assert_string_equal(check(kr, jwt, NOW, NULL), "malformed");
  free(jwt);
  free(p2);
  p2 = b64url_str("[1,2]");
  jwt = join3(h, p2, s);
  assert_string_equal(check(kr, jwt, NOW, NULL), "malformed");
  free(jwt);
  free(p2);

  tok_claims out;
  char err[8];  /* a short buffer still gets a terminated (cut) reason */
  assert_int_equal(tok_verify(kr, NULL, NOW, &out, err, sizeof err), -1);
  assert_string_equal(err, "malform");
  free(h);
  free(p);
  free(s);
  free(good);
  tok_keyring_free(kr);
}

/* --- keyring ---------------------------------------------------------------------------- */

static int refresh_adds_k2(tok_keyring *kr, void *arg) {
  (void)arg;
  refresh_calls++;
  const char *kids[] = {"k1", "k2"};
  const char *pems[] = {K.pub1, K.pub2};
  return tok_keyring_replace(kr, 2, kids, pems);
}

static void test_unknown_kid_refresh_adds(void **state) {
  (void)state;
  refresh_calls = 0;
  tok_keyring *kr = tok_keyring_new(refresh_adds_k2, NULL);
  assert_int_equal(tok_keyring_add(kr, "k1", K.pub1), 0);
  tok_claims c = sample_claims();
  char *jwt = sign_with(K.priv2, "k2", &c, NOW, 60);
  assert_string_equal(check(kr, jwt, NOW, NULL), "");
  assert_int_equal(refresh_calls, 1);
  assert_int_equal(tok_keyring_size(kr), 2);
  /* Known now: no further refresh. */
  assert_string_equal(check(kr, jwt, NOW, NULL), "");
  assert_int_equal(refresh_calls, 1);
  free(jwt);
  tok_keyring_free(kr);
}

static void test_unknown_kid_refresh_rate_limited(void **state) {
  (void)state;
  refresh_calls = 0;
  tok_keyring *kr = tok_keyring_new(refresh_count_only, NULL);
  assert_int_equal(tok_keyring_add(kr, "k1", K.pub1), 0);
  tok_claims c = sample_claims();
  char *a = sign_with(K.priv2, "nope-1", &c, NOW, 600);
  char *b = sign_with(K.priv2, "nope-2", &c, NOW, 600);
  assert_string_equal(check(kr, a, NOW, NULL), "unknown key");
  assert_int_equal(refresh_calls, 1);
  /* Another invented kid within 5 s must not reach identity again. */
  assert_string_equal(check(kr, b, NOW + 4, NULL), "unknown key");
  assert_int_equal(refresh_calls, 1);
  /* Five seconds later it may. */
  assert_string_equal(check(kr, b, NOW + 5, NULL), "unknown key");
  assert_int_equal(refresh_calls, 2);
  free(a);
  free(b);

  /* A ring without a refresh function simply says unknown key. */
  tok_keyring *bare = ring_with_k1();
  char *t = sign_with(K.priv2, "k2", &c, NOW, 60);
  assert_string_equal(check(bare, t, NOW, NULL), "unknown key");
  free(t);
  tok_keyring_free(bare);
  tok_keyring_free(kr);
}

static void test_key_rotation(void **state) {
  (void)state;
  tok_keyring *kr = tok_keyring_new(NULL, NULL);
  const char *kids[] = {"2024-01", "2024-02"};
  const char *pems[] = {K.pub1, K.pub2};
  assert_int_equal(tok_keyring_replace(kr, 2, kids, pems), 0);
  assert_int_equal(tok_keyring_size(kr), 2);
  tok_claims c = sample_claims();
  char *old = sign_with(K.priv1, "2024-01", &c, NOW, 900);
  char *cur = sign_with(K.priv2, "2024-02", &c, NOW, 900);
  assert_string_equal(check(kr, old, NOW + 1, NULL), "");
  assert_string_equal(check(kr, cur, NOW + 1, NULL), "");
  /* The old key retired: its tokens stop, the current one's keep working. */
  assert_int_equal(tok_keyring_replace(kr, 1, kids + 1, pems + 1), 0);
  assert_string_equal(check(kr, old, NOW + 1, NULL), "unknown key");
  assert_string_equal(check(kr, cur, NOW + 1, NULL), "");
  /* Re-adding a kid replaces its key: a token of the previous key under that kid fails. */
  assert_int_equal(tok_keyring_add(kr, "2024-02", K.pub1), 0);
  assert_int_equal(tok_keyring_size(kr), 1);
  assert_string_equal(check(kr, cur, NOW + 1, NULL), "bad signature");
  free(old);
  free(cur);
  tok_keyring_free(kr);
}

typedef struct {
  tok_keyring *kr;
  const char *jwt;
  int failures;
} verifier_arg;

static void *verifier(void *p) {
  verifier_arg *a = p;
  for (int i = 0; i < 300; i++) {
    tok_claims out;
    char err[64];
    if (tok_verify(a->kr, a->jwt, NOW, &out, err, sizeof err) != 0 || strcmp(out.sub, "42") != 0)
      a->failures++;
  }
  return NULL;
}

static void test_concurrent_verify_and_rotate(void **state) {
  (void)state;
  /* Verifiers hold a reference to the key they use, so a rotation that replaces the whole set
   * under them must neither free it mid-check nor make a valid token fail. */
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  char *jwt = sign_with(K.priv1, "k1", &c, NOW, 60);
  verifier_arg args[3];
  pthread_t th[3];
  for (int i = 0; i < 3; i++) {
    args[i] = (verifier_arg){kr, jwt, 0};
    assert_int_equal(pthread_create(&th[i], NULL, verifier, &args[i]), 0);
  }
  const char *kids[] = {"k1", "k2"};
  const char *pems[] = {K.pub1, K.pub2};
  for (int i = 0; i < 200; i++) {
    assert_int_equal(tok_keyring_replace(kr, 2, kids, pems), 0);
    assert_int_equal(tok_keyring_add(kr, "k1", K.pub1), 0);
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(args[i].failures, 0);
  }
  free(jwt);
  tok_keyring_free(kr);
}

static char *pem_of(EVP_PKEY *pk, int private) {
  BIO *b = BIO_new(BIO_s_mem());
  if (private)
    PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
  else
    PEM_write_bio_PUBKEY(b, pk);
  char *data;
  long n = BIO_get_mem_data(b, &data);
  char *s = strndup(data, (size_t)n);
  BIO_free(b);
  return s;
}

static void test_keyring_rejects_other_keys(void **state) {
  (void)state;
  tok_keyring *kr = tok_keyring_new(NULL, NULL);
  EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
  EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  assert_non_null(p384);
  assert_non_null(rsa);
  assert_non_null(ed);
  char *s384 = pem_of(p384, 0), *srsa = pem_of(rsa, 0), *sed = pem_of(ed, 0);
  assert_int_equal(tok_keyring_add(kr, "a", s384), -1);
  assert_int_equal(tok_keyring_add(kr, "a", srsa), -1);
  assert_int_equal(tok_keyring_add(kr, "a", sed), -1);
  assert_int_equal(tok_keyring_add(kr, "a", K.priv1), -1);  /* a private key is not published */
  assert_int_equal(tok_keyring_add(kr, "a", "garbage"), -1);
  assert_int_equal(tok_keyring_add(kr, "a", NULL), -1);
  assert_int_equal(tok_keyring_add(kr, "", K.pub1), -1);
  assert_int_equal(tok_keyring_add(kr, "has space", K.pub1), -1);
  assert_int_equal(tok_keyring_size(kr), 0);
  /* A bad key in a replacement set leaves the old set untouched. */
  assert_int_equal(tok_keyring_add(kr, "k1", K.pub1), 0);
  const char *kids[] = {"k2", "k3"};
  const char *pems[] = {K.pub2, srsa};
  assert_int_equal(tok_keyring_replace(kr, 2, kids, pems), -1);
  assert_int_equal(tok_keyring_size(kr), 1);
  const char *dup_kids[] = {"k2", "k2"};
  const char *dup_pems[] = {K.pub1, K.pub2};
  assert_int_equal(tok_keyring_replace(kr, 2, dup_kids, dup_pems), -1);
  assert_int_equal(tok_keyring_size(kr), 1);
  free(s384);
  free(srsa);
  free(sed);
  EVP_PKEY_free(p384);
  EVP_PKEY_free(rsa);
  EVP_PKEY_free(ed);
  tok_keyring_free(kr);
}

static void test_keygen_pem_forms(void **state) {
  (void)state;
  assert_non_null(strstr(K.priv1, "-----BEGIN PRIVATE KEY-----"));  /* PKCS#8 */
  assert_non_null(strstr(K.pub1, "-----BEGIN PUBLIC KEY-----"));    /* SubjectPublicKeyInfo */
  assert_string_not_equal(K.pub1, K.pub2);
}

/* Like check(), through the cache. */
static const char *check_cached(tok_keyring *kr, const char *jwt, long long now) {
  static char err[128];
  tok_claims out;
  if (tok_verify_cached(kr, jwt, now, &out, err, sizeof err) == 0) {
    /* A hit must hand back the claims of this token, not of another slot's. */
    assert_string_equal(out.sub, "42");
    return "";
  }
  return err;
}

static unsigned long long cache_hits(tok_keyring *kr) {
  unsigned long long h = 0;
  tok_keyring_cache_stats(kr, NULL, &h);
  return h;
}

static void test_cache_hit_then_expiry(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  char *jwt = sign_with(K.priv1, "k1", &c, NOW, 900);
  assert_string_equal(check_cached(kr, jwt, NOW + 1), "");
  assert_int_equal(cache_hits(kr), 0); /* the first check is a full one */
  assert_string_equal(check_cached(kr, jwt, NOW + 899), "");
  assert_int_equal(cache_hits(kr), 1); /* the second is answered by the cache */
  /* exp = NOW + 900 and the rule is now < exp: the cached entry must not outlive it. */
  assert_string_equal(check_cached(kr, jwt, NOW + 900), "expired");
  assert_string_equal(check_cached(kr, jwt, NOW + 5000), "expired");
  assert_int_equal(cache_hits(kr), 1);
  free(jwt);
  tok_keyring_free(kr);
}

static void test_cache_never_serves_tampered(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  char *jwt = sign_with(K.priv1, "k1", &c, NOW, 900);
  assert_string_equal(check_cached(kr, jwt, NOW + 1), "");
  assert_string_equal(check_cached(kr, jwt, NOW + 1), "");
  unsigned long long hits = cache_hits(kr);
  /* One byte changed anywhere (header, payload, signature) names another cache entry, so the
   * full check runs and refuses it. */
  size_t n = strlen(jwt);
  for (size_t i = 0; i + 1 < n; i += 7) { /* the last character carries padding bits */
    if (jwt[i] == '.') continue;
    char saved = jwt[i];
    jwt[i] = saved == 'A' ? 'B' : 'A';
    assert_string_not_equal(check_cached(kr, jwt, NOW + 1), "");
    jwt[i] = saved;
  }
  assert_int_equal(cache_hits(kr), hits);
  assert_string_equal(check_cached(kr, jwt, NOW + 1), "");
  free(jwt);
  tok_keyring_free(kr);
}

static void test_cache_follows_key_changes(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  char *jwt = sign_with(K.priv1, "k1", &c, NOW, 900);
  unsigned long long g0 = tok_keyring_generation(kr);
  assert_string_equal(check_cached(kr, jwt, NOW + 1), "");
  assert_string_equal(check_cached(kr, jwt, NOW + 1), "");
  /* k1 dropped from the ring: the cached entry predates the change and must not answer. */
  const char *kids[] = {"k2"};
  const char *pems[] = {K.pub2};
  assert_int_equal(tok_keyring_replace(kr, 1, kids, pems), 0);
  assert_true(tok_keyring_generation(kr) > g0);
  assert_string_equal(check_cached(kr, jwt, NOW + 1), "unknown key");
  /* k1 back with another key: the token's signature no longer matches. */
  assert_int_equal(tok_keyring_add(kr, "k1", K.pub2), 0);
  assert_string_equal(check_cached(kr, jwt, NOW + 1), "bad signature");
  free(jwt);
  tok_keyring_free(kr);
}

static void test_cache_bounded(void **state) {
  (void)state;
  tok_keyring *kr = ring_with_k1();
  tok_claims c = sample_claims();
  /* 2 000 distinct tokens (distinct jti) all verified: the cache keeps at most its 1 024
   * slots, and every token still verifies, evicted or not. */
  char *first = sign_with(K.priv1, "k1", &c, NOW, 900);
  assert_string_equal(check_cached(kr, first, NOW + 1), "");
  for (int i = 0; i < 2000; i++) {
    char *jwt = sign_with(K.priv1, "k1", &c, NOW, 900);
    assert_string_equal(check_cached(kr, jwt, NOW + 1), "");
    free(jwt);
  }
  size_t entries = 0;
  tok_keyring_cache_stats(kr, &entries, NULL);
  assert_true(entries > 0 && entries <= 1024);
  assert_string_equal(check_cached(kr, first, NOW + 1), "");
  free(first);
  tok_keyring_free(kr);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roles_names),
      cmocka_unit_test(test_keygen_pem_forms),
      cmocka_unit_test(test_sign_verify_ok),
      cmocka_unit_test(test_claims_round_trip),
      cmocka_unit_test(test_sign_refuses_bad_input),
      cmocka_unit_test(test_expired),
      cmocka_unit_test(test_not_yet_valid),
      cmocka_unit_test(test_wrong_claims),
      cmocka_unit_test(test_overlong_claim_rejected),
      cmocka_unit_test(test_alg_none),
      cmocka_unit_test(test_hs256_with_public_key),
      cmocka_unit_test(test_rs256_header),
      cmocka_unit_test(test_tampered_and_truncated),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_unknown_kid_refresh_adds),
      cmocka_unit_test(test_unknown_kid_refresh_rate_limited),
      cmocka_unit_test(test_key_rotation),
      cmocka_unit_test(test_concurrent_verify_and_rotate),
      cmocka_unit_test(test_keyring_rejects_other_keys),
      cmocka_unit_test(test_cache_hit_then_expiry),
      cmocka_unit_test(test_cache_never_serves_tampered),
      cmocka_unit_test(test_cache_follows_key_changes),
      cmocka_unit_test(test_cache_bounded),
  };
  return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
