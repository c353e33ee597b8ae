/* SearchRecords over real gRPC and PostgreSQL: Vietnamese names with and without diacritics
 * (NFD too, đ/Đ), word starts, every filter and combinations, sort orders, the
 * caller's scope (never a sibling's records, not even in the total), SELF, keyset pages that
 * stay stable while records are inserted, bad input naming the field, one audit row a search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "th_world.h"

#define REC "/hoso.records.v1.Records/"
#define IDN "/hoso.identity.v1.Identity/"

typedef Hoso__Records__V1__SearchRecordsRequest SearchReq;
typedef Hoso__Records__V1__SearchRecordsResponse SearchResp;

static th_world w;
static PGconn *admin_db;
static char an_d1[32], anh_d1[32], lan_d1[32], ha_d1[32], huong_d1[32], son_d1u[32], an_d2[32], trang_d2[32];

/* ------------------------------------------------------------ helpers ------------------- */

static long long sql_long(const char *q, const char *p1) {
  const char *params[1] = {p1};
  PGresult *r = PQexecParams(admin_db, q, p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", q, PQresultErrorMessage(r));
  long long v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

/* Imports JSON lines into unit as tok; the new ids in order into ids (may be NULL). */
static void import_lines(const char *tok, const char *unit, const char *lines, char ids[][32], size_t n) {
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
  for (size_t i = 0; ids && i < n; i++) snprintf(ids[i], 32, "%s", r->record_ids[i]);
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

static grpc_status_code search(const char *tok, const SearchReq *req, SearchResp **out, cli_status *st) {
  cli_status local;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  return th_call(w.rec_ch, REC "SearchRecords", req, &hoso__records__v1__search_records_response__descriptor, (void **)out,
                 tok, st);
}

/* The names found, in order, joined by '|', and the total; the response is freed. */
static char *found(const char *tok, const SearchReq *req, long long *total) {
  SearchResp *r = NULL;
  cli_status st;
  grpc_status_code c = search(tok, req, &r, &st);
  if (c != GRPC_STATUS_OK) fail_msg("SearchRecords: %s %s", cli_status_name(c), st.message);
  static char buf[4096];
  buf[0] = 0;
  for (size_t i = 0; i < r->n_records; i++) {
    if (i) strcat(buf, "|");
    strncat(buf, r->records[i]->full_name, sizeof buf - strlen(buf) - 2);
  }
  if (total) *total = r->total;
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return buf;
}

static void expect_names(const char *tok, const SearchReq *req, const char *want, long long want_total) {
  long long total = -1;
  const char *got = found(tok, req, &total);
  if (strcmp(got, want) != 0) fail_msg("found \"%s\", expected \"%s\"", got, want);
  if (total != want_total) fail_msg("total %lld, expected %lld (found \"%s\")", total, want_total, got);
}

static SearchReq in_unit(const char *unit) {
  SearchReq q = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.unit_id = (char *)unit;
  return q;
}

/* ------------------------------------------------------------ fixture ------------------- */

static int setup(void **state) {
  (void)state;
  if (th_world_start(&w, 1, NULL) != 0) return -1;
  admin_db = PQconnectdb(w.pg.admin_dsn);
  if (PQstatus(admin_db) != CONNECTION_OK) return -1;
  char ids[5][32];
  import_lines(w.tok_d1_updater, w.d1_id,
               "{\"fullName\":\"Nguyễn Văn An\",\"birthDate\":\"1980-03-10\",\"gender\":\"GENDER_MALE\","
               "\"personal\":{\"ethnicityCode\":\"01\",\"religionCode\":\"00\",\"homeTown\":\"Xã Tiên Hưng, huyện Lục Nam\"},"
               "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\",\"recruitmentDate\":\"2005-09-01\",\"positionCode\":\"TRUONG_PHONG\"},"
               "\"salary\":{\"rankCode\":\"01.002\"},\"qualifications\":{\"degreeCode\":\"THS\",\"politicalTheoryCode\":\"CC\"},"
               "\"party\":{\"partyMember\":true}}\n"
               "{\"fullName\":\"Nguyễn Văn Anh\",\"birthDate\":\"1990-06-01\",\"gender\":\"GENDER_MALE\","
               "\"personal\":{\"ethnicityCode\":\"02\",\"religionCode\":\"01\",\"homeTown\":\"Xã Cương Sơn, huyện Lục Nam\"},"
               "\"employment\":{\"category\":\"CATEGORY_PUBLIC_EMPLOYEE\",\"recruitmentDate\":\"2015-01-01\"},"
               "\"salary\":{\"rankCode\":\"V.07.04.32\"},\"qualifications\":{\"degreeCode\":\"DH\"}}\n"
               "{\"fullName\":\"Trần Thị Lan\",\"birthDate\":\"1975-12-31\",\"gender\":\"GENDER_FEMALE\","
               "\"personal\":{\"ethnicityCode\":\"01\",\"religionCode\":\"02\",\"homeTown\":\"Phường Trần Phú, thành phố Bắc Giang\"},"
               "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\",\"recruitmentDate\":\"1998-05-05\"},"
               "\"salary\":{\"rankCode\":\"01.003\"},\"qualifications\":{\"degreeCode\":\"DH\",\"politicalTheoryCode\":\"TC\"},"
               "\"party\":{\"partyMember\":true}}\n"
               "{\"fullName\":\"Đặng Thị Hà\",\"birthDate\":\"1985-01-15\",\"gender\":\"GENDER_FEMALE\","
               "\"personal\":{\"ethnicityCode\":\"09\",\"religionCode\":\"00\",\"birthPlace\":\"Xã An Lạc, huyện Sơn Động\"},"
               "\"employment\":{\"category\":\"CATEGORY_COMMUNE_OFFICIAL\",\"recruitmentDate\":\"2010-10-10\"},"
               "\"salary\":{\"rankCode\":\"01.004\"},\"qualifications\":{\"degreeCode\":\"CD\"}}\n"
               "{\"fullName\":\"Nguyễn Thị Hường\",\"birthDate\":\"1988-08-08\",\"gender\":\"GENDER_FEMALE\",\"status\":\"RECORD_STATUS_RETIRED\","
               "\"personal\":{\"ethnicityCode\":\"01\"},"
               "\"employment\":{\"category\":\"CATEGORY_CADRE\",\"recruitmentDate\":\"2012-02-02\"},"
               "\"salary\":{\"rankCode\":\"01.001\"},\"qualifications\":{\"degreeCode\":\"TS\",\"politicalTheoryCode\":\"CN\"},"
               "\"party\":{\"partyMember\":true}}\n",
               ids, 5);
  snprintf(an_d1, 32, "%s", ids[0]);
  snprintf(anh_d1, 32, "%s", ids[1]);
  snprintf(lan_d1, 32, "%s", ids[2]);
  snprintf(ha_d1, 32, "%s", ids[3]);
  snprintf(huong_d1, 32, "%s", ids[4]);
  import_lines(w.tok_d1u_updater, w.d1u_id,
               "{\"fullName\":\"Lê Minh Sơn\",\"birthDate\":\"1970-02-02\",\"gender\":\"GENDER_MALE\","
               "\"employment\":{\"category\":\"CATEGORY_PUBLIC_EMPLOYEE\"}}\n",
               ids, 1);
  snprintf(son_d1u, 32, "%s", ids[0]);
  import_lines(w.tok_d2_updater, w.d2_id,
               "{\"fullName\":\"Nguyễn Văn An\",\"birthDate\":\"1982-04-04\",\"gender\":\"GENDER_MALE\","
               "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"}}\n"
               "{\"fullName\":\"Phạm Thu Trang\",\"birthDate\":\"1992-09-09\",\"gender\":\"GENDER_FEMALE\","
               "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"}}\n",
               ids, 2);
  snprintf(an_d2, 32, "%s", ids[0]);
  snprintf(trang_d2, 32, "%s", ids[1]);
  /* One record submitted for approval, so the workflow filter has two states to tell apart. */
  Hoso__Records__V1__SubmitRecordRequest sub = HOSO__RECORDS__V1__SUBMIT_RECORD_REQUEST__INIT;
  sub.record_id = lan_d1;
  sub.expected_version = 1;
  cli_status st;
  grpc_status_code c = th_call(w.rec_ch, REC "SubmitRecord", &sub, &hoso__records__v1__submit_record_response__descriptor, NULL,
                               w.tok_d1_updater, &st);
  if (c != GRPC_STATUS_OK) {
    fprintf(stderr, "SubmitRecord: %s %s\n", cli_status_name(c), st.message);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (admin_db) PQfinish(admin_db);
  int errors = th_log_errors(w.records.log);
  return th_world_stop(&w) == 0 && errors == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ names ---------------------- */

/* Folding is lower case, no marks, đ → d: the same fold() made the stored columns, so any
 * spelling of the same letters finds the same people. "Nguyen Van An" is a prefix of
 * "Nguyễn Văn Anh" too: the last word typed may be the start of a word. */
static void test_name_without_and_with_diacritics(void **state) {
  (void)state;
  SearchReq q = in_unit(w.d1_id);
  q.name = "Nguyen Van An";
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An|Nguyễn Văn Anh", 2);
  q.name = "nguyễn văn";
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An|Nguyễn Văn Anh", 2);
  q.name = "NGUYỄN  VĂN  AN"; /* upper case and doubled spaces fold the same way */
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An|Nguyễn Văn Anh", 2);
  /* NFD input ("Nguyễn Thị Hường" with combining marks) is composed before folding. */
  q.name = "Nguye\xCC\x82\xCC\x83n Thi\xCC\xA3 Hu\xCC\x9Bo\xCC\x9B\xCC\x80ng";
  expect_names(w.tok_d1_reader, &q, "Nguyễn Thị Hường", 1);
  q.name = "huong";
  expect_names(w.tok_d1_reader, &q, "Nguyễn Thị Hường", 1);
}

/* Đ/đ fold to d (unaccent maps them): "Dang" finds "Đặng", and "đặng" does too. */
static void test_name_d_stroke(void **state) {
  (void)state;
  SearchReq q = in_unit(w.d1_id);
  q.name = "Dang";
  expect_names(w.tok_d1_reader, &q, "Đặng Thị Hà", 1);
  q.name = "đặng thị hà";
  expect_names(w.tok_d1_reader, &q, "Đặng Thị Hà", 1);
}

/* Every word typed is the start of a word of the name, in any order; never a piece from inside
 * a word. (The any-order cases and the ranking: test_records_search_words.c.) */
static void test_name_prefix_and_whole_word(void **state) {
  (void)state;
  SearchReq q = in_unit(w.d1_id);
  q.name = "an"; /* An and Anh (word starts), not Lan (inside a word) */
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An|Nguyễn Văn Anh", 2);
  q.name = "Ngu"; /* the start of Nguyễn */
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An|Nguyễn Văn Anh|Nguyễn Thị Hường", 3);
  q.name = "Ngu Van"; /* two starts */
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An|Nguyễn Văn Anh", 2);
  q.name = "van an"; /* from the middle name */
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An|Nguyễn Văn Anh", 2);
  q.name = "Van An Nguyen"; /* out of order: found, after any in order would be */
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An|Nguyễn Văn Anh", 2);
  q.name = "guyen"; /* inside a word: nothing */
  expect_names(w.tok_d1_reader, &q, "", 0);
  q.name = "lan";
  expect_names(w.tok_d1_reader, &q, "Trần Thị Lan", 1);
}

/* ------------------------------------------------------------ filters -------------------- */

/* Each filter alone over d1's subtree (the five of d1 and Sơn of d1u), then combinations. The
 * expected names follow from the fixture's values; name order is the given name, then the
 * full name. */
static void test_each_filter(void **state) {
  (void)state;
  const char *tok = w.tok_d1_reader;
  SearchReq q = in_unit(w.d1_id);
  q.birth_date_from = "1980-01-01";
  q.birth_date_to = "1988-12-31";
  expect_names(tok, &q, "Nguyễn Văn An|Đặng Thị Hà|Nguyễn Thị Hường", 3);

  q = in_unit(w.d1_id);
  q.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  expect_names(tok, &q, "Đặng Thị Hà|Nguyễn Thị Hường|Trần Thị Lan", 3);

  q = in_unit(w.d1_id);
  char *eth[] = {"02", "09"};
  q.ethnicity_codes = eth;
  q.n_ethnicity_codes = 2;
  expect_names(tok, &q, "Nguyễn Văn Anh|Đặng Thị Hà", 2);

  q = in_unit(w.d1_id);
  char *rel[] = {"02"};
  q.religion_codes = rel;
  q.n_religion_codes = 1;
  expect_names(tok, &q, "Trần Thị Lan", 1);

  q = in_unit(w.d1_id);
  char *rank[] = {"01.002", "01.001"};
  q.rank_codes = rank;
  q.n_rank_codes = 2;
  expect_names(tok, &q, "Nguyễn Văn An|Nguyễn Thị Hường", 2);

  q = in_unit(w.d1_id);
  char *pos[] = {"TRUONG_PHONG"};
  q.position_codes = pos;
  q.n_position_codes = 1;
  expect_names(tok, &q, "Nguyễn Văn An", 1);

  q = in_unit(w.d1_id);
  char *deg[] = {"DH"};
  q.degree_codes = deg;
  q.n_degree_codes = 1;
  expect_names(tok, &q, "Nguyễn Văn Anh|Trần Thị Lan", 2);

  q = in_unit(w.d1_id);
  char *pol[] = {"CC", "CN"};
  q.political_theory_codes = pol;
  q.n_political_theory_codes = 2;
  expect_names(tok, &q, "Nguyễn Văn An|Nguyễn Thị Hường", 2);

  q = in_unit(w.d1_id);
  q.party_member = 1;
  expect_names(tok, &q, "Nguyễn Văn An|Nguyễn Thị Hường|Trần Thị Lan", 3);
  q.party_member = 2;
  expect_names(tok, &q, "Nguyễn Văn Anh|Đặng Thị Hà|Lê Minh Sơn", 3);

  q = in_unit(w.d1_id);
  Hoso__Records__V1__Category cats[] = {HOSO__RECORDS__V1__CATEGORY__CATEGORY_PUBLIC_EMPLOYEE};
  q.categories = cats;
  q.n_categories = 1;
  expect_names(tok, &q, "Nguyễn Văn Anh|Lê Minh Sơn", 2);

  q = in_unit(w.d1_id);
  Hoso__Records__V1__RecordStatus sts[] = {HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_RETIRED};
  q.statuses = sts;
  q.n_statuses = 1;
  expect_names(tok, &q, "Nguyễn Thị Hường", 1);

  q = in_unit(w.d1_id);
  q.recruited_from = "2005-01-01";
  q.recruited_to = "2012-12-31";
  expect_names(tok, &q, "Nguyễn Văn An|Đặng Thị Hà|Nguyễn Thị Hường", 3);

  q = in_unit(w.d1_id);
  Hoso__Records__V1__WorkflowState wf[] = {HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUBMITTED};
  q.workflow_states = wf;
  q.n_workflow_states = 1;
  expect_names(tok, &q, "Trần Thị Lan", 1);

  /* Free text looks through places as well as names: "Lục Nam" is only in two home towns,
   * "son dong" only in Hà's birth place. */
  q = in_unit(w.d1_id);
  q.text = "luc nam";
  expect_names(tok, &q, "Nguyễn Văn An|Nguyễn Văn Anh", 2);
  q.text = "Sơn Động";
  expect_names(tok, &q, "Đặng Thị Hà", 1);
}

static void test_combinations(void **state) {
  (void)state;
  SearchReq q = in_unit(w.d1_id);
  q.name = "nguyen";
  q.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  q.party_member = 1;
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An", 1);
  q.party_member = 0;
  q.birth_date_from = "1985-01-01";
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn Anh", 1);
  char *deg[] = {"THS"};
  q.degree_codes = deg;
  q.n_degree_codes = 1;
  expect_names(w.tok_d1_reader, &q, "", 0);
}

/* Sorted by birth date (oldest first) and by last change (newest first). */
static void test_orders(void **state) {
  (void)state;
  SearchReq q = in_unit(w.d1_id);
  q.order = HOSO__RECORDS__V1__SEARCH_ORDER__SEARCH_ORDER_BIRTH_DATE;
  expect_names(w.tok_d1_reader, &q,
               "Lê Minh Sơn|Trần Thị Lan|Nguyễn Văn An|Đặng Thị Hà|Nguyễn Thị Hường|Nguyễn Văn Anh", 6);
  /* A name in another order than the name's: the same matches, sorted by birth date. */
  q.name = "nguyen";
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An|Nguyễn Thị Hường|Nguyễn Văn Anh", 3);
  q.name = "";
  /* Lan was submitted after the imports: the newest change. */
  q.order = HOSO__RECORDS__V1__SEARCH_ORDER__SEARCH_ORDER_UPDATED;
  q.page_size = 1;
  expect_names(w.tok_d1_reader, &q, "Trần Thị Lan", 6);
}

/* ------------------------------------------------------------ scope ---------------------- */

/* A READER of d2 sees d2 only: the same name finds one An, and the total counts one; asking
 * for d1 is refused. d1's reader sees d1 and d1u below it; direct_only leaves d1u out. */
static void test_scope(void **state) {
  (void)state;
  SearchReq q = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.name = "Nguyen Van An";
  expect_names(w.tok_d2_reader, &q, "Nguyễn Văn An", 1);
  long long total = 0;
  SearchReq all = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  found(w.tok_d2_reader, &all, &total);
  /* d2 holds An, Trang and whatever the pagination test adds later: never d1's six. */
  assert_true(total >= 2);
  assert_int_equal(sql_long("SELECT count(*) FROM records.records WHERE unit_path <@ $1::ltree", w.d2_path), total);
  expect_names(w.tok_d1_reader, &q, "Nguyễn Văn An|Nguyễn Văn Anh", 2);
  found(w.tok_d1_reader, &all, &total);
  assert_int_equal(total, 6);
  /* The admin sees both Ans and Anh. */
  expect_names(w.tok_admin, &q, "Nguyễn Văn An|Nguyễn Văn An|Nguyễn Văn Anh", 3);

  SearchReq other = in_unit(w.d1_id);
  cli_status st;
  SearchResp *r = NULL;
  th_expect(search(w.tok_d2_reader, &other, &r, &st), &st, GRPC_STATUS_PERMISSION_DENIED, "unit_id");
  assert_null(r);

  SearchReq direct = in_unit(w.d1_id);
  direct.direct_only = 1;
  found(w.tok_d1_reader, &direct, &total);
  assert_int_equal(total, 5);
  SearchReq below = in_unit(w.d1u_id);
  expect_names(w.tok_d1_reader, &below, "Lê Minh Sơn", 1);
}

/* A person's own account finds their own record and nothing else, whatever it asks. */
static void test_self_sees_only_own(void **state) {
  (void)state;
  char *tok = th_world_self_token(&w, w.d1_id, an_d1);
  assert_non_null(tok);
  SearchReq q = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  expect_names(tok, &q, "Nguyễn Văn An", 1);
  q.name = "Nguyen Van"; /* Anh matches the name, but is not theirs */
  expect_names(tok, &q, "Nguyễn Văn An", 1);
  q.name = "Tran Thi Lan";
  expect_names(tok, &q, "", 0);
  free(tok);
}

/* ------------------------------------------------------------ pages ---------------------- */

/* The i-th name of the walk's records (inserted: during the walk): "Hoàng Văn K<nn>[m<i>]", every
 * third "Văn Hoàng K<nn>..." (the query's words the other way round: ranked after the names in
 * the order typed), and among the inserted every fifth "Hoàng Văn" itself (ranked first). */
static const char *walk_name(char *buf, size_t size, int i, int inserted) {
  const char *words = i % 3 == 0 ? "Văn Hoàng" : "Hoàng Văn";
  if (!inserted) snprintf(buf, size, "%s K%02d", words, i);
  else if (i % 5 == 0) snprintf(buf, size, "Hoàng Văn");
  else snprintf(buf, size, "%s K%02dm%d", words, (i * 7) % 40, i);
  return buf;
}

typedef struct {
  const char *unit;
  atomic_int stop;
  atomic_int inserted;
} inserter;

static void *insert_loop(void *p) {
  inserter *in = p;
  cli_chan *ch = cli_open_tls(w.records.addr, NULL, NULL, NULL);
  for (int i = 0; !atomic_load(&in->stop) && i < 200; i++) {
    char line[256], name[64];
    /* Given names spread over the whole order: some land before the walk's cursor, some after;
     * every third with its words the other way round (ranked after those in the order typed),
     * every fifth the query's words exactly (ranked first). */
    snprintf(line, sizeof line,
             "{\"fullName\":\"%s\",\"birthDate\":\"1980-01-01\",\"gender\":\"GENDER_MALE\","
             "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"}}\n",
             walk_name(name, sizeof name, i, 1));
    Hoso__Records__V1__ImportRecordsRequest req = HOSO__RECORDS__V1__IMPORT_RECORDS_REQUEST__INIT;
    req.unit_id = (char *)in->unit;
    req.format = HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON;
    req.content.data = (uint8_t *)line;
    req.content.len = strlen(line);
    char bearer[4096];
    snprintf(bearer, sizeof bearer, "Bearer %s", w.tok_d2_updater);
    cli_md md = {"authorization", bearer};
    ProtobufCMessage *out = NULL;
    cli_status st;
    if (cli_call(ch, REC "ImportRecords", &req.base, &hoso__records__v1__import_records_response__descriptor, &out, &md, 1,
                 15000, &st) == GRPC_STATUS_OK)
      atomic_fetch_add(&in->inserted, 1);
    if (out) protobuf_c_message_free_unpacked(out, NULL);
  }
  cli_close(ch);
  return NULL;
}

