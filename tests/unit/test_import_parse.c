/* Unit tests of records/import_parse.c: CSV (quotes, embedded newlines, BOM, CRLF, Vietnamese
 * text, indexed history columns, unknown column, bad values, bad UTF-8) and JSON (array, JSON
 * Lines, one object, unknown field), with the line and field of every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_parse.h"

#define CSV HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_CSV
#define JSON HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON

/* NULL allocator: malloc, so import_result_free must release everything (ASan's leak check
 * fails the test otherwise). */
static void parse_n(int fmt, const char *text, size_t n, import_result *r) {
  /* The content of a request has no terminator: an exact-size copy lets ASan catch any read
   * past its end. */
  char *copy = malloc(n ? n : 1);
  memcpy(copy, text, n);
  assert_int_equal(import_parse(fmt, copy, n, NULL, r), 0);
  free(copy);
}

static void parse(int fmt, const char *text, import_result *r) { parse_n(fmt, text, strlen(text), r); }

static void dump_errors(const import_result *r) {
  for (size_t i = 0; i < r->n_errors; i++)
    fprintf(stderr, "  error line %d field '%s': %s\n", r->errors[i]->line, r->errors[i]->field,
            r->errors[i]->message);
}

static void expect_no_errors(const import_result *r) {
  if (r->n_errors) dump_errors(r);
  assert_int_equal(r->n_errors, 0);
}

/* The one error of r is on `line`, names `field`, and its message holds `needle`. */
static void expect_one_error(const import_result *r, int line, const char *field, const char *needle) {
  if (r->n_errors != 1) dump_errors(r);
  assert_int_equal(r->n_errors, 1);
  assert_int_equal(r->errors[0]->line, line);
  assert_string_equal(r->errors[0]->field, field);
  if (!strstr(r->errors[0]->message, needle)) {
    dump_errors(r);
    fail_msg("message lacks \"%s\"", needle);
  }
}

static void test_csv_basic_fields(void **state) {
  (void)state;
  import_result r;
  /* Proto names and JSON names both work; enums by proto name, short name and Vietnamese. */
  parse(CSV,
        "full_name,birthDate,gender,personal.ethnicity_code,employment.category,salary.rank_code,"
        "salary.step,salary.coefficient,qualifications.degree_code,party.party_member\n"
        "Nguyễn Văn An,1980-05-02,Nam,01,CIVIL_SERVANT,01.003,3,2.67,DH,true\n"
        "Trần Thị Bình,1990-12-31,Nữ,01,Viên chức,01.003,1,2.34,,có\n"
        "Lê Văn Cường,1975-01-01,GENDER_MALE,,CATEGORY_CADRE,,,,,0\n",
        &r);
  expect_no_errors(&r);
  assert_int_equal(r.n_read, 3);
  assert_int_equal(r.n_rows, 3);
  Hoso__Records__V1__Record *a = r.rows[0].record, *b = r.rows[1].record, *c = r.rows[2].record;
  /* Rows start on lines 2, 3 and 4: the header is line 1. */
  assert_int_equal(r.rows[0].line, 2);
  assert_int_equal(r.rows[2].line, 4);
  assert_string_equal(a->full_name, "Nguyễn Văn An");
  assert_string_equal(a->birth_date, "1980-05-02");
  assert_int_equal(a->gender, HOSO__RECORDS__V1__GENDER__GENDER_MALE);
  assert_string_equal(a->personal->ethnicity_code, "01");
  assert_int_equal(a->employment->category, HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT);
  assert_string_equal(a->salary->rank_code, "01.003");
  assert_int_equal(a->salary->step, 3);
  assert_string_equal(a->salary->coefficient, "2.67");
  assert_true(a->party->party_member);
  assert_int_equal(b->gender, HOSO__RECORDS__V1__GENDER__GENDER_FEMALE);
  assert_int_equal(b->employment->category, HOSO__RECORDS__V1__CATEGORY__CATEGORY_PUBLIC_EMPLOYEE);
  assert_true(b->party->party_member);
  assert_int_equal(c->employment->category, HOSO__RECORDS__V1__CATEGORY__CATEGORY_CADRE);
  /* Empty cells set nothing: no salary group was created for the third row. */
  assert_null(c->salary);
  assert_false(c->party->party_member);
  import_result_free(&r);
}

