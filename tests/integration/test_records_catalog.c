/* The catalogues of the records service over real gRPC and PostgreSQL: the seeded values
 * (54 ethnicities, NĐ 204/2004 salary tables), diacritics-insensitive prefixes, keyset pages,
 * who may list and who may change, versions, audit, and catalog_check's per-process cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include "records.pb-c.h"
#include "srv_int.h"
#include "th_world.h"

/* catalog_check lives in the records binary, which is not a library: the cache tests below
 * are built with records/catalog.c and its store (tests/CMakeLists.txt), so this process is a
 * second records process sharing the database. */
#include "catalog.h"
#include "records.h"

#define REC "/hoso.records.v1.Records/"

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef Hoso__Records__V1__CatalogEntry Entry;
typedef Hoso__Records__V1__ListCatalogResponse ListResp;

static th_world w;

/* ------------------------------------------------------------ helpers ------------------- */

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

/* The status and the field the message names: every refusal must say which field. */
static void expect(grpc_status_code got, const cli_status *st, grpc_status_code want, const char *field) {
  if (got != want) fail_msg("expected %s, got %s: %s", cli_status_name(want), cli_status_name(got), st->message);
  if (field) {
    size_t n = strlen(field);
    if (strncmp(st->message, field, n) != 0 || st->message[n] != ':')
      fail_msg("message \"%s\" does not start with \"%s:\"", st->message, field);
  }
}

static grpc_status_code list(const char *tok, const char *catalog, const char *prefix, int size,
                             const char *page_token, int include_inactive, ListResp **out, cli_status *st) {
  Hoso__Records__V1__ListCatalogRequest req = HOSO__RECORDS__V1__LIST_CATALOG_REQUEST__INIT;
  req.catalog = (char *)catalog;
  req.prefix = (char *)(prefix ? prefix : "");
  req.page_size = size;
  req.page_token = (char *)(page_token ? page_token : "");
  req.include_inactive = include_inactive;
  return th_call(w.rec_ch, REC "ListCatalog", &req, &hoso__records__v1__list_catalog_response__descriptor,
                 (void **)out, tok, st);
}

static ListResp *must_list(const char *catalog, const char *prefix, int include_inactive) {
  ListResp *r = NULL;
  cli_status st;
  grpc_status_code c = list(w.tok_d1_reader, catalog, prefix, 500, NULL, include_inactive, &r, &st);
  if (c != GRPC_STATUS_OK) fail_msg("ListCatalog %s \"%s\": %s %s", catalog, prefix, cli_status_name(c), st.message);
  return r;
}

static const Entry *find(const ListResp *r, const char *code) {
  for (size_t i = 0; i < r->n_entries; i++)
    if (strcmp(r->entries[i]->code, code) == 0) return r->entries[i];
  return NULL;
}

static grpc_status_code upsert(const char *tok, const Entry *e, long long expected, Entry **out, cli_status *st) {
  Hoso__Records__V1__UpsertCatalogEntryRequest req = HOSO__RECORDS__V1__UPSERT_CATALOG_ENTRY_REQUEST__INIT;
  req.entry = (Entry *)e;
  req.expected_version = expected;
  Hoso__Records__V1__UpsertCatalogEntryResponse *r = NULL;
  grpc_status_code c = th_call(w.rec_ch, REC "UpsertCatalogEntry", &req,
                               &hoso__records__v1__upsert_catalog_entry_response__descriptor, (void **)&r, tok, st);
  if (out) {
    *out = r ? r->entry : NULL;
    if (r) r->entry = NULL;
  }
  free_msg(r);
  return c;
}

static Entry entry(const char *catalog, const char *code, const char *name) {
  Entry e = HOSO__RECORDS__V1__CATALOG_ENTRY__INIT;
  e.catalog = (char *)catalog;
  e.code = (char *)code;
  e.name = (char *)name;
  e.active = 1;
  return e;
}

static Entry *must_upsert(const Entry *e, long long expected) {
  Entry *out = NULL;
  cli_status st;
  grpc_status_code c = upsert(w.tok_admin, e, expected, &out, &st);
  if (c != GRPC_STATUS_OK) fail_msg("UpsertCatalogEntry %s/%s: %s %s", e->catalog, e->code, cli_status_name(c), st.message);
  return out;
}

