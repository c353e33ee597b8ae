/* SearchRecords as officers type it, over real gRPC and PostgreSQL: any-order word starts of the
 * name with and without marks (đ/Đ, NFD), other names, the ranking (full name, words in order,
 * the rest; ties by name and birth date), free text over places, positions and units combined
 * with the other criteria, and the scope rule held by the database itself (search_match and the
 * unreadable word table): no match and no count from outside the caller's units. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"

typedef Hoso__Records__V1__SearchRecordsRequest SearchReq;
typedef Hoso__Records__V1__SearchRecordsResponse SearchResp;

static th_world w;
static char d3_id[32], d3_path[64];
static char ids[10][32]; /* the fixture's records, in the order of the lines below */

/* ------------------------------------------------------------ helpers ------------------- */

static void import_lines(const char *tok, const char *unit, const char *lines, size_t n) {
  Hoso__Records__V1__ImportRecordsRequest req = HOSO__RECORDS__V1__IMPORT_RECORDS_REQUEST__INIT;
  req.unit_id = (char *)unit;
  req.format = HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON;
  req.content.data = (uint8_t *)lines;
  req.content.len = strlen(lines);
  Hoso__Records__V1__ImportRecordsResponse *r = NULL;
  cli_status st;
  grpc_status_code c = th_call(w.rec_ch, REC "ImportRecords", &req, &hoso__records__v1__import_records_response__descriptor,
                               (void **)&r, tok, &st);
  if (c != GRPC_STATUS_OK) fail_msg("ImportRecords: %s %s", cli_status_name(c), st.message);
  if (r->n_errors) fail_msg("ImportRecords: line %d %s: %s", r->errors[0]->line, r->errors[0]->field, r->errors[0]->message);
  assert_int_equal(r->n_record_ids, n);
  for (size_t i = 0; i < n; i++) snprintf(ids[i], 32, "%s", r->record_ids[i]);
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* "name/birth date" of each record found through ch, in order, joined by '|'; the total and
 * whether it is a lower bound (lower may be NULL). */
static char *found_on(cli_chan *ch, const char *tok, const SearchReq *req, long long *total, int *lower) {
  SearchResp *r = NULL;
  cli_status st;
  grpc_status_code c = th_call(ch, REC "SearchRecords", req, &hoso__records__v1__search_records_response__descriptor,
                               (void **)&r, tok, &st);
  if (c != GRPC_STATUS_OK) fail_msg("SearchRecords: %s %s", cli_status_name(c), st.message);
  static char buf[4096];
  buf[0] = 0;
  for (size_t i = 0; i < r->n_records; i++) {
    char one[256];
    snprintf(one, sizeof one, "%s%s/%.4s", i ? "|" : "", r->records[i]->full_name, r->records[i]->birth_date);
    strncat(buf, one, sizeof buf - strlen(buf) - 1);
  }
  if (total) *total = r->total;
  if (lower) *lower = r->total_is_lower_bound;
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return buf;
}

static char *found(const char *tok, const SearchReq *req, long long *total) {
  return found_on(w.rec_ch, tok, req, total, NULL);
}

static void expect(const char *tok, const SearchReq *req, const char *want, long long want_total) {
  long long total = -1;
  const char *got = found(tok, req, &total);
  if (strcmp(got, want) != 0) fail_msg("\"%s%s%s\": found \"%s\", expected \"%s\"", req->name ? req->name : "",
                                       req->text && *req->text ? " / " : "", req->text ? req->text : "", got, want);
  if (total != want_total) fail_msg("total %lld, expected %lld (found \"%s\")", total, want_total, got);
}

static SearchReq name_in(const char *unit, const char *name) {
  SearchReq q = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.unit_id = (char *)unit;
  q.name = (char *)name;
  return q;
}

/* ------------------------------------------------------------ fixture ------------------- */

#define P(name, birth, extra)                                                                          \
  "{\"fullName\":\"" name "\",\"birthDate\":\"" birth "\",\"gender\":\"GENDER_MALE\","                \
  "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"" extra "}\n"

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  if (th_world_unit(&w, w.root_id, "TY", "UBND huyện Tân Yên", HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DISTRICT, d3_id,
                    d3_path) != 0)
    return -1;
  import_lines(w.tok_admin, d3_id,
               /* 0 */ P("Đặng Văn Đức", "1980-05-05",
                         ",\"department\":\"Phòng Nội vụ\"},\"personal\":{\"homeTown\":\"Xã Tiên Hưng, huyện Lục Nam\"},"
                         "\"workHistory\":[{\"from\":\"2010-01\",\"unit\":\"UBND huyện Tân Yên\",\"position\":\"Chuyên viên\"}]")
               /* 1 */ P("Đặng Văn Đức", "1975-01-01", "}")
               /* 2 */ P("Đặng Đức", "1990-01-01", "}")
               /* 3 */ P("Lê Đức Đặng", "1985-01-01", "}")
               /* 4 */ P("Đặng Văn Hùng", "1970-01-01", "}")
               /* 5 */ P("Nguyễn Thị Minh Khai", "1988-01-01", "},\"personal\":{\"birthPlace\":\"Phường Đa Mai, thành phố Bắc Giang\"}")
               /* 6 */ P("Trần Văn Bình", "1979-01-01", "},\"personal\":{\"otherNames\":\"Đức Thọ\"}"),
               7);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  int errors = th_log_errors(w.records.log);
  return th_world_stop(&w) == 0 && errors == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ names ---------------------- */