static void test_csv_quotes_newlines_crlf_bom(void **state) {
  (void)state;
  import_result r;
  /* BOM first, CRLF line ends, a quoted field with a comma, "" escapes and a line break inside:
   * the third record starts on line 5 because the second spans lines 3 and 4. */
  parse(CSV,
        "\xEF\xBB\xBF" "full_name,personal.birth_place,employment.main_duties\r\n"
        "Phạm Thị Dung,\"Xã Tân Dĩnh, huyện Lạng Giang\",Kế toán\r\n"
        "\"Hoàng \"\"Út\"\" Em\",Bắc Giang,\"Dòng một\r\nDòng hai\"\r\n"
        "Vũ Văn Giang,Hà Nội,\"\"\r\n"
        "\r\n\r\n",
        &r);
  expect_no_errors(&r);
  assert_int_equal(r.n_rows, 3);
  assert_string_equal(r.rows[0].record->full_name, "Phạm Thị Dung");
  assert_string_equal(r.rows[0].record->personal->birth_place, "Xã Tân Dĩnh, huyện Lạng Giang");
  assert_string_equal(r.rows[1].record->full_name, "Hoàng \"Út\" Em");
  assert_string_equal(r.rows[1].record->employment->main_duties, "Dòng một\nDòng hai");
  assert_int_equal(r.rows[1].line, 3);
  assert_int_equal(r.rows[2].line, 5);
  assert_null(r.rows[2].record->employment);
  import_result_free(&r);
}

static void test_csv_indexed_histories(void **state) {
  (void)state;
  import_result r;
  /* work_history[2] and [0] without [1]: two entries, in index order, whatever the column
   * order; a repeated text column appears twice and appends; nested lists take indexes too. */
  parse(CSV,
        "full_name,work_history[2].from,work_history[2].unit,work_history[0].from,workHistory[0].unit,"
        "qualifications.foreign_languages,qualifications.foreign_languages,"
        "salary.other_allowances[0].type_code,salary.other_allowances[0].value,family[0].relation_code,family[0].full_name\n"
        "Đỗ Thị Hoa,2010-01,Sở Nội vụ,2001-09,UBND huyện Lục Nam,Tiếng Anh B1,Tiếng Pháp A2,TNVK,5,FATHER,Đỗ Văn Hải\n"
        "Ngô Văn Khoa,,,,,,,,,,\n",
        &r);
  expect_no_errors(&r);
  assert_int_equal(r.n_rows, 2);
  Hoso__Records__V1__Record *a = r.rows[0].record;
  assert_int_equal(a->n_work_history, 2);
  assert_string_equal(a->work_history[0]->from, "2001-09");
  assert_string_equal(a->work_history[0]->unit, "UBND huyện Lục Nam");
  assert_string_equal(a->work_history[1]->from, "2010-01");
  assert_string_equal(a->work_history[1]->unit, "Sở Nội vụ");
  assert_int_equal(a->qualifications->n_foreign_languages, 2);
  assert_string_equal(a->qualifications->foreign_languages[1], "Tiếng Pháp A2");
  assert_int_equal(a->salary->n_other_allowances, 1);
  assert_string_equal(a->salary->other_allowances[0]->type_code, "TNVK");
  assert_int_equal(a->n_family, 1);
  assert_string_equal(a->family[0]->full_name, "Đỗ Văn Hải");
  /* The second row's history cells are empty: no entry at all. */
  assert_int_equal(r.rows[1].record->n_work_history, 0);
  import_result_free(&r);
}

static void test_csv_unknown_and_bad_columns(void **state) {
  (void)state;
  import_result r;
  /* Unknown column: one error on line 1 naming it; no row is read against a wrong header. */
  parse(CSV, "full_name,personal.shoe_size\nAn,42\n", &r);
  expect_one_error(&r, 1, "personal.shoe_size", "shoe_size");
  assert_int_equal(r.n_rows, 0);
  import_result_free(&r);
  /* A list without an index and a group named as a field say what to write instead. */
  parse(CSV, "full_name,work_history.from,salary\nAn,2001,x\n", &r);
  assert_int_equal(r.n_errors, 2);
  assert_string_equal(r.errors[0]->field, "work_history.from");
  assert_non_null(strstr(r.errors[0]->message, "work_history[0]"));
  assert_string_equal(r.errors[1]->field, "salary");
  import_result_free(&r);
  /* The same field twice (once by its JSON name) is ambiguous. */
  parse(CSV, "full_name,fullName\nAn,Bình\n", &r);
  expect_one_error(&r, 1, "fullName", "twice");
  import_result_free(&r);
}

