import type {
  Alert,
  AlertKind,
  ErrorCode,
  GapSource,
  LogKind,
  Member,
  Mission,
  MissionSettings,
  ObservationPost,
  PresenceState,
  Response,
  UnableReason,
  Vehicle,
} from '@lockstep/shared';
import type { RecipientRecord, TriggerRecord } from '../rules/trigger-record.ts';
import type { LogDraft } from '../store/store.ts';

/**
 * What each kind of mission-log line carries in `data` (kinds: docs/protocol-notes.md). The
 * after-action report reads these back, so each shape is written in one place: the builder below.
 */
export interface LogData {
  'mission.created': { name: string; vehicles: Vehicle[]; settings: MissionSettings };
  'member.added': Member;
  'member.revoked': { by: string };
  /** §9: the member (a driver) was swapped out of the vehicle for `replacedBy`. */
  'member.replaced': { vehicleId: string; replacedBy: string; by: string };
  'member.token-renewed': { by: string };
  'plan.changed': { version: number; routes: string[] };
  'plan.acked': { version: number };
  'mission.started': { force: boolean; unacked: string[] };
  'mission.ended': Record<string, never>;
  /** §10: when the leg actually happened, and its drift from the plan. */
  'schedule.marked': { leg: string; at: number; driftMs: number };
  'trigger.issued': Pick<TriggerRecord, 'type' | 'params' | 'target' | 'thresholdMs' | 'staleAt'> & { recipients: string[] };
  'trigger.receipt': {
    shownAt: number | undefined;
    networkMs: number | undefined;
    /** `shownAt` in server time, its clock offset's error bound, and the live deadline taken from them (docs/PROTOCOL.md §3). */
    drawnAt?: number | undefined;
    clockErrorMs?: number | undefined;
    hesitationDueAt?: number | undefined;
  };
  'trigger.answered': {
    response: Response | undefined;
    reason: UnableReason | undefined;
    gapMs: number | undefined;
    gapSource: GapSource | undefined;
    hesitation: boolean;
  };
  'trigger.expired': { staleAt: number };
  'alert.raised': Pick<Alert, 'vehicleId' | 'valueMs' | 'thresholdMs' | 'count' | 'observationId' | 'planVersion' | 'fromMemberId'> & {
    alertId: string;
    kind: AlertKind;
  };
  /** `withdrawn`: the system took back a hesitation the answer disproved; `valueMs` the answered gap. */
  'alert.resolved': { alertId: string; kind: AlertKind; note: string | undefined; withdrawn?: true; valueMs?: number | undefined };
  presence: { state: PresenceState; previous: PresenceState; rttMs: number | undefined };
  observation: Pick<ObservationPost, 'id' | 'category' | 'severity' | 'text'>;
  /** §11: `memberId` of the line is the new acting lead. */
  'command.handover': { from: string | undefined };
  /** §11: `memberId` of the line is the lead who is back; `from` the acting lead who stands down. */
  'command.resumed': { from: string };
  /** Never the refused payload itself. */
  refused: { request: string; code: ErrorCode; message: string; refused?: number };
}

/** A log line whose `data` is the shape of its kind. */
export interface TypedLogDraft<K extends LogKind> extends LogDraft {
  kind: K;
  data: LogData[K];
}

function line<K extends LogKind>(
  kind: K,
  at: number,
  data: LogData[K],
  about: { memberId?: string | undefined; triggerId?: string | undefined } = {},
): TypedLogDraft<K> {
  return { at, kind, ...about, data };
}

