/* The report writers (reporting/doc_*.c) read back by readers that are not ours: the XLSX by
 * exceljs (cells, numbers as numbers, merged heading cells, frozen heading, A4 landscape), the
 * CSV by csv-parse (byte order mark, Vietnamese text, quoting), the PDF by pdftotext (text
 * with its diacritics, page numbers, the heading on every page, the signers on the last one).
 * A form shaped like BM01/BNV's heading: groups over groups over labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "doc.h"

static char dir[64];

static const doc_col cols[] = {
    {.label = "STT", .width = 5},
    {.label = "Tên đơn vị", .width = 28},
    {.label = "Tổng số", .width = 8, .numeric = 1},
    {.label = "Nữ", .groups = {"Trong đó"}, .numeric = 1},
    {.label = "Đảng viên", .groups = {"Trong đó"}, .numeric = 1},
    {.label = "Dân tộc thiểu số", .groups = {"Trong đó"}, .numeric = 1},
    {.label = "Tổng số", .groups = {"Chia theo độ tuổi", "Từ 51 đến 60"}, .numeric = 1},
    {.label = "Nữ từ 51 đến 55", .groups = {"Chia theo độ tuổi", "Từ 51 đến 60"}, .numeric = 1},
    {.label = "Nam từ 56 đến 60", .groups = {"Chia theo độ tuổi", "Từ 51 đến 60"}, .numeric = 1},
    {.label = "Trên tuổi nghỉ hưu", .groups = {"Chia theo độ tuổi"}, .numeric = 1},
    {.label = "Ghi chú, \"đặc biệt\"", .width = 14},
};
enum { NC = sizeof cols / sizeof cols[0], NROWS = 120 };

static const doc_form form = {
    .title = "BÁO CÁO SỐ LƯỢNG, CHẤT LƯỢNG CÔNG CHỨC",
    .subtitle = "Có đến ngày 31 tháng 12 năm 2025",
    .left = {"UBND TỈNH BẮC GIANG", "Đơn vị báo cáo: Ủy ban nhân dân huyện Lục Nam"},
    .right = {"Biểu số 01/BNV", "Đơn vị nhận báo cáo: Bộ Nội vụ", "Đơn vị tính: người"},
    .cols = cols,
    .n_cols = NC,
    .numbered = 1,
    .place_date = "Lục Nam, ngày 15 tháng 01 năm 2026",
    .signers = {"NGƯỜI LẬP BẢNG", "THỦ TRƯỞNG ĐƠN VỊ"},
    .signer_hints = {"(Ký, ghi rõ họ tên)", "(Ký tên, đóng dấu)"},
    .signer_names = {"Nguyễn Thị Lập", "Trần Văn Trưởng"},
};

/* Writes the form with NROWS unit rows and a total row; the numbers are i, 2i, ... */
static void write_file(int format, const char *path) {
  char err[200] = "";
  doc_writer *w = doc_open(format, &form, path, err, sizeof err);
  if (!w) fail_msg("doc_open %d: %s", format, err);
  doc_cell c[NC];
  char stt[16], name[80];
  for (int i = 1; i <= NROWS + 1; i++) {
    int total = i > NROWS;
    snprintf(stt, sizeof stt, "%d", i);
    snprintf(name, sizeof name, "Trường THCS Đồi Ngô số %d", i);
    c[0] = (doc_cell){total ? DOC_EMPTY : DOC_TEXT, stt, 0};
    c[1] = (doc_cell){DOC_TEXT, total ? "Tổng cộng" : name, 0};
    for (int k = 2; k < NC - 1; k++) c[k] = (doc_cell){DOC_NUM, NULL, total ? 1000.0 * k : (double)(i * (k - 1))};
    c[NC - 1] = (doc_cell){i == 3 ? DOC_TEXT : DOC_EMPTY, "biệt phái, \"tạm\"\nđến 2026", 0};
    assert_int_equal(w->row(w, c, total ? DOC_ROW_TOTAL : DOC_ROW), 0);
  }
  assert_int_equal(w->close(w), 0);
}

/* Runs a command and returns its standard output (malloc'd); fails the test on a non-zero exit. */
static char *run(const char *cmd) {
  FILE *p = popen(cmd, "r");
  if (!p) fail_msg("popen %s", cmd);
  size_t cap = 1 << 16, len = 0;
  char *out = malloc(cap);
  size_t got;
  while ((got = fread(out + len, 1, cap - len - 1, p)) > 0) {
    len += got;
    if (cap - len < 1024) out = realloc(out, cap *= 2);
  }
  out[len] = '\0';
  int rc = pclose(p);
  if (rc != 0) {
    free(out);
    fail_msg("%s: exit %d", cmd, rc);
  }
  return out;
}

