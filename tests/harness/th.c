/* Test harness (th.h), the common part: the clean-up registry that stops every cluster and
 * service a test started (at exit, on a signal), small utilities, and the gRPC helpers. The
 * clusters are th_pg.c, the service processes th_svc.c. */
#include "th_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "identity.pb-c.h"

extern char **environ;


reg_cluster th__clusters[TH_MAX_CLUSTERS];
reg_svc th__svcs[TH_MAX_SVCS];
pthread_mutex_t th__reg_mu = PTHREAD_MUTEX_INITIALIZER;
pthread_once_t th__hooks_once = PTHREAD_ONCE_INIT;

static void cleanup_at_exit(void);

static void on_fatal_signal(int sig) {
  /* Only async-signal-safe calls here: stop the servers at once; the watchdogs delete the
   * files once this process is gone. */
  for (int i = 0; i < TH_MAX_CLUSTERS; i++)
    if (th__clusters[i].used && th__clusters[i].postmaster > 0)
      kill((pid_t)th__clusters[i].postmaster, SIGQUIT);
  for (int i = 0; i < TH_MAX_SVCS; i++)
    if (th__svcs[i].pid > 0 && !th__svcs[i].reaped) kill((pid_t)th__svcs[i].pid, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

void th__install_hooks(void) {
  atexit(cleanup_at_exit);
  const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    struct sigaction old;
    /* a test that handles the signal itself keeps its handler */
    if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = on_fatal_signal;
      sigemptyset(&sa.sa_mask);
      sigaction(sigs[i], &sa, NULL);
    }
  }
}

/* --------------------------------------------------------------------------------------
 * Small utilities
 * ------------------------------------------------------------------------------------ */

int th__is_root(void) { return geteuid() == 0; }

long long th__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void th__sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Prints the last few KB of a log file to stderr, for a failure's diagnosis. */
void th__print_tail(const char *what, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "th: %s: no log at %s\n", what, path);
    return;
  }
  char buf[6144];
  long start = 0;
  if (fseek(f, 0, SEEK_END) == 0) {
    long size = ftell(f);
    start = size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0;
  }
  fseek(f, start, SEEK_SET);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  fprintf(stderr, "---- th: %s: last lines of %s ----\n%s%s---- end of %s ----\n", what, path,
          buf, (n && buf[n - 1] != '\n') ? "\n" : "", path);
}

/* Runs argv (as the postgres user when as_pg and we are root: initdb and postgres refuse
 * root), stdout and stderr appended to log (or discarded). Returns the exit code or -1.
 * posix_spawn rather than fork: the test process may already run gRPC threads. */
int th__run(int as_pg, const char *const *argv, const char *log) {
  const char *full[32];
  size_t k = 0;
  if (as_pg && th__is_root()) {
    full[k++] = "runuser";
    full[k++] = "-u";
    full[k++] = "postgres";
    full[k++] = "--";
  }
  for (size_t i = 0; argv[i] && k < 31; i++) full[k++] = argv[i];
  full[k] = NULL;

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid;
  int rc = posix_spawnp(&pid, full[0], &fa, NULL, (char *const *)full, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    fprintf(stderr, "th: cannot run %s: %s\n", full[0], strerror(rc));
    return -1;
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cleanup_at_exit(void) {
  /* services first: they would only log connection errors once the database is gone */
  for (int i = 0; i < TH_MAX_SVCS; i++) {
    pid_t pid = (pid_t)th__svcs[i].pid;
    if (pid <= 0 || th__svcs[i].reaped) continue;
    kill(pid, SIGTERM);
    int status;
    if (th__svc_wait(pid, 5000, &status) == 0) {
      kill(pid, SIGKILL);
      th__svc_wait(pid, 5000, &status);
    }
    th__svcs[i].pid = 0;
  }
  pthread_mutex_lock(&th__reg_mu);
  for (int i = 0; i < TH_MAX_CLUSTERS; i++)
    if (th__clusters[i].used) th__cluster_teardown(&th__clusters[i]);
  pthread_mutex_unlock(&th__reg_mu);
}

/* --------------------------------------------------------------------------------------
 * gRPC helpers
 * ------------------------------------------------------------------------------------ */

const char *th_vn_day(int days) {
  static _Thread_local char buf[4][16];
  static _Thread_local int k;
  time_t t = time(NULL) + 7 * 3600 + (time_t)days * 86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  k = (k + 1) % 4;
  strftime(buf[k], sizeof buf[k], "%Y-%m-%d", &tm);
  return buf[k];
}

char *th_login(cli_chan *ch, const char *username, const char *password) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)username;
  req.password = (char *)password;
  ProtobufCMessage *resp = NULL;
  cli_status st;
  memset(&st, 0, sizeof st);
  if (cli_call(ch, "/hoso.identity.v1.Identity/Login", &req.base,
               &hoso__identity__v1__login_response__descriptor, &resp, NULL, 0, 30000,
               &st) != GRPC_STATUS_OK) {
    fprintf(stderr, "th: login %s: %s: %s\n", username, cli_status_name(st.code), st.message);
    return NULL;
  }
  const Hoso__Identity__V1__LoginResponse *lr = (const Hoso__Identity__V1__LoginResponse *)resp;
  char *tok = lr->access_token && lr->access_token[0] ? strdup(lr->access_token) : NULL;
  protobuf_c_message_free_unpacked(resp, NULL);
  if (!tok) fprintf(stderr, "th: login %s: empty access token\n", username);
  return tok;
}

const cli_md *th_bearer(const char *token) {
  static _Thread_local char value[8192];
  static _Thread_local cli_md md;
  snprintf(value, sizeof value, "Bearer %s", token ? token : "");
  md.key = "authorization";
  md.value = value;
  return &md;
}
