/* Statements sent later (db_cmd_later): queued inside a transaction and sent in one libpq
 * pipeline with the next statement or the COMMIT (db_int.h). */
#include "db_int.h"

#include <stdlib.h>
#include <string.h>

/* Inside a transaction, statements whose result nobody reads (BEGIN and the transaction's
 * settings, an audit row) need not cost a round trip each: they wait on the connection and go
 * out in one libpq pipeline with the next statement, or with the COMMIT. PostgreSQL runs them
 * in order; the first failure aborts the rest of the pipeline, and the call that carried them
 * fails with that first error (db_err_*). */

/* Statements queued by db_cmd_later (their params block holds the copies). */
void db__later_clear(db_conn *c) {
  for (int i = 0; i < c->n_later; i++) free(c->later[i].params);
  c->n_later = 0;
}

/* Copies sql and its parameters into one block (params[] first, then the strings). */
int db__later_add(db_conn *c, const char *sql, int n, const char *const *params) {
  size_t len = (size_t)n * sizeof(char *) + strlen(sql) + 1;
  for (int i = 0; i < n; i++)
    if (params[i]) len += strlen(params[i]) + 1;
  char **block = malloc(len);
  if (!block) {
    db__set_err(c, DB_OTHER, "", "", "out of memory");
    return -1;
  }
  char *p = (char *)(block + n);
  for (int i = 0; i < n; i++) {
    block[i] = NULL;
    if (!params[i]) continue;
    size_t k = strlen(params[i]) + 1;
    memcpy(p, params[i], k);
    block[i] = p;
    p += k;
  }
  memcpy(p, sql, strlen(sql) + 1);
  c->later[c->n_later++] = (db_later){.sql = p, .n = n, .params = block};
  return 0;
}

/* One statement sent into a pipeline: by name (slot, id), preceded by its Parse when this
 * session had not seen it (prepare), or unnamed (slot NULL). */
typedef struct {
  db_stmt *slot;
  unsigned id;
  int prepare;
} sent_stmt;

static int pipe_send(db_conn *c, const char *sql, int n, const char *const *params, sent_stmt *it) {
  *it = (sent_stmt){0};
  uint64_t h = db__sql_hash(sql);
  db_stmt *s = c->prepare ? db__stmt_slot(c, sql, h) : NULL;
  char *copy = NULL;
  if (s && !s->sql && !(copy = strdup(sql))) s = NULL;
  if (!s) return PQsendQueryParams(c->pg, sql, n, NULL, params, NULL, NULL, 0) == 1 ? 0 : -1;
  char name[24];
  if (copy) {
    /* taken now, so a second use in this pipeline runs by name; undone if the Parse fails */
    *s = (db_stmt){.sql = copy, .hash = h, .id = ++c->stmt_seq};
    it->prepare = 1;
    snprintf(name, sizeof name, "hoso_%u", s->id);
    if (PQsendPrepare(c->pg, name, sql, 0, NULL) != 1) return -1;
  }
  s->last_use = ++c->stmt_tick;
  it->slot = s;
  it->id = s->id;
  snprintf(name, sizeof name, "hoso_%u", s->id);
  return PQsendQueryPrepared(c->pg, name, n, params, NULL, NULL, 0) == 1 ? 0 : -1;
}

/* The next result of the pipeline and the NULL that ends it. NULL with *failed set when the
 * statement failed; the first real failure is classified, the aborted rest are not. A run by
 * name (it->slot) that failed may mean the session lost the statement (stmt_failed). */
static PGresult *pipe_result(db_conn *c, ExecStatusType want, const sent_stmt *it, int *failed) {
  PGresult *r = PQgetResult(c->pg);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  int ok = st == want || (want == PGRES_TUPLES_OK && st == PGRES_COMMAND_OK);
  if (!ok) {
    if (st != PGRES_PIPELINE_ABORTED) db__classify(c, r);
    if (!r) c->broken = 1;
    if (it) (void)db__stmt_failed(c, it->slot, it->id, r);
    *failed = 1;
  }
  if (r && !c->broken) {
    PGresult *end = PQgetResult(c->pg);
    if (end) {
      PQclear(end);
      c->broken = 1;
      *failed = 1;
    }
  }
  if (!ok) {
    PQclear(r);
    return NULL;
  }
  return r;
}

