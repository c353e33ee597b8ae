/* The signed checkpoints of a service's audit chains (audit_anchor.h): a background job appends
 * one to HOSO_AUDIT_CHECKPOINT_FILE at least every HOSO_AUDIT_CHECKPOINT_SECONDS, signed with
 * HOSO_AUDIT_CHECKPOINT_KEY, once across all instances of the service (the checkpoint state row
 * is the lease). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "audit_anchor.h"
#include "cfg.h"
#include "log.h"
#include "srv_int.h"

static struct {
  audit_anchor_key *key;
  char file[4096];
  char schema[64];
  long interval_s;
  int failing; /* a failure is logged once, and its end */
  srv_periodic *job;
} A;

int srv_anchor_init(const char *schema) {
  const char *key = cfg_str("HOSO_AUDIT_CHECKPOINT_KEY", NULL), *file = cfg_str("HOSO_AUDIT_CHECKPOINT_FILE", NULL);
  if (!key || !file) {
    if (cfg_bool("HOSO_INSECURE_DEV", 0)) {
      log_warn("HOSO_INSECURE_DEV=1: no signed checkpoints of the audit log; whoever owns the database could "
               "rewrite its end unseen. Development only: set HOSO_AUDIT_CHECKPOINT_KEY and _FILE");
      return 0;
    }
    log_error("HOSO_AUDIT_CHECKPOINT_KEY and HOSO_AUDIT_CHECKPOINT_FILE must be set: the service signs a "
              "checkpoint of its audit chains at least hourly with a key kept outside the database (an Ed25519 "
              "key, mode 0600: openssl genpkey -algorithm ed25519) and appends it to a file outside the database "
              "(docs/SECURITY.md). Not starting");
    return -1;
  }
  struct stat st;
  if (stat(key, &st) != 0) {
    log_error("HOSO_AUDIT_CHECKPOINT_KEY %s: %s", key, strerror(errno));
    return -1;
  }
  if (st.st_mode & 077) {
    log_error("HOSO_AUDIT_CHECKPOINT_KEY %s: must be readable by its owner only (mode %04o; chmod 600 it)", key,
              (unsigned)(st.st_mode & 07777));
    return -1;
  }
  char why[512];
  if (!(A.key = audit_anchor_key_load(key, why, sizeof why))) {
    log_error("HOSO_AUDIT_CHECKPOINT_KEY %s", why);
    return -1;
  }
  snprintf(A.file, sizeof A.file, "%s", file);
  snprintf(A.schema, sizeof A.schema, "%s", schema);
  A.interval_s = cfg_int("HOSO_AUDIT_CHECKPOINT_SECONDS", 3600, 1, 3600);
  return 0;
}

typedef struct {
  long wait_s;    /* out: seconds until the next checkpoint is due */
  int written;    /* out: one was appended */
  int file_errno; /* out: the append failed with this */
} round_st;

static int round_tx(db_conn *db, void *p) {
  round_st *st = p;
  st->written = st->file_errno = 0;
  char iv[24];
  snprintf(iv, sizeof iv, "%ld", A.interval_s);
  /* The row is the lease: an instance holding it is writing; the others skip this round. */
  PGresult *r = db_q(db,
                     "SELECT greatest(0, ceil($1::int - extract(epoch FROM now() - greatest(last_at, 'epoch'))))::bigint "
                     "FROM audit_checkpoint_state WHERE id = 1 FOR UPDATE SKIP LOCKED",
                     1, iv);
  if (!r) return -1;
  int leased = PQntuples(r) == 1;
  st->wait_s = leased ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : A.interval_s;
  PQclear(r);
  if (!leased || st->wait_s > 0) return 0;
  char *line = audit_anchor_line(db, A.schema, A.key);
  if (!line) return -1;
  /* Appended while the lease is held; if the commit then fails, the next round appends another
   * line, which is harmless. */
  int rc = audit_anchor_append(A.file, line);
  st->file_errno = rc ? errno : 0;
  free(line);
  if (rc) return DB_TX_ROLLBACK;
  st->written = 1;
  st->wait_s = A.interval_s;
  return db_cmd(db, "UPDATE audit_checkpoint_state SET last_at = now() WHERE id = 1", 0);
}

static long anchor_round(srv_ctx *ctx, void *arg) {
  (void)arg;
  round_st st = {0};
  int rc = db_ensure(ctx->db) == 0 ? db_tx(ctx->db, DB_READ_COMMITTED, "*", "audit-checkpoint", round_tx, &st) : -1;
  if (rc != 0) {
    /* The service goes on serving; the gap shows in the verifier's "last checkpoint". */
    if (!A.failing)
      log_error("audit checkpoint of %s not written: %s; retrying every %ld s", A.schema,
                st.file_errno ? strerror(st.file_errno) : db_err_message(ctx->db), A.interval_s < 60 ? A.interval_s : 60);
    A.failing = 1;
    /* every minute, or sooner when checkpoints are due sooner than that */
    return (A.interval_s < 60 ? A.interval_s : 60) * 1000L;
  }
  if (A.failing && st.written) log_info("audit checkpoint of %s written again to %s", A.schema, A.file);
  if (st.written) A.failing = 0;
  /* a little after it is due, so the lease is free and the age is reached */
  return (st.wait_s > 0 ? st.wait_s : 1) * 1000L + 50;
}

int srv_anchor_start(void) {
  if (!A.key) return 0; /* development mode */
  /* the first soon after start: a fresh deployment is anchored at once */
  A.job = srv_periodic_start("audit-checkpoint", A.schema, anchor_round, NULL, 1000);
  return A.job ? 0 : -1;
}

void srv_anchor_stop(void) {
  srv_periodic_stop(A.job);
  A.job = NULL;
  audit_anchor_key_free(A.key);
  A.key = NULL;
}
