/* Test harness: private PostgreSQL clusters (each a copy of a template made once per build with
 * initdb), service processes on free loopback ports, and small gRPC helpers for tests. */
#include "th.h"

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

#include <openssl/evp.h>
#include <openssl/pem.h>
#include "identity.pb-c.h"

extern char **environ;

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

static reg_cluster clusters[TH_MAX_CLUSTERS];
static reg_svc svcs[TH_MAX_SVCS];
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void cleanup_at_exit(void);

static void on_fatal_signal(int sig) {
  /* Only async-signal-safe calls here: stop the servers at once; the watchdogs delete the
   * files once this process is gone. */
  for (int i = 0; i < TH_MAX_CLUSTERS; i++)
    if (clusters[i].used && clusters[i].postmaster > 0)
      kill((pid_t)clusters[i].postmaster, SIGQUIT);
  for (int i = 0; i < TH_MAX_SVCS; i++)
    if (svcs[i].pid > 0 && !svcs[i].reaped) kill((pid_t)svcs[i].pid, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void install_hooks(void) {
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

static int is_root(void) { return geteuid() == 0; }

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Prints the last few KB of a log file to stderr, for a failure's diagnosis. */
static void print_tail(const char *what, const char *path) {
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

/* The postgres account's ids; -1 when it does not exist (then nothing is chowned). */
static int pg_ids(uid_t *uid, gid_t *gid) {
  struct passwd pw, *res = NULL;
  char buf[1024];
  if (getpwnam_r("postgres", &pw, buf, sizeof buf, &res) != 0 || !res) return -1;
  *uid = pw.pw_uid;
  *gid = pw.pw_gid;
  return 0;
}

/* Directory of the PostgreSQL server programs: HOSO_PG_BIN, else the newest
 * /usr/lib/postgresql/N/bin (Debian keeps them off PATH), else "" (search PATH). */
static char pg_bin[256];
static pthread_once_t pg_bin_once = PTHREAD_ONCE_INIT;

static void pg_bin_find(void) {
  const char *env = getenv("HOSO_PG_BIN");
  if (env && *env) {
    snprintf(pg_bin, sizeof pg_bin, "%s", env);
    return;
  }
  glob_t g;
  if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0) {
    /* glob sorts by name: pick the highest version, numerically */
    long best = -1;
    for (size_t i = 0; i < g.gl_pathc; i++) {
      long v = strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);
      if (v > best) {
        best = v;
        snprintf(pg_bin, sizeof pg_bin, "%.*s", (int)(strlen(g.gl_pathv[i]) - strlen("/initdb")),
                 g.gl_pathv[i]);
      }
    }
    globfree(&g);
  }
}

static void pg_prog(char *out, size_t n, const char *prog) {
  pthread_once(&pg_bin_once, pg_bin_find);
  if (pg_bin[0])
    snprintf(out, n, "%s/%s", pg_bin, prog);
  else
    snprintf(out, n, "%s", prog);
}

void th_pg_prog(char *out, size_t n, const char *prog) { pg_prog(out, n, prog); }

/* Runs argv (as the postgres user when as_pg and we are root: initdb and postgres refuse
 * root), stdout and stderr appended to log (or discarded). Returns the exit code or -1.
 * posix_spawn rather than fork: the test process may already run gRPC threads. */
static int run(int as_pg, const char *const *argv, const char *log) {
  const char *full[32];
  size_t k = 0;
  if (as_pg && is_root()) {
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

static void rm_rf(const char *path) {
  if (!path[0] || strcmp(path, "/") == 0) return;
  const char *argv[] = {"rm", "-rf", "--", path, NULL};
  run(0, argv, NULL);
}

/* --------------------------------------------------------------------------------------
 * PostgreSQL
 * ------------------------------------------------------------------------------------ */

/* Starts the server of `data` with its socket (and its logs: server.log written by postgres,
 * pg_ctl.log by pg_ctl) in `sock`. */
static int pg_server_start(const char *data, const char *sock, int port) {
  char pg_ctl[300], opts[512], log[300], ctl_log[300];
  pg_prog(pg_ctl, sizeof pg_ctl, "pg_ctl");
  snprintf(log, sizeof log, "%.240s/server.log", sock);
  snprintf(ctl_log, sizeof ctl_log, "%.240s/pg_ctl.log", sock);
  /* No TCP listener: the port only names the socket file. fsync off: test data is
   * disposable and the suite runs several clusters at once. */
  snprintf(opts, sizeof opts,
           "-c listen_addresses='' -k '%s' -p %d -c fsync=off -c synchronous_commit=off "
           "-c full_page_writes=off",
           sock, port);
  const char *argv[] = {pg_ctl, "-D", data, "-w", "-t", "60", "-l", log, "-o", opts, "start",
                        NULL};
  if (run(1, argv, ctl_log) != 0) {
    print_tail("pg_ctl start failed", ctl_log);
    print_tail("postgres did not start", log);
    return -1;
  }
  return 0;
}

static int pg_server_stop(const char *data, const char *mode) {
  char pg_ctl[300];
  pg_prog(pg_ctl, sizeof pg_ctl, "pg_ctl");
  const char *argv[] = {pg_ctl, "-D", data, "-m", mode, "-w", "-t", "60", "stop", NULL};
  return run(1, argv, NULL) == 0 ? 0 : -1;
}

static pid_t read_postmaster_pid(const char *data) {
  char path[300];
  snprintf(path, sizeof path, "%s/postmaster.pid", data);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  long pid = 0;
  if (fscanf(f, "%ld", &pid) != 1) pid = 0;
  fclose(f);
  return (pid_t)pid;
}

/* Runs one statement as the superuser. Fixed text from this file only: no parameters. */
static int pg_admin_exec(const char *dsn, const char *sql) {
  PGconn *c = PQconnectdb(dsn);
  int rc = -1;
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "th: connect %s: %s", dsn, PQerrorMessage(c));
    goto out;
  }
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
    rc = 0;
  else
    fprintf(stderr, "th: %s: %s", sql, PQerrorMessage(c));
  PQclear(r);
out:
  PQfinish(c);
  return rc;
}

/* Makes a temp dir owned by postgres (mode 0700): its socket and data live there. */
static int make_pg_root(char *out, size_t n, const char *pattern) {
  snprintf(out, n, "%s", pattern);
  if (!mkdtemp(out)) {
    fprintf(stderr, "th: mkdtemp %s: %s\n", pattern, strerror(errno));
    return -1;
  }
  uid_t uid;
  gid_t gid;
  if (is_root() && pg_ids(&uid, &gid) == 0 && chown(out, uid, gid) != 0) {
    fprintf(stderr, "th: chown %s: %s\n", out, strerror(errno));
    rm_rf(out);
    return -1;
  }
  return 0;
}

/* The template cluster of this build (role hoso and database hoso already made), created
 * once under a lock so parallel tests share it. initdb costs seconds; a copy, milliseconds. */
static int pg_template(char *tpl, size_t n) {
  char initdb[300], ver[32] = "";
  pg_prog(initdb, sizeof initdb, "initdb");
  /* The major version is part of the name, so an upgraded server never gets an old template. */
  const char *p = strstr(initdb, "/postgresql/");
  if (p) snprintf(ver, sizeof ver, "-%ld", strtol(p + strlen("/postgresql/"), NULL, 10));
  /* -r2: the roles changed (hoso_owner owns the database); an older template is not used */
  snprintf(tpl, n, "%s/pg-template%s-r2", HOSO_BIN_DIR, ver);

  char lock[400], probe[400];
  snprintf(lock, sizeof lock, "%s.lock", tpl);
  snprintf(probe, sizeof probe, "%s/PG_VERSION", tpl);
  int lfd = open(lock, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lfd < 0) {
    fprintf(stderr, "th: open %s: %s\n", lock, strerror(errno));
    return -1;
  }
  while (flock(lfd, LOCK_EX) != 0)
    if (errno != EINTR) break;

  int rc = -1;
  char root[256] = "", data[300], log[300], tmp[400];
  struct stat sb;
  if (stat(probe, &sb) == 0) {
    rc = 0;
    goto out;
  }
  if (make_pg_root(root, sizeof root, "/tmp/hoso-pgtpl-XXXXXX") != 0) goto out;
  snprintf(data, sizeof data, "%s/data", root);
  snprintf(log, sizeof log, "%s/initdb.log", root);
  {
    const char *argv[] = {initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                          "--locale=C.UTF-8", "--no-sync", NULL};
    if (run(1, argv, log) != 0) {
      /* a system without the C.UTF-8 locale still has C */
      rm_rf(data);
      argv[9] = "--locale=C";
      if (run(1, argv, log) != 0) {
        print_tail("initdb failed", log);
        goto out;
      }
    }
  }
  /* port 5432 is safe here: the socket is in this private directory */
  if (pg_server_start(data, root, 5432) != 0) goto out;
  {
    char dsn[400];
    snprintf(dsn, sizeof dsn, "host=%s port=5432 dbname=postgres user=postgres", root);
    /* As in production: the owner role migrates, the services' role only uses (srv_schema.c). */
    int ok = pg_admin_exec(dsn, "CREATE ROLE hoso_owner LOGIN NOSUPERUSER") == 0 &&
             pg_admin_exec(dsn, "CREATE ROLE hoso LOGIN NOSUPERUSER") == 0 &&
             pg_admin_exec(dsn, "CREATE DATABASE hoso OWNER hoso_owner") == 0;
    if (pg_server_stop(data, "fast") != 0 || !ok) goto out;
  }
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", tpl, (long)getpid());
  rm_rf(tmp);
  {
    const char *argv[] = {"cp", "-a", data, tmp, NULL};
    if (run(0, argv, NULL) != 0) {
      fprintf(stderr, "th: cannot copy the template to %s\n", tmp);
      rm_rf(tmp);
      goto out;
    }
  }
  if (rename(tmp, tpl) != 0) {
    fprintf(stderr, "th: rename %s: %s\n", tmp, strerror(errno));
    rm_rf(tmp);
    goto out;
  }
  rc = 0;
out:
  if (root[0]) rm_rf(root);
  flock(lfd, LOCK_UN);
  close(lfd);
  return rc;
}

static reg_cluster *reg_find(const char *data) {
  for (int i = 0; i < TH_MAX_CLUSTERS; i++)
    if (clusters[i].used && strcmp(clusters[i].data, data) == 0) return &clusters[i];
  return NULL;
}

/* Starts the watchdog of a registered cluster (see the registry comment). */
static int start_watchdog(reg_cluster *rc) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  char pg_ctl[300];
  pg_prog(pg_ctl, sizeof pg_ctl, "pg_ctl");
  static const char script[] =
      "trap '' INT TERM HUP; cat >/dev/null; root=$1; shift; \"$@\" >/dev/null 2>&1; "
      "rm -rf -- \"$root\"";
  const char *argv[16];
  size_t k = 0;
  argv[k++] = "sh";
  argv[k++] = "-c";
  argv[k++] = script;
  argv[k++] = "th-watchdog";
  argv[k++] = rc->root;
  if (is_root()) {
    argv[k++] = "runuser";
    argv[k++] = "-u";
    argv[k++] = "postgres";
    argv[k++] = "--";
  }
  argv[k++] = pg_ctl;
  argv[k++] = "-D";
  argv[k++] = rc->data;
  argv[k++] = "-m";
  argv[k++] = "immediate";
  argv[k++] = "stop";
  argv[k] = NULL;

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_init(&at);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int err = posix_spawnp(&pid, "sh", &fa, &at, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(fds[0]);
  if (err != 0) {
    close(fds[1]);
    fprintf(stderr, "th: cannot start the cluster watchdog: %s\n", strerror(err));
    return -1;
  }
  rc->watchdog = pid;
  rc->wfd = fds[1];
  return 0;
}

/* Stops the server at once and deletes the directory: the end of a registered cluster. */
static void cluster_teardown(reg_cluster *rc) {
  if (rc->watchdog > 0) {
    /* killed first, so it can never delete a directory that mkdtemp hands out again */
    kill(rc->watchdog, SIGKILL);
    while (waitpid(rc->watchdog, NULL, 0) < 0 && errno == EINTR) {
    }
    rc->watchdog = 0;
  }
  if (rc->wfd > 0) close(rc->wfd);
  rc->wfd = -1;
  if (read_postmaster_pid(rc->data) > 0) pg_server_stop(rc->data, "immediate");
  rc->postmaster = 0;
  rm_rf(rc->root);
  rc->used = 0;
}

/* 32 random bytes as hex, in a file only its owner reads: what ./hoso up makes in var/keys. */
static int write_kek(char *path, size_t n, const char *dir) {
  snprintf(path, n, "%.240s/kek", dir);
  unsigned char b[32];
  char hex[66];
  FILE *r = fopen("/dev/urandom", "rb");
  size_t got = r ? fread(b, 1, sizeof b, r) : 0;
  if (r) fclose(r);
  if (got != sizeof b) return -1;
  for (size_t i = 0; i < sizeof b; i++) snprintf(hex + 2 * i, 3, "%02x", b[i]);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "th: %s: %s\n", path, strerror(errno));
    return -1;
  }
  hex[64] = '\n';
  int ok = write(fd, hex, 65) == 65;
  close(fd);
  return ok ? 0 : -1;
}

