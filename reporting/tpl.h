/* Report templates as data (docs/REPORT_TEMPLATES.md): a JSON definition parsed and checked
 * here, every fault named by its path ("definition.columns[4].when.gender: ..."), and turned
 * into the document's form once the unit and the day are known (pure). */
#ifndef HOSO_REPORTING_TPL_H
#define HOSO_REPORTING_TPL_H

#include <jansson.h>
#include <stddef.h>
#include "doc.h"

enum { TPL_FORMAT = 1, TPL_MAX_COLS = 80 };

typedef enum {
  TPL_SEQ,      /* the row's number (1, 2, ...) */
  TPL_ROW_NAME, /* the unit's name (rows: units) */
  TPL_QUOTA,    /* the unit's staffing quota (biên chế được giao) */
  TPL_COUNT,    /* people of the population matching `when` */
  TPL_SUM,      /* sum of a numeric field over them */
  TPL_FIELD,    /* a field of the person (rows: people), shown when `when` holds */
  TPL_BLANK,    /* no data kept for it: left blank, as the forms allow */
} tpl_kind;

typedef struct {
  tpl_kind kind;
  const char *label, *number;
  const char *groups[DOC_MAX_GROUPS];
  const char *field;   /* TPL_SUM, TPL_FIELD */
  const json_t *when;  /* predicate or NULL */
  double width;
} tpl_col;

typedef struct {
  json_t *root;        /* owns every string below */
  const char *title, *subtitle, *place_date;
  const char *left[DOC_MAX_LINES], *right[DOC_MAX_LINES];
  const char *signers[DOC_MAX_SIGNERS], *hints[DOC_MAX_SIGNERS], *names[DOC_MAX_SIGNERS];
  const json_t *population;
  int people;          /* rows: one per person (else one per unit below the report's unit) */
  int numbered;
  tpl_col cols[TPL_MAX_COLS];
  size_t n_cols;
} tpl;

/* A field a list (TPL_FIELD) or a sum (TPL_SUM) may show. */
typedef struct {
  const char *name;
  int numeric;
  const char *sql;     /* over report_facts f */
} tpl_field;
const tpl_field *tpl_find_field(const char *name);

/* Parses and checks `json`; *out to free with tpl_free. On a fault -1, err gets "<prefix>.<path>:
 * <why>" (prefix e.g. "template.definition"). Predicates are checked by compiling them. */
int tpl_parse(const char *json, const char *prefix, tpl **out, char *err, size_t errlen);
void tpl_free(tpl *t);

/* The values of a template's placeholders ({unit_name}, {as_of}, ...; docs list them). */
typedef struct {
  const char *unit_name, *parent_name, *as_of, *signer_name, *prepared_by, *place, *today;
} tpl_vars;

/* Text with {name} placeholders filled (malloc'd); unknown names are kept as they are (the
 * parser refuses them, so only literal braces reach here). */
char *tpl_fill(const char *text, const tpl_vars *v);

/* The document's form for t with vars filled; strings are malloc'd into `keep` (an array of
 * at least 64 pointers to free after the writer is closed, *n_keep set). */
void tpl_form(const tpl *t, const tpl_vars *v, doc_form *f, doc_col *cols, char **keep, size_t *n_keep);

#endif
