/* audit_batch.h: a queue of read audit rows and the writer threads that append them to the
 * chain in batches, each waiter woken when its own batch has committed (or failed). */
#include "audit_batch.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fault.h"
#include "log.h"

#define MAX_WRITERS 8
#define BATCH_ROWS 1000             /* rows per statement at most */
#define BATCH_BYTES (4u << 20)      /* and bytes of JSON */

/* One caller's row, on the caller's stack until its batch has an outcome. */
typedef struct slot {
  struct slot *next;
  char *row;      /* the row as a JSON object, malloc'd by the caller */
  size_t len;
  int state;      /* 0 waiting, 1 written, -1 failed */
  pthread_cond_t cv;
} slot;

typedef struct {
  audit_batch *b;
  pthread_t th;
  db_conn *db;
  int started;
} writer;

struct audit_batch {
  pthread_mutex_t mu;
  pthread_cond_t work; /* rows wait, or stopping */
  slot *head, *tail;   /* waiting to be taken, in arrival order */
  int stop;
  int sync;
  long timeout_ms;
  long long rows, batches;
  int n_writers;
  writer w[MAX_WRITERS];
};

/* ------------------------------------------------------------ the writer ---------------- */

typedef struct {
  const char *json;
  int sync;
} batch_tx;

static int batch_body(db_conn *c, void *arg) {
  batch_tx *t = arg;
  char chain[8];
  snprintf(chain, sizeof chain, "%d", db_audit_chain(c));
  /* Queued: it travels with the append in one round trip (the timeout with the BEGIN's
   * settings, db_tx_timeout). */
  /* Named either way: a server (or a role) set to commit without waiting must not make a read's
   * row vanish in a crash after the read was answered. */
  const char *p0[1] = {t->sync ? "on" : "off"};
  if (db_cmd_later(c, "SELECT set_config('synchronous_commit', $1, true)", 1, p0) != 0) return -1;
  const char *p2[2] = {chain, t->json};
  PGresult *r = db_exec(c, "SELECT audit_append_batch($1::smallint, $2::json)", 2, p2);
  if (!r) return -1;
  PQclear(r);
  return 0;
}

/* Takes what waits (up to a batch's bounds) off the queue; the list, NULL when there is none.
 * Called with the lock held. */
static slot *take(audit_batch *b, size_t *n, size_t *bytes) {
  slot *first = b->head, *last = NULL;
  *n = 0;
  *bytes = 2;
  for (slot *s = first; s && *n < BATCH_ROWS && (*n == 0 || *bytes + s->len + 1 <= BATCH_BYTES); s = s->next) {
    last = s;
    (*n)++;
    *bytes += s->len + 1;
  }
  if (!last) return NULL;
  b->head = last->next;
  if (!b->head) b->tail = NULL;
  last->next = NULL;
  return first;
}

static void *writer_main(void *arg) {
  writer *w = arg;
  audit_batch *b = w->b;
  log_set_request_id("audit-batch");
  pthread_mutex_lock(&b->mu);
  for (;;) {
    while (!b->head && !b->stop) pthread_cond_wait(&b->work, &b->mu);
    if (!b->head) break; /* stopping, and nothing left to write */
    size_t n, bytes;
    slot *list = take(b, &n, &bytes);
    pthread_mutex_unlock(&b->mu);

    /* One JSON array of the rows, in the order they are chained. */
    char *json = malloc(bytes + 1);
    int rc = -1;
    if (json) {
      size_t o = 0;
      json[o++] = '[';
      for (slot *s = list; s; s = s->next) {
        if (s != list) json[o++] = ',';
        memcpy(json + o, s->row, s->len);
        o += s->len;
      }
      json[o++] = ']';
      json[o] = 0;
      batch_tx t = {json, b->sync};
      if (b->timeout_ms > 0) db_tx_timeout(w->db, b->timeout_ms);
      rc = db_tx(w->db, DB_READ_COMMITTED, "*", "", batch_body, &t);
      /* the crash tests: the rows are durable, their callers not yet answered */
      if (rc == 0) fault_point("audit_batch.committed");
      if (rc != 0)
        log_error("audit batch of %zu rows not written: %s; those reads fail", n, db_err_message(w->db));
      free(json);
    } else {
      log_error("audit batch of %zu rows: out of memory; those reads fail", n);
    }

    pthread_mutex_lock(&b->mu);
    if (rc == 0) {
      b->rows += (long long)n;
      b->batches++;
    }
    for (slot *s = list, *next; s; s = next) {
      next = s->next; /* s belongs to its caller again once its state is set */
      s->state = rc == 0 ? 1 : -1;
      pthread_cond_signal(&s->cv);
    }
  }
  pthread_mutex_unlock(&b->mu);
  return NULL;
}

