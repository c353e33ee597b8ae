/* What a role may do in the interface: the same rights the services enforce (common/scope.c),
 * used only to offer the actions a person may take; the services still decide. */
import { Role } from '../api/gen/common_pb';

export interface Rights {
  read: boolean;
  update: boolean;
  approve: boolean;
  manageAccounts: boolean;
  manageUnits: boolean;
  self: boolean;
}

export function rightsOf(roles: readonly Role[]): Rights {
  const has = (r: Role) => roles.includes(r);
  const admin = has(Role.SYSTEM_ADMIN);
  return {
    read: admin || has(Role.UNIT_ADMIN) || has(Role.UPDATER) || has(Role.READER),
    update: admin || has(Role.UPDATER),
    approve: admin || has(Role.UNIT_ADMIN),
    manageAccounts: admin || has(Role.UNIT_ADMIN),
    manageUnits: admin,
    self: has(Role.SELF),
  };
}

/* Roles an account manager may grant: a system administrator any but SERVICE (service
 * clients are made elsewhere), anyone else only those it holds itself (003 Đ4.1). */
export function grantableRoles(mine: readonly Role[]): Role[] {
  const all = [Role.SYSTEM_ADMIN, Role.UNIT_ADMIN, Role.UPDATER, Role.READER, Role.SELF];
  if (mine.includes(Role.SYSTEM_ADMIN)) return all;
  return all.filter((r) => mine.includes(r));
}

/* Whether the viewer may act on an account holding these roles (the service refuses a manager
 * lacking one of them: a unit administrator cannot take over a system administrator). */
export function mayManageHolder(mine: readonly Role[], theirs: readonly Role[]): boolean {
  return mine.includes(Role.SYSTEM_ADMIN) || theirs.every((r) => mine.includes(r));
}
