/* Files the services write, read back by readers that are not ours (tests/readers: exceljs,
 * csv-parse; poppler's pdftotext), and a server-streamed file received to disk. */
#ifndef HOSO_TH_FILES_H
#define HOSO_TH_FILES_H

#include <jansson.h>
#include "cli.h"

/* Runs a shell command and returns its standard output (malloc'd), or NULL when it could not
 * run or exited non-zero (printed). */
char *th_run(const char *cmd);
/* tests/readers/read.sh kind path ("xlsx" or "csv") parsed as JSON; NULL on failure (printed). */
json_t *th_read_back(const char *kind, const char *path);
/* The text of cell (row r, column c) of an exceljs reading, NULL when empty or not text. */
const char *th_xlsx_text(json_t *x, size_t r, size_t c);
/* The value of a numeric cell, or -1e300 when it is not a number. */
double th_xlsx_num(json_t *x, size_t r, size_t c);
/* The first row whose column c holds text s, or -1. */
long th_xlsx_find(json_t *x, size_t c, const char *s);

/* A server-streaming call whose responses carry hoso.reporting.v1.FileChunk at `chunk_field`
 * (NULL: the response is the chunk itself): sends req with the bearer token, writes every chunk
 * to path, and returns the status; *name and *type (malloc'd, may be NULL) get the first
 * chunk's file name and content type, *progress the number of responses without a chunk. */
grpc_status_code th_stream_file(cli_chan *ch, const char *method, const ProtobufCMessage *req,
                                const ProtobufCMessageDescriptor *resp_desc, const char *token, const char *path,
                                char **name, char **type, int *progress, cli_status *st);

#endif
