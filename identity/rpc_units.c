/* The units RPCs of hoso.identity.v1.Identity (cơ quan, đơn vị) that change the tree: create,
 * update, move and merge units (the reads are in rpc_units_read.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "identity.h"
#include "log.h"
#include "scope.h"
#include "store_sessions.h"
#include "store_units.h"
#include "units.h"
#include "val.h"

#define NAME_MAX_CHARS 255
#define REASON_MAX_CHARS 1000

/* ------------------------------------------------------------ validation helpers -------- */

static int check_code(srv_ctx *ctx, const char *code) {
  const char *e = val_code(code);
  return e ? srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "code: %s", e) : 0;
}

static int check_type(srv_ctx *ctx, int type) {
  if (type >= HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_PROVINCE &&
      type <= HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_SUB_UNIT)
    return 0;
  return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                  "type: must be a unit type (UNIT_TYPE_PROVINCE .. UNIT_TYPE_SUB_UNIT)");
}

/* ------------------------------------------------------------ transaction helpers ------- */

/* unit_in_scope (units.h): the second look runs with every unit visible (srv_all_units). */
typedef struct {
  const char *id;
  unit_row *u;
  int found;
} find_any_st;

static int find_any(srv_ctx *ctx, void *p) {
  find_any_st *f = p;
  f->found = units_find(ctx, f->id, UNIT_LOCK_NONE, f->u);
  return f->found < 0 ? -1 : 0;
}

int unit_in_scope(srv_ctx *ctx, const char *field, const char *id, int lock, unsigned rights, unit_row *u) {
  int rc = units_find(ctx, id, lock, u);
  if (rc < 0) return -1;
  if (rc == 1) {
    if (scope_allows(ctx->auth, u->path, rights)) return 0;
    return SRV_FAIL(ctx, GRPC_STATUS_PERMISSION_DENIED, "%s: unit %s is outside your scope", field, id);
  }
  find_any_st f = {.id = id, .u = u};
  SRV_TRY(srv_all_units(ctx, find_any, &f));
  memset(u, 0, sizeof *u);
  if (f.found == 0) return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "%s: unit %s does not exist", field, id);
  return SRV_FAIL(ctx, GRPC_STATUS_PERMISSION_DENIED, "%s: unit %s is outside your scope", field, id);
}

int unit_read(srv_ctx *ctx, const char *field, const char *id, id_unit **out) {
  int found = units_get(ctx, id, out);
  if (found < 0) return -1;
  return found ? 0 : SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "%s: unit %s does not exist", field, id);
}

/* A duplicate code is the one constraint a caller can act on, so it names the field; any
 * other failure goes to srv_tx's mapping (which also retries serialization failures). */
static int fail_code_taken(srv_ctx *ctx) {
  if (db_err_kind(ctx->db) == DB_UNIQUE && strcmp(db_err_constraint(ctx->db), "units_code_key") == 0) {
    srv_fail_db(ctx, "code: a unit with this code already exists");
    return DB_TX_ROLLBACK;
  }
  return -1;
}

/* One audit row in the current transaction. detail is consumed; NULL means building it
 * failed (text that is not UTF-8 cannot reach here, so that is an internal error). */
static int audit_row(srv_ctx *ctx, const char *action, const char *target_type,
                     const char *target_id, const char *unit_path, json_t *detail) {
  if (!detail) {
    log_error("%s: could not build the audit detail of %s", ctx->method, action);
    return (srv_fail_internal(ctx), DB_TX_ROLLBACK);
  }
  audit_entry e = {.action = action, .target_type = target_type, .target_id = target_id, .unit_path = unit_path};
  return srv_audit(ctx, &e, detail);
}

/* ------------------------------------------------------------ CreateUnit ---------------- */

typedef struct {
  const char *parent_id, *code, *name, *request_id;
  int type, quota;
  id_unit *unit;
} create_st;

