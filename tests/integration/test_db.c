/* common/db, audit and idem against a real PostgreSQL (private cluster from the harness):
 * migrations, transactions and their retry, row-level security, the audit chain, restarts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "db.h"
#include "idem.h"
#include "log.h"
#include "th.h"

static th_pg pg;

static int setup_cluster(void **state) {
  (void)state;
  log_init("test-db");
  if (th_pg_start(&pg) != 0) return -1;
  /* db.c's own schemas here are made by the connection under test, as the role that then owns
   * them (the services' schemas are made by their owner role: test_audit_owner.c). */
  PGconn *a = PQconnectdb(pg.admin_dsn);
  PGresult *r = PQexec(a, "GRANT CREATE ON DATABASE hoso TO hoso");
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  PQfinish(a);
  return ok ? 0 : -1;
}

static int teardown_cluster(void **state) {
  (void)state;
  th_pg_destroy(&pg);
  return 0;
}

/* --- helpers ---------------------------------------------------------------------------- */

static db_conn *open_migrated(const char *schema, const db_migration *migs) {
  db_conn *c = db_open(pg.dsn, schema);
  assert_non_null(c);
  assert_int_equal(db_migrate(c, schema, migs), 0);
  return c;
}

/* The first column of the first row as a number; the statement must succeed. */
static long scalar(db_conn *c, const char *sql, int n, const char *p1, const char *p2) {
  const char *params[2] = {p1, p2};
  PGresult *r = db_exec(c, sql, n, params);
  if (!r) fail_msg("%s: %s", sql, db_err_message(c));
  assert_int_equal(PQntuples(r), 1);
  long v = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

/* The first column of the first row as text (caller frees). */
static char *text1(db_conn *c, const char *sql) {
  PGresult *r = db_exec(c, sql, 0, NULL);
  if (!r) fail_msg("%s: %s", sql, db_err_message(c));
  assert_int_equal(PQntuples(r), 1);
  char *s = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return s;
}

/* A superuser connection to the test database, for what the application role may not do. */
static PGconn *admin(void) {
  PGconn *a = PQconnectdb(pg.admin_dsn);
  if (PQstatus(a) != CONNECTION_OK) fail_msg("admin connect: %s", PQerrorMessage(a));
  return a;
}

static void admin_exec(PGconn *a, const char *sql) {
  PGresult *r = PQexec(a, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    fail_msg("%s: %s", sql, PQerrorMessage(a));
  PQclear(r);
}

/* Runs the built hoso-audit-verify; returns its exit status, stdout in out. */
static int run_verify(const char *dsn, const char *schema, char *out, size_t outlen) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(HOSO_BIN_DIR "/hoso-audit-verify", "hoso-audit-verify", "--dsn", dsn, "--schema",
          schema, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  size_t len = 0;
  ssize_t k;
  while (len + 1 < outlen && (k = read(fds[0], out + len, outlen - 1 - len)) > 0) len += (size_t)k;
  out[len] = 0;
  close(fds[0]);
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

/* --- migrations ------------------------------------------------------------------------- */

/* CREATE TABLE without IF NOT EXISTS: applying a migration twice would fail, so a second
 * successful run proves it applied nothing. */
static const db_migration migs_v2[] = {
    {1, "one", "CREATE TABLE one (id int PRIMARY KEY);\nINSERT INTO one VALUES (1);"},
    {2, "two", "CREATE TABLE two (id int); INSERT INTO one VALUES (2);"},
    {0, 0, 0},
};
static const db_migration migs_v3[] = {
    {1, "one", "CREATE TABLE one (id int PRIMARY KEY);\nINSERT INTO one VALUES (1);"},
    {2, "two", "CREATE TABLE two (id int); INSERT INTO one VALUES (2);"},
    {3, "three", "ALTER TABLE one ADD COLUMN note text NOT NULL DEFAULT 'x';"},
    {0, 0, 0},
};
static const db_migration migs_bad[] = {
    {1, "one", "CREATE TABLE one (id int PRIMARY KEY);\nINSERT INTO one VALUES (1);"},
    {2, "two", "CREATE TABLE two (id int); INSERT INTO one VALUES (2);"},
    {3, "three", "ALTER TABLE one ADD COLUMN note text NOT NULL DEFAULT 'x';"},
    {4, "broken", "CREATE TABLE four (id int); SELECT 1/0;"},
    {0, 0, 0},
};
static const db_migration migs_unordered[] = {
    {2, "two", "SELECT 1"},
    {1, "one", "SELECT 1"},
    {0, 0, 0},
};

static void test_migrate_idempotent(void **state) {
  (void)state;
  db_conn *c = open_migrated("mig", migs_v2);
  const char *count_sql = "SELECT count(*) FROM mig.schema_migrations WHERE series = $1";
  assert_int_equal(scalar(c, count_sql, 1, "service", NULL), 2);
  assert_int_equal(scalar(c, count_sql, 1, "common", NULL), (long)common_migrations_count);
  /* the files name no schema: everything landed in "mig" */
  assert_int_equal(scalar(c, "SELECT count(*) FROM mig.one", 0, NULL, NULL), 2);
  assert_int_equal(scalar(c, "SELECT (to_regclass('mig.audit_log') IS NOT NULL)::int", 0, NULL,
                          NULL),
                   1);
  assert_int_equal(scalar(c, "SELECT (to_regclass('public.one') IS NULL)::int", 0, NULL, NULL),
                   1);

  assert_int_equal(db_migrate(c, "mig", migs_v2), 0);
  assert_int_equal(scalar(c, count_sql, 1, "service", NULL), 2);
  assert_int_equal(scalar(c, "SELECT count(*) FROM mig.one", 0, NULL, NULL), 2);

  /* a newer binary applies only what is new */
  assert_int_equal(db_migrate(c, "mig", migs_v3), 0);
  assert_int_equal(scalar(c, count_sql, 1, "service", NULL), 3);
  assert_int_equal(scalar(c, "SELECT count(*) FROM mig.one WHERE note = 'x'", 0, NULL, NULL), 2);

  /* a failing migration leaves nothing behind, neither its table nor its record */
  assert_int_equal(db_migrate(c, "mig", migs_bad), -1);
  assert_int_equal(scalar(c, "SELECT (to_regclass('mig.four') IS NULL)::int", 0, NULL, NULL), 1);
  assert_int_equal(scalar(c, count_sql, 1, "service", NULL), 3);
  /* and the connection is usable afterwards (not left inside the failed transaction) */
  assert_int_equal(db_ensure(c), 0);
  assert_int_equal(scalar(c, "SELECT 7", 0, NULL, NULL), 7);

  /* a migration table out of order is a programming error, refused before touching anything */
  assert_int_equal(db_migrate(c, "mig_unordered", migs_unordered), -1);
  assert_int_equal(
      scalar(c, "SELECT count(*) FROM pg_namespace WHERE nspname = 'mig_unordered'", 0, NULL, NULL),
      0);

  /* the session's own search_path is untouched by migrating */
  assert_int_equal(scalar(c, "SELECT count(*) FROM one", 0, NULL, NULL), 2);
  db_close(c);
}

static const db_migration migs_slow[] = {
    {1, "slow", "CREATE TABLE slow (id int); SELECT pg_sleep(0.3); INSERT INTO slow VALUES (1);"},
    {0, 0, 0},
};

static void *migrate_thread(void *arg) {
  db_conn *c = db_open(pg.dsn, "conc");
  long rc = c ? db_migrate(c, "conc", migs_slow) : -2;
  db_close(c);
  *(long *)arg = rc;
  return NULL;
}

/* Several services starting at once on one database: the advisory lock makes the second
 * wait and then find everything applied, instead of failing on "already exists". */
static void test_migrate_concurrent(void **state) {
  (void)state;
  long rc[3] = {9, 9, 9};
  pthread_t t[3];
  for (int i = 0; i < 3; i++) assert_int_equal(pthread_create(&t[i], NULL, migrate_thread, &rc[i]), 0);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 3; i++) assert_int_equal(rc[i], 0);
  db_conn *c = db_open(pg.dsn, "conc");
  assert_int_equal(scalar(c, "SELECT count(*) FROM slow", 0, NULL, NULL), 1);
  assert_int_equal(
      scalar(c, "SELECT count(*) FROM schema_migrations WHERE series = 'service'", 0, NULL, NULL), 1);
  db_close(c);
}

/* --- transactions ----------------------------------------------------------------------- */

static const db_migration migs_tx[] = {
    {1, "kv",
     "CREATE TABLE parent (id int PRIMARY KEY);\n"
     "INSERT INTO parent VALUES (1);\n"
     "CREATE TABLE kv (k text CONSTRAINT kv_pkey PRIMARY KEY, v int NOT NULL CHECK (v >= 0),\n"
     "  parent int REFERENCES parent(id));\n"
     "CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL);\n"
     "INSERT INTO counter VALUES (1, 0);"},
    {0, 0, 0},
};

typedef struct {
  const char *sql;
  int nparams;
  const char *p1, *p2;
  int ret;           /* what fn returns after running sql (if sql succeeded) */
  int ignore_error;  /* return ret even if sql failed */
  int calls;
  char scope[64], actor[64];
} tx_case;

static int tx_fn(db_conn *c, void *arg) {
  tx_case *t = arg;
  t->calls++;
  PGresult *r = db_q(c,
                     "SELECT current_setting('hoso.scope', true), current_setting('hoso.actor', "
                     "true)",
                     0);
  if (!r) return -1;
  snprintf(t->scope, sizeof t->scope, "%s", PQgetvalue(r, 0, 0));
  snprintf(t->actor, sizeof t->actor, "%s", PQgetvalue(r, 0, 1));
  PQclear(r);
  if (t->sql && db_cmd(c, t->sql, t->nparams, t->p1, t->p2) < 0 && !t->ignore_error) return -1;
  return t->ret;
}

/* The body of test_tx_begin_pipelined: what the transaction it runs in looks like. */
typedef struct {
  char iso[32], scope[96];
  int calls;
} begin_seen;

static int begin_fn(db_conn *c, void *arg) {
  begin_seen *b = arg;
  b->calls++;
  PGresult *r = db_q(c, "SELECT current_setting('transaction_isolation'), "
                        "current_setting('hoso.scope', true)", 0);
  if (!r) return -1;
  snprintf(b->iso, sizeof b->iso, "%s", PQgetvalue(r, 0, 0));
  snprintf(b->scope, sizeof b->scope, "%s", PQgetvalue(r, 0, 1));
  PQclear(r);
  return 0;
}

static void test_tx_begin_pipelined(void **state) {
  (void)state;
  /* BEGIN and the settings go out together (pipeline mode): each isolation level must still
   * be the one asked for, the scope must arrive as a value however it is spelled, and the
   * connection must be usable by ordinary queries afterwards (pipeline mode left). */
  db_conn *c = open_migrated("txs", migs_tx);
  static const char *const iso[] = {"read committed", "repeatable read", "serializable"};
  const char *odd = "1.2', true); DROP TABLE kv; --";
  for (int i = DB_READ_COMMITTED; i <= DB_SERIALIZABLE; i++) {
    begin_seen b = {0};
    assert_int_equal(db_tx(c, i, odd, "acct-1", begin_fn, &b), 0);
    assert_int_equal(b.calls, 1);
    assert_string_equal(b.iso, iso[i - DB_READ_COMMITTED]);
    assert_string_equal(b.scope, odd);
    assert_int_equal(scalar(c, "SELECT count(*) FROM kv WHERE k = $1", 1, "zz", NULL), 0);
  }
  /* The backend killed between two transactions: the next one fails as UNAVAILABLE or is
   * made on a fresh connection, never half-begun (BEGIN goes out with the body's first
   * statement, so the body may run, but that statement fails and it sees no transaction);
   * the one after that works. */
  db_conn *killer = db_open(pg.dsn, "txs");
  assert_non_null(killer);
  char pid[32];
  snprintf(pid, sizeof pid, "%ld", scalar(c, "SELECT pg_backend_pid()", 0, NULL, NULL));
  assert_int_equal(scalar(killer, "SELECT pg_terminate_backend($1::int)::int", 1, pid, NULL), 1);
  begin_seen b = {0};
  if (db_tx(c, DB_READ_COMMITTED, "*", "", begin_fn, &b) != 0) {
    assert_int_equal(db_err_kind(c), DB_UNAVAILABLE);
    assert_string_equal(b.iso, "");
  }
  b = (begin_seen){0};
  assert_int_equal(db_tx(c, DB_SERIALIZABLE, "*", "", begin_fn, &b), 0);
  assert_string_equal(b.iso, "serializable");
  db_close(killer);
  db_close(c);
}

/* The body of test_tx_later: queues `n` inserts of k<from+i>, then (if `bad`) one that the
 * table refuses or does not parse, then reads the count back unless `no_read`. */
typedef struct {
  int from, n, no_read;
  const char *bad;
  int bad_rc; /* what queueing the bad statement returned */
  long seen;
} later_arg;

static int later_fn(db_conn *c, void *arg) {
  later_arg *a = arg;
  for (int i = 0; i < a->n; i++) {
    char k[32], v[16];
    snprintf(k, sizeof k, "later-%d", a->from + i);
    snprintf(v, sizeof v, "%d", i);
    const char *p[2] = {k, v};
    if (db_cmd_later(c, "INSERT INTO kv (k, v) VALUES ($1, $2::int)", 2, p) < 0) return -1;
  }
  if (a->bad && (a->bad_rc = db_cmd_later(c, a->bad, 0, NULL)) < 0) return -1;
  if (a->no_read) return 0;
  PGresult *r = db_q(c, "SELECT count(*) FROM kv WHERE k LIKE 'later-%'", 0);
  if (!r) return -1;
  a->seen = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return 0;
}

static long later_rows(db_conn *c) {
  return scalar(c, "SELECT count(*) FROM kv WHERE k LIKE 'later-%'", 0, NULL, NULL);
}

static int run_nothing_fn(db_conn *c, void *arg) {
  (void)c;
  ((tx_case *)arg)->calls++;
  return 0;
}

static int later_rollback_fn(db_conn *c, void *arg) {
  return later_fn(c, arg) == 0 ? DB_TX_ROLLBACK : -1;
}

static void test_tx_later(void **state) {
  (void)state;
  db_conn *c = open_migrated("txl", migs_tx);
  /* Queued statements run before the next one, in order: the read sees all 20 (more than the
   * queue holds, so some went out early), and they commit with the transaction. */
  later_arg a = {.from = 0, .n = 20};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", later_fn, &a), 0);
  assert_int_equal(a.seen, 20);
  assert_int_equal(later_rows(c), 20);

  /* Queued last, they go out with the COMMIT and are committed by it. */
  a = (later_arg){.from = 100, .n = 3, .no_read = 1};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", later_fn, &a), 0);
  assert_int_equal(later_rows(c), 23);

  /* A queued statement that fails fails the transaction as a whole, whether the COMMIT or a
   * later read carried it, with its own error: nothing of the transaction stays. Queueing it
   * succeeded (bad_rc 0): it had not been sent yet. */
  a = (later_arg){.from = 200, .n = 2, .no_read = 1, .bad = "INSERT INTO kv (k, v) VALUES ('later-0', 1)"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", later_fn, &a), -1);
  assert_int_equal(db_err_kind(c), DB_UNIQUE);
  assert_string_equal(db_err_constraint(c), "kv_pkey");
  assert_int_equal(a.bad_rc, 0);
  a = (later_arg){.from = 300, .n = 2, .bad = "INSERT INTO kv (k, v) VALUES ('later-x', -1)"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", later_fn, &a), -1);
  assert_int_equal(db_err_kind(c), DB_CHECK);
  assert_int_equal(a.bad_rc, 0);
  a = (later_arg){.from = 400, .n = 1, .bad = "INSRT nothing"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", later_fn, &a), -1);
  assert_string_equal(db_err_sqlstate(c), "42601");
  assert_int_equal(later_rows(c), 23);
  /* and the connection is fine afterwards */
  a = (later_arg){.from = 500, .n = 1};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", later_fn, &a), 0);
  assert_int_equal(a.seen, 24);

  /* A body that runs nothing commits nothing, and one that gives up leaves nothing queued for
   * the next transaction. */
  tx_case t = {.sql = NULL, .ret = DB_TX_ROLLBACK};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", run_nothing_fn, &t), 0);
  a = (later_arg){.from = 600, .n = 2, .no_read = 1};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", later_rollback_fn, &a), DB_TX_ROLLBACK);
  assert_int_equal(later_rows(c), 24);

  /* Outside a transaction a queued statement runs at once. */
  const char *p[1] = {"later-out"};
  assert_int_equal(db_cmd_later(c, "INSERT INTO kv (k, v) VALUES ($1, 0)", 1, p), 0);
  assert_int_equal(later_rows(c), 25);
  db_close(c);
}

/* --- db_commit_with_next ------------------------------------------------------------------ */

/* The body of test_commit_with_next: asks for the early COMMIT (unless `no_early`), queues
 * `queued` first when given, reads the count of cwn- rows, lets `other` add one, and (unless
 * `one_only`) reads again with the transaction's settings; or runs `bad` as the pipelined
 * statement (or as the second one, `bad_second`). */
typedef struct {
  db_conn *other;
  int no_early, one_only, bad_second, insert;
  const char *queued, *bad;
  long first, second;
  char settings[128];
} early_arg;

static long cwn_rows(db_conn *c) {
  PGresult *r = db_q(c, "SELECT count(*) FROM kv WHERE k LIKE 'cwn-%'", 0);
  if (!r) return -1;
  long v = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static int early_fn(db_conn *c, void *arg) {
  early_arg *a = arg;
  static int seq;
  if (a->queued && db_cmd_later(c, a->queued, 0, NULL) < 0) return -1;
  if (!a->no_early) db_commit_with_next(c);
  if (a->insert) {
    char k[32];
    snprintf(k, sizeof k, "cwn-rw-%d", ++seq);
    return db_cmd(c, "INSERT INTO kv (k, v) VALUES ($1, 1)", 1, k) == 0 ? DB_TX_ROLLBACK : -1;
  }
  if (a->bad && !a->bad_second) return db_cmd(c, a->bad, 0) == 0 ? 0 : -1;
  if ((a->first = cwn_rows(c)) < 0) return -1;
  if (a->one_only) return 0;
  char k[32];
  snprintf(k, sizeof k, "cwn-%d", ++seq);
  if (db_cmd(a->other, "INSERT INTO kv (k, v) VALUES ($1, 1)", 1, k) != 0) return -1;
  if (a->bad) return db_cmd(c, a->bad, 0) == 0 ? 0 : -1;
  if ((a->second = cwn_rows(c)) < 0) return -1;
  PGresult *r = db_q(c,
                     "SELECT current_setting('transaction_isolation') || ' ' || "
                     "current_setting('transaction_read_only') || ' ' || current_setting('hoso.scope') || "
                     "' ' || current_setting('hoso.actor')",
                     0);
  if (!r) return -1;
  snprintf(a->settings, sizeof a->settings, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return 0;
}

/* A setting made with session scope by a queued statement: visible afterwards only if the
 * transaction that ran it committed. */
static char *probe(db_conn *c) { return text1(c, "SELECT coalesce(current_setting('hoso.probe', true), '')"); }

static void test_commit_with_next(void **state) {
  (void)state;
  db_conn *c = open_migrated("txc", migs_tx);
  db_conn *other = db_open(pg.dsn, "txc");
  assert_non_null(other);
  const int ro_rr = DB_REPEATABLE_READ | DB_READ_ONLY;

  /* Without the early COMMIT a REPEATABLE READ body sees one snapshot: the row the other
   * connection added between its two reads is not seen (the control for what follows). */
  early_arg a = {.other = other, .no_early = 1};
  assert_int_equal(db_tx(c, ro_rr, "1.2", "acct-7", early_fn, &a), 0);
  assert_int_equal(a.second, a.first);

  /* With it, the first read went out with its COMMIT; the second one began the transaction
   * again (a new snapshot: it sees the new row) with the same isolation, read-only mode, scope
   * and actor. */
  a = (early_arg){.other = other};
  assert_int_equal(db_tx(c, ro_rr, "1.2", "acct-7", early_fn, &a), 0);
  assert_int_equal(a.second, a.first + 1);
  assert_string_equal(a.settings, "repeatable read on 1.2 acct-7");

  /* One statement: it and the COMMIT in one pipeline, with what was queued before it, which
   * that COMMIT commits (the session-wide setting stays). */
  a = (early_arg){.other = other, .one_only = 1, .queued = "SELECT set_config('hoso.probe', 'one', false)"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED | DB_READ_ONLY, "*", "", early_fn, &a), 0);
  assert_int_equal(a.first, 2); /* the rows of the two cases above */
  char *s = probe(c);
  assert_string_equal(s, "one");
  free(s);

  /* The pipelined statement fails: its own error surfaces, the COMMIT after it did not run,
   * nothing of the transaction stays (the queued setting is rolled back with it), and the
   * connection works afterwards. */
  db_cmd(c, "SELECT set_config('hoso.probe', '', false)", 0);
  a = (early_arg){.other = other, .bad = "SELECT 1/0", .queued = "SELECT set_config('hoso.probe', 'bad', false)"};
  assert_int_equal(db_tx(c, ro_rr, "1.2", "", early_fn, &a), -1);
  assert_string_equal(db_err_sqlstate(c), "22012");
  s = probe(c);
  assert_string_equal(s, "");
  free(s);
  assert_int_equal(scalar(c, "SELECT count(*) FROM kv WHERE k LIKE 'cwn-%'", 0, NULL, NULL), 2);
  s = text1(c, "SELECT coalesce(current_setting('hoso.scope', true), '')");
  assert_string_equal(s, "");
  free(s);

  /* A statement after the early COMMIT fails: the transaction begun again fails with it, and
   * the connection is still usable. */
  a = (early_arg){.other = other, .bad = "SELECT 1/0", .bad_second = 1};
  assert_int_equal(db_tx(c, ro_rr, "1.2", "", early_fn, &a), -1);
  assert_string_equal(db_err_sqlstate(c), "22012");
  a = (early_arg){.other = other, .one_only = 1};
  assert_int_equal(db_tx(c, ro_rr, "1.2", "", early_fn, &a), 0);
  assert_int_equal(a.first, 3);

  /* Only a read-only transaction commits early: in one that may write, the call is ignored and
   * a body that gives up leaves nothing (an early COMMIT would have kept its insert). */
  a = (early_arg){.other = other, .insert = 1};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", early_fn, &a), DB_TX_ROLLBACK);
  assert_int_equal(scalar(c, "SELECT count(*) FROM kv WHERE k LIKE 'cwn-rw-%'", 0, NULL, NULL), 0);
  /* and outside a transaction it does nothing either */
  db_commit_with_next(c);
  a = (early_arg){.other = other, .insert = 1};
  assert_int_equal(db_tx(c, DB_SERIALIZABLE, "*", "", early_fn, &a), DB_TX_ROLLBACK);
  assert_int_equal(scalar(c, "SELECT count(*) FROM kv WHERE k LIKE 'cwn-rw-%'", 0, NULL, NULL), 0);
  db_close(other);
  db_close(c);
}

static void test_tx_commit_rollback(void **state) {
  (void)state;
  db_conn *c = open_migrated("txs", migs_tx);
  const char *ins = "INSERT INTO kv (k, v) VALUES ($1, $2::int)";
  const char *count = "SELECT count(*) FROM kv WHERE k = $1";

  tx_case t = {.sql = ins, .nparams = 2, .p1 = "a", .p2 = "1", .ret = 0};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "1.2", "acct-7", tx_fn, &t), 0);
  assert_int_equal(scalar(c, count, 1, "a", NULL), 1);
  assert_string_equal(t.scope, "1.2");
  assert_string_equal(t.actor, "acct-7");
  /* the settings are transaction-local: gone after COMMIT */
  assert_int_equal(scalar(c, "SELECT length(coalesce(current_setting('hoso.scope', true), ''))", 0,
                          NULL, NULL),
                   0);

  t = (tx_case){.sql = ins, .nparams = 2, .p1 = "b", .p2 = "1", .ret = DB_TX_ROLLBACK};
  assert_int_equal(db_tx(c, DB_REPEATABLE_READ, "*", "acct-7", tx_fn, &t), DB_TX_ROLLBACK);
  assert_int_equal(scalar(c, count, 1, "b", NULL), 0);
  assert_int_equal(t.calls, 1);

  /* a unique violation is not retried, and names its constraint */
  t = (tx_case){.sql = ins, .nparams = 2, .p1 = "a", .p2 = "2", .ret = 0};
  assert_int_equal(db_tx(c, DB_SERIALIZABLE, "*", "", tx_fn, &t), -1);
  assert_int_equal(t.calls, 1);
  assert_int_equal(db_err_kind(c), DB_UNIQUE);
  assert_string_equal(db_err_sqlstate(c), "23505");
  assert_string_equal(db_err_constraint(c), "kv_pkey");
  assert_true(strlen(db_err_message(c)) > 0);

  /* fn that swallows an error and returns 0 must not look committed */
  t = (tx_case){.sql = "INSERT INTO kv (k, v) VALUES ('c', -1)", .ret = 0, .ignore_error = 1};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", tx_fn, &t), -1);
  assert_int_equal(db_err_kind(c), DB_CHECK);
  assert_int_equal(scalar(c, count, 1, "c", NULL), 0);

  /* fn failing for its own reasons (no database error): rolled back, not retried */
  t = (tx_case){.sql = "INSERT INTO kv (k, v) VALUES ('d', 1)", .ret = -1};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", tx_fn, &t), -1);
  assert_int_equal(t.calls, 1);
  assert_int_equal(db_err_kind(c), DB_OK);
  assert_int_equal(scalar(c, count, 1, "d", NULL), 0);

  /* the other classes */
  assert_null(db_q(c, "INSERT INTO kv (k, v, parent) VALUES ('e', 1, 99)", 0));
  assert_int_equal(db_err_kind(c), DB_FOREIGN_KEY);
  assert_string_equal(db_err_constraint(c), "kv_parent_fkey");
  assert_null(db_q(c, "INSERT INTO kv (k, v) VALUES ('e', NULL)", 0));
  assert_int_equal(db_err_kind(c), DB_CHECK);
  assert_string_equal(db_err_sqlstate(c), "23502");
  assert_null(db_q(c, "INSERT INTO kv (k, v) VALUES ('e', $1::int)", 1, "not a number"));
  assert_int_equal(db_err_kind(c), DB_CHECK);
  assert_string_equal(db_err_sqlstate(c), "22P02");
  assert_null(db_q(c, "SELEC 1", 0));
  assert_int_equal(db_err_kind(c), DB_OTHER);
  assert_string_equal(db_err_sqlstate(c), "42601");
  /* a statement timeout is its own class (the timeout applies from the next statement on) */
  assert_int_equal(db_cmd(c, "SELECT set_config('statement_timeout', '50', false)", 0), 0);
  t = (tx_case){.sql = "SELECT pg_sleep(2)", .ret = 0};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", tx_fn, &t), -1);
  assert_int_equal(db_err_kind(c), DB_TIMEOUT);
  assert_int_equal(t.calls, 1);
  assert_int_equal(db_cmd(c, "SELECT set_config('statement_timeout', '0', false)", 0), 0);
  /* db_tx_timeout: set with the transaction's scope (one statement), for that transaction only:
   * the next one, given none, runs as long as it needs */
  db_tx_timeout(c, 50);
  t = (tx_case){.sql = "SELECT pg_sleep(0.3)", .ret = 0};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", tx_fn, &t), -1);
  assert_int_equal(db_err_kind(c), DB_TIMEOUT);
  t = (tx_case){.sql = "SELECT pg_sleep(0.3)", .ret = 0};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", tx_fn, &t), 0);
  db_err_clear(c);
  assert_int_equal(db_err_kind(c), DB_OK);
  assert_string_equal(db_err_sqlstate(c), "");

  /* a NULL parameter is SQL NULL, and text travels untouched (no pasting, no quoting issues) */
  assert_int_equal(scalar(c, "SELECT ($1::text IS NULL)::int", 1, NULL, NULL), 1);
  const char *evil = "x'); DROP TABLE kv; --";
  assert_int_equal(db_cmd(c, ins, 2, evil, "5"), 0);
  assert_int_equal(scalar(c, count, 1, evil, NULL), 1);

  /* session settings made at connect time */
  char *s = text1(c, "SELECT current_setting('TimeZone') || '|' || "
                     "current_setting('application_name') || '|' || "
                     "current_setting('client_encoding') || '|' || current_schema()");
  assert_string_equal(s, "UTC|hoso-txs|UTF8|txs");
  free(s);
  db_close(c);
}

typedef struct {
  pthread_barrier_t *barrier;
  int attempts;
  int rc;
} ser_arg;

/* Read the counter, meet the other thread, write read+1: one of the two must fail with 40001
 * (at its UPDATE or COMMIT) and be run again by db_tx. */
static int ser_fn(db_conn *c, void *arg) {
  ser_arg *a = arg;
  a->attempts++;
  PGresult *r = db_q(c, "SELECT v FROM counter WHERE id = 1", 0);
  if (!r) return -1;
  char next[16];
  snprintf(next, sizeof next, "%d", atoi(PQgetvalue(r, 0, 0)) + 1);
  PQclear(r);
  if (a->attempts == 1) pthread_barrier_wait(a->barrier);
  return db_cmd(c, "UPDATE counter SET v = $1::int WHERE id = 1", 1, next);
}

static void *ser_thread(void *arg) {
  ser_arg *a = arg;
  db_conn *c = db_open(pg.dsn, "txs");
  a->rc = db_tx(c, DB_SERIALIZABLE, "*", "", ser_fn, a);
  db_close(c);
  return NULL;
}

static void test_tx_serialization_retry(void **state) {
  (void)state;
  db_conn *c = open_migrated("txs", migs_tx);
  assert_int_equal(db_cmd(c, "UPDATE counter SET v = 0 WHERE id = 1", 0), 0);
  pthread_barrier_t b;
  pthread_barrier_init(&b, NULL, 2);
  ser_arg a1 = {&b, 0, 9}, a2 = {&b, 0, 9};
  pthread_t t1, t2;
  pthread_create(&t1, NULL, ser_thread, &a1);
  pthread_create(&t2, NULL, ser_thread, &a2);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  pthread_barrier_destroy(&b);
  assert_int_equal(a1.rc, 0);
  assert_int_equal(a2.rc, 0);
  /* both increments survived: the loser re-read the winner's value */
  assert_int_equal(scalar(c, "SELECT v FROM counter WHERE id = 1", 0, NULL, NULL), 2);
  assert_true(a1.attempts + a2.attempts > 2);
  db_close(c);
}

/* --- row-level security ------------------------------------------------------------------ */

static const db_migration migs_rls[] = {
    {1, "people",
     "CREATE TABLE people (id int PRIMARY KEY, path public.ltree NOT NULL);\n"
     "ALTER TABLE people ENABLE ROW LEVEL SECURITY;\n"
     "ALTER TABLE people FORCE ROW LEVEL SECURITY;\n"
     "CREATE POLICY people_scope ON people USING (in_scope(path)) WITH CHECK (in_scope(path));"},
    {0, 0, 0},
};

/* The same table a release later: a new column filled from the rows already there. */
static const db_migration migs_rls_v2[] = {
    {1, "people",
     "CREATE TABLE people (id int PRIMARY KEY, path public.ltree NOT NULL);\n"
     "ALTER TABLE people ENABLE ROW LEVEL SECURITY;\n"
     "ALTER TABLE people FORCE ROW LEVEL SECURITY;\n"
     "CREATE POLICY people_scope ON people USING (in_scope(path)) WITH CHECK (in_scope(path));"},
    {2, "people_tag",
     "ALTER TABLE people ADD COLUMN tag text;\n"
     "UPDATE people SET tag = 'tagged ' || id;\n"
     "ALTER TABLE people ALTER COLUMN tag SET NOT NULL;"},
    {0, 0, 0},
};

typedef struct {
  const char *then_scope; /* db_set_scope to this, then count again (NULL: don't) */
  long n, n2;
} count_arg;

static int count_fn(db_conn *c, void *arg) {
  count_arg *a = arg;
  PGresult *r = db_q(c, "SELECT count(*) FROM people", 0);
  if (!r) return -1;
  a->n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  if (!a->then_scope) return 0;
  if (db_set_scope(c, a->then_scope) < 0) return -1;
  r = db_q(c, "SELECT count(*) FROM people", 0);
  if (!r) return -1;
  a->n2 = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return 0;
}

static long visible(db_conn *c, const char *scope) {
  count_arg a = {0};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, scope, "", count_fn, &a), 0);
  return a.n;
}

static int tagged_fn(db_conn *c, void *arg) {
  PGresult *r = db_q(c, "SELECT count(*) FROM people WHERE tag = 'tagged ' || id", 0);
  if (!r) return -1;
  *(long *)arg = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return 0;
}

/* Rows whose tag the migration set, counted with every unit in scope. */
static long scalar_tx_tagged(db_conn *c) {
  long n = -1;
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", tagged_fn, &n), 0);
  return n;
}

static void test_rls_scope(void **state) {
  (void)state;
  db_conn *c = open_migrated("rls", migs_rls);
  tx_case t = {.sql = "INSERT INTO people VALUES (1, '1.2'), (2, '1.3.5')", .ret = 0};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", tx_fn, &t), 0);

  assert_int_equal(visible(c, "1.3"), 1);    /* 1.2 is a sibling: invisible */
  assert_int_equal(visible(c, "1.2"), 1);
  assert_int_equal(visible(c, "1"), 2);      /* the parent sees its whole subtree */
  assert_int_equal(visible(c, "*"), 2);
  assert_int_equal(visible(c, "1.2,1.3"), 2);
  assert_int_equal(visible(c, "1.4"), 0);
  assert_int_equal(visible(c, ""), 0);       /* no scope: nothing */
  assert_int_equal(visible(c, NULL), 0);
  /* an empty element is not the root of everything */
  assert_int_equal(visible(c, "1.2,,"), 1);
  /* outside any transaction the setting is unset: RLS shows nothing */
  assert_int_equal(scalar(c, "SELECT count(*) FROM people", 0, NULL, NULL), 0);

  /* writing outside the scope is refused by the policy's WITH CHECK */
  t = (tx_case){.sql = "INSERT INTO people VALUES (3, '1.2.9')", .ret = 0};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "1.3", "", tx_fn, &t), -1);
  assert_int_equal(db_err_kind(c), DB_RLS);
  assert_string_equal(db_err_sqlstate(c), "42501");
  t = (tx_case){.sql = "INSERT INTO people VALUES (3, '1.3.9')", .ret = 0};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "1.3", "", tx_fn, &t), 0);

  /* db_set_scope widens the view inside one transaction */
  count_arg a = {.then_scope = "*"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "1.3", "", count_fn, &a), 0);
  assert_int_equal(a.n, 2);
  assert_int_equal(a.n2, 3);

  /* A later migration filling a new column sees every row whatever the policy (it runs with
   * every unit in scope): without that its UPDATE saw none and the NOT NULL failed. */
  assert_int_equal(db_migrate(c, "rls", migs_rls_v2), 0);
  assert_int_equal(scalar_tx_tagged(c), 3);
  db_close(c);
}

