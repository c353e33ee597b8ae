/* The XLSX writer (libxlsxwriter in constant_memory mode: each row goes to disk when the next
 * starts). Merged cells are written as that mode allows: every cell of a row first, then the
 * merges that end on that row, so no call ever reaches back to a row already written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>
#include "doc.h"

typedef struct {
  doc_writer base;
  const doc_form *f;
  lxw_workbook *wb;
  lxw_worksheet *ws;
  lxw_format *plain, *bold, *title, *head, *num, *text, *tot_num, *tot_text, *italic;
  lxw_row_t row; /* next row to write */
  size_t n;      /* columns */
} xw;

/* A merge to register once its last row is reached. */
typedef struct {
  lxw_row_t r0, r1;
  lxw_col_t c0, c1;
  const char *text;
  lxw_format *fmt;
} merge;

/* Writes one line of text across columns c0..c1 of the current row (merged when wider). */
static void line(xw *w, lxw_col_t c0, lxw_col_t c1, const char *text, lxw_format *fmt) {
  worksheet_write_string(w->ws, w->row, c0, text ? text : "", fmt);
  for (lxw_col_t c = c0 + 1; c <= c1; c++) worksheet_write_blank(w->ws, w->row, c, fmt);
  if (c1 > c0) worksheet_merge_range(w->ws, w->row, c0, w->row, c1, text ? text : "", fmt);
}

static lxw_col_t last_col(const xw *w) { return (lxw_col_t)(w->n ? w->n - 1 : 0); }

static void top_block(xw *w) {
  size_t third = w->n / 3 ? w->n / 3 : 1;
  lxw_col_t l1 = (lxw_col_t)(third - 1), r0 = (lxw_col_t)(w->n - third);
  if (r0 <= l1) r0 = l1 + 1;
  for (int i = 0; i < DOC_MAX_LINES && (w->f->left[i] || w->f->right[i]); i++) {
    if (w->f->left[i]) line(w, 0, l1, w->f->left[i], i == 0 ? w->bold : w->plain);
    if (w->f->right[i] && r0 <= last_col(w)) line(w, r0, last_col(w), w->f->right[i], i == 0 ? w->bold : w->italic);
    w->row++;
  }
  w->row++;
  if (w->f->title) line(w, 0, last_col(w), w->f->title, w->title), w->row++;
  if (w->f->subtitle) line(w, 0, last_col(w), w->f->subtitle, w->italic), w->row++;
  w->row++;
}

static int heading(xw *w) {
  doc_head *h = NULL;
  size_t nh = 0;
  int depth = doc_heading(w->f, &h, &nh);
  if (depth < 0) return -1;
  lxw_row_t base = w->row;
  for (int r = 0; r < depth; r++) {
    /* every cell of the row: the heading that starts here, or a bordered blank */
    for (size_t c = 0; c < w->n; c++) worksheet_write_blank(w->ws, base + r, (lxw_col_t)c, w->head);
    for (size_t i = 0; i < nh; i++)
      if (h[i].r0 == r) worksheet_write_string(w->ws, base + r, (lxw_col_t)h[i].c0, h[i].text, w->head);
    for (size_t i = 0; i < nh; i++)
      if (h[i].r1 == r && (h[i].r0 != h[i].r1 || h[i].c0 != h[i].c1))
        worksheet_merge_range(w->ws, base + (lxw_row_t)h[i].r0, (lxw_col_t)h[i].c0, base + (lxw_row_t)h[i].r1,
                              (lxw_col_t)h[i].c1, h[i].text, w->head);
  }
  free(h);
  w->row = base + (lxw_row_t)depth;
  if (w->f->numbered) {
    for (size_t c = 0; c < w->n; c++) {
      char num[24];
      snprintf(num, sizeof num, "%s", w->f->cols[c].number ? w->f->cols[c].number : "");
      if (!w->f->cols[c].number) snprintf(num, sizeof num, "%zu", c + 1);
      worksheet_write_string(w->ws, w->row, (lxw_col_t)c, num, w->head);
    }
    w->row++;
  }
  worksheet_freeze_panes(w->ws, w->row, 0);
  worksheet_repeat_rows(w->ws, base, w->row - 1);
  return 0;
}

static int xw_row(doc_writer *dw, const doc_cell *cells, int style) {
  xw *w = (xw *)dw;
  for (size_t c = 0; c < w->n; c++) {
    const doc_cell *x = &cells[c];
    lxw_format *fn = style == DOC_ROW_TOTAL ? w->tot_num : w->num;
    lxw_format *ft = style == DOC_ROW_TOTAL ? w->tot_text : w->text;
    lxw_error e = LXW_NO_ERROR;
    if (x->kind == DOC_NUM)
      e = worksheet_write_number(w->ws, w->row, (lxw_col_t)c, x->num, fn);
    else if (x->kind == DOC_TEXT && x->text)
      e = worksheet_write_string(w->ws, w->row, (lxw_col_t)c, x->text, ft);
    else
      e = worksheet_write_blank(w->ws, w->row, (lxw_col_t)c, w->f->cols[c].numeric ? fn : ft);
    if (e != LXW_NO_ERROR) return -1;
  }
  w->row++;
  return 0;
}

