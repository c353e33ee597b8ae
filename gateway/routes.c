/* Resource routes: google.api.http path templates compiled once at start, matched against each
 * REST request (404 / 405 with the allowed verbs), and the request message built from body,
 * path variables and query string. */
#include "gw.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pbjson.h"

/* Trailing slashes: "/v1/units/12/" is "/v1/units/12" (one trailing slash is dropped); any
 * other empty segment ("/v1//units") matches nothing. Percent escapes are decoded in
 * variables only; a malformed escape or %00 anywhere makes the path match nothing. */

#define MAX_SEGS 32

typedef enum { SEG_LIT, SEG_ANY /* * or {var} */, SEG_REST /* ** */ } seg_kind;

typedef struct {
  seg_kind kind;
  char *lit;
  size_t len;
  int var; /* the variable this segment belongs to, or -1 */
} seg;

typedef struct {
  gw_rest_route pub;
  unsigned verb_bit;   /* the HTTP verb's bit in allow_text, 0 for a custom kind */
  int any_verb;        /* custom kind "*": every verb */
  char *custom_verb;   /* the ":move" suffix (without the colon), NULL when none */
  seg *segs;
  size_t nseg;
  size_t order;        /* registry order, for a stable sort */
} route;

static route *g_routes;
static const gw_rest_route **g_pub;
static size_t g_nroutes;

static const char *const VERBS[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
#define NVERBS (sizeof VERBS / sizeof VERBS[0])
/* Allow header text for every set of standard verbs: *allow points here (static storage). */
static char allow_text[1u << NVERBS][64];

size_t gw_rest_routes(const gw_rest_route *const **out) {
  if (out) *out = g_pub;
  return g_nroutes;
}

static unsigned verb_bit(const char *v) {
  for (size_t i = 0; i < NVERBS; i++)
    if (strcmp(v, VERBS[i]) == 0) return 1u << i;
  return 0;
}

static void free_route(route *r) {
  for (size_t i = 0; i < r->nseg; i++) free(r->segs[i].lit);
  free(r->segs);
  for (size_t i = 0; i < r->pub.n_vars; i++) free((char *)r->pub.vars[i]);
  free((char *)r->pub.openapi_path);
  free(r->custom_verb);
}

void gw_rest_routes_free(void) {
  for (size_t i = 0; i < g_nroutes; i++) free_route(&g_routes[i]);
  free(g_routes);
  free(g_pub);
  g_routes = NULL;
  g_pub = NULL;
  g_nroutes = 0;
}

/* --- template parsing ------------------------------------------------------------------------ */

typedef struct {
  char *buf;
  size_t len, cap;
} sbuf;

static int sb_add(sbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *p = realloc(b->buf, cap);
    if (!p) return -1;
    b->buf = p;
    b->cap = cap;
  }
  memcpy(b->buf + b->len, s, n);
  b->len += n;
  b->buf[b->len] = 0;
  return 0;
}

static int add_seg(route *r, seg_kind k, const char *lit, size_t len, int var) {
  seg *s = realloc(r->segs, (r->nseg + 1) * sizeof *s);
  if (!s) return -1;
  r->segs = s;
  s += r->nseg;
  *s = (seg){k, NULL, len, var};
  if (k == SEG_LIT && !(s->lit = strndup(lit, len))) return -1;
  r->nseg++;
  return 0;
}

/* One segment of a template (or of a variable's sub-template): "*", "**" or a literal. */
static int parse_plain_seg(route *r, const char *p, size_t n, int var) {
  if (n == 1 && p[0] == '*') return add_seg(r, SEG_ANY, NULL, 0, var);
  if (n == 2 && p[0] == '*' && p[1] == '*') return add_seg(r, SEG_REST, NULL, 0, var);
  if (n == 0 || memchr(p, '{', n) || memchr(p, '}', n) || memchr(p, '*', n)) return -1;
  return add_seg(r, SEG_LIT, p, n, var);
}

/* Template = "/" Segments [ ":" Verb ]; Segment = "*" | "**" | LITERAL | "{" path [ "=" Segments ] "}".
 * Fills r's segments, variables (resolved to the request's scalar fields) and OpenAPI path. */
