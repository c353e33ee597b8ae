/* Failed-login throttling, kept inside the caller's transaction (store_throttle.c): Login,
 * ChangePassword and ServiceLogin check it before a password is verified. */
#ifndef HOSO_IDENTITY_STORE_THROTTLE_H
#define HOSO_IDENTITY_STORE_THROTTLE_H

#include "identity.h"

/* Per typed name and per client address; the name is the username (lowercased) or
 * "svc:<client_id>".
 * throttle_check: 0 when allowed, else the seconds until the next try is allowed (> 0);
 * -1 on database error. throttle_fail records a failure (growing lockout);
 * throttle_success clears the name's counter. */
long throttle_check(srv_ctx *ctx, const char *name, const char *addr);
int throttle_fail(srv_ctx *ctx, const char *name, const char *addr);
int throttle_success(srv_ctx *ctx, const char *name);
/* Clears the name's lockout (after an administrator resets the password). */
int throttle_clear(srv_ctx *ctx, const char *name);

#endif