static void test_csv_bad_values(void **state) {
  (void)state;
  import_result r;
  /* A bad enum on line 3, a bad number and a bad boolean on line 4: each error names its
   * column; the good row 2 is still parsed, the bad rows are left out. */
  parse(CSV,
        "full_name,gender,salary.step,party.party_member\n"
        "An,Nam,2,false\n"
        "Bình,Không rõ,2,false\n"
        "Cường,Nam,hai,maybe\n",
        &r);
  if (r.n_errors != 3) dump_errors(&r);
  assert_int_equal(r.n_errors, 3);
  assert_int_equal(r.errors[0]->line, 3);
  assert_string_equal(r.errors[0]->field, "gender");
  assert_non_null(strstr(r.errors[0]->message, "Không rõ"));
  assert_int_equal(r.errors[1]->line, 4);
  assert_string_equal(r.errors[1]->field, "salary.step");
  assert_int_equal(r.errors[2]->line, 4);
  assert_string_equal(r.errors[2]->field, "party.party_member");
  assert_int_equal(r.n_read, 3);
  assert_int_equal(r.n_rows, 1);
  assert_string_equal(r.rows[0].record->full_name, "An");
  import_result_free(&r);
}

static void test_csv_bad_utf8_line(void **state) {
  (void)state;
  import_result r;
  /* The row starts on line 3 with a quoted field spanning into line 4, where the byte 0xFF
   * is: the error names line 4, the line a person must fix. */
  parse(CSV,
        "full_name,employment.main_duties\n"
        "An,Văn thư\n"
        "Bình,\"Dòng một\nDòng \xFF hai\"\n"
        "Cường,Lưu trữ\n",
        &r);
  expect_one_error(&r, 4, "employment.main_duties", "UTF-8");
  assert_int_equal(r.n_rows, 2);
  /* The LF inside the quotes counts as a physical line: the next row starts on line 5. */
  assert_int_equal(r.rows[1].line, 5);
  import_result_free(&r);
}

static void test_csv_nul_byte(void **state) {
  (void)state;
  import_result r;
  /* A NUL byte inside a value (line 3) is not text: reported, never a value cut short. */
  static const char text[] = "full_name,personal.phone\nAn,0912\nBình,09\0" "12\n";
  parse_n(CSV, text, sizeof text - 1, &r);
  expect_one_error(&r, 3, "personal.phone", "UTF-8");
  assert_int_equal(r.n_rows, 1);
  import_result_free(&r);
}

static void test_csv_row_shape(void **state) {
  (void)state;
  import_result r;
  /* Too few fields, text after a closing quote, and a quote never closed (reported at the
   * line where it opened). */
  parse(CSV,
        "full_name,birth_date\n"
        "An\n"
        "\"Bình\"x,1990-01-01\n"
        "Cường,1991-01-01\n"
        "\"Dũng,1992-01-01\n",
        &r);
  if (r.n_errors != 3) dump_errors(&r);
  assert_int_equal(r.n_errors, 3);
  assert_int_equal(r.errors[0]->line, 2);
  assert_non_null(strstr(r.errors[0]->message, "1 fields; the header has 2"));
  assert_int_equal(r.errors[1]->line, 3);
  assert_non_null(strstr(r.errors[1]->message, "closing quote"));
  assert_int_equal(r.errors[2]->line, 5);
  assert_non_null(strstr(r.errors[2]->message, "never closed"));
  assert_int_equal(r.n_rows, 1);
  assert_int_equal(r.rows[0].line, 4);
  import_result_free(&r);
  /* A header and nothing else: no records is an error a person sees, not a silent success. */
  parse(CSV, "full_name\n\n", &r);
  expect_one_error(&r, 2, "", "no records");
  import_result_free(&r);
  parse(CSV, "", &r);
  expect_one_error(&r, 1, "", "empty");
  import_result_free(&r);
}

