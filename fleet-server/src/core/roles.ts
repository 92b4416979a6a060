// Who may do what: four ordered roles, and the principal a request acts as. The API and the
// console check roles with the same functions, so a page and its API route never disagree.
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

export const ROLES = ['viewer', 'technician', 'fleetOperator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Roles are ordered: each may do everything the ones before it may. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

export interface Principal {
  userId: string;
  username: string;
  role: Role;
  via: 'session' | 'token';
}

/** 401 without a principal, 403 when its role is below `role`. */
export function assertRole(principal: Principal | null, role: Role): Principal {
  if (!principal) throw new UnauthorizedError();
  if (!roleAtLeast(principal.role, role)) {
    throw new ForbiddenError(
      `this needs the ${role} role or higher; you are ${principal.role}. Ask an admin.`,
    );
  }
  return principal;
}