static json_t *read_back(const char *kind, const char *path) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "%s/tests/readers/read.sh %s %s", HOSO_SOURCE_DIR, kind, path);
  char *out = run(cmd);
  json_error_t e;
  json_t *j = json_loads(out, 0, &e);
  free(out);
  if (!j) fail_msg("%s: not JSON: %s", cmd, e.text);
  return j;
}

/* The cell at 0-based row r, column c of exceljs' rows, or NULL. */
static json_t *cell(json_t *x, size_t r, size_t c) {
  json_t *row = json_array_get(json_object_get(x, "rows"), r);
  json_t *v = row ? json_array_get(row, c) : NULL;
  return v && json_is_object(v) ? json_object_get(v, "v") : NULL;
}

/* The first row whose cell in column c is the text s, or -1. */
static long find_row(json_t *x, size_t c, const char *s) {
  json_t *rows = json_object_get(x, "rows");
  for (size_t r = 0; r < json_array_size(rows); r++) {
    json_t *v = cell(x, r, c);
    if (json_is_string(v) && !strcmp(json_string_value(v), s)) return (long)r;
  }
  return -1;
}

static int has_merge(json_t *x, const char *range) {
  json_t *m = json_object_get(x, "merges");
  for (size_t i = 0; i < json_array_size(m); i++)
    if (!strcmp(json_string_value(json_array_get(m, i)), range)) return 1;
  return 0;
}

static void test_xlsx(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/form.xlsx", dir);
  write_file(DOC_XLSX, path);
  json_t *x = read_back("xlsx", path);
  assert_string_equal(json_string_value(json_object_get(x, "orientation")), "landscape");
  assert_int_equal(json_integer_value(json_object_get(x, "paper")), 9);
  long title = find_row(x, 0, form.title);
  assert_true(title > 0);
  assert_string_equal(json_string_value(cell(x, 0, 0)), "UBND TỈNH BẮC GIANG");
  long head = find_row(x, 0, "STT");
  assert_true(head > title);
  /* the heading: three rows; STT and Tên đơn vị span them, "Trong đó" spans three columns,
   * "Chia theo độ tuổi" four, "Từ 51 đến 60" three on the middle row */
  char r[64];
  snprintf(r, sizeof r, "A%ld:A%ld", head + 1, head + 3);
  assert_true(has_merge(x, r));
  snprintf(r, sizeof r, "D%ld:F%ld", head + 1, head + 1);
  assert_true(has_merge(x, r));
  snprintf(r, sizeof r, "D%ld:D%ld", head + 2, head + 3);
  assert_true(has_merge(x, r));
  snprintf(r, sizeof r, "G%ld:J%ld", head + 1, head + 1);
  assert_true(has_merge(x, r));
  snprintf(r, sizeof r, "G%ld:I%ld", head + 2, head + 2);
  assert_true(has_merge(x, r));
  snprintf(r, sizeof r, "J%ld:J%ld", head + 2, head + 3);
  assert_true(has_merge(x, r));
  assert_string_equal(json_string_value(cell(x, (size_t)head, 3)), "Trong đó");
  assert_string_equal(json_string_value(cell(x, (size_t)head + 1, 6)), "Từ 51 đến 60");
  assert_string_equal(json_string_value(cell(x, (size_t)head + 2, 7)), "Nữ từ 51 đến 55");
  /* the column numbers, then the frozen heading */
  assert_string_equal(json_string_value(cell(x, (size_t)head + 3, 10)), "11");
  assert_int_equal(json_integer_value(json_object_get(x, "frozen_rows")), head + 4);
  /* rows: numbers are numbers */
  long first = head + 4;
  assert_string_equal(json_string_value(cell(x, (size_t)first, 1)), "Trường THCS Đồi Ngô số 1");
  for (int i = 1; i <= NROWS; i += 37)
    for (int k = 2; k < NC - 1; k++) {
      json_t *v = cell(x, (size_t)(first + i - 1), (size_t)k);
      if (!json_is_number(v)) fail_msg("row %d col %d is not a number", i, k);
      assert_int_equal((long)json_number_value(v), i * (k - 1));
    }
  assert_string_equal(json_string_value(cell(x, (size_t)first + 2, NC - 1)), "biệt phái, \"tạm\"\nđến 2026");
  long total = find_row(x, 1, "Tổng cộng");
  assert_int_equal(total, first + NROWS);
  assert_int_equal((long)json_number_value(cell(x, (size_t)total, 9)), 9000);
  /* the signers below */
  long sign = find_row(x, 0, "NGƯỜI LẬP BẢNG");
  assert_true(sign > total);
  json_decref(x);
}

