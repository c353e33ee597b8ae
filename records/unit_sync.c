/* Records follow identity's unit tree: one background thread per records process reads the
 * unit-change feed (ListUnitChanges, as the records service client) and applies each change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cfg.h"
#include "identity.pb-c.h"
#include "log.h"
#include "records.h"
#include "store_unit_sync.h"
#include "svc_client.h"

#define IDN "/hoso.identity.v1.Identity/"
#define PAGE 100             /* changes asked for per poll */
#define MAX_BACKOFF_MS 60000

typedef Hoso__Identity__V1__UnitChange unit_change;

static struct {
  srv_periodic *job;
  int failures; /* rounds failed in a row */
  long interval_ms;
  svc_client *client; /* the records service client (HOSO_RECORDS_CLIENT_ID / _SECRET) */
  db_conn *db;
  srv_ctx *ctx;
  tok_claims claims;  /* its token's claims: the actor of every version and audit row written */
} S;

/* ------------------------------------------------------------ identity side ------------- */

/* One identity call as the records service client (svc_call: token, retries). The status;
 * answers other than an outage or a refused client are logged here, naming what was asked. */
static grpc_status_code call_identity(const char *method, const ProtobufCMessage *req,
                                      const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                                      const char *what) {
  cli_status st;
  grpc_status_code c = svc_call(S.client, "identity", method, req, desc, out, &st);
  if (c != GRPC_STATUS_OK && c != GRPC_STATUS_NOT_FOUND && c != GRPC_STATUS_UNAVAILABLE &&
      c != GRPC_STATUS_DEADLINE_EXCEEDED && c != GRPC_STATUS_UNAUTHENTICATED && c != GRPC_STATUS_PERMISSION_DENIED)
    log_error("unit sync: %s: %s %s", what, cli_status_name(c), st.message);
  return c;
}

/* The changes after `after`. 0 with *out (free with free_unpacked), or -1 (logged). */
static int fetch(long long after, Hoso__Identity__V1__ListUnitChangesResponse **out) {
  Hoso__Identity__V1__ListUnitChangesRequest req = HOSO__IDENTITY__V1__LIST_UNIT_CHANGES_REQUEST__INIT;
  req.after_seq = after;
  req.page_size = PAGE;
  char what[64];
  snprintf(what, sizeof what, "ListUnitChanges after %lld", after);
  return call_identity(IDN "ListUnitChanges", &req.base, &hoso__identity__v1__list_unit_changes_response__descriptor,
                       (ProtobufCMessage **)out, what) == GRPC_STATUS_OK
             ? 0
             : -1;
}

/* ------------------------------------------------------------ late writers -------------- */

/* A record written with a unit path read from identity just before a change was applied (a
 * CreateRecord, import or transfer in flight, another records process's 30 s path cache) keeps
 * the old path, where no change will ever look again. So for SWEEP_MS after each change, the
 * idle rounds look under its old path (one index range), ask identity where each unit found
 * there is now, and re-file what lies elsewhere: to the unit's current path, or, for a unit
 * dissolved since, to its successor as a merge would have. */
#define SWEEP_MS 60000
#define RECENT 16

static struct {
  long long seq, until_ms;
  char old_path[512];
} recent[RECENT];

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void remember(const unit_change *c) {
  int i = (int)(c->seq % RECENT);
  if (strlen(c->old_path) >= sizeof recent[i].old_path) return;
  recent[i].seq = c->seq;
  recent[i].until_ms = now_ms() + SWEEP_MS;
  snprintf(recent[i].old_path, sizeof recent[i].old_path, "%s", c->old_path);
}

/* identity's view of a unit: 1 with *u (free with free_unpacked), 0 when it has none, -1. */
static int ask_unit(const char *id, Hoso__Identity__V1__Unit **u) {
  Hoso__Identity__V1__GetUnitRequest req = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  req.unit_id = (char *)id;
  ProtobufCMessage *out = NULL;
  char what[64];
  snprintf(what, sizeof what, "GetUnit %s", id);
  grpc_status_code c = call_identity(IDN "GetUnit", &req.base, &hoso__identity__v1__get_unit_response__descriptor,
                                     &out, what);
  *u = NULL;
  if (c != GRPC_STATUS_OK) return c == GRPC_STATUS_NOT_FOUND ? 0 : -1;
  Hoso__Identity__V1__GetUnitResponse *g = (Hoso__Identity__V1__GetUnitResponse *)out;
  *u = g->unit;
  g->unit = NULL;
  protobuf_c_message_free_unpacked(out, NULL);
  return *u ? 1 : 0;
}

