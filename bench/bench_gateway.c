/* What the HTTP gateway adds to a small authenticated read (Identity/GetUnit of the root unit):
 * 64 concurrent gRPC calls straight to identity (cli_call from 64 threads) against wrk with 64
 * connections through the gateway, REST (GET /v1/units/{id}) and Connect (POST JSON). Needs the
 * services of ./hoso up and wrk (Debian); prints requests/s, p50/p99 and the overhead. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "cli.h"
#include "identity.pb-c.h"

#define GET_UNIT "/hoso.identity.v1.Identity/GetUnit"

typedef struct {
  cli_chan **ch;
  int n_ch, id;
  const char *bearer, *unit;
  double seconds;
  double *lat;
  size_t n, cap;
  int errors;
} worker;

typedef struct {
  double rps, p50_ms, p99_ms;
  long errors;
  double cpu_us;     /* CPU of the client side per request: this process, or the gateway */
  double backend_us; /* CPU of identity per request */
} figures;

/* The process listening on 127.0.0.1:port (from /proc/net/tcp and the sockets in /proc/<pid>/fd),
 * or 0: lets the figures include each process's CPU time, which a busy shared machine disturbs
 * far less than throughput. */
static pid_t pid_listening(int port) {
  unsigned long inode = 0;
  /* gRPC listens on IPv6 sockets with mapped IPv4 addresses: both tables */
  static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
  for (size_t t = 0; t < 2 && !inode; t++) {
    FILE *f = fopen(tables[t], "r");
    if (!f) continue;
    char line[512];
    while (!inode && fgets(line, sizeof line, f)) {
      unsigned lport, st;
      unsigned long ino;
      if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*d %*d %lu", &lport, &st,
                 &ino) == 3 &&
          lport == (unsigned)port && st == 0x0A)
        inode = ino;
    }
    fclose(f);
  }
  if (!inode) return 0;
  char want[64];
  snprintf(want, sizeof want, "socket:[%lu]", inode);
  DIR *proc = opendir("/proc");
  pid_t found = 0;
  struct dirent *d;
  while (proc && !found && (d = readdir(proc))) {
    if (d->d_name[0] < '1' || d->d_name[0] > '9') continue;
    char dir[300];
    snprintf(dir, sizeof dir, "/proc/%s/fd", d->d_name);
    DIR *fds = opendir(dir);
    struct dirent *e;
    while (fds && !found && (e = readdir(fds))) {
      char path[600], link[128];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      ssize_t n = readlink(path, link, sizeof link - 1);
      if (n > 0) {
        link[n] = 0;
        if (!strcmp(link, want)) found = (pid_t)atoi(d->d_name);
      }
    }
    if (fds) closedir(fds);
  }
  if (proc) closedir(proc);
  return found;
}