static void test_csv(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/form.csv", dir);
  write_file(DOC_CSV, path);
  json_t *x = read_back("csv", path);
  assert_true(json_is_true(json_object_get(x, "bom")));
  json_t *recs = json_object_get(x, "records");
  assert_int_equal(json_array_size(recs), NROWS + 2);
  json_t *h = json_array_get(recs, 0);
  assert_string_equal(json_string_value(json_array_get(h, 3)), "Trong đó - Nữ");
  assert_string_equal(json_string_value(json_array_get(h, 7)), "Chia theo độ tuổi - Từ 51 đến 60 - Nữ từ 51 đến 55");
  assert_string_equal(json_string_value(json_array_get(h, 10)), "Ghi chú, \"đặc biệt\"");
  json_t *r3 = json_array_get(recs, 3);
  assert_string_equal(json_string_value(json_array_get(r3, 1)), "Trường THCS Đồi Ngô số 3");
  assert_string_equal(json_string_value(json_array_get(r3, 5)), "12");
  assert_string_equal(json_string_value(json_array_get(r3, 10)), "biệt phái, \"tạm\"\nđến 2026");
  json_t *tot = json_array_get(recs, NROWS + 1);
  assert_string_equal(json_string_value(json_array_get(tot, 1)), "Tổng cộng");
  assert_string_equal(json_string_value(json_array_get(tot, 9)), "9000");
  json_decref(x);
}

static void test_pdf(void **state) {
  (void)state;
  char path[128], cmd[300];
  snprintf(path, sizeof path, "%s/form.pdf", dir);
  write_file(DOC_PDF, path);
  snprintf(cmd, sizeof cmd, "pdfinfo %s", path);
  char *info = run(cmd);
  if (!strstr(info, "841.89 x 595.28")) fail_msg("not A4 landscape: %s", info);
  char *pages = strstr(info, "Pages:");
  assert_non_null(pages);
  int n = atoi(pages + 6);
  assert_true(n >= 3);
  free(info);
  snprintf(cmd, sizeof cmd, "pdftotext -layout %s -", path);
  char *txt = run(cmd);
  assert_non_null(strstr(txt, "BÁO CÁO SỐ LƯỢNG, CHẤT LƯỢNG CÔNG CHỨC"));
  assert_non_null(strstr(txt, "Ủy ban nhân dân huyện Lục Nam"));
  assert_non_null(strstr(txt, "Trường THCS Đồi Ngô số 120"));
  /* page by page: a number at each foot, the heading on each, the signers on the last only */
  char *page = txt;
  for (int p = 1; p <= n; p++) {
    char *end = strchr(page, '\f');
    if (end) *end = '\0';
    char want[32];
    snprintf(want, sizeof want, "Trang %d", p);
    if (!strstr(page, want)) fail_msg("page %d has no '%s'", p, want);
    if (!strstr(page, "Trong đó")) fail_msg("page %d has no heading", p);
    int signers = strstr(page, "THỦ TRƯỞNG ĐƠN VỊ") != NULL;
    if (signers != (p == n)) fail_msg("page %d of %d: signer block %s", p, n, signers ? "present" : "missing");
    if (p == n) assert_non_null(strstr(page, "Trần Văn Trưởng"));
    page = end ? end + 1 : page + strlen(page);
  }
  free(txt);
}

static void test_bad_path(void **state) {
  (void)state;
  char err[200] = "";
  for (int f = DOC_XLSX; f <= DOC_CSV; f++) {
    doc_writer *w = doc_open(f, &form, "/nonexistent-dir/x", err, sizeof err);
    if (w) {
      /* libxlsxwriter only fails when it writes the file */
      doc_cell c[NC] = {{0}};
      w->row(w, c, DOC_ROW);
      assert_int_not_equal(w->close(w), 0);
    } else {
      assert_non_null(strstr(err, "cannot write"));
    }
  }
  assert_null(doc_open(9, &form, "/tmp/x", err, sizeof err));
  assert_non_null(strstr(err, "format"));
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/hoso-formats-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_xlsx),
      cmocka_unit_test(test_csv),
      cmocka_unit_test(test_pdf),
      cmocka_unit_test(test_bad_path),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
