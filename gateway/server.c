/* The gateway's connections: every worker thread waits on one shared epoll set and takes one
 * ready connection at a time (leader/follower: no hand-off between threads on the hot path);
 * reads are non-blocking, so a slow or idle client holds no thread between its bytes. A worker
 * that frames a complete request serves it (pipelined ones in order) and re-arms the
 * connection. A timer thread enforces header, body and idle timeouts; lingering close keeps an
 * error reply from being lost to a RST. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "gwsrv.h"
#include "log.h"

enum { C_READ, C_BUSY, C_LINGER };
enum { ADV_READY = 0, ADV_MORE = 1 }; /* else an HTTP status >= 400 */

#define LINGER_MS 2000
#define READ_CHUNK 16384
#define PIPELINE_RUN 16 /* requests served back to back before the connection queues again */
#define SCAN_MS 200

struct gw_conn {
  int fd;
  int state;
  int expired; /* set by the timer thread; the owner of the next event closes it */
  long long deadline;
  struct gw_conn *prev, *next;
  char peer[64];
  char *in; /* raw bytes; the current request always starts at in[0] */
  size_t len, cap;
  /* the current request */
  int started, have_head, chunked, sent_continue, rt_set, connect_face;
  int streaming;     /* a GW_R_UPLOAD or GW_R_PACKAGE_IN request: its handler reads the body (gw_conn_body_read) */
  size_t body_left;  /* of a streaming request's body, bytes not read yet */
  char verb[8];
  size_t head_len, limit, raw_pos, req_total;
  long long clen;
  http_chunked ck;
  http_buf body; /* the decoded body of a chunked request */
  gw_route rt;
};

static struct {
  int lfd, epfd, evfd, reserve_fd;
  pthread_t timer;
  pthread_t *workers;
  int n_workers, started, timer_started;
  pthread_mutex_t mu;
  pthread_cond_t idle_cv, timer_cv;
  struct gw_conn *all; /* every open connection */
  int n_conns, n_busy; /* n_busy: requests being served */
  int stopping;
  atomic_int exiting;
} S = {.lfd = -1, .epfd = -1, .evfd = -1, .reserve_fd = -1,
       .mu = PTHREAD_MUTEX_INITIALIZER, .idle_cv = PTHREAD_COND_INITIALIZER,
       .timer_cv = PTHREAD_COND_INITIALIZER};

/* epoll tags of the two non-connection descriptors */
static char tag_listen, tag_wake;

long long gw_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *gw_conn_peer(const struct gw_conn *c) { return c->peer; }

/* ---------------------------------------------------------------- connection list -------- */

static void link_conn(struct gw_conn *c) {
  c->prev = NULL;
  c->next = S.all;
  if (S.all) S.all->prev = c;
  S.all = c;
  S.n_conns++;
}

static void unlink_conn(struct gw_conn *c) {
  if (c->prev) c->prev->next = c->next;
  else S.all = c->next;
  if (c->next) c->next->prev = c->prev;
  S.n_conns--;
}

static void reset_request(struct gw_conn *c) {
  if (c->rt_set) gw_route_free(&c->rt);
  c->rt_set = 0;
  c->started = c->have_head = c->chunked = c->sent_continue = c->connect_face = c->streaming = 0;
  c->body_left = 0;
  c->verb[0] = 0;
  c->head_len = c->limit = c->raw_pos = c->req_total = 0;
  c->clen = 0;
  memset(&c->ck, 0, sizeof c->ck);
  c->body.len = 0;
}

static void free_conn(struct gw_conn *c) {
  close(c->fd);
  reset_request(c);
  http_buf_free(&c->body);
  free(c->in);
  free(c);
}

/* Closes a connection the caller owns (event thread: READ/LINGER; worker: BUSY). */
static void close_conn(struct gw_conn *c, int was_busy) {
  pthread_mutex_lock(&S.mu);
  unlink_conn(c);
  if (was_busy && --S.n_busy == 0) pthread_cond_broadcast(&S.idle_cv);
  pthread_mutex_unlock(&S.mu);
  free_conn(c);
}

/* Re-arms the connection in epoll. Called with S.mu held when a worker hands it back, so a
 * concurrent stop never frees it between the state change and the epoll call. */
