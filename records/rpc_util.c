/* The helpers of rpc_util.h: message equality, the optimistic version check, the prose fields,
 * the cleaning of a change's reason, the replay of a repeated request, a person's own record. */
#include "rpc_util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "log.h"
#include "pbwalk.h"
#include "scope.h"
#include "store_records.h"
#include "val.h"

int rec_msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b) {
  size_t na = a ? protobuf_c_message_get_packed_size(a) : 0;
  size_t nb = b ? protobuf_c_message_get_packed_size(b) : 0;
  if (na != nb) return 0;
  if (na == 0) return 1;
  uint8_t *x = malloc(na), *y = malloc(nb);
  int eq = 0;
  if (x && y) {
    protobuf_c_message_pack(a, x);
    protobuf_c_message_pack(b, y);
    eq = memcmp(x, y, na) == 0;
  }
  free(x);
  free(y);
  return eq;
}

int rec_check_version(srv_ctx *ctx, const rec_t *r, int64_t expected) {
  if (expected == 0 || expected == r->version) return 0;
  return srv_fail(ctx, GRPC_STATUS_ABORTED,
                  "record was changed by someone else (now version %lld); reload and retry",
                  (long long)r->version);
}

static const ProtobufCFieldDescriptor *prose[8];
static pthread_once_t prose_once = PTHREAD_ONCE_INIT;

static void prose_init(void) {
  static const struct {
    const ProtobufCMessageDescriptor *d;
    const char *name;
  } list[] = {
      {&hoso__records__v1__personal_history__descriptor, "arrested_or_detained"},
      {&hoso__records__v1__personal_history__descriptor, "foreign_org_membership"},
      {&hoso__records__v1__personal_history__descriptor, "relatives_abroad"},
      {&hoso__records__v1__work_history_entry__descriptor, "description"},
      {&hoso__records__v1__discipline_entry__descriptor, "reason"},
      {&hoso__records__v1__change_reason__descriptor, "text"},
  };
  size_t n = 0;
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(list[i].d, list[i].name);
    if (!f) abort(); /* a renamed field in records.proto: this list must follow it */
    prose[n++] = f;
  }
  prose[n] = NULL;
}

const ProtobufCFieldDescriptor *const *rec_prose_fields(void) {
  pthread_once(&prose_once, prose_init);
  return prose;
}

int rec_reason_clean(srv_ctx *ctx, const char *field, const rec_reason *in, int text_required,
                     rec_reason **out) {
  char err[PBWALK_PATH_MAX + 128];
  *out = NULL;
  if (!in) {
    if (text_required) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.text: must not be empty", field);
    return 0;
  }
  rec_reason *r = srv_msg_copy(ctx, &in->base);
  if (pbwalk_nfc(&r->base, field, REC_TEXT_MAX_CHARS, rec_prose_fields(), srv_allocator(ctx), err, sizeof err) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
  if (text_required && (!r->text || !*r->text))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.text: must not be empty", field);
  const Hoso__Records__V1__Decision *d = r->decision;
  const char *e;
  if (d && d->date && *d->date && (e = val_date(d->date)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.decision.date: %s", field, e);
  if (d && d->effective_date && *d->effective_date && (e = val_date(d->effective_date)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s.decision.effective_date: %s", field, e);
  *out = r;
  return 0;
}

int record_audit_read(srv_ctx *ctx, const char *action, const rec_t *r, json_t *more) {
  json_t *d = json_pack("{s:I, s:s}", "version", (json_int_t)r->version, "updated_at", r->updated_at ? r->updated_at : "");
  if (d && more) json_object_update(d, more);
  json_decref(more);
  if (!d) {
    log_error("%s: could not build the audit detail of %s", ctx->method, action);
    return srv_fail_internal(ctx);
  }
  audit_entry e = {.action = action, .target_type = "record", .target_id = r->id, .unit_path = r->managing_unit_path};
  return srv_audit_read(ctx, &e, d);
}

/* The key's target for a call that answers with a record: the record and the version the call
 * left it at, so that a replay can answer with exactly that. */
int rec_idem_done(srv_ctx *ctx, const char *request_id, const rec_t *r) {
  return idem_done(ctx, request_id, srv_printf(ctx, "%s@%lld", r->id, (long long)r->version));
}

int rec_replay(srv_ctx *ctx, const char *request_id, int *replayed, rec_t **out) {
  char prev[64];
  *replayed = 0;
  int seen = idem_begin(ctx, request_id, prev, sizeof prev);
  if (seen <= 0) return seen;
  *replayed = 1;
  /* The first call's result, never the record as it is now: the repeated request's body was not
   * looked at, so it must not buy a fresh copy of the dossier. */
  char *at = strchr(prev, '@');
  if (at) *at = 0;
  rec_t *cur;
  int rc = record_fetch(ctx, prev, RIGHT_READ, 0, &cur);
  if (rc != 0) {
    if (!srv_failed(ctx)) return rc;
    /* The caller may no longer read the record its first call changed (that call made it
     * TRANSFERRED_OUT, read by administrators only, or it has moved since): the replay still
     * answers as the first call did, with the record's id only, which that caller was given. */
    grpc_status_code code;
    const char *why = srv_fail_take(ctx, &code);
    if (code != GRPC_STATUS_PERMISSION_DENIED) return SRV_FAIL(ctx, code, "%s", why);
    *out = srv_new(ctx, &hoso__records__v1__record__descriptor);
    (*out)->id = srv_strdup(ctx, prev);
    return 0;
  }
  long long version = at ? strtoll(at + 1, NULL, 10) : 0;
  if (version != 0) {
    SRV_TRY(record_version_get(ctx, prev, at + 1, out));
  } else {
    /* A key kept before versions were recorded with it: the id only. */
    *out = srv_new(ctx, &hoso__records__v1__record__descriptor);
    (*out)->id = srv_strdup(ctx, prev);
  }
  /* A replay hands out a dossier as a read does: recorded as one, in this transaction. */
  audit_entry e = {.action = "RECORD_READ", .target_type = "record", .target_id = cur->id,
                   .unit_path = cur->managing_unit_path};
  return srv_audit(ctx, &e, json_pack("{s:I, s:s}", "version", (json_int_t)version, "replay_of", request_id));
}

int rec_self_only(const srv_ctx *ctx) {
  return ctx->auth && (ctx->auth->roles & ROLE_SELF) && ctx->auth->record_id[0] &&
         !(scope_rights(ctx->auth->roles) & RIGHT_READ);
}

int rec_own_record_scope(srv_ctx *ctx, rec_t **cur) {
  SRV_TRY(record_fetch(ctx, ctx->auth->record_id, RIGHT_READ, 0, cur));
  return srv_set_scope(ctx, (*cur)->managing_unit_path) != 0 ? -1 : 0;
}
