/* The parsers of the bulk import (ImportRecords): CSV with a header row of Record field paths,
 * the proto3 JSON form (an array, JSON Lines, or one object) and length-prefixed binary Record
 * messages, into Record messages plus ImportError{line, field, message}. Pure: no database, no
 * catalogue check (rec_validate does that). */
#ifndef HOSO_RECORDS_IMPORT_PARSE_H
#define HOSO_RECORDS_IMPORT_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include "records.pb-c.h"

/* Data rows read per call, and ImportErrors kept: past IMPORT_MAX_ROWS the parse stops with one
 * error; past IMPORT_MAX_ERRORS further errors are counted in errors_dropped, not kept. */
enum { IMPORT_MAX_ROWS = 100000, IMPORT_MAX_ERRORS = 1000 };
/* One binary record at most: a whole dossier packs to a few KB; a length prefix beyond this is
 * a corrupt file or not a dossier. */
enum { IMPORT_MAX_RECORD_BYTES = 1 << 20 };
/* Values in one JSON record (objects, arrays, members, elements): a dossier with 500 entries
 * in a list holds a few thousand. A record is parsed alone, so the JSON library's memory is
 * bounded by this, whatever the file holds. */
enum { IMPORT_MAX_JSON_VALUES = 20000 };
/* Memory one import's parsed records may take (everything allocated through the caller's
 * allocator while parsing): a 4 MiB CSV of real dossiers, ten columns filled, takes about 60 MiB
 * (a record is a few hundred bytes of structs before its text); a file built of empty list
 * entries, a few bytes each on the wire and some 80 once read, would take 100-300 MiB. Past it
 * the parse stops, and the whole import is refused (import_result.refused). */
#define IMPORT_MAX_MEMORY ((size_t)96 << 20)

/* One record read without error, and where it came from: the physical line where its CSV row
 * starts, its JSON array index + 1, its physical JSON Lines line, or its ordinal (from 1) in
 * a binary file. Use it for the errors
 * rec_validate finds later, so every error of a row names the same line. */
typedef struct {
  Hoso__Records__V1__Record *record;
  int line;
} import_row;

typedef struct {
  import_row *rows;                        /* the good rows, in file order */
  size_t n_rows;
  size_t n_read;                           /* data rows read, good and bad (Response.rows) */
  Hoso__Records__V1__ImportError **errors; /* in file order; at most IMPORT_MAX_ERRORS */
  size_t n_errors;
  size_t errors_dropped;                   /* errors found beyond IMPORT_MAX_ERRORS */
  size_t mem_used;                         /* bytes the parse allocated */
  /* Not empty when the import as a whole is refused (it needs more than IMPORT_MAX_MEMORY):
   * what to do, naming the line and column or field where the parse stopped. */
  char refused[512];
  int stopped;                             /* the caller's stop hook ended the parse early */
  /* private */
  int (*stop)(void *);
  void *stop_arg;
  ProtobufCAllocator *a;                   /* while parsing: budget, over the caller's allocator */
  ProtobufCAllocator budget, *inner;
  int mem_over;                            /* past IMPORT_MAX_MEMORY: stop */
  size_t cap_rows, cap_errors;
} import_result;

/* Parses content[0..len) (IMPORT_FORMAT_CSV, _JSON or _PROTO; docs/IMPORT_FORMAT.md) into
 * *out. Every record, error and array is allocated with a (the handler passes srv_allocator(ctx),
 * so the memory goes with the call; NULL means malloc, released by import_result_free). A row with
 * any error is left out of rows and reported in errors; the caller decides that a batch with
 * errors imports nothing. The ids, versions and workflow fields of a row are parsed like any
 * other field: the caller overrides what it owns (managing unit, id, version, workflow state).
 * Returns 0 (errors, if any, are in out), or -1 for an unknown format. */
int import_parse(Hoso__Records__V1__ImportFormat format, const void *content, size_t len,
                 ProtobufCAllocator *a, import_result *out);

/* import_parse, asking stop(stop_arg) every IMPORT_STOP_EVERY records read: when it answers 1
 * (the handler's client has gone), the parse ends there with out->stopped set, so a worker is not
 * kept busy reading a file for nobody. */
enum { IMPORT_STOP_EVERY = 256 };
int import_parse_until(Hoso__Records__V1__ImportFormat format, const void *content, size_t len, ProtobufCAllocator *a,
                       int (*stop)(void *), void *stop_arg, import_result *out);

/* Appends an ImportError to r (field may be "" for a whole row or file), respecting
 * IMPORT_MAX_ERRORS: the one way to report an error of an import, also for the errors the
 * handler finds when it validates the parsed rows. */
void import_error(import_result *r, int line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Releases what import_parse allocated when a was NULL (malloc); harmless for an arena. */
void import_result_free(import_result *r);

/* --- for the parsers of each format ------------------------------------------------------ */

/* Past the memory of one import (import_result.refused says so, naming where: `what`, e.g.
 * "line 12, column work_history[3].from"): 1, and the parser stops; else 0. */
int import_memory_exhausted(import_result *r, const char *what);
/* Keeps a record read without error, from `line`. */
void import_add_row(import_result *r, Hoso__Records__V1__Record *rec, int line);
/* 1 (after reporting it at `line`) when IMPORT_MAX_ROWS records were already read, or when the
 * stop hook says so (stopped, nothing reported): stop. The parsers ask it before each record. */
int import_row_cap_reached(import_result *r, int line);
/* IMPORT_FORMAT_CSV (import_csv.c): a header row of field paths, then one record per row. */
void import_parse_csv(const char *p, size_t len, import_result *r);
/* IMPORT_FORMAT_JSON (import_json.c): an array of records, JSON Lines, or one record. */
void import_parse_json(const char *p, size_t len, import_result *r);
/* IMPORT_FORMAT_PROTO (import_parse_pb.c): varint-length-prefixed Record messages. */
void import_parse_proto(const uint8_t *p, size_t len, import_result *r);

#endif
