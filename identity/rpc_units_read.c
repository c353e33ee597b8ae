/* The units RPCs of hoso.identity.v1.Identity that read the tree: GetUnit, ListChildUnits,
 * GetUnitSubtree and ListUnitHistory, paged by opaque tokens. */
#include <string.h>

#include "identity.h"
#include "scope.h"
#include "store_units.h"
#include "units.h"
#include "val.h"

#define KEY_MAX 4096 /* a page token's key: at most val.c's token size */

/* ------------------------------------------------------------ GetUnit ------------------- */

typedef struct {
  const char *unit_id;
  id_unit *unit;
} get_st;

static int get_tx(srv_ctx *ctx, void *p) {
  get_st *st = p;
  unit_row u;
  st->unit = NULL;
  SRV_TRY(unit_in_scope(ctx, "unit_id", st->unit_id, UNIT_LOCK_NONE, RIGHT_READ, &u));
  return unit_read(ctx, "unit_id", u.id, &st->unit);
}

int rpc_get_unit(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__GetUnitRequest *in = (const void *)req;
  get_st st = {.unit_id = in->unit_id};
  if (srv_check_id(ctx, "unit_id", in->unit_id)) return -1;
  if (srv_need_right(ctx, RIGHT_READ, 0, "reading units needs a role with read access") != 0) return -1;
  if (srv_tx(ctx, DB_READ_COMMITTED, get_tx, &st) != 0) return -1;
  Hoso__Identity__V1__GetUnitResponse *o = srv_new(ctx, &hoso__identity__v1__get_unit_response__descriptor);
  o->unit = st.unit;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ lists --------------------- */

static int bad_token(srv_ctx *ctx) {
  return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                  "page_token: not a token of this list; start again without one");
}

/* ListChildUnits: the key is "c<parent>|<id>|<name>" of the last unit shown, so a token is
 * only good for the parent it was made for. */
typedef struct {
  const char *unit_id, *after_id, *after_name;
  int include_dissolved, size;
  Hoso__Identity__V1__ListChildUnitsResponse *out;
} children_st;

static int children_tx(srv_ctx *ctx, void *p) {
  children_st *st = p;
  unit_row u;
  SRV_TRY(unit_in_scope(ctx, "unit_id", st->unit_id, UNIT_LOCK_NONE, RIGHT_READ, &u));
  size_t n;
  SRV_TRY(units_children(ctx, u.id, st->include_dissolved, st->after_name, st->after_id, st->size + 1,
                         &st->out->units, &n));
  int more;
  st->out->n_units = srv_page_cut(n, st->size, &more);
  if (!more) return 0;
  const id_unit *last = st->out->units[st->out->n_units - 1];
  return srv_page_next(ctx, &st->out->next_page_token, "c%s|%s|%s", u.id, last->id, last->name);
}

