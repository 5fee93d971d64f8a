import { z } from 'zod';

export const ROLES = ['lead', 'cpo', 'driver', 'advance', 'surveillance', 'liaison', 'ops'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

export interface RoleAuthority {
  /** Which vehicles this role may send triggers to. */
  issues: 'convoy' | 'own-vehicle' | 'none';
  /** Receives cues for its own vehicle. */
  receivesCues: boolean;
  /** Sees every trigger's state, every alert and all presence of its mission. */
  watches: boolean;
  /** May resolve alerts. */
  resolvesAlerts: boolean;
  /** May revoke members, change the plan, start and end the mission over HTTP. */
  commands: boolean;
  /** May read the mission log and the after-action report. */
  readsLog: boolean;
  /** Must belong to one vehicle. */
  needsVehicle: boolean;
}

/** PROTOCOL.md §1, the roles table. The server enforces it; clients only use it to lay out screens. */
export const ROLE_AUTHORITY: Readonly<Record<Role, RoleAuthority>> = {
  lead: { issues: 'convoy', receivesCues: false, watches: true, resolvesAlerts: true, commands: true, readsLog: true, needsVehicle: false },
  cpo: { issues: 'own-vehicle', receivesCues: false, watches: true, resolvesAlerts: false, commands: false, readsLog: false, needsVehicle: true },
  driver: { issues: 'none', receivesCues: true, watches: false, resolvesAlerts: false, commands: false, readsLog: false, needsVehicle: true },
  advance: { issues: 'none', receivesCues: false, watches: false, resolvesAlerts: false, commands: false, readsLog: false, needsVehicle: false },
  surveillance: { issues: 'none', receivesCues: false, watches: false, resolvesAlerts: false, commands: false, readsLog: false, needsVehicle: false },
  liaison: { issues: 'none', receivesCues: false, watches: false, resolvesAlerts: false, commands: false, readsLog: false, needsVehicle: false },
  ops: { issues: 'none', receivesCues: false, watches: true, resolvesAlerts: true, commands: false, readsLog: true, needsVehicle: false },
};
