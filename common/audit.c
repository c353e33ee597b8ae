/* The audit log writer and verifier: rows chained by SHA-256, appended in the caller's
 * transaction behind a lock on the chain's head row, and re-checked row by row. */
#include "audit.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_anchor.h"
#include "log.h"

/* The hashed fields, in the order they are hashed. NULL is hashed (and stored) as "", except
 * detail whose NULL means the empty object "{}". Changing this order breaks every chain. */
static void entry_fields(const audit_entry *e, const char *f[10]) {
  f[0] = e->actor_id;
  f[1] = e->actor_name;
  f[2] = e->action;
  f[3] = e->target_type;
  f[4] = e->target_id;
  f[5] = e->unit_path;
  f[6] = e->outcome;
  f[7] = e->client_addr;
  f[8] = e->request_id;
  f[9] = e->detail_json;
  for (int i = 0; i < 9; i++)
    if (!f[i]) f[i] = "";
  if (!f[9]) f[9] = "{}";
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* SHA-256 over: prev (32 bytes) || seq (8 bytes, big-endian, two's complement) || then for
 * `at` and each field of entry_fields in order: length (4 bytes, big-endian) || bytes. The
 * length prefixes make the encoding unambiguous ("ab","c" differs from "a","bc"). */
void audit_row_hash(const uint8_t prev[32], int64_t seq, const char *at, const audit_entry *e,
                    uint8_t out[32]) {
  const char *f[11];
  f[0] = at ? at : "";
  entry_fields(e, f + 1);
  uint8_t seqb[8];
  uint64_t u = (uint64_t)seq;
  for (int i = 7; i >= 0; i--) {
    seqb[i] = (uint8_t)u;
    u >>= 8;
  }
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned len = 0;
  int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, prev, 32) &&
           EVP_DigestUpdate(md, seqb, 8);
  for (int i = 0; ok && i < 11; i++) {
    size_t n = strlen(f[i]);
    uint8_t lb[4];
    put_be32(lb, (uint32_t)n);
    ok = EVP_DigestUpdate(md, lb, 4) && EVP_DigestUpdate(md, f[i], n);
  }
  ok = ok && EVP_DigestFinal_ex(md, out, &len) && len == 32;
  /* out of memory inside OpenSSL: a zero hash never matches, so the failure is not silent */
  if (!ok) memset(out, 0, 32);
  EVP_MD_CTX_free(md);
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* 0 when s is exactly 64 hex digits, decoded into out. */
static int from_hex32(const char *s, uint8_t out[32]) {
  if (strlen(s) != 64) return -1;
  for (int i = 0; i < 32; i++) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

/* One statement: audit_append (common migrations 003, 005) locks the chain's head, inserts the
 * row with the same hash audit_row_hash would give (the verifier below re-checks it) and moves
 * the head. */
void audit_at_now(char out[40]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[80]; /* room for any int the compiler imagines; the result is 27 bytes */
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
  snprintf(out, 40, "%.39s", buf);
}

int audit_write(db_conn *c, const audit_entry *e) {
  char chain[8];
  snprintf(chain, sizeof chain, "%d", db_audit_chain(c));
  char at[40]; /* produced once, stored exactly as hashed */
  audit_at_now(at);

  const char *f[10];
  entry_fields(e, f);
  const char *params[12] = {chain, at, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]};
  /* Nothing is read back, so the row goes out with the transaction's next statement or its
   * COMMIT (db_cmd_later): a failure still fails the transaction, one round trip fewer. */
  return db_cmd_later(c,
                      "SELECT audit_append($1::smallint, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                      "$11, $12)",
                      12, params);
}

/* --- verification ------------------------------------------------------------------------ */

#define VERIFY_BATCH "1000"

typedef struct {
  const char *schema;
  int64_t rows, bad;
  int broken, bad_chain;
  const audit_anchor *anchors; /* signed checkpoints, any order */
  size_t n_anchors;
  const audit_anchor *bad_anchor;
} verify_state;

/* The first checkpoint of `chain` that disagrees with the row at seq (stored hash), or NULL. */
static const audit_anchor *anchor_mismatch(const verify_state *st, int chain, int64_t seq, const uint8_t hash[32],
                                           int64_t *vouched) {
  for (size_t i = 0; i < st->n_anchors; i++) {
    const audit_anchor *a = &st->anchors[i];
    if (a->chain != chain || a->seq != seq) continue;
    if (memcmp(a->hash, hash, 32) != 0) return a;
    if (seq > *vouched) *vouched = seq;
  }
  return NULL;
}

static int verify_chain(db_conn *c, verify_state *st, int chain);

/* Reads the log in batches by seq (a million rows never sit in memory at once) inside one
 * REPEATABLE READ snapshot, so rows committed meanwhile cannot make the walk inconsistent. */
static int verify_tx(db_conn *c, void *arg) {
  verify_state *st = arg;
  st->rows = 0;
  st->bad = 0;
  st->broken = 0;
  st->bad_anchor = NULL;
  PGresult *r = db_q(c,
                     "SELECT to_regclass(quote_ident($1) || '.audit_log') IS NOT NULL, "
                     "to_regclass(quote_ident($1) || '.audit_head') IS NOT NULL, "
                     "set_config('search_path', quote_ident($1) || ', public', true)",
                     1, st->schema);
  if (!r) return -1;
  int exists = !strcmp(PQgetvalue(r, 0, 0), "t") && !strcmp(PQgetvalue(r, 0, 1), "t");
  PQclear(r);
  if (!exists) {
    log_error("audit_verify: schema %s has no audit log", st->schema);
    return DB_TX_ROLLBACK;
  }

  for (int chain = 1; chain <= DB_AUDIT_CHAINS; chain++) {
    int rc = verify_chain(c, st, chain);
    if (rc != 0 || st->broken) {
      if (st->broken) st->bad_chain = chain;
      return rc;
    }
  }
  return 0;
}

/* One chain: rows 1..n linked by prev_hash, each hash recomputed, and the head naming the last. */
static int verify_chain(db_conn *c, verify_state *st, int chain) {
  PGresult *r;
  char chs[8];
  snprintf(chs, sizeof chs, "%d", chain);
  int64_t rows = 0, vouched = 0; /* vouched: the last row a matching checkpoint names */
  uint8_t prev[32] = {0};
  int64_t expect = 1;
  for (;;) {
    char after[24];
    snprintf(after, sizeof after, "%" PRId64, expect - 1);
    r = db_q(c,
             "SELECT seq, at, actor_id, actor_name, action, target_type, target_id, unit_path, "
             "outcome, client_addr, request_id, detail, encode(prev_hash, 'hex'), "
             "encode(hash, 'hex') FROM audit_log WHERE chain = $2::smallint AND seq > $1::bigint "
             "ORDER BY seq LIMIT " VERIFY_BATCH,
             2, after, chs);
    if (!r) return -1;
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
      int64_t seq = strtoll(PQgetvalue(r, i, 0), NULL, 10);
      audit_entry e = {
          .actor_id = PQgetvalue(r, i, 2),
          .actor_name = PQgetvalue(r, i, 3),
          .action = PQgetvalue(r, i, 4),
          .target_type = PQgetvalue(r, i, 5),
          .target_id = PQgetvalue(r, i, 6),
          .unit_path = PQgetvalue(r, i, 7),
          .outcome = PQgetvalue(r, i, 8),
          .client_addr = PQgetvalue(r, i, 9),
          .request_id = PQgetvalue(r, i, 10),
          .detail_json = PQgetvalue(r, i, 11),
      };
      uint8_t stored_prev[32], stored[32], computed[32];
      int ok = seq == expect && from_hex32(PQgetvalue(r, i, 12), stored_prev) == 0 &&
               from_hex32(PQgetvalue(r, i, 13), stored) == 0 &&
               memcmp(stored_prev, prev, 32) == 0;
      if (ok) {
        audit_row_hash(prev, seq, PQgetvalue(r, i, 1), &e, computed);
        ok = memcmp(computed, stored, 32) == 0;
      }
      if (!ok) {
        st->broken = 1;
        st->bad = seq;
        PQclear(r);
        return 0;
      }
      /* A chain that is whole but not the one a checkpoint saw was rewritten after the last
       * row a checkpoint vouches for. */
      const audit_anchor *a = st->n_anchors ? anchor_mismatch(st, chain, seq, stored, &vouched) : NULL;
      if (a) {
        st->broken = 1;
        st->bad = vouched + 1;
        st->bad_anchor = a;
        PQclear(r);
        return 0;
      }
      memcpy(prev, stored, 32);
      st->rows++;
      rows++;
      expect++;
    }
    PQclear(r);
    if (n < atoi(VERIFY_BATCH)) break;
  }

  /* The chain alone cannot show rows cut off its end: the head row written with each append
   * must name the last row. */
  r = db_q(c, "SELECT seq, encode(hash, 'hex') FROM audit_head WHERE id = $1::int", 1, chs);
  if (!r) return -1;
  uint8_t head[32] = {0};
  int64_t head_seq = -1;
  if (PQntuples(r) == 1 && from_hex32(PQgetvalue(r, 0, 1), head) == 0)
    head_seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  /* Rows a checkpoint saw that are gone (the head moved back with them). */
  for (size_t i = 0; i < st->n_anchors; i++) {
    const audit_anchor *a = &st->anchors[i];
    if (a->chain == chain && a->seq > rows && (!st->bad_anchor || a->seq < st->bad_anchor->seq)) {
      st->broken = 1;
      st->bad = rows + 1;
      st->bad_anchor = a;
    }
  }
  if (st->broken) return 0;
  if (head_seq != rows || memcmp(head, prev, 32) != 0) {
    st->broken = 1;
    if (head_seq > rows)
      st->bad = rows + 1; /* rows missing after the last one */
    else if (head_seq >= 0 && head_seq < rows)
      st->bad = head_seq + 1; /* rows appended behind the writer's back */
    else
      st->bad = rows > 0 ? rows : 1; /* the head no longer names the last row */
  }
  return 0;
}

int audit_verify_anchored(db_conn *c, const char *schema, const audit_anchor *anchors, size_t n_anchors,
                          int64_t *rows, int *bad_chain, int64_t *bad_seq, const audit_anchor **bad_anchor) {
  verify_state st = {.schema = schema, .anchors = anchors, .n_anchors = n_anchors};
  int rc = db_tx(c, DB_REPEATABLE_READ, "*", "audit-verify", verify_tx, &st);
  if (rows) *rows = st.rows;
  if (bad_seq) *bad_seq = st.bad;
  if (bad_chain) *bad_chain = st.bad_chain;
  if (bad_anchor) *bad_anchor = st.broken ? st.bad_anchor : NULL;
  if (rc != 0) return -1;
  return st.broken ? 1 : 0;
}

int audit_verify_ex(db_conn *c, const char *schema, int64_t *rows, int *bad_chain, int64_t *bad_seq) {
  return audit_verify_anchored(c, schema, NULL, 0, rows, bad_chain, bad_seq, NULL);
}

int audit_verify(db_conn *c, const char *schema, int64_t *rows, int64_t *bad_seq) {
  return audit_verify_ex(c, schema, rows, NULL, bad_seq);
}
