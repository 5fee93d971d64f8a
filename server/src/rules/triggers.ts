import type { Member, Mission, TriggerCue, TriggerIssue, TriggerState } from '@lockstep/shared';
import { cueLabel } from '@lockstep/shared';
import { staleMsFor, thresholdFor, triggerStatus } from './timing.ts';
import { issueFingerprint, targetVehicleIds, type RecipientRecord, type TriggerRecord } from './trigger-record.ts';

export function newTriggerRecord(mission: Mission, issuer: Member, issue: TriggerIssue, now: number): TriggerRecord {
  const vehicleIds = targetVehicleIds(mission, issue);
  const drivers = vehicleIds.flatMap((vehicleId) =>
    mission.members.filter((m) => m.role === 'driver' && m.vehicleId === vehicleId && m.replacedAt === undefined),
  );
  const routeName = issue.type === 'alt-route' ? mission.plan.routes.find((r) => r.id === issue.params.routeId)?.name : undefined;
  return {
    id: issue.id,
    missionId: mission.id,
    type: issue.type,
    label: cueLabel(issue.type, issue.params, routeName),
    params: issue.params,
    target: issue.target,
    issuedBy: { memberId: issuer.memberId, callsign: issuer.callsign },
    issuedAt: now,
    staleAt: now + staleMsFor(mission.settings, issue.type),
    thresholdMs: thresholdFor(mission.settings, issue.type),
    fingerprint: issueFingerprint(issuer.memberId, mission.id, issue),
    recipients: drivers.map((d) => ({
      memberId: d.memberId,
      callsign: d.callsign,
      vehicleId: d.vehicleId ?? '',
      state: 'pending',
      hesitation: false,
      seq: 0,
    })),
  };
}

export function triggerState(record: TriggerRecord): TriggerState {
  return {
    id: record.id,
    type: record.type,
    params: record.params,
    target: record.target,
    issuedBy: record.issuedBy,
    issuedAt: record.issuedAt,
    staleAt: record.staleAt,
    thresholdMs: record.thresholdMs,
    status: triggerStatus(record.recipients),
    recipients: record.recipients.map(
      ({ seq: _seq, shownAt: _shownAt, drawnAt: _drawnAt, hesitationDueAt: _dueAt, ...recipient }) => recipient,
    ),
  };
}

/** The cue one driver's tablet receives; `expired` once the cue has gone stale for them. */
export function triggerCue(record: TriggerRecord, recipient: RecipientRecord, now: number): TriggerCue {
  return {
    id: record.id,
    seq: recipient.seq,
    missionId: record.missionId,
    type: record.type,
    label: record.label,
    params: record.params,
    vehicleId: recipient.vehicleId,
    issuedBy: record.issuedBy,
    issuedAt: record.issuedAt,
    staleAt: record.staleAt,
    expired: recipient.state === 'expired' || now >= record.staleAt,
  };
}

/**
 * The cues to send again: to every recipient (or the one given) that has sent no receipt, while
 * the trigger is not stale. A cue may die with a node or a socket on its way; sockets that
 * already hold it skip it, so sending it again costs nothing.
 */
export function cuesToRedeliver(trigger: TriggerRecord, now: number, memberId?: string): { memberId: string; cue: TriggerCue }[] {
  if (now >= trigger.staleAt) return [];
  return trigger.recipients
    .filter((r) => (memberId === undefined || r.memberId === memberId) && (r.state === 'pending' || r.state === 'undelivered'))
    .map((r) => ({ memberId: r.memberId, cue: triggerCue(trigger, r, now) }));
}
