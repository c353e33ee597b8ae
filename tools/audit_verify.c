/* hoso-audit-verify: recomputes the SHA-256 chains of one service schema's audit log, checks them
 * against the signed checkpoints written outside the database, and names the first bad row.
 * Exit 0 intact, 1 broken, 2 when the check could not be made. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_anchor.h"
#include "cfg.h"
#include "db.h"
#include "log.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: hoso-audit-verify [--dsn DSN] --schema SCHEMA [--checkpoints FILE]... [--checkpoint-key PEM]\n"
          "  Verifies the hash chains of SCHEMA.audit_log (e.g. --schema identity) and, given the\n"
          "  checkpoint files the services append to (HOSO_AUDIT_CHECKPOINT_FILE) and the key that\n"
          "  signs them (its public half, or HOSO_AUDIT_CHECKPOINT_KEY), that the log still holds every\n"
          "  row a checkpoint saw, unchanged. DSN defaults to $HOSO_PG_DSN.\n"
          "  Exit 0 intact, 1 broken, 2 error.\n");
}

/* A tampered row may hold anything: never let it drive the terminal. */
static void print_clean(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
}

int main(int argc, char **argv) {
  const char *dsn = cfg_str("HOSO_PG_DSN", "");
  const char *schema = NULL, *key_path = NULL;
  const char *files[8];
  int n_files = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--checkpoints") && i + 1 < argc && n_files < 8) {
      files[n_files++] = argv[++i];
    } else if (!strcmp(a, "--checkpoint-key") && i + 1 < argc) {
      key_path = argv[++i];
    } else if ((!strcmp(a, "--dsn") || !strcmp(a, "--schema")) && i + 1 < argc) {
      if (!strcmp(a, "--dsn"))
        dsn = argv[++i];
      else
        schema = argv[++i];
    } else if (!strncmp(a, "--dsn=", 6)) {
      dsn = a + 6;
    } else if (!strncmp(a, "--schema=", 9)) {
      schema = a + 9;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "hoso-audit-verify: unexpected argument '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (!schema || !*schema) {
    usage(stderr);
    return 2;
  }
  if (n_files && !key_path) {
    fprintf(stderr, "hoso-audit-verify: --checkpoints needs --checkpoint-key (the key that signs them)\n");
    return 2;
  }
  /* the result is the printed line; routine db chatter would only bury it */
  setenv("HOSO_LOG_LEVEL", "warn", 0);
  log_init("audit-verify");

  int rc = 2;
  PGresult *r = NULL;
  audit_anchor *anchors = NULL;
  size_t n_anchors = 0;
  audit_anchor_key *key = NULL;
  db_conn *c = NULL;
  if (n_files) {
    char why[512];
    if (!(key = audit_anchor_key_load(key_path, why, sizeof why))) {
      fprintf(stderr, "hoso-audit-verify: --checkpoint-key %s\n", why);
      return 2;
    }
    for (int f = 0; f < n_files; f++) {
      audit_anchor *a = NULL;
      size_t m = 0;
      int bad_line = 0, v = audit_anchor_read(files[f], schema, key, &a, &m, &bad_line);
      if (v < 0) {
        fprintf(stderr, "hoso-audit-verify: %s: %s\n", files[f], strerror(errno));
        free(a);
        goto out;
      }
      if (v == 1) {
        printf("checkpoint file %s broken at line %d: its signature does not verify (altered, or not written "
               "with the audit key)\n", files[f], bad_line);
        free(a);
        rc = 1;
        goto out;
      }
      audit_anchor *na = realloc(anchors, (n_anchors + m + 1) * sizeof *na);
      if (!na) {
        free(a);
        goto out;
      }
      anchors = na;
      memcpy(anchors + n_anchors, a, m * sizeof *a);
      n_anchors += m;
      free(a);
    }
  }
  c = db_open(dsn, schema);
  if (!c) {
    fprintf(stderr, "hoso-audit-verify: out of memory\n");
    goto out;
  }
  if (db_ensure(c) < 0) {
    fprintf(stderr, "hoso-audit-verify: cannot connect to PostgreSQL: %s\n", db_err_message(c));
    goto out;
  }
  r = db_q(c, "SELECT to_regclass(quote_ident($1) || '.audit_log') IS NOT NULL", 1, schema);
  if (!r) {
    fprintf(stderr, "hoso-audit-verify: %s\n", db_err_message(c));
    goto out;
  }
  if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
    fprintf(stderr, "hoso-audit-verify: schema %s has no audit log (no such schema?)\n", schema);
    goto out;
  }
  PQclear(r);
  r = NULL;

  int64_t rows = 0, bad = 0;
  int bad_chain = 0;
  const audit_anchor *bad_anchor = NULL;
  int v = audit_verify_anchored(c, schema, anchors, n_anchors, &rows, &bad_chain, &bad, &bad_anchor);
  if (v < 0) {
    fprintf(stderr, "hoso-audit-verify: cannot read the audit log of %s: %s\n", schema,
            db_err_message(c));
    goto out;
  }
  if (v == 0) {
    printf("audit chain of %s: %" PRId64 " rows intact in %d chains", schema, rows, DB_AUDIT_CHAINS);
    if (n_files) {
      const char *last = "";
      for (size_t i = 0; i < n_anchors; i++)
        if (strcmp(anchors[i].at, last) > 0) last = anchors[i].at;
      printf(", matching %zu checkpointed heads (the last taken %s)", n_anchors, *last ? last : "never");
    }
    printf("\n");
    rc = 0;
    goto out;
  }
  char seq[24], chain[8];
  snprintf(seq, sizeof seq, "%" PRId64, bad);
  snprintf(chain, sizeof chain, "%d", bad_chain);
  /* the connection's search_path starts with the schema, whose audit_log exists */
  r = db_q(c,
           "SELECT action, actor_name, actor_id, at FROM audit_log WHERE chain = $2::smallint AND seq = $1::bigint",
           2, seq, chain);
  printf("audit chain of %s broken at row %s of chain %s (", schema, seq, chain);
  int found = r && PQntuples(r) == 1;
  if (found) {
    const char *actor = *PQgetvalue(r, 0, 1) ? PQgetvalue(r, 0, 1) : PQgetvalue(r, 0, 2);
    print_clean(PQgetvalue(r, 0, 0));
    printf(" by ");
    print_clean(*actor ? actor : "anonymous");
    printf(" at ");
    print_clean(PQgetvalue(r, 0, 3));
  } else {
    printf("row missing");
  }
  printf(")\n");
  if (bad_anchor)
    printf("  the checkpoint taken %s (line %d) saw row %" PRId64 " of chain %d %s\n", bad_anchor->at,
           bad_anchor->line, bad_anchor->seq, bad_anchor->chain,
           found ? "with other contents: rows from the one named above on were rewritten"
                 : "which is gone: rows from the one named above on were deleted");
  rc = 1;
out:
  PQclear(r);
  db_close(c);
  free(anchors);
  audit_anchor_key_free(key);
  return rc;
}
