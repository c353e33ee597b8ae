/* unit_tree.h, following the tree: one background thread per process reads identity's
 * unit-change feed as the service's own client and applies each change, in order and exactly
 * once, through the service's callbacks; then looks for rows written with a path from before. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cfg.h"
#include "identity.pb-c.h"
#include "log.h"
#include "svc_client.h"
#include "unit_tree.h"

#define IDN "/hoso.identity.v1.Identity/"
#define PAGE 100 /* changes asked for per round */
#define MAX_BACKOFF_MS 60000

typedef Hoso__Identity__V1__UnitChange unit_change;

static struct {
  const unit_tree_follower *f;
  srv_periodic *job;
  int failures; /* rounds failed in a row */
  long interval_ms;
  svc_client *client; /* the service's own client */
  srv_ctx *ctx;       /* the job's context (srv_periodic's), reset before each change */
  srv_ctx *one;       /* a second one on the same connection: one late unit at a time */
  tok_claims claims;  /* the client's token's claims: the actor of every row written */
} S;

void unit_tree_count(json_t *counts, const char *name, long long n) {
  json_t *v = json_object_get(counts, name);
  json_object_set_new(counts, name, json_integer((v ? json_integer_value(v) : 0) + n));
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A context for one unit of work, acting as the service client. */
static srv_ctx *job(srv_ctx *ctx, const char *request_id) {
  srv_job_reset(ctx);
  ctx->auth = &S.claims;
  ctx->request_id = request_id ? srv_strdup(ctx, request_id) : NULL;
  return ctx;
}

/* Logs why a transaction of the follower did not commit. */
static void log_refusal(srv_ctx *ctx, const char *what) {
  grpc_status_code code = GRPC_STATUS_UNKNOWN;
  const char *msg = srv_fail_take(ctx, &code);
  log_error("unit sync: %s: %s %s; retrying", what, cli_status_name(code), msg ? msg : "");
}

static char *counts_text(json_t *counts) {
  char *t = json_dumps(counts, JSON_COMPACT | JSON_SORT_KEYS);
  return t ? t : strdup("{}");
}

/* ------------------------------------------------------------ the cursor ---------------- */

/* The cursor row, locked until commit when `lock`: a second process waits there, then finds the
 * change applied. */
static int cursor_read(srv_ctx *ctx, int lock, long long *seq) {
  PGresult *r = db_q(ctx->db, lock ? "SELECT last_seq FROM unit_tree_cursor FOR UPDATE" : "SELECT last_seq FROM unit_tree_cursor", 0);
  if (!r) return -1;
  int rc = PQntuples(r) == 1 ? 0 : srv_fail_internal(ctx);
  if (rc == 0) *seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return rc;
}

int unit_tree_followed(srv_ctx *ctx, long long *seq) { return cursor_read(ctx, 0, seq); }

/* ------------------------------------------------------------ one change ---------------- */

typedef struct {
  const unit_change *c;
  int skipped; /* another process applied it first */
  json_t *counts;
} apply_st;

static int apply_tx(srv_ctx *ctx, void *p) {
  apply_st *a = p;
  const unit_change *c = a->c;
  long long last;
  a->skipped = 0;
  json_object_clear(a->counts); /* the body runs again after a serialization failure */
  SRV_TRY(cursor_read(ctx, 1, &last));
  if (last >= c->seq) {
    a->skipped = 1;
    return 0;
  }
  if (last != c->seq - 1)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "cursor at %lld but the next change is %lld", last,
                    (long long)c->seq);
  if (c->kind == HOSO__IDENTITY__V1__UNIT_CHANGE_KIND__UNIT_CHANGE_KIND_MERGED && S.f->give)
    SRV_TRY(S.f->give(ctx, c->unit_id, c->successor_id, c->new_path, *c->reason ? c->reason : "unit merged", a->counts));
  SRV_TRY(S.f->reprefix(ctx, c->old_path, c->new_path, a->counts));

  char seq[32], kind[8];
  snprintf(seq, sizeof seq, "%lld", (long long)c->seq);
  snprintf(kind, sizeof kind, "%d", (int)c->kind);
  const char *counts = srv_strdup(ctx, "");
  char *t = counts_text(a->counts);
  if (t) counts = srv_strdup(ctx, t);
  free(t);
  if (db_cmd(ctx->db,
             "INSERT INTO unit_tree_applied (seq, kind, unit_id, old_path, new_path, successor_id, reason, actor_id, "
             "changed_at, counts) VALUES ($1::bigint, $2::smallint, $3::bigint, $4::public.ltree, $5::public.ltree, "
             "$6::bigint, $7, $8, $9::timestamptz, $10::jsonb)",
             10, seq, kind, c->unit_id, c->old_path, c->new_path, *c->successor_id ? c->successor_id : NULL, c->reason,
             c->actor_id, c->at, counts) != 0)
    return -1;
  return db_cmd(ctx->db, "UPDATE unit_tree_cursor SET last_seq = $1::bigint, updated_at = now()", 1, seq) != 0 ? -1 : 0;
}

