/* Static files of the web UI from HOSO_GATEWAY_STATIC_DIR: no way out of that folder (dot
 * segments, encoded ones, symlinks leading out are refused), content types by extension,
 * ETag/Last-Modified revalidation, long caching only for content-hashed asset names, the
 * build's pre-compressed copies (name.gz) for clients that take gzip, and the page itself for
 * the application's routes (paths without an extension). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gwsrv.h"
#include "log.h"

static char root[PATH_MAX];
static size_t root_len;

int gw_static_init(void) {
  if (!gw_cfg.static_dir[0]) return 0;
  if (!realpath(gw_cfg.static_dir, root)) {
    log_error("HOSO_GATEWAY_STATIC_DIR=%s: %s", gw_cfg.static_dir, strerror(errno));
    return -1;
  }
  root_len = strlen(root);
  log_info("static files from %s", root);
  return 0;
}

int gw_static_enabled(void) { return root_len > 0; }

static const struct {
  const char *ext, *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
    {"woff", "font/woff"},
    {"txt", "text/plain; charset=utf-8"},
    {"webmanifest", "application/manifest+json"},
};

static const char *type_of(const char *name) {
  const char *dot = strrchr(name, '.');
  if (dot)
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
      if (!strcasecmp(dot + 1, types[i].ext)) return types[i].type;
  return "application/octet-stream";
}

/* "app.3f9a0c1d.js", "index-BXr3x9Zk.css": a piece of 8+ letters and digits, with a digit,
 * before the extension. Such a name changes whenever its content does. */
static int hashed_name(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot) return 0;
  const char *e = dot, *b = dot;
  while (b > name && (b[-1] != '.' && b[-1] != '-')) b--;
  if (b == name) return 0;
  size_t n = (size_t)(e - b);
  int digit = 0;
  for (const char *p = b; p < e; p++) {
    if (!((*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || *p == '_'))
      return 0;
    digit |= *p >= '0' && *p <= '9';
  }
  return n >= 8 && digit;
}

/* An If-None-Match list holding etag ("*", weak or strong forms compare weakly). */
static int etag_matches(const http_header *h, const char *etag) {
  const char *s = h->value, *end = h->value + h->value_len;
  size_t el = strlen(etag);
  while (s < end) {
    while (s < end && (*s == ' ' || *s == ',')) s++;
    const char *e = s;
    while (e < end && *e != ',') e++;
    const char *t = s;
    size_t tn = (size_t)(e - s);
    while (tn && t[tn - 1] == ' ') tn--;
    if (tn == 1 && *t == '*') return 1;
    if (tn > 2 && t[0] == 'W' && t[1] == '/') t += 2, tn -= 2;
    if (tn == el && memcmp(t, etag, el) == 0) return 1;
    s = e;
  }
  return 0;
}

static void http_date(time_t t, char *out, size_t n) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static int not_modified_since(const http_header *h, time_t mtime) {
  char v[64];
  snprintf(v, sizeof v, "%.*s", (int)h->value_len, h->value);
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *e = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!e || *e) return 0;
  return mtime <= timegm(&tm);
}

/* Whether Accept-Encoding lists gzip (or "*") with a weight above zero ("gzip;q=0" refuses). */
static int accepts_gzip(const http_req *h) {
  const http_header *ae = http_find(h, "accept-encoding");
  if (!ae) return 0;
  const char *s = ae->value, *end = ae->value + ae->value_len;
  while (s < end) {
    while (s < end && (*s == ' ' || *s == ',')) s++;
    const char *e = s;
    while (e < end && *e != ',') e++;
    const char *semi = memchr(s, ';', (size_t)(e - s));
    const char *te = semi ? semi : e;
    while (te > s && te[-1] == ' ') te--;
    int name = (te - s == 4 && !strncasecmp(s, "gzip", 4)) || (te - s == 1 && *s == '*');
    double q = 1;
    const char *qp = semi ? memmem(semi, (size_t)(e - semi), "q=", 2) : NULL;
    if (qp) {
      char num[16];
      snprintf(num, sizeof num, "%.*s", (int)(e - qp - 2 < 15 ? e - qp - 2 : 15), qp + 2);
      q = strtod(num, NULL);
    }
    if (name && q > 0) return 1;
    s = e;
  }
  return 0;
}

/* The build's pre-compressed copy of real ("app.js" → "app.js.gz"), opened, when the client
 * takes gzip: fd and *st for it, else -1. */