/** One builder per kind of log line. */
export const logLine = {
  missionCreated: (at: number, mission: Pick<Mission, 'name' | 'vehicles' | 'settings'>) =>
    line('mission.created', at, { name: mission.name, vehicles: mission.vehicles, settings: mission.settings }),
  memberAdded: (at: number, member: Member) => line('member.added', at, { ...member }, { memberId: member.memberId }),
  memberRevoked: (at: number, memberId: string, by: string) => line('member.revoked', at, { by }, { memberId }),
  memberReplaced: (at: number, memberId: string, data: LogData['member.replaced']) => line('member.replaced', at, data, { memberId }),
  tokenRenewed: (at: number, memberId: string, by: string) => line('member.token-renewed', at, { by }, { memberId }),
  planChanged: (at: number, by: string, version: number, routeIds: string[]) =>
    line('plan.changed', at, { version, routes: routeIds }, { memberId: by }),
  planAcked: (at: number, memberId: string, version: number) => line('plan.acked', at, { version }, { memberId }),
  missionStarted: (at: number, by: string, force: boolean, unacked: string[]) =>
    line('mission.started', at, { force, unacked }, { memberId: by }),
  missionEnded: (at: number, by: string) => line('mission.ended', at, {}, { memberId: by }),
  scheduleMarked: (at: number, by: string, data: LogData['schedule.marked']) => line('schedule.marked', at, data, { memberId: by }),

  triggerIssued: (at: number, trigger: TriggerRecord) =>
    line(
      'trigger.issued',
      at,
      {
        type: trigger.type,
        params: trigger.params,
        target: trigger.target,
        recipients: trigger.recipients.map((r) => r.memberId),
        thresholdMs: trigger.thresholdMs,
        staleAt: trigger.staleAt,
      },
      { memberId: trigger.issuedBy.memberId, triggerId: trigger.id },
    ),
  triggerReceipt: (
    at: number,
    triggerId: string,
    memberId: string,
    shownAt: number | undefined,
    networkMs: number | undefined,
    live: Pick<RecipientRecord, 'drawnAt' | 'hesitationDueAt'> = {},
    clockErrorMs?: number,
  ) =>
    line(
      'trigger.receipt',
      at,
      { shownAt, networkMs, drawnAt: live.drawnAt, clockErrorMs, hesitationDueAt: live.hesitationDueAt },
      { memberId, triggerId },
    ),
  triggerAnswered: (at: number, triggerId: string, r: RecipientRecord) =>
    line(
      'trigger.answered',
      at,
      { response: r.response, reason: r.reason, gapMs: r.gapMs, gapSource: r.gapSource, hesitation: r.hesitation },
      { memberId: r.memberId, triggerId },
    ),
  triggerExpired: (at: number, trigger: Pick<TriggerRecord, 'id' | 'staleAt'>, memberId: string) =>
    line('trigger.expired', at, { staleAt: trigger.staleAt }, { memberId, triggerId: trigger.id }),

  alertRaised: (alert: Alert) =>
    line(
      'alert.raised',
      alert.at,
      {
        alertId: alert.id,
        kind: alert.kind,
        vehicleId: alert.vehicleId,
        valueMs: alert.valueMs,
        thresholdMs: alert.thresholdMs,
        count: alert.count,
        observationId: alert.observationId,
        planVersion: alert.planVersion,
        fromMemberId: alert.fromMemberId,
      },
      { memberId: alert.memberId, triggerId: alert.triggerId },
    ),
  alertResolved: (at: number, alert: Pick<Alert, 'id' | 'kind' | 'triggerId'>, by: string, note: string | undefined) =>
    line('alert.resolved', at, { alertId: alert.id, kind: alert.kind, note }, { memberId: by, triggerId: alert.triggerId }),
  /** Resolved by the system, so no member. */
  alertWithdrawn: (at: number, alert: Pick<Alert, 'id' | 'kind' | 'triggerId'>, valueMs: number | undefined) =>
    line(
      'alert.resolved',
      at,
      { alertId: alert.id, kind: alert.kind, note: undefined, withdrawn: true, valueMs },
      { triggerId: alert.triggerId },
    ),

  presence: (at: number, memberId: string, state: PresenceState, previous: PresenceState, rttMs: number | undefined) =>
    line('presence', at, { state, previous, rttMs }, { memberId }),
  observation: (at: number, memberId: string, post: ObservationPost) =>
    line('observation', at, { id: post.id, category: post.category, severity: post.severity, text: post.text }, { memberId }),
  commandHandover: (at: number, actingLeadId: string, from: string | undefined) =>
    line('command.handover', at, { from }, { memberId: actingLeadId }),
  commandResumed: (at: number, leadId: string, from: string) => line('command.resumed', at, { from }, { memberId: leadId }),
  refused: (at: number, memberId: string | undefined, data: LogData['refused']) => line('refused', at, data, { memberId }),
} satisfies Record<string, (...args: never[]) => LogDraft>;
