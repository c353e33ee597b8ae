/* Login throttling (throttle.h): which counters a try is counted in, the growing delays, and
 * the gate for password checks from unfamiliar places. The SQL is store_throttle.c. */
#include "throttle.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "cfg.h"
#include "key_seal.h"
#include "pw.h"
#include "log.h"
#include "store_throttle.h"

static long delay_base(void) { return cfg_int("HOSO_LOGIN_DELAY_SECONDS", 5, 1, 3600); }

static void add(thr_try *t, char kind, const char *key, int free_tries) {
  t->kind[t->n] = kind;
  snprintf(t->key[t->n], sizeof t->key[t->n], "%s", key);
  t->free_tries[t->n] = free_tries;
  t->n++;
}

static long cap_of(const thr_try *t) { return t->who == THR_SERVICE ? THR_SERVICE_CAP_SECONDS : THR_CAP_SECONDS; }

long throttle_begin(db_conn *db, thr_who who, const char *name, const char *addr, thr_try *t) {
  memset(t, 0, sizeof *t);
  t->who = who;
  snprintf(t->name, sizeof t->name, "%s", name);
  snprintf(t->addr, sizeof t->addr, "%s", addr ? addr : "");
  char pair[sizeof t->key[0]];
  snprintf(pair, sizeof pair, "%s|%s", t->addr, t->name);
  t->known = *t->addr ? st_known(db, t->name, t->addr, THR_KNOWN_DAYS) : 0;
  if (t->known < 0) return -1;
  if (who == THR_SERVICE) {
    add(t, 's', pair, THR_SERVICE_FREE);
  } else {
    add(t, 'p', pair, THR_PAIR_FREE);
    /* At home, a person answers only for their own mistakes there: guesses at the name from
     * elsewhere, and at other names from this address, do not lock them out. */
    if (!t->known) {
      add(t, 'u', t->name, THR_NAME_FREE);
      if (*t->addr) add(t, 'a', t->addr, THR_ADDR_FREE);
    }
  }
  const char *kinds[3], *keys[3];
  char ks[3][2];
  for (int i = 0; i < t->n; i++) {
    ks[i][0] = t->kind[i];
    ks[i][1] = 0;
    kinds[i] = ks[i];
    keys[i] = t->key[i];
  }
  st_counter c[3];
  if (st_lock(db, t->n, kinds, keys, THR_FORGET_HOURS, c) != 0) return -1;
  long wait = 0;
  for (int i = 0; i < t->n; i++)
    if (c[i].wait > wait) wait = c[i].wait;
  if (wait > 0) {
    t->n = 0; /* nothing counted: nothing to take back */
    return wait;
  }
  long base = delay_base(), cap = cap_of(t);
  for (int i = 0; i < t->n; i++) {
    long f = c[i].failures + 1;
    if (st_set(db, kinds[i], keys[i], f, thr_delay(f, t->free_tries[i], base, cap)) != 0) return -1;
  }
  return 0;
}

int throttle_end(db_conn *db, const thr_try *t, thr_outcome outcome) {
  if (outcome == THR_FAILED) return 0;
  for (int i = 0; i < t->n; i++) {
    char k[2] = {t->kind[i], 0};
    int rc = outcome == THR_OK && (t->kind[i] == 'p' || t->kind[i] == 's')
                 ? st_set(db, k, t->key[i], 0, 0)
                 : st_take_back(db, k, t->key[i], t->free_tries[i]);
    if (rc != 0) return -1;
  }
  /* the address becomes (or stays) the name's own */
  if (outcome == THR_OK && *t->addr && st_home(db, t->name, t->addr) != 0) return -1;
  return 0;
}

int throttle_clear(db_conn *db, const char *name) { return st_clear_name(db, name); }

/* Hourly, in a transaction of its own; a failed round is logged and tried again in a minute. */
static long prune_round(srv_ctx *ctx, void *arg) {
  (void)arg;
  if (db_ensure(ctx->db) != 0 || st_prune(ctx->db, THR_FORGET_HOURS, THR_KNOWN_DAYS) != 0) {
    log_warn("login throttle clean-up failed (%s); retrying in a minute", db_err_message(ctx->db));
    return 60000;
  }
  return 3600 * 1000L;
}

