/* The audit log against the people who run the database (SECURITY.md, "Audit"): the services'
 * role cannot disable the triggers, rewrite rows or move a head; a service will not run as a
 * role that could; and the signed checkpoints written outside the database let
 * hoso-audit-verify name the first bad row of a tail rewritten or deleted by its owner, which
 * the chain alone cannot show. One checkpoint per interval across several instances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "audit.h"
#include "audit_anchor.h"
#include "th.h"

static th_pg pg;
static th_svc idn;
static const char *const fast_env[] = {"HOSO_AUDIT_CHECKPOINT_SECONDS=1", NULL};

static PGconn *connect_as(const char *dsn) {
  PGconn *c = PQconnectdb(dsn);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  return c;
}

/* Runs sql; 1 when it succeeded. */
static int try_sql(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  return ok;
}

static long long sql_ll(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(c));
  long long v = PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return v;
}

/* hoso-audit-verify's exit code and first line of output. */
static int verify(int with_checkpoints, char *out, size_t n) {
  char cmd[2400];
  snprintf(cmd, sizeof cmd, "HOSO_PG_DSN='%s' %s/hoso-audit-verify --schema identity", pg.dsn, HOSO_BIN_DIR);
  if (with_checkpoints)
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " --checkpoints '%s' --checkpoint-key '%s'", pg.audit_file,
             pg.audit_key);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t got = fread(out, 1, n - 1, p);
  out[got] = 0;
  int st = pclose(p);
  printf("# verify%s: %s", with_checkpoints ? " (checkpoints)" : "", out);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void some_logins(int n) {
  cli_chan *ch = cli_open_tls(idn.addr, NULL, NULL, NULL);
  for (int i = 0; i < n; i++) {
    char *t = th_login(ch, "admin", TH_ADMIN_PASSWORD);
    assert_non_null(t);
    free(t);
  }
  cli_close(ch);
}

/* The latest checkpoint's heads, waited for (bounded) until it covers every head as the
 * database has it now: seq[c] per chain (1..16), and its line. */
static int wait_checkpoint(long long seq[17]) {
  char why[256];
  audit_anchor_key *k = audit_anchor_key_load(pg.audit_key, why, sizeof why);
  assert_non_null(k);
  PGconn *a = connect_as(pg.admin_dsn);
  int line = 0;
  for (int tries = 0; tries < 600 && !line; tries++) {
    if (tries) usleep(100 * 1000);
    long long want[17] = {0};
    PGresult *r = PQexec(a, "SELECT id, seq FROM identity.audit_head");
    for (int i = 0; i < PQntuples(r); i++) want[atoi(PQgetvalue(r, i, 0))] = atoll(PQgetvalue(r, i, 1));
    PQclear(r);
    audit_anchor *an = NULL;
    size_t n = 0;
    int bad = 0;
    if (audit_anchor_read(pg.audit_file, "identity", k, &an, &n, &bad) == 0 && n > 0) {
      int last = an[n - 1].line, covers = 1;
      for (size_t i = 0; i < n; i++)
        if (an[i].line == last) {
          seq[an[i].chain] = an[i].seq;
          if (an[i].seq != want[an[i].chain]) covers = 0;
        }
      if (covers) line = last;
    }
    free(an);
  }
  PQfinish(a);
  audit_anchor_key_free(k);
  if (!line) fail_msg("no checkpoint covering the current heads within 60 s in %s", pg.audit_file);
  return line;
}

static int setup(void **state) {
  (void)state;
  if (th_pg_start(&pg) != 0) return -1;
  return th_svc_start(&idn, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, fast_env);
}

static int teardown(void **state) {
  (void)state;
  int rc = idn.pid > 0 ? th_svc_stop(&idn) : 0;
  th_pg_destroy(&pg);
  return rc == 0 ? 0 : -1;
}

