/* HTTP/1.1 request head parser (strict: anything a request smuggler could use is refused),
 * incremental chunked-body decoder, and helpers for headers, cookies and percent-encoding. */
#include "http.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 tchar: the characters of a method or header name. */
static int is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return 1;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return 1;
  return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field value bytes: visible ASCII, obs-text, space and tab. */
static int is_vbyte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static int lower_eq(const char *s, size_t n, const char *lit) {
  return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* The next line at buf[pos..len): its start and length without the CR/LF; *next after it.
 * 0 when no LF has arrived yet. */
static int next_line(const char *buf, size_t len, size_t pos, size_t *l_len, size_t *next) {
  if (pos >= len) return 0;
  const char *lf = memchr(buf + pos, '\n', len - pos);
  if (!lf) return 0;
  size_t end = (size_t)(lf - buf);
  *next = end + 1;
  if (end > pos && buf[end - 1] == '\r') end--;
  *l_len = end - pos;
  return 1;
}

static const char *const known_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

static int parse_request_line(const char *s, size_t n, http_req *r) {
  size_t i = 0;
  while (i < n && is_tchar((unsigned char)s[i])) i++;
  if (i == 0 || i >= n || s[i] != ' ') return 400;
  if (i > 16) return 501;
  r->method = s;
  r->method_len = i;
  int known = 0;
  for (size_t k = 0; k < sizeof known_methods / sizeof known_methods[0]; k++)
    if (strlen(known_methods[k]) == i && memcmp(known_methods[k], s, i) == 0) known = 1;
  if (!known) return 501;

  size_t t = ++i;
  while (i < n && s[i] != ' ') {
    unsigned char c = (unsigned char)s[i];
    /* no controls, spaces, non-ASCII or fragments in a request target */
    if (c < 0x21 || c > 0x7e || c == '#') return 400;
    i++;
  }
  if (i == t || i >= n) return 400;
  r->target = s + t;
  r->target_len = i - t;

  const char *v = s + i + 1;
  size_t vn = n - i - 1;
  if (vn != 8 || memcmp(v, "HTTP/", 5) != 0) return 400;
  if (v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' || v[7] > '9') return 400;
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) return 505;
  r->minor = v[7] - '0';

  /* origin-form "/path?query"; absolute-form "http://host/path" is reduced to its path */
  const char *p = r->target;
  size_t pn = r->target_len;
  if (pn && p[0] != '/') {
    size_t skip = 0;
    if (pn > 7 && strncasecmp(p, "http://", 7) == 0) skip = 7;
    else if (pn > 8 && strncasecmp(p, "https://", 8) == 0) skip = 8;
    if (!skip) return 400;
    const char *slash = memchr(p + skip, '/', pn - skip);
    if (!slash) {
      p = "/";
      pn = 1;
    } else {
      pn -= (size_t)(slash - p);
      p = slash;
    }
  }
  const char *q = memchr(p, '?', pn);
  r->path = p;
  r->path_len = q ? (size_t)(q - p) : pn;
  r->query = q ? q + 1 : p + pn;
  r->query_len = q ? pn - r->path_len - 1 : 0;
  return 0;
}

static int parse_header_line(const char *s, size_t n, http_req *r) {
  if (n && (s[0] == ' ' || s[0] == '\t')) return 400; /* obs-fold: refused (RFC 9112 5.2) */
  size_t i = 0;
  while (i < n && is_tchar((unsigned char)s[i])) i++;
  if (i == 0 || i >= n || s[i] != ':') return 400; /* also: blank before the colon */
  if (r->n_headers >= HTTP_MAX_HEADERS) return 431;
  http_header *h = &r->headers[r->n_headers++];
  h->name = s;
  h->name_len = i;
  size_t b = i + 1, e = n;
  for (size_t k = b; k < n; k++)
    if (!is_vbyte((unsigned char)s[k])) return 400;
  while (b < e && (s[b] == ' ' || s[b] == '\t')) b++;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) e--;
  h->value = s + b;
  h->value_len = e - b;
  return 0;
}

