import type { Role } from '@lockstep/shared';

/** Which screen each role works on: a link opened on the wrong one moves there with its token. */
const SCREEN_OF: Readonly<Record<Role, string>> = {
  lead: '/cpo',
  cpo: '/cpo',
  driver: '/driver',
  ops: '/board',
  advance: '/field',
  surveillance: '/field',
  liaison: '/field',
};

/** The path of the screen a role works on (the console makes each member's link to it). */
export const screenOf = (role: Role): string => SCREEN_OF[role];

/** Moves to the role's own screen when this is not it; answers whether it did. */
export function moveToOwnScreen(role: Role, token: string | undefined): boolean {
  const own = SCREEN_OF[role];
  if (location.pathname === own || !token) return false;
  location.replace(`${own}?token=${encodeURIComponent(token)}`);
  return true;
}