static void arm(struct gw_conn *c, int add) {
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.ptr = c};
  if (epoll_ctl(S.epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev) != 0)
    log_warn("epoll_ctl: %s", strerror(errno));
}

/* ---------------------------------------------------------------- framing ---------------- */

static int ensure_space(struct gw_conn *c) {
  size_t want = c->len + READ_CHUNK;
  if (c->have_head && !c->chunked && c->head_len + (size_t)c->clen > want)
    want = c->head_len + (size_t)c->clen; /* the whole body in as few reads as possible */
  if (want <= c->cap) return 0;
  size_t nc = c->cap ? c->cap : READ_CHUNK;
  while (nc < want) nc *= 2;
  char *p = realloc(c->in, nc);
  if (!p) return -1;
  c->in = p;
  c->cap = nc;
  return 0;
}

/* After a large body, a keep-alive connection gives the memory back rather than holding up
 * to 25 MB while idle. */
static void shrink(struct gw_conn *c) {
  if (c->body.cap > 4 * READ_CHUNK) http_buf_free(&c->body);
  if (c->cap > 4 * READ_CHUNK && c->len <= READ_CHUNK) {
    char *p = realloc(c->in, 2 * READ_CHUNK);
    if (p) {
      c->in = p;
      c->cap = 2 * READ_CHUNK;
    }
  }
}

static void send_continue(struct gw_conn *c) {
  static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  /* best effort: a client that sent Expect waits only a moment before sending anyway */
  if (send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT) > 0) c->sent_continue = 1;
}

/* Frames the request at the start of the buffer: ADV_READY when it is complete, ADV_MORE when
 * bytes are missing, or the HTTP status that refuses it. */
static int advance(struct gw_conn *c) {
  if (!c->have_head) {
    if (c->len == 0) return ADV_MORE;
    http_req h;
    int rc = http_parse_head(c->in, c->len, HTTP_MAX_HEAD, &h);
    if (rc == HTTP_INCOMPLETE) return ADV_MORE;
    if (rc) return rc;
    c->have_head = 1;
    c->head_len = h.head_len;
    c->chunked = h.chunked;
    c->clen = h.chunked ? 0 : h.content_length < 0 ? 0 : h.content_length;
    snprintf(c->verb, sizeof c->verb, "%.*s", (int)h.method_len, h.method);
    gw_route_resolve(h.method, h.method_len, h.path, h.path_len, &c->rt);
    c->rt_set = 1;
    c->connect_face = c->rt.kind == GW_R_CONNECT || c->rt.kind == GW_R_CONNECT_VERB ||
                      c->rt.kind == GW_R_CONNECT_UNKNOWN;
    c->limit = gw_route_body_limit(&c->rt);
    /* refused before the body is read: nobody waits for 25 MB to learn it is too large */
    if (!c->chunked && (unsigned long long)c->clen > c->limit) return 413;
    c->raw_pos = c->head_len;
    c->deadline = gw_now_ms() + gw_cfg.body_timeout_ms;
    int body_pending = c->chunked ? c->len == c->head_len
                                  : c->len < c->head_len + (size_t)c->clen;
    if (h.expect_continue && body_pending) send_continue(c);
    if (c->rt.kind == GW_R_UPLOAD || c->rt.kind == GW_R_PACKAGE_IN) {
      /* served at once: the handler streams the body to the backend as it arrives, so no
       * upload is ever held whole in memory here */
      if (c->chunked) return 411;
      c->streaming = 1;
      c->body_left = (size_t)c->clen;
      c->req_total = c->head_len;
      return ADV_READY;
    }
  }
  if (c->chunked) {
    size_t used = 0;
    int rc = http_chunked_feed(&c->ck, c->in + c->raw_pos, c->len - c->raw_pos, &used, &c->body,
                               c->limit);
    /* drop the consumed framing, so a body of tiny chunks cannot grow the buffer without end */
    size_t after = c->raw_pos + used;
    memmove(c->in + c->head_len, c->in + after, c->len - after);
    c->len -= after - c->head_len;
    c->raw_pos = c->head_len;
    if (rc == 1) {
      c->req_total = c->head_len;
      return ADV_READY;
    }
    return rc == 0 ? ADV_MORE : rc;
  }
  if (c->len >= c->head_len + (size_t)c->clen) {
    c->req_total = c->head_len + (size_t)c->clen;
    return ADV_READY;
  }
  return ADV_MORE;
}

