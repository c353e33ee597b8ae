/* The unit subtree rule (001 Đ6, 004 Đ6): a caller acts on its own unit and every unit below it,
 * never a sibling's or a parent's, and only with the rights its roles give. */
#ifndef HOSO_SCOPE_H
#define HOSO_SCOPE_H

#include "tok.h"

enum {
  RIGHT_READ = 1u << 0,            /* view, search, export records; view units */
  RIGHT_UPDATE = 1u << 1,          /* create, edit, change status, transfer records */
  RIGHT_APPROVE = 1u << 2,         /* approve records and change requests */
  RIGHT_MANAGE_ACCOUNTS = 1u << 3, /* create, restrict, revoke accounts; reset passwords */
  RIGHT_MANAGE_UNITS = 1u << 4,    /* create, rename, move, merge units (SYSTEM_ADMIN) */
  RIGHT_ADMIN = 1u << 5,           /* catalogues, keys, service clients (SYSTEM_ADMIN) */
};

/* The rights the roles give (union over the role bits). */
unsigned scope_rights(unsigned roles);

/* 1 when `path` equals `root` or lies below it ("1.4" contains "1.4.17", not "1.41"). */
int scope_path_within(const char *path, const char *root);

/* 1 when the caller may act on the unit at unit_path with every right in `rights`: the roles
 * give the rights, and unit_path lies within one of the caller's scope paths ("*" = all). */
int scope_allows(const tok_claims *c, const char *unit_path, unsigned rights);

#endif
