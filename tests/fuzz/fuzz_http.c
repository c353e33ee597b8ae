/* libFuzzer: the gateway's HTTP/1.1 request parser (gateway/http.c): request heads, header and
 * cookie lookup, chunked bodies fed in two pieces, percent-decoding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the head parser reads buf[0..len) only: give it exactly that, on the heap, so ASan sees
   * a read past the end */
  char *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  http_req r;
  memset(&r, 0, sizeof r);
  if (http_parse_head(buf, size, 8192, &r) == 0) {
    char v[256];
    (void)http_find(&r, "host");
    (void)http_cookie(&r, "hoso_session", v, sizeof v);
    (void)http_cookie(&r, "hoso_csrf", v, sizeof v);
    const http_header *h = http_find(&r, "connection");
    if (h) (void)http_has_token(h->value, h->value_len, "close");
    char path[512];
    (void)http_pct_decode(r.path, r.path_len, path, sizeof path, 0);
    (void)http_pct_decode(r.query, r.query_len, path, sizeof path, 1);
  }
  /* the same bytes as a chunked body, split where the first byte says */
  http_chunked st;
  memset(&st, 0, sizeof st);
  http_buf out = {0};
  size_t cut = size ? data[0] % (size + 1) : 0, used = 0;
  int rc = http_chunked_feed(&st, buf, cut, &used, &out, 1 << 16);
  if (rc == 0 && used == cut) (void)http_chunked_feed(&st, buf + cut, size - cut, &used, &out, 1 << 16);
  http_buf_free(&out);
  free(buf);
  return 0;
}
