/* srv_periodic: background work beside the calls (records' unit sync, identity's key rotation):
 * one thread per job with its own PostgreSQL connection and srv_job context, stoppable. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "cfg.h"
#include "log.h"
#include "srv.h"

struct srv_periodic {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop;
  const char *name;
  srv_periodic_fn fn;
  void *arg;
  long first_delay_ms;
  db_conn *db;
  srv_ctx *ctx;
};

/* Sleeps ms (monotonic clock), returning early when asked to stop. 1 when stopping. */
static int pause_ms(srv_periodic *p, long ms) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&p->mu);
  while (!p->stop && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT) {
  }
  int s = p->stop;
  pthread_mutex_unlock(&p->mu);
  return s;
}

static void *run(void *arg) {
  srv_periodic *p = arg;
  log_set_request_id(p->name);
  long wait = p->first_delay_ms;
  while (!pause_ms(p, wait > 0 ? wait : 0)) {
    srv_job_reset(p->ctx);
    wait = p->fn(p->ctx, p->arg);
  }
  return NULL;
}

srv_periodic *srv_periodic_start(const char *name, const char *schema, srv_periodic_fn fn, void *arg,
                                 long first_delay_ms) {
  srv_periodic *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->name = name;
  p->fn = fn;
  p->arg = arg;
  p->first_delay_ms = first_delay_ms;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&p->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (rc != 0) {
    free(p);
    return NULL;
  }
  pthread_mutex_init(&p->mu, NULL);
  p->db = db_open(cfg_str("HOSO_PG_DSN", CFG_PG_DSN_DEFAULT), schema);
  p->ctx = p->db ? srv_job_new(p->db, name) : NULL;
  if (!p->ctx || pthread_create(&p->th, NULL, run, p) != 0) {
    log_error("%s: cannot start (out of memory or threads)", name);
    srv_job_free(p->ctx);
    db_close(p->db);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
    return NULL;
  }
  return p;
}

void srv_periodic_stop(srv_periodic *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  /* A run in progress finishes first: its transaction is never cut. */
  pthread_join(p->th, NULL);
  srv_job_free(p->ctx);
  db_close(p->db);
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  free(p);
}
