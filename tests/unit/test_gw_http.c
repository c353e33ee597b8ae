/* Unit tests of the gateway's HTTP/1.1 parser (gateway/http.c): request lines, header limits,
 * refused folding and smuggling shapes, Content-Length edge cases, chunked bodies, pipelined
 * requests, cookies and percent-decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static http_req R;

static int parse(const char *s) { return http_parse_head(s, strlen(s), HTTP_MAX_HEAD, &R); }

static void test_simple_get(void **state) {
  (void)state;
  const char *s = "GET /v1/units/7/children?page_size=2&x=%20 HTTP/1.1\r\nHost: a\r\n"
                  "X-Request-Id:   abc  \r\n\r\nNEXT";
  assert_int_equal(parse(s), 0);
  assert_int_equal(R.method_len, 3);
  assert_memory_equal(R.method, "GET", 3);
  assert_int_equal(R.path_len, strlen("/v1/units/7/children"));
  assert_memory_equal(R.path, "/v1/units/7/children", R.path_len);
  assert_int_equal(R.query_len, strlen("page_size=2&x=%20"));
  assert_memory_equal(R.query, "page_size=2&x=%20", R.query_len);
  assert_int_equal(R.minor, 1);
  assert_int_equal(R.n_headers, 2);
  /* blanks around a value are not part of it */
  const http_header *h = http_find(&R, "x-request-id");
  assert_non_null(h);
  assert_int_equal(h->value_len, 3);
  assert_memory_equal(h->value, "abc", 3);
  assert_int_equal(R.content_length, -1);
  assert_true(R.keep_alive);
  /* the head ends after the blank line: "NEXT" belongs to whatever follows */
  assert_int_equal(R.head_len, strlen(s) - 4);
}

static void test_incomplete_then_complete(void **state) {
  (void)state;
  const char *s = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
  size_t n = strlen(s);
  /* every strict prefix needs more bytes; only the whole head parses */
  for (size_t k = 0; k < n; k++) assert_int_equal(http_parse_head(s, k, HTTP_MAX_HEAD, &R), HTTP_INCOMPLETE);
  assert_int_equal(http_parse_head(s, n, HTTP_MAX_HEAD, &R), 0);
  assert_int_equal(R.content_length, 5);
}

static void test_bare_lf_and_leading_blank_lines(void **state) {
  (void)state;
  /* RFC 9112 2.2: a lone LF may end a line; blank lines before the request are ignored */
  assert_int_equal(parse("\r\n\nGET / HTTP/1.1\nHost: a\n\n"), 0);
  assert_int_equal(R.path_len, 1);
  /* a CR not followed by LF is not a line end: refused */
  assert_int_equal(parse("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400);
  assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), 400);
}