/* ---------------------------------------------------------------- writing ---------------- */

static int wait_writable(struct gw_conn *c, long long end) {
  for (;;) {
    long long left = end - gw_now_ms();
    if (left <= 0) return -1;
    struct pollfd p = {.fd = c->fd, .events = POLLOUT};
    int k = poll(&p, 1, (int)left);
    if (k > 0) return (p.revents & (POLLERR | POLLHUP | POLLNVAL)) && !(p.revents & POLLOUT) ? -1 : 0;
    if (k < 0 && errno != EINTR) return -1;
  }
}

int gw_conn_writev(struct gw_conn *c, struct iovec *iov, int n) {
  long long end = gw_now_ms() + gw_cfg.write_timeout_ms;
  while (n > 0) {
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    ssize_t k = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && wait_writable(c, end) == 0) continue;
      return -1;
    }
    while (n > 0 && (size_t)k >= iov->iov_len) {
      k -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + k;
      iov->iov_len -= (size_t)k;
    }
  }
  return 0;
}

int gw_conn_sendfile(struct gw_conn *c, int fd, size_t len) {
  long long end = gw_now_ms() + gw_cfg.write_timeout_ms;
  off_t off = 0;
  while ((size_t)off < len) {
    ssize_t k = sendfile(c->fd, fd, &off, len - (size_t)off);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && wait_writable(c, end) == 0) continue;
      return -1;
    }
    if (k == 0) return -1; /* the file shrank under us */
  }
  return 0;
}

long gw_conn_body_read(struct gw_conn *c, void *buf, size_t n) {
  if (!c->streaming || c->body_left == 0 || n == 0) return 0;
  if (n > c->body_left) n = c->body_left;
  /* first what arrived with the head */
  if (c->len > c->raw_pos) {
    size_t k = c->len - c->raw_pos < n ? c->len - c->raw_pos : n;
    memcpy(buf, c->in + c->raw_pos, k);
    c->raw_pos += k;
    c->body_left -= k;
    return (long)k;
  }
  for (;;) {
    ssize_t k = recv(c->fd, buf, n, MSG_DONTWAIT);
    if (k > 0) {
      c->body_left -= (size_t)k;
      return (long)k;
    }
    if (k == 0) return -1; /* the client left before the body ended */
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return -1;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int pr = poll(&p, 1, gw_cfg.body_timeout_ms);
    if (pr == 0) return -1; /* too slow: the body timeout counts between reads here */
    if (pr < 0 && errno != EINTR) return -1;
  }
}

/* ---------------------------------------------------------------- connection events ------- */

/* Hands the connection back to epoll, to whichever worker takes its next event. */
static void rearm_reading(struct gw_conn *c, long long deadline, int was_busy) {
  pthread_mutex_lock(&S.mu);
  c->state = C_READ;
  c->deadline = deadline;
  if (was_busy && --S.n_busy == 0) pthread_cond_broadcast(&S.idle_cv);
  arm(c, 0);
  pthread_mutex_unlock(&S.mu);
}

static void start_linger(struct gw_conn *c, int was_busy) {
  reset_request(c);
  c->len = 0;
  shutdown(c->fd, SHUT_WR);
  pthread_mutex_lock(&S.mu);
  c->state = C_LINGER;
  c->deadline = gw_now_ms() + LINGER_MS;
  if (was_busy && --S.n_busy == 0) pthread_cond_broadcast(&S.idle_cv);
  arm(c, 0);
  pthread_mutex_unlock(&S.mu);
}

/* Generates a request id for a request that never reached a handler. */
static void early_rid(char *out, size_t n) {
  static _Atomic unsigned long long seq;
  snprintf(out, n, "gw-%llx-%llx", (unsigned long long)gw_now_ms(), ++seq);
}

/* Refuses the request at the start of the buffer with status (logged and counted like any
 * other), then closes gracefully. */