static PGresult *pipe_read(db_conn *c, const sent_stmt *it, int *failed) {
  if (it->prepare) {
    int bad = 0;
    PQclear(pipe_result(c, PGRES_COMMAND_OK, NULL, &bad));
    if (bad) {
      *failed = 1;
      if (it->slot->sql && it->slot->id == it->id) {
        free(it->slot->sql);
        it->slot->sql = NULL;
      }
    }
    if (c->broken) return NULL;
  }
  return pipe_result(c, PGRES_TUPLES_OK, it->slot ? it : NULL, failed);
}

/* Sends the queued statements, then sql when given (then COMMIT when then_commit), in one
 * pipeline ending in one Sync. 0 with *out = sql's result (PGRES_TUPLES_OK/COMMAND_OK), or -1
 * (db_err_* say why). */
int db__pipe_run(db_conn *c, const char *sql, int n, const char *const *params, PGresult **out, int then_commit) {
  sent_stmt sent[DB_LATER_MAX + 2];
  int k = 0, failed = 0;
  if (out) *out = NULL;
  if (PQenterPipelineMode(c->pg) != 1) {
    db__classify(c, NULL);
    c->broken = 1;
    db__later_clear(c);
    return -1;
  }
  for (int i = 0; i < c->n_later && !failed; i++)
    failed = pipe_send(c, c->later[i].sql, c->later[i].n, (const char *const *)c->later[i].params,
                       &sent[k++]) < 0;
  int sql_at = k;
  if (!failed && sql) failed = pipe_send(c, sql, n, params, &sent[k++]) < 0;
  if (!failed && then_commit) failed = pipe_send(c, "COMMIT", 0, NULL, &sent[k++]) < 0;
  db__later_clear(c); /* libpq has copied what it sends */
  if (failed || PQpipelineSync(c->pg) != 1) {
    db__classify(c, NULL);
    c->broken = 1;
    return -1;
  }
  PGresult *last = NULL;
  for (int i = 0; i < k && !c->broken; i++) {
    PGresult *r = pipe_read(c, &sent[i], &failed);
    if (then_commit && i == k - 1 && r && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
      db__set_err(c, DB_OTHER, "", "", "COMMIT did not commit");
      failed = 1;
    }
    if (sql && i == sql_at)
      last = r;
    else
      PQclear(r);
  }
  if (!c->broken) {
    PGresult *r = PQgetResult(c->pg);
    if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC) c->broken = 1;
    PQclear(r);
  }
  if (!c->broken && PQexitPipelineMode(c->pg) != 1) c->broken = 1;
  if (c->broken && c->kind == DB_OK) db__set_err(c, DB_UNAVAILABLE, "", "", "unexpected reply in a pipeline");
  if (c->broken || failed) {
    PQclear(last);
    return -1;
  }
  if (out)
    *out = last;
  else
    PQclear(last);
  return 0;
}

int db_cmd_later(db_conn *c, const char *sql, int n, const char *const *params) {
  if (!c->in_tx) {
    PGresult *r = db_exec(c, sql, n, params);
    PQclear(r);
    return r ? 0 : -1;
  }
  if (c->tx_ended && db__tx_again(c) != 0) return -1;
  if (c->n_later == DB_LATER_MAX && db__pipe_run(c, NULL, 0, NULL, NULL, 0) < 0) return -1;
  return db__later_add(c, sql, n, params);
}

void db_commit_with_next(db_conn *c) {
  if (c->in_tx && c->read_only && !c->tx_ended) c->commit_next = 1;
}
