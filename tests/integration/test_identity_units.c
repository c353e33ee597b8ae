/* The units RPCs of identity over real gRPC against a real PostgreSQL: the tree (create, get,
 * children and subtree with keyset pages), NFC names, rename history, moves, merges, scope of a
 * unit administrator, bad input, request_id idempotency and the audit rows they leave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <pthread.h>
#include "identity.pb-c.h"
#include "th.h"

#define IDN "/hoso.identity.v1.Identity/"

typedef Hoso__Identity__V1__Unit Unit;

static th_pg pg;
static th_svc svc;
static cli_chan *ch;
static char *admin; /* the bootstrap admin's access token */
static char root_id[32], root_path[64];
/* The fixture tree every test may use: root → D1, D2 (districts) → a commune and a bureau each. */
static char d1[32], d1_path[256], d2[32], d2_path[256], d1_commune[32], d2_commune[32];
static int code_seq;

/* ------------------------------------------------------------ helpers ------------------- */

static grpc_status_code call(const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                             void *resp_out, const char *token, cli_status *st) {
  cli_status local;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  ProtobufCMessage *out = NULL;
  grpc_status_code c = cli_call(ch, method, req, d, &out, token ? th_bearer(token) : NULL, token ? 1 : 0,
                                20000, st);
  if (resp_out)
    *(ProtobufCMessage **)resp_out = out;
  else if (out)
    protobuf_c_message_free_unpacked(out, NULL);
  return c;
}

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

/* The status and the field the message names: every refusal must tell the caller which field. */
static void expect(grpc_status_code got, const cli_status *st, grpc_status_code want, const char *field) {
  if (got != want) fail_msg("expected %s, got %s: %s", cli_status_name(want), cli_status_name(got), st->message);
  if (field) {
    size_t n = strlen(field);
    if (strncmp(st->message, field, n) != 0 || st->message[n] != ':')
      fail_msg("message \"%s\" does not start with \"%s:\"", st->message, field);
  }
}

static const char *next_code(void) {
  static char buf[32];
  snprintf(buf, sizeof buf, "T.%04d", ++code_seq);
  return buf;
}

static grpc_status_code create_unit_raw(const char *tok, const char *parent, const char *code, const char *name,
                                        int type, const char *request_id, Unit **out, cli_status *st) {
  Hoso__Identity__V1__CreateUnitRequest req = HOSO__IDENTITY__V1__CREATE_UNIT_REQUEST__INIT;
  req.parent_id = (char *)parent;
  req.code = (char *)code;
  req.name = (char *)name;
  req.type = (Hoso__Identity__V1__UnitType)type;
  req.staffing_quota = 12;
  req.request_id = (char *)(request_id ? request_id : "");
  Hoso__Identity__V1__CreateUnitResponse *r = NULL;
  grpc_status_code c = call(IDN "CreateUnit", &req, &hoso__identity__v1__create_unit_response__descriptor, &r,
                            tok, st);
  if (out) {
    *out = NULL;
    if (r) {
      *out = r->unit;
      r->unit = NULL;
    }
  }
  free_msg(r);
  return c;
}