/* --- widening the scope: srv_all_units ------------------------------------------------------ */

/* Rows of people visible now, and the scope setting, in the current transaction. */
static long people_seen(srv_ctx *ctx) {
  PGresult *r = db_q(ctx->db, "SELECT count(*), current_setting('hoso.scope', true) FROM people", 0);
  if (!r) return -1;
  long n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

static const char *scope_now(srv_ctx *ctx) {
  PGresult *r = db_q(ctx->db, "SELECT current_setting('hoso.scope', true)", 0);
  if (!r) return "(error)";
  const char *s = srv_strdup(ctx, PQgetvalue(r, 0, 0));
  PQclear(r);
  return s;
}

typedef struct {
  int ret;       /* what the widened body returns */
  int fail;      /* it sets a status first (srv_fail) */
  int bad_sql;   /* it runs a failing statement first */
  int nest;      /* it widens again inside */
  long seen, seen_nested;
} widen_case;

static int widened(srv_ctx *ctx, void *arg) {
  widen_case *w = arg;
  w->seen = people_seen(ctx);
  if (w->nest) {
    widen_case inner = {0};
    if (srv_all_units(ctx, widened, &inner) != 0) return -1;
    w->seen_nested = people_seen(ctx); /* still widened: the outer call sets it back */
  }
  if (w->bad_sql && db_cmd(ctx->db, "SELECT no_such_column FROM people", 0) == 0) return 0;
  if (w->fail) srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "x: not there");
  return w->ret;
}