static int create_tx(srv_ctx *ctx, void *p) {
  create_st *st = p;
  unit_row parent;
  char prev[64], id[24];
  st->unit = NULL;
  SRV_TRY(units_lock_tree(ctx, 0));
  int seen = idem_begin(ctx, st->request_id, prev, sizeof prev);
  if (seen < 0) return -1;
  if (seen == 1) return unit_read(ctx, "request_id", prev, &st->unit);

  SRV_TRY(unit_in_scope(ctx, "parent_id", st->parent_id, UNIT_LOCK_NONE, RIGHT_MANAGE_UNITS, &parent));
  if (parent.status != UNIT_ACTIVE)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "parent_id: unit %s is dissolved", parent.id);
  if (strlen(parent.path) + 21 >= sizeof parent.path)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "parent_id: the tree is too deep below unit %s",
                parent.id);
  if (units_insert(ctx, &parent, st->code, st->name, st->type, st->quota, id) != 0)
    return fail_code_taken(ctx);
  SRV_TRY(units_history_add(ctx, id, "CREATED", ctx->auth->sub, "", NULL));
  SRV_TRY(unit_read(ctx, "unit_id", id, &st->unit));
  SRV_TRY(audit_row(ctx, "UNIT_CREATE", "unit", id, st->unit->path,
                json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "parent_id", parent.id, "code", st->code,
                          "name", st->name, "type", st->type, "staffing_quota", st->quota, "path",
                          st->unit->path)));
  return idem_done(ctx, st->request_id, id);
}

int rpc_create_unit(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__CreateUnitRequest *in = (const void *)req;
  create_st st = {.parent_id = in->parent_id, .code = in->code, .type = (int)in->type,
                  .quota = in->staffing_quota, .request_id = in->request_id};
  if (srv_check_id(ctx, "parent_id", in->parent_id) || check_code(ctx, in->code) ||
      srv_clean_text(ctx, "name", in->name, 1, NAME_MAX_CHARS, &st.name) || check_type(ctx, st.type) ||
      srv_check_request_id(ctx, in->request_id))
    return -1;
  if (st.quota < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "staffing_quota: must not be negative");
  if (srv_need_right(ctx, RIGHT_MANAGE_UNITS, 0, "creating units needs the SYSTEM_ADMIN role") != 0) return -1;

  if (srv_tx(ctx, DB_READ_COMMITTED, create_tx, &st) != 0) return -1;
  Hoso__Identity__V1__CreateUnitResponse *o = srv_new(ctx, &hoso__identity__v1__create_unit_response__descriptor);
  o->unit = st.unit;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ UpdateUnit ---------------- */

enum { F_NAME = 1u, F_CODE = 2u, F_TYPE = 4u, F_QUOTA = 8u };

typedef struct {
  const char *unit_id, *name, *code, *reason;
  int type, quota;
  unsigned fields;
  long long expected;
  id_unit *unit;
} update_st;

static json_t *change_s(const char *from, const char *to) { return json_pack("{s:s, s:s}", "from", from, "to", to); }
static json_t *change_i(int from, int to) { return json_pack("{s:i, s:i}", "from", from, "to", to); }

static int update_tx(srv_ctx *ctx, void *p) {
  update_st *st = p;
  unit_row u;
  st->unit = NULL;
  SRV_TRY(unit_in_scope(ctx, "unit_id", st->unit_id, UNIT_LOCK_UPDATE, RIGHT_MANAGE_UNITS, &u));
  if (u.status != UNIT_ACTIVE)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                "unit_id: unit %s is dissolved; it is kept as history and cannot be changed", u.id);
  if (st->expected != 0 && st->expected != u.version)
    return SRV_FAIL(ctx, GRPC_STATUS_ABORTED,
                "unit was changed by someone else (version %lld); reload and retry", u.version);

  /* Only real differences count: saving a form unchanged makes no new version or history. */
  const char *name = (st->fields & F_NAME) && strcmp(st->name, u.name) != 0 ? st->name : NULL;
  const char *code = (st->fields & F_CODE) && strcmp(st->code, u.code) != 0 ? st->code : NULL;
  int type = (st->fields & F_TYPE) && st->type != u.type ? st->type : 0;
  int quota = (st->fields & F_QUOTA) && st->quota != u.staffing_quota ? st->quota : -1;
  if (!name && !code && !type && quota < 0) return unit_read(ctx, "unit_id", u.id, &st->unit);

  if (units_update(ctx, u.id, name, code, type, quota) != 0) return fail_code_taken(ctx);
  /* RENAMED carries the new name; the earlier entries keep the old one (001 Đ5.5). */
  SRV_TRY(units_history_add(ctx, u.id, name ? "RENAMED" : "UPDATED", ctx->auth->sub, st->reason, NULL));
  SRV_TRY(unit_read(ctx, "unit_id", u.id, &st->unit));

  json_t *ch = json_object();
  if (ch && name) json_object_set_new(ch, "name", change_s(u.name, name));
  if (ch && code) json_object_set_new(ch, "code", change_s(u.code, code));
  if (ch && type) json_object_set_new(ch, "type", change_i(u.type, type));
  if (ch && quota >= 0) json_object_set_new(ch, "staffing_quota", change_i(u.staffing_quota, quota));
  if (ch && json_object_size(ch) != (size_t)(!!name + !!code + !!type + (quota >= 0))) {
    json_decref(ch);
    ch = NULL;
  }
  return audit_row(ctx, "UNIT_UPDATE", "unit", u.id, u.path,
                   ch ? json_pack("{s:o, s:s, s:I}", "changes", ch, "reason", st->reason, "version",
                                  (json_int_t)st->unit->version)
                      : NULL);
}