/* A walk of pages of 10 while another caller inserts: keyset pages never show a record twice
 * and never skip one that existed when the walk began (new ones may or may not appear). A name
 * query: pages in the ranked order (rank, then the name), records of every rank inserted. */
static void test_pages_stable_while_inserting(void **state) {
  (void)state;
  char lines[8192] = "";
  for (int i = 0; i < 35; i++) {
    char l[256], name[64];
    snprintf(l, sizeof l,
             "{\"fullName\":\"%s\",\"birthDate\":\"1981-01-01\",\"gender\":\"GENDER_MALE\","
             "\"employment\":{\"category\":\"CATEGORY_CIVIL_SERVANT\"}}\n",
             walk_name(name, sizeof name, i, 0));
    strcat(lines, l);
  }
  char before[35][32];
  import_lines(w.tok_d2_updater, w.d2_id, lines, before, 35);

  inserter in = {.unit = w.d2_id};
  atomic_init(&in.stop, 0);
  atomic_init(&in.inserted, 0);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, insert_loop, &in), 0);
  /* The walk starts once inserts are flowing, and pauses between pages so they interleave.
   * Waited for, not assumed after a while: a walk that began before the first insert (a
   * loaded machine, a slow first connection) would test nothing and, should the inserter then
   * be told to stop before its first call, end with nothing inserted. */
  for (int i = 0; i < 12000 && !atomic_load(&in.inserted); i++) usleep(5000);
  if (!atomic_load(&in.inserted)) {
    atomic_store(&in.stop, 1);
    pthread_join(t, NULL);
    fail_msg("no insert succeeded within 60 s");
  }
  char seen[400][32];
  size_t n_seen = 0;
  char token[1024] = "";
  int pages = 0, last_rank = 0;
  do {
    SearchReq q = in_unit(w.d2_id);
    q.name = "Hoang Van";
    q.page_size = 10;
    q.page_token = token;
    SearchResp *r = NULL;
    cli_status st;
    grpc_status_code c = search(w.tok_d2_reader, &q, &r, &st);
    if (c != GRPC_STATUS_OK) fail_msg("page %d: %s %s", pages, cli_status_name(c), st.message);
    assert_true(r->n_records <= 10);
    for (size_t i = 0; i < r->n_records; i++) {
      for (size_t j = 0; j < n_seen; j++)
        if (strcmp(seen[j], r->records[i]->id) == 0) fail_msg("record %s returned twice", r->records[i]->id);
      /* each page after the last one's cursor: the ranks seen never go back */
      const char *nm = r->records[i]->full_name;
      int rank = !strcmp(nm, "Hoàng Văn") ? 0 : !strncmp(nm, "Hoàng Văn ", strlen("Hoàng Văn ")) ? 1 : 2;
      if (rank < last_rank) fail_msg("page %d: \"%s\" (rank %d) after rank %d", pages, nm, rank, last_rank);
      last_rank = rank;
      assert_true(n_seen < 400);
      snprintf(seen[n_seen++], 32, "%s", r->records[i]->id);
    }
    snprintf(token, sizeof token, "%s", r->next_page_token);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    pages++;
    usleep(30000);
  } while (token[0]);
  atomic_store(&in.stop, 1);
  pthread_join(t, NULL);
  for (int i = 0; i < 35; i++) {
    int ok = 0;
    for (size_t j = 0; j < n_seen && !ok; j++) ok = strcmp(seen[j], before[i]) == 0;
    if (!ok) fail_msg("record %s existed before the walk but was skipped", before[i]);
  }
  assert_true(pages >= 4);
}

