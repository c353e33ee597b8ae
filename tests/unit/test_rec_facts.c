/* Unit tests of records/facts.c (compiled in): the reporting facts read from a dossier, the
 * classification of free-text IT and language levels, and a version's effective date. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "srv_int.h"

static struct srv_call_priv priv;
static srv_ctx ctx = {.priv = &priv};

static int teardown(void **state) {
  (void)state;
  srv_arena_reset(&priv);
  free(priv.arena);
  priv.arena = NULL;
  return 0;
}

static void test_language_class(void **state) {
  (void)state;
  int en = -1;
  assert_int_equal(rec_language_class("Tiếng Anh B1", &en), 1);
  assert_int_equal(en, 1);
  assert_int_equal(rec_language_class("Cử nhân tiếng Anh", &en), 2);
  assert_int_equal(en, 1);
  assert_int_equal(rec_language_class("TIẾNG ANH trình độ C", &en), 1);
  assert_int_equal(en, 1);
  assert_int_equal(rec_language_class("Tiếng Pháp B", &en), 1);
  assert_int_equal(en, 0);
  assert_int_equal(rec_language_class("Đại học tiếng Trung", &en), 2);
  assert_int_equal(en, 0);
  assert_int_equal(rec_language_class("", &en), 0);
  assert_int_equal(rec_language_class(NULL, &en), 0);
}

static void test_it_class(void **state) {
  (void)state;
  assert_int_equal(rec_it_class("Ứng dụng công nghệ thông tin cơ bản"), 1);
  assert_int_equal(rec_it_class("Chứng chỉ B"), 1);
  assert_int_equal(rec_it_class("Ứng dụng CNTT nâng cao"), 2);
  assert_int_equal(rec_it_class("Trung cấp tin học"), 2);
  assert_int_equal(rec_it_class("Kỹ sư CNTT"), 2);
  assert_int_equal(rec_it_class(""), 0);
}

static void test_effective_date(void **state) {
  (void)state;
  Hoso__Records__V1__Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  Hoso__Records__V1__ChangeReason why = HOSO__RECORDS__V1__CHANGE_REASON__INIT;
  Hoso__Records__V1__Decision d = HOSO__RECORDS__V1__DECISION__INIT;
  r.employment = &e;
  e.recruitment_date = "2015-09-01";
  /* a new record counts from its recruitment */
  assert_string_equal(record_effective_date(&r, "CREATE", NULL, "2026-12-04"), "2015-09-01");
  assert_string_equal(record_effective_date(&r, "IMPORT", NULL, "2026-12-04"), "2015-09-01");
  /* but not from a recruitment still to come, nor for another kind of change */
  e.recruitment_date = "2027-01-01";
  assert_string_equal(record_effective_date(&r, "CREATE", NULL, "2026-12-04"), "2026-12-04");
  assert_string_equal(record_effective_date(&r, "UPDATE", NULL, "2026-12-04"), "2026-12-04");
  /* a decision's effective date, past or future */
  why.decision = &d;
  d.effective_date = "2025-12-31";
  assert_string_equal(record_effective_date(&r, "STATUS", &why, "2026-01-05"), "2025-12-31");
  d.effective_date = "2027-03-01";
  assert_string_equal(record_effective_date(&r, "UPDATE", &why, "2026-01-05"), "2027-03-01");
  /* a reason without a decision: the day it was entered */
  d.effective_date = "";
  assert_string_equal(record_effective_date(&r, "UPDATE", &why, "2026-01-05"), "2026-01-05");
}

static void test_facts_of_a_dossier(void **state) {
  (void)state;
  Hoso__Records__V1__Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__Qualifications q = HOSO__RECORDS__V1__QUALIFICATIONS__INIT;
  Hoso__Records__V1__SalaryInfo s = HOSO__RECORDS__V1__SALARY_INFO__INIT;
  Hoso__Records__V1__Allowance a1 = HOSO__RECORDS__V1__ALLOWANCE__INIT, a2 = a1, a3 = a1;
  Hoso__Records__V1__Allowance *al[3] = {&a1, &a2, &a3};
  Hoso__Records__V1__TransferEntry t1 = HOSO__RECORDS__V1__TRANSFER_ENTRY__INIT, t2 = t1;
  Hoso__Records__V1__TransferEntry *tr[2] = {&t1, &t2};
  Hoso__Records__V1__DisciplineEntry de = HOSO__RECORDS__V1__DISCIPLINE_ENTRY__INIT, *dl[1] = {&de};
  char *langs[2] = {"Tiếng Anh B2", "Cử nhân tiếng Nga"};
  r.full_name = "Nguyễn Văn An";
  r.managing_unit_id = "12";
  r.managing_unit_path = "1.12";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_MALE;
  r.qualifications = &q;
  q.foreign_languages = langs;
  q.n_foreign_languages = 2;
  q.ethnic_language = "Tiếng Tày";
  r.salary = &s;
  s.coefficient = "2.67";
  s.position_allowance = "not a number";
  s.step = 2;
  s.other_allowances = al;
  s.n_other_allowances = 3;
  a1.type_code = "KHU_VUC";
  a1.value = "0.2";
  a2.type_code = "TRACH_NHIEM_CV";
  a2.value = "0.1";
  a3.type_code = "DOC_HAI";
  a3.value = "0.3";
  r.transfers = tr;
  r.n_transfers = 2;
  t1.kind = "SECONDMENT";
  t1.from = "2020-01";
  t1.to = "2021-01";
  t2.kind = "SECONDMENT";
  t2.from = "2026-01-15";
  t2.to = "2027-01-14";
  r.disciplines = dl;
  r.n_disciplines = 1;
  de.form_code = "KHIEN_TRACH";
  de.from = "2025-05-01";

  const char *f[REC_N_FACTS];
  rec_facts(&ctx, &r, f);
  assert_string_equal(f[FACT_unit_path], "1.12");
  assert_string_equal(f[FACT_gender], "1");
  assert_string_equal(f[FACT_english_class], "1");
  assert_string_equal(f[FACT_other_language_class], "2");
  assert_string_equal(f[FACT_ethnic_language], "t");
  assert_string_equal(f[FACT_it_class], "0");
  assert_string_equal(f[FACT_salary_coefficient], "2.67");
  assert_null(f[FACT_position_allowance]); /* never a write that fails on a stray value */
  assert_string_equal(f[FACT_regional_allowance], "0.20");
  assert_string_equal(f[FACT_responsibility_allowance], "0.10");
  assert_string_equal(f[FACT_other_allowances], "0.30");
  assert_string_equal(f[FACT_secondment_until], "2027-01-14");
  assert_string_equal(f[FACT_disciplines], "[{\"form\":\"KHIEN_TRACH\",\"from\":\"2025-05-01\",\"to\":\"\"}]");
  assert_null(f[FACT_birth_date]);
  /* empty: birth date, birth place, home town, ethnicity, religion, citizen id, address,
   * recruitment date, rank code, general education, degree = 11 */
  assert_string_equal(f[FACT_missing_2c], "11");
  assert_string_equal(rec_fact_names[FACT_missing_2c], "missing_2c");
  assert_true(rec_fact_is_json[FACT_disciplines]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_language_class),
      cmocka_unit_test(test_it_class),
      cmocka_unit_test(test_effective_date),
      cmocka_unit_test_teardown(test_facts_of_a_dossier, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