/* update_mask names a field in proto ("staffing_quota") or JSON ("staffingQuota") spelling. */
static int parse_mask(srv_ctx *ctx, const Hoso__Identity__V1__UpdateUnitRequest *in, unsigned *out) {
  unsigned f = 0;
  if (in->n_update_mask == 0) {
    if (in->name && *in->name) f |= F_NAME;
    if (in->code && *in->code) f |= F_CODE;
    if (in->type != 0) f |= F_TYPE;
    if (in->staffing_quota != 0) f |= F_QUOTA;
  }
  for (size_t i = 0; i < in->n_update_mask; i++) {
    const char *m = in->update_mask[i];
    if (strcmp(m, "name") == 0) f |= F_NAME;
    else if (strcmp(m, "code") == 0) f |= F_CODE;
    else if (strcmp(m, "type") == 0) f |= F_TYPE;
    else if (strcmp(m, "staffing_quota") == 0 || strcmp(m, "staffingQuota") == 0) f |= F_QUOTA;
    else if (val_text(m, 1, 64) == NULL)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "update_mask: unknown field \"%s\"; use name, code, type or staffing_quota", m);
    else
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "update_mask: unknown field; use name, code, type or staffing_quota");
  }
  if (!f)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "update_mask: nothing to change; give a name, code, type or staffing_quota");
  *out = f;
  return 0;
}

int rpc_update_unit(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__UpdateUnitRequest *in = (const void *)req;
  update_st st = {.unit_id = in->unit_id, .code = in->code, .type = (int)in->type,
                  .quota = in->staffing_quota, .expected = in->expected_version};
  if (srv_check_id(ctx, "unit_id", in->unit_id) || parse_mask(ctx, in, &st.fields)) return -1;
  if ((st.fields & F_NAME) && srv_clean_text(ctx, "name", in->name, 1, NAME_MAX_CHARS, &st.name)) return -1;
  if ((st.fields & F_CODE) && check_code(ctx, in->code)) return -1;
  if ((st.fields & F_TYPE) && check_type(ctx, st.type)) return -1;
  if ((st.fields & F_QUOTA) && st.quota < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "staffing_quota: must not be negative");
  if (st.expected < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "expected_version: must not be negative");
  if (srv_clean_text(ctx, "reason", in->reason, 0, REASON_MAX_CHARS, &st.reason)) return -1;
  if (srv_need_right(ctx, RIGHT_MANAGE_UNITS, 0, "changing units needs the SYSTEM_ADMIN role") != 0) return -1;

  if (srv_tx(ctx, DB_READ_COMMITTED, update_tx, &st) != 0) return -1;
  Hoso__Identity__V1__UpdateUnitResponse *o = srv_new(ctx, &hoso__identity__v1__update_unit_response__descriptor);
  o->unit = st.unit;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ MoveUnit ------------------ */

typedef struct {
  const char *unit_id, *parent_id, *reason;
  id_unit *unit;
} move_st;

/* Rewrites the subtree of `u` to lie under `np` and the accounts inside it. The records
 * service owns the records of these units: it follows through the unit-change feed. */
static int move_subtree(srv_ctx *ctx, const unit_row *u, const unit_row *np, long long *n_units,
                        long long *n_accounts, const char **new_path) {
  const char *np_path = srv_printf(ctx, "%s.%s", np->path, u->id);
  if (strlen(np_path) >= sizeof u->path)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "new_parent_id: the tree would be too deep below unit %s",
                np->id);
  if (units_move(ctx, u->path, np_path, np->id, n_units) != 0) return -1;
  if (units_sync_account_paths(ctx, u->path, n_accounts) != 0) return -1;
  if (new_path) *new_path = np_path;
  return 0;
}

