/* The process-wide bound on imports (import_gate.h): a counted gate whose waiters also watch
 * their own call, so a client that gives up while queued frees its worker at once. */
#include "import_gate.h"

#include <pthread.h>
#include <time.h>
#include "cfg.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int busy;

/* how often a waiter looks at its own call (cancelled, deadline) */
#define LOOK_MS 100

static void after_ms(struct timespec *t, long ms) {
  clock_gettime(CLOCK_REALTIME, t);
  t->tv_sec += ms / 1000;
  t->tv_nsec += (ms % 1000) * 1000000L;
  if (t->tv_nsec >= 1000000000L) {
    t->tv_sec++;
    t->tv_nsec -= 1000000000L;
  }
}

int import_gate_enter(srv_ctx *ctx) {
  int slots = (int)cfg_int("HOSO_IMPORT_SLOTS", 2, 1, 64);
  long wait_ms = cfg_int("HOSO_IMPORT_WAIT_MS", 2000, 0, 600000);
  int gone = 0, in = 0;
  pthread_mutex_lock(&mu);
  for (long waited = 0;; waited += LOOK_MS) {
    if (busy < slots) {
      busy++;
      in = 1;
      break;
    }
    if (waited >= wait_ms) break;
    struct timespec t;
    after_ms(&t, LOOK_MS);
    pthread_cond_timedwait(&cv, &mu, &t);
    /* the call is looked at without the lock: it polls the worker's own queue */
    pthread_mutex_unlock(&mu);
    gone = srv_client_gone(ctx);
    pthread_mutex_lock(&mu);
    if (gone) break;
  }
  pthread_mutex_unlock(&mu);
  if (in) return 0;
  if (gone) return srv_fail(ctx, GRPC_STATUS_CANCELLED, "the client gave up while the import waited for a slot");
  return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED,
                  "the records service is already reading %d imports at once (HOSO_IMPORT_SLOTS), which is "
                  "all the memory it gives imports; try again in a minute",
                  slots);
}

void import_gate_leave(void) {
  pthread_mutex_lock(&mu);
  busy--;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
}