/* An Ed25519 key in PEM, mode 0600: what ./hoso up makes with openssl genpkey. */
static int write_audit_key(char *path, size_t n, const char *dir) {
  snprintf(path, n, "%.240s/audit-checkpoint.key", dir);
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  int fd = k ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  int ok = f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
  if (f) fclose(f);
  else if (fd >= 0) close(fd);
  EVP_PKEY_free(k);
  if (!ok) fprintf(stderr, "th: cannot write the audit checkpoint key %s\n", path);
  return ok ? 0 : -1;
}

int th_pg_start(th_pg *pg) {
  pthread_once(&hooks_once, install_hooks);
  memset(pg, 0, sizeof *pg);
  char tpl[300], root[256];
  if (pg_template(tpl, sizeof tpl) != 0) return -1;
  if (make_pg_root(root, sizeof root, "/tmp/hoso-pg-XXXXXX") != 0) return -1;

  pthread_mutex_lock(&reg_mu);
  reg_cluster *rc = NULL;
  for (int i = 0; i < TH_MAX_CLUSTERS && !rc; i++)
    if (!clusters[i].used) rc = &clusters[i];
  if (rc) {
    memset(rc, 0, sizeof *rc);
    rc->used = 1;
    rc->wfd = -1;
    snprintf(rc->root, sizeof rc->root, "%s", root);
    snprintf(rc->data, sizeof rc->data, "%.240s/data", root);
  }
  pthread_mutex_unlock(&reg_mu);
  if (!rc) {
    fprintf(stderr, "th: more than %d clusters at once\n", TH_MAX_CLUSTERS);
    rm_rf(root);
    return -1;
  }
  if (start_watchdog(rc) != 0) goto fail;

  snprintf(pg->dir, sizeof pg->dir, "%s", rc->data);
  snprintf(pg->sock_dir, sizeof pg->sock_dir, "%s", root);
  {
    const char *argv[] = {"cp", "-a", tpl, pg->dir, NULL};
    if (run(0, argv, NULL) != 0) {
      fprintf(stderr, "th: cannot copy %s to %s\n", tpl, pg->dir);
      goto fail;
    }
  }
  /* Any number would do for the private socket; a free TCP port keeps the names distinct
   * in logs and ps output when several clusters run. */
  pg->port = th_free_port();
  if (pg->port <= 0) goto fail;
  if (pg_server_start(pg->dir, pg->sock_dir, pg->port) != 0) goto fail;
  rc->postmaster = read_postmaster_pid(pg->dir);
  snprintf(pg->dsn, sizeof pg->dsn, "host=%s port=%d dbname=hoso user=hoso", pg->sock_dir,
           pg->port);
  snprintf(pg->admin_dsn, sizeof pg->admin_dsn, "host=%s port=%d dbname=hoso user=postgres",
           pg->sock_dir, pg->port);
  snprintf(pg->migrate_dsn, sizeof pg->migrate_dsn, "host=%s port=%d dbname=hoso user=hoso_owner",
           pg->sock_dir, pg->port);
  if (pg_admin_exec(pg->dsn, "SELECT 1") != 0) goto fail;
  if (write_kek(pg->kek, sizeof pg->kek, root) != 0) goto fail;
  if (write_audit_key(pg->audit_key, sizeof pg->audit_key, root) != 0) goto fail;
  snprintf(pg->audit_file, sizeof pg->audit_file, "%.200s/audit-checkpoints.log", root);
  return 0;

fail:
  pthread_mutex_lock(&reg_mu);
  cluster_teardown(rc);
  pthread_mutex_unlock(&reg_mu);
  memset(pg, 0, sizeof *pg);
  return -1;
}

