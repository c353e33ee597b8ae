/* Test harness for integration tests: a private PostgreSQL cluster in a temporary directory
 * (Unix socket only), real service processes on free loopback ports, and gRPC clients. */
#ifndef HOSO_TH_H
#define HOSO_TH_H

#include <stddef.h>
#include <sys/types.h>
#include "cli.h"

typedef struct {
  char dir[256];      /* cluster data directory (owned by the postgres user) */
  char sock_dir[256]; /* Unix socket directory */
  int port;           /* the socket's port number (no TCP listener) */
  char dsn[512];      /* libpq DSN for the services' role "hoso": not the owner of anything */
  char migrate_dsn[512]; /* DSN of the owner role "hoso_owner", which migrations run as */
  char admin_dsn[512];/* DSN as the superuser, for test set-up and inspection only */
  char kek[300];      /* identity's key encryption key file (HOSO_KEY_ENCRYPTION_KEY), mode 0600 */
  char audit_key[300];  /* the Ed25519 key that signs audit checkpoints (HOSO_AUDIT_CHECKPOINT_KEY) */
  char audit_file[300]; /* where every service appends them (HOSO_AUDIT_CHECKPOINT_FILE) */
} th_pg;

/* initdb (as the postgres user when running as root) into a fresh temp dir, start the server
 * (fsync off, listen_addresses = ''), with database hoso owned by role hoso_owner and the
 * services' role hoso (both LOGIN, not superuser; every service started on the cluster migrates
 * as the first and runs as the second), and beside the cluster the keys every service started on
 * it gets: HOSO_KEY_ENCRYPTION_KEY, HOSO_AUDIT_CHECKPOINT_KEY and _FILE. 0 / -1 (reason printed). */
int th_pg_start(th_pg *pg);
/* Stop (fast) / start again on the same directory and socket. */
int th_pg_stop(th_pg *pg);
int th_pg_restart_server(th_pg *pg);
/* SIGKILL of the server and every process of it (a crash, as an out-of-memory kill or a power
 * cut would leave it), waiting (up to 20 s) until none is left; th_pg_restart_server then runs
 * crash recovery. 0 / -1. */
int th_pg_kill(th_pg *pg);
/* Starts a killed server again on its directory (crash recovery), retrying while its old
 * shared memory is still held (up to 15 s). 0 / -1. */
int th_pg_start_again(th_pg *pg);
/* Stop and delete the cluster. */
void th_pg_destroy(th_pg *pg);
/* The path of a PostgreSQL program (pg_dump, psql...) of the server the harness runs. */
void th_pg_prog(char *out, size_t n, const char *prog);

typedef struct {
  pid_t pid;
  char addr[64];      /* "127.0.0.1:PORT" */
  char log[256];      /* the process's stderr, kept for failure diagnosis */
} th_svc;

/* Starts HOSO_BIN_DIR/<binary> with the given extra environment ("K=V" strings, NULL
 * terminated; HOSO_PG_DSN and the address variable addr_env are set by the harness to pg->dsn
 * and a free port) and waits (up to 30 s) until its health check answers SERVING. */
int th_svc_start(th_svc *s, const char *binary, const char *addr_env, const th_pg *pg,
                 const char *const *extra_env);
/* th_svc_start on a port the caller reserved with th_port_hold (another service was told of the
 * address before this one could start): *held_fd is closed right before the start (and set to
 * -1; already -1: the port is simply free now). One attempt. */
int th_svc_start_held(th_svc *s, int *held_fd, int port, const char *binary, const char *addr_env,
                      const th_pg *pg, const char *const *extra_env);
/* Starts a service that was stopped or killed again on the address it had (its callers keep
 * that address): a crash and a restart, as an orchestrator would restart it. 0 / -1. */
int th_svc_restart(th_svc *s, const char *binary, const char *addr_env, const th_pg *pg,
                   const char *const *extra_env);
/* Same for an HTTP service (hoso-gateway): waits until GET /healthz answers 200. */
int th_http_start(th_svc *s, const char *binary, const char *addr_env, const th_pg *pg,
                  const char *const *extra_env);
/* The status code of GET path on addr ("127.0.0.1:PORT"), or -1 (no answer within 2 s). */
int th_http_status(const char *addr, const char *path);
/* SIGTERM and wait (up to 20 s, then SIGKILL). Returns the exit status or -1. */
int th_svc_stop(th_svc *s);
/* The lines of a service log that say something went wrong inside it (error level, sanitizer
 * reports), printed to stderr; their number. */
int th_log_errors(const char *path);
/* How many lines of a service log contain needle, each printed to stderr with prefix `what`
 * (NULL: not printed); -1 when the log cannot be read. */
int th_log_count(const char *path, const char *needle, const char *what);
/* 1 if the process is still running. */
int th_svc_alive(const th_svc *s);

/* SIGSTOP, and wait (up to 5 s) until every thread of the service has stopped: a service that
 * accepts connections but never answers. 0, or -1 (then it is left running). */
int th_svc_pause(const th_svc *s);
/* SIGCONT. */
int th_svc_resume(const th_svc *s);

/* The established TCP connections of the service's process to addr ("127.0.0.1:PORT"). */
int th_svc_connections_to(const th_svc *s, const char *addr);

/* A free TCP port on 127.0.0.1. */
int th_free_port(void);
/* A free TCP port on 127.0.0.1 kept bound by *fd (nobody else can take it) until th_svc_start_held
 * or close; -1 on failure. */
int th_port_hold(int *fd);

/* The identity service with the bootstrap admin password TH_ADMIN_PASSWORD. */
#define TH_ADMIN_PASSWORD "Quan-tri-vien-2026!"

/* Log in and return a malloc'd access token, or NULL. */
char *th_login(cli_chan *ch, const char *username, const char *password);
/* "YYYY-MM-DD": the day in Vietnam (UTC+7) `days` from now, the day the services judge as_of,
 * deadlines and grants on. Four rotating buffers: up to four may be used in one expression. */
const char *th_vn_day(int days);

/* A cli_md array of one bearer header for token (static storage per thread, valid until the
 * next call). */
const cli_md *th_bearer(const char *token);

#endif
