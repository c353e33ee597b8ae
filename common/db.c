/* PostgreSQL access: lazily (re)made connections, parameterized queries with errors classified
 * by SQLSTATE and kept on the connection, transactions retried on serialization failure. */
#include "db.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "log.h"

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
  db_errkind kind;
  char sqlstate[6];
  char constraint[128];
  char message[512];
};

static void set_err(db_conn *c, db_errkind kind, const char *state, const char *constraint,
                    const char *msg) {
  c->kind = kind;
  snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
  snprintf(c->constraint, sizeof c->constraint, "%s", constraint ? constraint : "");
  snprintf(c->message, sizeof c->message, "%s", msg ? msg : "");
  /* libpq's own messages end in a newline; logs want one line */
  size_t n = strlen(c->message);
  while (n > 0 && (c->message[n - 1] == '\n' || c->message[n - 1] == ' ')) c->message[--n] = 0;
}

/* Server notices (e.g. "extension already exists, skipping") would otherwise go to stderr as
 * plain text, breaking the one-JSON-object-per-line log. */
static void notice_cb(void *arg, const PGresult *res) {
  db_conn *c = arg;
  const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  int warn = sev && (!strcmp(sev, "WARNING") || !strcmp(sev, "FATAL") || !strcmp(sev, "PANIC") ||
                     !strcmp(sev, "ERROR"));
  log_msg(warn ? LOG_WARN_ : LOG_DEBUG_, "postgres %s: %s", sev ? sev : "NOTICE",
          msg ? msg : "");
  /* a FATAL arriving between queries (server shutting down, backend terminated) means the
   * server is closing this session, even if libpq has not read the end of the stream yet */
  if (sev && (!strcmp(sev, "FATAL") || !strcmp(sev, "PANIC"))) c->broken = 1;
}

static int is_unavailable_state(const char *s) {
  return !strncmp(s, "08", 2) ||  /* connection exception */
         !strcmp(s, "57P01") ||   /* admin shutdown */
         !strcmp(s, "57P02") ||   /* crash shutdown */
         !strcmp(s, "57P03") ||   /* cannot connect now (starting up) */
         !strcmp(s, "53300");     /* too many connections */
}

/* Records why r (NULL when libpq had nothing to return) failed. A connection-level failure
 * marks the connection broken so the next db_ensure remakes it. */
static void classify(db_conn *c, const PGresult *r) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
  const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  if (!msg || !*msg) msg = r ? PQresultErrorMessage(r) : NULL;
  if (!msg || !*msg) msg = PQerrorMessage(c->pg);
  if (r && (!msg || !*msg)) msg = PQresStatus(PQresultStatus(r));
  if (!state) state = "";

  /* After one failed statement every later one in the transaction fails with 25P02; the first
   * error is the one that says why (and whether a retry helps), so keep it. */
  if (!strcmp(state, "25P02") && c->kind != DB_OK) return;

  db_errkind kind;
  if (!r || PQstatus(c->pg) != CONNECTION_OK || is_unavailable_state(state)) {
    kind = DB_UNAVAILABLE;
    c->broken = 1;
  } else if (!strcmp(state, "40001") || !strcmp(state, "40P01")) {
    kind = DB_SERIALIZATION;
  } else if (!strcmp(state, "23505")) {
    kind = DB_UNIQUE;
  } else if (!strcmp(state, "23503")) {
    kind = DB_FOREIGN_KEY;
  } else if (!strcmp(state, "23514") || !strcmp(state, "23502") || !strncmp(state, "22", 2)) {
    kind = DB_CHECK;
  } else if (!strcmp(state, "57014")) {
    kind = DB_TIMEOUT;
  } else if (!strcmp(state, "42501")) {
    kind = DB_RLS;
  } else {
    kind = DB_OTHER;
  }
  set_err(c, kind, state, cons, msg);
  log_debug("db error %s (%s)%s%s: %s", state, kind == DB_UNAVAILABLE ? "unavailable" : "query",
            cons && *cons ? " constraint " : "", cons ? cons : "", c->message);
}

