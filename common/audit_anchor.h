/* Anchors of the audit chains outside the database: a checkpoint of every chain's head, signed
 * (Ed25519) with a key the database does not hold, appended to a file the database cannot
 * change; and reading such files back to check a log against them (hoso-audit-verify). */
#ifndef HOSO_AUDIT_ANCHOR_H
#define HOSO_AUDIT_ANCHOR_H

#include <stddef.h>
#include <stdint.h>
#include "db.h"

/* One chain's head as a checkpoint saw it, and where that checkpoint came from. */
typedef struct audit_anchor {
  int chain;
  int64_t seq;
  uint8_t hash[32];
  char at[40];  /* when the checkpoint was taken (RFC 3339 UTC) */
  int line;     /* its line in the file (1-based) */
} audit_anchor;

/* A loaded Ed25519 key (private to write, public or private to verify). */
typedef struct audit_anchor_key audit_anchor_key;
/* Reads a PEM key file. NULL with why (a line for a person) on failure. */
audit_anchor_key *audit_anchor_key_load(const char *path, char *why, size_t n);
void audit_anchor_key_free(audit_anchor_key *k);

/* One checkpoint line of `schema`, taken now: every chain's head read in the caller's
 * transaction, signed with k (which must hold the private key). One line, ending in '\n', as
 * "<payload JSON> <base64url signature>"; malloc'd, or NULL (db_err_* or a signing failure). */
char *audit_anchor_line(db_conn *c, const char *schema, audit_anchor_key *k);

/* Appends line to the file at path (created 0640), and makes it durable (fsync). 0, or -1 with
 * errno set. */
int audit_anchor_append(const char *path, const char *line);

/* Reads every checkpoint of `schema` from a file: each line's signature is checked with k, and
 * *out gets one audit_anchor per chain of each line (malloc'd, *n of them). 0 when every line
 * of the file verifies; 1 when one does not (a line altered or written without the key:
 * *bad_line names it, and the anchors before it are returned); -1 when the file cannot be read
 * (errno). */
int audit_anchor_read(const char *path, const char *schema, audit_anchor_key *k, audit_anchor **out, size_t *n,
                      int *bad_line);

/* Pure, for the reader and tests: checks one line's signature and parses it. 0 with *schema_out
 * (malloc'd) and the anchors (malloc'd, *n); -1 when the line is malformed or its signature
 * does not verify. */
int audit_anchor_parse(const char *line, audit_anchor_key *k, char **schema_out, audit_anchor **out, size_t *n);

#endif