static int parse_template(route *r, const char *t, char *why, size_t whylen) {
  const ProtobufCMessageDescriptor *in = r->pub.method->input;
  sbuf oa = {0};
  const char *p = t, *end;
  int rc = -1;
  if (*p != '/') {
    snprintf(why, whylen, "must start with /");
    return -1;
  }
  /* the verb: a ':' after the last '/' outside braces */
  {
    int depth = 0;
    const char *colon = NULL;
    for (const char *q = t; *q; q++) {
      if (*q == '{') depth++;
      else if (*q == '}') depth--;
      else if (depth == 0 && *q == '/') colon = NULL;
      else if (depth == 0 && *q == ':') colon = q;
    }
    if (depth) {
      snprintf(why, whylen, "unbalanced braces");
      return -1;
    }
    end = colon ? colon : t + strlen(t);
    if (colon) {
      if (!colon[1] || strchr(colon + 1, '/')) {
        snprintf(why, whylen, "empty custom verb");
        return -1;
      }
      if (!(r->custom_verb = strdup(colon + 1))) goto out;
    }
  }
  p++;
  if (p == end && end == t + 1) { /* "/" alone, or "/:verb": no segments */
    if (sb_add(&oa, "/", 1)) goto out;
  }
  while (p < end) {
    const char *slash;
    if (*p == '{') {
      const char *close = memchr(p, '}', (size_t)(end - p));
      const char *eq;
      char name[256], canon[256], err[256];
      const ProtobufCFieldDescriptor *f;
      if (!close) {
        snprintf(why, whylen, "unbalanced braces");
        goto out;
      }
      eq = memchr(p, '=', (size_t)(close - p));
      size_t nlen = (size_t)((eq ? eq : close) - p - 1);
      if (nlen == 0 || nlen >= sizeof name) {
        snprintf(why, whylen, "a variable without a name");
        goto out;
      }
      memcpy(name, p + 1, nlen);
      name[nlen] = 0;
      if (r->pub.n_vars == GW_MAX_VARS) {
        snprintf(why, whylen, "more than %d variables", GW_MAX_VARS);
        goto out;
      }
      if (pbjson_resolve_path(in, name, canon, sizeof canon, &f, err, sizeof err)) {
        snprintf(why, whylen, "variable %s", err);
        goto out;
      }
      if (f->label == PROTOBUF_C_LABEL_REPEATED || f->type == PROTOBUF_C_TYPE_MESSAGE) {
        snprintf(why, whylen, "variable %s: must name a singular scalar field", name);
        goto out;
      }
      int var = (int)r->pub.n_vars;
      if (!(r->pub.vars[var] = strdup(canon))) goto out;
      r->pub.n_vars++;
      if (!eq) {
        if (add_seg(r, SEG_ANY, NULL, 0, var)) goto out;
      } else {
        const char *q = eq + 1;
        while (q <= close) {
          const char *sl = memchr(q, '/', (size_t)(close - q));
          const char *se = sl ? sl : close;
          if (parse_plain_seg(r, q, (size_t)(se - q), var)) {
            snprintf(why, whylen, "variable %s: a bad sub-template", name);
            goto out;
          }
          q = se + 1;
        }
      }
      if (sb_add(&oa, "/{", 2) || sb_add(&oa, canon, strlen(canon)) || sb_add(&oa, "}", 1)) goto out;
      p = close + 1;
      if (p < end && *p != '/') {
        snprintf(why, whylen, "text after a variable in the same segment");
        goto out;
      }
    } else {
      slash = memchr(p, '/', (size_t)(end - p));
      const char *se = slash ? slash : end;
      if (parse_plain_seg(r, p, (size_t)(se - p), -1)) {
        snprintf(why, whylen, "a bad segment \"%.*s\"", (int)(se - p), p);
        goto out;
      }
      if (sb_add(&oa, "/", 1) || sb_add(&oa, p, (size_t)(se - p))) goto out;
      p = se;
    }
    if (p < end) p++; /* the '/' */
  }
  for (size_t i = 0; i + 1 < r->nseg; i++)
    if (r->segs[i].kind == SEG_REST) {
      snprintf(why, whylen, "** must be the last segment");
      goto out;
    }
  if (r->custom_verb && (sb_add(&oa, ":", 1) || sb_add(&oa, r->custom_verb, strlen(r->custom_verb)))) goto out;
  r->pub.openapi_path = oa.buf;
  oa.buf = NULL;
  rc = 0;
out:
  free(oa.buf);
  if (rc && !why[0]) snprintf(why, whylen, "out of memory");
  return rc;
}