/* Every word typed starts some word of the name, in any order, marks or none, any case. */
static void test_any_order_word_starts(void **state) {
  (void)state;
  SearchReq q = name_in(d3_id, "Nguyen Khai"); /* the first and the fourth word */
  expect(w.tok_admin, &q, "Nguyễn Thị Minh Khai/1988", 1);
  q.name = "khai nguyen";
  expect(w.tok_admin, &q, "Nguyễn Thị Minh Khai/1988", 1);
  q.name = "thi m k";
  expect(w.tok_admin, &q, "Nguyễn Thị Minh Khai/1988", 1);
  q.name = "minh khai";
  expect(w.tok_admin, &q, "Nguyễn Thị Minh Khai/1988", 1);
  /* "dang v d": the family name, then the starts of the others; a start may be one another word
   * typed also starts (d: Đặng), so Đặng Văn Hùng matches too, ranked after the names whose
   * words come in the order typed */
  q.name = "dang v d";
  expect(w.tok_admin, &q, "Đặng Văn Đức/1975|Đặng Văn Đức/1980|Đặng Văn Hùng/1970", 3);
  /* "dang duc" is not "Đặng Văn Hùng": every word must find a word of the name */
  q.name = "dang duc";
  expect(w.tok_admin, &q, "Đặng Đức/1990|Đặng Văn Đức/1975|Đặng Văn Đức/1980|Lê Đức Đặng/1985", 4);
  q.name = "dang hung duc";
  expect(w.tok_admin, &q, "", 0);
  q.name = "nguyen van";
  expect(w.tok_admin, &q, "", 0);
  /* a word inside a word is not a start: "uc" is in "Đức" but starts nothing */
  q.name = "dang uc";
  expect(w.tok_admin, &q, "", 0);
}

/* Đ/đ fold to d with the other marks; upper case and decomposed (NFD) input fold the same. */
static void test_marks_case_and_nfd(void **state) {
  (void)state;
  SearchReq q = name_in(d3_id, "Đức Đặng");
  const char *reversed = "Lê Đức Đặng/1985|Đặng Đức/1990|Đặng Văn Đức/1975|Đặng Văn Đức/1980";
  expect(w.tok_admin, &q, reversed, 4);
  q.name = "DUC DANG";
  expect(w.tok_admin, &q, reversed, 4);
  /* "Đức Đặng" with combining marks: U+0301 acute on u+horn, U+0323 dot below on a+breve */
  q.name = "\xC4\x90u\xCC\x9B\xCC\x81" "c \xC4\x90\xC4\x83\xCC\xA3ng";
  expect(w.tok_admin, &q, reversed, 4);
  q.name = "ĐẶNG";
  expect(w.tok_admin, &q, "Lê Đức Đặng/1985|Đặng Đức/1990|Đặng Văn Đức/1975|Đặng Văn Đức/1980|Đặng Văn Hùng/1970", 5);
  q.name = "van d";
  expect(w.tok_admin, &q, "Đặng Văn Đức/1975|Đặng Văn Đức/1980|Đặng Văn Hùng/1970", 3);
}

/* Ranking: the full name itself first, then the names whose words come in the order typed, then
 * the rest; ties by given name, full name, then birth date (older first). Page by page the same
 * order, each record once. */
