/* Configuration from the environment: every setting is a HOSO_* variable with a default. */
#ifndef HOSO_CFG_H
#define HOSO_CFG_H

#include <stddef.h>

/* The variable's value, or def when unset or empty. */
const char *cfg_str(const char *name, const char *def);
/* Integer value, or def when unset, empty or not a number in [min, max]. */
long cfg_int(const char *name, long def, long min, long max);
/* True for 1/true/yes/on (any case). */
int cfg_bool(const char *name, int def);

/* libpq DSN when HOSO_PG_DSN is unset: the socket ./hoso up makes is passed explicitly, so
 * this only serves a local default cluster. */
#define CFG_PG_DSN_DEFAULT "dbname=hoso user=hoso"

/* The service table, common/services.tsv, compiled in by the build (cmake/services.cmake):
 * every service's name, address variable, default address and whether the gateway serves it.
 * The one place a new service is named outside its own folder. */
enum { CFG_GATEWAY_NO, CFG_GATEWAY_YES, CFG_GATEWAY_SELF };
typedef struct {
  const char *name;         /* "identity": folder, binary hoso-<name>, schema, package hoso.<name>.v1 */
  const char *addr_var;     /* "HOSO_IDENTITY_ADDR" */
  int port;                 /* 50051 */
  const char *default_addr; /* "127.0.0.1:50051" */
  int gateway;              /* CFG_GATEWAY_*: served through the gateway, not, or the gateway itself */
} cfg_service;
extern const cfg_service cfg_services[]; /* in start order; ends with a NULL name */
extern const size_t cfg_services_count;

/* The service of that name, or NULL. */
const cfg_service *cfg_service_find(const char *name);
/* Where it listens (and is called): its variable's value, else its default address. A name
 * outside the table (a test service) has the variable HOSO_<NAME>_ADDR and no default. NULL
 * when there is no address. */
const char *cfg_service_addr(const char *name);

#endif