static void signers(xw *w) {
  int ns = 0;
  while (ns < DOC_MAX_SIGNERS && w->f->signers[ns]) ns++;
  w->row++;
  if (w->f->place_date) {
    size_t third = w->n / 3 ? w->n / 3 : 1;
    line(w, (lxw_col_t)(w->n - third), last_col(w), w->f->place_date, w->italic);
    w->row++;
  }
  if (ns == 0) return;
  size_t span = w->n / (size_t)ns ? w->n / (size_t)ns : 1;
  const char *const *rows[3] = {w->f->signers, w->f->signer_hints, w->f->signer_names};
  for (int k = 0; k < 3; k++) {
    if (k == 2) w->row += 3; /* room to sign */
    for (int s = 0; s < ns; s++) {
      lxw_col_t c0 = (lxw_col_t)((size_t)s * span), c1 = (lxw_col_t)(s == ns - 1 ? w->n - 1 : (size_t)(s + 1) * span - 1);
      if (rows[k][s]) line(w, c0, c1, rows[k][s], k == 1 ? w->italic : w->bold);
    }
    w->row++;
  }
}

static int xw_close(doc_writer *dw) {
  xw *w = (xw *)dw;
  signers(w);
  lxw_error e = workbook_close(w->wb);
  free(w);
  return e == LXW_NO_ERROR ? 0 : -1;
}

static void xw_abort(doc_writer *dw) {
  xw *w = (xw *)dw;
  workbook_close(w->wb);
  free(w);
}

static lxw_format *fmt(lxw_workbook *wb, int bold, int border, int align, int wrap, double size) {
  lxw_format *f = workbook_add_format(wb);
  format_set_font_name(f, "Times New Roman");
  format_set_font_size(f, size);
  if (bold) format_set_bold(f);
  if (border) format_set_border(f, LXW_BORDER_THIN);
  if (align) format_set_align(f, (uint8_t)align);
  if (wrap) format_set_text_wrap(f);
  format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
  return f;
}

doc_writer *doc_xlsx_open(const doc_form *f, const char *path, char *err, size_t errlen) {
  xw *w = calloc(1, sizeof *w);
  if (!w) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
  w->wb = workbook_new_opt(path, &opt);
  if (!w->wb || !(w->ws = workbook_add_worksheet(w->wb, "Báo cáo"))) {
    snprintf(err, errlen, "cannot write %s", path);
    if (w->wb) workbook_close(w->wb);
    free(w);
    return NULL;
  }
  w->base.row = xw_row;
  w->base.close = xw_close;
  w->base.abort = xw_abort;
  w->f = f;
  w->n = f->n_cols;
  w->plain = fmt(w->wb, 0, 0, LXW_ALIGN_CENTER, 0, 11);
  w->bold = fmt(w->wb, 1, 0, LXW_ALIGN_CENTER, 0, 11);
  w->italic = fmt(w->wb, 0, 0, LXW_ALIGN_CENTER, 0, 11);
  format_set_italic(w->italic);
  w->title = fmt(w->wb, 1, 0, LXW_ALIGN_CENTER, 0, 14);
  w->head = fmt(w->wb, 1, 1, LXW_ALIGN_CENTER, 1, 10);
  w->num = fmt(w->wb, 0, 1, LXW_ALIGN_RIGHT, 0, 11);
  w->text = fmt(w->wb, 0, 1, LXW_ALIGN_LEFT, 1, 11);
  w->tot_num = fmt(w->wb, 1, 1, LXW_ALIGN_RIGHT, 0, 11);
  w->tot_text = fmt(w->wb, 1, 1, LXW_ALIGN_LEFT, 1, 11);
  /* A4 landscape, as wide as one page, the heading on every page */
  worksheet_set_paper(w->ws, 9);
  worksheet_set_landscape(w->ws);
  worksheet_fit_to_pages(w->ws, 1, 0);
  worksheet_set_margins(w->ws, 0.4, 0.4, 0.5, 0.5);
  worksheet_set_footer(w->ws, "&CTrang &P/&N");
  for (size_t c = 0; c < w->n; c++)
    worksheet_set_column(w->ws, (lxw_col_t)c, (lxw_col_t)c, f->cols[c].width > 0 ? f->cols[c].width : 10, NULL);
  top_block(w);
  if (heading(w) != 0) {
    snprintf(err, errlen, "out of memory");
    xw_abort(&w->base);
    return NULL;
  }
  return &w->base;
}