/* Content-Length, Transfer-Encoding, Host, Connection, Expect: what the framing depends on. */
static int framing(http_req *r) {
  int hosts = 0, te = 0, close = 0, keep = 0;
  r->content_length = -1;
  for (size_t i = 0; i < r->n_headers; i++) {
    const http_header *h = &r->headers[i];
    if (lower_eq(h->name, h->name_len, "content-length")) {
      if (h->value_len == 0) return 400;
      long long v = 0;
      for (size_t k = 0; k < h->value_len; k++) {
        char c = h->value[k];
        if (c < '0' || c > '9') return 400;
        /* saturate: the caller answers 413 for anything over its limit */
        v = v > (LLONG_MAX - 9) / 10 ? LLONG_MAX : v * 10 + (c - '0');
      }
      if (r->content_length >= 0 && r->content_length != v) return 400;
      r->content_length = v;
    } else if (lower_eq(h->name, h->name_len, "transfer-encoding")) {
      /* only a lone "chunked": anything else cannot be framed safely */
      if (te || !lower_eq(h->value, h->value_len, "chunked")) return 501;
      te = 1;
    } else if (lower_eq(h->name, h->name_len, "host")) {
      hosts++;
    } else if (lower_eq(h->name, h->name_len, "connection")) {
      if (http_has_token(h->value, h->value_len, "close")) close = 1;
      if (http_has_token(h->value, h->value_len, "keep-alive")) keep = 1;
    } else if (lower_eq(h->name, h->name_len, "expect")) {
      if (!lower_eq(h->value, h->value_len, "100-continue")) return 417;
      r->expect_continue = 1;
    }
  }
  if (hosts > 1 || (r->minor == 1 && hosts == 0)) return 400;
  /* both framings at once is the classic smuggling vector (RFC 9112 6.3) */
  if (te && r->content_length >= 0) return 400;
  if (te && r->minor == 0) return 400;
  r->chunked = te;
  r->keep_alive = r->minor == 1 ? !close : (keep && !close);
  return 0;
}

int http_parse_head(const char *buf, size_t len, size_t max_head, http_req *r) {
  memset(r, 0, sizeof *r);
  size_t pos = 0, ln, next;
  /* blank lines before the request line */
  while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n')) {
    if (buf[pos] == '\r' && pos + 1 < len && buf[pos + 1] != '\n') return 400;
    pos++;
  }
  size_t limit = len < max_head ? len : max_head;
  if (!next_line(buf, limit, pos, &ln, &next)) {
    /* Garbage (a TLS handshake, binary noise) is refused at once, not when the line ends. */
    size_t i = pos;
    while (i < len && i - pos <= 16 && is_tchar((unsigned char)buf[i])) i++;
    if (i - pos > 16) return 501;
    if (i < len && (i == pos || buf[i] != ' ')) return 400;
    return len >= max_head ? 414 : HTTP_INCOMPLETE;
  }
  if (memchr(buf + pos, '\r', ln)) return 400;
  int rc = parse_request_line(buf + pos, ln, r);
  if (rc) return rc;
  pos = next;
  for (;;) {
    if (!next_line(buf, limit, pos, &ln, &next)) return len >= max_head ? 431 : HTTP_INCOMPLETE;
    if (ln == 0) break;
    if (memchr(buf + pos, '\r', ln)) return 400; /* a bare CR inside a line */
    if ((rc = parse_header_line(buf + pos, ln, r))) return rc;
    pos = next;
  }
  r->head_len = next;
  return framing(r);
}

void http_buf_free(http_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

static int buf_append(http_buf *b, const char *s, size_t n) {
  if (b->len + n > b->cap) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + n) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) return -1;
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  return 0;
}

enum { CK_SIZE, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF, CK_TRAILER, CK_TRAILER_LINE,
       CK_END_LF, CK_DONE };

