/* Sessions ended early, in every service: the revocation list of identity (ListTokenRevocations)
 * read at start-up and every HOSO_REVOCATION_POLL_MS, and the check srv_authenticate makes. */
#include <stdlib.h>
#include <time.h>
#include "cfg.h"
#include "cli.h"
#include "identity.pb-c.h"
#include "log.h"
#include "srv_int.h"
#include "svc_client.h"

#define PAGE 1000

static struct {
  rev_list *list;
  srv_revocations_fn fetch;
  long long after;     /* the last seq read; touched by one thread at a time (start-up, then the job) */
  srv_periodic *job;
  long interval_ms;
  int failing;         /* logged once per outage */
} V;

/* Default reader: identity over gRPC, on the process's channel to it. */
static int fetch_grpc(db_conn *db, long long after, rev_list *into, long long now, long long *last, int *more) {
  (void)db;
  const char *addr = cfg_service_addr("identity");
  cli_chan *ch = svc_channel("identity");
  if (!ch) return -1;
  Hoso__Identity__V1__ListTokenRevocationsRequest req = HOSO__IDENTITY__V1__LIST_TOKEN_REVOCATIONS_REQUEST__INIT;
  req.after_seq = after;
  req.page_size = PAGE;
  ProtobufCMessage *out = NULL;
  cli_status st;
  if (cli_call(ch, "/hoso.identity.v1.Identity/ListTokenRevocations", &req.base,
               &hoso__identity__v1__list_token_revocations_response__descriptor, &out, NULL, 0, 3000,
               &st) != GRPC_STATUS_OK) {
    if (!V.failing) log_warn("revocations: ListTokenRevocations at %s failed: %s %s", addr, cli_status_name(st.code), st.message);
    return -1;
  }
  Hoso__Identity__V1__ListTokenRevocationsResponse *r = (void *)out;
  int rc = 0;
  for (size_t i = 0; i < r->n_revocations && rc == 0; i++)
    rc = rev_add(into, r->revocations[i]->subject, r->revocations[i]->min_generation, now);
  *more = r->n_revocations == PAGE;
  *last = *more ? r->revocations[r->n_revocations - 1]->seq : r->last_seq;
  protobuf_c_message_free_unpacked(out, NULL);
  return rc;
}

/* Reads every revocation after V.after, then forgets those whose tokens have all expired. */
static int sync_once(db_conn *db) {
  long long now = (long long)time(NULL);
  for (int pages = 0; pages < 1000; pages++) {
    long long last = V.after;
    int more = 0;
    if (V.fetch(db, V.after, V.list, now, &last, &more) != 0) return -1;
    if (last < V.after) {
      /* identity's list starts again (a new database): read it from the start. */
      log_warn("revocations: identity's list restarted (last %lld, had read %lld); reading it again", last, V.after);
      V.after = 0;
      continue;
    }
    V.after = last;
    if (!more) break;
  }
  rev_prune(V.list, now - TOK_REVOCATION_WINDOW);
  return 0;
}

static long poll_round(srv_ctx *ctx, void *arg) {
  (void)arg;
  if (sync_once(ctx->db) != 0) {
    /* Tokens are still checked against what was read before; a token revoked during the
     * outage stays valid until it expires (at most TOK_ACCESS_TTL). */
    if (!V.failing) log_warn("revocations: cannot read identity's list; retrying every %ld ms", V.interval_ms);
    V.failing = 1;
  } else if (V.failing) {
    log_info("revocations: reading identity's list again");
    V.failing = 0;
  }
  return V.interval_ms;
}

int srv_revocations_init(srv_revocations_fn fetch) {
  V.fetch = fetch ? fetch : fetch_grpc;
  V.after = 0;
  V.failing = 0;
  V.interval_ms = cfg_int("HOSO_REVOCATION_POLL_MS", 2000, 50, 60000);
  return (V.list = rev_new()) ? 0 : -1;
}

void srv_revocations_load_now(db_conn *db) {
  if (sync_once(db) != 0) {
    log_warn("revocations: first read failed; retrying every %ld ms", V.interval_ms);
    V.failing = 1;
  }
}

int srv_revocations_start(const char *schema) {
  return (V.job = srv_periodic_start("revocations", schema, poll_round, NULL, V.interval_ms)) ? 0 : -1;
}

void srv_revocations_stop(void) {
  srv_periodic_stop(V.job);
  V.job = NULL;
}

void srv_revocations_free(void) {
  rev_free(V.list);
  V.list = NULL;
}

int srv_revoked(const tok_claims *c) { return V.list && rev_revoked(V.list, c->sub, c->gen); }