/* One value from the database, as the superuser (inspection only). malloc'd. */
static char *sql1(const char *sql, const char *p1) {
  PGconn *c = PQconnectdb(w.pg.admin_dsn);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  const char *p[1] = {p1};
  PGresult *r = PQexecParams(c, sql, p1 ? 1 : 0, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(c));
  char *v = strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  PQfinish(c);
  return v;
}

/* ------------------------------------------------------------ seeded values ------------- */

/* The GSO list has exactly 54 groups coded 01..54 with Kinh first; a seed that lost, doubled
 * or renumbered one would break this walk. */
static void test_ethnicities_seeded(void **s) {
  (void)s;
  ListResp *r = must_list("ETHNICITY", "", 0);
  assert_int_equal(r->n_entries, 54);
  assert_string_equal(r->entries[0]->code, "01");
  assert_string_equal(r->entries[0]->name, "Kinh");
  for (size_t i = 0; i < r->n_entries; i++) {
    char code[24];
    snprintf(code, sizeof code, "%02zu", i + 1);
    assert_string_equal(r->entries[i]->code, code);
    assert_true(r->entries[i]->active);
    assert_int_equal(r->entries[i]->version, 1);
  }
  assert_string_equal(find(r, "02")->name, "Tày");
  assert_string_equal(find(r, "54")->name, "Rơ-măm");
  assert_true(r->catalog_version > 0);
  assert_string_equal(r->next_page_token, "");
  free_msg(r);
}

/* NĐ 204/2004 Bảng 2: chuyên viên (A1) starts at 2.34 and has 9 steps 3 years apart; nhân viên
 * (B) has 12 steps 2 years apart; every table rises step by step. */
static void test_rank_salary_tables(void **s) {
  (void)s;
  ListResp *r = must_list("RANK", "", 0);
  const Entry *cv = find(r, "01.003");
  assert_non_null(cv);
  assert_string_equal(cv->name, "Chuyên viên");
  assert_string_equal(cv->rank_group, "A1");
  assert_int_equal(cv->n_step_coefficients, 9);
  assert_string_equal(cv->step_coefficients[0], "2.34");
  assert_string_equal(cv->step_coefficients[8], "4.98");
  assert_int_equal(cv->step_years, 3);
  const Entry *cvcc = find(r, "01.001");
  assert_int_equal(cvcc->n_step_coefficients, 6);
  assert_string_equal(cvcc->step_coefficients[5], "8.00");
  const Entry *nv = find(r, "01.005");
  assert_string_equal(nv->rank_group, "B");
  assert_int_equal(nv->n_step_coefficients, 12);
  assert_string_equal(nv->step_coefficients[0], "1.86");
  assert_int_equal(nv->step_years, 2);
  for (size_t i = 0; i < r->n_entries; i++) {
    const Entry *e = r->entries[i];
    assert_true(e->n_step_coefficients > 0);
    for (size_t k = 1; k < e->n_step_coefficients; k++)
      if (atof(e->step_coefficients[k]) <= atof(e->step_coefficients[k - 1]))
        fail_msg("%s step %zu does not rise", e->code, k + 1);
  }
  free_msg(r);
}

/* ------------------------------------------------------------ prefix search ------------- */

/* Folding removes diacritics and case on both sides, so "tay", "TÀY" and "Tày" name the same
 * group; a word inside the name counts too ("giam doc" in "Phó Giám đốc Sở"); codes match by
 * their start ("01.00" is the five general ranks). */
static void test_prefix_diacritics(void **s) {
  (void)s;
  const char *tay[] = {"tay", "TÀY", "Tày", "  tày "};
  for (size_t i = 0; i < sizeof tay / sizeof tay[0]; i++) {
    ListResp *r = must_list("ETHNICITY", tay[i], 0);
    if (!find(r, "02")) fail_msg("prefix \"%s\" did not find Tày", tay[i]);
    for (size_t k = 0; k < r->n_entries; k++) assert_string_not_equal(r->entries[k]->code, "01");
    free_msg(r);
  }
  ListResp *r = must_list("ETHNICITY", "kinh", 0);
  assert_int_equal(r->n_entries, 1);
  assert_string_equal(r->entries[0]->name, "Kinh");
  free_msg(r);
  r = must_list("ETHNICITY", "e de", 0); /* Ê-đê: đ folds to d, the hyphen splits words */
  assert_non_null(find(r, "12"));
  free_msg(r);
  r = must_list("POSITION", "giam doc", 0);
  assert_non_null(find(r, "GD_SO"));
  assert_non_null(find(r, "PGD_SO"));
  assert_null(find(r, "TRUONG_PHONG"));
  free_msg(r);
  r = must_list("RANK", "01.00", 0);
  assert_int_equal(r->n_entries, 5);
  free_msg(r);
  r = must_list("ETHNICITY", "zzz", 0);
  assert_int_equal(r->n_entries, 0);
  free_msg(r);
}

