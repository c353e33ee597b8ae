/* The transfer workflow as a table (pure): for a transfer's kind and state and an action, the
 * next state, which side may act, the step it closes and the one it opens, the move records must
 * make, and whose inbox hears of it. The handlers only carry it out. */
#ifndef HOSO_TRANSFERS_FLOW_H
#define HOSO_TRANSFERS_FLOW_H

#include "transfers.pb-c.h"

#define TK(x) HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_##x
#define TS(x) HOSO__TRANSFERS__V1__TRANSFER_STATE__TRANSFER_STATE_##x
#define SK(x) HOSO__TRANSFERS__V1__STEP_KIND__STEP_KIND_##x

typedef enum {
  FLOW_APPROVE, /* a pull's request approved by the managing unit */
  FLOW_REFUSE,
  FLOW_SEND,
  FLOW_RECEIVE,
  FLOW_REJECT,
  FLOW_FORWARD,
  FLOW_CANCEL,
  FLOW_EXPORT, /* the package of an OUT_OF_SYSTEM transfer made */
  FLOW_END,    /* a secondment's end date passed (the service's own job) */
  FLOW_N_ACTIONS
} flow_action;

/* The sides of a transfer: the units its fields name. */
typedef enum { SIDE_NONE = 0, SIDE_FROM = 1, SIDE_TO = 2, SIDE_FINAL = 4, SIDE_SYSTEM = 8 } flow_side;

/* What records must do, through the outbox. */
typedef enum {
  MOVE_NONE,
  MOVE_ACTIVE_AT_FROM,   /* back where it was: ACTIVE at the sending unit */
  MOVE_ACTIVE_AT_TO,     /* received: ACTIVE at the receiving unit */
  MOVE_ACTIVE_AT_FINAL,  /* received after a forward */
  MOVE_PENDING_TO_TO,    /* sent: PENDING_TRANSFER at the sender, read by the receiving unit */
  MOVE_PENDING_TO_FINAL, /* forwarded: PENDING_TRANSFER at the receiving unit, read by the final one */
  MOVE_PENDING_OUT,      /* an OUT_OF_SYSTEM send: PENDING_TRANSFER, frozen for the package */
  MOVE_OUT,              /* TRANSFERRED_OUT at the sending unit */
  MOVE_GRANT_HOST,       /* a secondment: the host unit reads until the end date */
  MOVE_GRANT_END,        /* ... no longer */
} flow_move;

typedef struct {
  int next_state;       /* TransferState */
  flow_side actor;      /* who may act: SIDE_FROM, SIDE_TO, SIDE_FINAL, SIDE_SYSTEM */
  const char *outcome;  /* of the open step it closes; NULL: that step stays open */
  int open_step;        /* StepKind of the step it opens, 0 none */
  flow_side open_at;    /* whose work that step is */
  flow_move move;
  unsigned notify;      /* sides (flow_side bits) whose inbox gets the notice */
  const char *notice;   /* the notice's kind */
} flow_t;

/* has_final: the transfer names a final unit other than its receiving unit (a forward is due
 * after the receipt). 0 with *out, or -1 with *why: a sentence saying why the action does not
 * apply in that state ("it was received already"). */
int flow_next(int kind, int state, flow_action a, int has_final, flow_t *out, const char **why);

/* The step a new transfer of `kind` opens (StartTransfer, or an approved pull): MOVE_INSIDE,
 * SEND, SEND_OUT; SEND for a secondment. */
int flow_first_step(int kind);

/* "SENT", "COMPLETED" ... : the state's name without its prefix, for messages and logs. */
const char *flow_state_name(int state);
const char *flow_action_name(flow_action a);
/* A state no action leaves (COMPLETED, REJECTED, CANCELLED, REFUSED, ENDED, EXPORTED, IMPORTED). */
int flow_final(int state);

#endif
