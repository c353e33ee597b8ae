/* Append-only audit log, one table per service schema (<schema>.audit_log), each row chained
 * by SHA-256 to the previous one and written inside the caller's transaction. */
#ifndef HOSO_AUDIT_H
#define HOSO_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include "db.h"

typedef struct {
  const char *actor_id;    /* account id or service client id; "" for anonymous (failed login) */
  const char *actor_name;  /* username as typed/known, for people reading the log */
  const char *action;      /* e.g. "LOGIN", "LOGIN_FAILED", "ACCOUNT_CREATE", "RECORD_READ" */
  const char *target_type; /* "account", "unit", "record", ... */
  const char *target_id;
  const char *unit_path;   /* unit the target belongs to, for scoped audit queries */
  const char *outcome;     /* "ok" or a short reason ("bad_password", "locked") */
  const char *client_addr;
  const char *request_id;
  const char *detail_json; /* a JSON object with the specifics (diff, reason); NULL: {} */
} audit_entry;

/* Appends one row to the audit_log of the connection's schema, in the current transaction
 * (call it inside db_tx), on the connection's chain (db_audit_chain), holding that chain's
 * head row until commit so the chain stays linear.
 * 0 or -1 (db_err_* tells why; the caller's transaction then fails as a whole). */
int audit_write(db_conn *c, const audit_entry *e);

/* The time of a row as stored and hashed: RFC 3339 UTC with microseconds. */
void audit_at_now(char out[40]);

/* The canonical hash of one row: SHA-256 over prev_hash (32 bytes) followed by the row's
 * fields, each length-prefixed, in a fixed order (seq, at, and the audit_entry fields). Pure;
 * shared by the writer and the verifier. */
void audit_row_hash(const uint8_t prev[32], int64_t seq, const char *at, const audit_entry *e,
                    uint8_t out[32]);

/* Walks every chain of <schema>.audit_log (db.h: DB_AUDIT_CHAINS of them, each with its own
 * seq from 1) and recomputes it. Returns 0 if all are intact, 1 if one is broken (*bad_chain
 * and *bad_seq name its first bad row), -1 on database error. *rows: rows checked in all. */
int audit_verify_ex(db_conn *c, const char *schema, int64_t *rows, int *bad_chain, int64_t *bad_seq);

/* audit_verify_ex, and each row that a signed checkpoint (audit_anchor.h) names must hold the
 * hash the checkpoint saw, and the rows it names must still be there. A rewritten tail (rows
 * re-hashed and the head moved, which the chain alone cannot show) breaks at the first row no
 * matching checkpoint vouches for; a deleted tail at the first missing row; *bad_anchor (may be
 * NULL) then points to the checkpoint that shows it (NULL when the chain itself is broken). */
struct audit_anchor;
int audit_verify_anchored(db_conn *c, const char *schema, const struct audit_anchor *anchors, size_t n_anchors,
                          int64_t *rows, int *bad_chain, int64_t *bad_seq, const struct audit_anchor **bad_anchor);

/* Walks <schema>.audit_log in seq order and recomputes the chain. Returns 0 if intact,
 * 1 if broken (then *bad_seq is the first row whose hash does not match or whose seq breaks
 * the sequence), -1 on database error. *rows gets the number of rows checked. */
int audit_verify(db_conn *c, const char *schema, int64_t *rows, int64_t *bad_seq);

#endif
