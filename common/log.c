/* JSON structured logs: one object per line on stderr, written with a single write() so lines
 * from different threads never interleave; the request id is per thread. */
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <unistr.h>

static char g_service[64] = "hoso";
/* -1 until HOSO_LOG_LEVEL has been read: log_msg may run before log_init (e.g. from a tool). */
static atomic_int g_level = -1;
static _Thread_local char t_rid[128];
static _Thread_local int t_rid_set;

static int level_from_env(void) {
  const char *v = getenv("HOSO_LOG_LEVEL");
  if (!v || !*v) return LOG_INFO_;
  if (!strcasecmp(v, "debug")) return LOG_DEBUG_;
  if (!strcasecmp(v, "info")) return LOG_INFO_;
  if (!strcasecmp(v, "warn") || !strcasecmp(v, "warning")) return LOG_WARN_;
  if (!strcasecmp(v, "error")) return LOG_ERROR_;
  return LOG_INFO_;
}

void log_init(const char *service) {
  if (service) snprintf(g_service, sizeof g_service, "%s", service);
  atomic_store(&g_level, level_from_env());
}

void log_set_request_id(const char *rid) {
  if (!rid) {
    t_rid[0] = 0;
    t_rid_set = 0;
    return;
  }
  snprintf(t_rid, sizeof t_rid, "%s", rid);
  t_rid_set = 1;
}

const char *log_request_id(void) { return t_rid_set ? t_rid : NULL; }

/* A growable line buffer; on allocation failure it remembers it (oom) and the caller writes a
 * short fixed line instead, so logging never fails the caller nor emits broken JSON. */
typedef struct {
  char *p;
  size_t len, cap;
  int heap, oom;
} lbuf;

static int lb_reserve(lbuf *b, size_t extra) {
  if (b->len + extra <= b->cap) return 0;
  size_t ncap = b->cap * 2;
  while (ncap < b->len + extra) ncap *= 2;
  char *np = b->heap ? realloc(b->p, ncap) : malloc(ncap);
  if (!np) {
    b->oom = 1;
    return -1;
  }
  if (!b->heap) memcpy(np, b->p, b->len);
  b->p = np;
  b->cap = ncap;
  b->heap = 1;
  return 0;
}