typedef struct {
  long before, after[5];
  const char *scope_after[5];
  int rc[5];
  long narrowed_after;
  const char *narrowed_scope;
} widen_run;

/* Every way out of the widened body, one after the other in one transaction: after each, the
 * caller's scope again (one row of two visible). */
static int widen_tx(srv_ctx *ctx, void *arg) {
  widen_run *run = arg;
  widen_case cases[5] = {{.ret = 0}, {.ret = DB_TX_ROLLBACK, .fail = 1}, {.ret = -1, .fail = 1}, {.ret = 1},
                         {.ret = 0, .nest = 1}};
  run->before = people_seen(ctx);
  for (int i = 0; i < 5; i++) {
    run->rc[i] = srv_all_units(ctx, widened, &cases[i]);
    grpc_status_code code;
    srv_fail_take(ctx, &code); /* the test goes on in the same transaction */
    if (cases[i].seen != 2 || (cases[i].nest && cases[i].seen_nested != 2)) run->rc[i] = 99;
    run->after[i] = people_seen(ctx);
    run->scope_after[i] = scope_now(ctx);
  }
  /* A scope narrowed on purpose is the one set back. */
  if (srv_set_scope(ctx, "1.2") != 0) return -1;
  widen_case c = {.ret = 0};
  if (srv_all_units(ctx, widened, &c) != 0 || c.seen != 2) return -1;
  run->narrowed_after = people_seen(ctx);
  run->narrowed_scope = scope_now(ctx);
  return 0;
}