static void test_error_cap(void **state) {
  (void)state;
  /* 1 500 bad rows: IMPORT_MAX_ERRORS kept, the rest counted, every row read. */
  size_t n = 1500;
  char *text = malloc(32 + n * 16);
  size_t o = (size_t)sprintf(text, "full_name,salary.step\n");
  for (size_t i = 0; i < n; i++) o += (size_t)sprintf(text + o, "X,bad\n");
  import_result r;
  parse(CSV, text, &r);
  assert_int_equal(r.n_errors, IMPORT_MAX_ERRORS);
  assert_int_equal(r.errors_dropped, n - IMPORT_MAX_ERRORS);
  assert_int_equal(r.n_read, n);
  assert_int_equal(r.errors[IMPORT_MAX_ERRORS - 1]->line, IMPORT_MAX_ERRORS + 1);
  import_result_free(&r);
  free(text);
}

static void test_row_cap(void **state) {
  (void)state;
  /* One row more than IMPORT_MAX_ROWS: the parse stops with one error at that row's line. */
  size_t n = IMPORT_MAX_ROWS + 1;
  char *text = malloc(32 + n * 3);
  size_t o = (size_t)sprintf(text, "full_name\n");
  for (size_t i = 0; i < n; i++) o += (size_t)sprintf(text + o, "A\n");
  import_result r;
  parse(CSV, text, &r);
  expect_one_error(&r, IMPORT_MAX_ROWS + 2, "", "split");
  assert_int_equal(r.n_read, IMPORT_MAX_ROWS);
  import_result_free(&r);
  free(text);
}

static void test_json_array(void **state) {
  (void)state;
  import_result r;
  /* Array elements are numbered by index + 1; element 2 has an unknown field, named with its
   * path; element 3 is not an object. */
  parse(JSON,
        "[\n"
        "  {\"fullName\": \"Nguyễn Văn An\", \"gender\": \"GENDER_MALE\",\n"
        "   \"workHistory\": [{\"from\": \"2001-09\", \"unit\": \"UBND xã\"}]},\n"
        "  {\"fullName\": \"Trần Thị Bình\", \"personal\": {\"shoeSize\": 38}},\n"
        "  42,\n"
        "  {\"full_name\": \"Lê Văn Cường\", \"salary\": {\"step\": 2}}\n"
        "]\n",
        &r);
  if (r.n_errors != 2) dump_errors(&r);
  assert_int_equal(r.n_errors, 2);
  assert_int_equal(r.errors[0]->line, 2);
  assert_string_equal(r.errors[0]->field, "personal.shoeSize");
  assert_non_null(strstr(r.errors[0]->message, "unknown field"));
  assert_int_equal(r.errors[1]->line, 3);
  assert_int_equal(r.n_read, 4);
  assert_int_equal(r.n_rows, 2);
  assert_int_equal(r.rows[0].line, 1);
  assert_int_equal(r.rows[1].line, 4);
  assert_string_equal(r.rows[0].record->work_history[0]->unit, "UBND xã");
  assert_int_equal(r.rows[1].record->salary->step, 2);
  import_result_free(&r);
  /* A syntax error is reported at its physical line (4), and nothing is read. */
  parse(JSON, "[\n{\"fullName\": \"A\"},\n{\"fullName\": \"B\"},\n{\"fullName\" \"C\"}\n]", &r);
  expect_one_error(&r, 4, "", "malformed JSON");
  assert_int_equal(r.n_rows, 0);
  import_result_free(&r);
}

static void test_json_lines(void **state) {
  (void)state;
  import_result r;
  /* One object per line, blank lines skipped, errors at the physical line: line 3 has a bad
   * enum, line 5 is cut short, line 6 holds invalid UTF-8. */
  parse(JSON,
        "\xEF\xBB\xBF{\"fullName\": \"Nguyễn Văn An\"}\r\n"
        "{\"fullName\": \"Trần Thị Bình\", \"gender\": \"GENDER_FEMALE\"}\r\n"
        "{\"fullName\": \"Lê Văn Cường\", \"gender\": \"MAN\"}\n"
        "\n"
        "{\"fullName\": \"Phạm\n"
        "{\"fullName\": \"V\xFF\"}\n"
        "{\"fullName\": \"Đỗ Thị Hoa\", \"employment\": {\"category\": \"CATEGORY_PUBLIC_EMPLOYEE\"}}\n",
        &r);
  if (r.n_errors != 3) dump_errors(&r);
  assert_int_equal(r.n_errors, 3);
  assert_int_equal(r.errors[0]->line, 3);
  assert_string_equal(r.errors[0]->field, "gender");
  assert_int_equal(r.errors[1]->line, 5);
  assert_int_equal(r.errors[2]->line, 6);
  assert_int_equal(r.n_read, 6);
  assert_int_equal(r.n_rows, 3);
  assert_int_equal(r.rows[2].line, 7);
  assert_string_equal(r.rows[2].record->full_name, "Đỗ Thị Hoa");
  import_result_free(&r);
}