static void lb_put(lbuf *b, const char *s, size_t n) {
  if (lb_reserve(b, n) < 0) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

static void lb_puts(lbuf *b, const char *s) { lb_put(b, s, strlen(s)); }

/* JSON string body: quotes, backslashes and control characters escaped; valid UTF-8 passed
 * through; each byte of an invalid sequence becomes U+FFFD so the line stays valid JSON. */
static void lb_json(lbuf *b, const char *s) {
  const uint8_t *p = (const uint8_t *)s;
  size_t n = strlen(s);
  while (n > 0) {
    uint8_t ch = *p;
    if (ch < 0x80) {
      char esc[8];
      switch (ch) {
      case '"': lb_put(b, "\\\"", 2); break;
      case '\\': lb_put(b, "\\\\", 2); break;
      case '\n': lb_put(b, "\\n", 2); break;
      case '\r': lb_put(b, "\\r", 2); break;
      case '\t': lb_put(b, "\\t", 2); break;
      case '\b': lb_put(b, "\\b", 2); break;
      case '\f': lb_put(b, "\\f", 2); break;
      default:
        if (ch < 0x20 || ch == 0x7f) {
          snprintf(esc, sizeof esc, "\\u%04x", ch);
          lb_put(b, esc, 6);
        } else {
          lb_put(b, (const char *)p, 1);
        }
      }
      p++;
      n--;
      continue;
    }
    ucs4_t uc;
    int k = u8_mbtoucr(&uc, p, n);
    if (k > 0) {
      lb_put(b, (const char *)p, (size_t)k);
      p += k;
      n -= (size_t)k;
    } else {
      lb_put(b, "\\ufffd", 6);
      p++;
      n--;
    }
  }
}

static const char *level_name(int level) {
  switch (level) {
  case LOG_DEBUG_: return "debug";
  case LOG_INFO_: return "info";
  case LOG_WARN_: return "warn";
  default: return "error";
  }
}

/* Writes one line: the common fields, msg, then the extra fields (string, or number when str
 * is NULL). */
static void write_line(int level, const char *msg, const log_field *f, size_t n_fields) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char tsbuf[80];
  snprintf(tsbuf, sizeof tsbuf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

  char linestack[2048];
  lbuf b = {linestack, 0, sizeof linestack, 0, 0};
  lb_puts(&b, "{\"ts\":\"");
  lb_puts(&b, tsbuf);
  lb_puts(&b, "\",\"level\":\"");
  lb_puts(&b, level_name(level));
  lb_puts(&b, "\",\"service\":\"");
  lb_json(&b, g_service);
  lb_puts(&b, "\"");
  if (t_rid_set) {
    lb_puts(&b, ",\"request_id\":\"");
    lb_json(&b, t_rid);
    lb_puts(&b, "\"");
  }
  lb_puts(&b, ",\"msg\":\"");
  lb_json(&b, msg);
  lb_puts(&b, "\"");
  for (size_t i = 0; i < n_fields; i++) {
    lb_puts(&b, ",\"");
    lb_json(&b, f[i].key);
    lb_puts(&b, "\":");
    if (f[i].str) {
      lb_puts(&b, "\"");
      lb_json(&b, f[i].str);
      lb_puts(&b, "\"");
    } else {
      char num[64];
      /* JSON has no NaN or infinity */
      if (f[i].num != f[i].num || f[i].num > 1e300 || f[i].num < -1e300)
        snprintf(num, sizeof num, "null");
      else
        snprintf(num, sizeof num, "%.15g", f[i].num);
      lb_puts(&b, num);
    }
  }
  lb_puts(&b, "}\n");
  if (b.oom) {
    if (b.heap) free(b.p);
    b = (lbuf){linestack, 0, sizeof linestack, 0, 0};
    int k = snprintf(linestack, sizeof linestack,
                     "{\"ts\":\"%s\",\"level\":\"error\",\"msg\":\"log line lost: out of memory\"}\n",
                     tsbuf);
    b.len = k > 0 && (size_t)k < sizeof linestack ? (size_t)k : 0;
  }

  const char *w = b.p;
  size_t left = b.len;
  while (left > 0) {
    ssize_t k = write(STDERR_FILENO, w, left);
    if (k < 0) {
      if (errno == EINTR) continue;
      break;
    }
    w += k;
    left -= (size_t)k;
  }
  if (b.heap) free(b.p);
}

static int level_enabled(int level) {
  int min = atomic_load(&g_level);
  if (min < 0) {
    min = level_from_env();
    atomic_store(&g_level, min);
  }
  return level >= min;
}

void log_msg(int level, const char *fmt, ...) {
  if (!level_enabled(level)) return;
  int saved_errno = errno;

  char msgstack[1024];
  char *msg = msgstack;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msgstack, sizeof msgstack, fmt, ap);
  va_end(ap);
  if (n < 0) {
    msgstack[0] = 0;
  } else if ((size_t)n >= sizeof msgstack) {
    char *big = malloc((size_t)n + 1);
    if (big) {
      va_start(ap, fmt);
      vsnprintf(big, (size_t)n + 1, fmt, ap);
      va_end(ap);
      msg = big;
    }
  }
  write_line(level, msg, NULL, 0);
  if (msg != msgstack) free(msg);
  errno = saved_errno;
}

void log_fields(int level, const char *msg, const log_field *f, size_t n) {
  if (!level_enabled(level)) return;
  int saved_errno = errno;
  write_line(level, msg ? msg : "", f, n);
  errno = saved_errno;
}
