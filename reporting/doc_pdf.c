/* The PDF writer (cairo + pango, Noto Serif from fonts-noto-core, which pango shapes with
 * Vietnamese's stacked diacritics): A4 landscape, the form's header on the first page, the
 * table heading on every page, "Trang N" at the foot, the signer block on the last page. */
#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "doc.h"

#define PAGE_W 841.89
#define PAGE_H 595.28
#define MARGIN 28.0
#define FOOT 20.0
#define PAD 2.0
#define FONT "Noto Serif"

typedef struct {
  doc_writer base;
  const doc_form *f;
  cairo_surface_t *surface;
  cairo_t *cr;
  double *x;          /* column left edges, n + 1 */
  doc_head *heads;
  size_t n_heads;
  int depth;
  double *head_h;     /* heading row heights */
  double y;           /* where the next row goes */
  int page;
} pw;

/* Draws text in the box (x, y, w) and returns its height; draw 0 only measures. */
static double text(pw *w, const char *s, double x, double y, double width, double size, int bold, int italic,
                   PangoAlignment align, int draw) {
  PangoLayout *l = pango_cairo_create_layout(w->cr);
  PangoFontDescription *fd = pango_font_description_from_string(FONT);
  pango_font_description_set_size(fd, (gint)(size * PANGO_SCALE));
  if (bold) pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
  if (italic) pango_font_description_set_style(fd, PANGO_STYLE_ITALIC);
  pango_layout_set_font_description(l, fd);
  pango_layout_set_width(l, (int)((width - 2 * PAD) * PANGO_SCALE));
  pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment(l, align);
  pango_layout_set_text(l, s ? s : "", -1);
  int pw_, ph;
  pango_layout_get_size(l, &pw_, &ph);
  if (draw) {
    cairo_move_to(w->cr, x + PAD, y + PAD);
    pango_cairo_show_layout(w->cr, l);
  }
  pango_font_description_free(fd);
  g_object_unref(l);
  return (double)ph / PANGO_SCALE + 2 * PAD;
}

static void foot(pw *w) {
  char num[32];
  snprintf(num, sizeof num, "Trang %d", w->page);
  text(w, num, MARGIN, PAGE_H - MARGIN - FOOT + 6, PAGE_W - 2 * MARGIN, 8, 0, 0, PANGO_ALIGN_CENTER, 1);
}

static void box(pw *w, double x0, double y0, double x1, double y1) {
  cairo_rectangle(w->cr, x0, y0, x1 - x0, y1 - y0);
  cairo_set_line_width(w->cr, 0.5);
  cairo_stroke(w->cr);
}

static void draw_heading(pw *w) {
  double y0 = w->y;
  for (size_t i = 0; i < w->n_heads; i++) {
    const doc_head *h = &w->heads[i];
    double top = y0, bottom = y0;
    for (int r = 0; r < h->r0; r++) top += w->head_h[r];
    for (int r = 0; r <= h->r1; r++) bottom += w->head_h[r];
    box(w, w->x[h->c0], top, w->x[h->c1 + 1], bottom);
    text(w, h->text, w->x[h->c0], top, w->x[h->c1 + 1] - w->x[h->c0], 7, 1, 0, PANGO_ALIGN_CENTER, 1);
  }
  for (int r = 0; r < w->depth; r++) w->y += w->head_h[r];
  if (w->f->numbered) {
    for (size_t c = 0; c < w->f->n_cols; c++) {
      char num[24];
      snprintf(num, sizeof num, "%s", w->f->cols[c].number ? w->f->cols[c].number : "");
      if (!w->f->cols[c].number) snprintf(num, sizeof num, "%zu", c + 1);
      box(w, w->x[c], w->y, w->x[c + 1], w->y + 12);
      text(w, num, w->x[c], w->y - 1, w->x[c + 1] - w->x[c], 6, 0, 1, PANGO_ALIGN_CENTER, 1);
    }
    w->y += 12;
  }
}

static void new_page(pw *w) {
  if (w->page > 0) {
    foot(w);
    cairo_show_page(w->cr);
  }
  w->page++;
  w->y = MARGIN;
}

static double bottom(void) { return PAGE_H - MARGIN - FOOT; }

static int pw_row(doc_writer *dw, const doc_cell *cells, int style) {
  pw *w = (pw *)dw;
  size_t n = w->f->n_cols;
  double h = 14;
  char num[40];
  for (size_t c = 0; c < n; c++) {
    const char *s = cells[c].kind == DOC_TEXT ? cells[c].text : NULL;
    if (s) {
      double t = text(w, s, w->x[c], 0, w->x[c + 1] - w->x[c], 7.5, style == DOC_ROW_TOTAL, 0, PANGO_ALIGN_LEFT, 0);
      if (t > h) h = t;
    }
  }
  if (w->y + h > bottom()) {
    new_page(w);
    draw_heading(w);
  }
  for (size_t c = 0; c < n; c++) {
    box(w, w->x[c], w->y, w->x[c + 1], w->y + h);
    const char *s = NULL;
    PangoAlignment al = PANGO_ALIGN_LEFT;
    if (cells[c].kind == DOC_NUM) {
      snprintf(num, sizeof num, "%.15g", cells[c].num);
      s = num;
      al = PANGO_ALIGN_RIGHT;
    } else if (cells[c].kind == DOC_TEXT) {
      s = cells[c].text;
    }
    if (s) text(w, s, w->x[c], w->y, w->x[c + 1] - w->x[c], 7.5, style == DOC_ROW_TOTAL, 0, al, 1);
  }
  w->y += h;
  return cairo_status(w->cr) == CAIRO_STATUS_SUCCESS ? 0 : -1;
}

