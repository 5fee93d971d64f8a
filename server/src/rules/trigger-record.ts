import type { Mission, Recipient, TriggerIssue, TriggerState } from '@lockstep/shared';

/** A recipient as stored: the public fields plus its cue `seq`, the device's `shownAt` and the live deadline taken from it. */
export interface RecipientRecord extends Recipient {
  seq: number;
  shownAt?: number | undefined;
  /** `shownAt` in server time (docs/PROTOCOL.md §3, the live deadline), when the device's clock offset was known. */
  drawnAt?: number | undefined;
  /** When the cue, still unanswered, becomes a live hesitation. */
  hesitationDueAt?: number | undefined;
}

/** A trigger as stored: its public state, the mission it belongs to, and the fingerprint of the request that made it. */
export interface TriggerRecord extends Omit<TriggerState, 'status' | 'recipients'> {
  missionId: string;
  label: string;
  /** Issuer and canonical payload: a retry with the same id must match it (idempotency). */
  fingerprint: string;
  recipients: RecipientRecord[];
}

/** Canonical form of an issue request, so `params` absent and `params: {}` compare equal. */
export function issueFingerprint(issuerId: string, missionId: string, issue: TriggerIssue): string {
  const params = Object.fromEntries(
    Object.entries(issue.params)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const target = 'convoy' in issue.target ? { convoy: true } : { vehicleIds: [...issue.target.vehicleIds].sort() };
  return JSON.stringify([missionId, issuerId, issue.type, target, params]);
}

/** The drivers a target reaches, in convoy order: at most one per vehicle. */
export function targetVehicleIds(mission: Pick<Mission, 'vehicles'>, issue: Pick<TriggerIssue, 'target'>): string[] {
  if ('convoy' in issue.target) return mission.vehicles.map((v) => v.id);
  const wanted = new Set(issue.target.vehicleIds);
  return mission.vehicles.filter((v) => wanted.has(v.id)).map((v) => v.id);
}