static void test_malformed_request_lines(void **state) {
  (void)state;
  assert_int_equal(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);  /* two spaces */
  assert_int_equal(parse("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400);  /* trailing space */
  assert_int_equal(parse("GET /\r\nHost: a\r\n\r\n"), 400);             /* HTTP/0.9 */
  assert_int_equal(parse("GET / http/1.1\r\nHost: a\r\n\r\n"), 400);
  assert_int_equal(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  assert_int_equal(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505);
  assert_int_equal(parse("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);  /* not a token */
  assert_int_equal(parse("BREW / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
  assert_int_equal(parse("GETGETGETGETGETGETGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
  assert_int_equal(parse("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);  /* methods are case-sensitive */
  assert_int_equal(parse("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  assert_int_equal(parse("GET /a\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  assert_int_equal(parse("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  assert_int_equal(parse("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  assert_int_equal(parse("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  /* garbage is refused as soon as its first line ends, without waiting for a whole head */
  static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
  assert_int_equal(http_parse_head(tls, sizeof tls - 1, HTTP_MAX_HEAD, &R), 400);
  assert_int_equal(parse("GET"), HTTP_INCOMPLETE);
  assert_int_equal(parse("GET /x"), HTTP_INCOMPLETE);
  assert_int_equal(parse("{\"json\":"), 400);
  /* absolute-form is reduced to the path */
  assert_int_equal(parse("GET http://example.test/a/b?c=1 HTTP/1.1\r\nHost: example.test\r\n\r\n"), 0);
  assert_int_equal(R.path_len, 4);
  assert_memory_equal(R.path, "/a/b", 4);
  assert_int_equal(R.query_len, 3);
  assert_int_equal(parse("GET http://example.test HTTP/1.1\r\nHost: example.test\r\n\r\n"), 0);
  assert_int_equal(R.path_len, 1);
  assert_memory_equal(R.path, "/", 1);
}

static void test_header_syntax(void **state) {
  (void)state;
  /* obs-fold (a continuation line) is refused, RFC 9112 5.2 */
  assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  folded\r\n\r\n"), 400);
  assert_int_equal(parse("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n"), 400);
  /* whitespace between name and colon: refused (RFC 9112 5.1) */
  assert_int_equal(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
  assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400);
  assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n: empty-name\r\n\r\n"), 400);
  static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n";
  assert_int_equal(http_parse_head(nul, sizeof nul - 1, HTTP_MAX_HEAD, &R), 400);
  assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n"), 400);
  /* obs-text bytes are allowed in values */
  assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX-Name: Nguy\xe1\xbb\x85n\r\n\r\n"), 0);
  /* HTTP/1.1 needs exactly one Host; HTTP/1.0 may omit it */
  assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n"), 400);
  assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n"), 0);
  assert_false(R.keep_alive); /* 1.0 without keep-alive closes */
  assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0);
  assert_true(R.keep_alive);
  assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n"), 0);
  assert_false(R.keep_alive);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"), 0);
  assert_true(R.expect_continue);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n"), 417);
}

/* A head of n headers "X-Hk: v". */
static char *many_headers(int n) {
  size_t cap = 64 + (size_t)n * 16;
  char *s = malloc(cap);
  size_t o = (size_t)snprintf(s, cap, "GET / HTTP/1.1\r\nHost: a\r\n");
  for (int i = 1; i < n; i++) o += (size_t)snprintf(s + o, cap - o, "X-H%d: v\r\n", i);
  snprintf(s + o, cap - o, "\r\n");
  return s;
}

static void test_limits(void **state) {
  (void)state;
  char *s = many_headers(HTTP_MAX_HEADERS);
  assert_int_equal(parse(s), 0);
  assert_int_equal(R.n_headers, HTTP_MAX_HEADERS);
  free(s);
  s = many_headers(HTTP_MAX_HEADERS + 1);
  assert_int_equal(parse(s), 431);
  free(s);

  /* a head of exactly max bytes parses; one byte more does not, and the answer does not wait
   * for the end of a head that can never be accepted */
  size_t max = 1024;
  char *big = malloc(4 * max);
  int pre = snprintf(big, 4 * max, "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ");
  size_t pad = max - (size_t)pre - 4;
  memset(big + pre, 'p', pad);
  memcpy(big + pre + pad, "\r\n\r\n", 4);
  assert_int_equal(http_parse_head(big, max, max, &R), 0);
  assert_int_equal(R.head_len, max);
  memmove(big + pre + 1, big + pre, pad + 4);
  assert_int_equal(http_parse_head(big, max + 1, max, &R), 431);
  assert_int_equal(http_parse_head(big, max, max, &R), 431); /* max bytes and still no end */
  assert_int_equal(http_parse_head(big, max - 1, max, &R), HTTP_INCOMPLETE);
  /* a request line alone longer than the limit: 414 */
  memcpy(big, "GET /", 5);
  memset(big + 5, 'a', 2 * max);
  assert_int_equal(http_parse_head(big, 2 * max, max, &R), 414);
  free(big);
}

static void test_content_length(void **state) {
  (void)state;
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), 0);
  assert_int_equal(R.content_length, 0);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0012\r\n\r\n"), 0);
  assert_int_equal(R.content_length, 12);
  /* identical repeats are one value; different ones are a smuggling attempt */
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nContent-length: 7\r\n\r\n"), 0);
  assert_int_equal(R.content_length, 7);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n"), 400);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n\r\n"), 400);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), 400);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), 400);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), 400);
  /* a huge value saturates (the server answers 413) instead of wrapping to something small */
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 0);
  assert_true(R.content_length > (1LL << 60));
  /* Transfer-Encoding: only a lone chunked, never together with Content-Length */
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
  assert_true(R.chunked);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), 400);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
  assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  assert_int_equal(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

static void test_chunked(void **state) {
  (void)state;
  const char *body = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\nGET /next";
  size_t n = strlen(body);
  /* fed byte by byte, the result is the same as all at once */
  for (int bytewise = 0; bytewise < 2; bytewise++) {
    http_chunked st;
    memset(&st, 0, sizeof st);
    http_buf out = {0};
    size_t pos = 0, used = 0;
    int rc = 0;
    while (pos < n && rc == 0) {
      size_t k = bytewise ? 1 : n - pos;
      rc = http_chunked_feed(&st, body + pos, k, &used, &out, 1000);
      pos += used;
    }
    assert_int_equal(rc, 1);
    assert_int_equal(out.len, 23);
    assert_memory_equal(out.p, "Wikipedia in\r\n\r\nchunks.", 23);
    /* what follows the body is left for the next request */
    assert_string_equal(body + pos, "GET /next");
    http_buf_free(&out);
  }
}

static int chunked_rc(const char *body, size_t max) {
  http_chunked st;
  memset(&st, 0, sizeof st);
  http_buf out = {0};
  size_t used;
  int rc = http_chunked_feed(&st, body, strlen(body), &used, &out, max);
  http_buf_free(&out);
  return rc;
}

static void test_chunked_errors(void **state) {
  (void)state;
  assert_int_equal(chunked_rc("x\r\n", 100), 400);           /* not hex */
  assert_int_equal(chunked_rc("\r\n", 100), 400);            /* no size */
  assert_int_equal(chunked_rc("3\r\nabcX", 100), 400);        /* data not followed by CRLF */
  assert_int_equal(chunked_rc("3\r\nabc\rX", 100), 400);
  assert_int_equal(chunked_rc("10\r\n0123456789abcdef\r\n0\r\n\r\n", 15), 413);
  assert_int_equal(chunked_rc("fffffffffffffffff\r\n", 100), 413); /* would overflow */
  assert_int_equal(chunked_rc("3\r\nabc\r\n", 100), 0);       /* needs the last chunk */
  assert_int_equal(chunked_rc("0\r\n\r\n", 100), 1);          /* an empty body */
  assert_int_equal(chunked_rc("0\r\n\rX", 100), 400);
}

static void test_pipelined(void **state) {
  (void)state;
  /* three requests in one buffer: each head is parsed where the previous request ended */
  const char *s = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                  "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
                  "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  size_t n = strlen(s), pos = 0;
  const char *paths[] = {"/a", "/b", "/c"};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(http_parse_head(s + pos, n - pos, HTTP_MAX_HEAD, &R), 0);
    assert_int_equal(R.path_len, 2);
    assert_memory_equal(R.path, paths[i], 2);
    pos += R.head_len + (R.content_length > 0 ? (size_t)R.content_length : 0);
  }
  assert_int_equal(pos, n);
  assert_false(R.keep_alive);
}

static void test_cookies_tokens_pct(void **state) {
  (void)state;
  assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1; hoso_session=tok.en; b=\"q\"\r\n"
                         "Cookie: hoso_csrf=zz\r\n\r\n"),
                   0);
  char v[16];
  assert_int_equal(http_cookie(&R, "hoso_session", v, sizeof v), 1);
  assert_string_equal(v, "tok.en");
  assert_int_equal(http_cookie(&R, "b", v, sizeof v), 1);
  assert_string_equal(v, "q");
  assert_int_equal(http_cookie(&R, "hoso_csrf", v, sizeof v), 1);
  assert_string_equal(v, "zz");
  assert_int_equal(http_cookie(&R, "hoso", v, sizeof v), 0); /* a prefix is not the name */
  assert_int_equal(http_cookie(&R, "hoso_session", v, 4), -1);

  assert_true(http_has_token("keep-alive, Upgrade", 19, "upgrade"));
  assert_false(http_has_token("keep-alive-ish", 14, "keep-alive"));

  char out[32];
  assert_int_equal(http_pct_decode("a%2Fb+c", 7, out, sizeof out, 0), 5);
  assert_string_equal(out, "a/b+c");
  assert_int_equal(http_pct_decode("a%2fb+c", 7, out, sizeof out, 1), 5);
  assert_string_equal(out, "a/b c");
  assert_int_equal(http_pct_decode("%2e%2E", 6, out, sizeof out, 0), 2);
  assert_string_equal(out, "..");
  assert_int_equal(http_pct_decode("%", 1, out, sizeof out, 0), -1);
  assert_int_equal(http_pct_decode("%4", 2, out, sizeof out, 0), -1);
  assert_int_equal(http_pct_decode("%zz", 3, out, sizeof out, 0), -1);
  assert_int_equal(http_pct_decode("a%00b", 5, out, sizeof out, 0), -1); /* NUL never decodes */
  assert_int_equal(http_pct_decode("abcd", 4, out, 4, 0), -1);           /* no room for the NUL */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple_get),
      cmocka_unit_test(test_incomplete_then_complete),
      cmocka_unit_test(test_bare_lf_and_leading_blank_lines),
      cmocka_unit_test(test_malformed_request_lines),
      cmocka_unit_test(test_header_syntax),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_content_length),
      cmocka_unit_test(test_chunked),
      cmocka_unit_test(test_chunked_errors),
      cmocka_unit_test(test_pipelined),
      cmocka_unit_test(test_cookies_tokens_pct),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
