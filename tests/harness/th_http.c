/* Plain HTTP/1.1 over loopback for the gateway's file and stream routes (th_http.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "th_http.h"

int th_http_dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

void th_http_send_all(int fd, const void *p, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t k = send(fd, (const char *)p + off, n - off, MSG_NOSIGNAL);
    if (k <= 0) return;
    off += (size_t)k;
  }
}

void th_http_read_reply(int fd, th_http_resp *r) {
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 60000) <= 0) fail_msg("no reply within 60 s");
    if (len + 65536 > cap) buf = realloc(buf, cap *= 2);
    ssize_t k = recv(fd, buf + len, cap - len, 0);
    if (k <= 0) break;
    len += (size_t)k;
  }
  close(fd);
  buf[len] = 0;
  char *end = strstr(buf, "\r\n\r\n");
  assert_non_null(end);
  size_t hl = (size_t)(end - buf) + 4;
  assert_true(hl < sizeof r->head);
  memcpy(r->head, buf, hl);
  r->head[hl] = 0;
  r->status = atoi(buf + 9);
  r->body_len = len - hl;
  r->body = malloc(r->body_len + 1);
  memcpy(r->body, buf + hl, r->body_len);
  r->body[r->body_len] = 0;
  free(buf);
}

const char *th_http_header(const th_http_resp *r, const char *name, char *out, size_t n) {
  size_t nl = strlen(name);
  for (const char *p = strstr(r->head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
    if (!strncasecmp(p + 2, name, nl) && p[2 + nl] == ':') {
      const char *v = p + 2 + nl + 1;
      while (*v == ' ') v++;
      size_t k = strcspn(v, "\r");
      snprintf(out, n, "%.*s", (int)k, v);
      return out;
    }
  }
  return NULL;
}

void th_http_resp_free(th_http_resp *r) { free(r->body); }
