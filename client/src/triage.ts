import type { Alert } from '@lockstep/shared';

/**
 * The order the board lists open alerts in: the most severe first, and within a severity the
 * oldest first, so a row a finger is on does not move when a newer alert arrives below it.
 * A cue that never arrived outranks everything: the vehicle does not know what to do.
 */
export const ALERT_SEVERITY: Readonly<Record<Alert['kind'], number>> = {
  undelivered: 8,
  offline: 7,
  // Who holds command changed: everyone in the room must know before the next order.
  'command-handover': 6,
  hesitation: 5,
  silence: 4,
  expired: 3,
  overload: 1,
  // A late leg is known to everyone on the road already; it ranks with the plan not acked.
  'schedule-drift': 0,
  'plan-unacked': 0,
};

export const orderAlerts = (alerts: readonly Alert[]): Alert[] =>
  [...alerts].sort((a, b) => ALERT_SEVERITY[b.kind] - ALERT_SEVERITY[a.kind] || a.at - b.at || a.id.localeCompare(b.id));

/** How many vehicles a board layout holds on one screen before it goes to the next, denser one. */
export const VEHICLE_DENSITIES = ['roomy', 'compact', 'dense'] as const;
export type VehicleDensity = (typeof VEHICLE_DENSITIES)[number];
export const vehicleDensity = (count: number): VehicleDensity => (count <= 5 ? 'roomy' : count <= 10 ? 'compact' : 'dense');