/* ------------------------------------------------------------ pagination ---------------- */

/* Pages of 7 over 54 entries: every code once, in order, the last page without a token. */
static void test_pages_walk_every_entry_once(void **s) {
  (void)s;
  char *token = strdup("");
  int seen = 0, pages = 0;
  for (;;) {
    ListResp *r = NULL;
    cli_status st;
    expect(list(w.tok_d2_reader, "ETHNICITY", "", 7, token, 0, &r, &st), &st, GRPC_STATUS_OK, NULL);
    for (size_t i = 0; i < r->n_entries; i++) {
      char code[24];
      snprintf(code, sizeof code, "%02d", ++seen);
      assert_string_equal(r->entries[i]->code, code);
    }
    pages++;
    free(token);
    token = strdup(r->next_page_token);
    free_msg(r);
    if (!*token) break;
  }
  free(token);
  assert_int_equal(seen, 54);
  assert_int_equal(pages, 8);

  /* A token belongs to its list: replayed against another catalogue it is refused. */
  ListResp *r = NULL;
  cli_status st;
  expect(list(w.tok_d2_reader, "ETHNICITY", "", 7, NULL, 0, &r, &st), &st, GRPC_STATUS_OK, NULL);
  char *t = strdup(r->next_page_token);
  free_msg(r);
  expect(list(w.tok_d2_reader, "RELIGION", "", 7, t, 0, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_token");
  free(t);
  expect(list(w.tok_d2_reader, "ETHNICITY", "", 7, "not-a-token", 0, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT,
         "page_token");
  expect(list(w.tok_d2_reader, "ETHNICITY", "", 501, NULL, 0, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_size");
  expect(list(w.tok_d2_reader, "DAN_TOC", "", 0, NULL, 0, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "catalog");
  expect(list(w.tok_d2_reader, "", "", 0, NULL, 0, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "catalog");
  expect(list(NULL, "ETHNICITY", "", 0, NULL, 0, NULL, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
}

/* ------------------------------------------------------------ who may change ------------ */

/* Every role reads the lists to fill forms; only SYSTEM_ADMIN (RIGHT_ADMIN) changes them. */
static void test_roles(void **s) {
  (void)s;
  const char *readers[] = {w.tok_d1_reader, w.tok_d1_updater, w.tok_d2_admin, w.tok_transfers};
  Entry e = entry("RELIGION", "T.ROLES", "Tôn giáo thử quyền");
  cli_status st;
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
    ListResp *r = NULL;
    expect(list(readers[i], "RELIGION", "", 0, NULL, 0, &r, &st), &st, GRPC_STATUS_OK, NULL);
    assert_non_null(find(r, "01"));
    free_msg(r);
    expect(upsert(readers[i], &e, 0, NULL, &st), &st, GRPC_STATUS_PERMISSION_DENIED, NULL);
  }
  char *n = sql1("SELECT count(*) FROM records.catalog_entries WHERE code = $1", "T.ROLES");
  assert_string_equal(n, "0");
  free(n);
  expect(upsert(NULL, &e, 0, NULL, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
}

/* ------------------------------------------------------------ versions ------------------ */

/* expected_version 0 creates, a second create is ALREADY_EXISTS, a stale version ABORTED, the
 * current one makes version 2; each change leaves a version row and an audit row, an unchanged
 * save leaves neither. */
static void test_create_update_versions(void **s) {
  (void)s;
  Entry e = entry("MAJOR", "T.SU_HOC", "Sử học");
  Entry *v1 = must_upsert(&e, 0);
  assert_int_equal(v1->version, 1);
  assert_true(v1->active);
  assert_string_equal(v1->name, "Sử học");
  assert_true(strlen(v1->updated_at) == 20);
  free_msg(v1);

  cli_status st;
  expect(upsert(w.tok_admin, &e, 0, NULL, &st), &st, GRPC_STATUS_ALREADY_EXISTS, "entry.code");
  e.name = "Lịch sử";
  expect(upsert(w.tok_admin, &e, 7, NULL, &st), &st, GRPC_STATUS_ABORTED, NULL);
  Entry *v2 = must_upsert(&e, 1);
  assert_int_equal(v2->version, 2);
  assert_string_equal(v2->name, "Lịch sử");
  free_msg(v2);
  expect(upsert(w.tok_admin, &e, 1, NULL, &st), &st, GRPC_STATUS_ABORTED, NULL); /* now stale */
  Entry *same = must_upsert(&e, 2);
  assert_int_equal(same->version, 2);
  free_msg(same);

  Entry ghost = entry("MAJOR", "T.KHONG_CO", "Không có");
  expect(upsert(w.tok_admin, &ghost, 3, NULL, &st), &st, GRPC_STATUS_NOT_FOUND, "entry.code");

  char *n = sql1("SELECT count(*) FROM records.catalog_entry_versions WHERE catalog = 'MAJOR' AND code = $1",
                 "T.SU_HOC");
  assert_string_equal(n, "2");
  free(n);
  n = sql1("SELECT name FROM records.catalog_entry_versions WHERE catalog = 'MAJOR' AND code = $1 AND version = 1",
           "T.SU_HOC");
  assert_string_equal(n, "Sử học");
  free(n);
  n = sql1("SELECT count(*) FROM records.audit_log WHERE action = 'CATALOG_UPSERT' AND target_id = $1",
           "MAJOR/T.SU_HOC");
  assert_string_equal(n, "2");
  free(n);
  /* seq orders rows within one of the audit chains only, so the update row is found by content. */
  n = sql1("SELECT detail::json->'changes'->'name'->>'from' FROM records.audit_log "
           "WHERE action = 'CATALOG_UPSERT' AND target_id = $1 AND detail::json->>'op' = 'update'",
           "MAJOR/T.SU_HOC");
  assert_string_equal(n, "Sử học");
  free(n);
  n = sql1("SELECT actor_name FROM records.audit_log WHERE action = 'CATALOG_UPSERT' AND target_id = $1 LIMIT 1",
           "MAJOR/T.SU_HOC");
  assert_string_equal(n, "admin");
  free(n);

  /* The catalogue's version moved with each change, so other processes reload it. */
  ListResp *r = must_list("MAJOR", "", 0);
  long long before = r->catalog_version;
  free_msg(r);
  e.sort_order = 99;
  free_msg(must_upsert(&e, 2));
  r = must_list("MAJOR", "", 0);
  assert_true(r->catalog_version > before);
  assert_string_equal(r->entries[r->n_entries - 1]->code, "T.SU_HOC"); /* sort_order 99: last */
  free_msg(r);
}

/* Entries are never deleted, not even by the service's own database role. */
static void test_never_deleted(void **s) {
  (void)s;
  PGconn *c = PQconnectdb(w.pg.dsn);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, "DELETE FROM records.catalog_entries WHERE catalog = 'ETHNICITY' AND code = '54'");
  assert_int_not_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
  PQclear(r);
  r = PQexec(c, "UPDATE records.catalog_entry_versions SET name = 'x'");
  assert_int_not_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  PQfinish(c);
}

/* ------------------------------------------------------------ bad input ----------------- */

static void bad(Entry *e, long long expected, const char *field) {
  cli_status st;
  expect(upsert(w.tok_admin, e, expected, NULL, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, field);
}

/* Each refusal names the field a person has to fix, and nothing is written. */
static void test_bad_input_names_fields(void **s) {
  (void)s;
  Entry e = entry("NOPE", "T.X", "Tên");
  bad(&e, 0, "entry.catalog");
  e = entry("MAJOR", "có dấu", "Tên");
  bad(&e, 0, "entry.code");
  e = entry("MAJOR", "T.X", "   ");
  bad(&e, 0, "entry.name");
  e = entry("MAJOR", "T.X", "T\xc3\x28n");
  bad(&e, 0, "entry.name");
  char longname[400];
  memset(longname, 'a', 300);
  longname[300] = '\0';
  e = entry("MAJOR", "T.X", longname);
  bad(&e, 0, "entry.name");
  e = entry("MAJOR", "T.X", "Tên");
  bad(&e, -1, "expected_version");
  e.parent_code = "T.KHONG_CO";
  bad(&e, 0, "entry.parent_code");
  e = entry("MAJOR", "T.X", "Tên");
  e.sort_order = -1;
  bad(&e, 0, "entry.sort_order");

  char *a1[] = {"2.34", "2.67"}, *down[] = {"2.34", "2.67", "2.50"}, *comma[] = {"2,34"}, *zero[] = {"0.00"};
  e = entry("MAJOR", "T.X", "Tên");
  e.step_coefficients = a1;
  e.n_step_coefficients = 2;
  bad(&e, 0, "entry.step_coefficients"); /* not a RANK */
  e = entry("RANK", "T.99", "Ngạch thử");
  e.step_coefficients = a1;
  e.n_step_coefficients = 2;
  e.step_years = 3;
  bad(&e, 0, "entry.rank_group");
  e.rank_group = "A1";
  e.step_years = 4;
  bad(&e, 0, "entry.step_years");
  e.step_years = 3;
  e.step_coefficients = down;
  e.n_step_coefficients = 3;
  bad(&e, 0, "entry.step_coefficients[2]");
  e.step_coefficients = comma;
  e.n_step_coefficients = 1;
  bad(&e, 0, "entry.step_coefficients[0]");
  e.step_coefficients = zero;
  bad(&e, 0, "entry.step_coefficients[0]");
  e.n_step_coefficients = 0;
  bad(&e, 0, "entry.step_coefficients");

  Hoso__Records__V1__UpsertCatalogEntryRequest req = HOSO__RECORDS__V1__UPSERT_CATALOG_ENTRY_REQUEST__INIT;
  cli_status st;
  expect(th_call(w.rec_ch, REC "UpsertCatalogEntry", &req, &hoso__records__v1__upsert_catalog_entry_response__descriptor,
                 NULL, w.tok_admin, &st),
         &st, GRPC_STATUS_INVALID_ARGUMENT, "entry");
  char *n = sql1("SELECT count(*) FROM records.catalog_entries WHERE code IN ('T.X', 'T.99') OR catalog = $1", "NOPE");
  assert_string_equal(n, "0");
  free(n);
}

/* A new RANK with its table, a name sent decomposed (NFD) stored composed (NFC), and a salary
 * step whose parent is a rank. */
static void test_new_rank_nfc(void **s) {
  (void)s;
  char *steps[] = {"1.65", "1.83", "2.01"};
  /* "Nhân viên thử" with the combining circumflex and grave written apart */
  Entry e = entry("RANK", "T.01.009", "Nha\xcc\x82n vie\xcc\x82n thu\xcc\x9b\xcc\x89");
  e.rank_group = "C1";
  e.step_coefficients = steps;
  e.n_step_coefficients = 3;
  e.step_years = 2;
  Entry *r = must_upsert(&e, 0);
  assert_string_equal(r->name, "Nhân viên thử");
  assert_int_equal(r->n_step_coefficients, 3);
  assert_string_equal(r->step_coefficients[2], "2.01");
  free_msg(r);
  Entry step = entry("SALARY_STEP", "T.01.009.1", "Bậc 1");
  step.parent_code = "T.01.009";
  free_msg(must_upsert(&step, 0));
  step = entry("SALARY_STEP", "T.01.009.9", "Bậc 9");
  step.parent_code = "01.999";
  bad(&step, 0, "entry.parent_code");
}

/* ------------------------------------------------------------ catalog_check ------------- */

typedef struct {
  struct srv_call_priv priv;
  srv_ctx ctx;
} fake_call;

/* A call context on its own connection, as a records worker has. */
static void call_open(fake_call *f) {
  memset(f, 0, sizeof *f);
  f->ctx.db = db_open(w.pg.dsn, "records");
  f->ctx.priv = &f->priv;
  f->ctx.method = "test";
  f->ctx.request_id = "test";
  assert_non_null(f->ctx.db);
}

static void call_close(fake_call *f) {
  srv_arena_reset(&f->priv);
  free(f->priv.arena);
  db_close(f->ctx.db);
}

static int check(fake_call *f, const char *catalog, const char *code) {
  f->priv.failed = 0;
  f->priv.message = NULL;
  return catalog_check(&f->ctx, catalog, code, "record.personal.religion_code", 0);
}

/* Known active codes pass and an empty one is "not given"; an unknown one and a deactivated
 * one are refused naming the field; a code created by another process is usable at once (the
 * miss goes to the table), a deactivation is seen once the version check comes round (≤ 1 s). */
static void test_catalog_check_cache(void **s) {
  (void)s;
  fake_call f;
  call_open(&f);
  assert_int_equal(check(&f, "ETHNICITY", "01"), 0);
  assert_int_equal(check(&f, "RELIGION", ""), 0);
  assert_int_equal(check(&f, "RELIGION", "77"), -1);
  assert_int_equal(f.priv.code, GRPC_STATUS_INVALID_ARGUMENT);
  assert_string_equal(f.priv.message, "record.personal.religion_code: unknown code \"77\" in catalogue RELIGION");
  assert_int_equal(check(&f, "RELIGION", "x\"y"), -1);
  assert_int_equal(f.priv.code, GRPC_STATUS_INVALID_ARGUMENT);
  assert_null(strchr(f.priv.message, '"'));

  Entry e = entry("RELIGION", "T.77", "Tôn giáo thử");
  Entry *v = must_upsert(&e, 0);
  assert_int_equal(check(&f, "RELIGION", "T.77"), 0); /* cached before, created since: found */
  usleep(1100 * 1000);
  long long loaded = now_ms();
  assert_int_equal(check(&f, "RELIGION", "T.77"), 0); /* this check reloads: now in the cache */
  e.active = 0;
  free_msg(must_upsert(&e, v->version));
  free_msg(v);
  /* Within the second after the reload this process answers from memory, so it still says
   * active although the table says not: the cache is really used (skipped on a machine so slow
   * that the upsert itself took most of that second). */
  int stale = check(&f, "RELIGION", "T.77");
  if (now_ms() - loaded < 800) assert_int_equal(stale, 0);
  usleep(1100 * 1000);
  assert_int_equal(check(&f, "RELIGION", "T.77"), -1);
  assert_int_equal(f.priv.code, GRPC_STATUS_INVALID_ARGUMENT);
  assert_string_equal(f.priv.message,
                      "record.personal.religion_code: code \"T.77\" in catalogue RELIGION is no longer in use; "
                      "choose a current one");

  /* Deactivated entries leave the default list and stay in the full one. */
  ListResp *r = must_list("RELIGION", "", 0);
  assert_null(find(r, "T.77"));
  free_msg(r);
  r = must_list("RELIGION", "", 1);
  assert_non_null(find(r, "T.77"));
  assert_false(find(r, "T.77")->active);
  free_msg(r);
  call_close(&f);
}

/* Several workers checking while the administrator toggles a code: every answer is one of the
 * two states and the cache survives the reloads (AddressSanitizer watches the swaps). */
typedef struct {
  int ok, refused, other;
} tally;

static atomic_int checkers_started; /* checkers past their first check */

static void *checker(void *p) {
  tally *t = p;
  fake_call f;
  call_open(&f);
  for (int i = 0; i < 400; i++) {
    if (check(&f, "RELIGION", "T.78") == 0) t->ok++;
    else if (f.priv.code == GRPC_STATUS_INVALID_ARGUMENT) t->refused++;
    else t->other++;
    if (check(&f, "ETHNICITY", "54") != 0) t->other++;
    if (i == 0) atomic_fetch_add(&checkers_started, 1);
    usleep(2000);
  }
  call_close(&f);
  return NULL;
}

static void test_catalog_check_threads(void **s) {
  (void)s;
  Entry e = entry("RELIGION", "T.78", "Tôn giáo thử luồng");
  Entry *cur = must_upsert(&e, 0);
  enum { N = 4 };
  pthread_t th[N];
  tally t[N];
  memset(t, 0, sizeof t);
  atomic_store(&checkers_started, 0);
  for (int i = 0; i < N; i++) assert_int_equal(pthread_create(&th[i], NULL, checker, &t[i]), 0);
  /* No toggle before every checker has made its first check: T.78 is active then (cached so,
   * or found so in the table on a miss), so each thread's first answer is ok. Otherwise a
   * thread slow to connect on a loaded machine could start only after the first toggle and,
   * with upserts slowed as much, spend its whole run in inactive stretches. */
  for (int i = 0; i < 12000 && atomic_load(&checkers_started) < N; i++) usleep(5000);
  int all_started = atomic_load(&checkers_started) == N;
  for (int k = 0; all_started && k < 6; k++) {
    usleep(250 * 1000);
    e.active = !e.active;
    Entry *next = must_upsert(&e, cur->version);
    free_msg(cur);
    cur = next;
  }
  for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
  free_msg(cur);
  if (!all_started) fail_msg("only %d of %d checkers made a first check within 60 s", atomic_load(&checkers_started), N);
  for (int i = 0; i < N; i++) {
    assert_int_equal(t[i].other, 0);
    assert_int_equal(t[i].ok + t[i].refused, 400);
    assert_true(t[i].ok > 0);
  }
}

/* Through a record write, once CreateRecord exists: the deactivated code is refused with the
 * record's field path, and the same record with a current code is accepted, so the refusal is
 * the code's doing and not another field's. */
static grpc_status_code create_with_religion(const char *religion, cli_status *st) {
  Hoso__Records__V1__Record rec = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__PersonalInfo personal = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  Hoso__Records__V1__Employment emp = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  rec.managing_unit_id = w.d1_id;
  rec.full_name = "Nguyễn Văn Thử";
  rec.birth_date = "1990-05-17";
  rec.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  personal.ethnicity_code = "01";
  personal.religion_code = (char *)religion;
  rec.personal = &personal;
  emp.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  rec.employment = &emp;
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  req.record = &rec;
  return th_call(w.rec_ch, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor, NULL,
                 w.tok_d1_updater, st);
}

static void test_record_write_refuses_inactive_code(void **s) {
  (void)s;
  cli_status st;
  grpc_status_code c = create_with_religion("T.77", &st); /* deactivated by test_catalog_check_cache */
  if (c == GRPC_STATUS_UNIMPLEMENTED) skip();
  expect(c, &st, GRPC_STATUS_INVALID_ARGUMENT, "record.personal.religion_code");
  assert_non_null(strstr(st.message, "no longer in use"));
  expect(create_with_religion("99", &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "record.personal.religion_code");
  assert_non_null(strstr(st.message, "unknown code"));
  expect(create_with_religion("01", &st), &st, GRPC_STATUS_OK, NULL);
}

/* Writes rec (create when version is 0, else update to that version); the stored record. */
static Hoso__Records__V1__Record *write_rec(Hoso__Records__V1__Record *rec, long long version, cli_status *st,
                                            grpc_status_code *c) {
  Hoso__Records__V1__Record *out = NULL;
  if (version == 0) {
    Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
    req.record = rec;
    Hoso__Records__V1__CreateRecordResponse *r = NULL;
    *c = th_call(w.rec_ch, REC "CreateRecord", &req, &hoso__records__v1__create_record_response__descriptor,
                 (void **)&r, w.tok_d1_updater, st);
    if (r) out = r->record, r->record = NULL;
    free_msg(r);
  } else {
    Hoso__Records__V1__UpdateRecordRequest req = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
    Hoso__Records__V1__ChangeReason why = HOSO__RECORDS__V1__CHANGE_REASON__INIT;
    why.text = "Bổ sung hồ sơ";
    req.record = rec;
    req.expected_version = version;
    req.reason = &why;
    Hoso__Records__V1__UpdateRecordResponse *r = NULL;
    *c = th_call(w.rec_ch, REC "UpdateRecord", &req, &hoso__records__v1__update_record_response__descriptor,
                 (void **)&r, w.tok_d1_updater, st);
    if (r) out = r->record, r->record = NULL;
    free_msg(r);
  }
  return out;
}

/* A code retired after it was entered: a record holding it can still be edited (the code stays
 * where it was), the dated histories accept it in new entries (they describe the past), but
 * no current field may newly take it. Before, any edit of such a record was refused. */
static void test_retired_code_stays_where_it_was(void **s) {
  (void)s;
  Entry rel = entry("RELIGION", "T.88", "Tôn giáo sẽ bỏ"), rew = entry("REWARD_FORM", "T.KT", "Hình thức sẽ bỏ");
  Entry *rv = must_upsert(&rel, 0), *wv = must_upsert(&rew, 0);

  Hoso__Records__V1__Record rec = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__PersonalInfo personal = HOSO__RECORDS__V1__PERSONAL_INFO__INIT;
  Hoso__Records__V1__RewardEntry r0 = HOSO__RECORDS__V1__REWARD_ENTRY__INIT, r1 = HOSO__RECORDS__V1__REWARD_ENTRY__INIT;
  Hoso__Records__V1__RewardEntry *rewards[2] = {&r0, &r1};
  rec.managing_unit_id = w.d1_id;
  rec.full_name = "Đinh Thị Thoa";
  rec.birth_date = "1979-02-11";
  rec.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  personal.ethnicity_code = "01";
  personal.religion_code = "T.88";
  personal.birth_place = "Xã Yên Dũng";
  rec.personal = &personal;
  Hoso__Records__V1__Employment emp = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  emp.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  rec.employment = &emp;
  r0.form_code = "T.KT";
  r0.title = "Giấy khen";
  r0.year = "2009";
  rec.rewards = rewards;
  rec.n_rewards = 1;
  cli_status st;
  grpc_status_code c;
  Hoso__Records__V1__Record *made = write_rec(&rec, 0, &st, &c);
  expect(c, &st, GRPC_STATUS_OK, NULL);

  rel.active = rew.active = 0;
  free_msg(must_upsert(&rel, rv->version));
  free_msg(must_upsert(&rew, wv->version));
  free_msg(rv);
  free_msg(wv);
  usleep(1100 * 1000); /* the catalogue cache notices within a second */

  rec.id = made->id;
  personal.birth_place = "Xã Yên Dũng, huyện Yên Dũng"; /* an unrelated edit */
  Hoso__Records__V1__Record *v2 = write_rec(&rec, made->version, &st, &c);
  expect(c, &st, GRPC_STATUS_OK, NULL);
  assert_string_equal(v2->personal->religion_code, "T.88");

  r1.form_code = "T.KT"; /* a new entry of the past with the retired form */
  r1.title = "Giấy khen";
  r1.year = "2012";
  rec.n_rewards = 2;
  Hoso__Records__V1__Record *v3 = write_rec(&rec, v2->version, &st, &c);
  expect(c, &st, GRPC_STATUS_OK, NULL);
  assert_int_equal(v3->n_rewards, 2);

  /* moved to another place of the current state, the retired code is refused */
  personal.religion_code = "00";
  Hoso__Records__V1__Record *v4 = write_rec(&rec, v3->version, &st, &c);
  expect(c, &st, GRPC_STATUS_OK, NULL);
  personal.religion_code = "T.88";
  Hoso__Records__V1__Record *v5 = write_rec(&rec, v4->version, &st, &c);
  expect(c, &st, GRPC_STATUS_INVALID_ARGUMENT, "record.personal.religion_code");
  assert_non_null(strstr(st.message, "no longer in use"));
  assert_null(v5);
  /* and a new record cannot take it either; an unknown code stays unknown even in a history */
  rec.id = NULL;
  rec.n_rewards = 1;
  assert_null(write_rec(&rec, 0, &st, &c));
  expect(c, &st, GRPC_STATUS_INVALID_ARGUMENT, "record.personal.religion_code");
  personal.religion_code = "00";
  r0.form_code = "T.KHONG-CO";
  assert_null(write_rec(&rec, 0, &st, &c));
  expect(c, &st, GRPC_STATUS_INVALID_ARGUMENT, "record.rewards[0].form_code");
  assert_non_null(strstr(st.message, "unknown code"));
  free_msg(made);
  free_msg(v2);
  free_msg(v3);
  free_msg(v4);
}

static int setup(void **s) {
  (void)s;
  return th_world_start(&w, 1, NULL);
}

static int teardown(void **s) {
  (void)s;
  return th_world_stop(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ethnicities_seeded),
      cmocka_unit_test(test_rank_salary_tables),
      cmocka_unit_test(test_prefix_diacritics),
      cmocka_unit_test(test_pages_walk_every_entry_once),
      cmocka_unit_test(test_roles),
      cmocka_unit_test(test_create_update_versions),
      cmocka_unit_test(test_never_deleted),
      cmocka_unit_test(test_bad_input_names_fields),
      cmocka_unit_test(test_new_rank_nfc),
      cmocka_unit_test(test_catalog_check_cache),
      cmocka_unit_test(test_catalog_check_threads),
      cmocka_unit_test(test_record_write_refuses_inactive_code),
      cmocka_unit_test(test_retired_code_stays_where_it_was),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
