/* The CSV writer: UTF-8 with a byte order mark (so spreadsheet programs read Vietnamese right),
 * one heading row (a column's groups and label joined by " - "), RFC 4180 quoting, CRLF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "doc.h"

typedef struct {
  doc_writer base;
  const doc_form *f;
  FILE *out;
} cw;

static void field(FILE *out, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"') fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static int cw_row(doc_writer *dw, const doc_cell *cells, int style) {
  (void)style;
  cw *w = (cw *)dw;
  for (size_t c = 0; c < w->f->n_cols; c++) {
    if (c) fputc(',', w->out);
    if (cells[c].kind == DOC_NUM) {
      char num[40];
      snprintf(num, sizeof num, "%.15g", cells[c].num);
      fputs(num, w->out);
    } else if (cells[c].kind == DOC_TEXT && cells[c].text) {
      field(w->out, cells[c].text);
    }
  }
  fputs("\r\n", w->out);
  return ferror(w->out) ? -1 : 0;
}

static int cw_close(doc_writer *dw) {
  cw *w = (cw *)dw;
  int rc = ferror(w->out) || fclose(w->out) != 0 ? -1 : 0;
  free(w);
  return rc;
}

static void cw_abort(doc_writer *dw) {
  cw *w = (cw *)dw;
  fclose(w->out);
  free(w);
}

doc_writer *doc_csv_open(const doc_form *f, const char *path, char *err, size_t errlen) {
  cw *w = calloc(1, sizeof *w);
  if (!w || !(w->out = fopen(path, "wb"))) {
    snprintf(err, errlen, "cannot write %s", path);
    free(w);
    return NULL;
  }
  w->base.row = cw_row;
  w->base.close = cw_close;
  w->base.abort = cw_abort;
  w->f = f;
  fputs("\xEF\xBB\xBF", w->out);
  for (size_t c = 0; c < f->n_cols; c++) {
    if (c) fputc(',', w->out);
    char head[1024] = "";
    size_t o = 0;
    for (int g = 0; g < DOC_MAX_GROUPS && f->cols[c].groups[g]; g++)
      o += (size_t)snprintf(head + o, o < sizeof head ? sizeof head - o : 0, "%s - ", f->cols[c].groups[g]);
    if (o < sizeof head) snprintf(head + o, sizeof head - o, "%s", f->cols[c].label ? f->cols[c].label : "");
    field(w->out, head);
  }
  fputs("\r\n", w->out);
  return &w->base;
}