static void test_ranking_and_pages(void **state) {
  (void)state;
  SearchReq q = name_in(d3_id, "dang duc");
  /* Đặng Đức (the name itself), the two Đặng Văn Đức (in order; 1975 before 1980), Lê Đức Đặng
   * (its words the other way round) */
  expect(w.tok_admin, &q, "Đặng Đức/1990|Đặng Văn Đức/1975|Đặng Văn Đức/1980|Lê Đức Đặng/1985", 4);
  char token[1024] = "", all[1024] = "";
  int pages = 0;
  do {
    SearchReq p = name_in(d3_id, "dang duc");
    p.page_size = 1;
    p.page_token = token;
    SearchResp *r = NULL;
    cli_status st;
    assert_int_equal(th_call(w.rec_ch, REC "SearchRecords", &p, &hoso__records__v1__search_records_response__descriptor,
                             (void **)&r, w.tok_admin, &st),
                     GRPC_STATUS_OK);
    assert_int_equal(r->total, 4);
    for (size_t i = 0; i < r->n_records; i++) {
      char one[128];
      snprintf(one, sizeof one, "%s%s/%.4s", all[0] ? "|" : "", r->records[i]->full_name, r->records[i]->birth_date);
      strcat(all, one);
    }
    snprintf(token, sizeof token, "%s", r->next_page_token);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    pages++;
  } while (token[0] && pages < 10);
  assert_string_equal(all, "Đặng Đức/1990|Đặng Văn Đức/1975|Đặng Văn Đức/1980|Lê Đức Đặng/1985");
  assert_int_equal(pages, 4);
  /* a name query's token is not one of the plain name order */
  SearchReq p = name_in(d3_id, "dang duc");
  p.page_size = 1;
  SearchResp *r = NULL;
  cli_status st;
  assert_int_equal(th_call(w.rec_ch, REC "SearchRecords", &p, &hoso__records__v1__search_records_response__descriptor,
                           (void **)&r, w.tok_admin, &st),
                   GRPC_STATUS_OK);
  snprintf(token, sizeof token, "%s", r->next_page_token);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  SearchReq plain = name_in(d3_id, NULL);
  plain.page_token = token;
  th_expect(th_call(w.rec_ch, REC "SearchRecords", &plain, &hoso__records__v1__search_records_response__descriptor, NULL,
                    w.tok_admin, &st),
            &st, GRPC_STATUS_INVALID_ARGUMENT, "page_token");
}

/* Other names (tên gọi khác) are matched like the name, words in any order, but never mixed
 * with the name's words. A change of the record changes what finds it. */
static void test_other_names(void **state) {
  (void)state;
  SearchReq q = name_in(d3_id, "tho duc");
  expect(w.tok_admin, &q, "Trần Văn Bình/1979", 1);
  q.name = "binh tho"; /* one word from the name, one from the other names: no */
  expect(w.tok_admin, &q, "", 0);

  /* renamed in its other names: the old ones no longer find it, the new ones do */
  Hoso__Records__V1__GetRecordRequest g = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  g.record_id = ids[6];
  Hoso__Records__V1__GetRecordResponse *got = NULL;
  cli_status st;
  assert_int_equal(th_call(w.rec_ch, REC "GetRecord", &g, &hoso__records__v1__get_record_response__descriptor,
                           (void **)&got, w.tok_admin, &st),
                   GRPC_STATUS_OK);
  Hoso__Records__V1__UpdateRecordRequest u = HOSO__RECORDS__V1__UPDATE_RECORD_REQUEST__INIT;
  u.record = got->record;
  char *was = u.record->personal->other_names;
  u.record->personal->other_names = "Bình Lục";
  u.expected_version = got->record->version;
  u.request_id = "search-words-other-names-1";
  assert_int_equal(th_call(w.rec_ch, REC "UpdateRecord", &u, &hoso__records__v1__update_record_response__descriptor, NULL,
                           w.tok_admin, &st),
                   GRPC_STATUS_OK);
  u.record->personal->other_names = was; /* the string literal is not the message's to free */
  protobuf_c_message_free_unpacked(&got->base, NULL);
  q.name = "tho duc";
  expect(w.tok_admin, &q, "", 0);
  q.name = "luc binh";
  expect(w.tok_admin, &q, "Trần Văn Bình/1979", 1);
}

