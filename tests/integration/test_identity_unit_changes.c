/* identity's unit-change feed (ListUnitChanges): every MoveUnit and MergeUnits leaves one row,
 * numbered without gaps in commit order even under concurrent moves, read in pages by
 * SYSTEM_ADMIN and by service clients granted the root, refused to everyone else. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "identity.pb-c.h"
#include "th_world.h"

#define IDN "/hoso.identity.v1.Identity/"
#define MOVED HOSO__IDENTITY__V1__UNIT_CHANGE_KIND__UNIT_CHANGE_KIND_MOVED
#define MERGED HOSO__IDENTITY__V1__UNIT_CHANGE_KIND__UNIT_CHANGE_KIND_MERGED

typedef Hoso__Identity__V1__ListUnitChangesResponse Feed;

static th_world w;

/* ------------------------------------------------------------ helpers ------------------- */

static void mk_unit(const char *parent, const char *code, char id[32], char path[64]) {
  assert_int_equal(th_world_unit(&w, parent, code, code, HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DEPARTMENT, id, path), 0);
}

static grpc_status_code move(const char *unit, const char *parent, const char *reason, cli_status *st) {
  Hoso__Identity__V1__MoveUnitRequest req = HOSO__IDENTITY__V1__MOVE_UNIT_REQUEST__INIT;
  req.unit_id = (char *)unit;
  req.new_parent_id = (char *)parent;
  req.reason = (char *)reason;
  return th_call(w.id_ch, IDN "MoveUnit", &req, &hoso__identity__v1__move_unit_response__descriptor, NULL,
                 w.tok_admin, st);
}

static grpc_status_code feed(const char *tok, long long after, int page_size, Feed **out, cli_status *st) {
  Hoso__Identity__V1__ListUnitChangesRequest req = HOSO__IDENTITY__V1__LIST_UNIT_CHANGES_REQUEST__INIT;
  req.after_seq = after;
  req.page_size = page_size;
  return th_call(w.id_ch, IDN "ListUnitChanges", &req, &hoso__identity__v1__list_unit_changes_response__descriptor,
                 (void **)out, tok, st);
}

static long long last_seq(void) {
  Feed *f = NULL;
  cli_status st;
  th_expect(feed(w.tok_admin, 0, 1, &f, &st), &st, GRPC_STATUS_OK, NULL);
  long long n = f->last_seq;
  protobuf_c_message_free_unpacked(&f->base, NULL);
  return n;
}