/* ------------------------------------------------------------ bad input ------------------ */

static void test_bad_input_names_the_field(void **state) {
  (void)state;
  cli_status st;
  SearchResp *r = NULL;
  SearchReq q = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.page_token = "not-a-token";
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_token");

  /* A real token of the name order is refused for the birth-date order. */
  q = in_unit(w.d1_id);
  q.page_size = 1;
  assert_int_equal(search(w.tok_d1_reader, &q, &r, &st), GRPC_STATUS_OK);
  char tok[1024];
  snprintf(tok, sizeof tok, "%s", r->next_page_token);
  assert_true(tok[0] != 0);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  r = NULL;
  q.page_token = tok;
  q.order = HOSO__RECORDS__V1__SEARCH_ORDER__SEARCH_ORDER_BIRTH_DATE;
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_token");

  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.birth_date_from = "1980-02-30";
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "birth_date_from");
  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.birth_date_from = "1990-01-01";
  q.birth_date_to = "1980-01-01";
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "birth_date_to");
  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.recruited_to = "2020-13-01";
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "recruited_to");
  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.page_size = 501;
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_size");
  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.gender = 7;
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "gender");
  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  Hoso__Records__V1__Category bad_cat[] = {(Hoso__Records__V1__Category)9};
  q.categories = bad_cat;
  q.n_categories = 1;
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "categories[0]");
  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  Hoso__Records__V1__RecordStatus bad_st[] = {HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE, (Hoso__Records__V1__RecordStatus)0};
  q.statuses = bad_st;
  q.n_statuses = 2;
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "statuses[1]");
  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  char *bad_code[] = {"01", "không hợp lệ"};
  q.ethnicity_codes = bad_code;
  q.n_ethnicity_codes = 2;
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "ethnicity_codes[1]");
  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.party_member = 3;
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "party_member");
  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  q.unit_id = "abc";
  th_expect(search(w.tok_d1_reader, &q, &r, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "unit_id");
  /* A catalogue code need not exist to be searched for: it simply finds nobody. */
  q = in_unit(w.d1_id);
  char *unknown[] = {"99"};
  q.religion_codes = unknown;
  q.n_religion_codes = 1;
  expect_names(w.tok_d1_reader, &q, "", 0);
  /* No token at all. */
  q = (SearchReq)HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  th_expect(search(NULL, &q, &r, &st), &st, GRPC_STATUS_UNAUTHENTICATED, NULL);
}

