/* Reading transfers: one with its steps and scans (GetTransfer, GetTransferDocument), a unit's
 * inbox and outbox by due date (ListTransfers), and its notices (ListNotices). A unit sees the
 * transfers it sends, receives or will use the person in, and those of the units below it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lists.h"
#include "scope.h"
#include "val.h"

#define KEY_MAX 96

static const char *str(const char *s) { return s ? s : ""; }

static int need_reader(srv_ctx *ctx) {
  return srv_need_right(ctx, RIGHT_READ, 0, "reading transfers needs a role with read access");
}

/* The subtree a list names (unit_id, which the caller must see), else the caller's own unit. */
static int list_root(srv_ctx *ctx, const char *unit_id, const char **path) {
  if (unit_id && *unit_id) {
    char p[UNIT_TREE_PATH_MAX];
    if (unit_tree_path(ctx, "unit_id", unit_id, p)) return -1;
    if (!scope_allows(ctx->auth, p, RIGHT_READ))
      return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside your scope", unit_id);
    *path = srv_strdup(ctx, p);
    return 0;
  }
  *path = NULL;
  return 0;
}

/* A page token "due|id" of this list. */
static int page_key(srv_ctx *ctx, const char *token, const char **due, const char **id) {
  *due = *id = NULL;
  if (!token || !*token) return 0;
  char key[KEY_MAX];
  char *bar;
  if (val_page_token_decode(token, key, sizeof key) != 0 || !(bar = strchr(key, '|')) || val_id(bar + 1))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
  *bar = 0;
  wd_day d;
  if (strcmp(key, "infinity") != 0 && wd_parse(key, &d) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
  *due = srv_strdup(ctx, key);
  *id = srv_strdup(ctx, bar + 1);
  return 0;
}

/* ------------------------------------------------------------ GetTransfer --------------- */

int rpc_get_transfer(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__GetTransferRequest *in = (const void *)req;
  if (srv_check_id(ctx, "transfer_id", in->transfer_id) || need_reader(ctx)) return -1;
  transfer_t *t;
  if (tr_reply(ctx, in->transfer_id, &t) != 0) return -1;
  Hoso__Transfers__V1__GetTransferResponse *o = srv_new(ctx, &hoso__transfers__v1__get_transfer_response__descriptor);
  o->transfer = t;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ GetTransferDocument ------- */

typedef struct {
  const char *transfer_id, *document_id;
  Hoso__Transfers__V1__GetTransferDocumentResponse *out;
} doc_st;

static int doc_tx(srv_ctx *ctx, void *p) {
  doc_st *st = p;
  tr_row *r;
  SRV_TRY(store_transfer_get(ctx, st->transfer_id, 0, &r));
  SRV_TRY(store_document_get(ctx, st->transfer_id, st->document_id, &st->out->document, &st->out->content));
  if (!st->out->document)
    return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND, "document_id: transfer %s has no document %s", st->transfer_id,
                    st->document_id);
  return tr_audit(ctx, r, "TRANSFER_DOCUMENT_READ", json_pack("{s:s}", "document_id", st->document_id));
}

int rpc_get_transfer_document(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__GetTransferDocumentRequest *in = (const void *)req;
  doc_st st = {.transfer_id = in->transfer_id, .document_id = in->document_id};
  if (srv_check_id(ctx, "transfer_id", in->transfer_id) || srv_check_id(ctx, "document_id", in->document_id) ||
      need_reader(ctx))
    return -1;
  st.out = srv_new(ctx, &hoso__transfers__v1__get_transfer_document_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, doc_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ------------------------------------------------------------ ListTransfers ------------- */

typedef struct {
  list_filter f;
  Hoso__Transfers__V1__ListTransfersResponse *out;
} list_st;

static int list_tx(srv_ctx *ctx, void *p) {
  list_st *st = p;
  int more;
  SRV_TRY(store_transfer_list(ctx, &st->f, &st->out->transfers, &st->out->n_transfers, &more));
  const tr_settings *s;
  SRV_TRY(settings_get(ctx, &s));
  char today[11];
  settings_today(today);
  for (size_t i = 0; i < st->out->n_transfers; i++) tr_judge(s, st->out->transfers[i], today);
  return more ? srv_page_next(ctx, &st->out->next_page_token, "%s", st->f.next_key) : 0;
}

int rpc_list_transfers(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__ListTransfersRequest *in = (const void *)req;
  list_st st = {.f = {.box = in->box, .record_id = str(in->record_id)}};
  if (in->box < HOSO__TRANSFERS__V1__BOX__BOX_UNSPECIFIED || in->box > HOSO__TRANSFERS__V1__BOX__BOX_OUTBOX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "box: BOX_INBOX, BOX_OUTBOX or unset (both)");
  if (in->n_states > sizeof st.f.states / sizeof st.f.states[0])
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "states: at most 16");
  for (size_t i = 0; i < in->n_states; i++) {
    if (in->states[i] < TS(REQUESTED) || in->states[i] > TS(IMPORTED))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "states[%zu]: not a transfer state", i);
    st.f.states[st.f.n_states++] = in->states[i];
  }
  if (*st.f.record_id && srv_check_id(ctx, "record_id", st.f.record_id)) return -1;
  if ((st.f.limit = val_page_size(in->page_size)) < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (page_key(ctx, in->page_token, &st.f.after_due, &st.f.after_id) || need_reader(ctx) ||
      list_root(ctx, in->unit_id, &st.f.unit_path))
    return -1;
  /* A box is a unit's: without unit_id, the caller's own unit (and below). */
  if (!st.f.unit_path && in->box) st.f.unit_path = ctx->auth->unit_path;
  st.out = srv_new(ctx, &hoso__transfers__v1__list_transfers_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, list_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ------------------------------------------------------------ ListNotices --------------- */

typedef struct {
  const char *path, *before;
  int limit;
  Hoso__Transfers__V1__ListNoticesResponse *out;
} notices_st;

static int notices_tx(srv_ctx *ctx, void *p) {
  notices_st *st = p;
  int more;
  SRV_TRY(store_notice_list(ctx, st->path, st->before, st->limit, &st->out->notices, &st->out->n_notices, &more));
  return more ? srv_page_next(ctx, &st->out->next_page_token, "%s", st->out->notices[st->out->n_notices - 1]->id) : 0;
}

int rpc_list_notices(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Transfers__V1__ListNoticesRequest *in = (const void *)req;
  notices_st st = {0};
  if ((st.limit = val_page_size(in->page_size)) < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (in->page_token && *in->page_token) {
    char key[KEY_MAX];
    if (val_page_token_decode(in->page_token, key, sizeof key) != 0 || val_id(key))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
    st.before = srv_strdup(ctx, key);
  }
  if (need_reader(ctx) || list_root(ctx, in->unit_id, &st.path)) return -1;
  if (!st.path) st.path = ctx->auth->unit_path;
  st.out = srv_new(ctx, &hoso__transfers__v1__list_notices_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED, notices_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}
