/* Roles as the contract spells them (repeated hoso.common.v1.Role) and as tokens and the
 * accounts table hold them (ROLE_* bits, tok.h). */
#include <stdlib.h>
#include "identity.h"

unsigned roles_from_enums(const Hoso__Common__V1__Role *roles, size_t n) {
  unsigned bits = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned b = tok_role_bit((int)roles[i]);
    if (!b) return 0;
    bits |= b;
  }
  return bits;
}

void roles_to_enums(srv_ctx *ctx, unsigned bits, Hoso__Common__V1__Role **out, size_t *n) {
  *n = 0;
  *out = srv_alloc(ctx, 8 * sizeof **out);
  for (int v = 1; v <= 6; v++)
    if (bits & tok_role_bit(v)) (*out)[(*n)++] = (Hoso__Common__V1__Role)v;
}