static char *unit_path(const char *id) {
  Hoso__Identity__V1__GetUnitRequest req = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  req.unit_id = (char *)id;
  Hoso__Identity__V1__GetUnitResponse *out = NULL;
  cli_status st;
  th_expect(th_call(w.id_ch, IDN "GetUnit", &req, &hoso__identity__v1__get_unit_response__descriptor, (void **)&out,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  char *p = strdup(out->unit->path);
  protobuf_c_message_free_unpacked(&out->base, NULL);
  return p;
}

/* ------------------------------------------------------------ tests --------------------- */

/* A move and a merge each leave one row with what a follower needs (kind, unit, both paths, the
 * successor, reason, who); a refused move leaves none, so the numbers stay gap-free; pages of
 * one walk the same rows in order. */
static void test_rows_and_paging(void **state) {
  (void)state;
  char p[32], pp[64], a[32], ap[64], b[32], bp[64];
  mk_unit(w.d1_id, "FD-P", p, pp);
  mk_unit(w.d1_id, "FD-A", a, ap);
  mk_unit(w.d2_id, "FD-B", b, bp);
  long long base = last_seq();
  cli_status st;
  th_expect(move(a, p, "Quyết định 7/QĐ-UBND", &st), &st, GRPC_STATUS_OK, NULL);
  /* P under A, which now lies below P: refused inside the transaction (after the tree lock),
   * and no number is used up. */
  th_expect(move(p, a, "", &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "new_parent_id");
  char ap2[96];
  snprintf(ap2, sizeof ap2, "%s.%s", pp, a);
  Hoso__Identity__V1__MergeUnitsRequest mr = HOSO__IDENTITY__V1__MERGE_UNITS_REQUEST__INIT;
  mr.source_unit_id = a;
  mr.target_unit_id = b;
  mr.reason = "Nghị quyết 9/NQ-HĐND";
  th_expect(th_call(w.id_ch, IDN "MergeUnits", &mr, &hoso__identity__v1__merge_units_response__descriptor, NULL,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);

  Feed *f = NULL;
  th_expect(feed(w.tok_admin, base, 0, &f, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(f->n_changes, 2);
  assert_int_equal(f->last_seq, base + 2);
  Hoso__Identity__V1__UnitChange *m = f->changes[0], *g = f->changes[1];
  assert_int_equal(m->seq, base + 1);
  assert_int_equal(m->kind, MOVED);
  assert_string_equal(m->unit_id, a);
  assert_string_equal(m->old_path, ap);
  assert_string_equal(m->new_path, ap2);
  assert_string_equal(m->successor_id, "");
  assert_string_equal(m->reason, "Quyết định 7/QĐ-UBND");
  assert_true(strlen(m->actor_id) > 0);
  assert_int_equal(strlen(m->at), 20);
  assert_int_equal(g->seq, base + 2);
  assert_int_equal(g->kind, MERGED);
  assert_string_equal(g->unit_id, a);
  assert_string_equal(g->old_path, ap2);
  assert_string_equal(g->new_path, bp);
  assert_string_equal(g->successor_id, b);
  assert_string_equal(g->reason, "Nghị quyết 9/NQ-HĐND");
  protobuf_c_message_free_unpacked(&f->base, NULL);

  /* Pages of one from the start: every number from 1 to the last, each once, in order. */
  long long after = 0, seen = 0;
  for (;;) {
    th_expect(feed(w.tok_admin, after, 1, &f, &st), &st, GRPC_STATUS_OK, NULL);
    size_t n = f->n_changes;
    if (n == 1) {
      assert_int_equal(f->changes[0]->seq, after + 1);
      after = f->changes[0]->seq;
      seen++;
    }
    protobuf_c_message_free_unpacked(&f->base, NULL);
    if (n == 0) break;
  }
  assert_int_equal(seen, base + 2);
  assert_int_equal(after, base + 2);
}

/* Who may read: SYSTEM_ADMIN and a service client granted the root (the transfers client of
 * the world); a unit's own administrator, a reader, a service client granted one district and
 * an anonymous caller may not. Bad arguments name their field. */
static void test_permission(void **state) {
  (void)state;
  Feed *f = NULL;
  cli_status st;
  th_expect(feed(w.tok_transfers, 0, 0, &f, &st), &st, GRPC_STATUS_OK, NULL);
  protobuf_c_message_free_unpacked(&f->base, NULL);
  th_expect(feed(w.tok_d1_admin, 0, 0, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(feed(w.tok_d2_reader, 0, 0, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  th_expect(feed(NULL, 0, 0, NULL, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
  th_expect(feed(w.tok_admin, -1, 0, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "after_seq");
  th_expect(feed(w.tok_admin, 0, 501, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_size");

  /* A root UNIT_ADMIN's scope covers the whole tree, but the feed is not a unit admin's. */
  char *root_admin = th_world_account_token(&w, "tinh.thutruong", w.root_id, HOSO__COMMON__V1__ROLE__UNIT_ADMIN);
  assert_non_null(root_admin);
  th_expect(feed(root_admin, 0, 0, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  free(root_admin);

  Hoso__Identity__V1__CreateServiceClientRequest cr = HOSO__IDENTITY__V1__CREATE_SERVICE_CLIENT_REQUEST__INIT;
  char *units[1] = {w.d1_id};
  cr.name = "Hệ thống bảo hiểm xã hội huyện";
  cr.unit_ids = units;
  cr.n_unit_ids = 1;
  cr.approval_reference = "Văn bản 3/SNV";
  Hoso__Identity__V1__CreateServiceClientResponse *c = NULL;
  th_expect(th_call(w.id_ch, IDN "CreateServiceClient", &cr, &hoso__identity__v1__create_service_client_response__descriptor,
                    (void **)&c, w.tok_admin, &st),
            &st, GRPC_STATUS_OK, NULL);
  Hoso__Identity__V1__ServiceLoginRequest sl = HOSO__IDENTITY__V1__SERVICE_LOGIN_REQUEST__INIT;
  sl.client_id = c->client->client_id;
  sl.client_secret = c->client_secret;
  Hoso__Identity__V1__ServiceLoginResponse *lr = NULL;
  th_expect(th_call(w.id_ch, IDN "ServiceLogin", &sl, &hoso__identity__v1__service_login_response__descriptor,
                    (void **)&lr, NULL, &st),
            &st, GRPC_STATUS_OK, NULL);
  th_expect(feed(lr->access_token, 0, 0, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  protobuf_c_message_free_unpacked(&lr->base, NULL);
  protobuf_c_message_free_unpacked(&c->base, NULL);
}

/* --- concurrent moves ------------------------------------------------------------------ */

#define MOVERS 6
#define MOVES_EACH 5

typedef struct {
  const char *units[2], *parents[2];
  int k, failures;
} mover_arg;

/* Each mover sends units X and Y back and forth between P and Q; many calls race for the tree. */
static void *mover(void *p) {
  mover_arg *m = p;
  for (int i = 0; i < MOVES_EACH; i++) {
    cli_status st;
    if (move(m->units[(m->k + i) % 2], m->parents[(m->k + i / 2) % 2], "", &st) != GRPC_STATUS_OK) m->failures++;
  }
  return NULL;
}

typedef struct {
  long long after;
  int stop, gaps, calls;
  pthread_mutex_t mu;
} reader_arg;

/* Follows the feed while the moves run, as records does: any page that does not continue
 * exactly at its cursor + 1 is a gap a follower would have skipped for good. */
static void *reader(void *p) {
  reader_arg *r = p;
  for (;;) {
    pthread_mutex_lock(&r->mu);
    int stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    Feed *f = NULL;
    cli_status st;
    if (feed(w.tok_transfers, r->after, 0, &f, &st) == GRPC_STATUS_OK) {
      pthread_mutex_lock(&r->mu);
      r->calls++;
      pthread_mutex_unlock(&r->mu);
      for (size_t i = 0; i < f->n_changes; i++) {
        if (f->changes[i]->seq != r->after + 1) r->gaps++;
        r->after = f->changes[i]->seq;
      }
      protobuf_c_message_free_unpacked(&f->base, NULL);
    } else {
      r->gaps++;
    }
    if (stop) break;
    usleep(1000);
  }
  return NULL;
}

/* Numbers are taken under the tree lock the move already holds, so concurrent moves commit in
 * number order: a follower reading all along never sees a gap, and for each unit every row's
 * old path is the previous row's new path (a row numbered before a change it saw committed
 * would break that chain), ending at the unit's current path. */
static void test_concurrent_moves(void **state) {
  (void)state;
  char p[32], q[32], x[32], xp[64], y[32], yp[64];
  mk_unit(w.d2_id, "CC-P", p, NULL);
  mk_unit(w.d2_id, "CC-Q", q, NULL);
  mk_unit(w.d2_id, "CC-X", x, xp);
  mk_unit(w.d2_id, "CC-Y", y, yp);
  long long base = last_seq();
  reader_arg ra = {.after = base, .mu = PTHREAD_MUTEX_INITIALIZER};
  pthread_t rt, th[MOVERS];
  mover_arg args[MOVERS];
  assert_int_equal(pthread_create(&rt, NULL, reader, &ra), 0);
  /* The movers start once the reader has read (10 s at most): on a loaded machine the reader
   * might otherwise first run after the last move, read once and see nothing move. Its first
   * read saw stop unset, so it reads again: more than one call. */
  for (int i = 0;; i++) {
    pthread_mutex_lock(&ra.mu);
    int calls = ra.calls;
    if (i == 1000) ra.stop = 1;
    pthread_mutex_unlock(&ra.mu);
    if (calls > 0) break;
    if (i == 1000) {
      pthread_join(rt, NULL); /* it reads &ra on this stack */
      fail_msg("the feed reader had no answer within 10 s");
    }
    usleep(10 * 1000);
  }
  for (int i = 0; i < MOVERS; i++) {
    args[i] = (mover_arg){.units = {x, y}, .parents = {p, q}, .k = i};
    assert_int_equal(pthread_create(&th[i], NULL, mover, &args[i]), 0);
  }
  for (int i = 0; i < MOVERS; i++) pthread_join(th[i], NULL);
  pthread_mutex_lock(&ra.mu);
  ra.stop = 1;
  pthread_mutex_unlock(&ra.mu);
  pthread_join(rt, NULL);
  for (int i = 0; i < MOVERS; i++) assert_int_equal(args[i].failures, 0);
  assert_int_equal(ra.gaps, 0);
  assert_true(ra.calls > 1);

  long long last = last_seq();
  assert_int_equal(ra.after, last);
  assert_true(last - base >= 4); /* at least the first move of each unit to each parent */
  Feed *f = NULL;
  cli_status st;
  th_expect(feed(w.tok_admin, base, 500, &f, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal((long long)f->n_changes, last - base);
  const char *ids[2] = {x, y};
  const char *start[2] = {xp, yp};
  for (int u = 0; u < 2; u++) {
    const char *at = start[u];
    for (size_t i = 0; i < f->n_changes; i++) {
      Hoso__Identity__V1__UnitChange *c = f->changes[i];
      assert_int_equal(c->seq, base + 1 + (long long)i);
      if (strcmp(c->unit_id, ids[u]) != 0) continue;
      assert_int_equal(c->kind, MOVED);
      assert_string_equal(c->old_path, at);
      at = c->new_path;
    }
    char *now = unit_path(ids[u]);
    assert_string_equal(at, now);
    free(now);
  }
  protobuf_c_message_free_unpacked(&f->base, NULL);
}

static int setup(void **state) {
  (void)state;
  return th_world_start(&w, 0, NULL);
}

static int teardown(void **state) {
  (void)state;
  char log[256];
  snprintf(log, sizeof log, "%s", w.identity.log);
  int rc = th_world_stop(&w);
  return rc == 0 && th_log_errors(log) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rows_and_paging),
      cmocka_unit_test(test_permission),
      cmocka_unit_test(test_concurrent_moves),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
