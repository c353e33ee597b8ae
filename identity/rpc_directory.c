/* ListUnitDirectory of hoso.identity.v1.Identity: the deployment's units by name or code (with
 * or without diacritics) or by id, for naming a unit outside one's scope; names only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "store_units.h"
#include "val.h"

#define KEY_MAX 4096 /* a page token's key: at most val.c's token size */
#define QUERY_MAX 200
#define IDS_MAX 100

typedef struct {
  const char *query, *ids, *after_name, *after_id;
  int size;
  Hoso__Identity__V1__ListUnitDirectoryResponse *out;
} dir_st;

static int bad_token(srv_ctx *ctx) {
  return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
}

static int dir_tx(srv_ctx *ctx, void *p) {
  dir_st *st = p;
  size_t n;
  SRV_TRY(units_directory(ctx, st->query, st->ids, st->after_name, st->after_id, st->size + 1, &st->out->units, &n));
  int more;
  st->out->n_units = srv_page_cut(n, st->size, &more);
  if (!more) return 0;
  /* the key holds the query: a token is only good for the list it was made for */
  const id_dir_entry *last = st->out->units[st->out->n_units - 1];
  return srv_page_next(ctx, &st->out->next_page_token, "d%s|%zu|%s%s", last->id, strlen(last->name), last->name,
                       st->query);
}

/* "d<id>|<length of name>|<name><query>". 0, or -1 with the refusal set. */
static int read_token(srv_ctx *ctx, const char *token, dir_st *st) {
  char *key = srv_alloc(ctx, KEY_MAX);
  if (val_page_token_decode(token, key, KEY_MAX) != 0 || key[0] != 'd') return bad_token(ctx);
  char *bar1 = strchr(key, '|'), *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL, *end;
  if (!bar2) return bad_token(ctx);
  *bar1 = *bar2 = '\0';
  unsigned long len = strtoul(bar1 + 1, &end, 10);
  if (*end || val_id(key + 1) || len == 0 || len > strlen(bar2 + 1)) return bad_token(ctx);
  char *name = bar2 + 1;
  if (strcmp(name + len, st->query) != 0) return bad_token(ctx);
  name[len] = '\0';
  if (!val_utf8(name, len)) return bad_token(ctx);
  st->after_id = key + 1;
  st->after_name = name;
  return 0;
}

int rpc_list_unit_directory(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Identity__V1__ListUnitDirectoryRequest *in = (const void *)req;
  dir_st st = {0};
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  if (srv_clean_text(ctx, "query", in->query, 0, QUERY_MAX, &st.query)) return -1;
  st.size = val_page_size(in->page_size);
  if (st.size < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (in->n_unit_ids) {
    if (*st.query) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "unit_ids: give a query or unit ids, not both");
    if (in->n_unit_ids > IDS_MAX)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "unit_ids: at most %d at a time", IDS_MAX);
    /* each id checked (digits only) before it joins the array literal */
    char *ids = srv_alloc(ctx, in->n_unit_ids * 24 + 3), *w = ids;
    *w++ = '{';
    for (size_t i = 0; i < in->n_unit_ids; i++) {
      if (srv_check_id(ctx, srv_printf(ctx, "unit_ids[%zu]", i), in->unit_ids[i])) return -1;
      w += sprintf(w, "%s%s", i ? "," : "", in->unit_ids[i]);
    }
    strcpy(w, "}");
    st.ids = ids;
    st.size = IDS_MAX;
  }
  if (in->page_token && *in->page_token && (st.ids || read_token(ctx, in->page_token, &st))) {
    if (st.ids) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: a list of unit ids is one page");
    return -1;
  }
  st.out = srv_new(ctx, &hoso__identity__v1__list_unit_directory_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, dir_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