/* A new unit made by the admin; its id (and path) copied out. */
static void mk_unit(const char *parent, const char *name, int type, char id[32], char *path, size_t pathlen) {
  Unit *u = NULL;
  cli_status st;
  grpc_status_code c = create_unit_raw(admin, parent, next_code(), name, type, NULL, &u, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateUnit %s: %s %s", name, cli_status_name(c), st.message);
  snprintf(id, 32, "%s", u->id);
  if (path) snprintf(path, pathlen, "%s", u->path);
  free_msg(u);
}

static grpc_status_code get_unit(const char *tok, const char *id, Unit **out, cli_status *st) {
  Hoso__Identity__V1__GetUnitRequest req = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  req.unit_id = (char *)id;
  Hoso__Identity__V1__GetUnitResponse *r = NULL;
  grpc_status_code c = call(IDN "GetUnit", &req, &hoso__identity__v1__get_unit_response__descriptor, &r, tok, st);
  if (out) {
    *out = r ? r->unit : NULL;
    if (r) r->unit = NULL;
  }
  free_msg(r);
  return c;
}

static Unit *must_get(const char *id) {
  Unit *u = NULL;
  cli_status st;
  grpc_status_code c = get_unit(admin, id, &u, &st);
  if (c != GRPC_STATUS_OK) fail_msg("GetUnit %s: %s %s", id, cli_status_name(c), st.message);
  return u;
}

static grpc_status_code list_children(const char *tok, const char *id, int size, const char *page_token,
                                      int include_dissolved, Hoso__Identity__V1__ListChildUnitsResponse **out,
                                      cli_status *st) {
  Hoso__Identity__V1__ListChildUnitsRequest req = HOSO__IDENTITY__V1__LIST_CHILD_UNITS_REQUEST__INIT;
  req.unit_id = (char *)id;
  req.page_size = size;
  req.page_token = (char *)(page_token ? page_token : "");
  req.include_dissolved = include_dissolved;
  return call(IDN "ListChildUnits", &req, &hoso__identity__v1__list_child_units_response__descriptor, out, tok, st);
}

static grpc_status_code subtree(const char *tok, const char *id, int size, int max_depth, const char *page_token,
                                Hoso__Identity__V1__GetUnitSubtreeResponse **out, cli_status *st) {
  Hoso__Identity__V1__GetUnitSubtreeRequest req = HOSO__IDENTITY__V1__GET_UNIT_SUBTREE_REQUEST__INIT;
  req.unit_id = (char *)id;
  req.page_size = size;
  req.max_depth = max_depth;
  req.page_token = (char *)(page_token ? page_token : "");
  return call(IDN "GetUnitSubtree", &req, &hoso__identity__v1__get_unit_subtree_response__descriptor, out, tok, st);
}

static Hoso__Identity__V1__ListUnitHistoryResponse *history(const char *id) {
  Hoso__Identity__V1__ListUnitHistoryRequest req = HOSO__IDENTITY__V1__LIST_UNIT_HISTORY_REQUEST__INIT;
  req.unit_id = (char *)id;
  Hoso__Identity__V1__ListUnitHistoryResponse *r = NULL;
  cli_status st;
  grpc_status_code c = call(IDN "ListUnitHistory", &req, &hoso__identity__v1__list_unit_history_response__descriptor,
                            &r, admin, &st);
  if (c != GRPC_STATUS_OK) fail_msg("ListUnitHistory %s: %s %s", id, cli_status_name(c), st.message);
  return r;
}

static grpc_status_code move_unit(const char *tok, const char *id, const char *parent, Unit **out, cli_status *st) {
  Hoso__Identity__V1__MoveUnitRequest req = HOSO__IDENTITY__V1__MOVE_UNIT_REQUEST__INIT;
  req.unit_id = (char *)id;
  req.new_parent_id = (char *)parent;
  req.reason = "Quyết định 77/QĐ-UBND";
  Hoso__Identity__V1__MoveUnitResponse *r = NULL;
  grpc_status_code c = call(IDN "MoveUnit", &req, &hoso__identity__v1__move_unit_response__descriptor, &r, tok, st);
  if (out) {
    *out = r ? r->unit : NULL;
    if (r) r->unit = NULL;
  }
  free_msg(r);
  return c;
}

static grpc_status_code merge_units(const char *a, const char *b, const char *reason, const char *request_id,
                                    Hoso__Identity__V1__MergeUnitsResponse **out, cli_status *st) {
  Hoso__Identity__V1__MergeUnitsRequest req = HOSO__IDENTITY__V1__MERGE_UNITS_REQUEST__INIT;
  req.source_unit_id = (char *)a;
  req.target_unit_id = (char *)b;
  req.reason = (char *)reason;
  req.request_id = (char *)(request_id ? request_id : "");
  return call(IDN "MergeUnits", &req, &hoso__identity__v1__merge_units_response__descriptor, out, admin, st);
}

/* An account made by the admin in `unit` with one role; returns its id. */
static void mk_account(const char *user, const char *password, const char *unit, Hoso__Common__V1__Role role,
                       char id[32]) {
  Hoso__Identity__V1__CreateAccountRequest req = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
  Hoso__Common__V1__Role roles[1] = {role};
  req.username = (char *)user;
  req.full_name = "Trần Thị Kiểm";
  req.unit_id = (char *)unit;
  req.roles = roles;
  req.n_roles = 1;
  req.initial_password = (char *)password;
  Hoso__Identity__V1__CreateAccountResponse *r = NULL;
  cli_status st;
  grpc_status_code c = call(IDN "CreateAccount", &req, &hoso__identity__v1__create_account_response__descriptor, &r,
                            admin, &st);
  if (c != GRPC_STATUS_OK) fail_msg("CreateAccount %s: %s %s", user, cli_status_name(c), st.message);
  snprintf(id, 32, "%s", r->account->id);
  free_msg(r);
}

/* First login of a new account: the login token only allows ChangePassword, which returns the
 * full tokens. *access and *refresh are malloc'd. */
static void first_login(const char *user, const char *initial, const char *final_pw, char **access, char **refresh) {
  Hoso__Identity__V1__LoginRequest lr = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  lr.username = (char *)user;
  lr.password = (char *)initial;
  Hoso__Identity__V1__LoginResponse *l = NULL;
  cli_status st;
  grpc_status_code c = call(IDN "Login", &lr, &hoso__identity__v1__login_response__descriptor, &l, NULL, &st);
  if (c != GRPC_STATUS_OK) fail_msg("Login %s: %s %s", user, cli_status_name(c), st.message);
  assert_true(l->must_change_password);
  Hoso__Identity__V1__ChangePasswordRequest cp = HOSO__IDENTITY__V1__CHANGE_PASSWORD_REQUEST__INIT;
  cp.old_password = (char *)initial;
  cp.new_password = (char *)final_pw;
  Hoso__Identity__V1__ChangePasswordResponse *r = NULL;
  c = call(IDN "ChangePassword", &cp, &hoso__identity__v1__change_password_response__descriptor, &r,
           l->access_token, &st);
  if (c != GRPC_STATUS_OK) fail_msg("ChangePassword %s: %s %s", user, cli_status_name(c), st.message);
  *access = strdup(r->access_token);
  if (refresh) *refresh = strdup(r->refresh_token);
  free_msg(r);
  free_msg(l);
}

static Hoso__Identity__V1__Account *get_account(const char *id) {
  Hoso__Identity__V1__GetAccountRequest req = HOSO__IDENTITY__V1__GET_ACCOUNT_REQUEST__INIT;
  req.account_id = (char *)id;
  Hoso__Identity__V1__GetAccountResponse *r = NULL;
  cli_status st;
  grpc_status_code c = call(IDN "GetAccount", &req, &hoso__identity__v1__get_account_response__descriptor, &r,
                            admin, &st);
  if (c != GRPC_STATUS_OK) fail_msg("GetAccount %s: %s %s", id, cli_status_name(c), st.message);
  Hoso__Identity__V1__Account *a = r->account;
  r->account = NULL;
  free_msg(r);
  return a;
}

/* One value from the database through the superuser DSN (inspection only), malloc'd; NULL
 * when the query returns no row. */
static char *sql1(const char *sql, int n, const char *const *params) {
  PGconn *db = PQconnectdb(pg.admin_dsn);
  if (PQstatus(db) != CONNECTION_OK) fail_msg("connect: %s", PQerrorMessage(db));
  PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(db));
  char *v = PQntuples(r) > 0 ? strdup(PQgetvalue(r, 0, 0)) : NULL;
  PQclear(r);
  PQfinish(db);
  return v;
}

/* ------------------------------------------------------------ set-up -------------------- */

static int setup(void **state) {
  (void)state;
  if (th_pg_start(&pg) != 0) return -1;
  const char *env[] = {"HOSO_ADMIN_PASSWORD=" TH_ADMIN_PASSWORD, "HOSO_WORKERS=4", NULL};
  if (th_svc_start(&svc, "hoso-identity", "HOSO_IDENTITY_ADDR", &pg, env) != 0) return -1;
  ch = cli_open_tls(svc.addr, NULL, NULL, NULL);
  if (!ch) return -1;
  admin = th_login(ch, "admin", TH_ADMIN_PASSWORD);
  if (!admin) return -1;
  Hoso__Identity__V1__WhoAmIRequest w = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *who = NULL;
  if (call(IDN "WhoAmI", &w, &hoso__identity__v1__who_am_iresponse__descriptor, &who, admin, NULL) != GRPC_STATUS_OK ||
      !who->account)
    return -1;
  snprintf(root_id, sizeof root_id, "%s", who->account->unit_id);
  snprintf(root_path, sizeof root_path, "%s", who->account->unit_path);
  free_msg(who);
  return 0;
}

/* Lines of the service's log that say something went wrong inside it: an internal error is
 * logged, never sent, so a test that got the status it expected could hide one. */
static int log_problems(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[8192];
  int n = 0;
  while (fgets(line, sizeof line, f))
    if (strstr(line, "\"level\":\"error\"") || strstr(line, "runtime error") || strstr(line, "Sanitizer")) {
      fprintf(stderr, "service log: %s", line);
      n++;
    }
  fclose(f);
  return n;
}