static void test_json_one_object(void **state) {
  (void)state;
  import_result r;
  /* One record pretty-printed over several lines (an ExportRecord file) is one row, line 1. */
  parse(JSON, "{\n  \"fullName\": \"Nguyễn Văn An\",\n  \"birthDate\": \"1980-05-02\"\n}\n", &r);
  expect_no_errors(&r);
  assert_int_equal(r.n_rows, 1);
  assert_int_equal(r.rows[0].line, 1);
  assert_string_equal(r.rows[0].record->birth_date, "1980-05-02");
  import_result_free(&r);
  parse(JSON, "  \n ", &r);
  expect_one_error(&r, 1, "", "no records");
  import_result_free(&r);
}

static void test_unknown_format(void **state) {
  (void)state;
  import_result r;
  assert_int_equal(import_parse(HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_UNSPECIFIED, "x", 1, NULL, &r), -1);
}

/* ---- memory bombs: what a file costs in memory follows what it holds ------------------- */

#define PROTO HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_PROTO

/* A bump allocator for the big files, as the service's call arena is one: a hundred megabytes in
 * a few hundred blocks, not in a million mallocs (slow under the sanitizers), freed at once. */
typedef struct block {
  struct block *next;
  size_t used, size;
  _Alignas(16) unsigned char data[];
} block;
static void *bump_alloc(void *d, size_t n) {
  block **head = d;
  n = (n + 15) & ~(size_t)15;
  if (!*head || (*head)->used + n > (*head)->size) {
    size_t size = n > (1u << 20) ? n : 1u << 20;
    block *b = malloc(sizeof *b + size);
    if (!b) return NULL;
    b->next = *head;
    b->used = 0;
    b->size = size;
    *head = b;
  }
  void *p = (*head)->data + (*head)->used;
  (*head)->used += n;
  return p;
}
static void bump_free(void *d, void *p) {
  (void)d;
  (void)p;
}
static void bump_release(block **head) {
  while (*head) {
    block *b = *head;
    *head = b->next;
    free(b);
  }
}

/* head, then n copies of row, exact size. */
static char *repeat(const char *head, const char *row, size_t n, size_t *len) {
  size_t hl = strlen(head), rl = strlen(row);
  char *t = malloc(hl + n * rl + 1);
  memcpy(t, head, hl);
  for (size_t i = 0; i < n; i++) memcpy(t + hl + i * rl, row, rl);
  *len = hl + n * rl;
  t[*len] = 0;
  return t;
}

static size_t entry_size(const char *list) {
  const ProtobufCFieldDescriptor *f =
      protobuf_c_message_descriptor_get_field_by_name(&hoso__records__v1__record__descriptor, list);
  return ((const ProtobufCMessageDescriptor *)f->descriptor)->sizeof_message;
}

/* A list index costs nothing by itself: 10 000 two-byte rows naming work_history[499] take what
 * the same rows naming work_history[0] take (the records process grew to 147 MB on such a file
 * when an index made that many slots in every row), and an index past what validation allows
 * (500 entries) is refused in the header, naming the column. */
static void test_index_costs_nothing(void **state) {
  (void)state;
  size_t len;
  import_result r0, r499, r999;
  char *t0 = repeat("work_history[0].from\n", "x\n", 10000, &len);
  parse_n(CSV, t0, len, &r0);
  char *t499 = repeat("work_history[499].from\n", "x\n", 10000, &len);
  parse_n(CSV, t499, len, &r499);
  fprintf(stderr, "# 10 000 rows: work_history[0] %zu bytes, work_history[499] %zu bytes\n", r0.mem_used,
          r499.mem_used);
  assert_int_equal(r499.n_read, 10000);
  assert_int_equal(r499.rows[9999].record->n_work_history, 1);
  assert_int_equal(r499.mem_used, r0.mem_used);
  char *t999 = repeat("work_history[999].from\n", "x\n", 10000, &len);
  parse_n(CSV, t999, len, &r999);
  expect_one_error(&r999, 1, "work_history[999].from", "from 0 to 499");
  assert_int_equal(r999.n_read, 0);
  import_result_free(&r0);
  import_result_free(&r499);
  import_result_free(&r999);
  free(t0);
  free(t499);
  free(t999);
}

