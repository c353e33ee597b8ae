/* What reporting asks of the other services as itself (its service client, HOSO_REPORTING_CLIENT_ID,
 * granted the units it reports on), always for a unit the caller was found to read: transfers'
 * open steps for the alerts, and for the compliance report the transfer steps of a period and
 * the accounts in use. A service that cannot answer costs only its columns: the caller gets a
 * note saying so, never a failed report. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "reporting.h"
#include "svc_client.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static svc_client *client;

static void make_client(void) {
  if (!(client = svc_client_from_env("reporting")))
    log_warn("reporting: HOSO_REPORTING_CLIENT_ID / _SECRET are not set: transfer alerts, transfer steps and "
             "accounts in use are left out of reports");
}

/* The call, or 1 with *note set (in the arena) when it cannot be had. */
static int ask(srv_ctx *ctx, const char *service, const char *method, const ProtobufCMessage *req,
               const ProtobufCMessageDescriptor *d, ProtobufCMessage **out, const char *what, const char **note) {
  pthread_once(&once, make_client);
  *out = NULL;
  if (!client) {
    *note = srv_printf(ctx, "%s: not counted — the reporting service has no service client (HOSO_REPORTING_CLIENT_ID)",
                       what);
    return 1;
  }
  cli_status st;
  grpc_status_code c = svc_call(client, service, method, req, d, out, &st);
  if (c == GRPC_STATUS_OK) return 0;
  /* the failure as any service answers it (svc_fail_downstream, logged there), taken back as
   * the note: the reply goes on without these columns */
  grpc_status_code code;
  svc_fail_downstream(ctx, &st, SVC_AS_SERVICE, service, method);
  const char *why = srv_fail_take(ctx, &code);
  *note = srv_printf(ctx, "%s: not counted — %s", what, why ? why : "no answer");
  return 1;
}

int rp_peer_deadlines(srv_ctx *ctx, const char *unit_id, const char *horizon, Hoso__Transfers__V1__Deadline ***out,
                      size_t *n, const char **note) {
  static const Hoso__Transfers__V1__StepKind transfer_steps[] = {5, 6, 7, 8, 9, 10};
  Hoso__Transfers__V1__ListDeadlinesRequest req = HOSO__TRANSFERS__V1__LIST_DEADLINES_REQUEST__INIT;
  req.unit_id = (char *)unit_id;
  req.steps = (Hoso__Transfers__V1__StepKind *)transfer_steps;
  req.n_steps = sizeof transfer_steps / sizeof *transfer_steps;
  req.page_size = 500;
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  /* by due date: pages until one reaches past the horizon (at most 20 000 steps) */
  for (int page = 0; page < 40; page++) {
    ProtobufCMessage *m;
    if (ask(ctx, "transfers", "/hoso.transfers.v1.Transfers/ListDeadlines", &req.base,
            &hoso__transfers__v1__list_deadlines_response__descriptor, &m, "ALERT_KIND_TRANSFER_OVERDUE", note))
      return 1;
    Hoso__Transfers__V1__ListDeadlinesResponse *r = (Hoso__Transfers__V1__ListDeadlinesResponse *)m;
    int past = 0;
    for (size_t i = 0; i < r->n_deadlines && !past; i++) {
      if (strcmp(r->deadlines[i]->due_date, horizon) > 0) { /* YYYY-MM-DD: text order is date order */
        past = 1;
        break;
      }
      if (*n == cap) {
        cap = cap ? 2 * cap : 64;
        Hoso__Transfers__V1__Deadline **g = srv_alloc(ctx, cap * sizeof *g);
        if (*n) memcpy(g, *out, *n * sizeof *g);
        *out = g;
      }
      if (!((*out)[*n] = srv_msg_copy(ctx, &r->deadlines[i]->base))) {
        protobuf_c_message_free_unpacked(m, NULL);
        return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; retry");
      }
      ++*n;
    }
    char *next = !past && r->next_page_token && *r->next_page_token ? srv_strdup(ctx, r->next_page_token) : NULL;
    protobuf_c_message_free_unpacked(m, NULL);
    if (!next) return 0;
    req.page_token = next;
  }
  *note = "ALERT_KIND_TRANSFER_OVERDUE: only the first 20 000 transfer steps are shown";
  return 0;
}

/* ask, with the answer copied into the arena: 0, 1 (note), -1. */
static int ask_copy(srv_ctx *ctx, const char *service, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *d, void **out, const char *what, const char **note) {
  ProtobufCMessage *m;
  if (ask(ctx, service, method, req, d, &m, what, note)) return 1;
  *out = srv_msg_copy(ctx, m);
  protobuf_c_message_free_unpacked(m, NULL);
  return *out ? 0 : srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; retry");
}

int rp_peer_step_counts(srv_ctx *ctx, const char *unit_id, const char *from, const char *to,
                        Hoso__Transfers__V1__CountStepsResponse **out, const char **note) {
  Hoso__Transfers__V1__CountStepsRequest req = HOSO__TRANSFERS__V1__COUNT_STEPS_REQUEST__INIT;
  req.unit_id = (char *)unit_id;
  req.from = (char *)from;
  req.to = (char *)to;
  return ask_copy(ctx, "transfers", "/hoso.transfers.v1.Transfers/CountSteps", &req.base,
                  &hoso__transfers__v1__count_steps_response__descriptor, (void **)out,
                  "transfers_on_time, transfers_overdue", note);
}

int rp_peer_account_use(srv_ctx *ctx, const char *unit_id, const char *from, const char *to,
                        Hoso__Identity__V1__CountAccountUseResponse **out, const char **note) {
  Hoso__Identity__V1__CountAccountUseRequest req = HOSO__IDENTITY__V1__COUNT_ACCOUNT_USE_REQUEST__INIT;
  req.unit_id = (char *)unit_id;
  req.from = (char *)from;
  req.to = (char *)to;
  return ask_copy(ctx, "identity", "/hoso.identity.v1.Identity/CountAccountUse", &req.base,
                  &hoso__identity__v1__count_account_use_response__descriptor, (void **)out, "accounts_in_use", note);
}
