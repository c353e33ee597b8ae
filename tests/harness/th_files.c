/* th_files: foreign readers run as commands, and streamed files received (th_files.h). */
#include "th_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "reporting.pb-c.h"
#include "th.h"

char *th_run(const char *cmd) {
  FILE *p = popen(cmd, "r");
  if (!p) {
    fprintf(stderr, "th_run: cannot run %s\n", cmd);
    return NULL;
  }
  size_t cap = 1 << 16, len = 0, got;
  char *out = malloc(cap);
  while (out && (got = fread(out + len, 1, cap - len - 1, p)) > 0) {
    len += got;
    if (cap - len < 1024) {
      char *g = realloc(out, cap *= 2);
      if (!g) free(out);
      out = g;
    }
  }
  int rc = pclose(p);
  if (!out) return NULL;
  out[len] = '\0';
  if (rc != 0) {
    fprintf(stderr, "th_run: %s: exit %d\n", cmd, rc);
    free(out);
    return NULL;
  }
  return out;
}

json_t *th_read_back(const char *kind, const char *path) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s/tests/readers/read.sh %s '%s'", HOSO_SOURCE_DIR, kind, path);
  char *out = th_run(cmd);
  if (!out) return NULL;
  json_error_t e;
  json_t *j = json_loads(out, 0, &e);
  if (!j) fprintf(stderr, "th_read_back: not JSON: %s\n", e.text);
  free(out);
  return j;
}

static json_t *xcell(json_t *x, size_t r, size_t c) {
  json_t *row = json_array_get(json_object_get(x, "rows"), r);
  json_t *v = row ? json_array_get(row, c) : NULL;
  return v && json_is_object(v) ? json_object_get(v, "v") : NULL;
}

const char *th_xlsx_text(json_t *x, size_t r, size_t c) {
  json_t *v = xcell(x, r, c);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

double th_xlsx_num(json_t *x, size_t r, size_t c) {
  json_t *v = xcell(x, r, c);
  return json_is_number(v) ? json_number_value(v) : -1e300;
}

long th_xlsx_find(json_t *x, size_t c, const char *s) {
  json_t *rows = json_object_get(x, "rows");
  for (size_t r = 0; r < json_array_size(rows); r++) {
    const char *t = th_xlsx_text(x, r, c);
    if (t && !strcmp(t, s)) return (long)r;
  }
  return -1;
}

grpc_status_code th_stream_file(cli_chan *ch, const char *method, const ProtobufCMessage *req,
                                const ProtobufCMessageDescriptor *resp_desc, const char *token, const char *path,
                                char **name, char **type, int *progress, cli_status *st) {
  if (name) *name = NULL;
  if (type) *type = NULL;
  if (progress) *progress = 0;
  FILE *f = fopen(path, "wb");
  cli_stream *s = f ? cli_stream_open(ch, method, th_bearer(token), token ? 1 : 0, 120000) : NULL;
  if (!s) {
    if (f) fclose(f);
    snprintf(st->message, sizeof st->message, "cannot open the call or %s", path);
    return GRPC_STATUS_INTERNAL;
  }
  cli_stream_send(s, req);
  cli_stream_close_send(s);
  ProtobufCMessage *m;
  while (cli_stream_recv(s, resp_desc, &m) == 1) {
    Hoso__Reporting__V1__FileChunk *c = NULL;
    if (resp_desc == &hoso__reporting__v1__file_chunk__descriptor) {
      c = (Hoso__Reporting__V1__FileChunk *)m;
    } else {
      const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field_by_name(resp_desc, "file");
      c = fd ? *(Hoso__Reporting__V1__FileChunk **)((char *)m + fd->offset) : NULL;
      if (!c && progress) (*progress)++;
    }
    if (c) {
      if (name && !*name && c->file_name && *c->file_name) *name = strdup(c->file_name);
      if (type && !*type && c->content_type && *c->content_type) *type = strdup(c->content_type);
      fwrite(c->chunk.data, 1, c->chunk.len, f);
    }
    protobuf_c_message_free_unpacked(m, NULL);
  }
  fclose(f);
  return cli_stream_finish(s, st);
}