static int seg_rank(const seg *s) { return s->kind == SEG_LIT ? 0 : s->kind == SEG_ANY ? 1 : 2; }

/* Most specific first: at the first differing position a literal beats a variable, which
 * beats **; then the longer template; then templates with a custom verb; then registry order. */
static int by_specificity(const void *pa, const void *pb) {
  const route *a = pa, *b = pb;
  size_t n = a->nseg < b->nseg ? a->nseg : b->nseg;
  for (size_t i = 0; i < n; i++) {
    int ra = seg_rank(&a->segs[i]), rb = seg_rank(&b->segs[i]);
    if (ra != rb) return ra - rb;
  }
  if (a->nseg != b->nseg) return a->nseg > b->nseg ? -1 : 1;
  if (!a->custom_verb != !b->custom_verb) return a->custom_verb ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

int gw_rest_routes_build(void) {
  const gw_method *const *ms;
  size_t nm = gw_methods(&ms), total = 0, k = 0;
  int rc = -1;
  gw_rest_routes_free();
  for (unsigned mask = 0; mask < (1u << NVERBS); mask++) {
    size_t o = 0;
    allow_text[mask][0] = 0;
    for (size_t i = 0; i < NVERBS; i++)
      if (mask & (1u << i))
        o += (size_t)snprintf(allow_text[mask] + o, sizeof allow_text[mask] - o, "%s%s", o ? ", " : "", VERBS[i]);
  }
  for (size_t i = 0; i < nm; i++) total += ms[i]->n_rules;
  g_routes = calloc(total ? total : 1, sizeof *g_routes);
  g_pub = calloc(total ? total : 1, sizeof *g_pub);
  if (!g_routes || !g_pub) goto out;
  for (size_t i = 0; i < nm; i++) {
    for (size_t j = 0; j < ms[i]->n_rules; j++) {
      route *r = &g_routes[k];
      char why[320] = "";
      r->pub.method = ms[i];
      r->pub.rule = &ms[i]->rules[j];
      r->order = k;
      r->verb_bit = verb_bit(r->pub.rule->verb);
      r->any_verb = strcmp(r->pub.rule->verb, "*") == 0;
      g_nroutes = ++k;
      if (parse_template(r, r->pub.rule->path_template, why, sizeof why)) {
        log_error("gateway: %s: http rule \"%s\": %s", ms[i]->path, r->pub.rule->path_template, why);
        goto out;
      }
    }
  }
  qsort(g_routes, g_nroutes, sizeof *g_routes, by_specificity);
  for (size_t i = 0; i < g_nroutes; i++) g_pub[i] = &g_routes[i].pub;
  rc = 0;
out:
  if (rc) gw_rest_routes_free();
  return rc;
}

/* --- matching --------------------------------------------------------------------------------- */

typedef struct {
  const char *p;
  size_t len;
} span;

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Whether s[0..n) has only well-formed escapes and none of them is %00. */
static int escapes_ok(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') continue;
    if (i + 2 >= n) return 0;
    int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
    if (h < 0 || l < 0 || (h == 0 && l == 0)) return 0;
    i += 2;
  }
  return 1;
}

/* Appends the decoded s[0..n) to b; keep_slash leaves %2F encoded (multi-segment variables,
 * where a decoded '/' could not be told from a separator); plus turns '+' into ' ' (query). */
