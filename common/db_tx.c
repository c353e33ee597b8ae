/* Transactions (db_tx): BEGIN and the row-level scope queued with the body's first statement,
 * COMMIT checked, the whole body retried with jittered back-off on serialization failure. */
#include "db_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Ends whatever transaction is open without touching the recorded error (it says why). */
void db__rollback_quietly(db_conn *c) {
  db__later_clear(c); /* queued, never sent: nothing to undo */
  if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) return;
  PGTransactionStatusType ts = PQtransactionStatus(c->pg);
  if (ts == PQTRANS_IDLE) return;
  if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR) {
    c->broken = 1;
    return;
  }
  PGresult *r = PQexec(c->pg, "ROLLBACK");
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) c->broken = 1;
  PQclear(r);
}

/* Per-thread xorshift for retry jitter: two transactions that just collided must not retry
 * in lock step, and rand() is neither thread-safe nor worth a lock here. */
static uint32_t jitter(uint32_t bound) {
  static _Thread_local uint32_t s;
  if (!s) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s = (uint32_t)ts.tv_nsec ^ (uint32_t)(uintptr_t)&s ^ 0x9e3779b9u;
    if (!s) s = 1;
  }
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return bound ? s % bound : 0;
}

static void backoff(int attempt) {
  /* 0.5–2 ms after the first collision, doubling: short enough to stay inside a call's
   * deadline, random enough to break the tie */
  uint32_t max_us = 2000u << (attempt - 1);
  uint32_t us = 500 + jitter(max_us);
  struct timespec ts = {0, (long)us * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

#define DB_TX_TRIES 5

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void db_tx_timeout(db_conn *c, long long timeout_ms) {
  /* 0 means none: a deadline of "now" still times the statements out at once (1 ms below) */
  long long d = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
  c->tx_deadline = d > 0 ? d : 1;
}

/* BEGIN and the transaction's settings are queued, not sent: they go out in one pipeline with
 * the body's first statement (PostgreSQL takes the snapshot at that statement anyway), so a
 * transaction costs no round trip of its own. Scope, actor and the statement timeout are set by
 * one statement (each statement of a pipeline is a portal and an executor run of its own), and
 * stay parameters. */
static int begin_later(db_conn *c, const char *begin, const char *scope, const char *actor) {
  static const char set_sql[] =
      "SELECT set_config('hoso.scope', $1, true), set_config('hoso.actor', $2, true)";
  static const char set_timeout_sql[] =
      "SELECT set_config('hoso.scope', $1, true), set_config('hoso.actor', $2, true), "
      "set_config('statement_timeout', $3, true)";
  char ms[24];
  const char *p[3] = {scope ? scope : "", actor ? actor : "", ms};
  if (c->tx_deadline) {
    long long left = c->tx_deadline - mono_ms();
    snprintf(ms, sizeof ms, "%lld", left > 0 ? left : 1); /* 0 would mean no timeout at all */
  }
  if (!c->pg || c->broken || PQstatus(c->pg) != CONNECTION_OK) {
    c->broken = 1;
    db__set_err(c, DB_UNAVAILABLE, "", "", "not connected to PostgreSQL");
    return -1;
  }
  db__later_clear(c);
  if (db__later_add(c, begin, 0, NULL) < 0 ||
      db__later_add(c, c->tx_deadline ? set_timeout_sql : set_sql, c->tx_deadline ? 3 : 2, p) < 0) {
    db__later_clear(c);
    return -1;
  }
  return 0;
}

int db__tx_again(db_conn *c) {
  c->tx_ended = 0;
  return begin_later(c, c->tx_begin, c->tx_scope, c->tx_actor);
}

/* Keeps what db__tx_again needs to begin the transaction again. */
static int tx_remember(db_conn *c, const char *begin, const char *scope, const char *actor) {
  free(c->tx_scope);
  free(c->tx_actor);
  c->tx_begin = begin;
  c->tx_scope = strdup(scope ? scope : "");
  c->tx_actor = strdup(actor ? actor : "");
  if (c->tx_scope && c->tx_actor) return 0;
  db__set_err(c, DB_OTHER, "", "", "out of memory");
  return -1;
}

static int tx_run(db_conn *c, int isolation, const char *scope, const char *actor, db_tx_fn fn,
                  void *arg) {
  static const char *const begin[2][3] = {
      {"BEGIN ISOLATION LEVEL READ COMMITTED", "BEGIN ISOLATION LEVEL REPEATABLE READ",
       "BEGIN ISOLATION LEVEL SERIALIZABLE"},
      {"BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
       "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"},
  };
  int ro = (isolation & DB_READ_ONLY) != 0;
  isolation &= ~DB_READ_ONLY;
  if (isolation < DB_READ_COMMITTED || isolation > DB_SERIALIZABLE) {
    db__set_err(c, DB_OTHER, "", "", "db_tx: unknown isolation level");
    return -1;
  }
  if (c->in_tx) {
    db__set_err(c, DB_OTHER, "", "", "db_tx: nested transaction");
    return -1;
  }
  for (int attempt = 1;; attempt++) {
    db_err_clear(c);
    if (db_ensure(c) < 0) return -1;
    c->in_tx = 1;
    c->read_only = ro;
    c->commit_next = c->tx_ended = 0;
    int rc = -1;
    if (tx_remember(c, begin[ro][isolation], scope, actor) == 0 && begin_later(c, begin[ro][isolation], scope, actor) == 0) {
      rc = fn(c, arg);
      if (rc == 0 && c->tx_ended && c->n_later == 0) {
        /* committed with its last statement (db_commit_with_next) */
      } else if (rc == 0) {
        /* with statements still queued (BEGIN at least) nothing has run unseen: the COMMIT
         * carries them and fails if any of them does */
        if (c->n_later == 0 && PQtransactionStatus(c->pg) != PQTRANS_INTRANS) {
          /* fn ignored a failed statement: COMMIT would silently roll back */
          if (c->kind == DB_OK)
            db__set_err(c, DB_OTHER, "", "", "transaction body returned success after an error");
          rc = -1;
        } else {
          PGresult *r = db_exec(c, "COMMIT", 0, NULL);
          if (!r) {
            rc = -1;
          } else {
            if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
              db__set_err(c, DB_OTHER, "", "", "COMMIT did not commit");
              rc = -1;
            }
            PQclear(r);
          }
        }
      } else if (rc != DB_TX_ROLLBACK) {
        rc = -1;
      }
    }
    if (rc != 0) db__rollback_quietly(c);
    c->in_tx = c->read_only = c->commit_next = c->tx_ended = 0;
    if (rc == 0) return 0;
    if (rc == DB_TX_ROLLBACK) return DB_TX_ROLLBACK;
    if (c->kind == DB_SERIALIZATION && attempt < DB_TX_TRIES) {
      log_debug("transaction retry %d after %s: %s", attempt, c->sqlstate, c->message);
      backoff(attempt);
      continue;
    }
    return -1;
  }
}

int db_tx(db_conn *c, int isolation, const char *scope, const char *actor, db_tx_fn fn,
          void *arg) {
  int rc = tx_run(c, isolation, scope, actor, fn, arg);
  c->tx_deadline = 0; /* db_tx_timeout is for this transaction only, however it ended */
  return rc;
}

int db_set_scope(db_conn *c, const char *scope) {
  return db_cmd(c, "SELECT set_config('hoso.scope', $1, true)", 1, scope ? scope : "");
}