int th_pg_stop(th_pg *pg) {
  if (!pg->dir[0]) return -1;
  int rc = pg_server_stop(pg->dir, "fast");
  pthread_mutex_lock(&reg_mu);
  reg_cluster *r = reg_find(pg->dir);
  if (r && rc == 0) r->postmaster = 0;
  pthread_mutex_unlock(&reg_mu);
  if (rc != 0) fprintf(stderr, "th: pg_ctl stop failed for %s\n", pg->dir);
  return rc;
}

int th_pg_restart_server(th_pg *pg) {
  if (!pg->dir[0]) return -1;
  if (pg_server_start(pg->dir, pg->sock_dir, pg->port) != 0) return -1;
  pthread_mutex_lock(&reg_mu);
  reg_cluster *r = reg_find(pg->dir);
  if (r) r->postmaster = read_postmaster_pid(pg->dir);
  pthread_mutex_unlock(&reg_mu);
  return 0;
}

void th_pg_destroy(th_pg *pg) {
  if (!pg->dir[0]) return;
  pthread_mutex_lock(&reg_mu);
  reg_cluster *r = reg_find(pg->dir);
  if (r) cluster_teardown(r);
  pthread_mutex_unlock(&reg_mu);
  memset(pg, 0, sizeof *pg);
}

