/* PostgreSQL access for every service: one connection per worker, parameterized queries only,
 * transactions retried on serialization failure, migrations, reconnect after an outage. */
#ifndef HOSO_DB_H
#define HOSO_DB_H

#include <stddef.h>
#include <libpq-fe.h>

typedef struct db_conn db_conn;

/* One versioned migration, generated from <service>/migrations/NNN_name.sql by the build
 * (cmake/embed_migrations.cmake). Arrays end with a {0, 0, 0} row. */
typedef struct {
  int version;
  const char *name;
  const char *sql;
} db_migration;

/* What went wrong with the last failed call on a connection. */
typedef enum {
  DB_OK = 0,
  DB_UNAVAILABLE,    /* cannot reach the server / connection lost: caller answers UNAVAILABLE */
  DB_SERIALIZATION,  /* 40001 / 40P01 after the retries were spent: ABORTED */
  DB_UNIQUE,         /* 23505; db_err_constraint() names the constraint */
  DB_FOREIGN_KEY,    /* 23503 */
  DB_CHECK,          /* 23514, 23502, 22xxx (bad data) */
  DB_TIMEOUT,        /* 57014 statement timeout / cancel: DEADLINE_EXCEEDED */
  DB_RLS,            /* 42501 row-level security refused: PERMISSION_DENIED */
  DB_OTHER           /* anything else: INTERNAL, detail only in the log */
} db_errkind;

/* Opens a connection for `schema` (search_path = schema, public). Never fails for a server
 * that is down: the connection is made or remade lazily by the next call. dsn: libpq
 * connection string (HOSO_PG_DSN). Returns NULL only on out of memory. */
db_conn *db_open(const char *dsn, const char *schema);
void db_close(db_conn *c);

/* Makes sure the connection is up, reconnecting if the server restarted. 0 or -1 (then
 * db_errkind is DB_UNAVAILABLE). Called by the server before each call. */
int db_ensure(db_conn *c);

/* Runs `sql` with n text parameters ($1..$n; a NULL pointer is SQL NULL). Returns the
 * result (PGRES_TUPLES_OK or PGRES_COMMAND_OK) to be freed with PQclear, or NULL on error,
 * with the error kept on the connection (db_err_*). Never pastes parameters into SQL.
 * Each distinct text is prepared once per session and run by name afterwards (at most 256
 * kept, least recently used dropped; prepared again after a reconnect); HOSO_PG_PREPARE=0
 * sends every statement unnamed instead. */
PGresult *db_exec(db_conn *c, const char *sql, int n, const char *const *params);
/* Convenience: db_exec with the parameters as varargs of const char *. */
PGresult *db_q(db_conn *c, const char *sql, int n, ...);
/* Runs a statement and discards the result: 0 or -1. */
int db_cmd(db_conn *c, const char *sql, int n, ...);
/* Inside db_tx: queues a statement whose result the caller does not read; it goes out in one
 * pipeline with the next statement on the connection, or with the COMMIT, saving a round
 * trip. Its failure fails that later call (db_exec NULL, db_tx -1, db_err_* describing the
 * queued statement's error) and so the whole transaction. sql and params are copied. Outside
 * a transaction it runs at once. 0 or -1. */
int db_cmd_later(db_conn *c, const char *sql, int n, const char *const *params);

/* Inside a DB_READ_ONLY transaction: the next statement is likely the transaction's last, so it
 * goes out with the COMMIT in one pipeline (one round trip for a one-statement read). Should the
 * body run another statement after it all the same (a refusal looking further), that one
 * begins the transaction again with the same isolation, scope and actor (a new snapshot).
 * Ignored outside a read-only transaction. */
void db_commit_with_next(db_conn *c);

/* A timestamptz column as RFC 3339 UTC text ("2026-05-01T08:30:00Z"), the contract's form of
 * times: `"SELECT " DB_RFC3339("u.created_at") " FROM units u"`. */
#define DB_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

db_errkind db_err_kind(const db_conn *c);
const char *db_err_sqlstate(const db_conn *c);   /* "" when none */
const char *db_err_constraint(const db_conn *c); /* "" when none */
const char *db_err_message(const db_conn *c);    /* server's message: for logs only */
void db_err_clear(db_conn *c);

enum { DB_READ_COMMITTED = 0, DB_REPEATABLE_READ = 1, DB_SERIALIZABLE = 2 };
/* Or'd with an isolation level: the transaction may not write (BEGIN ... READ ONLY). A read whose
 * audit row goes through the batch (audit_batch.h) commits without writing anything. */
#define DB_READ_ONLY 8

/* The body of a transaction. Returns 0 to commit, DB_TX_ROLLBACK to roll back (the caller
 * has recorded why), or -1 after a failed db_* call (rolled back; retried if the failure was a
 * serialization failure or deadlock). */
#define DB_TX_ROLLBACK 1
typedef int (*db_tx_fn)(db_conn *c, void *arg);

/* BEGIN at `isolation`; sets the transaction-local settings hoso.scope = scope (comma
 * separated ltree paths the caller may see, "*" for everything; row-level security policies
 * read it) and hoso.actor = actor; runs fn; COMMIT. Retries the whole body up to 5 times on
 * 40001/40P01 (fn must be safe to run again). Returns 0 committed, DB_TX_ROLLBACK, or -1
 * (db_err_* tells why). */
int db_tx(db_conn *c, int isolation, const char *scope, const char *actor, db_tx_fn fn,
          void *arg);

/* The audit log is DB_AUDIT_CHAINS hash chains, so writers on different connections do not
 * wait for each other's commits; each connection appends to one of them (1..N). */
#define DB_AUDIT_CHAINS 16
int db_audit_chain(const db_conn *c);

/* The statement timeout of the next db_tx on this connection: its statements may run until
 * timeout_ms from now (each attempt gets what is left), set with the scope and actor in the one
 * statement that begins the transaction instead of a statement of its own. Used by that db_tx
 * only (forgotten when it returns); without it the server's own statement_timeout applies. */
void db_tx_timeout(db_conn *c, long long timeout_ms);

/* Changes hoso.scope inside the current transaction (e.g. to "*" to look a target up before
 * the service's own scope check decides PERMISSION_DENIED vs NOT_FOUND, then back). 0 / -1. */
int db_set_scope(db_conn *c, const char *scope);

/* Applies the migrations not yet applied to `schema` (creating it if needed), each in its own
 * transaction, recorded in <schema>.schema_migrations; serialized across processes with an
 * advisory lock. The common migrations (audit log) are applied first, then the service's own
 * (series "service"). 0 or -1 (logged). */
int db_migrate(db_conn *c, const char *schema, const db_migration *migs);

/* A series of migrations with its own version numbers: the service's own, or a common module's
 * that only the services using the module get (e.g. "unit_tree"). */
typedef struct {
  const char *name;
  const db_migration *migs;
} db_series;
/* db_migrate with the series after the common ones, in the order given (a list ending with a
 * NULL name): a module's tables exist before the service's own migrations refer to them. */
int db_migrate_series(db_conn *c, const char *schema, const db_series *series);

/* Common migrations (common/migrations/NNN_name.sql) every service schema gets: the audit log. */
extern const db_migration common_migrations[];
extern const size_t common_migrations_count;

#endif