/* A change from identity is checked before it touches anything: a malformed one stops the
 * follower (logged) rather than rewrite paths wrongly. */
static int change_ok(const unit_change *c) {
  int merged = c->kind == HOSO__IDENTITY__V1__UNIT_CHANGE_KIND__UNIT_CHANGE_KIND_MERGED;
  int moved = c->kind == HOSO__IDENTITY__V1__UNIT_CHANGE_KIND__UNIT_CHANGE_KIND_MOVED;
  return (merged || moved) && c->unit_id && *c->unit_id && c->old_path && *c->old_path && c->new_path &&
         *c->new_path && c->successor_id && (merged == (*c->successor_id != '\0')) && c->reason && c->actor_id &&
         c->at && *c->at;
}

/* ------------------------------------------------------------ late writers -------------- */

/* A row written with a unit path read from identity just before a change was applied (a call
 * in flight, another process's 30 s path cache) keeps the old path, where no change will ever
 * look again. So for SWEEP_MS after each change, the idle rounds look under its old path, ask
 * identity where each unit found there is now, and re-file what lies elsewhere: to the unit's
 * current path, or, for a unit dissolved since, to its successor as a merge would have. */
#define SWEEP_MS 60000
#define RECENT 16
#define LOOK_UNITS 100

static struct {
  long long seq, until_ms;
  char old_path[UNIT_TREE_PATH_MAX];
} recent[RECENT];

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
  cli_status st;
  grpc_status_code c = svc_call(S.client, "identity", IDN "GetUnit", &req.base,
                                &hoso__identity__v1__get_unit_response__descriptor, &out, &st);
  *u = NULL;
  if (c == GRPC_STATUS_NOT_FOUND) return 0;
  if (c != GRPC_STATUS_OK) return -1;
  Hoso__Identity__V1__GetUnitResponse *g = (Hoso__Identity__V1__GetUnitResponse *)out;
  *u = g->unit;
  g->unit = NULL;
  protobuf_c_message_free_unpacked(out, NULL);
  return *u ? 1 : 0;
}

typedef struct {
  const char *unit, *stale, *cur, *successor, *reason;
  long long cursor;
  int stale_cursor; /* a change was applied since the cursor was read: nothing done */
  json_t *counts;
} refile_st;

static int refile_tx(srv_ctx *ctx, void *p) {
  refile_st *f = p;
  long long now;
  json_object_clear(f->counts);
  SRV_TRY(cursor_read(ctx, 1, &now));
  f->stale_cursor = now != f->cursor;
  if (f->stale_cursor) return 0;
  if (f->successor && S.f->give) SRV_TRY(S.f->give(ctx, f->unit, f->successor, f->cur, f->reason, f->counts));
  return S.f->refile(ctx, f->unit, f->stale, f->cur, f->counts);
}