static int widen_bad_sql_tx(srv_ctx *ctx, void *arg) {
  widen_case c = {.bad_sql = 1};
  *(int *)arg = srv_all_units(ctx, widened, &c);
  return *(int *)arg;
}

static void test_all_units_restores_scope(void **state) {
  (void)state;
  db_conn *c = open_migrated("widen", migs_rls);
  tx_case t = {.sql = "INSERT INTO people VALUES (1, '1.2'), (2, '1.3.5')", .ret = 0};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", tx_fn, &t), 0);
  tok_claims who;
  memset(&who, 0, sizeof who);
  snprintf(who.sub, sizeof who.sub, "acct-9");
  snprintf(who.scope, sizeof who.scope, "1.3");
  srv_ctx *ctx = srv_job_new(c, "/hoso.test/Widen");
  assert_non_null(ctx);
  ctx->auth = &who;
  widen_run run;
  memset(&run, 0, sizeof run);
  assert_int_equal(srv_tx(ctx, DB_READ_COMMITTED, widen_tx, &run), 0);
  assert_int_equal(run.before, 1);
  const int want_rc[5] = {0, DB_TX_ROLLBACK, -1, 1, 0};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(run.rc[i], want_rc[i]);
    assert_int_equal(run.after[i], 1);
    assert_string_equal(run.scope_after[i], "1.3");
  }
  assert_int_equal(run.narrowed_after, 1);
  assert_string_equal(run.narrowed_scope, "1.2");
  /* A failed statement aborts the transaction: nothing more runs in it, and it is rolled back
   * with its widened setting; the next transaction has the caller's scope. */
  srv_job_reset(ctx);
  ctx->auth = &who;
  int rc = 0;
  assert_int_equal(srv_tx(ctx, DB_READ_COMMITTED, widen_bad_sql_tx, &rc), -1);
  assert_int_equal(rc, -1);
  srv_job_reset(ctx);
  ctx->auth = &who;
  assert_int_equal(visible(c, who.scope), 1);
  srv_job_free(ctx);
  db_close(c);
}

