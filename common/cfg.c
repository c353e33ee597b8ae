/* Configuration from the environment (HOSO_* variables with defaults). A value that cannot be
 * used is logged and replaced by the default, so a typo never stops a service silently. */
#include "cfg.h"

#include <ctype.h>
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

const cfg_service *cfg_service_find(const char *name) {
  for (size_t i = 0; name && i < cfg_services_count; i++)
    if (strcmp(cfg_services[i].name, name) == 0) return &cfg_services[i];
  return NULL;
}

const char *cfg_service_addr(const char *name) {
  const cfg_service *s = cfg_service_find(name);
  if (s) return cfg_str(s->addr_var, s->default_addr);
  /* Outside the table (a test service): the same variable name, no default. */
  char var[64];
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > sizeof var - sizeof "HOSO__ADDR") return NULL;
  memcpy(var, "HOSO_", 5);
  for (size_t i = 0; i < n; i++) var[5 + i] = (char)toupper((unsigned char)name[i]);
  memcpy(var + 5 + n, "_ADDR", sizeof "_ADDR");
  return cfg_str(var, NULL);
}