/* ------------------------------------------------------------ audit ---------------------- */

/* One RECORD_SEARCH row per search, durable before the page is sent, holding the criteria and
 * the ids of the records shown (who looked for whom and whom they saw; not a copy of the
 * summaries). */
static void test_one_audit_row_per_search(void **state) {
  (void)state;
  const char *count_sql = "SELECT count(*) FROM records.audit_log WHERE action = 'RECORD_SEARCH'";
  long long before = sql_long(count_sql, NULL);
  /* The log is 16 chains, each connection (each worker) appending to its own with its own
   * seq: "the highest seq" is the newest row of some chain, not the newest row. The row this
   * search wrote is the one past where its chain's head was before the search. */
  PGresult *r = PQexec(admin_db, "SELECT json_object_agg(id, seq)::text FROM records.audit_head");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  char *heads = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  SearchReq q = in_unit(w.d1_id);
  q.name = "Đặng";
  expect_names(w.tok_d1_reader, &q, "Đặng Thị Hà", 1);
  assert_int_equal(sql_long(count_sql, NULL), before + 1);
  const char *p[1] = {heads};
  r = PQexecParams(admin_db,
                   "SELECT detail, unit_path, actor_name FROM records.audit_log "
                   "WHERE action = 'RECORD_SEARCH' AND seq > ($1::json->>chain::text)::bigint",
                   1, NULL, p, NULL, NULL, 0);
  free(heads);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_int_equal(PQntuples(r), 1);
  const char *detail = PQgetvalue(r, 0, 0);
  assert_non_null(strstr(detail, "\"name\":\"Đặng\""));
  assert_non_null(strstr(detail, w.d1_id));
  char ids[64];
  snprintf(ids, sizeof ids, "\"ids\":[\"%s\"]", ha_d1);
  assert_non_null(strstr(detail, ids)); /* the record shown is named */
  assert_non_null(strstr(detail, "\"total\":1"));
  assert_string_equal(PQgetvalue(r, 0, 1), w.d1_path);
  assert_string_equal(PQgetvalue(r, 0, 2), "ln.xem");
  PQclear(r);
  /* A refused search changes nothing. */
  cli_status st;
  SearchResp *resp = NULL;
  q.page_size = -1;
  th_expect(search(w.tok_d1_reader, &q, &resp, &st), &st, GRPC_STATUS_INVALID_ARGUMENT, "page_size");
  assert_int_equal(sql_long(count_sql, NULL), before + 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_name_without_and_with_diacritics),
      cmocka_unit_test(test_name_d_stroke),
      cmocka_unit_test(test_name_prefix_and_whole_word),
      cmocka_unit_test(test_each_filter),
      cmocka_unit_test(test_combinations),
      cmocka_unit_test(test_orders),
      cmocka_unit_test(test_scope),
      cmocka_unit_test(test_self_sees_only_own),
      cmocka_unit_test(test_bad_input_names_the_field),
      cmocka_unit_test(test_one_audit_row_per_search),
      cmocka_unit_test(test_pages_stable_while_inserting),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