#define CK_MAX_LINE 4096
#define CK_MAX_TRAILER (16 * 1024)

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int http_chunked_feed(http_chunked *st, const char *in, size_t len, size_t *used, http_buf *out,
                      size_t max) {
  size_t i = 0;
  int rc = 0;
  while (i < len && st->state != CK_DONE) {
    unsigned char c = (unsigned char)in[i];
    switch (st->state) {
    case CK_SIZE: {
      int h = hexval(c);
      if (h >= 0) {
        if (++st->digits > 15) { rc = 413; goto out; } /* over a petabyte: refuse before overflow */
        st->left = st->left * 16 + (unsigned)h;
        break;
      }
      if (!st->digits) { rc = 400; goto out; }
      if (c == ';' || c == ' ' || c == '\t') st->state = CK_EXT;
      else if (c == '\r') st->state = CK_SIZE_LF;
      else if (c == '\n') st->state = st->left ? CK_DATA : CK_TRAILER;
      else { rc = 400; goto out; }
      st->line = 0;
      break;
    }
    case CK_EXT:
      if (c == '\r') st->state = CK_SIZE_LF;
      else if (c == '\n') st->state = st->left ? CK_DATA : CK_TRAILER;
      else if (!is_vbyte(c) || ++st->line > CK_MAX_LINE) { rc = 400; goto out; }
      break;
    case CK_SIZE_LF:
      if (c != '\n') { rc = 400; goto out; }
      st->state = st->left ? CK_DATA : CK_TRAILER;
      break;
    case CK_DATA: {
      size_t n = len - i;
      if (n > st->left) n = (size_t)st->left;
      if (out->len + n > max) { rc = 413; goto out; }
      if (buf_append(out, in + i, n) != 0) { rc = 500; goto out; }
      st->left -= n;
      i += n;
      if (!st->left) st->state = CK_DATA_CR;
      continue;
    }
    case CK_DATA_CR:
      if (c == '\r') st->state = CK_DATA_LF;
      else if (c == '\n') { st->state = CK_SIZE; st->digits = 0; }
      else { rc = 400; goto out; }
      break;
    case CK_DATA_LF:
      if (c != '\n') { rc = 400; goto out; }
      st->state = CK_SIZE;
      st->digits = 0;
      break;
    case CK_TRAILER:
      if (c == '\r') st->state = CK_END_LF;
      else if (c == '\n') st->state = CK_DONE;
      else { st->state = CK_TRAILER_LINE; st->line = 1; st->trailer++; }
      break;
    case CK_TRAILER_LINE:
      if (++st->trailer > CK_MAX_TRAILER) { rc = 400; goto out; }
      if (c == '\n') st->state = CK_TRAILER;
      break;
    case CK_END_LF:
      if (c != '\n') { rc = 400; goto out; }
      st->state = CK_DONE;
      break;
    }
    i++;
  }
  rc = st->state == CK_DONE;
out:
  *used = i;
  return rc;
}

const http_header *http_find(const http_req *r, const char *name) {
  for (size_t i = 0; i < r->n_headers; i++)
    if (lower_eq(r->headers[i].name, r->headers[i].name_len, name)) return &r->headers[i];
  return NULL;
}

int http_cookie(const http_req *r, const char *name, char *out, size_t n) {
  size_t nl = strlen(name);
  for (size_t i = 0; i < r->n_headers; i++) {
    const http_header *h = &r->headers[i];
    if (!lower_eq(h->name, h->name_len, "cookie")) continue;
    const char *s = h->value, *end = h->value + h->value_len;
    while (s < end) {
      while (s < end && (*s == ' ' || *s == ';')) s++;
      const char *semi = memchr(s, ';', (size_t)(end - s));
      const char *pe = semi ? semi : end;
      const char *eq = memchr(s, '=', (size_t)(pe - s));
      if (eq && (size_t)(eq - s) == nl && memcmp(s, name, nl) == 0) {
        const char *v = eq + 1, *ve = pe;
        while (ve > v && ve[-1] == ' ') ve--;
        if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
          v++;
          ve--;
        }
        if ((size_t)(ve - v) >= n) return -1;
        memcpy(out, v, (size_t)(ve - v));
        out[ve - v] = 0;
        return 1;
      }
      s = pe;
    }
  }
  return 0;
}

int http_has_token(const char *v, size_t n, const char *tok) {
  size_t i = 0;
  while (i < n) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
    size_t b = i;
    while (i < n && v[i] != ',') i++;
    size_t e = i;
    while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
    if (e > b && lower_eq(v + b, e - b, tok)) return 1;
  }
  return 0;
}

long http_pct_decode(const char *s, size_t n, char *out, size_t cap, int plus_space) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      int a, b;
      if (i + 2 >= n || (a = hexval((unsigned char)s[i + 1])) < 0 ||
          (b = hexval((unsigned char)s[i + 2])) < 0)
        return -1;
      c = (char)(a * 16 + b);
      if (!c) return -1;
      i += 2;
    } else if (c == '+' && plus_space) {
      c = ' ';
    }
    if (o + 1 >= cap) return -1;
    out[o++] = c;
  }
  if (cap == 0) return -1;
  out[o] = 0;
  return (long)o;
}

const char *http_reason(int status) {
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 204: return "No Content";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 411: return "Length Required";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 417: return "Expectation Failed";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 499: return "Client Closed Request";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}
