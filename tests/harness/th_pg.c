/* Test harness (th.h), PostgreSQL: a private cluster per test in a temporary directory, made
 * from a template cluster initdb'd once per build, watched so that it never outlives the test. */
#include "th_int.h"

#include <arpa/inet.h>
#include <dirent.h>
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

static void rm_rf(const char *path) {
  if (!path[0] || strcmp(path, "/") == 0) return;
  const char *argv[] = {"rm", "-rf", "--", path, NULL};
  th__run(0, argv, NULL);
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
   * disposable and the suite runs several th__clusters at once. Commits do not wait for their
   * WAL either, unless a test that kills the server needs what was acknowledged to survive it
   * (HOSO_TH_PG_SYNCHRONOUS_COMMIT=on, as production runs: fsync off loses nothing when only
   * processes die, the operating system's cache holds the WAL). */
  const char *sync = getenv("HOSO_TH_PG_SYNCHRONOUS_COMMIT");
  snprintf(opts, sizeof opts,
           "-c listen_addresses='' -k '%s' -p %d -c fsync=off -c synchronous_commit=%s "
           "-c full_page_writes=off",
           sock, port, sync && !strcmp(sync, "on") ? "on" : "off");
  const char *argv[] = {pg_ctl, "-D", data, "-w", "-t", "60", "-l", log, "-o", opts, "start",
                        NULL};
  if (th__run(1, argv, ctl_log) != 0) {
    th__print_tail("pg_ctl start failed", ctl_log);
    th__print_tail("postgres did not start", log);
    return -1;
  }
  return 0;
}

static int pg_server_stop(const char *data, const char *mode) {
  char pg_ctl[300];
  pg_prog(pg_ctl, sizeof pg_ctl, "pg_ctl");
  const char *argv[] = {pg_ctl, "-D", data, "-m", mode, "-w", "-t", "60", "stop", NULL};
  return th__run(1, argv, NULL) == 0 ? 0 : -1;
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
  if (th__is_root() && pg_ids(&uid, &gid) == 0 && chown(out, uid, gid) != 0) {
    fprintf(stderr, "th: chown %s: %s\n", out, strerror(errno));
    rm_rf(out);
    return -1;
  }
  return 0;
}

/* The template cluster of this build (roles hoso and hoso_report, database hoso already made), created
 * once under a lock so parallel tests share it. initdb costs seconds; a copy, milliseconds. */
static int pg_template(char *tpl, size_t n) {
  char initdb[300], ver[32] = "";
  pg_prog(initdb, sizeof initdb, "initdb");
  /* The major version is part of the name, so an upgraded server never gets an old template. */
  const char *p = strstr(initdb, "/postgresql/");
  if (p) snprintf(ver, sizeof ver, "-%ld", strtol(p + strlen("/postgresql/"), NULL, 10));
  /* -r3: the roles changed (hoso_owner owns the database, hoso_report reads records' published
   * views); an older template is not used */
  snprintf(tpl, n, "%s/pg-template%s-r3", HOSO_BIN_DIR, ver);

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
    if (th__run(1, argv, log) != 0) {
      /* a system without the C.UTF-8 locale still has C */
      rm_rf(data);
      argv[9] = "--locale=C";
      if (th__run(1, argv, log) != 0) {
        th__print_tail("initdb failed", log);
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
             /* the reporting service's reader of records' published views (031) */
             pg_admin_exec(dsn, "CREATE ROLE hoso_report LOGIN NOSUPERUSER") == 0 &&
             pg_admin_exec(dsn, "CREATE DATABASE hoso OWNER hoso_owner") == 0;
    if (pg_server_stop(data, "fast") != 0 || !ok) goto out;
  }
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", tpl, (long)getpid());
  rm_rf(tmp);
  {
    const char *argv[] = {"cp", "-a", data, tmp, NULL};
    if (th__run(0, argv, NULL) != 0) {
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
    if (th__clusters[i].used && strcmp(th__clusters[i].data, data) == 0) return &th__clusters[i];
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
  if (th__is_root()) {
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
void th__cluster_teardown(reg_cluster *rc) {
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
  pthread_once(&th__hooks_once, th__install_hooks);
  memset(pg, 0, sizeof *pg);
  char tpl[300], root[256];
  if (pg_template(tpl, sizeof tpl) != 0) return -1;
  if (make_pg_root(root, sizeof root, "/tmp/hoso-pg-XXXXXX") != 0) return -1;

  pthread_mutex_lock(&th__reg_mu);
  reg_cluster *rc = NULL;
  for (int i = 0; i < TH_MAX_CLUSTERS && !rc; i++)
    if (!th__clusters[i].used) rc = &th__clusters[i];
  if (rc) {
    memset(rc, 0, sizeof *rc);
    rc->used = 1;
    rc->wfd = -1;
    snprintf(rc->root, sizeof rc->root, "%s", root);
    snprintf(rc->data, sizeof rc->data, "%.240s/data", root);
  }
  pthread_mutex_unlock(&th__reg_mu);
  if (!rc) {
    fprintf(stderr, "th: more than %d th__clusters at once\n", TH_MAX_CLUSTERS);
    rm_rf(root);
    return -1;
  }
  if (start_watchdog(rc) != 0) goto fail;

  snprintf(pg->dir, sizeof pg->dir, "%s", rc->data);
  snprintf(pg->sock_dir, sizeof pg->sock_dir, "%s", root);
  {
    const char *argv[] = {"cp", "-a", tpl, pg->dir, NULL};
    if (th__run(0, argv, NULL) != 0) {
      fprintf(stderr, "th: cannot copy %s to %s\n", tpl, pg->dir);
      goto fail;
    }
  }
  /* Any number would do for the private socket; a free TCP port keeps the names distinct
   * in logs and ps output when several th__clusters run. */
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
  pthread_mutex_lock(&th__reg_mu);
  th__cluster_teardown(rc);
  pthread_mutex_unlock(&th__reg_mu);
  memset(pg, 0, sizeof *pg);
  return -1;
}

int th_pg_stop(th_pg *pg) {
  if (!pg->dir[0]) return -1;
  int rc = pg_server_stop(pg->dir, "fast");
  pthread_mutex_lock(&th__reg_mu);
  reg_cluster *r = reg_find(pg->dir);
  if (r && rc == 0) r->postmaster = 0;
  pthread_mutex_unlock(&th__reg_mu);
  if (rc != 0) fprintf(stderr, "th: pg_ctl stop failed for %s\n", pg->dir);
  return rc;
}

int th_pg_restart_server(th_pg *pg) {
  if (!pg->dir[0]) return -1;
  if (pg_server_start(pg->dir, pg->sock_dir, pg->port) != 0) return -1;
  pthread_mutex_lock(&th__reg_mu);
  reg_cluster *r = reg_find(pg->dir);
  if (r) r->postmaster = read_postmaster_pid(pg->dir);
  pthread_mutex_unlock(&th__reg_mu);
  return 0;
}

/* The processes whose parent is pid (/proc), into out (at most max); how many. */
static int children_of(pid_t pid, pid_t *out, int max) {
  DIR *d = opendir("/proc");
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) && n < max) {
    char path[64], buf[512];
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%.20s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = 0;
    /* pid (comm) state ppid ...: comm may hold spaces, so read after its closing ')' */
    char *close = strrchr(buf, ')');
    char state;
    long ppid;
    if (close && sscanf(close + 1, " %c %ld", &state, &ppid) == 2 && ppid == (long)pid && state != 'Z')
      out[n++] = (pid_t)atol(e->d_name);
  }
  if (d) closedir(d);
  return n;
}

/* Running and not a zombie (the postmaster is not our child: init reaps it). */
static int alive(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t got = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[got] = 0;
  char *close = strrchr(buf, ')');
  char state = 0;
  return close && sscanf(close + 1, " %c", &state) == 1 && state != 'Z';
}

int th_pg_kill(th_pg *pg) {
  if (!pg->dir[0]) return -1;
  pid_t pm = read_postmaster_pid(pg->dir);
  if (pm <= 0) return -1;
  pid_t kids[256];
  int n = children_of(pm, kids, 256);
  kill(pm, SIGKILL);
  for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
  long long until = th__now_ms() + 20000;
  int left = 1;
  while (left && th__now_ms() < until) {
    left = alive(pm);
    for (int i = 0; i < n && !left; i++) left = alive(kids[i]);
    if (left) th__sleep_ms(20);
  }
  pthread_mutex_lock(&th__reg_mu);
  reg_cluster *r = reg_find(pg->dir);
  if (r && !left) r->postmaster = 0;
  pthread_mutex_unlock(&th__reg_mu);
  if (left) {
    fprintf(stderr, "th: PostgreSQL of %s still running 20 s after SIGKILL\n", pg->dir);
  } else {
    /* The dead postmaster stays a zombie where nothing reaps orphans (a container's init), and
     * a new server takes lock files naming a pid that "exists" for the one still running: it is
     * gone, so are its locks (data directory and socket), as an operator would remove them. */
    char lock[320];
    snprintf(lock, sizeof lock, "%.280s/postmaster.pid", pg->dir);
    unlink(lock);
    snprintf(lock, sizeof lock, "%.280s/.s.PGSQL.%d.lock", pg->sock_dir, pg->port);
    unlink(lock);
    snprintf(lock, sizeof lock, "%.280s/.s.PGSQL.%d", pg->sock_dir, pg->port);
    unlink(lock);
  }
  return left ? -1 : 0;
}

int th_pg_start_again(th_pg *pg) {
  /* A killed server's backends may hold its shared memory a moment longer: start refuses then. */
  for (int i = 0; i < 30; i++) {
    if (th_pg_restart_server(pg) == 0) return 0;
    th__sleep_ms(500);
  }
  return -1;
}

void th_pg_destroy(th_pg *pg) {
  if (!pg->dir[0]) return;
  pthread_mutex_lock(&th__reg_mu);
  reg_cluster *r = reg_find(pg->dir);
  if (r) th__cluster_teardown(r);
  pthread_mutex_unlock(&th__reg_mu);
  memset(pg, 0, sizeof *pg);
}

