/* The statement cache of a PostgreSQL session (db_int.h): each distinct text prepared once and
 * run by name afterwards. */
#include "db_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sent unnamed, every statement is parsed, rewritten (row-level security policies included)
 * and planned again on each call; GetRecord's profile showed that as a tenth of PostgreSQL's
 * time. So each distinct text db_exec is given is prepared once per session, under a name of
 * ours, and executed by name afterwards. Callers see nothing of it: the same text, parameters,
 * results and errors. The names belong to the session: a new connection starts with none. */

uint64_t db__sql_hash(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

void db__stmts_forget(db_conn *c) {
  c->n_dead = 0;
  if (!c->stmts) return;
  for (int i = 0; i < DB_STMT_SLOTS; i++) {
    free(c->stmts[i].sql);
    c->stmts[i].sql = NULL;
  }
}

/* Only outside a transaction, where a failed DEALLOCATE cannot abort the caller's work. The
 * name is built from our counter, never from caller text. */
void db__stmts_drop_dead(db_conn *c) {
  if (PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF) return;
  while (c->n_dead > 0 && !c->broken) {
    char sql[48];
    snprintf(sql, sizeof sql, "DEALLOCATE hoso_%u", c->dead[--c->n_dead]);
    PQclear(PQexec(c->pg, sql));
    if (PQstatus(c->pg) != CONNECTION_OK) c->broken = 1;
  }
}

/* The statement's slot: found (sql set), to be filled (sql NULL), or NULL to run it unnamed
 * (out of memory, or a full cache inside a transaction with no room left to remember what to
 * deallocate). Outside a transaction the evicted statement is deallocated at once, so the
 * session never holds more than DB_STMT_SLOTS; inside one, at most DB_STMT_DEAD more. */
db_stmt *db__stmt_slot(db_conn *c, const char *sql, uint64_t h) {
  if (!c->stmts && !(c->stmts = calloc(DB_STMT_SLOTS, sizeof *c->stmts))) return NULL;
  db_stmt *empty = NULL, *lru = NULL;
  for (int i = 0; i < DB_STMT_SLOTS; i++) {
    db_stmt *s = &c->stmts[i];
    if (!s->sql) {
      if (!empty) empty = s;
    } else if (s->hash == h && strcmp(s->sql, sql) == 0) {
      return s;
    } else if (!lru || s->last_use < lru->last_use) {
      lru = s;
    }
  }
  if (empty) return empty;
  if (c->n_dead == DB_STMT_DEAD) return NULL;
  c->dead[c->n_dead++] = lru->id;
  free(lru->sql);
  lru->sql = NULL;
  if (PQtransactionStatus(c->pg) == PQTRANS_IDLE) db__stmts_drop_dead(c);
  return c->broken ? NULL : lru;
}

/* After running statement `id` of slot s by name: forgets what the server no longer holds.
 * True when the session had lost it (the run did nothing). */
int db__stmt_failed(db_conn *c, db_stmt *s, unsigned id, const PGresult *r) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  if (!state) return 0;
  if (!strcmp(state, "26000")) {
    /* the session lost its statements (DISCARD ALL, DEALLOCATE ALL): start again */
    db__stmts_forget(c);
    return 1;
  }
  if (!strcmp(state, "0A000") && s->sql && s->id == id) {
    /* "cached plan must not change result type": a table changed under the statement; the
     * next call prepares it afresh */
    if (c->n_dead < DB_STMT_DEAD) c->dead[c->n_dead++] = s->id;
    free(s->sql);
    s->sql = NULL;
  }
  return 0;
}

/* Runs sql by its prepared name, preparing it first if this session has not seen it. Returns
 * what libpq returned, for run() to classify: a statement that does not prepare (bad SQL, an
 * unknown table, a failed transaction) fails exactly as its unnamed run would. */
PGresult *db__exec_params(db_conn *c, const char *sql, int n, const char *const *params,
                             int may_retry) {
  uint64_t h = db__sql_hash(sql);
  db_stmt *s = c->prepare ? db__stmt_slot(c, sql, h) : NULL;
  char name[24];
  if (!s) return PQexecParams(c->pg, sql, n, NULL, params, NULL, NULL, 0);
  if (!s->sql) {
    char *copy = strdup(sql);
    if (!copy) return PQexecParams(c->pg, sql, n, NULL, params, NULL, NULL, 0);
    snprintf(name, sizeof name, "hoso_%u", c->stmt_seq + 1);
    PGresult *r = PQprepare(c->pg, name, sql, 0, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
      free(copy);
      return r;
    }
    PQclear(r);
    *s = (db_stmt){.sql = copy, .hash = h, .id = ++c->stmt_seq};
  }
  s->last_use = ++c->stmt_tick;
  snprintf(name, sizeof name, "hoso_%u", s->id);
  int idle = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
  PGresult *r = PQexecPrepared(c->pg, name, n, params, NULL, NULL, 0);
  /* Outside a transaction nothing ran and nothing was aborted, so a statement the session
   * lost is prepared and run again at once; inside one, the transaction has failed and its
   * caller decides. */
  if (db__stmt_failed(c, s, s->id, r) && idle && may_retry) {
    PQclear(r);
    return db__exec_params(c, sql, n, params, 0);
  }
  return r;
}

