/* Configuration from the environment: every setting is a HOSO_* variable with a default. */
#ifndef HOSO_CFG_H
#define HOSO_CFG_H

/* The variable's value, or def when unset or empty. */
const char *cfg_str(const char *name, const char *def);
/* Integer value, or def when unset, empty or not a number in [min, max]. */
long cfg_int(const char *name, long def, long min, long max);
/* True for 1/true/yes/on (any case). */
int cfg_bool(const char *name, int def);

/* Default listen addresses of the services (SPEC: fixed ports, overridable). */
/* libpq DSN when HOSO_PG_DSN is unset: the socket ./hoso up makes is passed explicitly, so
 * this only serves a local default cluster. */
#define CFG_PG_DSN_DEFAULT "dbname=hoso user=hoso"

#define CFG_IDENTITY_ADDR_DEFAULT "127.0.0.1:50051"
#define CFG_RECORDS_ADDR_DEFAULT "127.0.0.1:50052"
#define CFG_TRANSFERS_ADDR_DEFAULT "127.0.0.1:50053"
#define CFG_REPORTING_ADDR_DEFAULT "127.0.0.1:50054"

#endif