static int open_gzip(const gw_req *r, const char *real, struct stat *st) {
  char gz[PATH_MAX + 4];
  if (!accepts_gzip(r->h) || snprintf(gz, sizeof gz, "%s.gz", real) >= (int)sizeof gz) return -1;
  int fd = open(gz, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
    close(fd);
    fd = -1;
  }
  return fd;
}

int gw_static(gw_req *r) {
  unsigned flags = strcmp(r->verb, "HEAD") == 0 ? GW_HEAD : 0;
  char rel[PATH_MAX];
  long n = http_pct_decode(r->path, strlen(r->path), rel, sizeof rel, 0);
  /* After decoding, so "%2e%2e" and "%2F" are seen for what they are. */
  int bad = n < 0 || rel[0] != '/' || strchr(rel, '\\') != NULL;
  for (char *seg = rel; !bad && seg && *seg;) {
    seg += *seg == '/';
    size_t sl = strcspn(seg, "/");
    if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.')) bad = 1;
    seg += sl;
  }
  if (bad) return gw_reply_rest_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT, "path: not allowed");

  char full[PATH_MAX * 2];
  snprintf(full, sizeof full, "%s%s", root, rel);
  size_t fl = strlen(full);
  if (full[fl - 1] == '/') snprintf(full + fl, sizeof full - fl, "index.html");
  struct stat st;
  if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
    fl = strlen(full);
    snprintf(full + fl, sizeof full - fl, "/index.html");
  }
  /* A path of the application's own routes (/records/12/edit: no file, no dot in it) is the
   * page itself, whose script shows that route: deep links and reloads work. A missing file
   * (a dot: "app.js"), the API's namespace (/v1/...) and Connect-shaped paths stay 404s. */
  if (stat(full, &st) != 0 && rel[1] && !strchr(rel, '.') && strncmp(rel, "/v1/", 4) != 0)
    snprintf(full, sizeof full, "%s/index.html", root);
  /* hidden files (.env, .git) are never served, and symlinks may not lead out of the root */
  char real[PATH_MAX];
  const char *base = strrchr(full, '/');
  if (!realpath(full, real) || strncmp(real, root, root_len) != 0 || real[root_len] != '/' ||
      (base && base[1] == '.') || strstr(real + root_len, "/.")) {
    char msg[300];
    snprintf(msg, sizeof msg, "no such file: %.250s", r->path);
    return gw_reply_rest_error(r, 404, GRPC_STATUS_NOT_FOUND, msg);
  }
  int fd = open(real, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) close(fd);
    char msg[300];
    snprintf(msg, sizeof msg, "no such file: %.250s", r->path);
    return gw_reply_rest_error(r, 404, GRPC_STATUS_NOT_FOUND, msg);
  }
  const char *name = strrchr(real, '/') + 1;
  const char *ctype = type_of(name);
  /* text assets go as the build compressed them, to clients that take gzip */
  struct stat gst;
  int gfd = open_gzip(r, real, &gst);
  if (gfd >= 0) {
    close(fd);
    fd = gfd;
    st = gst;
    gw_hdr(r, "Content-Encoding: gzip");
  }
  gw_hdr(r, "Vary: Accept-Encoding");
  char etag[96], lm[64];
  snprintf(etag, sizeof etag, "\"%llx-%llx%s\"", (unsigned long long)st.st_size,
           (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st.st_mtim.tv_nsec,
           gfd >= 0 ? "-gz" : "");
  http_date(st.st_mtim.tv_sec, lm, sizeof lm);
  gw_hdr(r, "ETag: %s", etag);
  gw_hdr(r, "Last-Modified: %s", lm);
  /* the page itself is always revalidated, so a deploy shows at once; hashed assets never are */
  gw_hdr(r, "Cache-Control: %s", hashed_name(name) && strcasecmp(ctype, types[0].type) != 0
                                      ? "public, max-age=31536000, immutable"
                                      : "no-cache");
  const http_header *inm = http_find(r->h, "if-none-match");
  const http_header *ims = http_find(r->h, "if-modified-since");
  int rc;
  if ((inm && etag_matches(inm, etag)) || (!inm && ims && not_modified_since(ims, st.st_mtim.tv_sec)))
    rc = gw_reply(r, 304, NULL, NULL, 0, flags);
  else
    rc = gw_reply_file(r, 200, ctype, fd, (size_t)st.st_size, flags);
  close(fd);
  return rc;
}