static int move_tx(srv_ctx *ctx, void *p) {
  move_st *st = p;
  unit_row u, np;
  st->unit = NULL;
  SRV_TRY(units_lock_tree(ctx, 1));
  SRV_TRY(unit_in_scope(ctx, "unit_id", st->unit_id, UNIT_LOCK_UPDATE, RIGHT_MANAGE_UNITS, &u));
  SRV_TRY(unit_in_scope(ctx, "new_parent_id", st->parent_id, UNIT_LOCK_NONE, RIGHT_MANAGE_UNITS, &np));
  if (!u.parent_id[0])
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "unit_id: unit %s is the root of the tree and cannot be moved",
                u.id);
  if (u.status != UNIT_ACTIVE)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "unit_id: unit %s is dissolved and cannot be moved", u.id);
  if (scope_path_within(np.path, u.path))
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                "new_parent_id: unit %s lies inside the subtree of unit %s; a unit cannot move under "
                "itself or its descendants",
                np.id, u.id);
  if (np.status != UNIT_ACTIVE)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "new_parent_id: unit %s is dissolved", np.id);
  /* Already there: a retried move changes nothing. */
  if (strcmp(u.parent_id, np.id) == 0) return unit_read(ctx, "unit_id", u.id, &st->unit);

  long long n_units = 0, n_accounts = 0;
  const char *new_path = NULL;
  SRV_TRY(move_subtree(ctx, &u, &np, &n_units, &n_accounts, &new_path));
  /* related_unit_id keeps where the unit came from; parent_id is where it is now. */
  SRV_TRY(units_history_add(ctx, u.id, "MOVED", ctx->auth->sub, st->reason, u.parent_id));
  /* The feed row for the services that copy unit paths (records), under the tree lock. */
  SRV_TRY(units_change_add(ctx, UNIT_CHANGE_MOVED, u.id, u.path, new_path, NULL, st->reason, ctx->auth->sub, NULL));
  SRV_TRY(unit_read(ctx, "unit_id", u.id, &st->unit));
  return audit_row(ctx, "UNIT_MOVE", "unit", u.id, new_path,
                   json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "from_parent_id", u.parent_id,
                             "to_parent_id", np.id, "old_path", u.path, "new_path", new_path,
                             "units_moved", (json_int_t)n_units, "accounts_moved",
                             (json_int_t)n_accounts, "reason", st->reason));
}

