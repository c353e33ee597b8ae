/* Records' own open steps (a new record, a state-side change, a declaration, a leaving) copied
 * into the deadlines from records' ListRecordSteps feed, with their due dates counted by the
 * policy and calendar in force: one page per call, applied in one transaction that advances the
 * feed's position only if nobody else did meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "transfers.h"

#define PAGE 500

typedef struct {
  const char *position;
  const Hoso__Records__V1__ListRecordStepsResponse *page;
  int applied;
} sync_st;

static int position_tx(srv_ctx *ctx, void *p) {
  sync_st *st = p;
  return deadlines_cursor(ctx, 0, &st->position);
}

static int apply_tx(srv_ctx *ctx, void *p) {
  sync_st *st = p;
  const char *now_at;
  SRV_TRY(deadlines_cursor(ctx, 1, &now_at));
  if (strcmp(now_at, st->position) != 0) return 0; /* another process applied this page first */
  const tr_settings *s;
  SRV_TRY(settings_get(ctx, &s));
  size_t n = 0;
  for (size_t i = 0; i < st->page->n_records; i++) n += st->page->records[i]->n_steps;
  const char **dues = srv_alloc(ctx, (n + 1) * sizeof *dues);
  int *ests = srv_alloc(ctx, (n + 1) * sizeof *ests);
  size_t k = 0;
  for (size_t i = 0; i < st->page->n_records; i++) {
    const Hoso__Records__V1__RecordSteps *rs = st->page->records[i];
    for (size_t j = 0; j < rs->n_steps; j++, k++) {
      char *due = srv_alloc(ctx, 11);
      dues[k] = settings_due(s, rs->steps[j]->kind, rs->steps[j]->effective_date, rs->steps[j]->previous_date, due,
                             &ests[k]) == 0
                    ? due
                    : NULL;
    }
  }
  st->applied = (int)n;
  SRV_TRY(deadlines_replace_records(ctx, st->page, dues, ests));
  return deadlines_cursor_set(ctx, st->page->next);
}

int record_steps_sync(srv_ctx *ctx) {
  sync_st st = {0};
  svc_client *c = tr_client();
  if (!c || srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", position_tx, &st) != 0) return -1;
  Hoso__Records__V1__ListRecordStepsRequest req = HOSO__RECORDS__V1__LIST_RECORD_STEPS_REQUEST__INIT;
  req.after = (char *)st.position;
  req.page_size = PAGE;
  ProtobufCMessage *out = NULL;
  cli_status cs;
  grpc_status_code code = svc_call(c, "records", "/hoso.records.v1.Records/ListRecordSteps", &req.base,
                                   &hoso__records__v1__list_record_steps_response__descriptor, &out, &cs);
  if (code != GRPC_STATUS_OK) {
    if (code != GRPC_STATUS_UNAVAILABLE && code != GRPC_STATUS_DEADLINE_EXCEEDED)
      log_error("transfers: records' ListRecordSteps: %s %s", cli_status_name(code), cs.message);
    return -1;
  }
  st.page = (const void *)out;
  int rc = srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", apply_tx, &st);
  int more = rc == 0 && st.page->more;
  if (rc == 0 && st.page->n_records)
    log_debug("transfers: %zu records' steps applied to the deadlines (%d open)", st.page->n_records, st.applied);
  protobuf_c_message_free_unpacked(out, NULL);
  return rc != 0 ? -1 : more;
}