/* user + system CPU seconds of pid (0: this process) */
static double cpu_s(pid_t pid) {
  if (!pid) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')'); /* the name may hold spaces */
  unsigned long ut = 0, st = 0;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int port_of(const char *addr) {
  const char *c = strrchr(addr, ':');
  return c ? atoi(c + 1) : 0;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *run(void *p) {
  worker *w = p;
  Hoso__Identity__V1__GetUnitRequest req = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  req.unit_id = (char *)w->unit;
  cli_md md = {"authorization", w->bearer};
  cli_chan *ch = w->ch[w->id % w->n_ch];
  double end = now_s() + w->seconds;
  while (now_s() < end) {
    double t0 = now_s();
    ProtobufCMessage *out = NULL;
    cli_status st;
    grpc_status_code c = cli_call(ch, GET_UNIT, &req.base, &hoso__identity__v1__get_unit_response__descriptor,
                                  &out, &md, 1, 10000, &st);
    if (c != GRPC_STATUS_OK) {
      if (w->errors++ == 0) fprintf(stderr, "GetUnit failed: %s %s\n", cli_status_name(c), st.message);
      continue;
    }
    protobuf_c_message_free_unpacked(out, NULL);
    if (w->n == w->cap) {
      w->cap = w->cap ? w->cap * 2 : 4096;
      w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
    }
    w->lat[w->n++] = (now_s() - t0) * 1000.0;
  }
  return NULL;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The same number of channels the gateway opens per address (HOSO_GATEWAY_CHANNELS): the
 * client side of both runs is shaped alike. */
static figures direct(const char *addr, const char *bearer, const char *unit, int conc, double secs) {
  int n_ch = (int)cfg_int("HOSO_GATEWAY_CHANNELS", 4, 1, 64);
  cli_chan **ch = calloc((size_t)n_ch, sizeof *ch);
  for (int i = 0; i < n_ch; i++) ch[i] = cli_open(addr);
  worker *w = calloc((size_t)conc, sizeof *w);
  pthread_t *t = calloc((size_t)conc, sizeof *t);
  pid_t idn_pid = pid_listening(port_of(addr));
  double c0 = cpu_s(0), b0 = idn_pid ? cpu_s(idn_pid) : 0;
  double t0 = now_s();
  for (int i = 0; i < conc; i++) {
    w[i] = (worker){.ch = ch, .n_ch = n_ch, .id = i, .bearer = bearer, .unit = unit, .seconds = secs};
    pthread_create(&t[i], NULL, run, &w[i]);
  }
  size_t total = 0;
  figures f = {0};
  for (int i = 0; i < conc; i++) {
    pthread_join(t[i], NULL);
    total += w[i].n;
    f.errors += w[i].errors;
  }
  double elapsed = now_s() - t0;
  if (total) {
    f.cpu_us = (cpu_s(0) - c0) / (double)total * 1e6;
    f.backend_us = idn_pid ? (cpu_s(idn_pid) - b0) / (double)total * 1e6 : 0;
  }
  double *all = malloc((total ? total : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < conc; i++) {
    memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
    k += w[i].n;
    free(w[i].lat);
  }
  qsort(all, total, sizeof *all, cmp);
  f.rps = (double)total / elapsed;
  f.p50_ms = total ? all[total / 2] : 0;
  f.p99_ms = total ? all[(size_t)((double)total * 0.99)] : 0;
  free(all);
  free(w);
  free(t);
  for (int i = 0; i < n_ch; i++) cli_close(ch[i]);
  free(ch);
  return f;
}

/* "5.12ms" / "812.00us" / "1.02s" → milliseconds */
static double wrk_ms(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (!strncmp(end, "us", 2)) return v / 1000.0;
  if (!strncmp(end, "ms", 2)) return v;
  if (*end == 's') return v * 1000.0;
  if (*end == 'm') return v * 60000.0;
  return v;
}

static int through_wrk(const char *cmd, pid_t gw_pid, pid_t idn_pid, figures *f) {
  memset(f, 0, sizeof *f);
  double g0 = gw_pid ? cpu_s(gw_pid) : 0, b0 = idn_pid ? cpu_s(idn_pid) : 0;
  long long requests = 0;
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  char line[512];
  int got = 0;
  while (fgets(line, sizeof line, p)) {
    char *s = line;
    while (*s == ' ') s++;
    if (!strncmp(s, "Requests/sec:", 13)) f->rps = strtod(s + 13, NULL), got = 1;
    else if (!strncmp(s, "50%", 3)) f->p50_ms = wrk_ms(s + 3 + strspn(s + 3, " "));
    else if (!strncmp(s, "99%", 3)) f->p99_ms = wrk_ms(s + 3 + strspn(s + 3, " "));
    else if (!strncmp(s, "Non-2xx or 3xx responses:", 25)) f->errors += strtol(s + 25, NULL, 10);
    else if (strstr(s, " requests in ")) requests = strtoll(s, NULL, 10);
    else if (!strncmp(s, "Socket errors:", 14)) {
      fprintf(stderr, "wrk: %s", s);
      f->errors += 1;
    }
  }
  int rc = pclose(p) == 0 && got ? 0 : -1;
  if (requests > 0) {
    f->cpu_us = gw_pid ? (cpu_s(gw_pid) - g0) / (double)requests * 1e6 : 0;
    f->backend_us = idn_pid ? (cpu_s(idn_pid) - b0) / (double)requests * 1e6 : 0;
  }
  return rc;
}

static void show(const char *what, const figures *f) {
  printf("  %-44s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  CPU/request: client side %5.0f us, identity %5.0f us%s\n",
         what, f->rps, f->p50_ms, f->p99_ms, f->cpu_us, f->backend_us, f->errors ? "   (ERRORS)" : "");
}

int main(int argc, char **argv) {
  const char *idn = cfg_service_addr("identity");
  const char *gw = cfg_str("HOSO_GATEWAY_ADDR", "127.0.0.1:8080");
  const char *password = getenv("HOSO_ADMIN_PASSWORD");
  int conc = 64;
  double secs = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--seconds")) secs = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--concurrency")) conc = atoi(argv[i + 1]);
  }
  if (!password || conc < 1 || conc > 1024 || secs <= 0) {
    fprintf(stderr, "usage: bench_gateway [--seconds S] [--concurrency N] (HOSO_ADMIN_PASSWORD, "
                    "HOSO_IDENTITY_ADDR, HOSO_GATEWAY_ADDR from ./hoso bench)\n");
    return 2;
  }
  if (system("command -v wrk >/dev/null 2>&1") != 0) {
    printf("bench_gateway: wrk is not installed (apt-get install wrk); skipped\n");
    return 0;
  }

  /* a token and the root unit, straight from identity */
  cli_chan *ch = cli_open(idn);
  Hoso__Identity__V1__LoginRequest lq = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  lq.username = "admin";
  lq.password = (char *)password;
  ProtobufCMessage *out = NULL;
  cli_status st;
  if (cli_call(ch, "/hoso.identity.v1.Identity/Login", &lq.base, &hoso__identity__v1__login_response__descriptor,
               &out, NULL, 0, 10000, &st) != GRPC_STATUS_OK) {
    fprintf(stderr, "bench_gateway: login at %s: %s\n", idn, st.message);
    return 1;
  }
  Hoso__Identity__V1__LoginResponse *lr = (void *)out;
  char bearer[4096], unit[64];
  snprintf(bearer, sizeof bearer, "Bearer %s", lr->access_token);
  snprintf(unit, sizeof unit, "%s", lr->account->unit_id);
  protobuf_c_message_free_unpacked(out, NULL);
  cli_close(ch);

  printf("GetUnit of the root unit (one indexed row read with token and scope checks), %d concurrent, %.0f s each\n",
         conc, secs);
  /* a short warm-up, so connections and PostgreSQL caches are hot for every run */
  direct(idn, bearer, unit, conc, 1);
  figures d = direct(idn, bearer, unit, conc, secs);
  show("direct gRPC (cli_call, 64 threads)", &d);

  char script[] = "/tmp/bench-gateway-XXXXXX.lua";
  int fd = mkstemps(script, 4);
  if (fd < 0) return 1;
  char lua[256];
  int ln = snprintf(lua, sizeof lua,
                    "wrk.method = \"POST\"\nwrk.body = '{\"unitId\":\"%s\"}'\n"
                    "wrk.headers[\"Content-Type\"] = \"application/json\"\n", unit);
  if (write(fd, lua, (size_t)ln) != ln) return 1;
  close(fd);
  int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (threads < 1) threads = 1;
  char rest_cmd[8192], connect_cmd[8192], warm_cmd[8192];
  snprintf(rest_cmd, sizeof rest_cmd, "wrk -t%d -c%d -d%.0fs --latency -H 'Authorization: %s' http://%s/v1/units/%s",
           threads, conc, secs, bearer, gw, unit);
  snprintf(warm_cmd, sizeof warm_cmd, "wrk -t%d -c%d -d1s -H 'Authorization: %s' http://%s/v1/units/%s >/dev/null",
           threads, conc, bearer, gw, unit);
  snprintf(connect_cmd, sizeof connect_cmd,
           "wrk -t%d -c%d -d%.0fs --latency -s %s -H 'Authorization: %s' http://%s/hoso.identity.v1.Identity/GetUnit",
           threads, conc, secs, script, bearer, gw);
  if (system(warm_cmd) != 0) fprintf(stderr, "bench_gateway: warm-up run failed\n");
  figures r, c;
  int rc = 0;
  pid_t gw_pid = pid_listening(port_of(gw)), idn_pid = pid_listening(port_of(idn));
  if (through_wrk(rest_cmd, gw_pid, idn_pid, &r) != 0 || through_wrk(connect_cmd, gw_pid, idn_pid, &c) != 0) {
    fprintf(stderr, "bench_gateway: wrk failed (is the gateway at %s?)\n", gw);
    rc = 1;
  } else {
    char what[128];
    snprintf(what, sizeof what, "gateway REST GET (wrk -t%d -c%d)", threads, conc);
    show(what, &r);
    snprintf(what, sizeof what, "gateway Connect POST JSON (wrk -t%d -c%d)", threads, conc);
    show(what, &c);
    /* cost per request = 1 / throughput: what the gateway adds on top of the direct call */
    printf("  overhead per request: REST %+.1f %%, Connect %+.1f %% (target: under +30 %%)\n",
           (d.rps / r.rps - 1) * 100, (d.rps / c.rps - 1) * 100);
    if (gw_pid && d.cpu_us > 0)
      printf("  client-side CPU: the gateway process spends %.0f us (REST) / %.0f us (Connect) per request where "
             "the direct gRPC client spends %.0f us\n",
             r.cpu_us, c.cpu_us, d.cpu_us);
    if (d.errors || r.errors || c.errors) {
      fprintf(stderr, "bench_gateway: some calls failed; the figures are not valid\n");
      rc = 1;
    }
  }
  printf("  commands: wrk -t%d -c%d -d%.0fs --latency -H 'Authorization: Bearer <token>' http://%s/v1/units/%s\n"
         "            wrk -t%d -c%d -d%.0fs --latency -s <POST {\"unitId\":\"%s\"} as JSON> -H 'Authorization: Bearer <token>' "
         "http://%s/hoso.identity.v1.Identity/GetUnit\n",
         threads, conc, secs, gw, unit, threads, conc, secs, unit, gw);
  unlink(script);
  return rc;
}
