/* Login throttling (throttle.h): which counters a try is counted in, the growing delays, and
 * the gate for password checks from unfamiliar places. The SQL is store_throttle.c. */
#include "throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cfg.h"
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

long throttle_begin(srv_ctx *ctx, thr_who who, const char *name, const char *addr, thr_try *t) {
  memset(t, 0, sizeof *t);
  t->who = who;
  snprintf(t->name, sizeof t->name, "%s", name);
  snprintf(t->addr, sizeof t->addr, "%s", addr ? addr : "");
  char pair[sizeof t->key[0]];
  snprintf(pair, sizeof pair, "%s|%s", t->addr, t->name);
  long wait_pair = 0, wait_others = 0;
  if (throttle_peek(ctx, t->name, t->addr, who == THR_SERVICE ? "s" : "p", pair, THR_KNOWN_DAYS, &t->known, &wait_pair,
              &wait_others) != 0)
    return -1;
  if (!*t->addr) t->known = 0;
  /* A refusal decided on what is already there costs no lock and no write; an allowed try is
   * decided again below, under the locks. */
  long seen = wait_pair;
  if (who == THR_PERSON && !t->known && wait_others > seen) seen = wait_others;
  if (seen > 0) return seen;
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
  throttle_counter c[3];
  if (throttle_lock(ctx, t->n, kinds, keys, THR_FORGET_HOURS, c) != 0) return -1;
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
    if (throttle_set(ctx, kinds[i], keys[i], f, thr_delay(f, t->free_tries[i], base, cap)) != 0) return -1;
  }
  return 0;
}

int throttle_end(srv_ctx *ctx, const thr_try *t, thr_outcome outcome) {
  if (outcome == THR_FAILED) return 0;
  for (int i = 0; i < t->n; i++) {
    char k[2] = {t->kind[i], 0};
    int rc = outcome == THR_OK && (t->kind[i] == 'p' || t->kind[i] == 's')
                 ? throttle_set(ctx, k, t->key[i], 0, 0)
                 : throttle_take_back(ctx, k, t->key[i], t->free_tries[i]);
    if (rc != 0) return -1;
  }
  /* the address becomes (or stays) the name's own */
  if (outcome == THR_OK && *t->addr && throttle_home(ctx, t->name, t->addr) != 0) return -1;
  return 0;
}

int throttle_clear(srv_ctx *ctx, const char *name) { return throttle_clear_name(ctx, name); }

/* Hourly, in a transaction of its own; a failed round is logged and tried again in a minute. */
static long prune_round(srv_ctx *ctx, void *arg) {
  (void)arg;
  if (db_ensure(ctx->db) != 0 || throttle_prune(ctx, THR_FORGET_HOURS, THR_KNOWN_DAYS) != 0) {
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

/* ---- the gate ---------------------------------------------------------------------------- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_in, gate_waiting;
static struct timespec gate_next; /* the earliest start of the next check (the rate) */

static int ts_before(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void ts_add_ms(struct timespec *t, long ms) {
  t->tv_sec += ms / 1000;
  t->tv_nsec += (ms % 1000) * 1000000L;
  if (t->tv_nsec >= 1000000000L) {
    t->tv_sec++;
    t->tv_nsec -= 1000000000L;
  }
}

static int gate_enter(void) {
  int slots = (int)cfg_int("HOSO_LOGIN_UNFAMILIAR_SLOTS", 1, 1, 256);
  long rate = cfg_int("HOSO_LOGIN_UNFAMILIAR_RATE", 20, 1, 100000);
  struct timespec now, until;
  clock_gettime(CLOCK_REALTIME, &now);
  until = now;
  ts_add_ms(&until, GATE_WAIT_MS);
  pthread_mutex_lock(&gate_mu);
  int in = 0;
  if (gate_waiting < 2 * slots || (gate_in < slots && !ts_before(&now, &gate_next))) {
    gate_waiting++;
    for (;;) {
      clock_gettime(CLOCK_REALTIME, &now);
      if (gate_in < slots && !ts_before(&now, &gate_next)) {
        in = 1;
        break;
      }
      if (!ts_before(&now, &until)) break;
      /* woken by a leave, or at the next start the rate allows */
      const struct timespec *w = gate_in < slots && ts_before(&gate_next, &until) ? &gate_next : &until;
      pthread_cond_timedwait(&gate_cv, &gate_mu, w);
    }
    gate_waiting--;
  }
  if (in) {
    gate_in++;
    gate_next = now;
    ts_add_ms(&gate_next, 1000 / rate);
  }
  pthread_mutex_unlock(&gate_mu);
  return in;
}

static void gate_leave(void) {
  pthread_mutex_lock(&gate_mu);
  gate_in--;
  pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
}

int throttle_check_password(const thr_try *t, const char *phc, const char *password, int *ok) {
  *ok = 0;
  if (t->known) {
    *ok = pw_verify(phc, password) == 1;
    return 1;
  }
  if (!gate_enter()) return 0;
  *ok = pw_verify(phc, password) == 1;
  gate_leave();
  return 1;
}
