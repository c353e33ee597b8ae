/* What the parts of the 2C-BNV/2008 renderer share (export_2c.c, export_2c_tables.c): the
 * output being written and the text helpers. */
#ifndef HOSO_EXPORT_2C_INT_H
#define HOSO_EXPORT_2C_INT_H

#include <stdio.h>

#include "export_2c.h"

typedef Hoso__Records__V1__Record rec_t;

typedef struct {
  FILE *f;
  const export_2c_opts *o;
} x2c;

/* Every value is user data: escaped, line breaks kept as <br>. */
void x2c_esc(x2c *x, const char *s);
/* The display name of a catalogue code (the caller's export_2c_opts.name), or the code. */
const char *x2c_name_of(x2c *x, const char *catalog, const char *code);
/* YYYY-MM-DD → dd/mm/yyyy, YYYY-MM → mm/yyyy; anything else as it is. */
const char *x2c_date_fmt(const char *s, char out[32]);
/* "09/2001 - 06/2005"; an open end reads `open` ("nay" for a job held today). */
void x2c_period(x2c *x, const char *from, const char *to, const char *open);
/* A numbered item of one value (and the form's hint under its label, when it has one). */
void x2c_item(x2c *x, const char *label, const char *value, const char *h);

/* Tables 27–31, item 32 and the signatures (export_2c_tables.c). */
void x2c_tables(x2c *x, const rec_t *r);

#endif
