/* flow.h: the transfer workflow's one table of transitions, with the reason of every refusal. */
#include "flow.h"

#include <stddef.h>

#define F(ns, who, oc, op, at, mv, nt, nk) \
  (flow_t) { .next_state = ns, .actor = who, .outcome = oc, .open_step = op, .open_at = at, .move = mv, .notify = nt, .notice = nk }

const char *flow_state_name(int s) {
  static const char *n[] = {"UNSPECIFIED", "REQUESTED", "REFUSED",  "STARTED",   "SENT",  "RECEIVED", "FORWARDED",
                            "COMPLETED",   "REJECTED",  "CANCELLED", "SECONDED", "ENDED", "EXPORTED", "IMPORTED"};
  return s >= 0 && s < (int)(sizeof n / sizeof n[0]) ? n[s] : "UNKNOWN";
}

const char *flow_action_name(flow_action a) {
  static const char *n[FLOW_N_ACTIONS] = {"APPROVE", "REFUSE", "SEND", "RECEIVE", "REJECT",
                                          "FORWARD", "CANCEL", "EXPORT", "END"};
  return a < FLOW_N_ACTIONS ? n[a] : "UNKNOWN";
}

int flow_final(int s) {
  return s == TS(COMPLETED) || s == TS(REJECTED) || s == TS(CANCELLED) || s == TS(REFUSED) || s == TS(ENDED) ||
         s == TS(EXPORTED) || s == TS(IMPORTED);
}

int flow_first_step(int kind) {
  switch (kind) {
  case TK(INTERNAL): return SK(MOVE_INSIDE);
  case TK(OUT_OF_SYSTEM): return SK(SEND_OUT);
  default: return SK(SEND);
  }
}

/* Why an action does not apply: what the state means for it. */
static const char *refusal(int state, flow_action a) {
  switch (state) {
  case TS(REQUESTED): return "it is a request awaiting the managing unit's answer";
  case TS(STARTED): return "it has not been sent yet";
  case TS(SENT): return a == FLOW_SEND ? "it was sent already" : "it is on its way to the receiving unit";
  case TS(RECEIVED): return "it was received already; what is left is the forward to the final unit";
  case TS(FORWARDED): return "it was forwarded to the final unit, which receives or rejects it now";
  case TS(SECONDED): return "the secondment is under way";
  case TS(COMPLETED): return "it was completed already";
  case TS(REJECTED): return "the receiving unit rejected it";
  case TS(REFUSED): return "the request was refused";
  case TS(CANCELLED): return "it was cancelled";
  case TS(ENDED): return "the secondment has ended";
  case TS(EXPORTED): return "the record left the system with its package";
  case TS(IMPORTED): return "it is the record of a package taken in";
  default: return "its state allows nothing";
  }
}