/* --------------------------------------------------------------------------------------
 * Service processes
 * ------------------------------------------------------------------------------------ */

int th_free_port(void) {
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
    if (svcs[i].pid == pid) return &svcs[i];
  return NULL;
}

static void svc_register(pid_t pid) {
  pthread_mutex_lock(&reg_mu);
  reg_svc *r = svc_find(0);
  if (r) {
    r->reaped = 0;
    r->status = 0;
    r->pid = pid;
  }
  pthread_mutex_unlock(&reg_mu);
}

static void svc_forget(pid_t pid) {
  pthread_mutex_lock(&reg_mu);
  reg_svc *r = svc_find(pid);
  if (r) r->pid = 0;
  pthread_mutex_unlock(&reg_mu);
}

/* Waits for pid up to timeout_ms (WNOHANG polling); 1 with *status when it ended, 0 if it
 * still runs. A status seen earlier by th_svc_alive is returned from the registry. */
static int svc_wait(pid_t pid, int timeout_ms, int *status) {
  pthread_mutex_lock(&reg_mu);
  reg_svc *r = svc_find(pid);
  if (r && r->reaped) {
    *status = r->status;
    pthread_mutex_unlock(&reg_mu);
    return 1;
  }
  pthread_mutex_unlock(&reg_mu);
  long long end = now_ms() + timeout_ms;
  for (;;) {
    pid_t w = waitpid(pid, status, WNOHANG);
    if (w == pid) {
      pthread_mutex_lock(&reg_mu);
      r = svc_find(pid);
      if (r) {
        r->reaped = 1;
        r->status = *status;
      }
      pthread_mutex_unlock(&reg_mu);
      return 1;
    }
    if (w < 0 && errno != EINTR) {
      *status = 0;
      return -1;
    }
    if (now_ms() >= end) return 0;
    sleep_ms(10);
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
                     int (*ready)(int port, const char *addr, const char *const *env)) {
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
    int port = th_free_port();
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

    long long end = now_ms() + TH_START_TIMEOUT_MS;
    int died = 0, status = 0;
    while (now_ms() < end) {
      if (svc_wait(pid, 0, &status) != 0) {
        died = 1;
        break;
      }
      if (ready(port, s->addr, extra_env)) {
        if (owns_listener(pid, port)) return 0;
        /* another service answered on our port: ours lost the bind and is about to exit */
        if (svc_wait(pid, 2000, &status) != 0) {
          died = 1;
          break;
        }
      }
      sleep_ms(25);
    }
    if (died) {
      svc_forget(pid);
      s->pid = 0;
      /* the port taken by another process since th_free_port: not the service's fault */
      if ((port_open(port) || lost_port(s->log)) && attempt < 2) continue;
      fprintf(stderr, "th: %s exited during start-up with status %d\n", binary,
              exit_code(status));
      print_tail(binary, s->log);
      return -1;
    }
    fprintf(stderr, "th: %s did not answer its health check on %s within %d s\n", binary,
            s->addr, TH_START_TIMEOUT_MS / 1000);
    print_tail(binary, s->log);
    th_svc_stop(s);
    return -1;
  }
  return -1;
}

