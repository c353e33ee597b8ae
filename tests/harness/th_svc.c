/* Test harness (th.h), service processes: started on free loopback ports with their
 * environment, waited for (health), stopped, paused, and their logs read. */
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

/* --------------------------------------------------------------------------------------
 * Service processes
 * ------------------------------------------------------------------------------------ */

int th_free_port(void) {
  int fd = -1;
  int port = th_port_hold(&fd);
  if (fd >= 0) close(fd);
  return port;
}

int th_port_hold(int *fd_out) {
  *fd_out = -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (port > 0)
    *fd_out = fd; /* bound without SO_REUSEADDR: nobody else binds it while it is held */
  else
    close(fd);
  return port;
}

/* 1 when something accepts TCP connections on 127.0.0.1:port. */
static int port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

/* How many of pid's open TCP sockets are in state st (0x0A listening, 0x01 established) with
 * port as their local (remote = 0) or remote (remote = 1) port, from /proc/net/tcp{,6} and
 * the inodes of /proc/<pid>/fd. */
static int count_sockets(pid_t pid, int port, unsigned want_st, int remote) {
  unsigned long inodes[256];
  int n = 0;
  static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
    FILE *f = fopen(tables[t], "r");
    if (!f) continue;
    char line[512];
    while (fgets(line, sizeof line, f) && n < 256) {
      char local[64], rem[64];
      unsigned st;
      unsigned long inode;
      /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
      if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %lu", local, rem, &st, &inode) != 4) continue;
      const char *colon = strrchr(remote ? rem : local, ':');
      if (st == want_st && colon && strtol(colon + 1, NULL, 16) == port) inodes[n++] = inode;
    }
    fclose(f);
  }
  if (n == 0) return 0;
  char pat[64];
  snprintf(pat, sizeof pat, "/proc/%ld/fd/*", (long)pid);
  glob_t g;
  if (glob(pat, 0, NULL, &g) != 0) return 0;
  int found = 0;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    char target[64];
    ssize_t len = readlink(g.gl_pathv[i], target, sizeof target - 1);
    if (len <= 0) continue;
    target[len] = 0;
    unsigned long inode;
    if (sscanf(target, "socket:[%lu]", &inode) != 1) continue;
    for (int k = 0; k < n; k++)
      if (inodes[k] == inode) {
        found++;
        break;
      }
  }
  globfree(&g);
  return found;
}

/* Two services started at once can be handed the same free port; the one that loses the bind
 * dies, but until it does, the winner would answer its health check. Only the owner of the
 * listening socket is ready. */
static int owns_listener(pid_t pid, int port) { return count_sockets(pid, port, 0x0A, 0) > 0; }

int th_svc_connections_to(const th_svc *s, const char *addr) {
  const char *colon = strrchr(addr, ':');
  return s->pid > 0 && colon ? count_sockets(s->pid, atoi(colon + 1), 0x01, 1) : 0;
}

static reg_svc *svc_find(pid_t pid) {
  for (int i = 0; i < TH_MAX_SVCS; i++)
    if (th__svcs[i].pid == pid) return &th__svcs[i];
  return NULL;
}

static void svc_register(pid_t pid) {
  pthread_mutex_lock(&th__reg_mu);
  reg_svc *r = svc_find(0);
  if (r) {
    r->reaped = 0;
    r->status = 0;
    r->pid = pid;
  }
  pthread_mutex_unlock(&th__reg_mu);
}

static void svc_forget(pid_t pid) {
  pthread_mutex_lock(&th__reg_mu);
  reg_svc *r = svc_find(pid);
  if (r) r->pid = 0;
  pthread_mutex_unlock(&th__reg_mu);
}

/* Waits for pid up to timeout_ms (WNOHANG polling); 1 with *status when it ended, 0 if it
 * still runs. A status seen earlier by th_svc_alive is returned from the registry. */
int th__svc_wait(pid_t pid, int timeout_ms, int *status) {
  pthread_mutex_lock(&th__reg_mu);
  reg_svc *r = svc_find(pid);
  if (r && r->reaped) {
    *status = r->status;
    pthread_mutex_unlock(&th__reg_mu);
    return 1;
  }
  pthread_mutex_unlock(&th__reg_mu);
  long long end = th__now_ms() + timeout_ms;
  for (;;) {
    pid_t w = waitpid(pid, status, WNOHANG);
    if (w == pid) {
      pthread_mutex_lock(&th__reg_mu);
      r = svc_find(pid);
      if (r) {
        r->reaped = 1;
        r->status = *status;
      }
      pthread_mutex_unlock(&th__reg_mu);
      return 1;
    }
    if (w < 0 && errno != EINTR) {
      *status = 0;
      return -1;
    }
    if (th__now_ms() >= end) return 0;
    th__sleep_ms(10);
  }
}

