/* Records follow identity's unit tree (common/unit_tree.h): a moved unit's records, versions and
 * change requests get its new path; a dissolved unit's own records become its successor's, each
 * with a version of its own. The SQL is in store_follow_units.c. */
#include "records.h"
#include "scope.h"
#include "store_follow_units.h"

/* The records managed by `unit` (A) become successor's (B, at successor_path), each with a
 * version of its own (action UNIT_MERGED, the merge's decision as the reason, the diff of
 * managing_unit_id) and its audit row (record_store). Each record is read and written in a context
 * of its own, emptied after it, on the same connection and so in the same transaction: a unit
 * of thousands of records does not keep every dossier in memory at once. */
static int give(srv_ctx *ctx, const char *unit, const char *successor, const char *successor_path, const char *reason,
                json_t *counts) {
  char **ids;
  size_t n;
  SRV_TRY(follow_unit_records(ctx, unit, &ids, &n));
  srv_ctx *one = srv_job_new(ctx->db, ctx->method);
  int rc = one ? 0 : srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  long long given = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    srv_job_reset(one);
    one->auth = ctx->auth;
    one->request_id = ctx->request_id;
    rec_reason *why = srv_new(one, &hoso__records__v1__change_reason__descriptor);
    why->text = srv_strdup(one, reason);
    rec_t *old = NULL;
    rc = record_fetch(one, ids[i], RIGHT_READ, 1, &old);
    if (rc == 0) {
      rec_t *neu = srv_msg_copy(one, &old->base);
      neu->managing_unit_id = srv_strdup(one, successor);
      neu->managing_unit_path = srv_strdup(one, successor_path);
      rc = record_store(one, old, neu, "UNIT_MERGED", why);
    }
    if (rc == 0) {
      given++;
    } else {
      /* A refusal recorded on the record's context becomes the change's (a database error is
       * on the shared connection, where srv_tx finds it). */
      grpc_status_code code;
      const char *msg = srv_fail_take(one, &code);
      if (msg) srv_fail(ctx, code, "record %s: %s", ids[i], msg);
    }
  }
  srv_job_free(one);
  unit_tree_count(counts, "merged_records", given);
  return rc;
}

const unit_tree_follower rec_follow_units = {
    .give = give,
    .reprefix = follow_reprefix,
    .look = follow_look,
    .refile = follow_refile,
};