/* The services' role reads the log and appends through audit_append, nothing else. */
static void test_service_role_cannot_rewrite(void **state) {
  (void)state;
  some_logins(2);
  PGconn *c = connect_as(pg.dsn);
  static const char *const refused[] = {
      "ALTER TABLE identity.audit_log DISABLE TRIGGER ALL",
      "ALTER TABLE identity.audit_head DISABLE TRIGGER audit_head_forward",
      "UPDATE identity.audit_head SET seq = 0 WHERE id = 1",
      "UPDATE identity.audit_log SET actor_name = 'x' WHERE seq = 1",
      "DELETE FROM identity.audit_log WHERE seq = 1",
      "TRUNCATE identity.audit_log",
      "INSERT INTO identity.audit_log (seq, at, action, prev_hash, hash, chain) VALUES (999, '', 'FORGED', '', '', 1)",
      "DROP TRIGGER audit_log_no_update ON identity.audit_log",
      "ALTER TABLE identity.audit_log OWNER TO hoso",
      "CREATE OR REPLACE FUNCTION identity.audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'",
      "SET ROLE hoso_owner",
      "UPDATE identity.audit_checkpoint_state SET last_at = last_at", /* allowed: the lease (below) */
  };
  for (size_t i = 0; i + 1 < sizeof refused / sizeof refused[0]; i++)
    if (try_sql(c, refused[i])) fail_msg("the services' role could: %s", refused[i]);
  assert_true(try_sql(c, refused[sizeof refused / sizeof refused[0] - 1]));
  assert_true(sql_ll(c, "SELECT count(*) FROM identity.audit_log") > 0);
  assert_true(try_sql(c, "SELECT identity.audit_append(3::smallint, '2026-01-01T00:00:00.000000Z', '', 'test', "
                         "'TEST_APPEND', '', '', '', 'ok', '', '', '{}')"));
  PQfinish(c);
}

/* A service does not run as a role that owns its audit log, nor as a superuser, nor on a
 * schema that was not migrated. */
static void test_refuses_unfit_roles(void **state) {
  (void)state;
  char dsn_env[700];
  th_svc s;
  snprintf(dsn_env, sizeof dsn_env, "HOSO_PG_DSN=%s", pg.migrate_dsn);
  const char *as_owner[] = {dsn_env, NULL};
  assert_int_not_equal(th_svc_start(&s, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, as_owner), 0);
  assert_true(th_log_count(s.log, "is (or acts as) the owner of schema identity", NULL) >= 1);
  /* and, migrated by someone else, it is checked all the same */
  const char *owner_no_migrate[] = {dsn_env, "HOSO_PG_MIGRATE_DSN=", NULL};
  assert_int_not_equal(th_svc_start(&s, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, owner_no_migrate), 0);
  assert_true(th_log_count(s.log, "which owns or may change identity.audit_log", NULL) >= 1);
  snprintf(dsn_env, sizeof dsn_env, "HOSO_PG_DSN=%s", pg.admin_dsn);
  const char *as_super[] = {dsn_env, NULL};
  assert_int_not_equal(th_svc_start(&s, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, as_super), 0);
  assert_true(th_log_count(s.log, "a superuser or a role that bypasses row-level security", NULL) >= 1);
  /* records on a schema nobody migrated, and not allowed to */
  const char *unmigrated[] = {"HOSO_PG_MIGRATE_DSN=", NULL};
  assert_int_not_equal(th_svc_start(&s, "hoso-records", "HOSO_RECORDS_ADDR", &pg, unmigrated), 0);
  assert_true(th_log_count(s.log, "lacks common migration 001_audit", NULL) >= 1);
}

/* The owner (or a superuser) can rewrite a chain and move its head so that the chain alone
 * verifies; the checkpoints written before show it, naming the first row after the last
 * checkpointed row that still matches. Likewise a deleted tail. The rows are put back after. */
