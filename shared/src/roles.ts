import { z } from 'zod';
import { ROLES } from './constants.ts';

export { ROLES, ROLE_AUTHORITY, type RoleAuthority } from './constants.ts';

export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;