/* --- prepared statements ------------------------------------------------------------------ */

/* How many times this session ran the prepared statement whose text is sql (-1: not prepared). */
static long runs_prepared(db_conn *c, const char *sql) {
  return scalar(c,
                "SELECT coalesce(sum(generic_plans + custom_plans), -1) FROM pg_prepared_statements "
                "WHERE statement = $1",
                1, sql, NULL);
}

static long prepared_total(db_conn *c) {
  return scalar(c, "SELECT count(*) FROM pg_prepared_statements", 0, NULL, NULL);
}

static int run_fn(db_conn *c, void *arg) { return db_cmd(c, arg, 0); }

typedef struct {
  int from, n, wrong;
} many_arg;

/* n distinct statements, each checked against its own answer. */
static int many_fn(db_conn *c, void *arg) {
  many_arg *a = arg;
  for (int i = a->from; i < a->from + a->n; i++) {
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT $1::int * %d", i);
    PGresult *r = db_q(c, sql, 1, "2");
    if (!r) return -1;
    if (atol(PQgetvalue(r, 0, 0)) != 2L * i) a->wrong++;
    PQclear(r);
  }
  return 0;
}

static void test_prepared_statements(void **state) {
  (void)state;
  db_conn *c = open_migrated("prep", migs_rls);
  static const char q[] = "SELECT $1::int + 1";
  /* Prepared once, then run by name: the session counts five runs of one statement with this
   * text, and each answered for its own parameter. */
  for (int i = 0; i < 5; i++) {
    char p[8];
    snprintf(p, sizeof p, "%d", i);
    assert_int_equal(scalar(c, q, 1, p, NULL), i + 1);
  }
  assert_int_equal(runs_prepared(c, q), 5);

  /* A statement without parameters always runs its one generic plan; the policy must still
   * read hoso.scope at each run, not when the plan was made. */
  tx_case t = {.sql = "INSERT INTO people VALUES (1, '1.2'), (2, '1.3.5'), (3, '1.3.9')"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", tx_fn, &t), 0);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(visible(c, "1.2"), 1);
    assert_int_equal(visible(c, "1.3"), 2);
    assert_int_equal(visible(c, "1"), 3);
    assert_int_equal(visible(c, "1.4"), 0);
  }
  assert_true(runs_prepared(c, "SELECT count(*) FROM people") >= 16);

  /* Errors are classified as before: a duplicate names its constraint each time, and a
   * statement that does not parse is reported and never kept. */
  for (int i = 0; i < 2; i++) {
    t = (tx_case){.sql = "INSERT INTO people VALUES (1, '1.2')"};
    assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", tx_fn, &t), -1);
    assert_int_equal(db_err_kind(c), DB_UNIQUE);
    assert_string_equal(db_err_constraint(c), "people_pkey");
  }
  assert_null(db_q(c, "SELEC 1", 0));
  assert_int_equal(db_err_kind(c), DB_OTHER);
  assert_string_equal(db_err_sqlstate(c), "42601");
  assert_int_equal(runs_prepared(c, "SELEC 1"), -1);
  assert_int_equal(scalar(c, q, 1, "41", NULL), 42);

  /* The session's statements vanish behind our back: outside a transaction the call is made
   * again at once; inside one the transaction fails as a whole (here its own COMMIT, prepared
   * by the visible() before, is gone) and the next one prepares afresh. */
  assert_int_equal(db_cmd(c, "DEALLOCATE ALL", 0), 0);
  assert_int_equal(scalar(c, q, 1, "1", NULL), 2);
  assert_int_equal(runs_prepared(c, q), 1);
  assert_int_equal(visible(c, "1"), 3);
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", run_fn, "DEALLOCATE ALL"), -1);
  assert_string_equal(db_err_sqlstate(c), "26000");
  assert_int_equal(visible(c, "1"), 3);

  /* A table changed under a statement that returns its columns: PostgreSQL refuses the old
   * statement once; the next call prepares it again and sees the new column. */
  assert_int_equal(db_cmd(c, "CREATE TABLE wide (a int)", 0), 0);
  assert_int_equal(db_cmd(c, "INSERT INTO wide VALUES (1)", 0), 0);
  PGresult *r = db_q(c, "SELECT * FROM wide", 0);
  assert_non_null(r);
  assert_int_equal(PQnfields(r), 1);
  PQclear(r);
  assert_int_equal(db_cmd(c, "ALTER TABLE wide ADD COLUMN b int", 0), 0);
  r = db_q(c, "SELECT * FROM wide", 0);
  if (r) {
    PQclear(r);
  } else {
    assert_string_equal(db_err_sqlstate(c), "0A000");
    r = db_q(c, "SELECT * FROM wide", 0);
  }
  assert_non_null(r);
  assert_int_equal(PQnfields(r), 2);
  PQclear(r);

  /* Bounded: many distinct texts evict the least recently used, outside and inside a
   * transaction (there the evicted are deallocated once the connection is idle again); every
   * answer stays right and the session never holds more than the cache's 256. */
  many_arg m = {.from = 1, .n = 300};
  assert_int_equal(many_fn(c, &m), 0);
  assert_int_equal(m.wrong, 0);
  m = (many_arg){.from = 1000, .n = 300};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", many_fn, &m), 0);
  assert_int_equal(m.wrong, 0);
  assert_int_equal(db_ensure(c), 0);
  long total = prepared_total(c);
  assert_true(total > 200 && total <= 256);

  /* After a restart the new session has none of them: each is prepared again on first use. */
  assert_int_equal(th_pg_stop(&pg), 0);
  assert_int_equal(th_pg_restart_server(&pg), 0);
  assert_int_equal(db_ensure(c), 0);
  assert_int_equal(scalar(c, q, 1, "6", NULL), 7);
  assert_int_equal(runs_prepared(c, q), 1);
  assert_int_equal(visible(c, "1.3"), 2);

  /* The backend killed between calls: the next one fails only as UNAVAILABLE, and once the
   * connection is remade the statement is prepared on the new session. */
  db_conn *killer = db_open(pg.dsn, "prep");
  char pid[32];
  snprintf(pid, sizeof pid, "%ld", scalar(c, "SELECT pg_backend_pid()", 0, NULL, NULL));
  assert_int_equal(scalar(killer, "SELECT pg_terminate_backend($1::int)::int", 1, pid, NULL), 1);
  r = db_q(c, q, 1, "7");
  if (r)
    PQclear(r);
  else
    assert_int_equal(db_err_kind(c), DB_UNAVAILABLE);
  assert_int_equal(db_ensure(c), 0);
  assert_int_equal(scalar(c, q, 1, "8", NULL), 9);
  db_close(killer);

  /* HOSO_PG_PREPARE=0 keeps the unnamed statements of before. */
  setenv("HOSO_PG_PREPARE", "0", 1);
  db_conn *plain = db_open(pg.dsn, "prep");
  unsetenv("HOSO_PG_PREPARE");
  assert_int_equal(scalar(plain, q, 1, "1", NULL), 2);
  assert_int_equal(prepared_total(plain), 0);
  db_close(plain);
  db_close(c);
}