int rpc_list_child_units(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__ListChildUnitsRequest *in = (const void *)req;
  children_st st = {.unit_id = in->unit_id, .include_dissolved = in->include_dissolved};
  if (srv_check_id(ctx, "unit_id", in->unit_id)) return -1;
  st.size = val_page_size(in->page_size);
  if (st.size < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (in->page_token && *in->page_token) {
    char *key = srv_alloc(ctx, KEY_MAX);
    if (val_page_token_decode(in->page_token, key, KEY_MAX) != 0 || key[0] != 'c') return bad_token(ctx);
    char *bar1 = strchr(key, '|'), *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
    if (!bar2) return bad_token(ctx);
    *bar1 = *bar2 = '\0';
    if (strcmp(key + 1, in->unit_id) != 0 || val_id(bar1 + 1) || !val_utf8(bar2 + 1, strlen(bar2 + 1)))
      return bad_token(ctx);
    st.after_id = bar1 + 1;
    st.after_name = bar2 + 1;
  }
  if (srv_need_right(ctx, RIGHT_READ, 0, "reading units needs a role with read access") != 0) return -1;

  st.out = srv_new(ctx, &hoso__identity__v1__list_child_units_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, children_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

/* GetUnitSubtree: the key is "s<path>" of the last unit shown; paths order the tree so that a
 * unit comes before everything below it. */
typedef struct {
  const char *unit_id, *after_path;
  int max_depth, include_dissolved, size;
  Hoso__Identity__V1__GetUnitSubtreeResponse *out;
} subtree_st;

static int path_chars_ok(const char *p) {
  if (!*p || *p == '.') return 0;
  for (; *p; p++) {
    if (*p == '.' && (p[1] == '.' || p[1] == '\0')) return 0;
    if (*p != '.' && (*p < '0' || *p > '9')) return 0;
  }
  return 1;
}

static int subtree_tx(srv_ctx *ctx, void *p) {
  subtree_st *st = p;
  unit_row u;
  SRV_TRY(unit_in_scope(ctx, "unit_id", st->unit_id, UNIT_LOCK_NONE, RIGHT_READ, &u));
  /* A token of another subtree (or of this one before it moved) would page through the wrong
   * units: refuse it rather than show a confusing list. */
  if (st->after_path && !scope_path_within(st->after_path, u.path)) return (bad_token(ctx), DB_TX_ROLLBACK);
  /* max_depth is relative to the unit; the deepest level must stay representable. */
  int max_level = st->max_depth > 0 ? (st->max_depth > 100000 ? 100000 : st->max_depth) + u.level : 0;
  size_t n;
  SRV_TRY(units_subtree(ctx, u.path, st->after_path, max_level, st->include_dissolved, st->size + 1,
                        &st->out->units, &n));
  int more;
  st->out->n_units = srv_page_cut(n, st->size, &more);
  if (!more) return 0;
  return srv_page_next(ctx, &st->out->next_page_token, "s%s", st->out->units[st->out->n_units - 1]->path);
}

int rpc_get_unit_subtree(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__GetUnitSubtreeRequest *in = (const void *)req;
  subtree_st st = {.unit_id = in->unit_id, .max_depth = in->max_depth, .include_dissolved = in->include_dissolved};
  if (srv_check_id(ctx, "unit_id", in->unit_id)) return -1;
  if (st.max_depth < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "max_depth: must not be negative (0: unlimited)");
  st.size = val_page_size(in->page_size);
  if (st.size < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (in->page_token && *in->page_token) {
    char *key = srv_alloc(ctx, KEY_MAX);
    if (val_page_token_decode(in->page_token, key, KEY_MAX) != 0 || key[0] != 's' || !path_chars_ok(key + 1))
      return bad_token(ctx);
    st.after_path = key + 1;
  }
  if (srv_need_right(ctx, RIGHT_READ, 0, "reading units needs a role with read access") != 0) return -1;

  st.out = srv_new(ctx, &hoso__identity__v1__get_unit_subtree_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, subtree_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ------------------------------------------------------------ ListUnitHistory ----------- */

typedef struct {
  const char *unit_id;
  Hoso__Identity__V1__ListUnitHistoryResponse *out;
} history_st;

static int history_tx(srv_ctx *ctx, void *p) {
  history_st *st = p;
  unit_row u;
  SRV_TRY(unit_in_scope(ctx, "unit_id", st->unit_id, UNIT_LOCK_NONE, RIGHT_READ, &u));
  return units_history(ctx, u.id, &st->out->entries, &st->out->n_entries);
}

int rpc_list_unit_history(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__ListUnitHistoryRequest *in = (const void *)req;
  history_st st = {.unit_id = in->unit_id};
  if (srv_check_id(ctx, "unit_id", in->unit_id)) return -1;
  if (srv_need_right(ctx, RIGHT_READ, 0, "reading units needs a role with read access") != 0) return -1;
  st.out = srv_new(ctx, &hoso__identity__v1__list_unit_history_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, history_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
