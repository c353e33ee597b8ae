/* PostgreSQL access: lazily (re)made connections, parameterized queries with errors classified
 * by SQLSTATE and kept on the connection. The statement cache, pipelining, transactions and
 * migrations are in db_stmt.c, db_pipe.c, db_tx.c and db_migrate.c. */
#include "db_int.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"

void db__set_err(db_conn *c, db_errkind kind, const char *state, const char *constraint,
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
void db__classify(db_conn *c, const PGresult *r) {
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
  db__set_err(c, kind, state, cons, msg);
  log_debug("db error %s (%s)%s%s: %s", state, kind == DB_UNAVAILABLE ? "unavailable" : "query",
            cons && *cons ? " constraint " : "", cons ? cons : "", c->message);
}

/* The session settings every connection gets. The schema name travels as a parameter value
 * (quoted as an identifier, which is what search_path expects), never pasted into SQL. */
static int session_setup(db_conn *c) {
  int rc = -1;
  char *ident = PQescapeIdentifier(c->pg, c->schema, strlen(c->schema));
  char *path = NULL;
  if (!ident) {
    db__set_err(c, DB_OTHER, "", "", PQerrorMessage(c->pg));
    goto out;
  }
  if (asprintf(&path, "%s, public", ident) < 0) {
    path = NULL;
    db__set_err(c, DB_OTHER, "", "", "out of memory");
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
  db__stmts_forget(c);
  db__later_clear(c);
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
    db__set_err(c, DB_UNAVAILABLE, "", "", "out of memory");
    return -1;
  }
  if (PQstatus(c->pg) != CONNECTION_OK) {
    db__set_err(c, DB_UNAVAILABLE, "", "", PQerrorMessage(c->pg));
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
  db__stmts_forget(c);
  db__later_clear(c);
  free(c->stmts);
  free(c->tx_scope);
  free(c->tx_actor);
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
    db__set_err(c, DB_UNAVAILABLE, "", "", "connection lost inside a transaction");
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
        if (PQstatus(c->pg) == CONNECTION_OK && !c->broken) db__stmts_drop_dead(c);
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

static PGresult *run(db_conn *c, const char *sql, int n, const char *const *params, int raw) {
  if (!c->pg || c->broken || PQstatus(c->pg) != CONNECTION_OK) {
    c->broken = 1;
    db__set_err(c, DB_UNAVAILABLE, "", "", "not connected to PostgreSQL");
    return NULL;
  }
  if (c->in_tx && c->tx_ended && db__tx_again(c) != 0) return NULL;
  if (c->n_later > 0 || (c->commit_next && !raw)) {
    PGresult *r = NULL;
    if (!raw) {
      int commit = c->commit_next;
      c->commit_next = 0;
      if (db__pipe_run(c, sql, n, params, &r, commit) != 0) return NULL;
      c->tx_ended = commit;
      return r;
    }
    if (db__pipe_run(c, NULL, 0, NULL, NULL, 0) < 0) return NULL; /* a script goes out on its own */
  }
  PGresult *r = raw ? PQexec(c->pg, sql) : db__exec_params(c, sql, n, params, 1);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (r && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) return r;
  /* a COPY left open would wedge every later query on this connection */
  if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) c->broken = 1;
  db__classify(c, r);
  PQclear(r);
  return NULL;
}

PGresult *db_exec(db_conn *c, const char *sql, int n, const char *const *params) {
  return run(c, sql, n, params, 0);
}

/* Migration text is several statements, trusted and compiled into the binary. */
PGresult *db__exec_script(db_conn *c, const char *sql) { return run(c, sql, 0, NULL, 1); }

static PGresult *db_vq(db_conn *c, const char *sql, int n, va_list ap) {
  const char *stackp[16];
  const char **p = stackp;
  if (n > (int)(sizeof stackp / sizeof stackp[0])) {
    p = malloc((size_t)n * sizeof *p);
    if (!p) {
      db__set_err(c, DB_OTHER, "", "", "out of memory");
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
void db_err_clear(db_conn *c) { db__set_err(c, DB_OK, "", "", ""); }