int rpc_move_unit(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__MoveUnitRequest *in = (const void *)req;
  move_st st = {.unit_id = in->unit_id, .parent_id = in->new_parent_id};
  if (srv_check_id(ctx, "unit_id", in->unit_id) || srv_check_id(ctx, "new_parent_id", in->new_parent_id)) return -1;
  if (strcmp(in->unit_id, in->new_parent_id) == 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "new_parent_id: a unit cannot move under itself or its descendants");
  if (srv_clean_text(ctx, "reason", in->reason, 0, REASON_MAX_CHARS, &st.reason)) return -1;
  if (srv_need_right(ctx, RIGHT_MANAGE_UNITS, 0, "moving units needs the SYSTEM_ADMIN role") != 0) return -1;

  if (srv_tx(ctx, DB_READ_COMMITTED, move_tx, &st) != 0) return -1;
  Hoso__Identity__V1__MoveUnitResponse *o = srv_new(ctx, &hoso__identity__v1__move_unit_response__descriptor);
  o->unit = st.unit;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ MergeUnits ---------------- */

typedef struct {
  const char *src, *dst, *reason, *request_id;
  id_unit *source, *target;
  int moved, revoked;
} merge_st;

/* A repeated request_id answers what the first call answered. The idempotency row holds
 * "source,target,moved,revoked", since the counts cannot be recomputed afterwards. */
static int merge_replay(srv_ctx *ctx, merge_st *st, const char *prev) {
  char a[24], b[24];
  int moved, revoked;
  if (sscanf(prev, "%23[0-9],%23[0-9],%d,%d", a, b, &moved, &revoked) != 4) {
    log_error("MergeUnits: unreadable idempotency record \"%s\"", prev);
    return (srv_fail_internal(ctx), DB_TX_ROLLBACK);
  }
  st->moved = moved;
  st->revoked = revoked;
  SRV_TRY(unit_read(ctx, "source_unit_id", a, &st->source));
  return unit_read(ctx, "target_unit_id", b, &st->target);
}

/* Direct children of A move under B, each with its subtree (paths as in MoveUnit). Only active
 * children move: dissolved ones are history and stay where they were. */
static int merge_children(srv_ctx *ctx, merge_st *st, const unit_row *a, const unit_row *b, json_t *moved) {
  unit_pair *kids;
  size_t n;
  SRV_TRY(units_active_children(ctx, a->id, &kids, &n));
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    unit_row k;
    memset(&k, 0, sizeof k);
    snprintf(k.id, sizeof k.id, "%s", kids[i].id);
    snprintf(k.path, sizeof k.path, "%s", kids[i].value);
    long long n_units = 0;
    const char *np_path = srv_printf(ctx, "%s.%s", b->path, k.id);
    if (strlen(np_path) >= sizeof k.path) {
      rc = SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "target_unit_id: the tree would be too deep below unit %s",
                b->id);
    } else if (units_move(ctx, k.path, np_path, b->id, &n_units) != 0 ||
               units_history_add(ctx, k.id, "MOVED", ctx->auth->sub, st->reason, a->id) != 0) {
      rc = -1;
    } else {
      json_array_append_new(moved, json_string(k.id));
      st->moved++;
    }
  }
  if (rc != 0) return rc;
  /* Accounts inside the moved subtrees follow their units' new paths. */
  return units_sync_account_paths(ctx, a->path, NULL) != 0 ? -1 : 0;
}

/* A's own accounts are revoked and their sessions ended (accounts are personal and end with
 * the job, 003 Đ5.3; a dissolved unit's people have left it); each revocation is an account change with its own audit row. */
static int merge_revoke_accounts(srv_ctx *ctx, merge_st *st, const unit_row *a, const char *why,
                                 json_t *revoked) {
  unit_pair *acc;
  size_t n;
  SRV_TRY(units_revoke_accounts(ctx, a->id, why, &acc, &n));
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const char *id = acc[i].id;
    if (sessions_revoke_account(ctx, id, why) < 0) {
      rc = -1;
      break;
    }
    rc = audit_row(ctx, "ACCOUNT_REVOKE", "account", id, a->path,
                   json_pack("{s:s, s:s, s:s, s:s}", "username", acc[i].value, "reason", why,
                             "cause", "UNIT_MERGE", "unit_id", a->id));
    if (rc == 0) {
      json_array_append_new(revoked, json_string(id));
      st->revoked++;
    }
  }
  return rc;
}