static int decode_into(sbuf *b, const char *s, size_t n, int keep_slash, int plus) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      char d = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      if (keep_slash && d == '/') {
        if (sb_add(b, s + i, 3)) return -1;
      } else if (sb_add(b, &d, 1)) {
        return -1;
      }
      i += 2;
      continue;
    }
    if (plus && c == '+') c = ' ';
    if (sb_add(b, &c, 1)) return -1;
  }
  if (!b->buf && sb_add(b, "", 0)) return -1;
  return 0;
}

/* Matches r's segments against the path's; on success the span of each variable's segments
 * goes to first[]/last[] (last exclusive). */
static int match_segs(const route *r, const span *segs, size_t n, size_t *first, size_t *last) {
  size_t j = 0;
  for (size_t v = 0; v < r->pub.n_vars; v++) first[v] = last[v] = SIZE_MAX;
  for (size_t i = 0; i < r->nseg; i++) {
    const seg *s = &r->segs[i];
    size_t from = j;
    switch (s->kind) {
    case SEG_LIT:
      if (j >= n || segs[j].len != s->len || memcmp(segs[j].p, s->lit, s->len) != 0) return 0;
      j++;
      break;
    case SEG_ANY:
      if (j >= n || segs[j].len == 0) return 0;
      j++;
      break;
    case SEG_REST:
      for (; j < n; j++)
        if (segs[j].len == 0) return 0;
      break;
    }
    if (s->var >= 0) {
      if (first[s->var] == SIZE_MAX) first[s->var] = from;
      last[s->var] = j;
    }
  }
  return j == n;
}

void gw_match_free(gw_match *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n_vars; i++) {
    free(m->names[i]);
    free(m->values[i]);
  }
  memset(m, 0, sizeof *m);
}

static int fill_match(const route *r, const span *segs, const size_t *first, const size_t *last, gw_match *m) {
  memset(m, 0, sizeof *m);
  m->method = r->pub.method;
  m->rule = r->pub.rule;
  for (size_t v = 0; v < r->pub.n_vars; v++) {
    sbuf b = {0};
    int multi = last[v] - first[v] != 1;
    for (size_t j = first[v]; j < last[v]; j++) {
      if ((j > first[v] && sb_add(&b, "/", 1)) || decode_into(&b, segs[j].p, segs[j].len, multi, 0)) {
        free(b.buf);
        goto oom;
      }
    }
    if (!b.buf && sb_add(&b, "", 0)) goto oom;
    m->names[v] = strdup(r->pub.vars[v]);
    m->values[v] = b.buf;
    m->n_vars = v + 1;
    if (!m->names[v]) goto oom;
  }
  return 1;
oom:
  gw_match_free(m);
  return 0;
}

int gw_match_route(const char *verb, const char *path, gw_match *m, const char **allow) {
  span segs[MAX_SEGS], based[MAX_SEGS];
  size_t n = 0, len, first[GW_MAX_VARS], last[GW_MAX_VARS];
  const char *verb_sfx = NULL;
  size_t verb_len = 0;
  unsigned rq = verb_bit(verb ? verb : "");
  if (allow) *allow = NULL;
  if (m) memset(m, 0, sizeof *m);
  if (!path || path[0] != '/') return 0;
  len = strcspn(path, "?#");
  if (len > 1 && path[len - 1] == '/') len--;
  if (!escapes_ok(path, len)) return 0;
  for (const char *p = path + 1, *e = path + len; len > 1;) {
    const char *sl = memchr(p, '/', (size_t)(e - p));
    const char *se = sl ? sl : e;
    if (n == MAX_SEGS) return 0;
    segs[n++] = (span){p, (size_t)(se - p)};
    if (!sl) break;
    p = sl + 1;
  }
  memcpy(based, segs, n * sizeof *segs);
  if (n) {
    const span *l = &segs[n - 1];
    const char *colon = NULL;
    for (size_t i = l->len; i > 0; i--)
      if (l->p[i - 1] == ':') {
        colon = l->p + i - 1;
        break;
      }
    if (colon) {
      based[n - 1].len = (size_t)(colon - l->p);
      verb_sfx = colon + 1;
      verb_len = l->len - based[n - 1].len - 1;
    }
  }
  /* A last segment "12:move" is tried first against templates with that custom verb; only if
   * none of them has this path do templates without a verb see the whole "12:move". */
  for (int with_verb = 1; with_verb >= 0; with_verb--) {
    unsigned mask = 0;
    const route *chosen = NULL;
    if (with_verb && !verb_sfx) continue;
    for (size_t i = 0; i < g_nroutes; i++) {
      const route *r = &g_routes[i];
      if (!r->custom_verb != !with_verb) continue;
      if (with_verb && (strlen(r->custom_verb) != verb_len || memcmp(r->custom_verb, verb_sfx, verb_len) != 0))
        continue;
      if (!match_segs(r, with_verb ? based : segs, n, first, last)) continue;
      if (!chosen && verb && (r->any_verb || (rq ? r->verb_bit == rq : strcmp(r->pub.rule->verb, verb) == 0))) {
        chosen = r;
        break;
      }
      mask |= r->verb_bit;
    }
    if (chosen) {
      match_segs(chosen, with_verb ? based : segs, n, first, last);
      if (!m) return 1;
      return fill_match(chosen, with_verb ? based : segs, first, last, m) ? 1 : 0;
    }
    if (mask) {
      if (allow) *allow = allow_text[mask];
      return -1;
    }
  }
  return 0;
}