/* One unit found under a recent change's old path at `stale`. 0, or -1 (logged). */
static int sweep_unit(const char *unit, const char *stale, long long cursor) {
  Hoso__Identity__V1__Unit *u = NULL, *b = NULL;
  int rc = ask_unit(unit, &u);
  if (rc <= 0) return rc;
  us_refile f = {.unit = unit, .stale = stale, .cursor = cursor, .cur = u->path};
  int dissolved = u->status == HOSO__IDENTITY__V1__UNIT_STATUS__UNIT_STATUS_DISSOLVED;
  if (dissolved) {
    /* Its records go to the successor, wherever that is now; a successor dissolved in turn is
     * the next round's case (the records then lie under its old path). */
    rc = *u->merged_into_id ? ask_unit(u->merged_into_id, &b) : 0;
    if (rc <= 0 || b->status == HOSO__IDENTITY__V1__UNIT_STATUS__UNIT_STATUS_DISSOLVED) goto out;
    f.successor = b->id;
    f.cur = b->path;
    f.reason = "unit merged (a record filed under the dissolved unit while the merge was applied)";
  } else if (strcmp(u->path, stale) == 0) {
    goto out; /* the unit is back where it was: nothing is stale */
  }
  srv_ctx *ctx = S.ctx;
  srv_job_reset(ctx);
  ctx->auth = &S.claims;
  ctx->request_id = srv_printf(ctx, "unit-sync-late-%s", unit);
  if (srv_tx(ctx, DB_READ_COMMITTED, us_refile_tx, &f) != 0) {
    grpc_status_code code;
    const char *msg = srv_fail_take(ctx, &code);
    log_error("unit sync: records of unit %s left at %s not re-filed: %s %s; retrying", unit, stale,
              cli_status_name(code), msg ? msg : "");
    rc = -1;
  } else if (!f.stale_cursor && f.merged + f.records + f.versions + f.requests > 0) {
    /* (Nothing left: another records process re-filed them first.) */
    rec_unit_path_forget_all();
    log_warn("unit sync: re-filed records written with unit %s's path from before a change: %s -> %s; %lld record(s) "
             "given to the successor, %lld record(s), %lld version(s), %lld change request(s)",
             unit, stale, f.cur, f.merged, f.records, f.versions, f.requests);
  }
out:
  if (u) protobuf_c_message_free_unpacked(&u->base, NULL);
  if (b) protobuf_c_message_free_unpacked(&b->base, NULL);
  return rc < 0 ? -1 : 0;
}