static int teardown(void **state) {
  (void)state;
  free(admin);
  if (ch) cli_close(ch);
  /* The service must drain and exit 0 on SIGTERM, with nothing wrong in its log. */
  int rc = th_svc_stop(&svc);
  int problems = log_problems(svc.log);
  th_pg_destroy(&pg);
  return rc == 0 && problems == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ tests --------------------- */

/* The fixture tree, made through the API: each new unit gets a fresh id, a path that extends
 * its parent's by that id, the next level, version 1 and the active status; GetUnit returns
 * what CreateUnit returned, and the parent counts its active children. */
static void test_create_and_get(void **state) {
  (void)state;
  Unit *u = NULL;
  cli_status st;
  expect(create_unit_raw(admin, root_id, "000.00.31.H01", "Huyện Bảo Thắng", 3, NULL, &u, &st), &st, GRPC_STATUS_OK,
         NULL);
  char want[1024];
  snprintf(want, sizeof want, "%s.%s", root_path, u->id);
  assert_string_equal(u->path, want);
  assert_string_equal(u->parent_id, root_id);
  assert_int_equal(u->level, 2);
  assert_int_equal(u->version, 1);
  assert_int_equal(u->status, HOSO__IDENTITY__V1__UNIT_STATUS__UNIT_STATUS_ACTIVE);
  assert_int_equal(u->type, HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DISTRICT);
  assert_int_equal(u->staffing_quota, 12);
  assert_string_equal(u->code, "000.00.31.H01");
  assert_string_equal(u->merged_into_id, "");
  assert_int_equal(u->child_count, 0);
  assert_true(strlen(u->created_at) == 20 && u->created_at[19] == 'Z');
  snprintf(d1, sizeof d1, "%s", u->id);
  snprintf(d1_path, sizeof d1_path, "%s", u->path);

  Unit *g = must_get(d1);
  assert_string_equal(g->id, u->id);
  assert_string_equal(g->name, "Huyện Bảo Thắng");
  assert_string_equal(g->path, u->path);
  free_msg(g);
  free_msg(u);

  mk_unit(root_id, "Huyện Bát Xát", 3, d2, d2_path, sizeof d2_path);
  mk_unit(d1, "Xã Phong Niên", 6, d1_commune, NULL, 0);
  mk_unit(d2, "Xã Bản Vược", 6, d2_commune, NULL, 0);
  char tmp[32];
  mk_unit(d1, "Phòng Giáo dục và Đào tạo", 4, tmp, NULL, 0);

  Unit *c = must_get(d1_commune);
  assert_int_equal(c->level, 3);
  snprintf(want, sizeof want, "%s.%s", d1_path, d1_commune);
  assert_string_equal(c->path, want);
  free_msg(c);
  Unit *p = must_get(d1);
  assert_int_equal(p->child_count, 2);
  free_msg(p);
  Unit *root = must_get(root_id);
  assert_int_equal(root->level, 1);
  assert_string_equal(root->parent_id, "");
  assert_true(root->child_count >= 2);
  free_msg(root);

  /* The creation is audited in the same transaction, with the unit's path for scoped queries. */
  const char *params[] = {d1};
  char *path = sql1("SELECT unit_path FROM identity.audit_log WHERE action = 'UNIT_CREATE' AND target_id = $1", 1,
                    params);
  assert_non_null(path);
  assert_string_equal(path, d1_path);
  free(path);
}

/* Seven children, two with the same name, read two per page: keyset pagination on
 * (name in byte order, id) must give every child exactly once, in that order, with the tie
 * broken by id (a key on the name alone would skip one of the twins); the last page has no
 * token, and asking again with a token gives the same page. */
static void test_list_children_pages(void **state) {
  (void)state;
  char parent[32];
  mk_unit(root_id, "Sở Y tế", 2, parent, NULL, 0);
  /* In byte order the twins come second and third, so the first page boundary falls between
   * them. */
  static const char *names[] = {"Xã Gia Phú", "Bệnh viện Đa khoa", "Trung tâm Y tế", "Bệnh viện Đa khoa",
                                "Chi cục Dân số", "Ban Bảo vệ sức khỏe", "Ánh Dương"};
  enum { N = sizeof names / sizeof names[0] };
  char ids[N][32];
  for (int i = 0; i < N; i++) mk_unit(parent, names[i], 4, ids[i], NULL, 0);

  /* Expected order: byte order of the (NFC) names, then id. Ids increase in creation order. */
  int order[N];
  for (int i = 0; i < N; i++) order[i] = i;
  for (int i = 1; i < N; i++)
    for (int j = i; j > 0; j--) {
      int c = strcmp(names[order[j - 1]], names[order[j]]);
      if (c > 0 || (c == 0 && atoll(ids[order[j - 1]]) > atoll(ids[order[j]]))) {
        int t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
    }

  char *tokens[8] = {0};
  int seen = 0, pages = 0;
  const char *tok = NULL;
  for (;;) {
    Hoso__Identity__V1__ListChildUnitsResponse *r = NULL;
    cli_status st;
    expect(list_children(admin, parent, 2, tok, 0, &r, &st), &st, GRPC_STATUS_OK, NULL);
    assert_true(r->n_units <= 2);
    for (size_t i = 0; i < r->n_units; i++) {
      assert_true(seen < N);
      assert_string_equal(r->units[i]->id, ids[order[seen]]);
      seen++;
    }
    pages++;
    if (!r->next_page_token[0]) {
      free_msg(r);
      break;
    }
    assert_true(pages < 8);
    tokens[pages] = strdup(r->next_page_token);
    tok = tokens[pages];
    free_msg(r);
  }
  assert_int_equal(seen, N);
  assert_int_equal(pages, 4);

  /* The second page again, from its token: the same units. */
  Hoso__Identity__V1__ListChildUnitsResponse *again = NULL;
  cli_status st;
  expect(list_children(admin, parent, 2, tokens[1], 0, &again, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(again->n_units, 2);
  assert_string_equal(again->units[0]->id, ids[order[2]]);
  assert_string_equal(again->units[1]->id, ids[order[3]]);
  assert_string_equal(again->next_page_token, tokens[2]);
  free_msg(again);

  /* A token is bound to its parent, and garbage is not a token. */
  expect(list_children(admin, d1, 2, tokens[1], 0, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_token");
  expect(list_children(admin, parent, 2, "not-a-token!", 0, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "page_token");
  expect(list_children(admin, parent, 501, NULL, 0, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_size");
  /* Default page size (50) takes them all in one page. */
  Hoso__Identity__V1__ListChildUnitsResponse *all = NULL;
  expect(list_children(admin, parent, 0, NULL, 0, &all, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(all->n_units, N);
  assert_string_equal(all->next_page_token, "");
  free_msg(all);
  for (int i = 0; i < 8; i++) free(tokens[i]);
}

/* A subtree read two units at a time comes in path order: the unit first, each unit before
 * everything below it, every unit exactly once; max_depth 1 stops at the children. */
static void test_subtree_pages_and_depth(void **state) {
  (void)state;
  char top[32], c1[32], c2[32], g1[32], g2[32], gg[32];
  mk_unit(root_id, "Sở Nội vụ", 2, top, NULL, 0);
  mk_unit(top, "Ban Thi đua - Khen thưởng", 4, c1, NULL, 0);
  mk_unit(top, "Ban Tôn giáo", 4, c2, NULL, 0);
  mk_unit(c1, "Phòng Nghiệp vụ 1", 7, g1, NULL, 0);
  mk_unit(c1, "Phòng Nghiệp vụ 2", 7, g2, NULL, 0);
  mk_unit(g2, "Tổ Tổng hợp", 7, gg, NULL, 0);
  const char *all[] = {top, c1, c2, g1, g2, gg};
  enum { N = 6 };

  char got_ids[N][32], got_paths[N][256];
  int seen = 0, pages = 0;
  char *tok = NULL;
  for (;;) {
    Hoso__Identity__V1__GetUnitSubtreeResponse *r = NULL;
    cli_status st;
    expect(subtree(admin, top, 2, 0, tok, &r, &st), &st, GRPC_STATUS_OK, NULL);
    for (size_t i = 0; i < r->n_units; i++) {
      assert_true(seen < N);
      snprintf(got_ids[seen], 32, "%s", r->units[i]->id);
      snprintf(got_paths[seen], 256, "%s", r->units[i]->path);
      seen++;
    }
    pages++;
    free(tok);
    tok = r->next_page_token[0] ? strdup(r->next_page_token) : NULL;
    free_msg(r);
    if (!tok) break;
    assert_true(pages < 6);
  }
  assert_int_equal(seen, N);
  assert_string_equal(got_ids[0], top);
  for (int i = 0; i < N; i++) {
    int found = 0;
    for (int j = 0; j < N; j++) found += strcmp(got_ids[j], all[i]) == 0;
    assert_int_equal(found, 1);
    /* Every ancestor's path (a prefix ending at a dot) appeared earlier. */
    for (char *dot = strchr(got_paths[i], '.'); dot; dot = strchr(dot + 1, '.')) {
      size_t n = (size_t)(dot - got_paths[i]);
      if (n < strlen(got_paths[0])) continue;
      int earlier = 0;
      for (int j = 0; j < i; j++) earlier |= strlen(got_paths[j]) == n && strncmp(got_paths[j], got_paths[i], n) == 0;
      assert_true(earlier);
    }
  }

  Hoso__Identity__V1__GetUnitSubtreeResponse *d = NULL;
  cli_status st;
  expect(subtree(admin, top, 0, 1, NULL, &d, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(d->n_units, 3);
  for (size_t i = 0; i < d->n_units; i++) assert_true(d->units[i]->level <= 3);
  free_msg(d);
  expect(subtree(admin, top, 0, -1, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "max_depth");
  /* A subtree token does not page through another subtree. */
  Hoso__Identity__V1__GetUnitSubtreeResponse *p1 = NULL;
  expect(subtree(admin, top, 2, 0, NULL, &p1, &st), &st, GRPC_STATUS_OK, NULL);
  expect(subtree(admin, d1, 2, 0, p1->next_page_token, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_token");
  free_msg(p1);
}

/* Names are stored as NFC (TCVN 6909:2001): a decomposed "Phòng Nội vụ" with stray blanks
 * comes back, and sits in the database, as the precomposed bytes, trimmed. */
static void test_names_stored_nfc(void **state) {
  (void)state;
  static const char nfd[] = "  Pho\xcc\x80ng  No\xcc\xa3\xcc\x82i vu\xcc\xa3 ";
  static const char nfc[] = "Ph\xc3\xb2ng N\xe1\xbb\x99i v\xe1\xbb\xa5";
  Unit *u = NULL;
  cli_status st;
  expect(create_unit_raw(admin, d1, next_code(), nfd, 4, NULL, &u, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(u->name, nfc);
  const char *params[] = {u->id};
  char *stored = sql1("SELECT name FROM identity.units WHERE id = $1::bigint", 1, params);
  assert_string_equal(stored, nfc);
  free(stored);
  free_msg(u);
}

/* A rename bumps the version and writes RENAMED with the new name while the CREATED entry keeps
 * the old one; a writer holding the old version is told to reload; a zero quota must be named
 * in update_mask to be set; a save with nothing different makes no new version. */
static void test_rename_keeps_history(void **state) {
  (void)state;
  char id[32];
  mk_unit(d1, "Phòng Nội vụ", 4, id, NULL, 0);
  Hoso__Identity__V1__UpdateUnitRequest req = HOSO__IDENTITY__V1__UPDATE_UNIT_REQUEST__INIT;
  req.unit_id = id;
  req.name = "Phòng Nội vụ và Lao động";
  req.expected_version = 1;
  req.reason = "Nghị quyết 15/NQ-HĐND";
  Hoso__Identity__V1__UpdateUnitResponse *r = NULL;
  cli_status st;
  expect(call(IDN "UpdateUnit", &req, &hoso__identity__v1__update_unit_response__descriptor, &r, admin, &st), &st,
         GRPC_STATUS_OK, NULL);
  assert_string_equal(r->unit->name, "Phòng Nội vụ và Lao động");
  assert_int_equal(r->unit->version, 2);
  assert_int_equal(r->unit->staffing_quota, 12);
  free_msg(r);

  /* Stale version: someone else's change would be overwritten. */
  req.name = "Phòng Lao động";
  expect(call(IDN "UpdateUnit", &req, &hoso__identity__v1__update_unit_response__descriptor, NULL, admin, &st), &st,
         GRPC_STATUS_ABORTED, NULL);
  assert_non_null(strstr(st.message, "version 2"));

  /* Quota to zero, named in the mask; the name field is ignored because the mask omits it. */
  char *mask[] = {"staffing_quota"};
  Hoso__Identity__V1__UpdateUnitRequest q = HOSO__IDENTITY__V1__UPDATE_UNIT_REQUEST__INIT;
  q.unit_id = id;
  q.name = "ignored";
  q.staffing_quota = 0;
  q.update_mask = mask;
  q.n_update_mask = 1;
  expect(call(IDN "UpdateUnit", &q, &hoso__identity__v1__update_unit_response__descriptor, &r, admin, &st), &st,
         GRPC_STATUS_OK, NULL);
  assert_int_equal(r->unit->staffing_quota, 0);
  assert_string_equal(r->unit->name, "Phòng Nội vụ và Lao động");
  assert_int_equal(r->unit->version, 3);
  free_msg(r);

  /* The same name again changes nothing. */
  Hoso__Identity__V1__UpdateUnitRequest same = HOSO__IDENTITY__V1__UPDATE_UNIT_REQUEST__INIT;
  same.unit_id = id;
  same.name = "Phòng Nội vụ và Lao động";
  expect(call(IDN "UpdateUnit", &same, &hoso__identity__v1__update_unit_response__descriptor, &r, admin, &st), &st,
         GRPC_STATUS_OK, NULL);
  assert_int_equal(r->unit->version, 3);
  free_msg(r);

  Hoso__Identity__V1__ListUnitHistoryResponse *h = history(id);
  assert_int_equal(h->n_entries, 3);
  assert_string_equal(h->entries[0]->action, "CREATED");
  assert_string_equal(h->entries[0]->name, "Phòng Nội vụ");
  assert_string_equal(h->entries[1]->action, "RENAMED");
  assert_string_equal(h->entries[1]->name, "Phòng Nội vụ và Lao động");
  assert_string_equal(h->entries[1]->reason, "Nghị quyết 15/NQ-HĐND");
  assert_string_equal(h->entries[1]->parent_id, d1);
  assert_string_equal(h->entries[2]->action, "UPDATED");
  assert_true(strcmp(h->entries[0]->at, h->entries[2]->at) <= 0);
  free_msg(h);

  /* Masks name known fields, and an update must change something. */
  char *bad[] = {"colour"};
  q.update_mask = bad;
  expect(call(IDN "UpdateUnit", &q, &hoso__identity__v1__update_unit_response__descriptor, NULL, admin, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "update_mask");
  Hoso__Identity__V1__UpdateUnitRequest none = HOSO__IDENTITY__V1__UPDATE_UNIT_REQUEST__INIT;
  none.unit_id = id;
  expect(call(IDN "UpdateUnit", &none, &hoso__identity__v1__update_unit_response__descriptor, NULL, admin, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "update_mask");
}

/* Moving a unit rewrites the path and level of its whole subtree and the unit_path of the
 * accounts inside it (their scope follows the unit), and leaves MOVED in its history. */
static void test_move_updates_subtree(void **state) {
  (void)state;
  char x[32], y[32], z[32], acc[32];
  mk_unit(d1, "Trung tâm Văn hóa", 5, x, NULL, 0);
  mk_unit(x, "Đội Thông tin lưu động", 7, y, NULL, 0);
  mk_unit(y, "Tổ Chiếu phim", 7, z, NULL, 0);
  mk_account("can.bo.y", "Tam-thoi-Y-2026", y, HOSO__COMMON__V1__ROLE__READER, acc);

  Unit *m = NULL;
  cli_status st;
  expect(move_unit(admin, x, d2, &m, &st), &st, GRPC_STATUS_OK, NULL);
  char want[1024];
  snprintf(want, sizeof want, "%s.%s", d2_path, x);
  assert_string_equal(m->path, want);
  assert_string_equal(m->parent_id, d2);
  assert_int_equal(m->level, 3);
  assert_int_equal(m->version, 2);
  free_msg(m);

  Unit *uy = must_get(y), *uz = must_get(z);
  snprintf(want, sizeof want, "%s.%s.%s", d2_path, x, y);
  assert_string_equal(uy->path, want);
  assert_int_equal(uy->level, 4);
  assert_string_equal(uy->parent_id, x);
  snprintf(want, sizeof want, "%s.%s.%s.%s", d2_path, x, y, z);
  assert_string_equal(uz->path, want);
  assert_int_equal(uz->level, 5);
  Hoso__Identity__V1__Account *a = get_account(acc);
  assert_string_equal(a->unit_path, uy->path);
  free_msg(a);
  free_msg(uy);
  free_msg(uz);

  /* D1's subtree no longer holds X. */
  Hoso__Identity__V1__GetUnitSubtreeResponse *s = NULL;
  expect(subtree(admin, d1, 500, 0, NULL, &s, &st), &st, GRPC_STATUS_OK, NULL);
  for (size_t i = 0; i < s->n_units; i++) assert_string_not_equal(s->units[i]->id, x);
  free_msg(s);

  Hoso__Identity__V1__ListUnitHistoryResponse *h = history(x);
  assert_int_equal(h->n_entries, 2);
  assert_string_equal(h->entries[1]->action, "MOVED");
  assert_string_equal(h->entries[1]->parent_id, d2);
  assert_string_equal(h->entries[1]->related_unit_id, d1);
  assert_string_equal(h->entries[1]->reason, "Quyết định 77/QĐ-UBND");
  free_msg(h);

  /* Moving to where it already is changes nothing. */
  expect(move_unit(admin, x, d2, &m, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(m->version, 2);
  free_msg(m);
}

/* A unit cannot go under itself or its own descendants (the tree would become a cycle), the
 * root cannot move, and the new parent must exist. */
static void test_move_refusals(void **state) {
  (void)state;
  char x[32], y[32], z[32];
  mk_unit(d1, "Ban Quản lý dự án", 5, x, NULL, 0);
  mk_unit(x, "Phòng Kỹ thuật", 7, y, NULL, 0);
  mk_unit(y, "Tổ Giám sát", 7, z, NULL, 0);
  cli_status st;
  expect(move_unit(admin, x, z, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "new_parent_id");
  expect(move_unit(admin, x, y, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "new_parent_id");
  expect(move_unit(admin, x, x, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "new_parent_id");
  expect(move_unit(admin, root_id, d1, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_id");
  expect(move_unit(admin, x, "987654321", NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "new_parent_id");
  /* Nothing moved. */
  Unit *u = must_get(z);
  char want[1024];
  snprintf(want, sizeof want, "%s.%s.%s.%s", d1_path, x, y, z);
  assert_string_equal(u->path, want);
  free_msg(u);
}

/* MergeUnits A into B: A's child moves under B, A's account is revoked and its session ended
 * (accounts of a dissolved unit are revoked), A stays dissolved with merged_into_id and
 * its name in history, B records ABSORBED; a repeated request_id returns the first result and
 * changes nothing, and a dissolved unit refuses further changes. */
static void test_merge(void **state) {
  (void)state;
  char a[32], b[32], a1[32], acc[32], a_path[256], b_path[256];
  mk_unit(d1, "Phòng Văn hóa", 4, a, a_path, sizeof a_path);
  mk_unit(d1, "Phòng Văn hóa và Thông tin", 4, b, b_path, sizeof b_path);
  mk_unit(a, "Thư viện huyện", 5, a1, NULL, 0);
  mk_account("nhan.vien.a", "Tam-thoi-A-2026", a, HOSO__COMMON__V1__ROLE__UPDATER, acc);
  char *access = NULL, *refresh = NULL;
  first_login("nhan.vien.a", "Tam-thoi-A-2026", "Mat-khau-moi-A-99", &access, &refresh);

  const char *reason = "Quyết định 345/QĐ-UBND ngày 01/7/2025";
  Hoso__Identity__V1__MergeUnitsResponse *r = NULL;
  cli_status st;
  expect(merge_units(a, b, reason, "merge-van-hoa-1", &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->moved_children, 1);
  assert_int_equal(r->revoked_accounts, 1);
  assert_string_equal(r->source->id, a);
  assert_int_equal(r->source->status, HOSO__IDENTITY__V1__UNIT_STATUS__UNIT_STATUS_DISSOLVED);
  assert_string_equal(r->source->merged_into_id, b);
  assert_string_equal(r->source->name, "Phòng Văn hóa");
  assert_string_equal(r->target->id, b);
  assert_int_equal(r->target->child_count, 1);
  free_msg(r);

  Unit *moved = must_get(a1);
  char want[1024];
  snprintf(want, sizeof want, "%s.%s", b_path, a1);
  assert_string_equal(moved->path, want);
  assert_string_equal(moved->parent_id, b);
  free_msg(moved);

  Hoso__Identity__V1__Account *acct = get_account(acc);
  assert_int_equal(acct->status, HOSO__IDENTITY__V1__ACCOUNT_STATUS__ACCOUNT_STATUS_REVOKED);
  assert_non_null(strstr(acct->status_reason, "Phòng Văn hóa và Thông tin"));
  assert_non_null(strstr(acct->status_reason, reason));
  free_msg(acct);
  /* The revoked account can no longer log in, and its refresh token is dead. */
  Hoso__Identity__V1__LoginRequest lr = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  lr.username = "nhan.vien.a";
  lr.password = "Mat-khau-moi-A-99";
  expect(call(IDN "Login", &lr, &hoso__identity__v1__login_response__descriptor, NULL, NULL, &st), &st,
         GRPC_STATUS_UNAUTHENTICATED, NULL);
  Hoso__Identity__V1__RefreshRequest rr = HOSO__IDENTITY__V1__REFRESH_REQUEST__INIT;
  rr.refresh_token = refresh;
  expect(call(IDN "Refresh", &rr, &hoso__identity__v1__refresh_response__descriptor, NULL, NULL, &st), &st,
         GRPC_STATUS_UNAUTHENTICATED, NULL);
  free(access);
  free(refresh);

  /* History keeps A's name; B says what it absorbed. */
  Hoso__Identity__V1__ListUnitHistoryResponse *h = history(a);
  assert_string_equal(h->entries[h->n_entries - 1]->action, "MERGED_INTO");
  assert_string_equal(h->entries[h->n_entries - 1]->name, "Phòng Văn hóa");
  assert_string_equal(h->entries[h->n_entries - 1]->related_unit_id, b);
  assert_string_equal(h->entries[h->n_entries - 1]->reason, reason);
  free_msg(h);
  h = history(b);
  assert_int_equal(h->n_entries, 2);
  assert_string_equal(h->entries[1]->action, "ABSORBED");
  assert_string_equal(h->entries[1]->related_unit_id, a);
  free_msg(h);

  /* Dissolved units leave the default listing but stay on file. */
  int plain = 0, with = 0;
  Hoso__Identity__V1__ListChildUnitsResponse *l = NULL;
  expect(list_children(admin, d1, 500, NULL, 0, &l, &st), &st, GRPC_STATUS_OK, NULL);
  for (size_t i = 0; i < l->n_units; i++) plain += strcmp(l->units[i]->id, a) == 0;
  free_msg(l);
  expect(list_children(admin, d1, 500, NULL, 1, &l, &st), &st, GRPC_STATUS_OK, NULL);
  for (size_t i = 0; i < l->n_units; i++) with += strcmp(l->units[i]->id, a) == 0;
  free_msg(l);
  assert_int_equal(plain, 0);
  assert_int_equal(with, 1);

  /* The same request again: the first answer, and no second ABSORBED entry. */
  expect(merge_units(a, b, reason, "merge-van-hoa-1", &r, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(r->moved_children, 1);
  assert_int_equal(r->revoked_accounts, 1);
  assert_string_equal(r->source->merged_into_id, b);
  free_msg(r);
  h = history(b);
  assert_int_equal(h->n_entries, 2);
  free_msg(h);

  /* Without the request_id it is a new merge of a dissolved unit. */
  expect(merge_units(a, b, reason, NULL, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, "source_unit_id");
  Hoso__Identity__V1__UpdateUnitRequest up = HOSO__IDENTITY__V1__UPDATE_UNIT_REQUEST__INIT;
  up.unit_id = a;
  up.name = "Phòng Văn hóa mới";
  expect(call(IDN "UpdateUnit", &up, &hoso__identity__v1__update_unit_response__descriptor, NULL, admin, &st), &st,
         GRPC_STATUS_FAILED_PRECONDITION, "unit_id");
  expect(create_unit_raw(admin, a, next_code(), "Tổ mới", 7, NULL, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION,
         "parent_id");
  expect(move_unit(admin, d1_commune, a, NULL, &st), &st, GRPC_STATUS_FAILED_PRECONDITION, "new_parent_id");
}

/* Merge refusals: the decision is required, a unit cannot merge into itself or into its own
 * subtree (that unit would be dissolved with it), and the root cannot be merged away. */
static void test_merge_refusals(void **state) {
  (void)state;
  char a[32], a1[32], b[32];
  mk_unit(d2, "Phòng Y tế", 4, a, NULL, 0);
  mk_unit(a, "Trạm Y tế", 5, a1, NULL, 0);
  mk_unit(d2, "Phòng Y tế - Dân số", 4, b, NULL, 0);
  cli_status st;
  expect(merge_units(a, b, "   ", NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "reason");
  expect(merge_units(a, a, "QĐ 1", NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "target_unit_id");
  expect(merge_units(a, a1, "QĐ 1", NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "target_unit_id");
  expect(merge_units(root_id, b, "QĐ 1", NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "source_unit_id");
  expect(merge_units(a, "876543210", "QĐ 1", NULL, NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "target_unit_id");
  Unit *u = must_get(a);
  assert_int_equal(u->status, HOSO__IDENTITY__V1__UNIT_STATUS__UNIT_STATUS_ACTIVE);
  free_msg(u);
}

/* A UNIT_ADMIN of district 1 sees its own subtree and nothing beside or above it (001 Đ6:
 * never a sibling's or a parent's), and cannot manage units at all (SYSTEM_ADMIN only). */
static void test_unit_admin_scope(void **state) {
  (void)state;
  char acc[32];
  mk_account("thu.truong.d1", "Tam-thoi-D1-2026", d1, HOSO__COMMON__V1__ROLE__UNIT_ADMIN, acc);
  char *tok = NULL;
  first_login("thu.truong.d1", "Tam-thoi-D1-2026", "Mat-khau-moi-D1-77", &tok, NULL);
  cli_status st;

  expect(get_unit(tok, d2, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  expect(get_unit(tok, d2_commune, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  expect(list_children(tok, d2, 0, NULL, 0, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  expect(get_unit(tok, root_id, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  expect(subtree(tok, root_id, 0, 0, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  Hoso__Identity__V1__ListUnitHistoryRequest hr = HOSO__IDENTITY__V1__LIST_UNIT_HISTORY_REQUEST__INIT;
  hr.unit_id = d2;
  expect(call(IDN "ListUnitHistory", &hr, &hoso__identity__v1__list_unit_history_response__descriptor, NULL, tok, &st),
         &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  /* An id that does not exist at all is NOT_FOUND, for this caller too. */
  expect(get_unit(tok, "999999999", NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "unit_id");

  Unit *own = NULL;
  expect(get_unit(tok, d1, &own, &st), &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(own->path, d1_path);
  free_msg(own);
  expect(get_unit(tok, d1_commune, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  Hoso__Identity__V1__ListChildUnitsResponse *l = NULL;
  expect(list_children(tok, d1, 0, NULL, 0, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_true(l->n_units >= 2);
  free_msg(l);
  Hoso__Identity__V1__GetUnitSubtreeResponse *s = NULL;
  expect(subtree(tok, d1, 500, 0, NULL, &s, &st), &st, GRPC_STATUS_OK, NULL);
  assert_true(s->n_units >= 3);
  size_t dn = strlen(d1_path);
  for (size_t i = 0; i < s->n_units; i++)
    assert_true(strncmp(s->units[i]->path, d1_path, dn) == 0 &&
                (s->units[i]->path[dn] == '\0' || s->units[i]->path[dn] == '.'));
  free_msg(s);

  /* Managing units is the system administrator's job, even inside one's own subtree. */
  expect(create_unit_raw(tok, d1, next_code(), "Phòng mới", 4, NULL, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED,
         NULL);
  Hoso__Identity__V1__UpdateUnitRequest up = HOSO__IDENTITY__V1__UPDATE_UNIT_REQUEST__INIT;
  up.unit_id = d1_commune;
  up.name = "Xã Phong Niên mới";
  expect(call(IDN "UpdateUnit", &up, &hoso__identity__v1__update_unit_response__descriptor, NULL, tok, &st), &st,
         GRPC_STATUS_PERMISSION_DENIED, NULL);
  expect(move_unit(tok, d1_commune, d1, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  /* Without a token nothing is served. */
  expect(get_unit(NULL, d1, NULL, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
  free(tok);
}

/* Bad input is refused before anything is written, with the field named; the service stays up. */
static void test_bad_input(void **state) {
  (void)state;
  cli_status st;
  expect(create_unit_raw(admin, d1, next_code(), "", 4, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "name");
  expect(create_unit_raw(admin, d1, next_code(), " \t ", 4, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "name");
  expect(create_unit_raw(admin, d1, next_code(), "Ph\xC3\x28ng", 4, NULL, NULL, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "name");
  /* The limit counts characters: 255 two-byte letters pass, 300 do not. */
  char name[1024];
  size_t n = 0;
  for (int i = 0; i < 255; i++) {
    name[n++] = '\xc4';
    name[n++] = '\x90'; /* Đ */
  }
  name[n] = '\0';
  expect(create_unit_raw(admin, d1, next_code(), name, 4, NULL, NULL, &st), &st, GRPC_STATUS_OK, NULL);
  memset(name, 'a', 300);
  name[300] = '\0';
  expect(create_unit_raw(admin, d1, next_code(), name, 4, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "name");
  expect(create_unit_raw(admin, d1, "", "Phòng A", 4, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "code");
  expect(create_unit_raw(admin, d1, "mã có dấu", "Phòng A", 4, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "code");
  expect(create_unit_raw(admin, d1, next_code(), "Phòng A", 0, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "type");
  expect(create_unit_raw(admin, d1, next_code(), "Phòng A", 99, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "type");
  expect(create_unit_raw(admin, "", next_code(), "Phòng A", 4, NULL, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "parent_id");
  expect(create_unit_raw(admin, "12ab", next_code(), "Phòng A", 4, NULL, NULL, &st), &st,
         GRPC_STATUS_INVALID_ARGUMENT, "parent_id");
  expect(create_unit_raw(admin, "999999999", next_code(), "Phòng A", 4, NULL, NULL, &st), &st, GRPC_STATUS_NOT_FOUND,
         "parent_id");
  expect(get_unit(admin, "999999999", NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "unit_id");
  expect(get_unit(admin, "abc", NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_id");
  expect(get_unit(admin, "", NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_id");

  /* The code is unique across the deployment, dissolved units included. */
  expect(create_unit_raw(admin, d2, "000.00.31.H01", "Huyện trùng mã", 3, NULL, NULL, &st), &st,
         GRPC_STATUS_ALREADY_EXISTS, "code");
  char x[32];
  mk_unit(d2, "Phòng Tài chính", 4, x, NULL, 0);
  Hoso__Identity__V1__UpdateUnitRequest up = HOSO__IDENTITY__V1__UPDATE_UNIT_REQUEST__INIT;
  up.unit_id = x;
  up.code = "000.00.31.H01";
  expect(call(IDN "UpdateUnit", &up, &hoso__identity__v1__update_unit_response__descriptor, NULL, admin, &st), &st,
         GRPC_STATUS_ALREADY_EXISTS, "code");
  assert_true(cli_health(ch, 5000));
}

/* A retried CreateUnit with the same request_id returns the unit the first call made, even if
 * the retry's body differs, and creates nothing more. */
static void test_request_id_idempotent(void **state) {
  (void)state;
  char parent[32];
  mk_unit(d2, "Phòng Tư pháp", 4, parent, NULL, 0);
  Unit *u1 = NULL, *u2 = NULL;
  cli_status st;
  const char *code = next_code();
  char code1[32];
  snprintf(code1, sizeof code1, "%s", code);
  expect(create_unit_raw(admin, parent, code1, "Tổ Hòa giải", 7, "tao-to-hoa-giai-1", &u1, &st), &st,
         GRPC_STATUS_OK, NULL);
  expect(create_unit_raw(admin, parent, next_code(), "Tổ khác", 7, "tao-to-hoa-giai-1", &u2, &st), &st,
         GRPC_STATUS_OK, NULL);
  assert_string_equal(u1->id, u2->id);
  assert_string_equal(u2->name, "Tổ Hòa giải");
  assert_string_equal(u2->code, code1);
  Hoso__Identity__V1__ListChildUnitsResponse *l = NULL;
  expect(list_children(admin, parent, 0, NULL, 1, &l, &st), &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(l->n_units, 1);
  free_msg(l);
  free_msg(u1);
  free_msg(u2);
}

/* Every unit change left its audit row (in the change's own transaction), with the reason in
 * the JSON detail, and the hash chain over all of them is intact. */
static void test_audit_rows(void **state) {
  (void)state;
  static const char *actions[] = {"UNIT_CREATE", "UNIT_UPDATE", "UNIT_MOVE", "UNIT_MERGE", "ACCOUNT_REVOKE"};
  for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
    const char *p[] = {actions[i]};
    char *n = sql1("SELECT count(*) FROM identity.audit_log WHERE action = $1 AND target_type <> ''", 1, p);
    if (atoi(n) < 1) fail_msg("no %s audit row", actions[i]);
    free(n);
  }
  char *reason = sql1("SELECT detail::json->>'reason' FROM identity.audit_log WHERE action = 'UNIT_MERGE'", 0, NULL);
  assert_string_equal(reason, "Quyết định 345/QĐ-UBND ngày 01/7/2025");
  free(reason);
  char *moved = sql1("SELECT json_array_length(detail::json->'moved_children') FROM identity.audit_log "
                     "WHERE action = 'UNIT_MERGE'",
                     0, NULL);
  assert_string_equal(moved, "1");
  free(moved);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "HOSO_PG_DSN='%s' %s/hoso-audit-verify --schema identity >/dev/null", pg.dsn,
           HOSO_BIN_DIR);
  assert_int_equal(system(cmd), 0);
}

/* ---------------------------------------------------------- concurrency ----------------- */

/* Nothing of cmocka runs in these threads: they only count, the test asserts afterwards. */
typedef struct {
  const char *unit, *to[2];
  pthread_barrier_t *go;
  int rounds, ok, refused, other;
} mover_arg;

static void *mover(void *p) {
  mover_arg *m = p;
  pthread_barrier_wait(m->go);
  for (int i = 0; i < m->rounds; i++) {
    cli_status st;
    grpc_status_code c = move_unit(admin, m->unit, m->to[i % 2], NULL, &st);
    if (c == GRPC_STATUS_OK) m->ok++;
    else if (c == GRPC_STATUS_INVALID_ARGUMENT) m->refused++;
    else m->other++;
  }
  return NULL;
}

typedef struct {
  const char *parent;
  int thread, rounds, units, failed;
  pthread_barrier_t *go;
} maker_arg;

static void *maker(void *p) {
  maker_arg *m = p;
  pthread_barrier_wait(m->go);
  for (int i = 0; i < m->rounds; i++) {
    char code[32];
    cli_status st;
    snprintf(code, sizeof code, "C.%d.%d", m->thread, i);
    if (create_unit_raw(admin, m->parent, code, "Tổ công tác", 7, NULL, NULL, &st) == GRPC_STATUS_OK) m->units++;
    else m->failed++;
  }
  return NULL;
}

/* Rows whose path disagrees with their parent's (or an account's with its unit's): after any
 * interleaving of moves and creations this must be none. */
static void assert_tree_consistent(void) {
  char *bad = sql1("SELECT count(*) FROM identity.units c JOIN identity.units p ON p.id = c.parent_id "
                   "WHERE c.path <> p.path || c.id::text OR c.level <> nlevel(c.path)",
                   0, NULL);
  assert_string_equal(bad, "0");
  free(bad);
  bad = sql1("SELECT count(*) FROM identity.accounts a JOIN identity.units u ON u.id = a.unit_id "
             "WHERE a.unit_path <> u.path",
             0, NULL);
  assert_string_equal(bad, "0");
  free(bad);
}

/* Moves and creations racing each other leave a consistent tree. First two units each moved
 * below the other, over and over: overlapping moves are serialized (the exclusive tree lock;
 * PostgreSQL's row locks on the rewritten paths would also catch this shape), so the later one
 * sees the earlier and is refused instead of making a cycle. Then a unit moving back and forth
 * while units are created below it: a creation that read the parent's path just before a move
 * rewrote it would keep the stale path, unless creators (shared) and movers (exclusive) exclude
 * each other through the tree lock — without it this check fails in most runs. */
static void test_concurrent_moves_keep_tree_consistent(void **state) {
  (void)state;
  pthread_barrier_t go;
  /* P goes under Q's child and back while Q goes under P's child and back: whenever both
   * "under" moves overlap, the later one must see the earlier and be refused, else P and Q
   * would each lie below the other. */
  char p[32], p1[32], q[32], q1[32];
  mk_unit(d2, "Đơn vị P", 4, p, NULL, 0);
  mk_unit(p, "Tổ P1", 7, p1, NULL, 0);
  mk_unit(d2, "Đơn vị Q", 4, q, NULL, 0);
  mk_unit(q, "Tổ Q1", 7, q1, NULL, 0);
  pthread_barrier_init(&go, NULL, 2);
  mover_arg a = {.unit = p, .to = {q1, d2}, .go = &go, .rounds = 60};
  mover_arg b = {.unit = q, .to = {p1, d2}, .go = &go, .rounds = 60};
  pthread_t ta, tb;
  assert_int_equal(pthread_create(&ta, NULL, mover, &a), 0);
  assert_int_equal(pthread_create(&tb, NULL, mover, &b), 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  pthread_barrier_destroy(&go);
  assert_true(a.ok > 0 && b.ok > 0);
  assert_int_equal(a.other + b.other, 0);
  assert_tree_consistent();

  char x[32], y[32], acc[32];
  mk_unit(d1, "Trung tâm Dịch vụ", 5, x, NULL, 0);
  mk_unit(x, "Phòng Hành chính", 7, y, NULL, 0);
  mk_account("can.bo.hanh.chinh", "Tam-thoi-HC-2026", y, HOSO__COMMON__V1__ROLE__READER, acc);
  pthread_barrier_init(&go, NULL, 3);
  mover_arg m = {.unit = x, .to = {d2, d1}, .go = &go, .rounds = 30};
  maker_arg k1 = {.parent = y, .thread = 1, .rounds = 40, .go = &go};
  maker_arg k2 = {.parent = y, .thread = 2, .rounds = 40, .go = &go};
  pthread_t tm, t1, t2;
  assert_int_equal(pthread_create(&tm, NULL, mover, &m), 0);
  assert_int_equal(pthread_create(&t1, NULL, maker, &k1), 0);
  assert_int_equal(pthread_create(&t2, NULL, maker, &k2), 0);
  pthread_join(tm, NULL);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  pthread_barrier_destroy(&go);
  assert_int_equal(m.ok, 30);
  assert_int_equal(m.other + m.refused, 0);
  assert_int_equal(k1.units + k2.units, 80);
  assert_int_equal(k1.failed + k2.failed, 0);
  assert_tree_consistent();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      /* test_create_and_get builds the fixture tree the others use, so it runs first. */
      cmocka_unit_test(test_create_and_get),
      cmocka_unit_test(test_list_children_pages),
      cmocka_unit_test(test_subtree_pages_and_depth),
      cmocka_unit_test(test_names_stored_nfc),
      cmocka_unit_test(test_rename_keeps_history),
      cmocka_unit_test(test_move_updates_subtree),
      cmocka_unit_test(test_move_refusals),
      cmocka_unit_test(test_merge),
      cmocka_unit_test(test_merge_refusals),
      cmocka_unit_test(test_unit_admin_scope),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_request_id_idempotent),
      cmocka_unit_test(test_concurrent_moves_keep_tree_consistent),
      cmocka_unit_test(test_audit_rows),
  };
  return cmocka_run_group_tests_name("identity_units", tests, setup, teardown);
}
