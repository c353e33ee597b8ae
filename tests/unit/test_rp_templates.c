/* Unit tests of reporting/tpl.c and pred.c (linked): the shipped templates parse and have the
 * forms' columns (BM01/BNV's 38), a bad definition is refused with the path of its bad part,
 * predicates become parameterized SQL with the right bounds, placeholders are filled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pred.h"
#include "tpl.h"

static char *slurp(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/reporting/templates/%s", HOSO_SOURCE_DIR, name);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot read %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  if (fread(s, 1, (size_t)n, f) != (size_t)n) fail_msg("short read %s", path);
  s[n] = '\0';
  fclose(f);
  return s;
}

static tpl *parse_ok(const char *json) {
  tpl *t = NULL;
  char err[400] = "";
  if (tpl_parse(json, "definition", &t, err, sizeof err) != 0) fail_msg("%s", err);
  return t;
}

static void expect_refused(const char *json, const char *want) {
  tpl *t = NULL;
  char err[400] = "";
  assert_int_equal(tpl_parse(json, "template.definition", &t, err, sizeof err), -1);
  assert_null(t);
  if (strncmp(err, want, strlen(want)) != 0) fail_msg("got '%s', want '%s...'", err, want);
}

static void test_shipped_templates(void **state) {
  (void)state;
  static const char *const files[] = {"bm01_bnv.json", "bm02_bnv.json", "bm03_bnv.json", "bm04_bnv.json",
                                      "bm01_vc_bnv.json", "bm02_vc_bnv.json"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    char *s = slurp(files[i]);
    tpl *t = parse_ok(s);
    assert_true(t->n_cols > 10);
    assert_non_null(t->signers[1]);
    tpl_free(t);
    free(s);
  }
  /* BM01/BNV: STT, the unit, then 38 numbered columns ending with "over retirement age" */
  char *s = slurp("bm01_bnv.json");
  tpl *t = parse_ok(s);
  assert_int_equal(t->n_cols, 40);
  assert_false(t->people);
  assert_int_equal(t->cols[2].kind, TPL_QUOTA);
  assert_string_equal(t->cols[2].number, "1");
  assert_string_equal(t->cols[39].number, "38");
  assert_string_equal(t->cols[39].label, "Trên tuổi nghỉ hưu");
  assert_string_equal(t->cols[3].label, "Số lượng công chức hiện có");
  tpl_free(t);
  free(s);
  s = slurp("bm03_bnv.json");
  t = parse_ok(s);
  assert_true(t->people);
  tpl_free(t);
  free(s);
}

#define HEAD "{\"format\":1,\"title\":\"T\",\"rows\":\"units\",\"population\":{}"

static void test_bad_definitions(void **state) {
  (void)state;
  expect_refused("{", "template.definition: not JSON");
  expect_refused("[]", "template.definition: must be a JSON object");
  expect_refused("{\"format\":2}", "template.definition.format: must be 1");
  expect_refused("{\"format\":1,\"rows\":\"units\",\"population\":{},\"columns\":[]}", "template.definition.title: required");
  expect_refused(HEAD ",\"colums\":[]}", "template.definition.colums: unknown key");
  expect_refused(HEAD ",\"columns\":[]}", "template.definition.columns: must be a list of 1 to 80");
  expect_refused(HEAD ",\"columns\":[{\"label\":\"A\",\"kind\":\"count\"},{\"label\":\"B\",\"kind\":\"cout\"}]}",
                 "template.definition.columns[1].kind: unknown kind");
  expect_refused(HEAD ",\"columns\":[{\"label\":\"A\",\"kind\":\"count\",\"when\":{\"sex\":2}}]}",
                 "template.definition.columns[0].when.sex: unknown field");
  expect_refused(HEAD ",\"columns\":[{\"label\":\"A\",\"kind\":\"count\",\"when\":{\"gender\":\"2\"}}]}",
                 "template.definition.columns[0].when.gender: must be a whole number");
  expect_refused(HEAD ",\"columns\":[{\"label\":\"A\",\"kind\":\"count\",\"when\":{\"any\":[{\"age\":{\"lte\":30}},{\"age\":{\"about\":3}}]}}]}",
                 "template.definition.columns[0].when.any[1].age.about: unknown operator");
  expect_refused(HEAD ",\"columns\":[{\"label\":\"A\",\"kind\":\"field\",\"field\":\"full_name\"}]}",
                 "template.definition.columns[0].kind: only in a list of people");
  expect_refused(HEAD ",\"columns\":[{\"label\":\"A\",\"kind\":\"sum\",\"field\":\"full_name\"}]}",
                 "template.definition.columns[0].field: a sum needs a numeric field");
  expect_refused(HEAD ",\"columns\":[{\"label\":\"A\",\"kind\":\"sum\",\"field\":\"salary\"}]}",
                 "template.definition.columns[0].field: unknown field");
  expect_refused(HEAD ",\"title\":\"x\"}", "template.definition: not JSON"); /* a duplicate key */
  expect_refused("{\"format\":1,\"title\":\"Báo cáo {unit}\",\"rows\":\"units\",\"population\":{},\"columns\":[{\"label\":\"A\",\"kind\":\"count\"}]}",
                 "template.definition.title: unknown placeholder {unit}");
  expect_refused("{\"format\":1,\"title\":\"T\",\"rows\":\"units\",\"columns\":[{\"label\":\"A\",\"kind\":\"count\"}]}",
                 "template.definition.population: required");
  expect_refused(HEAD ",\"columns\":[{\"label\":\"A\",\"kind\":\"count\"}],\"signers\":[{\"hint\":\"x\"}]}",
                 "template.definition.signers[0].title: required");
}

