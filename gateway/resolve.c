/* Which handler a request goes to, decided from its verb and path as soon as the head is read
 * (the body limit depends on it): the fixed endpoints, Connect paths, REST templates, static
 * files. Also the per-method upload flag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwsrv.h"

/* Methods sorted by address, with whether their request carries bytes (an upload). */
static struct {
  const gw_method **m;
  unsigned char *upload;
  size_t n;
} U;

static int carries_bytes(const ProtobufCMessageDescriptor *d, int depth) {
  if (!d || depth > 6) return 0;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->type == PROTOBUF_C_TYPE_BYTES) return 1;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && carries_bytes(f->descriptor, depth + 1)) return 1;
  }
  return 0;
}

static int by_addr(const void *a, const void *b) {
  const gw_method *x = *(const gw_method *const *)a, *y = *(const gw_method *const *)b;
  return x < y ? -1 : x > y;
}

int gw_routes_init(void) {
  const gw_method *const *all;
  size_t n = gw_methods(&all);
  U.m = calloc(n ? n : 1, sizeof *U.m);
  U.upload = calloc(n ? n : 1, 1);
  if (!U.m || !U.upload) return -1;
  memcpy(U.m, all, n * sizeof *U.m);
  qsort(U.m, n, sizeof *U.m, by_addr);
  for (size_t i = 0; i < n; i++) U.upload[i] = (unsigned char)carries_bytes(U.m[i]->input, 0);
  U.n = n;
  return 0;
}

void gw_routes_free(void) {
  free(U.m);
  free(U.upload);
  memset(&U, 0, sizeof U);
}

static int is_upload(const gw_method *m) {
  const gw_method **hit = bsearch(&m, U.m, U.n, sizeof *U.m, by_addr);
  return hit && U.upload[hit - U.m];
}

size_t gw_route_body_limit(const gw_route *rt) {
  if (rt->kind == GW_R_UPLOAD) return gw_files_upload_limit();
  if (rt->kind == GW_R_PACKAGE_IN) return gw_streams_package_limit();
  if ((rt->kind == GW_R_CONNECT || rt->kind == GW_R_REST) && is_upload(rt->method))
    return gw_cfg.max_upload;
  return gw_cfg.max_body;
}

/* "/a.b.C/M": two segments, the first dotted, no further slash. */
static int connect_shaped(const char *p) {
  const char *s2 = strchr(p + 1, '/');
  if (!s2 || s2 == p + 1 || !s2[1] || strchr(s2 + 1, '/')) return 0;
  const char *dot = memchr(p + 1, '.', (size_t)(s2 - p - 1));
  return dot != NULL;
}

static int is(const char *verb, size_t n, const char *lit) {
  return strlen(lit) == n && memcmp(verb, lit, n) == 0;
}

void gw_route_resolve(const char *verb, size_t verb_len, const char *path, size_t path_len,
                      gw_route *rt) {
  memset(rt, 0, sizeof *rt);
  char p[HTTP_MAX_HEAD];
  if (path_len >= sizeof p) path_len = sizeof p - 1;
  memcpy(p, path, path_len);
  p[path_len] = 0;

  static const struct {
    const char *path;
    int kind;
  } fixed[] = {{"/healthz", GW_R_HEALTHZ},
               {"/readyz", GW_R_READYZ},
               {"/metrics", GW_R_METRICS},
               {"/openapi.json", GW_R_OPENAPI}};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    if (strcmp(p, fixed[i].path) == 0) {
      rt->kind = fixed[i].kind;
      rt->label = fixed[i].path;
      return;
    }

  const gw_method *m = gw_find_method(p);
  /* only the services' own packages are served (not, say, grpc.health) */
  if (m && strncmp(m->package, "hoso.", 5) == 0) {
    rt->method = m;
    rt->label = m->path;
    rt->kind = is(verb, verb_len, "POST") ? GW_R_CONNECT : GW_R_CONNECT_VERB;
    rt->allow = "POST";
    return;
  }

  if (gw_files_resolve(verb, verb_len, p, rt)) return;
  if (gw_streams_resolve(verb, verb_len, p, rt)) return;

  char v[16];
  snprintf(v, sizeof v, "%.*s", (int)verb_len, verb);
  const char *allow = NULL;
  int mr = gw_match_route(v, p, &rt->match, &allow);
  if (mr == 1) {
    rt->kind = GW_R_REST;
    rt->method = rt->match.method;
    rt->label = rt->match.rule->path_template;
    return;
  }
  if (mr == -1) {
    rt->kind = GW_R_REST_VERB;
    rt->allow = allow;
    rt->label = "unmatched";
    return;
  }
  /* only a POST is a Connect call: a GET of "/fonts.v2/a.woff2" is a file */
  if (is(verb, verb_len, "POST") && connect_shaped(p)) {
    rt->kind = GW_R_CONNECT_UNKNOWN;
    rt->label = "unmatched";
    return;
  }
  if (gw_static_enabled() && (is(verb, verb_len, "GET") || is(verb, verb_len, "HEAD"))) {
    rt->kind = GW_R_STATIC;
    rt->label = "static";
    return;
  }
  rt->kind = GW_R_NOT_FOUND;
  rt->label = "unmatched";
}

void gw_route_free(gw_route *rt) {
  if (rt->kind == GW_R_REST) gw_match_free(&rt->match);
  memset(rt, 0, sizeof *rt);
}