/* --- building the request ------------------------------------------------------------------------ */

static int blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
  return 1;
}

/* Whether dotted path a is b or lies inside or around it ("record" and "record.id"). */
static int overlaps(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;
  return strncmp(a, b, n) == 0 && (la == lb || (la > lb ? a[n] : b[n]) == '.');
}

static ProtobufCMessage *new_request(const ProtobufCMessageDescriptor *d) {
  ProtobufCMessage *msg = malloc(d->sizeof_message);
  if (msg) protobuf_c_message_init(d, msg);
  return msg;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (!err || !errlen) return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* The body for a rule naming one field: the JSON value of that field alone. */
static ProtobufCMessage *body_field(const ProtobufCMessageDescriptor *d, const char *field, const char *body,
                                    size_t body_len, char *err, size_t errlen) {
  json_error_t je;
  json_t *v = json_loadb(body, body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je), *wrap = NULL;
  ProtobufCMessage *msg = NULL;
  if (!v) {
    set_err(err, errlen, "body: malformed JSON at line %d column %d (%s)", je.line, je.column, je.text);
    return NULL;
  }
  wrap = json_object();
  if (wrap && json_object_set_new(wrap, field, v) == 0) {
    msg = pbjson_from_json(d, wrap, 0, NULL, err, errlen);
  } else {
    json_decref(v);
    set_err(err, errlen, "body: out of memory");
  }
  json_decref(wrap);
  return msg;
}

/* The query string, pair by pair, into msg: fields neither bound by the path nor in the body. */
static int apply_query(const gw_match *m, ProtobufCMessage *msg, const char *query, char *err, size_t errlen) {
  const gw_http_rule *rule = m->rule;
  const ProtobufCMessageDescriptor *d = m->method->input;
  char **seen = NULL;
  size_t nseen = 0;
  int rc = -1;
  sbuf key = {0}, val = {0};
  for (const char *p = query ? query : ""; *p;) {
    size_t plen = strcspn(p, "&");
    const char *eq = memchr(p, '=', plen);
    size_t klen = eq ? (size_t)(eq - p) : plen;
    char canon[256], rerr[256];
    const ProtobufCFieldDescriptor *f;
    key.len = val.len = 0;
    if (key.buf) key.buf[0] = 0;
    if (val.buf) val.buf[0] = 0;
    if (plen == 0) {
      p++;
      continue;
    }
    if (!escapes_ok(p, plen)) {
      set_err(err, errlen, "query string: a malformed percent escape in \"%.*s\"", (int)(plen > 64 ? 64 : plen), p);
      goto out;
    }
    if (decode_into(&key, p, klen, 0, 1) ||
        (eq ? decode_into(&val, eq + 1, plen - klen - 1, 0, 1) : sb_add(&val, "", 0))) {
      set_err(err, errlen, "query string: out of memory");
      goto out;
    }
    if (strcmp(rule->body, "*") == 0) {
      set_err(err, errlen, "%s: this route takes its fields in the JSON body, not in the query string", key.buf);
      goto out;
    }
    if (pbjson_resolve_path(d, key.buf, canon, sizeof canon, &f, rerr, sizeof rerr)) {
      set_err(err, errlen, "query parameter %s", rerr);
      goto out;
    }
    for (size_t i = 0; i < m->n_vars; i++)
      if (overlaps(canon, m->names[i])) {
        set_err(err, errlen, "%s: bound by the URL path, so it cannot also be a query parameter", key.buf);
        goto out;
      }
    if (rule->body[0] && overlaps(canon, rule->body)) {
      set_err(err, errlen, "%s: carried in the request body, so it cannot also be a query parameter", key.buf);
      goto out;
    }
    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
      for (size_t i = 0; i < nseen; i++)
        if (strcmp(seen[i], canon) == 0) {
          set_err(err, errlen, "%s: given more than once", key.buf);
          goto out;
        }
      char **grown = realloc(seen, (nseen + 1) * sizeof *seen);
      if (!grown || !(grown[nseen] = strdup(canon))) {
        if (grown) seen = grown;
        set_err(err, errlen, "query string: out of memory");
        goto out;
      }
      seen = grown;
      nseen++;
    }
    if (pbjson_set_path(msg, key.buf, val.buf, NULL, err, errlen)) goto out;
    p += plen;
    if (*p == '&') p++;
  }
  rc = 0;
out:
  for (size_t i = 0; i < nseen; i++) free(seen[i]);
  free(seen);
  free(key.buf);
  free(val.buf);
  return rc;
}