static srv_periodic *prune_job;

int throttle_prune_start(void) {
  return (prune_job = srv_periodic_start("login-throttle-prune", "identity", prune_round, NULL, 60000)) ? 0 : -1;
}

void throttle_prune_stop(void) {
  srv_periodic_stop(prune_job);
  prune_job = NULL;
}

/* ---- the gate ----------------------------------------------------------------------------
 * Checker threads take one job at a time. A worker hands its job over only to an idle checker
 * (a worker never queues behind a flood, it is told "busy" instead), then waits for the result;
 * a job whose worker gave up is finished and freed by its checker. */

typedef struct gate_job {
  char phc[PW_PHC_MAX];
  char *password; /* wiped when done */
  int done, ok, abandoned;
} gate_job;

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER; /* jobs, idle checkers, results */
static gate_job *gate_slot;                               /* handed over, not yet taken */
static int gate_idle, gate_started;

static void job_free(gate_job *j) {
  seal_wipe_free(j->password);
  OPENSSL_cleanse(j, sizeof *j);
  free(j);
}

static void *checker_main(void *arg) {
  (void)arg;
  /* The lowest priority the kernel offers a thread without privileges: it runs on CPU that
   * normal work leaves idle. */
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
  pthread_mutex_lock(&gate_mu);
  for (;;) {
    gate_idle++;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_slot) pthread_cond_wait(&gate_cv, &gate_mu);
    gate_idle--;
    gate_job *j = gate_slot;
    gate_slot = NULL;
    pthread_mutex_unlock(&gate_mu);
    int ok = pw_verify(j->phc, j->password) == 1;
    pthread_mutex_lock(&gate_mu);
    if (j->abandoned) {
      job_free(j);
    } else {
      j->ok = ok;
      j->done = 1;
      pthread_cond_broadcast(&gate_cv);
    }
  }
  return NULL;
}

/* Starts the checkers on first use (detached: they live as long as the process). */
static void gate_start(void) {
  int n = (int)cfg_int("HOSO_LOGIN_UNFAMILIAR_SLOTS", 1, 1, 64);
  for (int i = 0; i < n; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, checker_main, NULL) == 0) pthread_detach(t);
    else log_error("login gate: cannot start a checker thread");
  }
}

static void deadline(struct timespec *t, long ms) {
  clock_gettime(CLOCK_REALTIME, t);
  t->tv_sec += ms / 1000;
  t->tv_nsec += (ms % 1000) * 1000000L;
  if (t->tv_nsec >= 1000000000L) {
    t->tv_sec++;
    t->tv_nsec -= 1000000000L;
  }
}

int throttle_gate_verify(const char *phc, const char *password, int *ok) {
  *ok = 0;
  gate_job *j = calloc(1, sizeof *j);
  if (!j || !(j->password = strdup(password))) {
    free(j);
    return 0;
  }
  snprintf(j->phc, sizeof j->phc, "%s", phc);
  struct timespec until;
  pthread_mutex_lock(&gate_mu);
  if (!gate_started) {
    gate_started = 1;
    gate_start();
  }
  deadline(&until, GATE_QUEUE_MS);
  while (gate_idle == 0 || gate_slot)
    if (pthread_cond_timedwait(&gate_cv, &gate_mu, &until) == ETIMEDOUT && (gate_idle == 0 || gate_slot)) {
      pthread_mutex_unlock(&gate_mu);
      job_free(j);
      return 0;
    }
  gate_slot = j;
  pthread_cond_broadcast(&gate_cv);
  deadline(&until, GATE_CHECK_MS);
  while (!j->done)
    if (pthread_cond_timedwait(&gate_cv, &gate_mu, &until) == ETIMEDOUT && !j->done) break;
  int done = j->done;
  if (done) {
    *ok = j->ok;
    job_free(j);
  } else if (gate_slot == j) {
    gate_slot = NULL; /* never taken */
    job_free(j);
  } else {
    j->abandoned = 1; /* its checker frees it */
  }
  pthread_mutex_unlock(&gate_mu);
  return done;
}