/* --- prepared statements ---------------------------------------------------------------------
 * Sent unnamed, every statement is parsed, rewritten (row-level security policies included)
 * and planned again on each call; GetRecord's profile showed that as a tenth of PostgreSQL's
 * time. So each distinct text db_exec is given is prepared once per session, under a name of
 * ours, and executed by name afterwards. Callers see nothing of it: the same text, parameters,
 * results and errors. The names belong to the session: a new connection starts with none. */

static uint64_t sql_hash(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

/* Statements queued by db_cmd_later (their params block holds the copies). */
static void later_clear(db_conn *c) {
  for (int i = 0; i < c->n_later; i++) free(c->later[i].params);
  c->n_later = 0;
}

static void stmts_forget(db_conn *c) {
  c->n_dead = 0;
  if (!c->stmts) return;
  for (int i = 0; i < DB_STMT_SLOTS; i++) {
    free(c->stmts[i].sql);
    c->stmts[i].sql = NULL;
  }
}

/* Only outside a transaction, where a failed DEALLOCATE cannot abort the caller's work. The
 * name is built from our counter, never from caller text. */
static void stmts_drop_dead(db_conn *c) {
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
static db_stmt *stmt_slot(db_conn *c, const char *sql, uint64_t h) {
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
  if (PQtransactionStatus(c->pg) == PQTRANS_IDLE) stmts_drop_dead(c);
  return c->broken ? NULL : lru;
}

/* After running statement `id` of slot s by name: forgets what the server no longer holds.
 * True when the session had lost it (the run did nothing). */
static int stmt_failed(db_conn *c, db_stmt *s, unsigned id, const PGresult *r) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  if (!state) return 0;
  if (!strcmp(state, "26000")) {
    /* the session lost its statements (DISCARD ALL, DEALLOCATE ALL): start again */
    stmts_forget(c);
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
static PGresult *exec_params(db_conn *c, const char *sql, int n, const char *const *params,
                             int may_retry) {
  uint64_t h = sql_hash(sql);
  db_stmt *s = c->prepare ? stmt_slot(c, sql, h) : NULL;
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
  if (stmt_failed(c, s, s->id, r) && idle && may_retry) {
    PQclear(r);
    return exec_params(c, sql, n, params, 0);
  }
  return r;
}

/* The session settings every connection gets. The schema name travels as a parameter value
 * (quoted as an identifier, which is what search_path expects), never pasted into SQL. */
static int session_setup(db_conn *c) {
  int rc = -1;
  char *ident = PQescapeIdentifier(c->pg, c->schema, strlen(c->schema));
  char *path = NULL;
  if (!ident) {
    set_err(c, DB_OTHER, "", "", PQerrorMessage(c->pg));
    goto out;
  }
  if (asprintf(&path, "%s, public", ident) < 0) {
    path = NULL;
    set_err(c, DB_OTHER, "", "", "out of memory");
    goto out;
  }
  char timeout[32];
  snprintf(timeout, sizeof timeout, "%ld",
           cfg_int("HOSO_PG_STATEMENT_TIMEOUT_MS", 0, 0, 24L * 3600 * 1000));
  if (db_cmd(c,
             "SELECT set_config('search_path', $1, false), set_config('TimeZone', 'UTC', false), "
             "set_config('statement_timeout', $2, false)",
             2, path, timeout) < 0)
    goto out;
  rc = 0;
out:
  free(path);
  PQfreemem(ident);
  return rc;
}

/* Makes a new connection; the previous one, if any, is dropped. */
static int db_connect(db_conn *c) {
  if (c->pg) PQfinish(c->pg);
  c->pg = NULL;
  stmts_forget(c);
  later_clear(c);
  c->broken = 1;
  char appname[80];
  snprintf(appname, sizeof appname, "hoso-%s", c->schema);
  /* Keywords before dbname are defaults the DSN may override; those after are ours. */
  const char *keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "dbname", "application_name", "client_encoding",
                        NULL};
  const char *vals[] = {"10", "30", "10", "3", c->dsn, appname, "UTF8", NULL};
  c->pg = PQconnectdbParams(keys, vals, 1);
  if (!c->pg) {
    set_err(c, DB_UNAVAILABLE, "", "", "out of memory");
    return -1;
  }
  if (PQstatus(c->pg) != CONNECTION_OK) {
    set_err(c, DB_UNAVAILABLE, "", "", PQerrorMessage(c->pg));
    if (!c->down_logged) log_warn("PostgreSQL unavailable: %s", c->message);
    c->down_logged = 1;
    return -1;
  }
  PQsetNoticeReceiver(c->pg, notice_cb, c);
  c->broken = 0;
  if (session_setup(c) < 0) {
    log_error("PostgreSQL session set-up failed: %s", c->message);
    c->broken = 1;
    if (c->kind != DB_UNAVAILABLE) c->kind = DB_UNAVAILABLE;
    return -1;
  }
  if (c->down_logged) log_info("PostgreSQL connection restored");
  c->down_logged = 0;
  return 0;
}

db_conn *db_open(const char *dsn, const char *schema) {
  db_conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->dsn = strdup(dsn ? dsn : "");
  c->schema = strdup(schema ? schema : "public");
  if (!c->dsn || !c->schema) {
    db_close(c);
    return NULL;
  }
  /* Connections take the audit chains in turn, so concurrent writers rarely share one. */
  static atomic_uint next_chain;
  c->audit_chain = (int)(atomic_fetch_add(&next_chain, 1) % DB_AUDIT_CHAINS) + 1;
  c->prepare = cfg_bool("HOSO_PG_PREPARE", 1);
  c->broken = 1;
  (void)db_ensure(c); /* a server that is down now is retried by the next call */
  return c;
}

int db_audit_chain(const db_conn *c) { return c->audit_chain; }

void db_close(db_conn *c) {
  if (!c) return;
  if (c->pg) PQfinish(c->pg);
  stmts_forget(c);
  later_clear(c);
  free(c->stmts);
  free(c->dsn);
  free(c->schema);
  free(c);
}

int db_ensure(db_conn *c) {
  int up = c->pg && !c->broken && PQstatus(c->pg) == CONNECTION_OK;
  if (c->in_tx) {
    /* inside db_tx a lost connection is the transaction's failure, never silently remade */
    if (up) return 0;
    c->broken = 1;
    set_err(c, DB_UNAVAILABLE, "", "", "connection lost inside a transaction");
    return -1;
  }
  if (up) {
    switch (PQtransactionStatus(c->pg)) {
    case PQTRANS_IDLE:
      /* A server that restarted since the last call has sent a FATAL and closed our socket:
       * reading and parsing what is pending (without blocking; PQisBusy parses, and the FATAL
       * reaches notice_cb) notices that now instead of failing the next query. */
      if (PQconsumeInput(c->pg)) {
        (void)PQisBusy(c->pg);
        PGnotify *nt;
        while ((nt = PQnotifies(c->pg))) PQfreemem(nt);
        if (PQstatus(c->pg) == CONNECTION_OK && !c->broken) stmts_drop_dead(c);
        if (PQstatus(c->pg) == CONNECTION_OK && !c->broken) return 0;
      }
      break;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR: {
      /* a caller left a transaction open: never let the next call run inside it */
      log_warn("db connection was left inside a transaction; rolling it back");
      PGresult *r = PQexec(c->pg, "ROLLBACK");
      int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      if (ok) return 0;
      break;
    }
    default:
      break;
    }
  }
  return db_connect(c);
}

/* --- statements sent later ----------------------------------------------------------------
 * Inside a transaction, statements whose result nobody reads (BEGIN and the transaction's
 * settings, an audit row) need not cost a round trip each: they wait on the connection and go
 * out in one libpq pipeline with the next statement, or with the COMMIT. PostgreSQL runs them
 * in order; the first failure aborts the rest of the pipeline, and the call that carried them
 * fails with that first error (db_err_*). */

/* Copies sql and its parameters into one block (params[] first, then the strings). */
static int later_add(db_conn *c, const char *sql, int n, const char *const *params) {
  size_t len = (size_t)n * sizeof(char *) + strlen(sql) + 1;
  for (int i = 0; i < n; i++)
    if (params[i]) len += strlen(params[i]) + 1;
  char **block = malloc(len);
  if (!block) {
    set_err(c, DB_OTHER, "", "", "out of memory");
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
  uint64_t h = sql_hash(sql);
  db_stmt *s = c->prepare ? stmt_slot(c, sql, h) : NULL;
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
    if (st != PGRES_PIPELINE_ABORTED) classify(c, r);
    if (!r) c->broken = 1;
    if (it) (void)stmt_failed(c, it->slot, it->id, r);
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

/* Sends the queued statements, then sql when given, in one pipeline ending in one Sync.
 * 0 with *out = sql's result (PGRES_TUPLES_OK/COMMAND_OK), or -1 (db_err_* say why). */
static int pipe_run(db_conn *c, const char *sql, int n, const char *const *params, PGresult **out) {
  sent_stmt sent[DB_LATER_MAX + 1];
  int k = 0, failed = 0;
  if (out) *out = NULL;
  if (PQenterPipelineMode(c->pg) != 1) {
    classify(c, NULL);
    c->broken = 1;
    later_clear(c);
    return -1;
  }
  for (int i = 0; i < c->n_later && !failed; i++)
    failed = pipe_send(c, c->later[i].sql, c->later[i].n, (const char *const *)c->later[i].params,
                       &sent[k++]) < 0;
  if (!failed && sql) failed = pipe_send(c, sql, n, params, &sent[k++]) < 0;
  later_clear(c); /* libpq has copied what it sends */
  if (failed || PQpipelineSync(c->pg) != 1) {
    classify(c, NULL);
    c->broken = 1;
    return -1;
  }
  PGresult *last = NULL;
  for (int i = 0; i < k && !c->broken; i++) {
    PGresult *r = pipe_read(c, &sent[i], &failed);
    if (sql && i == k - 1)
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
  if (c->broken && c->kind == DB_OK) set_err(c, DB_UNAVAILABLE, "", "", "unexpected reply in a pipeline");
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
  if (c->n_later == DB_LATER_MAX && pipe_run(c, NULL, 0, NULL, NULL) < 0) return -1;
  return later_add(c, sql, n, params);
}

static PGresult *run(db_conn *c, const char *sql, int n, const char *const *params, int raw) {
  if (!c->pg || c->broken || PQstatus(c->pg) != CONNECTION_OK) {
    c->broken = 1;
    set_err(c, DB_UNAVAILABLE, "", "", "not connected to PostgreSQL");
    return NULL;
  }
  if (c->n_later > 0) {
    PGresult *r = NULL;
    if (!raw) return pipe_run(c, sql, n, params, &r) == 0 ? r : NULL;
    if (pipe_run(c, NULL, 0, NULL, NULL) < 0) return NULL; /* a script goes out on its own */
  }
  PGresult *r = raw ? PQexec(c->pg, sql) : exec_params(c, sql, n, params, 1);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (r && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) return r;
  /* a COPY left open would wedge every later query on this connection */
  if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) c->broken = 1;
  classify(c, r);
  PQclear(r);
  return NULL;
}

PGresult *db_exec(db_conn *c, const char *sql, int n, const char *const *params) {
  return run(c, sql, n, params, 0);
}

/* Migration text is several statements, trusted and compiled into the binary. */
static PGresult *exec_script(db_conn *c, const char *sql) { return run(c, sql, 0, NULL, 1); }

static PGresult *db_vq(db_conn *c, const char *sql, int n, va_list ap) {
  const char *stackp[16];
  const char **p = stackp;
  if (n > (int)(sizeof stackp / sizeof stackp[0])) {
    p = malloc((size_t)n * sizeof *p);
    if (!p) {
      set_err(c, DB_OTHER, "", "", "out of memory");
      return NULL;
    }
  }
  for (int i = 0; i < n; i++) p[i] = va_arg(ap, const char *);
  PGresult *r = db_exec(c, sql, n, p);
  if (p != stackp) free(p);
  return r;
}

PGresult *db_q(db_conn *c, const char *sql, int n, ...) {
  va_list ap;
  va_start(ap, n);
  PGresult *r = db_vq(c, sql, n, ap);
  va_end(ap);
  return r;
}

int db_cmd(db_conn *c, const char *sql, int n, ...) {
  va_list ap;
  va_start(ap, n);
  PGresult *r = db_vq(c, sql, n, ap);
  va_end(ap);
  if (!r) return -1;
  PQclear(r);
  return 0;
}

db_errkind db_err_kind(const db_conn *c) { return c->kind; }
const char *db_err_sqlstate(const db_conn *c) { return c->sqlstate; }
const char *db_err_constraint(const db_conn *c) { return c->constraint; }
const char *db_err_message(const db_conn *c) { return c->message; }
void db_err_clear(db_conn *c) { set_err(c, DB_OK, "", "", ""); }

/* Ends whatever transaction is open without touching the recorded error (it says why). */
static void rollback_quietly(db_conn *c) {
  later_clear(c); /* queued, never sent: nothing to undo */
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

/* BEGIN and the transaction's settings are queued, not sent: they go out in one pipeline with
 * the body's first statement (PostgreSQL takes the snapshot at that statement anyway), so a
 * transaction costs no round trip of its own. Scope and actor stay parameters. */
static int begin_later(db_conn *c, const char *begin, const char *scope, const char *actor) {
  static const char set_sql[] =
      "SELECT set_config('hoso.scope', $1, true), set_config('hoso.actor', $2, true)";
  const char *p[2] = {scope ? scope : "", actor ? actor : ""};
  if (!c->pg || c->broken || PQstatus(c->pg) != CONNECTION_OK) {
    c->broken = 1;
    set_err(c, DB_UNAVAILABLE, "", "", "not connected to PostgreSQL");
    return -1;
  }
  later_clear(c);
  if (later_add(c, begin, 0, NULL) < 0 || later_add(c, set_sql, 2, p) < 0) {
    later_clear(c);
    return -1;
  }
  return 0;
}

int db_tx(db_conn *c, int isolation, const char *scope, const char *actor, db_tx_fn fn,
          void *arg) {
  static const char *const begin[] = {
      "BEGIN ISOLATION LEVEL READ COMMITTED",
      "BEGIN ISOLATION LEVEL REPEATABLE READ",
      "BEGIN ISOLATION LEVEL SERIALIZABLE",
  };
  if (isolation < DB_READ_COMMITTED || isolation > DB_SERIALIZABLE) {
    set_err(c, DB_OTHER, "", "", "db_tx: unknown isolation level");
    return -1;
  }
  if (c->in_tx) {
    set_err(c, DB_OTHER, "", "", "db_tx: nested transaction");
    return -1;
  }
  for (int attempt = 1;; attempt++) {
    db_err_clear(c);
    if (db_ensure(c) < 0) return -1;
    c->in_tx = 1;
    int rc = -1;
    if (begin_later(c, begin[isolation], scope, actor) == 0) {
      rc = fn(c, arg);
      if (rc == 0) {
        /* with statements still queued (BEGIN at least) nothing has run unseen: the COMMIT
         * carries them and fails if any of them does */
        if (c->n_later == 0 && PQtransactionStatus(c->pg) != PQTRANS_INTRANS) {
          /* fn ignored a failed statement: COMMIT would silently roll back */
          if (c->kind == DB_OK)
            set_err(c, DB_OTHER, "", "", "transaction body returned success after an error");
          rc = -1;
        } else {
          PGresult *r = db_exec(c, "COMMIT", 0, NULL);
          if (!r) {
            rc = -1;
          } else {
            if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
              set_err(c, DB_OTHER, "", "", "COMMIT did not commit");
              rc = -1;
            }
            PQclear(r);
          }
        }
      } else if (rc != DB_TX_ROLLBACK) {
        rc = -1;
      }
    }
    if (rc != 0) rollback_quietly(c);
    c->in_tx = 0;
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

int db_set_scope(db_conn *c, const char *scope) {
  return db_cmd(c, "SELECT set_config('hoso.scope', $1, true)", 1, scope ? scope : "");
}

/* --- migrations ------------------------------------------------------------------------------
 * <schema>.schema_migrations (series, version, name, applied_at) records what was applied.
 * The common migrations (common/migrations, series 'common'), a common module's (e.g.
 * common/migrations/unit_tree, series 'unit_tree') and the service's own (series 'service') are
 * independent version series, so a service's 001 never collides with common's 001. */

/* One advisory lock key ("hosomigr") for every schema: services starting together on one
 * database also race on the shared extensions, not only on their own schema. */
#define MIGRATE_LOCK_KEY "7525360424773576562"

static int check_order(const char *series, const db_migration *m) {
  int last = 0;
  for (; m && m->version; m++) {
    if (m->version <= last || !m->name || !m->sql) {
      log_error("migrations (%s): version %d is out of order, repeated or incomplete", series,
                m->version);
      return -1;
    }
    last = m->version;
  }
  return 0;
}

static int apply_one(db_conn *c, const char *schema, const char *path, const char *ins,
                     const char *series, const db_migration *m) {
  char ver[16];
  snprintf(ver, sizeof ver, "%d", m->version);
  PGresult *r = NULL;
  /* search_path is transaction-local, so the SQL files name no schema and the session keeps
   * its own path afterwards; a migration may build indexes for as long as it takes */
  if (db_cmd(c, "BEGIN", 0) < 0 ||
      db_cmd(c,
             "SELECT set_config('search_path', $1, true), "
             "set_config('statement_timeout', '0', true)",
             1, path) < 0 ||
      !(r = exec_script(c, m->sql)) || db_cmd(c, ins, 3, series, ver, m->name) < 0 ||
      db_cmd(c, "COMMIT", 0) < 0) {
    log_error("migration %s/%s %03d_%s failed: %s%s%s", schema, series, m->version, m->name,
              c->sqlstate, *c->sqlstate ? " " : "", c->message);
    PQclear(r);
    rollback_quietly(c);
    return -1;
  }
  PQclear(r);
  log_info("migration applied: %s/%s %03d_%s", schema, series, m->version, m->name);
  return 0;
}

static int apply_series(db_conn *c, const char *schema, const char *table, const char *path,
                        const char *series, const db_migration *migs) {
  int rc = -1;
  char *sel = NULL, *ins = NULL;
  PGresult *done = NULL;
  if (asprintf(&sel, "SELECT version, name FROM %s WHERE series = $1 ORDER BY version", table) <
      0)
    sel = NULL;
  if (asprintf(&ins, "INSERT INTO %s (series, version, name) VALUES ($1, $2, $3)", table) < 0)
    ins = NULL;
  if (!sel || !ins) {
    set_err(c, DB_OTHER, "", "", "out of memory");
    goto out;
  }
  if (!(done = db_q(c, sel, 1, series))) goto out;
  int n = PQntuples(done);
  /* versions the database has but this binary lacks: an older binary after a newer one */
  for (int i = 0; i < n; i++) {
    int v = atoi(PQgetvalue(done, i, 0));
    const db_migration *m = migs;
    while (m && m->version && m->version != v) m++;
    if (!m || !m->version)
      log_warn("schema %s has %s migration %d (%s) that this binary does not know", schema, series,
               v, PQgetvalue(done, i, 1));
    else if (strcmp(m->name, PQgetvalue(done, i, 1)) != 0)
      log_warn("schema %s: %s migration %d was applied as '%s', this binary calls it '%s'", schema,
               series, v, PQgetvalue(done, i, 1), m->name);
  }
  for (const db_migration *m = migs; m && m->version; m++) {
    int applied = 0;
    for (int i = 0; i < n && !applied; i++) applied = atoi(PQgetvalue(done, i, 0)) == m->version;
    if (applied) continue;
    if (apply_one(c, schema, path, ins, series, m) < 0) goto out;
  }
  rc = 0;
out:
  PQclear(done);
  free(sel);
  free(ins);
  return rc;
}

int db_migrate(db_conn *c, const char *schema, const db_migration *migs) {
  const db_series series[] = {{"service", migs}, {NULL, NULL}};
  return db_migrate_series(c, schema, series);
}

int db_migrate_series(db_conn *c, const char *schema, const db_series *series) {
  static const char *const extensions[] = {
      "CREATE EXTENSION IF NOT EXISTS ltree WITH SCHEMA public",
      "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
      "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public",
  };
  int rc = -1, locked = 0;
  char *ident = NULL, *path = NULL, *table = NULL, *sql = NULL;
  if (!schema || !*schema) {
    log_error("db_migrate: no schema given");
    return -1;
  }
  if (check_order("common", common_migrations) < 0) return -1;
  for (const db_series *x = series; x && x->name; x++)
    if (strcmp(x->name, "common") == 0 || check_order(x->name, x->migs) < 0) return -1;
  if (c->in_tx) {
    log_error("db_migrate: called inside a transaction");
    return -1;
  }
  db_err_clear(c);
  if (db_ensure(c) < 0) goto out;
  if (db_cmd(c, "SELECT pg_advisory_lock($1::bigint)", 1, MIGRATE_LOCK_KEY) < 0) goto out;
  locked = 1;
  for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
    if (db_cmd(c, extensions[i], 0) < 0) goto out;
  if (!(ident = PQescapeIdentifier(c->pg, schema, strlen(schema)))) {
    set_err(c, DB_OTHER, "", "", PQerrorMessage(c->pg));
    goto out;
  }
  if (asprintf(&path, "%s, public", ident) < 0) path = NULL;
  if (asprintf(&table, "%s.schema_migrations", ident) < 0) table = NULL;
  if (asprintf(&sql, "CREATE SCHEMA IF NOT EXISTS %s", ident) < 0) sql = NULL;
  if (!path || !table || !sql) {
    set_err(c, DB_OTHER, "", "", "out of memory");
    goto out;
  }
  if (db_cmd(c, sql, 0) < 0) goto out;
  free(sql);
  if (asprintf(&sql,
               "CREATE TABLE IF NOT EXISTS %s (series text NOT NULL, version int NOT NULL, "
               "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), "
               "PRIMARY KEY (series, version))",
               table) < 0) {
    sql = NULL;
    set_err(c, DB_OTHER, "", "", "out of memory");
    goto out;
  }
  if (db_cmd(c, sql, 0) < 0) goto out;
  if (apply_series(c, schema, table, path, "common", common_migrations) < 0) goto out;
  for (const db_series *x = series; x && x->name; x++)
    if (apply_series(c, schema, table, path, x->name, x->migs) < 0) goto out;
  rc = 0;
out:
  if (rc < 0) log_error("migrations of schema %s stopped: %s", schema, c->message);
  if (locked && c->pg && PQstatus(c->pg) == CONNECTION_OK) {
    /* quietly: the error recorded above says why we stopped; a lost connection has released
     * the lock anyway */
    const char *key = MIGRATE_LOCK_KEY;
    PQclear(PQexecParams(c->pg, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, &key, NULL,
                         NULL, 0));
  }
  free(sql);
  free(table);
  free(path);
  PQfreemem(ident);
  return rc;
}