static void early_error(struct gw_conn *c, int status, int was_busy) {
  char rid[48], buf[2048];
  early_rid(rid, sizeof rid);
  char msg[128];
  if (status == 413) snprintf(msg, sizeof msg, "request body too large: at most %zu bytes", c->limit);
  size_t n = gw_format_early_error(buf, sizeof buf, status, c->connect_face, rid,
                                   status == 413 ? msg : NULL);
  if (send(c->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { /* best effort */ }
  const char *route = c->rt_set ? c->rt.label : "invalid";
  gw_metrics_request(route, c->verb[0] ? c->verb : "-", status, 0);
  log_field f[] = {{"method", c->verb[0] ? c->verb : "-", 0}, {"route", route, 0},
                   {"status", NULL, status},                  {"duration_ms", NULL, 0},
                   {"bytes", NULL, (double)n},                {"client", c->peer, 0},
                   {"request_id", rid, 0}};
  log_fields(LOG_INFO_, status == 408 ? "http: client too slow" : "http", f, sizeof f / sizeof f[0]);
  start_linger(c, was_busy);
}

/* Serves the complete request(s) at the start of c's buffer, then re-arms the connection,
 * lingers to a close, or closes it when the client is gone. */
static void serve(struct gw_conn *c, gw_req *r) {
  pthread_mutex_lock(&S.mu);
  S.n_busy++;
  c->state = C_BUSY; /* no timeout while a backend works on it */
  pthread_mutex_unlock(&S.mu);
  for (;;) {
    http_req h;
    /* parsed again where it now lies: the buffer may have moved while the body arrived */
    if (http_parse_head(c->in, c->len, HTTP_MAX_HEAD, &h) != 0) {
      early_error(c, 400, 1);
      return;
    }
    r->conn = c;
    r->h = &h;
    r->rt = &c->rt;
    r->body = c->chunked ? c->body.p : c->in + c->head_len;
    r->body_len = c->streaming ? 0 : c->chunked ? c->body.len : (size_t)c->clen;
    int keep = gw_handle(r) && h.keep_alive;
    pthread_mutex_lock(&S.mu);
    if (S.stopping) keep = 0;
    pthread_mutex_unlock(&S.mu);
    if (r->close == 2) { /* the client is gone */
      close_conn(c, 1);
      return;
    }
    if (!keep) {
      start_linger(c, 1);
      return;
    }
    size_t total = c->req_total;
    memmove(c->in, c->in + total, c->len - total);
    c->len -= total;
    reset_request(c);
    shrink(c);
    if (c->len) c->started = 1;
    int rc = advance(c);
    if (rc == ADV_READY) continue; /* pipelined: answered in order */
    if (rc != ADV_MORE) {
      early_error(c, rc, 1);
      return;
    }
    rearm_reading(c, gw_now_ms() + (c->started ? gw_cfg.header_timeout_ms : gw_cfg.idle_timeout_ms), 1);
    return;
  }
}

static void on_linger_event(struct gw_conn *c) {
  char scratch[16384];
  for (int i = 0; i < 64; i++) {
    ssize_t k = recv(c->fd, scratch, sizeof scratch, MSG_DONTWAIT);
    if (k > 0) continue;
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && errno == EAGAIN && !c->expired) {
      pthread_mutex_lock(&S.mu);
      arm(c, 0);
      pthread_mutex_unlock(&S.mu);
      return;
    }
    break; /* EOF, error or out of time: the client has had its chance */
  }
  close_conn(c, 0);
}

static void on_conn_event(struct gw_conn *c, gw_req *r) {
  pthread_mutex_lock(&S.mu);
  int expired = c->expired;
  pthread_mutex_unlock(&S.mu);
  if (c->state == C_LINGER) {
    on_linger_event(c);
    return;
  }
  if (expired) {
    /* a slow client is told why before the close; an idle one just goes */
    if (c->started) early_error(c, 408, 0);
    else close_conn(c, 0);
    return;
  }
  if (ensure_space(c) != 0) {
    early_error(c, 503, 0);
    return;
  }
  ssize_t k;
  do k = recv(c->fd, c->in + c->len, c->cap - c->len, MSG_DONTWAIT);
  while (k < 0 && errno == EINTR);
  if (k == 0 || (k < 0 && errno != EAGAIN)) {
    close_conn(c, 0); /* the client left; a partial request dies with it */
    return;
  }
  if (k > 0) {
    if (!c->started) {
      c->started = 1;
      c->deadline = gw_now_ms() + gw_cfg.header_timeout_ms;
    }
    c->len += (size_t)k;
  }
  int rc = advance(c);
  if (rc == ADV_READY) serve(c, r);
  else if (rc == ADV_MORE) rearm_reading(c, c->deadline, 0);
  else early_error(c, rc, 0);
}

static void accept_all(void) {
  for (;;) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept4(S.lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && S.reserve_fd >= 0) {
        /* out of descriptors: free the reserve to accept and close the newcomer, or the
         * listening socket would stay readable and spin */
        close(S.reserve_fd);
        fd = accept(S.lfd, NULL, NULL);
        if (fd >= 0) close(fd);
        S.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        log_warn("out of file descriptors: refused a connection");
        continue;
      }
      return; /* EAGAIN, or an error the next round retries */
    }
    pthread_mutex_lock(&S.mu);
    int refuse = S.n_conns >= gw_cfg.max_conns || S.stopping;
    pthread_mutex_unlock(&S.mu);
    if (refuse) {
      static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                 "Connection: close\r\nRetry-After: 1\r\n\r\n";
      if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { /* best effort */ }
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct gw_conn *c = calloc(1, sizeof *c);
    if (!c) {
      close(fd);
      continue;
    }
    c->fd = fd;
    if (ss.ss_family == AF_INET) {
      inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer, sizeof c->peer);
    } else if (ss.ss_family == AF_INET6) {
      const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
      if (IN6_IS_ADDR_V4MAPPED(a6)) inet_ntop(AF_INET, &a6->s6_addr[12], c->peer, sizeof c->peer);
      else inet_ntop(AF_INET6, a6, c->peer, sizeof c->peer);
    }
    c->state = C_READ;
    /* a connection that sends nothing is timed like a slow head */
    c->deadline = gw_now_ms() + gw_cfg.header_timeout_ms;
    pthread_mutex_lock(&S.mu);
    link_conn(c);
    arm(c, 1);
    pthread_mutex_unlock(&S.mu);
  }
}