static void test_checkpoints_show_rewritten_and_deleted_tails(void **state) {
  (void)state;
  long long a_seq[17] = {0}, b_seq[17] = {0};
  some_logins(6);
  wait_checkpoint(a_seq);
  some_logins(24);
  wait_checkpoint(b_seq);
  assert_int_equal(th_svc_stop(&idn), 0); /* nothing is written while the log is tampered with */
  char out[2048];
  assert_int_equal(verify(1, out, sizeof out), 0);

  /* a chain that grew between the checkpoints, best one with rows before A too */
  int c = 0;
  for (int i = 1; i <= 16; i++)
    if (b_seq[i] > a_seq[i] && (!c || (a_seq[c] == 0 && a_seq[i] > 0))) c = i;
  if (!c) {
    for (int i = 1; i <= 16; i++) printf("# chain %d: A %lld B %lld\n", i, a_seq[i], b_seq[i]);
    fail_msg("no chain grew between the two checkpoints");
  }
  PGconn *o = connect_as(pg.admin_dsn);
  char sql[1024];
  assert_true(try_sql(o, "CREATE TABLE saved AS SELECT * FROM identity.audit_log"));
  assert_true(try_sql(o, "CREATE TABLE saved_head AS SELECT * FROM identity.audit_head"));
  assert_true(try_sql(o, "ALTER TABLE identity.audit_log DISABLE TRIGGER ALL"));
  assert_true(try_sql(o, "ALTER TABLE identity.audit_head DISABLE TRIGGER ALL"));
  /* the rewrite: every row after checkpoint A names someone else, re-hashed in order */
  snprintf(sql, sizeof sql,
           "SELECT seq, at, actor_id, actor_name, action, target_type, target_id, unit_path, outcome, client_addr, "
           "request_id, detail, encode(prev_hash, 'hex') FROM identity.audit_log WHERE chain = %d AND seq > %lld "
           "ORDER BY seq",
           c, a_seq[c]);
  PGresult *r = PQexec(o, sql);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  uint8_t prev[32], h[32];
  const char *ph = PQgetvalue(r, 0, 12);
  for (int i = 0; i < 32; i++) {
    unsigned v;
    sscanf(ph + 2 * i, "%2x", &v);
    prev[i] = (uint8_t)v;
  }
  for (int i = 0; i < PQntuples(r); i++) {
    audit_entry e = {PQgetvalue(r, i, 2), "ke.gia.mao", PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
                     PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), PQgetvalue(r, i, 8), PQgetvalue(r, i, 9),
                     PQgetvalue(r, i, 10), PQgetvalue(r, i, 11)};
    long long seq = atoll(PQgetvalue(r, i, 0));
    audit_row_hash(prev, seq, PQgetvalue(r, i, 1), &e, h);
    char hx[65], px[65];
    for (int k = 0; k < 32; k++) {
      snprintf(hx + 2 * k, 3, "%02x", h[k]);
      snprintf(px + 2 * k, 3, "%02x", prev[k]);
    }
    snprintf(sql, sizeof sql,
             "UPDATE identity.audit_log SET actor_name = 'ke.gia.mao', prev_hash = decode('%s', 'hex'), "
             "hash = decode('%s', 'hex') WHERE chain = %d AND seq = %lld",
             px, hx, c, seq);
    assert_true(try_sql(o, sql));
    snprintf(sql, sizeof sql, "UPDATE identity.audit_head SET hash = decode('%s', 'hex') WHERE id = %d", hx, c);
    assert_true(try_sql(o, sql));
    memcpy(prev, h, 32);
  }
  PQclear(r);
  /* the chain alone: intact */
  assert_int_equal(verify(0, out, sizeof out), 0);
  /* against the checkpoints: broken at the first row after A's */
  assert_int_equal(verify(1, out, sizeof out), 1);
  char want[96];
  snprintf(want, sizeof want, "broken at row %lld of chain %d", a_seq[c] + 1, c);
  assert_non_null(strstr(out, want));
  assert_non_null(strstr(out, "rewritten"));

  /* put the rows back; then delete the tail after A and move the head back to it */
  assert_true(try_sql(o, "DELETE FROM identity.audit_log"));
  assert_true(try_sql(o, "INSERT INTO identity.audit_log SELECT * FROM saved"));
  assert_true(try_sql(o, "UPDATE identity.audit_head h SET seq = s.seq, hash = s.hash FROM saved_head s WHERE s.id = h.id"));
  assert_int_equal(verify(1, out, sizeof out), 0);
  snprintf(sql, sizeof sql, "DELETE FROM identity.audit_log WHERE chain = %d AND seq > %lld", c, a_seq[c]);
  assert_true(try_sql(o, sql));
  snprintf(sql, sizeof sql,
           "UPDATE identity.audit_head SET seq = %lld, hash = coalesce((SELECT hash FROM identity.audit_log "
           "WHERE chain = %d AND seq = %lld), decode(repeat('00', 32), 'hex')) WHERE id = %d",
           a_seq[c], c, a_seq[c], c);
  assert_true(try_sql(o, sql));
  assert_int_equal(verify(0, out, sizeof out), 0);
  assert_int_equal(verify(1, out, sizeof out), 1);
  assert_non_null(strstr(out, want));
  assert_non_null(strstr(out, "deleted"));

  /* a forged row (changed, not re-hashed) is named by the chain itself */
  assert_true(try_sql(o, "DELETE FROM identity.audit_log"));
  assert_true(try_sql(o, "INSERT INTO identity.audit_log SELECT * FROM saved"));
  assert_true(try_sql(o, "UPDATE identity.audit_head h SET seq = s.seq, hash = s.hash FROM saved_head s WHERE s.id = h.id"));
  snprintf(sql, sizeof sql, "UPDATE identity.audit_log SET outcome = 'ok-forged' WHERE chain = %d AND seq = 1", c);
  assert_true(try_sql(o, sql));
  assert_int_equal(verify(1, out, sizeof out), 1);
  snprintf(want, sizeof want, "broken at row 1 of chain %d", c);
  assert_non_null(strstr(out, want));
  assert_true(try_sql(o, "DELETE FROM identity.audit_log"));
  assert_true(try_sql(o, "INSERT INTO identity.audit_log SELECT * FROM saved"));
  assert_true(try_sql(o, "ALTER TABLE identity.audit_log ENABLE TRIGGER ALL"));
  assert_true(try_sql(o, "ALTER TABLE identity.audit_head ENABLE TRIGGER ALL"));
  PQfinish(o);
  assert_int_equal(verify(1, out, sizeof out), 0);

  /* a checkpoint line changed (or written without the key) is named too */
  FILE *f = fopen(pg.audit_file, "r");
  assert_non_null(f);
  char line[8192], last[8192] = "";
  int lines = 0;
  while (fgets(line, sizeof line, f)) {
    snprintf(last, sizeof last, "%s", line);
    lines++;
  }
  fclose(f);
  char *digit = strpbrk(strstr(last, "\"heads\""), "123456789");
  assert_non_null(digit);
  *digit = *digit == '9' ? '8' : (char)(*digit + 1);
  f = fopen(pg.audit_file, "a");
  fputs(last, f);
  fclose(f);
  assert_int_equal(verify(1, out, sizeof out), 1);
  snprintf(want, sizeof want, "broken at line %d", lines + 1);
  assert_non_null(strstr(out, want));
  assert_int_equal(th_svc_start(&idn, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, fast_env), 0);
}

