/* The printable résumé of one record on form 2C-BNV/2008 (Quyết định 02/2008/QĐ-BNV, "Sơ yếu lý
 * lịch cán bộ, công chức"): a pure renderer from a Record to self-contained HTML for A4. */
#ifndef HOSO_RECORDS_EXPORT_2C_H
#define HOSO_RECORDS_EXPORT_2C_H

#include <stddef.h>
#include "records.pb-c.h"

/* The name of a catalogue code ("ETHNICITY", "01" → "Kinh"), or NULL when unknown: the code is
 * printed as it is. The returned text must live until export_2c_render returns. */
typedef const char *(*export_2c_name_fn)(void *arg, const char *catalog, const char *code);

typedef struct {
  const char *managing_unit;  /* "Cơ quan, đơn vị có thẩm quyền quản lý CBCC" (NULL: blank) */
  const char *using_unit;     /* "Cơ quan, đơn vị sử dụng CBCC" (NULL: blank) */
  export_2c_name_fn name;     /* NULL: codes printed as they are */
  void *name_arg;
} export_2c_opts;

/* Calls fn(arg, catalog, code) for every non-empty catalogue code the résumé prints, so the
 * caller can look the names up in one query before rendering. */
void export_2c_codes(const Hoso__Records__V1__Record *r,
                     void (*fn)(void *arg, const char *catalog, const char *code), void *arg);

/* The résumé as one UTF-8 HTML document (inline CSS, no script, nothing fetched from outside;
 * every value HTML-escaped; dates dd/mm/yyyy; @page A4). malloc'd, NUL-terminated, its length in
 * *len; NULL on out of memory. */
char *export_2c_render(const Hoso__Records__V1__Record *r, const export_2c_opts *o, size_t *len);

#endif