int flow_next(int kind, int state, flow_action a, int has_final, flow_t *out, const char **why) {
  int pull_or_between = kind == TK(BETWEEN_UNITS) || kind == TK(PULL);
  *why = NULL;
  switch (a) {
  case FLOW_APPROVE:
    if (state == TS(REQUESTED)) {
      *out = F(TS(STARTED), SIDE_FROM, "APPROVED", SK(SEND), SIDE_FROM, MOVE_NONE, SIDE_TO, "APPROVED");
      return 0;
    }
    break;
  case FLOW_REFUSE:
    if (state == TS(REQUESTED)) {
      *out = F(TS(REFUSED), SIDE_FROM, "REFUSED", 0, SIDE_NONE, MOVE_NONE, SIDE_TO, "REFUSED");
      return 0;
    }
    break;
  case FLOW_SEND:
    if (state != TS(STARTED)) break;
    if (kind == TK(INTERNAL))
      *out = F(TS(COMPLETED), SIDE_FROM, "MOVED", 0, SIDE_NONE, MOVE_ACTIVE_AT_TO, SIDE_TO, "MOVED");
    else if (kind == TK(SECONDMENT))
      *out = F(TS(SECONDED), SIDE_FROM, "SENT", SK(SECONDMENT_END), SIDE_FROM, MOVE_GRANT_HOST, SIDE_TO, "SECONDED");
    else if (kind == TK(OUT_OF_SYSTEM))
      *out = F(TS(SENT), SIDE_FROM, NULL, 0, SIDE_NONE, MOVE_PENDING_OUT, SIDE_NONE, NULL);
    else
      *out = F(TS(SENT), SIDE_FROM, "SENT", SK(RECEIVE), SIDE_TO, MOVE_PENDING_TO_TO, SIDE_TO, "SENT");
    return 0;
  case FLOW_RECEIVE:
    if (state == TS(SENT) && pull_or_between) {
      if (has_final)
        *out = F(TS(RECEIVED), SIDE_TO, "RECEIVED", SK(FORWARD), SIDE_TO, MOVE_ACTIVE_AT_TO, SIDE_FROM, "RECEIVED");
      else
        *out = F(TS(COMPLETED), SIDE_TO, "RECEIVED", 0, SIDE_NONE, MOVE_ACTIVE_AT_TO, SIDE_FROM, "RECEIVED");
      return 0;
    }
    if (state == TS(FORWARDED)) {
      *out = F(TS(COMPLETED), SIDE_FINAL, "RECEIVED", 0, SIDE_NONE, MOVE_ACTIVE_AT_FINAL, SIDE_TO | SIDE_FROM,
               "RECEIVED");
      return 0;
    }
    if (state == TS(SENT)) {
      *why = "it leaves the system with a package (ExportTransferPackage), nobody here receives it";
      return -1;
    }
    break;
  case FLOW_REJECT:
    if (state == TS(SENT) && pull_or_between) {
      *out = F(TS(REJECTED), SIDE_TO, "REJECTED", 0, SIDE_NONE, MOVE_ACTIVE_AT_FROM, SIDE_FROM, "REJECTED");
      return 0;
    }
    if (state == TS(FORWARDED)) {
      *out = F(TS(RECEIVED), SIDE_FINAL, "REJECTED", SK(FORWARD), SIDE_TO, MOVE_ACTIVE_AT_TO, SIDE_TO, "REJECTED");
      return 0;
    }
    break;
  case FLOW_FORWARD:
    if (state == TS(RECEIVED)) {
      *out = F(TS(FORWARDED), SIDE_TO, "FORWARDED", SK(RECEIVE), SIDE_FINAL, MOVE_PENDING_TO_FINAL, SIDE_FINAL,
               "SENT");
      return 0;
    }
    break;
  case FLOW_CANCEL:
    switch (state) {
    case TS(REQUESTED):
      *out = F(TS(CANCELLED), SIDE_TO, "CANCELLED", 0, SIDE_NONE, MOVE_NONE, SIDE_FROM, "CANCELLED");
      return 0;
    case TS(STARTED):
      *out = F(TS(CANCELLED), SIDE_FROM, "CANCELLED", 0, SIDE_NONE, MOVE_NONE,
               kind == TK(OUT_OF_SYSTEM) ? SIDE_NONE : SIDE_TO, "CANCELLED");
      return 0;
    case TS(SENT):
      *out = F(TS(CANCELLED), SIDE_FROM, "CANCELLED", 0, SIDE_NONE, MOVE_ACTIVE_AT_FROM,
               kind == TK(OUT_OF_SYSTEM) ? SIDE_NONE : SIDE_TO, "CANCELLED");
      return 0;
    case TS(RECEIVED): /* the forward will not be made: the person stays at the receiving unit */
      *out = F(TS(COMPLETED), SIDE_TO, "CANCELLED", 0, SIDE_NONE, MOVE_NONE, SIDE_NONE, NULL);
      return 0;
    case TS(FORWARDED):
      *out = F(TS(COMPLETED), SIDE_TO, "CANCELLED", 0, SIDE_NONE, MOVE_ACTIVE_AT_TO, SIDE_FINAL, "CANCELLED");
      return 0;
    case TS(SECONDED): /* ended early */
      *out = F(TS(ENDED), SIDE_FROM, "ENDED", 0, SIDE_NONE, MOVE_GRANT_END, SIDE_TO, "SECONDMENT_ENDED");
      return 0;
    }
    break;
  case FLOW_EXPORT:
    if (kind != TK(OUT_OF_SYSTEM)) {
      *why = "only a transfer out of the system (TRANSFER_KIND_OUT_OF_SYSTEM) leaves with a package";
      return -1;
    }
    if (state == TS(SENT)) {
      *out = F(TS(EXPORTED), SIDE_FROM, "EXPORTED", 0, SIDE_NONE, MOVE_OUT, SIDE_NONE, NULL);
      return 0;
    }
    break;
  case FLOW_END:
    if (state == TS(SECONDED)) {
      *out = F(TS(ENDED), SIDE_SYSTEM, "ENDED", 0, SIDE_NONE, MOVE_GRANT_END, SIDE_FROM | SIDE_TO,
               "SECONDMENT_ENDED");
      return 0;
    }
    break;
  case FLOW_N_ACTIONS:
    break;
  }
  *why = refusal(state, a);
  return -1;
}