/* One unit found under a recent change's old path at `stale`. 0, or -1 (logged). */
static int sweep_unit(const char *unit, const char *stale, long long cursor) {
  Hoso__Identity__V1__Unit *u = NULL, *b = NULL;
  int rc = ask_unit(unit, &u);
  if (rc <= 0) return rc;
  refile_st f = {.unit = unit, .stale = stale, .cursor = cursor, .cur = u->path, .counts = json_object()};
  if (u->status == HOSO__IDENTITY__V1__UNIT_STATUS__UNIT_STATUS_DISSOLVED) {
    /* What it had goes to the successor, wherever that is now; a successor dissolved in turn is
     * the next round's case (the rows then lie under its old path). */
    rc = *u->merged_into_id ? ask_unit(u->merged_into_id, &b) : 0;
    if (rc <= 0 || b->status == HOSO__IDENTITY__V1__UNIT_STATUS__UNIT_STATUS_DISSOLVED) goto out;
    f.successor = b->id;
    f.cur = b->path;
    f.reason = "unit merged (a row filed under the dissolved unit while the merge was applied)";
  } else if (strcmp(u->path, stale) == 0) {
    goto out; /* the unit is back where it was: nothing is stale */
  }
  char rid[64];
  snprintf(rid, sizeof rid, "unit-sync-late-%s", unit);
  srv_ctx *ctx = job(S.one, rid);
  if (!f.counts || srv_tx(ctx, DB_READ_COMMITTED, refile_tx, &f) != 0) {
    log_refusal(ctx, srv_printf(ctx, "rows of unit %s left at %s not re-filed", unit, stale));
    rc = -1;
  } else if (!f.stale_cursor && json_object_size(f.counts) > 0) {
    unit_tree_forget();
    char *t = counts_text(f.counts);
    log_warn("unit sync: re-filed rows written with unit %s's path from before a change: %s -> %s: %s", unit, stale,
             f.cur, t ? t : "");
    free(t);
  }
out:
  json_decref(f.counts);
  if (u) protobuf_c_message_free_unpacked(&u->base, NULL);
  if (b) protobuf_c_message_free_unpacked(&b->base, NULL);
  return rc < 0 ? -1 : 0;
}

typedef struct {
  const char *old_path;
  long long cursor;
  char **units, **paths;
  size_t n;
} look_st;

static int look_tx(srv_ctx *ctx, void *p) {
  look_st *l = p;
  SRV_TRY(cursor_read(ctx, 0, &l->cursor));
  return S.f->look(ctx, l->old_path, LOOK_UNITS, &l->units, &l->paths, &l->n);
}