static void rearm_listener(void) {
  struct epoll_event le = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = &tag_listen};
  epoll_ctl(S.epfd, EPOLL_CTL_MOD, S.lfd, &le);
}

static void *worker_main(void *arg) {
  (void)arg;
  gw_req *r = malloc(sizeof *r);
  if (!r) {
    log_error("worker: out of memory");
    return NULL;
  }
  while (!atomic_load(&S.exiting)) {
    struct epoll_event ev;
    /* one event per wake-up: the others stay for the other workers */
    int n = epoll_wait(S.epfd, &ev, 1, 1000);
    if (n <= 0 || atomic_load(&S.exiting)) continue;
    if (ev.data.ptr == &tag_listen) {
      accept_all();
      pthread_mutex_lock(&S.mu);
      if (S.lfd >= 0) rearm_listener();
      pthread_mutex_unlock(&S.mu);
    } else if (ev.data.ptr != &tag_wake) {
      on_conn_event(ev.data.ptr, r);
    }
  }
  free(r);
  return NULL;
}

/* ---------------------------------------------------------------- timeouts ---------------- */

/* Marks connections out of time (and, on stop, idle ones) and shuts their reading side: that
 * wakes epoll, and the worker that takes the event closes them. The timer never frees a
 * connection, so it cannot race with a worker holding one. */
static void scan(void) {
  long long now = gw_now_ms();
  pthread_mutex_lock(&S.mu);
  for (struct gw_conn *c = S.all; c; c = c->next) {
    if (c->state == C_BUSY || c->expired) continue;
    int idle_stop = S.stopping && c->state == C_READ && c->len == 0;
    if (now < c->deadline && !idle_stop) continue;
    c->expired = 1;
    shutdown(c->fd, SHUT_RD);
  }
  pthread_mutex_unlock(&S.mu);
}

static void *timer_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&S.mu);
  while (!atomic_load(&S.exiting)) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += SCAN_MS * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
      dl.tv_sec++;
      dl.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&S.timer_cv, &S.mu, &dl);
    if (atomic_load(&S.exiting)) break;
    pthread_mutex_unlock(&S.mu);
    scan();
    pthread_mutex_lock(&S.mu);
  }
  pthread_mutex_unlock(&S.mu);
  return NULL;
}

/* ---------------------------------------------------------------- start and stop ---------- */

