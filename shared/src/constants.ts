/**
 * The closed sets of the protocol as plain constants, with no zod: a screen that needs only
 * labels and authority imports `@lockstep/shared/constants` and stays small.
 */

/** The closed trigger catalogue of docs/PROTOCOL.md §2, in the order a handset lays it out. */
export const TRIGGER_TYPES = [
  'go',
  'hold',
  'box-in',
  'extract',
  'alt-route',
  'pickup',
  'drop-off',
  'contact',
  'medical',
  'breakdown',
  'abort',
  'all-clear',
] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export interface CatalogueEntry {
  /** What the tablet shows; `{route}` is filled from the plan. */
  label: string;
  /** What the driver is expected to do. */
  action: string;
}

export const TRIGGER_CATALOGUE: Readonly<Record<TriggerType, CatalogueEntry>> = {
  go: { label: 'MOVE NOW', action: 'depart' },
  hold: { label: 'HOLD', action: 'hold position' },
  'box-in': { label: 'BOX-IN — OPEN GAP', action: 'keep moving, open an escape gap' },
  extract: { label: 'EXTRACT NOW', action: 'leave by the nearest exit' },
  'alt-route': { label: 'ALT ROUTE {route}', action: 'switch to that route' },
  pickup: { label: 'PICKUP — PRINCIPAL MOVING', action: 'move to the pickup point' },
  'drop-off': { label: 'DROP-OFF', action: 'proceed to drop-off' },
  contact: { label: 'CONTACT — DRILL', action: 'execute the contact drill' },
  medical: { label: 'MEDICAL — HOSPITAL', action: 'drive to the planned hospital' },
  breakdown: { label: 'VEHICLE DOWN — CROSS-DECK', action: 'cross-deck the principal' },
  abort: { label: 'ABORT — SAFE HAVEN', action: 'return to the safe haven' },
  'all-clear': { label: 'ALL CLEAR', action: 'normal posture' },
};

export const ROLES = ['lead', 'cpo', 'driver', 'advance', 'surveillance', 'liaison', 'ops'] as const;
export type Role = (typeof ROLES)[number];

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

/** docs/PROTOCOL.md §1, the roles table. The server enforces it; clients only use it to lay out screens. */
export const ROLE_AUTHORITY: Readonly<Record<Role, RoleAuthority>> = {
  lead: { issues: 'convoy', receivesCues: false, watches: true, resolvesAlerts: true, commands: true, readsLog: true, needsVehicle: false },
  cpo: {
    issues: 'own-vehicle',
    receivesCues: false,
    watches: true,
    resolvesAlerts: false,
    commands: false,
    readsLog: false,
    needsVehicle: true,
  },
  driver: {
    issues: 'none',
    receivesCues: true,
    watches: false,
    resolvesAlerts: false,
    commands: false,
    readsLog: false,
    needsVehicle: true,
  },
  advance: {
    issues: 'none',
    receivesCues: false,
    watches: false,
    resolvesAlerts: false,
    commands: false,
    readsLog: false,
    needsVehicle: false,
  },
  surveillance: {
    issues: 'none',
    receivesCues: false,
    watches: false,
    resolvesAlerts: false,
    commands: false,
    readsLog: false,
    needsVehicle: false,
  },
  liaison: {
    issues: 'none',
    receivesCues: false,
    watches: false,
    resolvesAlerts: false,
    commands: false,
    readsLog: false,
    needsVehicle: false,
  },
  ops: { issues: 'none', receivesCues: false, watches: true, resolvesAlerts: true, commands: false, readsLog: true, needsVehicle: false },
};

export const RESPONSES = ['ack', 'unable'] as const;

export const RECIPIENT_STATES = ['pending', 'undelivered', 'delivered', 'hesitation', 'answered', 'expired', 'replaced'] as const;
export type RecipientState = (typeof RECIPIENT_STATES)[number];

/**
 * Recipient states in the only order they move (docs/PROTOCOL.md §3): `expired` can follow any but
 * `answered`, so the two ends share the last rank. Of two copies of a recipient, the further is the newer.
 */
export const RECIPIENT_PROGRESS: Readonly<Record<RecipientState, number>> = {
  pending: 0,
  undelivered: 1,
  delivered: 2,
  hesitation: 3,
  expired: 4,
  answered: 4,
  replaced: 4,
};

/** A recipient still owes an answer: neither answered nor expired. */
export const recipientOpen = (state: RecipientState): boolean => RECIPIENT_PROGRESS[state] < RECIPIENT_PROGRESS.answered;

/** A trigger is open while any recipient still owes an answer. */
export const triggerOpen = (trigger: { recipients: readonly { state: RecipientState }[] }): boolean =>
  trigger.recipients.some((r) => recipientOpen(r.state));
export const UNABLE_REASONS = ['blocked', 'mechanical', 'unsafe', 'say-again'] as const;

/** The label shown on the tablet; `{route}` is the plan's route name, or the routeId without a plan. */
export function cueLabel(
  type: TriggerType,
  params: { routeId?: string | undefined; destinationId?: string | undefined; toVehicleId?: string | undefined },
  routeName?: string,
): string {
  const label = TRIGGER_CATALOGUE[type].label;
  if (type !== 'alt-route') return label;
  return label.replace('{route}', routeName ?? params.routeId ?? '');
}