static int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

/* Value of `key` among "K=V" strings, or NULL. */
static const char *env_lookup(const char *const *env, const char *key) {
  size_t kl = strlen(key);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=') return env[i] + kl + 1;
  return NULL;
}

/* Environment of a service: a clean one, so the developer's own HOSO_* settings never leak
 * into a test. Later entries override earlier ones with the same key. */
typedef struct {
  char *v[96];
  size_t n;
} env_list;

static void env_set(env_list *e, const char *kv) {
  const char *eq = strchr(kv, '=');
  if (!eq) return;
  size_t kl = (size_t)(eq - kv) + 1;
  for (size_t i = 0; i < e->n; i++)
    if (strncmp(e->v[i], kv, kl) == 0) {
      free(e->v[i]);
      e->v[i] = strdup(kv);
      return;
    }
  if (e->n + 1 < sizeof e->v / sizeof e->v[0]) e->v[e->n++] = strdup(kv);
  e->v[e->n] = NULL;
}

static void env_setf(env_list *e, const char *key, const char *val) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s=%s", key, val);
  env_set(e, buf);
}

static void env_free(env_list *e) {
  for (size_t i = 0; i < e->n; i++) free(e->v[i]);
  e->n = 0;
}

static pid_t spawn_service(const char *path, char *const *envp, const char *log) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  /* Child: async-signal-safe calls only until exec (the parent may run gRPC threads).
   * PDEATHSIG ends the service if the test dies without th_svc_stop. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(127);
  int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
  int nul = open("/dev/null", O_RDONLY);
  if (fd < 0 || nul < 0) _exit(127);
  dup2(nul, 0);
  dup2(fd, 1);
  dup2(fd, 2);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  char *const argv[] = {(char *)path, NULL};
  execve(path, argv, envp);
  _exit(127);
}

/* Health over the same security the service was given. A fresh channel per probe: a
 * channel that failed to connect waits out a reconnect backoff of a second or more. */
static int probe_health(const char *addr, const char *const *extra_env) {
  const char *cert = env_lookup(extra_env, "HOSO_TLS_CERT");
  cli_chan *ch;
  if (cert) {
    const char *ca = env_lookup(extra_env, "HOSO_TLS_CA");
    if (!ca) ca = getenv("HOSO_TLS_CA");
    ch = cli_open_tls(addr, ca, env_lookup(extra_env, "HOSO_TLS_CLIENT_CERT"),
                      env_lookup(extra_env, "HOSO_TLS_CLIENT_KEY"));
  } else {
    ch = cli_open_tls(addr, NULL, NULL, NULL);
  }
  if (!ch) return 0;
  int ok = cli_health(ch, 2000);
  cli_close(ch);
  return ok;
}

/* A service is up when its port accepts and its gRPC health check says SERVING. */
static int grpc_ready(int port, const char *addr, const char *const *extra_env) {
  return port_open(port) && probe_health(addr, extra_env);
}

/* An HTTP service (the gateway) is up when GET /healthz answers 200. */
static int http_ready(int port, const char *addr, const char *const *extra_env) {
  (void)extra_env;
  return port_open(port) && th_http_status(addr, "/healthz") == 200;
}

/* Whether a service's log says it could not bind its port. Taken by a listener, port_open
 * shows it; taken by a socket that does not listen (another process's outgoing connection got
 * it as its local port, a test holding it bound), only the service's own words do. */
static int lost_port(const char *log) {
  FILE *f = fopen(log, "r");
  if (!f) return 0;
  char line[4096];
  int lost = 0;
  while (!lost && fgets(line, sizeof line, f))
    lost = strstr(line, "cannot listen on") || strstr(line, "Address already in use");
  fclose(f);
  return lost;
}

