/* Plain HTTP/1.1 over loopback for the gateway's file and stream routes, where the test must
 * see the bytes as a browser gets them (status line, headers, body as sent). Every request a
 * test sends says Connection: close, so a reply is read to the end of the connection. */
#ifndef HOSO_TH_HTTP_H
#define HOSO_TH_HTTP_H

#include <stddef.h>

typedef struct {
  int status;
  char head[8192]; /* status line and headers, ending in an empty line */
  char *body;      /* NUL-terminated copy of the body; th_http_resp_free */
  size_t body_len;
} th_http_resp;

/* A connection to 127.0.0.1:port (the test fails if it cannot connect). */
int th_http_dial(int port);
/* Sends everything; a peer that closed early (a refused upload) is not an error here: the
 * reply it sent first is what the test reads. */
void th_http_send_all(int fd, const void *p, size_t n);
/* Reads one reply to the end of the connection, waiting up to 60 s for each piece, and closes
 * fd. */
void th_http_read_reply(int fd, th_http_resp *r);
/* The value of header `name` (case-insensitive) into out, or NULL. */
const char *th_http_header(const th_http_resp *r, const char *name, char *out, size_t n);
void th_http_resp_free(th_http_resp *r);

#endif
