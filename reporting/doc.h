/* A report document: the form's header and signer blocks, a table with grouped column headings
 * and rows written one at a time, to an XLSX, PDF or CSV file (doc_xlsx.c, doc_pdf.c,
 * doc_csv.c). Rows are streamed: memory does not grow with their number. */
#ifndef HOSO_REPORTING_DOC_H
#define HOSO_REPORTING_DOC_H

#include <stddef.h>

enum { DOC_XLSX = 1, DOC_PDF = 2, DOC_CSV = 3 }; /* hoso.reporting.v1.Format */
enum { DOC_MAX_GROUPS = 3, DOC_MAX_LINES = 4, DOC_MAX_SIGNERS = 3 };

typedef struct {
  const char *label;                    /* the column's own heading */
  const char *groups[DOC_MAX_GROUPS];   /* headings above it, outermost first (NULL ends) */
  const char *number;                   /* printed in the numbering row (NULL: its position) */
  double width;                         /* in characters; 0: the writer's default */
  int numeric;                          /* numbers right-aligned */
} doc_col;

typedef struct {
  const char *title;                    /* centred, bold: "BÁO CÁO SỐ LƯỢNG, CHẤT LƯỢNG ..." */
  const char *subtitle;                 /* "Có đến ngày 31/12/2025" */
  const char *left[DOC_MAX_LINES];      /* top left: "Đơn vị báo cáo: ..." */
  const char *right[DOC_MAX_LINES];     /* top right: "Biểu số 01/BNV", "Đơn vị tính: người" */
  const doc_col *cols;
  size_t n_cols;
  int numbered;                         /* a row of column numbers under the headings */
  const char *place_date;               /* above the signers: "..., ngày ... tháng ... năm ..." */
  const char *signers[DOC_MAX_SIGNERS]; /* "Người lập bảng", "Thủ trưởng đơn vị" */
  const char *signer_hints[DOC_MAX_SIGNERS]; /* "(Ký, ghi rõ họ tên)" */
  const char *signer_names[DOC_MAX_SIGNERS];
} doc_form;

enum { DOC_EMPTY = 0, DOC_TEXT = 1, DOC_NUM = 2 };
typedef struct {
  int kind;
  const char *text;
  double num;
} doc_cell;

enum { DOC_ROW = 0, DOC_ROW_TOTAL = 1 };

typedef struct doc_writer doc_writer;
struct doc_writer {
  int (*row)(doc_writer *w, const doc_cell *cells, int style); /* 0 / -1 */
  int (*close)(doc_writer *w);  /* the signer block, then the file is complete; frees w. 0/-1 */
  void (*abort)(doc_writer *w); /* frees w, the file is left incomplete */
};

/* Opens a writer of `format` into the file at `path` (created or truncated). NULL with err set
 * ("cannot write ...") on failure. f and everything it points to must outlive the writer. */
doc_writer *doc_open(int format, const doc_form *f, const char *path, char *err, size_t errlen);

/* The heading cells of f's table, the same for every format: rows 0..depth-1 of the heading,
 * each cell spanning rows r0..r1 and columns c0..c1. */
typedef struct {
  int r0, r1;
  size_t c0, c1;
  const char *text;
} doc_head;

/* The heading's depth (rows) and cells; *heads is malloc'd (n at most n_cols * depth). */
int doc_heading(const doc_form *f, doc_head **heads, size_t *n);

doc_writer *doc_xlsx_open(const doc_form *f, const char *path, char *err, size_t errlen);
doc_writer *doc_pdf_open(const doc_form *f, const char *path, char *err, size_t errlen);
doc_writer *doc_csv_open(const doc_form *f, const char *path, char *err, size_t errlen);

/* Frees the font caches pango, fontconfig and cairo keep for the process (at its end, after the
 * last PDF: they are built again if needed). */
void doc_pdf_cleanup(void);

#endif