/* ------------------------------------------------------------ free text ------------------ */

/* Free text looks through names, places, addresses, positions and units: every word a whole
 * word of them but the last, which may be only its start; combined with the other criteria. */
static void test_free_text(void **state) {
  (void)state;
  SearchReq q = name_in(d3_id, NULL);
  q.text = "tien hung";
  expect(w.tok_admin, &q, "Đặng Văn Đức/1980", 1);
  q.text = "phong noi v"; /* the department, the last word still being typed */
  expect(w.tok_admin, &q, "Đặng Văn Đức/1980", 1);
  q.text = "chuyên viên tân yên"; /* the work history's position and unit */
  expect(w.tok_admin, &q, "Đặng Văn Đức/1980", 1);
  q.text = "da mai khai"; /* a birth place and a name */
  expect(w.tok_admin, &q, "Nguyễn Thị Minh Khai/1988", 1);
  q.text = "ti hung"; /* only the last word may be a start */
  expect(w.tok_admin, &q, "", 0);
  q.text = "dang ph"; /* a name's word in full, the start of the department's */
  expect(w.tok_admin, &q, "Đặng Văn Đức/1980", 1);
  q.text = "dang phx";
  expect(w.tok_admin, &q, "", 0);
  q.text = "Kha"; /* one word: a start, any case */
  expect(w.tok_admin, &q, "Nguyễn Thị Minh Khai/1988", 1);
  /* with a name and with another criterion */
  q = name_in(d3_id, "dang duc");
  q.text = "luc nam";
  expect(w.tok_admin, &q, "Đặng Văn Đức/1980", 1);
  q = name_in(d3_id, NULL);
  q.text = "dang";
  q.birth_date_to = "1979-12-31";
  expect(w.tok_admin, &q, "Đặng Văn Đức/1975|Đặng Văn Hùng/1970", 2); /* name order: given name first */
  /* punctuation alone is no word: nothing, rather than everything */
  q = name_in(d3_id, "--");
  expect(w.tok_admin, &q, "", 0);
}

/* ------------------------------------------------------------ scope ---------------------- */

/* The service keeps a district's reader inside its district, totals included... */
static void test_scope_service(void **state) {
  (void)state;
  SearchReq q = name_in(NULL, "dang duc");
  expect(w.tok_d1_reader, &q, "", 0);
  q.name = NULL;
  q.text = "tien hung";
  expect(w.tok_d2_reader, &q, "", 0);
  q.text = NULL;
  q.name = "dang duc";
  expect(w.tok_admin, &q, "Đặng Đức/1990|Đặng Văn Đức/1975|Đặng Văn Đức/1980|Lê Đức Đặng/1985", 4);
}

static long long count_as_service(const char *scope, const char *sql) {
  PGconn *c = PQconnectdb(w.pg.dsn); /* the services' role, as the records service connects */
  if (PQstatus(c) != CONNECTION_OK) fail_msg("connect: %s", PQerrorMessage(c));
  PGresult *r = PQexec(c, "BEGIN");
  PQclear(r);
  const char *p[1] = {scope};
  r = PQexecParams(c, "SELECT set_config('hoso.scope', $1, true)", 1, NULL, p, NULL, NULL, 0);
  PQclear(r);
  r = PQexec(c, sql);
  long long v = -1;
  if (PQresultStatus(r) == PGRES_TUPLES_OK) v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return v;
}

/* ...and so does the database, whatever the service asks: search_match answers within the
 * transaction's scope only, counts included, and the table of words itself shows nothing to the
 * services' role, even with every unit in scope. */
static void test_scope_database(void **state) {
  (void)state;
  const char *match = "SELECT count(*) FROM records.search_match('dang duc', '')";
  assert_int_equal(count_as_service(w.d1_path, match), 0);
  assert_int_equal(count_as_service(w.d2_path, match), 0);
  assert_int_equal(count_as_service(d3_path, match), 4);
  assert_int_equal(count_as_service("*", match), 4);
  assert_int_equal(count_as_service("", match), 0);
  char two[160];
  snprintf(two, sizeof two, "%s,%s", w.d1_path, w.d2_path);
  assert_int_equal(count_as_service(two, match), 0);
  assert_int_equal(count_as_service(d3_path, "SELECT count(*) FROM records.search_match('', 'tien hung')"), 1);
  assert_int_equal(count_as_service(w.d1_path, "SELECT count(*) FROM records.search_match('', 'tien hung')"), 0);
  assert_int_equal(count_as_service("*", "SELECT count(*) FROM records.record_search"), 0);
  /* nor can it write there */
  assert_int_equal(count_as_service("*", "WITH x AS (INSERT INTO records.record_search VALUES (1, '1', '1.', 'a', 'a', "
                                         "NULL, 'a', 'a') RETURNING 1) SELECT count(*) FROM x"),
                   -1);
}