/* Ascending index columns: each row's list is built once, not copied at every index (1 000
 * such columns on 40 rows took 309 MB); 1 000 is past the bound anyway, refused by column. */
static void test_ascending_indexes_linear(void **state) {
  (void)state;
  char *head = malloc(500 * 32 + 2), *row = malloc(500 * 9 + 2);
  size_t h = 0, w = 0;
  for (int i = 0; i < 500; i++) {
    h += (size_t)sprintf(head + h, "%swork_history[%d].from", i ? "," : "", i);
    w += (size_t)sprintf(row + w, "%s2001-09", i ? "," : "");
  }
  sprintf(head + h, "\n");
  sprintf(row + w, "\n");
  size_t len;
  char *t = repeat(head, row, 40, &len);
  import_result r;
  parse_n(CSV, t, len, &r);
  expect_no_errors(&r);
  assert_int_equal(r.rows[39].record->n_work_history, 500);
  /* the entries, their pointers, their texts and the records: nothing grows with the square */
  size_t need = 40 * (sizeof(Hoso__Records__V1__Record) + 500 * (entry_size("work_history") + 8 + 8));
  fprintf(stderr, "# 40 rows x 500 ascending entries: %zu bytes (entries alone %zu)\n", r.mem_used, need);
  assert_true(r.mem_used < need * 3 / 2);
  import_result_free(&r);
  free(t);
  /* the 1 000 columns: the header names the first one too far */
  char *big = malloc(1000 * 32 + 8);
  h = 0;
  for (int i = 0; i < 1000; i++) h += (size_t)sprintf(big + h, "%swork_history[%d].from", i ? "," : "", i);
  sprintf(big + h, "\n");
  parse(CSV, big, &r);
  assert_true(r.n_errors >= 1);
  assert_string_equal(r.errors[0]->field, "work_history[500].from");
  import_result_free(&r);
  free(big);
  free(head);
  free(row);
}

/* A JSON record of 30 000 empty entries: refused by its count of values before the JSON library
 * reads it (read whole, every value of the file took a library object of its own). */
static void test_json_values_per_record(void **state) {
  (void)state;
  size_t len;
  char *t = repeat("[{\"fullName\":\"A\",\"family\":[{}", ",{}", 30000, &len);
  t = realloc(t, len + 8);
  strcpy(t + len, "]}]");
  import_result r;
  parse(JSON, t, &r);
  expect_one_error(&r, 1, "", "more than 20000 values");
  assert_true(r.mem_used < 64 * 1024);
  import_result_free(&r);
  free(t);
}

/* Files of the most a record may hold, record after record: the parse stops when they take
 * IMPORT_MAX_MEMORY and the import is refused whole, naming where; it never takes much more. */
static void check_refused(import_result *r, const char *where) {
  fprintf(stderr, "# refused after %zu records, %zu bytes: %s\n", r->n_rows, r->mem_used, r->refused);
  assert_true(strncmp(r->refused, where, strlen(where)) == 0);
  assert_non_null(strstr(r->refused, "split the file"));
  assert_true(r->mem_used <= IMPORT_MAX_MEMORY + ((size_t)8 << 20));
}