/* Two instances of identity on one database, checkpoints due every 2 s: one line per interval
 * between them, never one from each. */
static void test_once_across_instances(void **state) {
  (void)state;
  assert_int_equal(th_svc_stop(&idn), 0);
  assert_int_equal(truncate(pg.audit_file, 0), 0);
  const char *env[] = {"HOSO_AUDIT_CHECKPOINT_SECONDS=2", NULL};
  th_svc second;
  assert_int_equal(th_svc_start(&idn, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, env), 0);
  assert_int_equal(th_svc_start(&second, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, env), 0);
  /* both run through several intervals: wait (bounded) until five lines are there */
  char line[8192];
  int lines = 0;
  long at[64];
  for (int tries = 0; tries < 600 && lines < 5; tries++) {
    usleep(100 * 1000);
    FILE *f = fopen(pg.audit_file, "r");
    lines = 0;
    while (f && fgets(line, sizeof line, f) && lines < 64) {
      struct tm tm;
      memset(&tm, 0, sizeof tm);
      const char *a = strstr(line, "\"at\":\"");
      assert_non_null(a);
      assert_non_null(strptime(a + 6, "%Y-%m-%dT%H:%M:%SZ", &tm));
      at[lines++] = (long)timegm(&tm);
    }
    if (f) fclose(f);
  }
  assert_int_equal(th_svc_stop(&second), 0);
  assert_true(lines >= 5);
  /* the lease: a line at most every 2 s (the clock of `at` has whole seconds, hence >= 1) */
  for (int i = 1; i < lines; i++)
    if (at[i] - at[i - 1] < 1) fail_msg("checkpoints %d and %d written %ld s apart", i, i + 1, at[i] - at[i - 1]);
  printf("# %d checkpoints by two instances, %ld s\n", lines, at[lines - 1] - at[0]);
  assert_true(at[lines - 1] - at[0] >= 2 * (lines - 1) - 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_service_role_cannot_rewrite),
      cmocka_unit_test(test_refuses_unfit_roles),
      cmocka_unit_test(test_checkpoints_show_rewritten_and_deleted_tails),
      cmocka_unit_test(test_once_across_instances),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