/* --- audit -------------------------------------------------------------------------------- */

typedef struct {
  int from, n;
  int ret;
} audit_arg;

static int audit_fn(db_conn *c, void *arg) {
  audit_arg *a = arg;
  for (int i = 0; i < a->n; i++) {
    char id[16], detail[64];
    snprintf(id, sizeof id, "%d", a->from + i);
    snprintf(detail, sizeof detail, "{\"i\":%d,\"note\":\"Nguyễn Văn Đức\"}", a->from + i);
    audit_entry e = {
        .actor_id = "acct-1",
        .actor_name = (a->from + i) % 2 ? "Trần Thị Bình" : "admin",
        .action = "ACCOUNT_CREATE",
        .target_type = "account",
        .target_id = id,
        .unit_path = "1.2",
        .outcome = "ok",
        .client_addr = "127.0.0.1",
        .request_id = "req",
        .detail_json = (a->from + i) % 5 ? detail : NULL,
    };
    if (audit_write(c, &e) < 0) return -1;
  }
  return a->ret;
}

static void write_audit(db_conn *c, int isolation, int from, int n, int ret, int expect) {
  audit_arg a = {from, n, ret};
  assert_int_equal(db_tx(c, isolation, "*", "acct-1", audit_fn, &a), expect);
}

typedef struct {
  int isolation, base;
  int committed, conflicts, other;
} audit_thread_arg;

static void *audit_thread(void *arg) {
  audit_thread_arg *a = arg;
  db_conn *c = db_open(pg.dsn, "aud");
  for (int i = 0; i < 20; i++) {
    audit_arg w = {a->base + i, 1, 0};
    if (db_tx(c, a->isolation, "*", "", audit_fn, &w) == 0)
      a->committed++;
    else if (db_err_kind(c) == DB_SERIALIZATION)
      a->conflicts++;
    else
      a->other++;
  }
  db_close(c);
  return NULL;
}

/* The body of test_audit_sql_hash_matches_c: one audit row of the entry in arg. */
static int audit_one_fn(db_conn *c, void *arg) { return audit_write(c, arg); }

static int hexv(char ch) { return ch <= '9' ? ch - '0' : ch - 'a' + 10; }

static void test_audit_sql_hash_matches_c(void **state) {
  (void)state;
  /* audit_append (migration 003) hashes in SQL; audit_row_hash in C is the definition (pinned
   * by test_audit's known answer) and what the verifier uses. Rows with empty and NULL fields,
   * multi-byte UTF-8 (3- and 4-byte) and long text must hash the same both ways. */
  db_conn *c = open_migrated("audh", NULL);
  char longtxt[3000];
  memset(longtxt, 'x', sizeof longtxt - 1);
  longtxt[sizeof longtxt - 1] = 0;
  audit_entry es[] = {
      {.actor_id = "1", .actor_name = "Nguyễn Văn Ánh", .action = "RECORD_READ",
       .target_type = "record", .target_id = "42", .unit_path = "1.4.17", .outcome = "OK",
       .client_addr = "::1", .request_id = "r1", .detail_json = "{\"k\": \"Đặng 😀\"}"},
      {0},
      {.actor_id = "", .actor_name = longtxt, .action = "X", .detail_json = "{}"},
  };
  for (size_t i = 0; i < sizeof es / sizeof es[0]; i++)
    assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", audit_one_fn, &es[i]), 0);
  char ch[8];
  snprintf(ch, sizeof ch, "%d", db_audit_chain(c));
  PGresult *r = db_q(c,
                     "SELECT seq, at, encode(prev_hash, 'hex'), encode(hash, 'hex') FROM audit_log "
                     "WHERE chain = $1::smallint ORDER BY seq",
                     1, ch);
  assert_non_null(r);
  assert_int_equal(PQntuples(r), 3);
  for (int i = 0; i < 3; i++) {
    uint8_t prev[32], h[32];
    const char *ph = PQgetvalue(r, i, 2);
    for (int k = 0; k < 32; k++) prev[k] = (uint8_t)(hexv(ph[2 * k]) << 4 | hexv(ph[2 * k + 1]));
    audit_row_hash(prev, strtoll(PQgetvalue(r, i, 0), NULL, 10), PQgetvalue(r, i, 1), &es[i], h);
    char hex[65];
    for (int k = 0; k < 32; k++) snprintf(hex + 2 * k, 3, "%02x", h[k]);
    assert_string_equal(hex, PQgetvalue(r, i, 3));
  }
  PQclear(r);
  int64_t rows = -1, bad = -1;
  assert_int_equal(audit_verify(c, "audh", &rows, &bad), 0);
  assert_int_equal(rows, 3);
  assert_int_equal(bad, 0);
  db_close(c);
}

