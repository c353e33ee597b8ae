/* hoso-audit-verify: recomputes the SHA-256 chain of one service schema's audit log and names
 * the first broken row. Exit 0 intact, 1 broken, 2 when the check could not be made. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cfg.h"
#include "db.h"
#include "log.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: hoso-audit-verify [--dsn DSN] --schema SCHEMA\n"
          "  Verifies the hash chain of SCHEMA.audit_log (e.g. --schema identity).\n"
          "  DSN defaults to $HOSO_PG_DSN. Exit 0 intact, 1 broken, 2 error.\n");
}

/* A tampered row may hold anything: never let it drive the terminal. */
static void print_clean(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
}

int main(int argc, char **argv) {
  const char *dsn = cfg_str("HOSO_PG_DSN", "");
  const char *schema = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if ((!strcmp(a, "--dsn") || !strcmp(a, "--schema")) && i + 1 < argc) {
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
  /* the result is the printed line; routine db chatter would only bury it */
  setenv("HOSO_LOG_LEVEL", "warn", 0);
  log_init("audit-verify");

  int rc = 2;
  PGresult *r = NULL;
  db_conn *c = db_open(dsn, schema);
  if (!c) {
    fprintf(stderr, "hoso-audit-verify: out of memory\n");
    return 2;
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
  int v = audit_verify_ex(c, schema, &rows, &bad_chain, &bad);
  if (v < 0) {
    fprintf(stderr, "hoso-audit-verify: cannot read the audit log of %s: %s\n", schema,
            db_err_message(c));
    goto out;
  }
  if (v == 0) {
    printf("audit chain of %s: %" PRId64 " rows intact in %d chains\n", schema, rows, DB_AUDIT_CHAINS);
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
  if (r && PQntuples(r) == 1) {
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
  rc = 1;
out:
  PQclear(r);
  db_close(c);
  return rc;
}