static int merge_tx(srv_ctx *ctx, void *p) {
  merge_st *st = p;
  unit_row a, b;
  char prev[128];
  st->source = st->target = NULL;
  st->moved = st->revoked = 0;
  SRV_TRY(units_lock_tree(ctx, 1));
  int seen = idem_begin(ctx, st->request_id, prev, sizeof prev);
  if (seen < 0) return -1;
  if (seen == 1) return merge_replay(ctx, st, prev);

  SRV_TRY(unit_in_scope(ctx, "source_unit_id", st->src, UNIT_LOCK_UPDATE, RIGHT_MANAGE_UNITS, &a));
  SRV_TRY(unit_in_scope(ctx, "target_unit_id", st->dst, UNIT_LOCK_UPDATE, RIGHT_MANAGE_UNITS, &b));
  if (!a.parent_id[0])
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                "source_unit_id: unit %s is the root of the tree and cannot be merged into another unit", a.id);
  if (a.status != UNIT_ACTIVE)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "source_unit_id: unit %s is already dissolved", a.id);
  if (b.status != UNIT_ACTIVE)
    return SRV_FAIL(ctx, GRPC_STATUS_FAILED_PRECONDITION, "target_unit_id: unit %s is dissolved", b.id);
  if (scope_path_within(b.path, a.path))
    return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                "target_unit_id: unit %s lies inside the subtree of unit %s, which is being dissolved", b.id,
                a.id);

  json_t *moved = json_array(), *revoked = json_array();
  const char *why = srv_printf(ctx, "unit merged into %s (%s)", b.name, st->reason);
  int rc = moved && revoked ? 0 : -1;
  if (rc == 0) rc = merge_children(ctx, st, &a, &b, moved);
  if (rc == 0) rc = merge_revoke_accounts(ctx, st, &a, why, revoked);
  /* A stays in the tree, dissolved, so its name and history remain (001 Đ5.5). Its personnel
   * records move to B in the records service, which owns them, from the feed row below. */
  if (rc == 0 && units_dissolve(ctx, a.id, b.id) != 0) rc = -1;
  if (rc == 0 && units_history_add(ctx, a.id, "MERGED_INTO", ctx->auth->sub, st->reason, b.id) != 0) rc = -1;
  if (rc == 0 && units_history_add(ctx, b.id, "ABSORBED", ctx->auth->sub, st->reason, a.id) != 0) rc = -1;
  /* One feed row says it all: A's records go to B, and everything under A's path now lies under
   * B's (each moved child k went from a.path.k to b.path.k). Taken under the tree lock. */
  if (rc == 0 && units_change_add(ctx, UNIT_CHANGE_MERGED, a.id, a.path, b.path, b.id, st->reason, ctx->auth->sub, NULL) != 0)
    rc = -1;
  if (rc == 0) rc = unit_read(ctx, "source_unit_id", a.id, &st->source);
  if (rc == 0) rc = unit_read(ctx, "target_unit_id", b.id, &st->target);
  if (rc != 0) {
    json_decref(moved);
    json_decref(revoked);
    return rc;
  }
  SRV_TRY(audit_row(ctx, "UNIT_MERGE", "unit", a.id, a.path,
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "source_unit_id", a.id,
                          "source_name", a.name, "source_code", a.code, "target_unit_id", b.id,
                          "target_name", b.name, "target_code", b.code, "moved_children", moved,
                          "revoked_accounts", revoked, "reason", st->reason)));
  char rec[96];
  snprintf(rec, sizeof rec, "%s,%s,%d,%d", a.id, b.id, st->moved, st->revoked);
  return idem_done(ctx, st->request_id, rec);
}

int rpc_merge_units(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__MergeUnitsRequest *in = (const void *)req;
  merge_st st = {.src = in->source_unit_id, .dst = in->target_unit_id, .request_id = in->request_id};
  if (srv_check_id(ctx, "source_unit_id", in->source_unit_id) || srv_check_id(ctx, "target_unit_id", in->target_unit_id))
    return -1;
  if (strcmp(in->source_unit_id, in->target_unit_id) == 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "target_unit_id: must differ from source_unit_id");
  /* The decision that merges the units is what history and the revoked accounts point to. */
  if (srv_clean_text(ctx, "reason", in->reason, 1, REASON_MAX_CHARS, &st.reason) || srv_check_request_id(ctx, in->request_id))
    return -1;
  if (srv_need_right(ctx, RIGHT_MANAGE_UNITS, 0, "merging units needs the SYSTEM_ADMIN role") != 0) return -1;

  if (srv_tx(ctx, DB_READ_COMMITTED, merge_tx, &st) != 0) return -1;
  Hoso__Identity__V1__MergeUnitsResponse *o = srv_new(ctx, &hoso__identity__v1__merge_units_response__descriptor);
  o->source = st.source;
  o->target = st.target;
  o->moved_children = st.moved;
  o->revoked_accounts = st.revoked;
  *resp = &o->base;
  return 0;
}