/* SQL of one predicate on 31 December 2025, with its parameters joined by '|'. */
static void expect_sql(const char *pred_json, const char *sql, const char *params) {
  json_t *p = json_loads(pred_json, 0, NULL);
  assert_non_null(p);
  qb q;
  qb_init(&q);
  char err[200] = "";
  rdate day = {2025, 12, 31};
  if (pred_sql(&q, p, day, "p", err, sizeof err) != 0) fail_msg("%s", err);
  assert_string_equal(q.sql, sql);
  char got[400] = "";
  for (int i = 0; i < q.n; i++) {
    if (i) strcat(got, "|");
    strcat(got, q.params[i] ? q.params[i] : "NULL");
  }
  assert_string_equal(got, params);
  qb_free(&q);
  json_decref(p);
}

static void test_predicates(void **state) {
  (void)state;
  expect_sql("{}", "true", "");
  expect_sql("{\"gender\":2}", "(f.gender = $1::bigint)", "2");
  expect_sql("{\"category\":[2,5]}", "(f.category = ANY($1::bigint[]))", "{\"2\",\"5\"}");
  expect_sql("{\"degree_code\":\"TS\",\"party_member\":true}", "(f.degree_code = $1::text AND f.party_member = $2::boolean)",
             "TS|t");
  /* ages by birth-date bounds: 30 or younger on 31/12/2025 means born after 31/12/1994 */
  expect_sql("{\"age\":{\"lte\":30}}", "((f.birth_date > $1::date))", "1994-12-31");
  expect_sql("{\"age\":{\"gte\":31,\"lte\":40}}", "((f.birth_date <= $1::date AND f.birth_date > $2::date))",
             "1994-12-31|1984-12-31");
  /* over the retirement age on 31/12/2025: men born 08/1964 retired 30/11/2025 and those born
   * 09/1964 retire on 31/12; women born 03/1969 retired 30/11/2025, those born 04/1969 on 31/12 */
  expect_sql("{\"over_retirement_age\":true}",
             "((COALESCE((f.gender = 1 AND f.birth_date < $1::date) OR (f.gender = 2 AND f.birth_date < $2::date), false)))",
             "1964-09-01|1969-04-01");
  expect_sql("{\"rank_group\":[\"A3.1\",\"A3.2\"]}",
             "(f.rank_code IN (SELECT code FROM records.report_catalog WHERE catalog = 'RANK' AND rank_group = ANY($1::text[])))",
             "{\"A3.1\",\"A3.2\"}");
  expect_sql("{\"any\":[{\"minority\":true},{\"not\":{\"religious\":false}}]}",
             "((((f.ethnicity_code NOT IN ('', '01')) = $1::boolean) OR (NOT ((f.religion_code NOT IN ('', '00')) = $2::boolean))))",
             "t|f");
  /* a value is never SQL text */
  expect_sql("{\"rank_code\":\"x'); DROP TABLE t; --\"}", "(f.rank_code = $1::text)", "x'); DROP TABLE t; --");
}

static void test_fill(void **state) {
  (void)state;
  tpl_vars v = {.unit_name = "UBND huyện Lục Nam", .as_of = "2025-12-31", .today = "2026-01-15", .place = "Lục Nam"};
  char *s = tpl_fill("Đơn vị: {unit_name}, có đến ngày {as_of}; {place}, ngày {today_day} tháng {today_month} năm "
                     "{today_year}; ký: {signer_name}.",
                     &v);
  assert_string_equal(s, "Đơn vị: UBND huyện Lục Nam, có đến ngày 31/12/2025; Lục Nam, ngày 15 tháng 01 năm 2026; ký: .");
  free(s);
  s = tpl_fill("{braces} stay {", &v);
  assert_string_equal(s, "{braces} stay {");
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shipped_templates),
      cmocka_unit_test(test_bad_definitions),
      cmocka_unit_test(test_predicates),
      cmocka_unit_test(test_fill),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
