/* Internals shared by the harness files (th.c registry and utilities, th_pg.c clusters,
 * th_svc.c service processes). */
#ifndef HOSO_TH_INT_H
#define HOSO_TH_INT_H

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include "th.h"

#define TH_MAX_CLUSTERS 16
#define TH_MAX_SVCS 64
#define TH_START_TIMEOUT_MS 30000
#define TH_STOP_TIMEOUT_MS 20000

/* ---------------------------------------------------------------------------------------
 * Clean-up registry. A failed assertion, a signal or even SIGKILL must not leave a postgres
 * running: each cluster has a watchdog shell (in its own session, so Ctrl-C does not reach
 * it) that waits for EOF on a pipe only this process holds, then stops the server and deletes
 * the directory. atexit and the signal handlers make the common cases prompt.
 * ------------------------------------------------------------------------------------- */
typedef struct {
  int used;
  char root[256];
  char data[256];
  pid_t watchdog;
  int wfd; /* write end of the watchdog's pipe */
  volatile sig_atomic_t postmaster;
} reg_cluster;

typedef struct {
  volatile sig_atomic_t pid;
  int reaped; /* status is valid: th_svc_alive saw the process end */
  int status;
} reg_svc;

/* th.c: the registry (under th__reg_mu), the exit and signal hooks installed once, and small
 * utilities: root or not, a monotonic clock, a sleep, a log's last lines to stderr, a program
 * run to its end (as the postgres user when as_pg and root). */
extern reg_cluster th__clusters[TH_MAX_CLUSTERS];
extern reg_svc th__svcs[TH_MAX_SVCS];
extern pthread_mutex_t th__reg_mu;
extern pthread_once_t th__hooks_once;
void th__install_hooks(void);
int th__is_root(void);
long long th__now_ms(void);
void th__sleep_ms(int ms);
void th__print_tail(const char *what, const char *path);
int th__run(int as_pg, const char *const *argv, const char *log);
/* th_pg.c: stops a registered cluster's server and deletes its directory. */
void th__cluster_teardown(reg_cluster *rc);
/* th_svc.c: waits up to timeout_ms for pid to end: 1 with *status, 0 when it has not. */
int th__svc_wait(pid_t pid, int timeout_ms, int *status);

#endif
