/* Internals shared by the PostgreSQL files (db.c connections and queries, db_stmt.c the
 * statement cache, db_pipe.c pipelining, db_tx.c transactions, db_migrate.c migrations). */
#ifndef HOSO_DB_INT_H
#define HOSO_DB_INT_H

#include <stdint.h>
#include "db.h"

/* One statement prepared on the current session: sql is the text db_exec was given, the
 * server knows it as "hoso_<id>". A NULL sql is a free slot. */
typedef struct {
  char *sql;
  uint64_t hash;
  uint64_t last_use;
  unsigned id;
} db_stmt;

/* Enough for every fixed statement of a service plus the search's variants in use; beyond
 * that the least recently used is deallocated. */
#define DB_STMT_SLOTS 256
#define DB_STMT_DEAD 16

/* A statement queued inside a transaction whose result nobody reads: sent in one pipeline
 * with the next statement (or the COMMIT). sql and the parameters are copies. */
typedef struct {
  char *sql;
  int n;
  char **params;
} db_later;
#define DB_LATER_MAX 8

struct db_conn {
  char *dsn;
  char *schema;
  PGconn *pg;
  int broken;      /* remake the connection before the next use */
  int in_tx;       /* inside db_tx: a lost connection fails the transaction, no silent reconnect */
  int down_logged; /* an outage is logged once, not once per call */
  int audit_chain; /* which audit chain this connection appends to (audit.h) */
  int prepare;     /* keep named prepared statements (HOSO_PG_PREPARE, on by default) */
  db_stmt *stmts;  /* DB_STMT_SLOTS of them once the first statement is prepared */
  unsigned stmt_seq;
  uint64_t stmt_tick;
  unsigned dead[DB_STMT_DEAD]; /* evicted inside a transaction: deallocated when idle */
  int n_dead;
  db_later later[DB_LATER_MAX]; /* queued by db_cmd_later, sent with the next statement */
  int n_later;
  /* db_commit_with_next: the next statement of this read-only transaction goes out with its
   * COMMIT (commit_next); once it has (tx_ended), a further statement begins the transaction
   * again with the same settings (tx_begin, tx_scope, tx_actor: db_tx's). */
  int read_only, commit_next, tx_ended;
  long long tx_deadline; /* db_tx_timeout: CLOCK_MONOTONIC ms, 0 none */
  const char *tx_begin;
  char *tx_scope, *tx_actor;
  db_errkind kind;
  char sqlstate[6];
  char constraint[128];
  char message[512];
};

/* db.c: the error of the last failed call; why r (NULL: libpq returned nothing) failed, a
 * connection-level failure marking the connection broken; a migration's script. */
void db__set_err(db_conn *c, db_errkind kind, const char *state, const char *constraint, const char *msg);
void db__classify(db_conn *c, const PGresult *r);
PGresult *db__exec_script(db_conn *c, const char *sql);

/* db_stmt.c: the prepared-statement cache of a session. */
uint64_t db__sql_hash(const char *s);
void db__stmts_forget(db_conn *c);
void db__stmts_drop_dead(db_conn *c);
db_stmt *db__stmt_slot(db_conn *c, const char *sql, uint64_t h);
int db__stmt_failed(db_conn *c, db_stmt *s, unsigned id, const PGresult *r);
PGresult *db__exec_params(db_conn *c, const char *sql, int n, const char *const *params, int may_retry);

/* db_pipe.c: statements queued inside a transaction and the pipeline that sends them. */
void db__later_clear(db_conn *c);
int db__later_add(db_conn *c, const char *sql, int n, const char *const *params);
int db__pipe_run(db_conn *c, const char *sql, int n, const char *const *params, PGresult **out, int then_commit);

/* db_tx.c: ends whatever transaction is open without touching the recorded error; after an
 * early COMMIT (db_commit_with_next), queues the transaction's BEGIN and settings again. */
void db__rollback_quietly(db_conn *c);
int db__tx_again(db_conn *c);

#endif
