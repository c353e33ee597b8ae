/* doc_open and the table heading every format draws alike: a column's groups above its label,
 * equal neighbouring groups merged, a label spanning down to the heading's last row. */
#include "doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

doc_writer *doc_open(int format, const doc_form *f, const char *path, char *err, size_t errlen) {
  switch (format) {
  case DOC_XLSX: return doc_xlsx_open(f, path, err, errlen);
  case DOC_PDF: return doc_pdf_open(f, path, err, errlen);
  case DOC_CSV: return doc_csv_open(f, path, err, errlen);
  default: snprintf(err, errlen, "format: unknown (%d)", format); return NULL;
  }
}

static int n_groups(const doc_col *c) {
  int n = 0;
  while (n < DOC_MAX_GROUPS && c->groups[n]) n++;
  return n;
}

/* Columns a and b share their groups down to level `level` (inclusive). */
static int same_groups(const doc_col *a, const doc_col *b, int level) {
  if (n_groups(a) <= level || n_groups(b) <= level) return 0;
  for (int i = 0; i <= level; i++)
    if (strcmp(a->groups[i], b->groups[i]) != 0) return 0;
  return 1;
}

int doc_heading(const doc_form *f, doc_head **heads, size_t *n) {
  int depth = 1;
  for (size_t c = 0; c < f->n_cols; c++)
    if (n_groups(&f->cols[c]) + 1 > depth) depth = n_groups(&f->cols[c]) + 1;
  doc_head *h = malloc((f->n_cols ? f->n_cols : 1) * (size_t)depth * sizeof *h);
  *heads = h;
  *n = 0;
  if (!h) return -1;
  for (int level = 0; level < depth; level++) {
    for (size_t c = 0; c < f->n_cols;) {
      const doc_col *col = &f->cols[c];
      int g = n_groups(col);
      if (level < g) {
        /* a group heading: spans the neighbours with the same groups down to this level */
        size_t end = c;
        while (end + 1 < f->n_cols && same_groups(col, &f->cols[end + 1], level)) end++;
        h[(*n)++] = (doc_head){level, level, c, end, col->groups[level]};
        c = end + 1;
      } else {
        if (level == g) h[(*n)++] = (doc_head){level, depth - 1, c, c, col->label};
        c++;
      }
    }
  }
  return depth;
}