static void test_audit_chain(void **state) {
  (void)state;
  db_conn *c = open_migrated("aud", NULL);
  int64_t rows = -1, bad = -1;

  assert_int_equal(audit_verify(c, "aud", &rows, &bad), 0);
  assert_int_equal(rows, 0);

  for (int i = 0; i < 10; i++) write_audit(c, DB_READ_COMMITTED, i * 5 + 1, 5, 0, 0);
  assert_int_equal(audit_verify(c, "aud", &rows, &bad), 0);
  assert_int_equal(rows, 50);

  /* a rolled-back transaction takes its audit rows with it and leaves no gap */
  write_audit(c, DB_READ_COMMITTED, 900, 3, DB_TX_ROLLBACK, DB_TX_ROLLBACK);
  write_audit(c, DB_SERIALIZABLE, 51, 1, 0, 0);
  assert_int_equal(scalar(c, "SELECT max(seq) FROM audit_log", 0, NULL, NULL), 51);
  assert_int_equal(scalar(c, "SELECT count(*) FROM audit_log", 0, NULL, NULL), 51);
  assert_int_equal(audit_verify(c, "aud", &rows, &bad), 0);
  assert_int_equal(rows, 51);

  /* stored as hashed: NULL detail is "{}", the time is RFC 3339 UTC with microseconds */
  char *s = text1(c, "SELECT detail || '|' || (at ~ '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z$') "
                     "FROM audit_log WHERE seq = 5");
  assert_string_equal(s, "{}|true");
  free(s);
  s = text1(c, "SELECT actor_name FROM audit_log WHERE seq = 1");
  assert_string_equal(s, "Trần Thị Bình");
  free(s);

  /* writers racing, one of them under REPEATABLE READ. READ COMMITTED writers queue on the
   * head row and always succeed. A REPEATABLE READ writer whose snapshot predates the other's
   * commit gets a serialization failure (retried by db_tx; under heavy contention it may
   * still give up): never a duplicate seq, never a fork in the chain. */
  audit_thread_arg t1 = {DB_READ_COMMITTED, 1000, 0, 0, 0}, t2 = {DB_REPEATABLE_READ, 2000, 0, 0, 0};
  pthread_t th1, th2;
  pthread_create(&th1, NULL, audit_thread, &t1);
  pthread_create(&th2, NULL, audit_thread, &t2);
  pthread_join(th1, NULL);
  pthread_join(th2, NULL);
  assert_int_equal(t1.committed, 20);
  assert_int_equal(t1.other + t2.other, 0);
  assert_int_equal(t2.committed + t2.conflicts, 20);
  assert_true(t2.committed > 0);
  int total = 51 + t1.committed + t2.committed;
  assert_int_equal(audit_verify(c, "aud", &rows, &bad), 0);
  assert_int_equal(rows, total);

  char out[512], want[256];
  assert_int_equal(run_verify(pg.dsn, "aud", out, sizeof out), 0);
  snprintf(want, sizeof want, "audit chain of aud: %d rows intact in %d chains\n", total, DB_AUDIT_CHAINS);
  assert_string_equal(out, want);

  /* the application role cannot change or remove audit rows, nor move the head */
  assert_int_equal(db_cmd(c, "UPDATE audit_log SET actor_id = 'x' WHERE seq = 3", 0), -1);
  assert_int_equal(db_err_kind(c), DB_RLS);
  assert_int_equal(db_cmd(c, "DELETE FROM audit_log WHERE seq = 3", 0), -1);
  assert_int_equal(db_err_kind(c), DB_RLS);
  assert_int_equal(db_cmd(c, "TRUNCATE audit_log", 0), -1);
  assert_int_equal(db_err_kind(c), DB_RLS);
  assert_int_equal(db_cmd(c, "UPDATE audit_head SET seq = 5", 0), -1);
  assert_int_equal(db_err_kind(c), DB_RLS);
  assert_int_equal(db_cmd(c, "DELETE FROM audit_head", 0), -1);
  assert_int_equal(db_err_kind(c), DB_RLS);
  /* nor slip a row in that does not continue the chain */
  assert_int_equal(db_cmd(c,
                          "INSERT INTO audit_log (seq, at, action, prev_hash, hash) VALUES "
                          "(500, 'x', 'FORGED', '\\x00', '\\x00')",
                          0),
                   -1);
  assert_int_equal(audit_verify(c, "aud", &rows, &bad), 0);

  /* the superuser can get around the trigger; the chain still tells */
  PGconn *a = admin();
  admin_exec(a, "ALTER TABLE aud.audit_log DISABLE TRIGGER audit_log_no_update");
  /* the writers above used three connections, so three chains have a row 17: tamper with c's */
  char tamper[160];
  snprintf(tamper, sizeof tamper, "UPDATE aud.audit_log SET actor_name = 'mallory' WHERE seq = 17 AND chain = %d",
           db_audit_chain(c));
  admin_exec(a, tamper);
  admin_exec(a, "ALTER TABLE aud.audit_log ENABLE TRIGGER audit_log_no_update");
  assert_int_equal(audit_verify(c, "aud", &rows, &bad), 1);
  assert_int_equal(bad, 17);
  /* the chains are walked in order: rows counts those before c's (which chain a connection
   * gets depends on how many were opened before) and c's 16 good ones */
  char chain_s[8];
  snprintf(chain_s, sizeof chain_s, "%d", db_audit_chain(c));
  assert_int_equal(rows, 16 + scalar(c, "SELECT count(*) FROM audit_log WHERE chain < $1::smallint", 1, chain_s, NULL));
  assert_int_equal(run_verify(pg.dsn, "aud", out, sizeof out), 1);
  char at_sql[128];
  snprintf(at_sql, sizeof at_sql, "SELECT at FROM audit_log WHERE seq = 17 AND chain = %d", db_audit_chain(c));
  s = text1(c, at_sql);
  snprintf(want, sizeof want, "audit chain of aud broken at row 17 of chain %d (ACCOUNT_CREATE by mallory at %s)\n",
           db_audit_chain(c), s);
  free(s);
  assert_string_equal(out, want);

  /* rows cut off the end leave no hole in the chain; the head row shows it */
  db_conn *c2 = open_migrated("aud2", NULL);
  write_audit(c2, DB_READ_COMMITTED, 1, 5, 0, 0);
  assert_int_equal(audit_verify(c2, "aud2", &rows, &bad), 0);
  admin_exec(a, "ALTER TABLE aud2.audit_log DISABLE TRIGGER audit_log_no_update");
  admin_exec(a, "DELETE FROM aud2.audit_log WHERE seq >= 4");
  admin_exec(a, "ALTER TABLE aud2.audit_log ENABLE TRIGGER audit_log_no_update");
  assert_int_equal(audit_verify(c2, "aud2", &rows, &bad), 1);
  assert_int_equal(bad, 4);
  assert_int_equal(run_verify(pg.dsn, "aud2", out, sizeof out), 1);
  snprintf(want, sizeof want, "audit chain of aud2 broken at row 4 of chain %d (row missing)\n", db_audit_chain(c2));
  assert_string_equal(out, want);
  PQfinish(a);

  /* what cannot be checked is exit 2, not "intact" */
  assert_int_equal(audit_verify(c, "no_such_schema", &rows, &bad), -1);
  assert_int_equal(run_verify(pg.dsn, "no_such_schema", out, sizeof out), 2);
  char dead[600];
  snprintf(dead, sizeof dead, "host=%s port=1 dbname=hoso user=hoso connect_timeout=2", pg.sock_dir);
  assert_int_equal(run_verify(dead, "aud", out, sizeof out), 2);
  db_close(c2);
  db_close(c);
}

/* --- idempotency ----------------------------------------------------------------------- */

typedef struct {
  const char *actor, *rid, *done_target;
  int rc;
  char target[64];
  sem_t *claimed; /* posted after the claim, before the (slow) commit */
  int slow_ms;
  int ret; /* what the transaction body returns */
} idem_arg;