static int sweep(void) {
  long long now = now_ms();
  for (int i = 0; i < RECENT; i++) {
    if (!recent[i].seq || recent[i].until_ms < now) continue;
    srv_ctx *ctx = S.ctx;
    srv_job_reset(ctx);
    ctx->auth = &S.claims;
    us_look l = {.old_path = recent[i].old_path};
    if (srv_tx(ctx, DB_READ_COMMITTED, us_look_tx, &l) != 0) {
      PQclear(l.found);
      log_warn("unit sync: cannot look under %s for late records; retrying", recent[i].old_path);
      return -1;
    }
    int rc = 0;
    for (int k = 0; k < PQntuples(l.found) && rc == 0; k++)
      rc = sweep_unit(PQgetvalue(l.found, k, 0), PQgetvalue(l.found, k, 1), l.cursor);
    PQclear(l.found);
    if (rc != 0) return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ a change from the feed ---- */

/* A change from identity is checked before it touches anything: a malformed one stops the
 * sync (logged) rather than rewrite paths wrongly. */
static int change_ok(const unit_change *c) {
  int merged = c->kind == HOSO__IDENTITY__V1__UNIT_CHANGE_KIND__UNIT_CHANGE_KIND_MERGED;
  int moved = c->kind == HOSO__IDENTITY__V1__UNIT_CHANGE_KIND__UNIT_CHANGE_KIND_MOVED;
  return (merged || moved) && c->unit_id && *c->unit_id && c->old_path && *c->old_path && c->new_path &&
         *c->new_path && c->successor_id && (merged == (*c->successor_id != '\0')) && c->reason && c->actor_id &&
         c->at && *c->at;
}

static int apply(const unit_change *c) {
  srv_ctx *ctx = S.ctx;
  srv_job_reset(ctx);
  ctx->auth = &S.claims;
  ctx->request_id = srv_printf(ctx, "unit-sync-%lld", (long long)c->seq);
  us_apply a = {.c = c};
  const char *kind = c->kind == HOSO__IDENTITY__V1__UNIT_CHANGE_KIND__UNIT_CHANGE_KIND_MERGED ? "MERGED" : "MOVED";
  if (!change_ok(c)) {
    log_error("unit sync: change %lld from identity is malformed; stopped before it", (long long)c->seq);
    return -1;
  }
  /* Once the change commits (the cursor with it) it is visible to everyone: forgetting only
   * after the commit left a moment in which a caller who saw it applied was still answered
   * from a path fetched before it. Paths fetched from here on are identity's after the change. */
  rec_unit_path_forget_all();
  long long t0 = now_ms();
  if (srv_tx(ctx, DB_READ_COMMITTED, us_apply_tx, &a) != 0) {
    grpc_status_code code;
    const char *msg = srv_fail_take(ctx, &code);
    log_error("unit sync: change %lld (%s unit %s %s -> %s) not applied: %s %s; retrying", (long long)c->seq, kind,
              c->unit_id, c->old_path, c->new_path, cli_status_name(code), msg ? msg : "");
    return -1;
  }
  /* A call in flight during the transaction may have cached a path from before the change
   * again; what was written with such a path meanwhile is looked for (sweep). */
  rec_unit_path_forget_all();
  remember(c);
  if (a.skipped)
    log_info("unit sync: change %lld already applied by another records process", (long long)c->seq);
  else
    log_info("unit sync: change %lld applied in %lld ms: %s unit %s %s -> %s%s%s; %lld record(s) given to the "
             "successor; re-filed under the new path: %lld record(s), %lld version(s), %lld change request(s)",
             (long long)c->seq, now_ms() - t0, kind, c->unit_id, c->old_path, c->new_path,
             *c->successor_id ? " successor " : "", c->successor_id, a.merged, a.records, a.versions, a.requests);
  return 0;
}

/* ------------------------------------------------------------ the loop ------------------ */

static int read_cursor(long long *seq) {
  PGresult *r = db_q(S.db, "SELECT last_seq FROM unit_sync_cursor", 0);
  if (!r) return -1;
  int rc = PQntuples(r) == 1 ? 0 : -1;
  if (rc == 0) *seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return rc;
}

/* One round: what the feed holds after the cursor, applied in order. *more: a further page is
 * waiting. 0, or -1 (logged) to retry after a pause. */
static int poll_once(int *more) {
  *more = 0;
  long long cursor = 0;
  if (db_ensure(S.db) != 0 || read_cursor(&cursor) != 0) {
    log_warn("unit sync: cannot read the cursor (%s); retrying", db_err_message(S.db));
    return -1;
  }
  if (svc_client_login(S.client, &S.claims) != 0) return -1;
  Hoso__Identity__V1__ListUnitChangesResponse *resp = NULL;
  if (fetch(cursor, &resp) != 0) return -1;
  int rc = 0;
  for (size_t i = 0; i < resp->n_changes && rc == 0; i++) {
    const unit_change *c = resp->changes[i];
    if (c->seq <= cursor) continue;
    if (c->seq != cursor + 1) {
      log_error("unit sync: the feed jumped from %lld to %lld; not applying past the gap", cursor, (long long)c->seq);
      rc = -1;
    } else if ((rc = apply(c)) == 0) {
      cursor = c->seq;
    }
  }
  if (rc == 0) *more = resp->last_seq > cursor;
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  /* Caught up: look for records written with a path from before a recent change. */
  if (rc == 0 && !*more) rc = sweep();
  return rc;
}

/* One round, on the job's thread: the changes after the cursor, or the pause after a failure,
 * growing so that a long outage is not a flood of calls and log lines. */
static long round_once(srv_ctx *ctx, void *arg) {
  (void)arg;
  S.ctx = ctx;
  S.db = ctx->db;
  int more = 0;
  if (poll_once(&more) == 0) {
    if (S.failures) log_info("unit sync: working again after %d failed round(s)", S.failures);
    S.failures = 0;
    return more ? 0 : S.interval_ms;
  }
  S.failures++;
  long wait = S.interval_ms << (S.failures < 6 ? S.failures : 6);
  return wait > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : wait;
}

int rec_unit_sync_start(void) {
  S.interval_ms = cfg_int("HOSO_UNIT_SYNC_MS", 2000, 10, 3600000);
  if (!(S.client = svc_client_from_env("records"))) {
    log_warn("unit sync off: HOSO_RECORDS_CLIENT_ID / HOSO_RECORDS_CLIENT_SECRET not set, so records do not follow "
             "unit moves and merges made in identity");
    return 0;
  }
  S.failures = 0;
  if (!(S.job = srv_periodic_start("unit-sync", "records", round_once, NULL, 0))) {
    svc_client_free(S.client);
    S.client = NULL;
    return -1;
  }
  log_info("unit sync: following identity's unit changes every %ld ms as %s", S.interval_ms, svc_client_id(S.client));
  return 0;
}

void rec_unit_sync_stop(void) {
  if (!S.job) return;
  /* A change being applied finishes (or rolls back) first: its transaction is never cut. */
  srv_periodic_stop(S.job);
  S.job = NULL;
  svc_client_free(S.client);
  S.client = NULL;
  S.ctx = NULL;
  S.db = NULL;
}
