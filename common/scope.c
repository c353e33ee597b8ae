/* The unit subtree rule: which rights each role gives, whether a unit path lies within a
 * scope path, and the combined check every handler calls before touching a unit's data. */
#include "scope.h"

#include <string.h>

unsigned scope_rights(unsigned roles) {
  unsigned r = 0;
  if (roles & ROLE_SYSTEM_ADMIN)
    r |= RIGHT_READ | RIGHT_UPDATE | RIGHT_APPROVE | RIGHT_MANAGE_ACCOUNTS |
         RIGHT_MANAGE_UNITS | RIGHT_ADMIN;
  /* The head of a unit gets accounts and approvals, not editing (001 Đ12.2): editing records is
   * the updater's job, and the two roles are granted separately. */
  if (roles & ROLE_UNIT_ADMIN) r |= RIGHT_READ | RIGHT_APPROVE | RIGHT_MANAGE_ACCOUNTS;
  if (roles & ROLE_UPDATER) r |= RIGHT_READ | RIGHT_UPDATE;
  if (roles & ROLE_READER) r |= RIGHT_READ;
  /* ROLE_SELF gives nothing unit-wide: the records service lets a person read their own
   * record by matching the token's rid, not through a unit right. */
  if (roles & ROLE_SERVICE) r |= RIGHT_READ;
  return r;
}

/* Labels are non-empty runs between dots; an empty label means a malformed path, which must
 * never match anything (an empty root would otherwise contain every path). */
static int path_ok(const char *p, size_t n) {
  if (n == 0 || p[0] == '.' || p[n - 1] == '.') return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)p[i];
    if (ch == '.') {
      if (p[i + 1] == '.') return 0;
    } else if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= 'a' && ch <= 'z') || ch == '_' || ch == '-')) {
      return 0;
    }
  }
  return 1;
}

static int within_n(const char *path, const char *root, size_t rn) {
  size_t pn = strlen(path);
  if (!path_ok(path, pn) || !path_ok(root, rn) || pn < rn) return 0;
  if (memcmp(path, root, rn) != 0) return 0;
  /* "1.4" is a prefix of "1.41" as text but not as a path: the next byte must end a label. */
  return pn == rn || path[rn] == '.';
}

int scope_path_within(const char *path, const char *root) {
  if (!path || !root) return 0;
  return within_n(path, root, strlen(root));
}

int scope_allows(const tok_claims *c, const char *unit_path, unsigned rights) {
  if (!c || !unit_path) return 0;
  unsigned have = scope_rights(c->roles);
  if ((rights & have) != rights) return 0;
  /* No rights asked for is not "anything goes": a caller with no rights at all is refused. */
  if (have == 0) return 0;

  const char *s = c->scope;
  if (strcmp(s, "*") == 0) return 1;
  while (*s) {
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : strlen(s);
    if ((n == 1 && s[0] == '*') || (n > 0 && within_n(unit_path, s, n))) return 1;
    if (!comma) break;
    s = comma + 1;
  }
  return 0;
}