int th_svc_start(th_svc *s, const char *binary, const char *addr_env, const th_pg *pg,
                 const char *const *extra_env) {
  return svc_start(s, binary, addr_env, pg, extra_env, grpc_ready);
}

int th_http_start(th_svc *s, const char *binary, const char *addr_env, const th_pg *pg,
                  const char *const *extra_env) {
  return svc_start(s, binary, addr_env, pg, extra_env, http_ready);
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
  int r = svc_wait(s->pid, 0, &status);
  if (r == 0) {
    kill(s->pid, SIGTERM);
    r = svc_wait(s->pid, TH_STOP_TIMEOUT_MS, &status);
    if (r == 0) {
      fprintf(stderr, "th: %s did not stop within %d s of SIGTERM; killing it\n", s->log,
              TH_STOP_TIMEOUT_MS / 1000);
      kill(s->pid, SIGKILL);
      r = svc_wait(s->pid, TH_STOP_TIMEOUT_MS, &status);
    }
  }
  svc_forget(s->pid);
  s->pid = 0;
  if (r != 1) return -1;
  int code = exit_code(status);
  if (code != 0) {
    fprintf(stderr, "th: service exited with status %d\n", code);
    print_tail("service exit", s->log);
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
  return svc_wait(s->pid, 0, &status) == 0;
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
  long long end = now_ms() + 5000;
  while (now_ms() < end) {
    if (all_threads_stopped(s->pid)) return 0;
    sleep_ms(5);
  }
  kill(s->pid, SIGCONT);
  return -1;
}

int th_svc_resume(const th_svc *s) { return s->pid > 0 ? kill(s->pid, SIGCONT) : -1; }

static void cleanup_at_exit(void) {
  /* services first: they would only log connection errors once the database is gone */
  for (int i = 0; i < TH_MAX_SVCS; i++) {
    pid_t pid = (pid_t)svcs[i].pid;
    if (pid <= 0 || svcs[i].reaped) continue;
    kill(pid, SIGTERM);
    int status;
    if (svc_wait(pid, 5000, &status) == 0) {
      kill(pid, SIGKILL);
      svc_wait(pid, 5000, &status);
    }
    svcs[i].pid = 0;
  }
  pthread_mutex_lock(&reg_mu);
  for (int i = 0; i < TH_MAX_CLUSTERS; i++)
    if (clusters[i].used) cluster_teardown(&clusters[i]);
  pthread_mutex_unlock(&reg_mu);
}

/* --------------------------------------------------------------------------------------
 * gRPC helpers
 * ------------------------------------------------------------------------------------ */

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
