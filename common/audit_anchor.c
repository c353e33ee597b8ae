/* Signed checkpoints of the audit chains' heads (audit_anchor.h): made from the heads in the
 * database, signed with Ed25519, appended to a file; read back and checked by the verifier. */
#include "audit_anchor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "b64.h"

struct audit_anchor_key {
  EVP_PKEY *pkey;
};

audit_anchor_key *audit_anchor_key_load(const char *path, char *why, size_t n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(why, n, "%s: %s", path, strerror(errno));
    return NULL;
  }
  EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  if (!pk) {
    rewind(f);
    pk = PEM_read_PUBKEY(f, NULL, NULL, NULL);
  }
  fclose(f);
  if (!pk || EVP_PKEY_id(pk) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(pk);
    snprintf(why, n, "%s: not an Ed25519 key in PEM (openssl genpkey -algorithm ed25519)", path);
    return NULL;
  }
  audit_anchor_key *k = calloc(1, sizeof *k);
  if (!k) {
    EVP_PKEY_free(pk);
    snprintf(why, n, "out of memory");
    return NULL;
  }
  k->pkey = pk;
  return k;
}

void audit_anchor_key_free(audit_anchor_key *k) {
  if (!k) return;
  EVP_PKEY_free(k->pkey);
  free(k);
}

static int from_hex(const char *s, uint8_t *out, size_t n) {
  if (strlen(s) != 2 * n) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return 0;
}

char *audit_anchor_line(db_conn *c, const char *schema, audit_anchor_key *k) {
  PGresult *r = db_q(c, "SELECT id, seq, encode(hash, 'hex') FROM audit_head ORDER BY id", 0);
  if (!r) return NULL;
  char at[40];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_t *heads = json_array();
  for (int i = 0; i < PQntuples(r); i++)
    json_array_append_new(heads, json_pack("[i,I,s]", atoi(PQgetvalue(r, i, 0)),
                                           (json_int_t)strtoll(PQgetvalue(r, i, 1), NULL, 10), PQgetvalue(r, i, 2)));
  PQclear(r);
  json_t *o = json_pack("{s:i,s:s,s:s,s:o}", "v", 1, "schema", schema, "at", at, "heads", heads);
  char *payload = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(o);
  char *line = NULL;
  unsigned char sig[64];
  size_t siglen = sizeof sig;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (payload && md && EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
      EVP_DigestSign(md, sig, &siglen, (const unsigned char *)payload, strlen(payload)) == 1) {
    char s64[B64URL_ENCODED_SIZE(64)];
    b64url_encode(sig, siglen, s64, sizeof s64);
    size_t len = strlen(payload) + strlen(s64) + 3;
    if ((line = malloc(len))) snprintf(line, len, "%s %s\n", payload, s64);
  }
  EVP_MD_CTX_free(md);
  free(payload);
  return line;
}

int audit_anchor_append(const char *path, const char *line) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return -1;
  size_t len = strlen(line);
  ssize_t w = write(fd, line, len);
  int rc = 0, err = 0;
  if (w != (ssize_t)len) {
    rc = -1;
    err = w < 0 ? errno : EIO;
  } else if (fsync(fd) != 0) {
    rc = -1;
    err = errno;
  }
  close(fd);
  if (rc) errno = err;
  return rc;
}

int audit_anchor_parse(const char *line, audit_anchor_key *k, char **schema_out, audit_anchor **out, size_t *n) {
  *out = NULL;
  *n = 0;
  *schema_out = NULL;
  const char *sp = strrchr(line, ' ');
  if (!sp || sp == line) return -1;
  size_t plen = (size_t)(sp - line);
  const char *s64 = sp + 1;
  size_t slen = strcspn(s64, "\r\n");
  unsigned char sig[64];
  size_t siglen = 0;
  if (b64url_decode(s64, slen, sig, sizeof sig, &siglen) != 0 || siglen != 64) return -1;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
           EVP_DigestVerify(md, sig, siglen, (const unsigned char *)line, plen) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) return -1;
  json_error_t e;
  json_t *o = json_loadb(line, plen, 0, &e);
  json_t *heads = o ? json_object_get(o, "heads") : NULL;
  const char *schema = o ? json_string_value(json_object_get(o, "schema")) : NULL;
  const char *at = o ? json_string_value(json_object_get(o, "at")) : NULL;
  int rc = -1;
  if (!schema || !at || !json_is_array(heads) || json_integer_value(json_object_get(o, "v")) != 1) goto done;
  size_t m = json_array_size(heads);
  audit_anchor *a = calloc(m ? m : 1, sizeof *a);
  if (!a) goto done;
  for (size_t i = 0; i < m; i++) {
    json_t *h = json_array_get(heads, i);
    const char *hex = json_string_value(json_array_get(h, 2));
    if (!json_is_integer(json_array_get(h, 0)) || !json_is_integer(json_array_get(h, 1)) || !hex ||
        from_hex(hex, a[i].hash, 32) != 0) {
      free(a);
      goto done;
    }
    a[i].chain = (int)json_integer_value(json_array_get(h, 0));
    a[i].seq = (int64_t)json_integer_value(json_array_get(h, 1));
    snprintf(a[i].at, sizeof a[i].at, "%s", at);
  }
  *schema_out = strdup(schema);
  *out = a;
  *n = m;
  rc = 0;
done:
  json_decref(o);
  return rc;
}

int audit_anchor_read(const char *path, const char *schema, audit_anchor_key *k, audit_anchor **out, size_t *n,
                      int *bad_line) {
  *out = NULL;
  *n = 0;
  *bad_line = 0;
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char *line = NULL;
  size_t cap = 0, have = 0, room = 0;
  audit_anchor *all = NULL;
  int rc = 0;
  for (int no = 1; getline(&line, &cap, f) > 0; no++) {
    char *sc = NULL;
    audit_anchor *a = NULL;
    size_t m = 0;
    if (audit_anchor_parse(line, k, &sc, &a, &m) != 0) {
      *bad_line = no;
      rc = 1;
      break;
    }
    if (strcmp(sc, schema) == 0) {
      if (have + m > room) {
        room = (have + m) * 2;
        audit_anchor *na = realloc(all, room * sizeof *na);
        if (!na) {
          free(a);
          free(sc);
          rc = -1;
          errno = ENOMEM;
          break;
        }
        all = na;
      }
      for (size_t i = 0; i < m; i++) {
        a[i].line = no;
        all[have++] = a[i];
      }
    }
    free(a);
    free(sc);
  }
  free(line);
  fclose(f);
  *out = all;
  *n = have;
  return rc;
}