/* A call of /hoso.test/Create by `actor` on connection c, as a handler sees it. The caller
 * frees it with srv_job_free. */
static srv_ctx *idem_call(db_conn *c, const char *actor, tok_claims *who) {
  srv_ctx *ctx = srv_job_new(c, "/hoso.test/Create");
  assert_non_null(ctx);
  memset(who, 0, sizeof *who);
  snprintf(who->sub, sizeof who->sub, "%s", actor);
  ctx->auth = who;
  return ctx;
}

static int idem_fn(db_conn *c, void *arg) {
  idem_arg *a = arg;
  tok_claims who;
  srv_ctx *ctx = idem_call(c, a->actor, &who);
  int ret = a->ret;
  a->rc = idem_begin(ctx, a->rid, a->target, sizeof a->target);
  if (a->rc < 0) ret = -1;
  if (a->rc >= 0 && a->claimed) sem_post(a->claimed);
  if (a->rc >= 0 && a->slow_ms) usleep((useconds_t)a->slow_ms * 1000);
  if (a->rc == 0 && a->done_target && idem_done(ctx, a->rid, a->done_target) < 0) ret = -1;
  srv_job_free(ctx);
  return ret;
}

static void *idem_thread(void *arg) {
  idem_arg *a = arg;
  db_conn *c = db_open(pg.dsn, "idem");
  if (db_tx(c, DB_READ_COMMITTED, "*", a->actor, idem_fn, a) != 0) a->rc = -7;
  db_close(c);
  return NULL;
}

static void test_idempotency(void **state) {
  (void)state;
  db_conn *c = open_migrated("idem", NULL);
  idem_arg a = {.actor = "acct-1", .rid = "req-1", .done_target = "42"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", idem_fn, &a), 0);
  assert_int_equal(a.rc, 0);

  a = (idem_arg){.actor = "acct-1", .rid = "req-1", .done_target = "43"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", idem_fn, &a), 0);
  assert_int_equal(a.rc, 1);
  assert_string_equal(a.target, "42");

  /* the id is per actor */
  a = (idem_arg){.actor = "acct-2", .rid = "req-1", .done_target = "44"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", idem_fn, &a), 0);
  assert_int_equal(a.rc, 0);

  /* no id: nothing tracked, every call proceeds */
  for (int i = 0; i < 2; i++) {
    a = (idem_arg){.actor = "acct-1", .rid = "", .done_target = "45"};
    assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", idem_fn, &a), 0);
    assert_int_equal(a.rc, 0);
  }
  assert_int_equal(scalar(c, "SELECT count(*) FROM idempotency", 0, NULL, NULL), 2);

  /* a first call that rolled back did not happen: the retry proceeds */
  a = (idem_arg){.actor = "acct-1", .rid = "req-2", .done_target = "46", .ret = DB_TX_ROLLBACK};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", idem_fn, &a), DB_TX_ROLLBACK);
  assert_int_equal(a.rc, 0);
  a = (idem_arg){.actor = "acct-1", .rid = "req-2", .done_target = "47"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", idem_fn, &a), 0);
  assert_int_equal(a.rc, 0);

  /* a repeat arriving while the first call is still in flight waits for it and then returns
   * its result instead of doing the work twice */
  sem_t claimed;
  sem_init(&claimed, 0, 0);
  idem_arg first = {.actor = "acct-1", .rid = "req-3", .done_target = "99", .claimed = &claimed,
                    .slow_ms = 300};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, idem_thread, &first), 0);
  sem_wait(&claimed);
  a = (idem_arg){.actor = "acct-1", .rid = "req-3", .done_target = "100"};
  assert_int_equal(db_tx(c, DB_READ_COMMITTED, "*", "", idem_fn, &a), 0);
  pthread_join(t, NULL);
  sem_destroy(&claimed);
  assert_int_equal(first.rc, 0);
  assert_int_equal(a.rc, 1);
  assert_string_equal(a.target, "99");

  /* a target that does not fit the caller's buffer is an error, never a cut id */
  char small[2];
  tok_claims who;
  srv_ctx *ctx = idem_call(c, "acct-1", &who);
  assert_int_equal(db_cmd(c, "BEGIN", 0), 0);
  assert_int_equal(idem_begin(ctx, "req-3", small, sizeof small), -1);
  assert_int_equal(db_cmd(c, "ROLLBACK", 0), 0);
  srv_job_free(ctx);
  db_close(c);
}

/* --- reconnect --------------------------------------------------------------------------- */

static int never_fn(db_conn *c, void *arg) {
  (void)c;
  (*(int *)arg)++;
  return 0;
}

static int suicide_fn(db_conn *c, void *arg) {
  (*(int *)arg)++;
  return db_cmd(c, "SELECT pg_terminate_backend(pg_backend_pid())", 0);
}

static void test_reconnect(void **state) {
  (void)state;
  db_conn *c = db_open(pg.dsn, "rc");
  assert_non_null(c);
  assert_int_equal(scalar(c, "SELECT 1", 0, NULL, NULL), 1);

  assert_int_equal(th_pg_stop(&pg), 0);
  assert_int_equal(th_pg_restart_server(&pg), 0);
  /* the old socket is dead; this call may fail, but only as UNAVAILABLE */
  PGresult *r = db_q(c, "SELECT 1", 0);
  if (r)
    PQclear(r);
  else
    assert_int_equal(db_err_kind(c), DB_UNAVAILABLE);
  assert_int_equal(db_ensure(c), 0);
  assert_int_equal(scalar(c, "SELECT 2", 0, NULL, NULL), 2);
  /* the new session got the same settings */
  char *s = text1(c, "SELECT current_setting('application_name') || '|' || current_setting('TimeZone')");
  assert_string_equal(s, "hoso-rc|UTC");
  free(s);

  /* db_ensure notices a server restarted while the connection sat idle, so the first call
   * after it already works */
  assert_int_equal(th_pg_stop(&pg), 0);
  assert_int_equal(th_pg_restart_server(&pg), 0);
  assert_int_equal(db_ensure(c), 0);
  assert_int_equal(scalar(c, "SELECT 3", 0, NULL, NULL), 3);

  /* during an outage: UNAVAILABLE at once, the body never runs, nothing retried */
  assert_int_equal(th_pg_stop(&pg), 0);
  db_conn *late = db_open(pg.dsn, "rc"); /* opening while the server is down still works */
  assert_non_null(late);
  assert_int_equal(db_ensure(c), -1);
  assert_int_equal(db_err_kind(c), DB_UNAVAILABLE);
  int calls = 0;
  assert_int_equal(db_tx(c, DB_SERIALIZABLE, "*", "", never_fn, &calls), -1);
  assert_int_equal(calls, 0);
  assert_int_equal(db_err_kind(c), DB_UNAVAILABLE);
  assert_null(db_q(late, "SELECT 1", 0));
  assert_int_equal(db_err_kind(late), DB_UNAVAILABLE);
  assert_int_equal(th_pg_restart_server(&pg), 0);
  assert_int_equal(db_ensure(c), 0);
  assert_int_equal(db_ensure(late), 0);
  assert_int_equal(scalar(late, "SELECT 4", 0, NULL, NULL), 4);

  /* the connection dies inside a transaction: -1 UNAVAILABLE, one attempt only */
  calls = 0;
  assert_int_equal(db_tx(c, DB_SERIALIZABLE, "*", "", suicide_fn, &calls), -1);
  assert_int_equal(calls, 1);
  assert_int_equal(db_err_kind(c), DB_UNAVAILABLE);
  assert_int_equal(db_ensure(c), 0);
  assert_int_equal(scalar(c, "SELECT 5", 0, NULL, NULL), 5);
  db_close(late);
  db_close(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_migrate_idempotent),
      cmocka_unit_test(test_migrate_concurrent),
      cmocka_unit_test(test_tx_commit_rollback),
      cmocka_unit_test(test_tx_begin_pipelined),
      cmocka_unit_test(test_tx_later),
      cmocka_unit_test(test_commit_with_next),
      cmocka_unit_test(test_tx_serialization_retry),
      cmocka_unit_test(test_rls_scope),
      cmocka_unit_test(test_audit_chain),
      cmocka_unit_test(test_audit_sql_hash_matches_c),
      cmocka_unit_test(test_idempotency),
      cmocka_unit_test(test_reconnect),
      /* last: their connections would shift the audit chains test_audit_chain counts on */
      cmocka_unit_test(test_prepared_statements),
      cmocka_unit_test(test_all_units_restores_scope),
  };
  return cmocka_run_group_tests(tests, setup_cluster, teardown_cluster);
}
