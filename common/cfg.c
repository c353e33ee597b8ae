/* Configuration from the environment (HOSO_* variables with defaults). A value that cannot be
 * used is logged and replaced by the default, so a typo never stops a service silently. */
#include "cfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

const char *cfg_str(const char *name, const char *def) {
  const char *v = getenv(name);
  return v && *v ? v : def;
}

long cfg_int(const char *name, long def, long min, long max) {
  const char *v = getenv(name);
  if (!v || !*v) return def;
  char *end = NULL;
  errno = 0;
  long n = strtol(v, &end, 10);
  /* trailing blanks are harmless (shell quoting); anything else means a typo */
  while (end && (*end == ' ' || *end == '\t' || *end == '\n')) end++;
  if (errno || end == v || *end || n < min || n > max) {
    log_warn("%s=%s is not a whole number in [%ld, %ld]; using %ld", name, v, min, max, def);
    return def;
  }
  return n;
}

int cfg_bool(const char *name, int def) {
  const char *v = getenv(name);
  if (!v || !*v) return def != 0;
  static const char *const yes[] = {"1", "true", "yes", "on", "y", "t"};
  static const char *const no[] = {"0", "false", "no", "off", "n", "f"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (!strcasecmp(v, yes[i])) return 1;
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (!strcasecmp(v, no[i])) return 0;
  log_warn("%s=%s is not a yes/no value (1/true/yes/on or 0/false/no/off); using %s", name, v,
           def ? "true" : "false");
  return def != 0;
}
