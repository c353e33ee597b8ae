/* JSON structured logs, one object per line on stderr, with the service name and the
 * request id of the call the current thread is serving. */
#ifndef HOSO_LOG_H
#define HOSO_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum { LOG_DEBUG_ = 0, LOG_INFO_ = 1, LOG_WARN_ = 2, LOG_ERROR_ = 3 };

/* Names the process in every line ("identity"); level from HOSO_LOG_LEVEL (debug|info|warn|error). */
void log_init(const char *service);
/* The request id of the call this thread is handling; NULL clears it. The string is copied. */
void log_set_request_id(const char *rid);
const char *log_request_id(void);

/* printf-style message; written as {"ts":..,"level":..,"service":..,"request_id":..,"msg":..}.
 * The message is JSON-escaped, so any text is safe. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line with extra fields after msg, for events with a fixed shape (the gateway's access
 * log): {..,"msg":..,"<key>":"<str>" or <num>,...}. A field whose str is NULL is the number num. */
typedef struct {
  const char *key;
  const char *str;
  double num;
} log_field;
void log_fields(int level, const char *msg, const log_field *f, size_t n);

#define log_debug(...) log_msg(LOG_DEBUG_, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO_, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN_, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR_, __VA_ARGS__)

#endif