/* ------------------------------------------------------------ callers ------------------- */

static void put(json_t *o, const char *k, const char *v, const char *dflt) {
  json_object_set_new(o, k, json_string(v ? v : dflt));
}

/* The row as audit_append_batch reads it: every field a string, stored and hashed as given. */
static char *row_json(const audit_entry *e, const char *at, size_t *len) {
  json_t *o = json_object();
  if (!o) return NULL;
  put(o, "at", at, "");
  put(o, "actor_id", e->actor_id, "");
  put(o, "actor_name", e->actor_name, "");
  put(o, "action", e->action, "");
  put(o, "target_type", e->target_type, "");
  put(o, "target_id", e->target_id, "");
  put(o, "unit_path", e->unit_path, "");
  put(o, "outcome", e->outcome, "");
  put(o, "client_addr", e->client_addr, "");
  put(o, "request_id", e->request_id, "");
  put(o, "detail", e->detail_json, "{}");
  /* a field that is not UTF-8 made no string: refuse the row rather than write it without */
  char *s = json_object_size(o) == 11 ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  if (s) *len = strlen(s);
  return s;
}

int audit_batch_write(audit_batch *b, const audit_entry *e) {
  char at[40];
  audit_at_now(at);
  slot s = {0};
  if (!(s.row = row_json(e, at, &s.len))) {
    log_error("audit batch: the row of %s could not be encoded", e->action ? e->action : "?");
    return -1;
  }
  pthread_cond_init(&s.cv, NULL);
  pthread_mutex_lock(&b->mu);
  if (b->stop) {
    s.state = -1;
  } else {
    if (b->tail)
      b->tail->next = &s;
    else
      b->head = &s;
    b->tail = &s;
    pthread_cond_signal(&b->work);
    while (s.state == 0) pthread_cond_wait(&s.cv, &b->mu);
  }
  pthread_mutex_unlock(&b->mu);
  pthread_cond_destroy(&s.cv);
  free(s.row);
  return s.state == 1 ? 0 : -1;
}

void audit_batch_counts(audit_batch *b, long long *rows, long long *batches) {
  pthread_mutex_lock(&b->mu);
  if (rows) *rows = b->rows;
  if (batches) *batches = b->batches;
  pthread_mutex_unlock(&b->mu);
}

/* ------------------------------------------------------------ start and stop ------------ */

audit_batch *audit_batch_start(const char *dsn, const char *schema, int writers, int sync, long timeout_ms) {
  audit_batch *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->work, NULL);
  b->sync = sync;
  b->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
  if (writers < 1) writers = 1;
  if (writers > MAX_WRITERS) writers = MAX_WRITERS;
  for (int i = 0; i < writers; i++) {
    writer *w = &b->w[i];
    w->b = b;
    /* a connection of its own: the writer's chain (db_open gives connections chains in turn) */
    if (!(w->db = db_open(dsn, schema)) || pthread_create(&w->th, NULL, writer_main, w) != 0) {
      log_error("audit batch: cannot start writer %d (out of memory or threads)", i);
      b->n_writers = i + 1;
      audit_batch_stop(b);
      return NULL;
    }
    w->started = 1;
    b->n_writers = i + 1;
  }
  return b;
}

void audit_batch_stop(audit_batch *b) {
  if (!b) return;
  pthread_mutex_lock(&b->mu);
  b->stop = 1;
  pthread_cond_broadcast(&b->work);
  pthread_mutex_unlock(&b->mu);
  for (int i = 0; i < b->n_writers; i++) {
    if (b->w[i].started) pthread_join(b->w[i].th, NULL);
    db_close(b->w[i].db);
  }
  pthread_cond_destroy(&b->work);
  pthread_mutex_destroy(&b->mu);
  free(b);
}
