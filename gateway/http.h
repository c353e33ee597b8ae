/* HTTP/1.1 request parsing for the gateway: the request head with its limits, the body framing
 * (Content-Length or chunked), and header, cookie and percent-decoding helpers. Pure: no I/O. */
#ifndef HOSO_GW_HTTP_H
#define HOSO_GW_HTTP_H

#include <stddef.h>

#define HTTP_MAX_HEAD (16 * 1024) /* request line + headers */
#define HTTP_MAX_HEADERS 100
#define HTTP_INCOMPLETE (-1)      /* http_parse_head: the head has not ended yet */

typedef struct {
  const char *name, *value; /* not NUL-terminated; value without surrounding blanks */
  size_t name_len, value_len;
} http_header;

typedef struct {
  const char *method, *target, *path, *query; /* point into the parsed buffer */
  size_t method_len, target_len, path_len, query_len; /* query: after '?', 0 when none */
  int minor;                /* HTTP/1.<minor>: 0 or 1 */
  http_header headers[HTTP_MAX_HEADERS];
  size_t n_headers;
  size_t head_len;          /* bytes from buf[0] through the blank line that ends the head */
  long long content_length; /* -1 when absent */
  int chunked;              /* Transfer-Encoding: chunked */
  int keep_alive;           /* the connection may serve another request after this one */
  int expect_continue;      /* Expect: 100-continue */
} http_req;

/* Parses a request head at buf[0..len). Returns 0 when the head is complete (r filled, its
 * pointers into buf), HTTP_INCOMPLETE when more bytes are needed (and len is still under
 * max_head), or the HTTP status to answer before closing the connection: 400 malformed (bad
 * characters, folded header lines, conflicting or bad Content-Length, missing Host), 414/431
 * request line / head over max_head or more than HTTP_MAX_HEADERS headers, 417 unknown
 * expectation, 501 unknown method or transfer coding, 505 HTTP version. Blank lines before the
 * request line are skipped (RFC 9112 2.2); lines may end in CRLF or LF. */
int http_parse_head(const char *buf, size_t len, size_t max_head, http_req *r);

/* A growable byte buffer. */
typedef struct {
  char *p;
  size_t len, cap;
} http_buf;
void http_buf_free(http_buf *b);

/* Incremental decoder of a chunked body. Zero-initialise before the first call. */
typedef struct {
  int state;
  unsigned long long left; /* data bytes left in the current chunk */
  size_t line;             /* bytes of the current size or trailer line */
  size_t trailer;          /* bytes of trailer section so far */
  int digits;
} http_chunked;

/* Feeds raw bytes in[0..len); decoded data is appended to out, never more than max bytes in
 * all. *used gets the bytes consumed (less than len only when the body ended: what follows is
 * the next request). Returns 1 when the body ended (last chunk and trailers read), 0 when more
 * input is needed, 400 malformed, 413 over max, 500 out of memory. */
int http_chunked_feed(http_chunked *st, const char *in, size_t len, size_t *used, http_buf *out,
                      size_t max);

/* The first header named name (case-insensitive), or NULL. */
const http_header *http_find(const http_req *r, const char *name);
/* The value of cookie name from the request's Cookie headers, copied NUL-terminated into out.
 * 1 found, 0 absent, -1 too long for out. */
int http_cookie(const http_req *r, const char *name, char *out, size_t n);
/* True when the value is exactly tok (case-insensitive) or a comma-separated list holding it. */
int http_has_token(const char *v, size_t n, const char *tok);

/* Percent-decodes s[0..n) into out (NUL-terminated); plus_space turns '+' into ' ' (query
 * strings). The length, or -1 when malformed (bad escape, decoded NUL) or longer than cap-1. */
long http_pct_decode(const char *s, size_t n, char *out, size_t cap, int plus_space);

/* The reason phrase of a status code ("Not Found"). */
const char *http_reason(int status);

#endif