ProtobufCMessage *gw_build_rest_request(const gw_match *m, const char *body, size_t body_len,
                                        const char *query, char *err, size_t errlen) {
  const gw_http_rule *rule = m->rule;
  const ProtobufCMessageDescriptor *d = m->method->input;
  ProtobufCMessage *msg = NULL;
  if (err && errlen) err[0] = 0;
  if (!body) body = "", body_len = 0;
  if (rule->body[0] == 0) {
    if (!blank(body, body_len)) {
      set_err(err, errlen, "body: this route takes no request body; send the fields as query parameters");
      return NULL;
    }
    msg = new_request(d);
  } else if (blank(body, body_len)) {
    msg = new_request(d); /* an empty body is the empty message */
  } else if (strcmp(rule->body, "*") == 0) {
    msg = pbjson_decode(d, body, body_len, 0, NULL, err, errlen);
    if (!msg) return NULL;
  } else {
    msg = body_field(d, rule->body, body, body_len, err, errlen);
    if (!msg) return NULL;
  }
  if (!msg) {
    set_err(err, errlen, "out of memory");
    return NULL;
  }
  /* the URL names the resource: a path variable wins over the same field in a "*" body */
  for (size_t i = 0; i < m->n_vars; i++)
    if (pbjson_set_path(msg, m->names[i], m->values[i], NULL, err, errlen)) goto fail;
  if (apply_query(m, msg, query, err, errlen)) goto fail;
  return msg;
fail:
  protobuf_c_message_free_unpacked(msg, NULL);
  return NULL;
}

char *gw_rest_response_json(const gw_match *m, const ProtobufCMessage *resp) {
  const char *rb = m && m->rule ? m->rule->response_body : "";
  if (!rb[0]) return pbjson_encode(resp, 0);
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(resp->descriptor, rb);
  if (!f) return pbjson_encode(resp, 0);
  char jn[256];
  pbjson_json_name(f->name, jn, sizeof jn);
  json_t *all = pbjson_to_json(resp, 0), *v;
  char *out = NULL;
  if (!all) return NULL;
  v = json_object_get(all, jn);
  if (!v) {
    /* the field holds its default: say so in its JSON form rather than with nothing */
    json_decref(all);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED) return strdup("{}");
    all = pbjson_to_json(resp, PBJSON_EMIT_DEFAULTS);
    if (!all) return NULL;
    v = json_object_get(all, jn);
  }
  if (v) out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(all);
  return out;
}
