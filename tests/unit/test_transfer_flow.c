/* The transfer workflow's table (transfers/flow.c): every action in every state of every kind
 * either leads where the regulations say, by the side they name, with the move records must
 * make — or is refused with a reason a person can read. Final states allow nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "flow.h"

static const int kinds[] = {TK(INTERNAL), TK(BETWEEN_UNITS), TK(PULL), TK(SECONDMENT), TK(OUT_OF_SYSTEM)};

static flow_t next(int kind, int state, flow_action a, int has_final) {
  flow_t f;
  const char *why = NULL;
  if (flow_next(kind, state, a, has_final, &f, &why) != 0)
    fail_msg("%s refused for kind %d in %s: %s", flow_action_name(a), kind, flow_state_name(state), why);
  return f;
}

static void refused(int kind, int state, flow_action a) {
  flow_t f;
  const char *why = NULL;
  if (flow_next(kind, state, a, 0, &f, &why) == 0)
    fail_msg("%s allowed for kind %d in %s", flow_action_name(a), kind, flow_state_name(state));
  assert_non_null(why);
  assert_true(strlen(why) > 10);
}

/* Every combination answers one way or the other, and a refusal always says why; a final state
 * refuses everything. */
static void test_every_combination_answers(void **state) {
  (void)state;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    for (int s = TS(REQUESTED); s <= TS(IMPORTED); s++)
      for (int a = 0; a < FLOW_N_ACTIONS; a++)
        for (int fin = 0; fin <= 1; fin++) {
          flow_t f;
          const char *why = NULL;
          int rc = flow_next(kinds[k], s, (flow_action)a, fin, &f, &why);
          if (rc == 0) {
            assert_false(flow_final(s));
            assert_true(f.next_state >= TS(REQUESTED) && f.next_state <= TS(IMPORTED));
            assert_true(f.actor == SIDE_FROM || f.actor == SIDE_TO || f.actor == SIDE_FINAL || f.actor == SIDE_SYSTEM);
            assert_true(!f.open_step || f.open_at != SIDE_NONE);
          } else {
            assert_non_null(why);
          }
        }
}

/* Between units (000 Đ9, 001 Đ10.2, 004 Đ9.1): sent by the sender, received or rejected by the
 * receiving unit; while sent the record waits at the sender, read by the receiver. */
static void test_between_units(void **state) {
  (void)state;
  flow_t f = next(TK(BETWEEN_UNITS), TS(STARTED), FLOW_SEND, 0);
  assert_int_equal(f.next_state, TS(SENT));
  assert_int_equal(f.actor, SIDE_FROM);
  assert_int_equal(f.move, MOVE_PENDING_TO_TO);
  assert_int_equal(f.open_step, SK(RECEIVE));
  assert_int_equal(f.open_at, SIDE_TO);
  assert_true(f.notify & SIDE_TO);

  f = next(TK(BETWEEN_UNITS), TS(SENT), FLOW_RECEIVE, 0);
  assert_int_equal(f.next_state, TS(COMPLETED));
  assert_int_equal(f.actor, SIDE_TO);
  assert_int_equal(f.move, MOVE_ACTIVE_AT_TO);
  assert_int_equal(f.open_step, 0);

  f = next(TK(BETWEEN_UNITS), TS(SENT), FLOW_REJECT, 0);
  assert_int_equal(f.next_state, TS(REJECTED));
  assert_int_equal(f.move, MOVE_ACTIVE_AT_FROM);
  assert_true(f.notify & SIDE_FROM);

  f = next(TK(BETWEEN_UNITS), TS(SENT), FLOW_CANCEL, 0);
  assert_int_equal(f.next_state, TS(CANCELLED));
  assert_int_equal(f.actor, SIDE_FROM);
  assert_int_equal(f.move, MOVE_ACTIVE_AT_FROM);

  refused(TK(BETWEEN_UNITS), TS(SENT), FLOW_SEND);
  refused(TK(BETWEEN_UNITS), TS(STARTED), FLOW_RECEIVE);
  refused(TK(BETWEEN_UNITS), TS(COMPLETED), FLOW_CANCEL);
  refused(TK(BETWEEN_UNITS), TS(STARTED), FLOW_EXPORT);
}

/* With a final unit (000 Đ9.2, 001 Đ10.2): received, then forwarded with its own deadline,
 * received (or rejected back to the receiving unit) by the final unit. */