static void test_memory_of_one_import(void **state) {
  (void)state;
  size_t len;
  import_result r;
  block *arena = NULL;
  ProtobufCAllocator bump = {bump_alloc, bump_free, &arena};
  /* JSON: 9 000 empty family entries per record (under the values per record) */
  char *one = repeat("{\"fullName\":\"A\",\"family\":[{}", ",{}", 8999, &len);
  one = realloc(one, len + 4);
  strcpy(one + len, "]}\n");
  char *t = repeat("", one, (4u << 20) / (len + 2), &len);
  assert_int_equal(import_parse(JSON, t, len, &bump, &r), 0);
  check_refused(&r, "content: line ");
  bump_release(&arena);
  free(t);
  free(one);
  /* CSV: 500 family entries a row, one byte each */
  char *head = malloc(500 * 32 + 2), *row = malloc(500 * 2 + 2);
  size_t h = 0, w = 0;
  for (int i = 0; i < 500; i++) {
    h += (size_t)sprintf(head + h, "%sfamily[%d].full_name", i ? "," : "", i);
    w += (size_t)sprintf(row + w, "%sx", i ? "," : "");
  }
  sprintf(head + h, "\n");
  sprintf(row + w, "\n");
  t = repeat(head, row, (4u << 20) / (w + 1), &len);
  assert_int_equal(import_parse(CSV, t, len, &bump, &r), 0);
  check_refused(&r, "content: line ");
  assert_non_null(strstr(r.refused, "column family["));
  bump_release(&arena);
  free(t);
  free(head);
  free(row);
  /* PROTO: records of 1 000 empty family entries (as many as the wire check lets through) */
  const ProtobufCFieldDescriptor *fam =
      protobuf_c_message_descriptor_get_field_by_name(&hoso__records__v1__record__descriptor, "family");
  uint8_t rec[3 * 1000];
  size_t rn = 0;
  for (int i = 0; i < 1000; i++) {
    for (uint32_t tag = fam->id << 3 | 2; tag; tag >>= 7) rec[rn++] = (uint8_t)((tag & 0x7f) | (tag > 0x7f ? 0x80 : 0));
    rec[rn++] = 0;
  }
  size_t per = 2 + rn, count = (4u << 20) / per;
  uint8_t *pb = malloc(count * per);
  for (size_t i = 0; i < count; i++) {
    pb[i * per] = (uint8_t)(0x80 | (rn & 0x7f));
    pb[i * per + 1] = (uint8_t)(rn >> 7);
    memcpy(pb + i * per + 2, rec, rn);
  }
  assert_int_equal(import_parse(PROTO, pb, count * per, &bump, &r), 0);
  if (r.n_errors) dump_errors(&r);
  check_refused(&r, "content: record ");
  bump_release(&arena);
  free(pb);
}

/* A real 4 MiB file fits: 58 000 rows of ten filled columns. */
static void test_real_file_fits(void **state) {
  (void)state;
  size_t len;
  char *t = repeat("full_name,birthDate,gender,personal.ethnicity_code,employment.category,salary.rank_code,"
                   "salary.step,salary.coefficient,qualifications.degree_code,party.party_member\n",
                   "Nguyễn Văn An,1980-05-02,Nam,01,CIVIL_SERVANT,01.003,3,2.67,DH,true\n", 58000, &len);
  import_result r;
  block *arena = NULL;
  ProtobufCAllocator bump = {bump_alloc, bump_free, &arena};
  assert_int_equal(import_parse(CSV, t, len, &bump, &r), 0);
  expect_no_errors(&r);
  fprintf(stderr, "# %zu bytes of CSV, %zu records: %zu bytes\n", len, r.n_rows, r.mem_used);
  assert_true(len > (39u << 20) / 10 && len <= 4u << 20);
  assert_int_equal(r.n_rows, 58000);
  assert_true(r.mem_used < IMPORT_MAX_MEMORY * 3 / 4);
  bump_release(&arena);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csv_basic_fields),
      cmocka_unit_test(test_csv_quotes_newlines_crlf_bom),
      cmocka_unit_test(test_csv_indexed_histories),
      cmocka_unit_test(test_csv_unknown_and_bad_columns),
      cmocka_unit_test(test_csv_bad_values),
      cmocka_unit_test(test_csv_bad_utf8_line),
      cmocka_unit_test(test_csv_nul_byte),
      cmocka_unit_test(test_csv_row_shape),
      cmocka_unit_test(test_error_cap),
      cmocka_unit_test(test_row_cap),
      cmocka_unit_test(test_json_array),
      cmocka_unit_test(test_json_lines),
      cmocka_unit_test(test_json_one_object),
      cmocka_unit_test(test_unknown_format),
      cmocka_unit_test(test_index_costs_nothing),
      cmocka_unit_test(test_ascending_indexes_linear),
      cmocka_unit_test(test_json_values_per_record),
      cmocka_unit_test(test_memory_of_one_import),
      cmocka_unit_test(test_real_file_fits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
