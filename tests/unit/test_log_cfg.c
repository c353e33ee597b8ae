/* cfg_* (common/cfg.c) bounds, defaults and yes/no forms, and log_* (common/log.c) lines: each
 * must parse back as JSON with the exact text, whatever the message holds, from any thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"

/* --- cfg --------------------------------------------------------------------------------- */

static void test_cfg_str(void **state) {
  (void)state;
  unsetenv("HOSO_T_STR");
  assert_string_equal(cfg_str("HOSO_T_STR", "def"), "def");
  setenv("HOSO_T_STR", "", 1);
  assert_string_equal(cfg_str("HOSO_T_STR", "def"), "def"); /* empty counts as unset */
  setenv("HOSO_T_STR", "host=/tmp dbname=hoso", 1);
  assert_string_equal(cfg_str("HOSO_T_STR", "def"), "host=/tmp dbname=hoso");
  assert_null(cfg_str("HOSO_T_UNSET_STR", NULL));
}

static void test_cfg_int(void **state) {
  (void)state;
  unsetenv("HOSO_T_INT");
  assert_int_equal(cfg_int("HOSO_T_INT", 4, 1, 64), 4);
  static const struct {
    const char *v;
    long want;
  } cases[] = {
      {"", 4},          /* empty: default */
      {"8", 8},         {"1", 1},   {"64", 64},      /* bounds are inclusive */
      {"0", 4},         {"65", 4},  {"-3", 4},       /* outside: default */
      {"abc", 4},       {"12x", 4}, {"1.5", 4},      /* not a whole number: default */
      {"99999999999999999999999", 4},                 /* overflow: default */
      {" 16", 16},      {"16 ", 16},                  /* blanks from shell quoting */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    setenv("HOSO_T_INT", cases[i].v, 1);
    long got = cfg_int("HOSO_T_INT", 4, 1, 64);
    if (got != cases[i].want) fail_msg("cfg_int(\"%s\") = %ld, want %ld", cases[i].v, got, cases[i].want);
  }
  setenv("HOSO_T_INT", "-7", 1);
  assert_int_equal(cfg_int("HOSO_T_INT", 0, -10, 10), -7);
  unsetenv("HOSO_T_INT");
}

static void test_cfg_bool(void **state) {
  (void)state;
  static const char *const yes[] = {"1", "true", "TRUE", "yes", "Yes", "on", "ON"};
  static const char *const no[] = {"0", "false", "False", "no", "NO", "off", "Off"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    setenv("HOSO_T_BOOL", yes[i], 1);
    assert_int_equal(cfg_bool("HOSO_T_BOOL", 0), 1);
  }
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
    setenv("HOSO_T_BOOL", no[i], 1);
    assert_int_equal(cfg_bool("HOSO_T_BOOL", 1), 0);
  }
  /* unset, empty or unrecognised: the default, either way */
  unsetenv("HOSO_T_BOOL");
  assert_int_equal(cfg_bool("HOSO_T_BOOL", 0), 0);
  assert_int_equal(cfg_bool("HOSO_T_BOOL", 1), 1);
  setenv("HOSO_T_BOOL", "", 1);
  assert_int_equal(cfg_bool("HOSO_T_BOOL", 1), 1);
  setenv("HOSO_T_BOOL", "maybe", 1);
  assert_int_equal(cfg_bool("HOSO_T_BOOL", 0), 0);
  assert_int_equal(cfg_bool("HOSO_T_BOOL", 1), 1);
  unsetenv("HOSO_T_BOOL");
}

/* --- log ---------------------------------------------------------------------------------- */

/* stderr is pointed at a temporary file while a test logs, then restored. */
static int saved_stderr = -1;
static char capture_path[64];

static void capture_start(void) {
  snprintf(capture_path, sizeof capture_path, "/tmp/hoso-test-log-XXXXXX");
  int fd = mkstemp(capture_path);
  assert_true(fd >= 0);
  /* O_APPEND: lines written by several threads land whole, one after another */
  int afd = open(capture_path, O_WRONLY | O_APPEND);
  assert_true(afd >= 0);
  close(fd);
  fflush(stderr);
  saved_stderr = dup(2);
  assert_int_equal(dup2(afd, 2), 2);
  close(afd);
}

/* Returns the captured text (caller frees) and restores stderr. */
static char *capture_end(size_t *len) {
  fflush(stderr);
  dup2(saved_stderr, 2);
  close(saved_stderr);
  FILE *f = fopen(capture_path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = 0;
  fclose(f);
  unlink(capture_path);
  if (len) *len = (size_t)n;
  return buf;
}

/* Splits captured text into parsed lines; every line must be a JSON object. */
static size_t parse_lines(char *text, json_t **out, size_t max) {
  size_t n = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    json_error_t err;
    json_t *j = json_loads(line, 0, &err);
    if (!j || !json_is_object(j)) fail_msg("not a JSON object: %s (%s)", line, err.text);
    if (n < max)
      out[n++] = j;
    else
      json_decref(j);
  }
  return n;
}