static int sweep(void) {
  long long now = now_ms();
  for (int i = 0; i < RECENT; i++) {
    if (!recent[i].seq || recent[i].until_ms < now) continue;
    /* The units found live in the job's context; each is re-filed in the second one. */
    srv_ctx *ctx = job(S.ctx, NULL);
    look_st l = {.old_path = recent[i].old_path};
    if (srv_tx(ctx, DB_READ_COMMITTED, look_tx, &l) != 0) {
      log_warn("unit sync: cannot look under %s for late rows; retrying", recent[i].old_path);
      return -1;
    }
    for (size_t k = 0; k < l.n; k++)
      if (sweep_unit(l.units[k], l.paths[k], l.cursor) != 0) return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ the rounds ---------------- */

static int apply(const unit_change *c) {
  char rid[48];
  snprintf(rid, sizeof rid, "unit-sync-%lld", (long long)c->seq);
  srv_ctx *ctx = job(S.ctx, rid);
  const char *kind = c->kind == HOSO__IDENTITY__V1__UNIT_CHANGE_KIND__UNIT_CHANGE_KIND_MERGED ? "MERGED" : "MOVED";
  if (!change_ok(c)) {
    log_error("unit sync: change %lld from identity is malformed; stopped before it", (long long)c->seq);
    return -1;
  }
  apply_st a = {.c = c, .counts = json_object()};
  if (!a.counts) return -1;
  /* Once the change commits (the cursor with it) it is visible to everyone: forgetting only
   * after the commit left a moment in which a caller who saw it applied was still answered
   * from a path fetched before it. Paths fetched from here on are identity's after the change. */
  unit_tree_forget();
  long long t0 = now_ms();
  int rc = srv_tx(ctx, DB_READ_COMMITTED, apply_tx, &a);
  if (rc != 0) {
    log_refusal(ctx, srv_printf(ctx, "change %lld (%s unit %s %s -> %s) not applied", (long long)c->seq, kind,
                                c->unit_id, c->old_path, c->new_path));
  } else {
    /* A call in flight during the transaction may have cached a path from before the change
     * again; what was written with such a path meanwhile is looked for (sweep). */
    unit_tree_forget();
    remember(c);
    char *t = counts_text(a.counts);
    if (a.skipped)
      log_info("unit sync: change %lld already applied by another process", (long long)c->seq);
    else
      log_info("unit sync: change %lld applied in %lld ms: %s unit %s %s -> %s%s%s; %s", (long long)c->seq,
               now_ms() - t0, kind, c->unit_id, c->old_path, c->new_path, *c->successor_id ? " successor " : "",
               c->successor_id, t ? t : "");
    free(t);
  }
  json_decref(a.counts);
  return rc == 0 ? 0 : -1;
}

/* One round: what the feed holds after the cursor, applied in order. *more: a further page is
 * waiting. 0, or -1 (logged) to retry after a pause. */
static int poll_once(int *more) {
  *more = 0;
  long long cursor = 0;
  srv_ctx *ctx = job(S.ctx, NULL);
  if (db_ensure(ctx->db) != 0 || cursor_read(ctx, 0, &cursor) != 0) {
    log_warn("unit sync: cannot read the cursor (%s); retrying", db_err_message(ctx->db));
    return -1;
  }
  if (svc_client_login(S.client, &S.claims) != 0) return -1;
  Hoso__Identity__V1__ListUnitChangesRequest req = HOSO__IDENTITY__V1__LIST_UNIT_CHANGES_REQUEST__INIT;
  req.after_seq = cursor;
  req.page_size = PAGE;
  ProtobufCMessage *out = NULL;
  cli_status st;
  grpc_status_code code = svc_call(S.client, "identity", IDN "ListUnitChanges", &req.base,
                                   &hoso__identity__v1__list_unit_changes_response__descriptor, &out, &st);
  if (code != GRPC_STATUS_OK) {
    if (code == GRPC_STATUS_INVALID_ARGUMENT || code == GRPC_STATUS_FAILED_PRECONDITION || code == GRPC_STATUS_INTERNAL)
      log_error("unit sync: ListUnitChanges after %lld: %s %s", cursor, cli_status_name(code), st.message);
    return -1;
  }
  Hoso__Identity__V1__ListUnitChangesResponse *resp = (void *)out;
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
  protobuf_c_message_free_unpacked(out, NULL);
  /* Caught up: look for rows written with a path from before a recent change. */
  if (rc == 0 && !*more) rc = sweep();
  return rc;
}

/* One round, on the job's thread: the changes after the cursor, or the pause after a failure,
 * growing so that a long outage is not a flood of calls and log lines. */
static long round_once(srv_ctx *ctx, void *arg) {
  (void)arg;
  S.ctx = ctx;
  if (!S.one && !(S.one = srv_job_new(ctx->db, ctx->method))) return S.interval_ms;
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

int unit_tree_follow_start(const char *service, const char *schema, const unit_tree_follower *f) {
  S.f = f;
  S.interval_ms = cfg_int("HOSO_UNIT_SYNC_MS", 2000, 10, 3600000);
  if (!(S.client = svc_client_from_env(service))) {
    char up[32] = "";
    for (size_t i = 0; service[i] && i + 1 < sizeof up; i++) up[i] = (char)toupper((unsigned char)service[i]);
    log_warn("unit sync off: HOSO_%s_CLIENT_ID / HOSO_%s_CLIENT_SECRET not set, so %s does not follow unit moves "
             "and merges made in identity", up, up, service);
    return 0;
  }
  S.failures = 0;
  if (!(S.job = srv_periodic_start("unit-sync", schema, round_once, NULL, 0))) {
    svc_client_free(S.client);
    S.client = NULL;
    return -1;
  }
  log_info("unit sync: following identity's unit changes every %ld ms as %s", S.interval_ms, svc_client_id(S.client));
  return 0;
}

void unit_tree_follow_stop(void) {
  if (!S.job) return;
  /* A change being applied finishes (or rolls back) first: its transaction is never cut. */
  srv_periodic_stop(S.job);
  S.job = NULL;
  srv_job_free(S.one);
  S.one = NULL;
  svc_client_free(S.client);
  S.client = NULL;
  S.ctx = NULL;
}