static int svc_start(th_svc *s, const char *binary, const char *addr_env, const th_pg *pg,
                     const char *const *extra_env,
                     int (*ready)(int port, const char *addr, const char *const *env), int fixed_port) {
  memset(s, 0, sizeof *s);
  char path[512];
  snprintf(path, sizeof path, "%s/%s", HOSO_BIN_DIR, binary);
  if (access(path, X_OK) != 0) {
    fprintf(stderr, "th: %s is not built\n", path);
    return -1;
  }
  /* Beside the build, not in the cluster's directory: th_world_stop removes that, and the
   * checks of a service's log (th_log_errors) come after the service has stopped. Named by
   * the test process too, so logs of earlier runs or of parallel tests never mix in. */
  (void)pg;
  const char *logdir = HOSO_BIN_DIR "/test-logs";
  if (mkdir(logdir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "th: cannot make %s: %s\n", logdir, strerror(errno));
    return -1;
  }

  /* A free port can be taken by someone else before the service binds it: then retry. */
  for (int attempt = 0; attempt < 3; attempt++) {
    int port = fixed_port ? fixed_port : th_free_port();
    if (port <= 0) return -1;
    snprintf(s->addr, sizeof s->addr, "127.0.0.1:%d", port);
    snprintf(s->log, sizeof s->log, "%.160s/%.50s-%d-%d.log", logdir, binary, (int)getpid(), port);

    env_list env = {{0}, 0};
    static const char *const keep[] = {"PATH", "HOME", "LANG", "TMPDIR", "ASAN_OPTIONS",
                                       "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
      const char *v = getenv(keep[i]);
      if (v) env_setf(&env, keep[i], v);
    }
    if (pg) env_setf(&env, "HOSO_PG_DSN", pg->dsn);
    if (pg && pg->kek[0]) env_setf(&env, "HOSO_KEY_ENCRYPTION_KEY", pg->kek);
    if (pg) env_setf(&env, "HOSO_PG_MIGRATE_DSN", pg->migrate_dsn);
    if (pg && pg->audit_key[0]) {
      env_setf(&env, "HOSO_AUDIT_CHECKPOINT_KEY", pg->audit_key);
      env_setf(&env, "HOSO_AUDIT_CHECKPOINT_FILE", pg->audit_file);
    }
    env_setf(&env, addr_env, s->addr);
    env_setf(&env, "HOSO_LOG_LEVEL", "info");
    env_setf(&env, "HOSO_ADMIN_PASSWORD", TH_ADMIN_PASSWORD);
    /* Services refuse plaintext unless told: tests speak it (a test giving certificates gets
     * TLS all the same) and say so, as a developer must. */
    env_setf(&env, "HOSO_PLAINTEXT", "1");
    for (size_t i = 0; extra_env && extra_env[i]; i++) env_set(&env, extra_env[i]);

    pid_t pid = spawn_service(path, env.v, s->log);
    env_free(&env);
    if (pid < 0) {
      fprintf(stderr, "th: fork: %s\n", strerror(errno));
      return -1;
    }
    s->pid = pid;
    svc_register(pid);

    long long end = th__now_ms() + TH_START_TIMEOUT_MS;
    int died = 0, status = 0;
    while (th__now_ms() < end) {
      if (th__svc_wait(pid, 0, &status) != 0) {
        died = 1;
        break;
      }
      if (ready(port, s->addr, extra_env)) {
        if (owns_listener(pid, port)) return 0;
        /* another service answered on our port: ours lost the bind and is about to exit */
        if (th__svc_wait(pid, 2000, &status) != 0) {
          died = 1;
          break;
        }
      }
      th__sleep_ms(25);
    }
    if (died) {
      svc_forget(pid);
      s->pid = 0;
      /* the port taken by another process since th_free_port: not the service's fault (a fixed
       * port is tried again: an outgoing connection holding it ends soon) */
      if ((port_open(port) || lost_port(s->log)) && attempt < 2) {
        if (fixed_port) th__sleep_ms(500);
        continue;
      }
      fprintf(stderr, "th: %s exited during start-up with status %d\n", binary,
              exit_code(status));
      th__print_tail(binary, s->log);
      return -1;
    }
    fprintf(stderr, "th: %s did not answer its health check on %s within %d s\n", binary,
            s->addr, TH_START_TIMEOUT_MS / 1000);
    th__print_tail(binary, s->log);
    th_svc_stop(s);
    return -1;
  }
  return -1;
}

int th_svc_start(th_svc *s, const char *binary, const char *addr_env, const th_pg *pg,
                 const char *const *extra_env) {
  return svc_start(s, binary, addr_env, pg, extra_env, grpc_ready, 0);
}

int th_svc_start_held(th_svc *s, int *held_fd, int port, const char *binary, const char *addr_env,
                      const th_pg *pg, const char *const *extra_env) {
  if (*held_fd >= 0) close(*held_fd); /* let go only now: the service binds it next */
  *held_fd = -1;
  return svc_start(s, binary, addr_env, pg, extra_env, grpc_ready, port);
}