static void free_pw(pw *w) {
  if (w->cr) cairo_destroy(w->cr);
  if (w->surface) cairo_surface_destroy(w->surface);
  free(w->x);
  free(w->heads);
  free(w->head_h);
  free(w);
}

static int pw_close(doc_writer *dw) {
  pw *w = (pw *)dw;
  const doc_form *f = w->f;
  int ns = 0;
  while (ns < DOC_MAX_SIGNERS && f->signers[ns]) ns++;
  double need = 110;
  if (w->y + need > bottom()) new_page(w);
  w->y += 12;
  double width = PAGE_W - 2 * MARGIN;
  if (f->place_date) {
    text(w, f->place_date, MARGIN + width / 2, w->y, width / 2, 9, 0, 1, PANGO_ALIGN_CENTER, 1);
    w->y += 14;
  }
  double span = ns ? width / ns : width;
  for (int s = 0; s < ns; s++) {
    double x = MARGIN + s * span;
    double y = w->y;
    y += text(w, f->signers[s], x, y, span, 10, 1, 0, PANGO_ALIGN_CENTER, 1);
    if (f->signer_hints[s]) text(w, f->signer_hints[s], x, y, span, 8, 0, 1, PANGO_ALIGN_CENTER, 1);
    if (f->signer_names[s]) text(w, f->signer_names[s], x, y + 60, span, 10, 1, 0, PANGO_ALIGN_CENTER, 1);
  }
  foot(w);
  cairo_show_page(w->cr);
  cairo_surface_finish(w->surface);
  int rc = cairo_surface_status(w->surface) == CAIRO_STATUS_SUCCESS ? 0 : -1;
  free_pw(w);
  return rc;
}

static void pw_abort(doc_writer *dw) { free_pw((pw *)dw); }

static void at_exit(void) { atexit(doc_pdf_cleanup); }

doc_writer *doc_pdf_open(const doc_form *f, const char *path, char *err, size_t errlen) {
  /* the font caches are the process's: freed once, when it ends */
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, at_exit);
  pw *w = calloc(1, sizeof *w);
  if (!w) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  w->base.row = pw_row;
  w->base.close = pw_close;
  w->base.abort = pw_abort;
  w->f = f;
  w->surface = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
  if (cairo_surface_status(w->surface) != CAIRO_STATUS_SUCCESS) {
    snprintf(err, errlen, "cannot write %s", path);
    free_pw(w);
    return NULL;
  }
  w->cr = cairo_create(w->surface);
  size_t n = f->n_cols;
  w->x = calloc(n + 1, sizeof *w->x);
  w->depth = doc_heading(f, &w->heads, &w->n_heads);
  w->head_h = calloc(w->depth > 0 ? (size_t)w->depth : 1, sizeof *w->head_h);
  if (!w->x || w->depth < 0 || !w->head_h) {
    snprintf(err, errlen, "out of memory");
    free_pw(w);
    return NULL;
  }
  double total = 0;
  for (size_t c = 0; c < n; c++) total += f->cols[c].width > 0 ? f->cols[c].width : 10;
  w->x[0] = MARGIN;
  for (size_t c = 0; c < n; c++)
    w->x[c + 1] = w->x[c] + (PAGE_W - 2 * MARGIN) * (f->cols[c].width > 0 ? f->cols[c].width : 10) / total;
  /* heading rows: as tall as their tallest one-row cell; a taller spanning cell grows its last row */
  for (int r = 0; r < w->depth; r++) w->head_h[r] = 14;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < w->n_heads; i++) {
      const doc_head *h = &w->heads[i];
      if ((pass == 0) != (h->r0 == h->r1)) continue;
      double t = text(w, h->text, 0, 0, w->x[h->c1 + 1] - w->x[h->c0], 7, 1, 0, PANGO_ALIGN_CENTER, 0), have = 0;
      for (int r = h->r0; r <= h->r1; r++) have += w->head_h[r];
      if (t > have) w->head_h[h->r1] += t - have;
    }
  new_page(w);
  /* the form's header: left and right blocks, title, subtitle */
  double width = PAGE_W - 2 * MARGIN, yl = w->y, yr = w->y;
  for (int i = 0; i < DOC_MAX_LINES; i++) {
    if (f->left[i]) yl += text(w, f->left[i], MARGIN, yl, width * 0.45, 9, i == 0, 0, PANGO_ALIGN_CENTER, 1);
    if (f->right[i]) yr += text(w, f->right[i], MARGIN + width * 0.55, yr, width * 0.45, 9, i == 0, i > 0, PANGO_ALIGN_CENTER, 1);
  }
  w->y = (yl > yr ? yl : yr) + 6;
  if (f->title) w->y += text(w, f->title, MARGIN, w->y, width, 12, 1, 0, PANGO_ALIGN_CENTER, 1);
  if (f->subtitle) w->y += text(w, f->subtitle, MARGIN, w->y, width, 9, 0, 1, PANGO_ALIGN_CENTER, 1);
  w->y += 6;
  draw_heading(w);
  return &w->base;
}

void doc_pdf_cleanup(void) {
  pango_cairo_font_map_set_default(NULL);
  cairo_debug_reset_static_data();
  FcFini();
}