static const char *jstr(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The service table (common/services.tsv) as the build compiled it: identity first, the
 * gateway last and marked as such, each address from its variable or its default port on
 * 127.0.0.1; a service outside the table (a test service) has HOSO_<NAME>_ADDR and no default. */
static void test_service_table(void **state) {
  (void)state;
  assert_true(cfg_services_count >= 3);
  assert_string_equal(cfg_services[0].name, "identity");
  assert_string_equal(cfg_services[cfg_services_count - 1].name, "gateway");
  assert_int_equal(cfg_services[cfg_services_count - 1].gateway, CFG_GATEWAY_SELF);
  assert_null(cfg_services[cfg_services_count].name);
  const cfg_service *id = cfg_service_find("identity");
  assert_non_null(id);
  assert_string_equal(id->addr_var, "HOSO_IDENTITY_ADDR");
  assert_int_equal(id->gateway, CFG_GATEWAY_YES);
  assert_string_equal(id->default_addr, "127.0.0.1:50051");
  assert_null(cfg_service_find("Identity"));
  assert_null(cfg_service_find(NULL));
  unsetenv("HOSO_IDENTITY_ADDR");
  assert_string_equal(cfg_service_addr("identity"), "127.0.0.1:50051");
  setenv("HOSO_IDENTITY_ADDR", "10.0.0.7:6000", 1);
  assert_string_equal(cfg_service_addr("identity"), "10.0.0.7:6000");
  unsetenv("HOSO_IDENTITY_ADDR");
  for (size_t i = 0; i < cfg_services_count; i++) {
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", cfg_services[i].port);
    assert_string_equal(cfg_services[i].default_addr, want);
  }
  unsetenv("HOSO_ECHO_ADDR");
  assert_null(cfg_service_addr("echo"));
  setenv("HOSO_ECHO_ADDR", "127.0.0.1:1", 1);
  assert_string_equal(cfg_service_addr("echo"), "127.0.0.1:1");
  unsetenv("HOSO_ECHO_ADDR");
  assert_null(cfg_service_addr(""));
}

static void test_log_escaping(void **state) {
  (void)state;
  setenv("HOSO_LOG_LEVEL", "info", 1);
  log_init("identity");
  log_set_request_id("req \"7\"\\x");
  const char *vn = "Nguyễn Văn Đức, Phòng Nội vụ — Sở Nội vụ tỉnh Đắk Lắk";
  const char *ctl = "quote \" backslash \\ newline \n tab \t cr \r bs \b ff \f one \x01 us \x1f del \x7f end";

  capture_start();
  log_info("%s", vn);
  log_warn("%s", ctl);
  log_error("bad utf-8: \xff\xc3( and overlong \xc0\xaf and cut \xe1\x80");
  log_set_request_id(NULL);
  log_info("no request");
  char *text = capture_end(NULL);
  /* one line per call, each ending in a newline */
  size_t nl = 0;
  for (char *p = text; *p; p++) nl += *p == '\n';
  assert_int_equal(nl, 4);

  json_t *l[8];
  assert_int_equal(parse_lines(text, l, 8), 4);
  assert_string_equal(jstr(l[0], "msg"), vn);
  assert_string_equal(jstr(l[0], "level"), "info");
  assert_string_equal(jstr(l[0], "service"), "identity");
  assert_string_equal(jstr(l[0], "request_id"), "req \"7\"\\x");
  const char *ts = jstr(l[0], "ts");
  assert_non_null(ts);
  /* RFC 3339 UTC with milliseconds: 2026-01-02T03:04:05.678Z */
  assert_int_equal(strlen(ts), 24);
  assert_int_equal(ts[10], 'T');
  assert_int_equal(ts[19], '.');
  assert_int_equal(ts[23], 'Z');

  assert_string_equal(jstr(l[1], "msg"), ctl);
  assert_string_equal(jstr(l[1], "level"), "warn");

  /* invalid bytes become U+FFFD (the line must stay valid UTF-8 JSON); the rest survives */
  assert_string_equal(jstr(l[2], "msg"),
                      "bad utf-8: \xef\xbf\xbd\xef\xbf\xbd( and overlong \xef\xbf\xbd\xef\xbf\xbd"
                      " and cut \xef\xbf\xbd\xef\xbf\xbd");
  assert_string_equal(jstr(l[2], "level"), "error");

  assert_null(json_object_get(l[3], "request_id"));
  assert_null(log_request_id());
  for (int i = 0; i < 4; i++) json_decref(l[i]);
  free(text);
}

static void test_log_level_filter(void **state) {
  (void)state;
  setenv("HOSO_LOG_LEVEL", "warn", 1);
  log_init("records");
  capture_start();
  log_debug("hidden debug");
  log_info("hidden info");
  log_warn("shown warn");
  log_error("shown error");
  setenv("HOSO_LOG_LEVEL", "debug", 1);
  log_init("records");
  log_debug("shown debug");
  setenv("HOSO_LOG_LEVEL", "error", 1);
  log_init("records");
  log_warn("hidden warn");
  char *text = capture_end(NULL);
  json_t *l[8];
  assert_int_equal(parse_lines(text, l, 8), 3);
  assert_string_equal(jstr(l[0], "msg"), "shown warn");
  assert_string_equal(jstr(l[1], "msg"), "shown error");
  assert_string_equal(jstr(l[2], "msg"), "shown debug");
  assert_string_equal(jstr(l[2], "level"), "debug");
  for (int i = 0; i < 3; i++) json_decref(l[i]);
  free(text);
  unsetenv("HOSO_LOG_LEVEL");
  log_init("records");
}

/* Messages longer than any internal buffer come out whole. */
static void test_log_long_message(void **state) {
  (void)state;
  log_init("records");
  static const char piece[] = "ab\"\\\ncđ ";
  size_t reps = 12000, plen = strlen(piece);
  char *big = malloc(reps * plen + 1);
  assert_non_null(big);
  for (size_t i = 0; i < reps; i++) memcpy(big + i * plen, piece, plen);
  big[reps * plen] = 0;
  capture_start();
  log_info("%s", big);
  char *text = capture_end(NULL);
  json_t *l[2];
  assert_int_equal(parse_lines(text, l, 2), 1);
  assert_string_equal(jstr(l[0], "msg"), big);
  json_decref(l[0]);
  free(text);
  free(big);
}

/* log_fields: extra fields after msg, strings escaped like msg, numbers as JSON numbers, and
 * a NaN (not JSON) written as null so the line stays parseable. */
static void test_log_fields(void **state) {
  (void)state;
  log_init("gateway");
  log_set_request_id("rid-1");
  log_field f[] = {{"method", "GET", 0},
                   {"route", "/v1/units/{unit_id}", 0},
                   {"status", NULL, 404},
                   {"duration_ms", NULL, 1.25},
                   {"odd \"key\"", "a\nb", 0},
                   {"nan", NULL, 0.0 / 0.0}};
  capture_start();
  log_fields(LOG_INFO_, "http", f, sizeof f / sizeof f[0]);
  log_fields(LOG_DEBUG_, "hidden", f, 1);
  char *text = capture_end(NULL);
  json_t *l[2];
  assert_int_equal(parse_lines(text, l, 2), 1);
  assert_string_equal(jstr(l[0], "msg"), "http");
  assert_string_equal(jstr(l[0], "request_id"), "rid-1");
  assert_string_equal(jstr(l[0], "method"), "GET");
  assert_string_equal(jstr(l[0], "route"), "/v1/units/{unit_id}");
  assert_true(json_is_integer(json_object_get(l[0], "status")));
  assert_int_equal(json_integer_value(json_object_get(l[0], "status")), 404);
  assert_true(json_real_value(json_object_get(l[0], "duration_ms")) == 1.25);
  assert_string_equal(jstr(l[0], "odd \"key\""), "a\nb");
  assert_true(json_is_null(json_object_get(l[0], "nan")));
  json_decref(l[0]);
  free(text);
  log_set_request_id(NULL);
}

#define THREADS 4
#define LINES 300

static void *log_thread(void *arg) {
  int id = (int)(intptr_t)arg;
  char rid[32];
  snprintf(rid, sizeof rid, "thread-%d", id);
  log_set_request_id(rid);
  char pad[3000];
  memset(pad, 'a' + id, sizeof pad - 1);
  pad[sizeof pad - 1] = 0;
  for (int i = 0; i < LINES; i++) log_info("%d %d %s", id, i, pad);
  return NULL;
}

/* Threads logging at once: every line whole (one write per line) and carrying its own
 * thread's request id. */
static void test_log_threads(void **state) {
  (void)state;
  log_init("records");
  log_set_request_id("main");
  capture_start();
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, log_thread, (void *)(intptr_t)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  char *text = capture_end(NULL);
  assert_string_equal(log_request_id(), "main"); /* other threads' ids did not leak here */
  log_set_request_id(NULL);

  int seen[THREADS] = {0};
  size_t count = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    json_error_t err;
    json_t *j = json_loads(line, 0, &err);
    if (!j) fail_msg("interleaved or broken line: %.80s...", line);
    int id = -1, i = -1;
    assert_int_equal(sscanf(jstr(j, "msg"), "%d %d", &id, &i), 2);
    assert_true(id >= 0 && id < THREADS);
    char want[32];
    snprintf(want, sizeof want, "thread-%d", id);
    assert_string_equal(jstr(j, "request_id"), want);
    assert_int_equal(strlen(jstr(j, "msg")), strlen("0 0 ") + (i >= 100 ? 2 : i >= 10 ? 1 : 0) + 2999);
    seen[id]++;
    count++;
    json_decref(j);
  }
  assert_int_equal(count, THREADS * LINES);
  for (int i = 0; i < THREADS; i++) assert_int_equal(seen[i], LINES);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cfg_str),         cmocka_unit_test(test_cfg_int),
      cmocka_unit_test(test_cfg_bool),        cmocka_unit_test(test_service_table),
      cmocka_unit_test(test_log_escaping),
      cmocka_unit_test(test_log_level_filter), cmocka_unit_test(test_log_long_message),
      cmocka_unit_test(test_log_threads),     cmocka_unit_test(test_log_fields),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