static void test_forward(void **state) {
  (void)state;
  flow_t f = next(TK(BETWEEN_UNITS), TS(SENT), FLOW_RECEIVE, 1);
  assert_int_equal(f.next_state, TS(RECEIVED));
  assert_int_equal(f.open_step, SK(FORWARD));
  assert_int_equal(f.open_at, SIDE_TO);
  f = next(TK(BETWEEN_UNITS), TS(RECEIVED), FLOW_FORWARD, 1);
  assert_int_equal(f.next_state, TS(FORWARDED));
  assert_int_equal(f.actor, SIDE_TO);
  assert_int_equal(f.move, MOVE_PENDING_TO_FINAL);
  assert_int_equal(f.open_at, SIDE_FINAL);
  f = next(TK(BETWEEN_UNITS), TS(FORWARDED), FLOW_RECEIVE, 1);
  assert_int_equal(f.next_state, TS(COMPLETED));
  assert_int_equal(f.actor, SIDE_FINAL);
  assert_int_equal(f.move, MOVE_ACTIVE_AT_FINAL);
  f = next(TK(BETWEEN_UNITS), TS(FORWARDED), FLOW_REJECT, 1);
  assert_int_equal(f.next_state, TS(RECEIVED));
  assert_int_equal(f.move, MOVE_ACTIVE_AT_TO);
  assert_int_equal(f.open_step, SK(FORWARD));
}

/* A pull (002 Đ10): asked by the receiving unit, answered by the managing unit. */
static void test_pull(void **state) {
  (void)state;
  flow_t f = next(TK(PULL), TS(REQUESTED), FLOW_APPROVE, 0);
  assert_int_equal(f.next_state, TS(STARTED));
  assert_int_equal(f.actor, SIDE_FROM);
  assert_int_equal(f.open_step, SK(SEND));
  f = next(TK(PULL), TS(REQUESTED), FLOW_REFUSE, 0);
  assert_int_equal(f.next_state, TS(REFUSED));
  assert_true(f.notify & SIDE_TO);
  f = next(TK(PULL), TS(REQUESTED), FLOW_CANCEL, 0);
  assert_int_equal(f.actor, SIDE_TO);
  refused(TK(PULL), TS(REQUESTED), FLOW_SEND);
  refused(TK(PULL), TS(REFUSED), FLOW_APPROVE);
}

/* Inside an agency: one step. A secondment: the host reads, the end is the service's own. Out
 * of the system: frozen by the send, finished by the package. */
static void test_other_kinds(void **state) {
  (void)state;
  flow_t f = next(TK(INTERNAL), TS(STARTED), FLOW_SEND, 0);
  assert_int_equal(f.next_state, TS(COMPLETED));
  assert_int_equal(f.move, MOVE_ACTIVE_AT_TO);
  assert_int_equal(flow_first_step(TK(INTERNAL)), SK(MOVE_INSIDE));

  f = next(TK(SECONDMENT), TS(STARTED), FLOW_SEND, 0);
  assert_int_equal(f.next_state, TS(SECONDED));
  assert_int_equal(f.move, MOVE_GRANT_HOST);
  assert_int_equal(f.open_step, SK(SECONDMENT_END));
  f = next(TK(SECONDMENT), TS(SECONDED), FLOW_END, 0);
  assert_int_equal(f.actor, SIDE_SYSTEM);
  assert_int_equal(f.move, MOVE_GRANT_END);
  f = next(TK(SECONDMENT), TS(SECONDED), FLOW_CANCEL, 0);
  assert_int_equal(f.next_state, TS(ENDED));
  assert_int_equal(f.actor, SIDE_FROM);
  refused(TK(SECONDMENT), TS(SECONDED), FLOW_RECEIVE);

  assert_int_equal(flow_first_step(TK(OUT_OF_SYSTEM)), SK(SEND_OUT));
  f = next(TK(OUT_OF_SYSTEM), TS(STARTED), FLOW_SEND, 0);
  assert_int_equal(f.next_state, TS(SENT));
  assert_null(f.outcome); /* the send-out step stays open until the package */
  assert_int_equal(f.move, MOVE_PENDING_OUT);
  f = next(TK(OUT_OF_SYSTEM), TS(SENT), FLOW_EXPORT, 0);
  assert_int_equal(f.next_state, TS(EXPORTED));
  assert_int_equal(f.move, MOVE_OUT);
  refused(TK(OUT_OF_SYSTEM), TS(SENT), FLOW_RECEIVE);
  refused(TK(BETWEEN_UNITS), TS(SENT), FLOW_EXPORT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_combination_answers), cmocka_unit_test(test_between_units),
      cmocka_unit_test(test_forward),                   cmocka_unit_test(test_pull),
      cmocka_unit_test(test_other_kinds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