/* ------------------------------------------------------------ the capped count ---------- */

/* A records process whose count stops at 3: what it finds, page by page and in rank order, is
 * what the uncapped one finds; the total is exact up to 3 and "more than 3" after, for name,
 * text and plain lists, and counts only what the caller's scope holds. */
static void cap_case(cli_chan *ch, const char *tok, const SearchReq *q, long long want_total, int want_lower) {
  long long total = -1, full_total = -1;
  int lower = -1;
  char got[4096];
  snprintf(got, sizeof got, "%s", found_on(ch, tok, q, &total, &lower));
  const char *full = found(tok, q, &full_total);
  if (strcmp(got, full) != 0) fail_msg("capped service found \"%s\", the other \"%s\"", got, full);
  if (total != want_total || lower != want_lower)
    fail_msg("\"%s / %s\": total %lld%s, expected %lld%s (uncapped: %lld)", q->name ? q->name : "", q->text ? q->text : "",
             total, lower ? "+" : "", want_total, want_lower ? "+" : "", full_total);
}

static void test_count_cap(void **state) {
  (void)state;
  th_svc capped;
  const char *env[] = {"HOSO_SEARCH_COUNT_CAP=3", NULL};
  assert_int_equal(th_world_service_start(&w, "records", &capped, env), 0);
  cli_chan *ch = cli_open_tls(capped.addr, NULL, NULL, NULL);
  assert_non_null(ch);
  /* two more Đặng in another district, for the scope-limited counts */
  char id[32];
  assert_int_equal(th_world_record(&w, w.tok_admin, w.d1_id, "Đặng Thị Một", id), 0);
  assert_int_equal(th_world_record(&w, w.tok_admin, w.d1_id, "Đặng Thị Hai", id), 0);

  SearchReq q = name_in(d3_id, "dang van"); /* exactly the cap: the two Đặng Văn Đức, Đặng Văn Hùng */
  cap_case(ch, w.tok_admin, &q, 3, 0);
  q.name = "dang duc"; /* one more than the cap, ranked as ever */
  cap_case(ch, w.tok_admin, &q, 3, 1);
  q.name = "dang"; /* five in d3 */
  cap_case(ch, w.tok_admin, &q, 3, 1);
  q.page_size = 2; /* the pages across the cap: the first two in rank order */
  cap_case(ch, w.tok_admin, &q, 3, 1);
  q = name_in(NULL, "dang"); /* the d1 reader sees its two only: exact */
  cap_case(ch, w.tok_d1_reader, &q, 2, 0);
  q.name = NULL;
  q.text = "dang";
  cap_case(ch, w.tok_d1_reader, &q, 2, 0);
  cap_case(ch, w.tok_admin, &q, 3, 1); /* seven in the province */
  cap_case(ch, w.tok_d2_reader, &q, 0, 0);
  /* a list without words: d3's seven, and by birth date up to the cap and one past it */
  q = name_in(d3_id, NULL);
  cap_case(ch, w.tok_admin, &q, 3, 1);
  q.birth_date_to = "1979-12-31"; /* 1970, 1975, 1979 */
  cap_case(ch, w.tok_admin, &q, 3, 0);
  q.birth_date_to = "1980-12-31";
  cap_case(ch, w.tok_admin, &q, 3, 1);
  q = name_in(NULL, NULL);
  cap_case(ch, w.tok_d1_reader, &q, 2, 0);
  cli_close(ch);
  assert_int_equal(th_svc_stop(&capped), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_any_order_word_starts), cmocka_unit_test(test_marks_case_and_nfd),
      cmocka_unit_test(test_ranking_and_pages),     cmocka_unit_test(test_free_text),
      cmocka_unit_test(test_scope_service),         cmocka_unit_test(test_scope_database),
      cmocka_unit_test(test_other_names),           cmocka_unit_test(test_count_cap),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