int th_svc_restart(th_svc *s, const char *binary, const char *addr_env, const th_pg *pg,
                   const char *const *extra_env) {
  const char *colon = strrchr(s->addr, ':');
  int port = colon ? atoi(colon + 1) : 0;
  if (port <= 0 || th_svc_alive(s)) {
    fprintf(stderr, "th: %s: nothing stopped to start again at '%s'\n", binary, s->addr);
    return -1;
  }
  return svc_start(s, binary, addr_env, pg, extra_env, grpc_ready, port);
}

int th_http_start(th_svc *s, const char *binary, const char *addr_env, const th_pg *pg,
                  const char *const *extra_env) {
  return svc_start(s, binary, addr_env, pg, extra_env, http_ready, 0);
}

int th_http_status(const char *addr, const char *path) {
  const char *colon = strrchr(addr, ':');
  if (!colon) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)atoi(colon + 1));
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct timeval tv = {2, 0}; /* a probe must never hang the caller */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int status = -1;
  char req[512], resp[64];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && send(fd, req, (size_t)n, MSG_NOSIGNAL) == n) {
    size_t got = 0;
    ssize_t k;
    while (got < sizeof resp - 1 && (k = recv(fd, resp + got, sizeof resp - 1 - got, 0)) > 0) got += (size_t)k;
    resp[got] = 0;
    if (got >= 12 && strncmp(resp, "HTTP/1.", 7) == 0) status = atoi(resp + 9);
  }
  close(fd);
  return status;
}

int th_svc_stop(th_svc *s) {
  if (s->pid <= 0) return -1;
  int status = 0;
  int r = th__svc_wait(s->pid, 0, &status);
  if (r == 0) {
    kill(s->pid, SIGTERM);
    r = th__svc_wait(s->pid, TH_STOP_TIMEOUT_MS, &status);
    if (r == 0) {
      fprintf(stderr, "th: %s did not stop within %d s of SIGTERM; killing it\n", s->log,
              TH_STOP_TIMEOUT_MS / 1000);
      kill(s->pid, SIGKILL);
      r = th__svc_wait(s->pid, TH_STOP_TIMEOUT_MS, &status);
    }
  }
  svc_forget(s->pid);
  s->pid = 0;
  if (r != 1) return -1;
  int code = exit_code(status);
  if (code != 0) {
    fprintf(stderr, "th: service exited with status %d\n", code);
    th__print_tail("service exit", s->log);
  }
  return code;
}

int th_log_count(const char *path, const char *needle, const char *what) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f))
    if (strstr(line, needle)) {
      if (what) fprintf(stderr, "%s: %s", what, line);
      n++;
    }
  fclose(f);
  return n;
}

int th_log_errors(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    /* A check that cannot read the log must not pass as "no errors". */
    fprintf(stderr, "th_log_errors: cannot read %s: %s\n", path, strerror(errno));
    return 1;
  }
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f))
    if (strstr(line, "\"level\":\"error\"") || strstr(line, "Sanitizer") || strstr(line, "runtime error")) {
      fprintf(stderr, "%s: %s", path, line);
      n++;
    }
  fclose(f);
  return n;
}

int th_svc_alive(const th_svc *s) {
  if (s->pid <= 0) return 0;
  int status;
  return th__svc_wait(s->pid, 0, &status) == 0;
}

/* The state letter of every thread of pid is a stop ('T'): kill() only queues SIGSTOP, each
 * thread stops when it next leaves the kernel. */
static int all_threads_stopped(pid_t pid) {
  char pat[64];
  snprintf(pat, sizeof pat, "/proc/%ld/task/*/stat", (long)pid);
  glob_t g;
  if (glob(pat, 0, NULL, &g) != 0) return 0;
  int stopped = g.gl_pathc > 0;
  for (size_t i = 0; i < g.gl_pathc && stopped; i++) {
    FILE *f = fopen(g.gl_pathv[i], "r");
    char buf[512] = {0};
    if (f) {
      if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
      fclose(f);
    }
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    stopped = p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
  }
  globfree(&g);
  return stopped;
}

int th_svc_pause(const th_svc *s) {
  if (s->pid <= 0 || kill(s->pid, SIGSTOP) != 0) return -1;
  long long end = th__now_ms() + 5000;
  while (th__now_ms() < end) {
    if (all_threads_stopped(s->pid)) return 0;
    th__sleep_ms(5);
  }
  kill(s->pid, SIGCONT);
  return -1;
}

int th_svc_resume(const th_svc *s) { return s->pid > 0 ? kill(s->pid, SIGCONT) : -1; }