static int listen_on(const char *addr) {
  char host[128], port[16];
  const char *colon = strrchr(addr, ':');
  if (!colon || !colon[1] || (size_t)(colon - addr) >= sizeof host || strlen(colon + 1) >= sizeof port) {
    log_error("HOSO_GATEWAY_ADDR=%s: expected host:port", addr);
    return -1;
  }
  snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
  snprintf(port, sizeof port, "%s", colon + 1);
  char *h = host;
  if (h[0] == '[') { /* [::1]:8080 */
    h++;
    char *e = strchr(h, ']');
    if (e) *e = 0;
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
  struct addrinfo *res = NULL;
  int gr = getaddrinfo(*h ? h : NULL, port, &hints, &res);
  if (gr != 0) {
    log_error("HOSO_GATEWAY_ADDR=%s: %s", addr, gai_strerror(gr));
    return -1;
  }
  int fd = -1;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1024) == 0) break;
    log_error("listen on %s: %s", addr, strerror(errno));
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

int gw_server_start(void) {
  S.lfd = listen_on(gw_cfg.addr);
  if (S.lfd < 0) return -1;
  S.epfd = epoll_create1(EPOLL_CLOEXEC);
  S.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  S.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (S.epfd < 0 || S.evfd < 0) {
    log_error("epoll: %s", strerror(errno));
    return -1;
  }
  /* the listener is one-shot so one worker at a time drains the accept queue; the wake-up
   * descriptor is level-triggered and never read: once written, every worker sees it */
  struct epoll_event le = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = &tag_listen};
  struct epoll_event we = {.events = EPOLLIN, .data.ptr = &tag_wake};
  epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.lfd, &le);
  epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.evfd, &we);
  S.workers = calloc((size_t)gw_cfg.threads, sizeof *S.workers);
  if (!S.workers) return -1;
  for (int i = 0; i < gw_cfg.threads; i++) {
    if (pthread_create(&S.workers[i], NULL, worker_main, NULL) != 0) {
      log_error("cannot start worker %d: %s", i, strerror(errno));
      break;
    }
    S.n_workers++;
  }
  if (S.n_workers > 0 && pthread_create(&S.timer, NULL, timer_main, NULL) == 0) S.timer_started = 1;
  S.started = 1;
  if (!S.n_workers || !S.timer_started) {
    log_error("cannot start the gateway's threads");
    return -1;
  }
  log_info("gateway listening on %s (%d workers, body limit %zu, upload limit %zu)", gw_cfg.addr,
           S.n_workers, gw_cfg.max_body, gw_cfg.max_upload);
  return 0;
}

void gw_server_stop(int grace_ms) {
  pthread_mutex_lock(&S.mu);
  if (S.lfd >= 0) {
    if (S.epfd >= 0) epoll_ctl(S.epfd, EPOLL_CTL_DEL, S.lfd, NULL);
    close(S.lfd);
    S.lfd = -1;
  }
  if (S.started) {
    /* requests in progress finish; idle connections close at the next scan */
    S.stopping = 1;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += grace_ms / 1000;
    dl.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
      dl.tv_sec++;
      dl.tv_nsec -= 1000000000L;
    }
    while (S.n_busy > 0)
      if (pthread_cond_timedwait(&S.idle_cv, &S.mu, &dl) == ETIMEDOUT) break;
    if (S.n_busy > 0) log_warn("stopping with %d requests still in progress", S.n_busy);
    atomic_store(&S.exiting, 1);
    pthread_cond_broadcast(&S.timer_cv);
  }
  pthread_mutex_unlock(&S.mu);
  if (S.started) {
    uint64_t one = 1;
    if (write(S.evfd, &one, sizeof one) < 0) { /* already pending */ }
    /* a worker still waiting on a backend finishes within its deadline */
    for (int i = 0; i < S.n_workers; i++) pthread_join(S.workers[i], NULL);
    if (S.timer_started) pthread_join(S.timer, NULL);
    S.started = S.timer_started = 0;
  }
  free(S.workers);
  S.workers = NULL;
  while (S.all) {
    struct gw_conn *c = S.all;
    unlink_conn(c);
    free_conn(c);
  }
  if (S.epfd >= 0) close(S.epfd);
  if (S.evfd >= 0) close(S.evfd);
  if (S.reserve_fd >= 0) close(S.reserve_fd);
  S.epfd = S.evfd = S.reserve_fd = -1;
}
