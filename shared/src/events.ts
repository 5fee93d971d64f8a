import { z } from 'zod';
import { TRIGGER_PARAMS, TriggerParams, TriggerType } from './catalogue.ts';
import { RECIPIENT_STATES, RESPONSES, UNABLE_REASONS } from './constants.ts';
import { Member, Mission } from './mission.ts';
import { Callsign, DeviceTime, MemberId, ServerTime, ShortText, VehicleId } from './primitives.ts';
import { Role } from './roles.ts';

export { PROTOCOL_VERSION } from './version.ts';

// ---------------------------------------------------------------- triggers

export const TriggerTarget = z.union([
  z.strictObject({ vehicleIds: z.array(VehicleId).min(1).max(32) }),
  z.strictObject({ convoy: z.literal(true) }),
]);
export type TriggerTarget = z.infer<typeof TriggerTarget>;

const issueOf = <T extends TriggerType, P extends z.ZodType>(type: T, params: P) =>
  z.strictObject({ id: z.uuid(), type: z.literal(type), target: TriggerTarget, params });

/** `trigger:issue`: one member of the union per catalogue type, so each type's params are checked exactly. */
export const TriggerIssue = z.discriminatedUnion('type', [
  issueOf('go', TRIGGER_PARAMS.go),
  issueOf('hold', TRIGGER_PARAMS.hold),
  issueOf('box-in', TRIGGER_PARAMS['box-in']),
  issueOf('extract', TRIGGER_PARAMS.extract),
  issueOf('alt-route', TRIGGER_PARAMS['alt-route']),
  issueOf('pickup', TRIGGER_PARAMS.pickup),
  issueOf('drop-off', TRIGGER_PARAMS['drop-off']),
  issueOf('contact', TRIGGER_PARAMS.contact),
  issueOf('medical', TRIGGER_PARAMS.medical),
  issueOf('breakdown', TRIGGER_PARAMS.breakdown),
  issueOf('abort', TRIGGER_PARAMS.abort),
  issueOf('all-clear', TRIGGER_PARAMS['all-clear']),
]);
export type TriggerIssue = z.output<typeof TriggerIssue>;
export type TriggerIssueInput = z.input<typeof TriggerIssue>;

export { RECIPIENT_PROGRESS, RECIPIENT_STATES, RESPONSES, UNABLE_REASONS, recipientOpen, triggerOpen } from './constants.ts';
export const Response = z.enum(RESPONSES);
export type Response = z.infer<typeof Response>;
export const UnableReason = z.enum(UNABLE_REASONS);
export type UnableReason = z.infer<typeof UnableReason>;

/** `trigger:respond`: `unable` needs a reason, and only `unable` takes one. */
export const TriggerRespond = z
  .strictObject({
    triggerId: z.uuid(),
    response: Response,
    reason: UnableReason.optional(),
    shownAt: DeviceTime.optional(),
    respondedAt: DeviceTime,
  })
  .superRefine((answer, ctx) => {
    if (answer.response === 'unable' && !answer.reason) {
      ctx.addIssue({ code: 'custom', path: ['reason'], message: '"unable" needs a reason' });
    }
    if (answer.response === 'ack' && answer.reason) {
      ctx.addIssue({ code: 'custom', path: ['reason'], message: 'only "unable" takes a reason' });
    }
  });
export type TriggerRespond = z.infer<typeof TriggerRespond>;

/** The receipt: the acknowledgement of the `trigger` event, sent the moment the cue is drawn. */
export const Receipt = z.object({ shownAt: DeviceTime.optional() });
export type Receipt = z.infer<typeof Receipt>;

export const RecipientState = z.enum(RECIPIENT_STATES);
export type RecipientState = z.infer<typeof RecipientState>;

export const TRIGGER_STATUSES = ['pending', 'delivered', 'hesitation', 'undelivered', 'answered', 'expired'] as const;
export const TriggerStatus = z.enum(TRIGGER_STATUSES);
export type TriggerStatus = z.infer<typeof TriggerStatus>;

export const GapSource = z.enum(['device', 'server']);
export type GapSource = z.infer<typeof GapSource>;

export const IssuedBy = z.object({ memberId: MemberId, callsign: Callsign });
export type IssuedBy = z.infer<typeof IssuedBy>;

export const Recipient = z.object({
  memberId: MemberId,
  callsign: Callsign,
  vehicleId: VehicleId,
  state: RecipientState,
  deliveredAt: ServerTime.optional(),
  networkMs: z.number().nonnegative().optional(),
  response: Response.optional(),
  reason: UnableReason.optional(),
  gapMs: z.number().int().nonnegative().optional(),
  gapSource: GapSource.optional(),
  hesitation: z.boolean(),
});
export type Recipient = z.infer<typeof Recipient>;

/** What lead, cpo and ops see of a trigger, on every change. */
export const TriggerState = z.object({
  id: z.uuid(),
  type: TriggerType,
  params: TriggerParams,
  target: TriggerTarget,
  issuedBy: IssuedBy,
  issuedAt: ServerTime,
  staleAt: ServerTime,
  thresholdMs: z.number().int(),
  status: TriggerStatus,
  recipients: z.array(Recipient),
});
export type TriggerState = z.infer<typeof TriggerState>;

/** What a driver's tablet receives. */
export const TriggerCue = z.object({
  id: z.uuid(),
  seq: z.number().int().positive(),
  missionId: z.string(),
  type: TriggerType,
  label: z.string(),
  params: TriggerParams,
  vehicleId: VehicleId,
  issuedBy: IssuedBy,
  issuedAt: ServerTime,
  staleAt: ServerTime,
  expired: z.boolean(),
});
export type TriggerCue = z.infer<typeof TriggerCue>;

// ---------------------------------------------------------------- alerts

export const ALERT_KINDS = [
  'hesitation',
  'undelivered',
  'expired',
  'offline',
  'overload',
  'silence',
  'plan-unacked',
  'schedule-drift',
  'command-handover',
] as const;
export const AlertKind = z.enum(ALERT_KINDS);
export type AlertKind = z.infer<typeof AlertKind>;

export const Alert = z.object({
  id: z.string(),
  kind: AlertKind,
  missionId: z.string(),
  memberId: MemberId.optional(),
  vehicleId: VehicleId.optional(),
  triggerId: z.uuid().optional(),
  /** v1.1 (§3): `overload`'s cues in the window. */
  count: z.number().int().optional(),
  /** v1.1: the `threat` observation a `silence` answers. */
  observationId: z.uuid().optional(),
  /** v1.1: the plan version a `plan-unacked` driver has not acked. */
  planVersion: z.number().int().optional(),
  /** v1.1: the leg of a `schedule-drift`. */
  leg: z.string().optional(),
  /** v1.1: who held command before a `command-handover` (the lead, or the acting lead who dropped). */
  fromMemberId: MemberId.optional(),
  valueMs: z.number().int().optional(),
  thresholdMs: z.number().int().optional(),
  at: ServerTime,
  resolvedAt: ServerTime.optional(),
  /** `"system"` when the server resolved it (a withdrawn hesitation, a driver who acked the plan). */
  resolvedBy: MemberId.optional(),
  note: ShortText.optional(),
  /** v1.1: a live hesitation the answer disproved; `valueMs` is then the answered gap. */
  withdrawnAt: ServerTime.optional(),
});
export type Alert = z.infer<typeof Alert>;

export const AlertResolve = z.strictObject({ alertId: z.string().min(1).max(128), note: ShortText.optional() });
export type AlertResolve = z.infer<typeof AlertResolve>;

// ---------------------------------------------------------------- presence

export const PresenceState = z.enum(['online', 'stale', 'offline']);
export type PresenceState = z.infer<typeof PresenceState>;

export const Presence = z.object({
  memberId: MemberId,
  callsign: Callsign,
  role: Role,
  vehicleId: VehicleId.optional(),
  state: PresenceState,
  rttMs: z.number().nonnegative().optional(),
  rttP95Ms: z.number().nonnegative().optional(),
  /** The device clock minus the server's (device time − (sent + RTT/2)), from its lowest-RTT recent probe. */
  clockOffsetMs: z.number().optional(),
  /** The offset's error bound: the true offset is within `clockOffsetMs ± clockErrorMs`. */
  clockErrorMs: z.number().optional(),
  lastSeenAt: ServerTime,
  /** While `offline`: since when (the moment the state turned offline); what succession of command (§11) counts from. */
  offlineSince: ServerTime.optional(),
});
export type Presence = z.infer<typeof Presence>;

export const Probe = z.object({ serverAt: ServerTime });
export type Probe = z.infer<typeof Probe>;
export const ProbeAnswer = z.object({ deviceAt: DeviceTime });
export type ProbeAnswer = z.infer<typeof ProbeAnswer>;

// ---------------------------------------------------------------- observations

export const OBSERVATION_CATEGORIES = ['vehicle', 'person', 'surveillance', 'crowd', 'route', 'other'] as const;
export const SEVERITIES = ['info', 'caution', 'threat'] as const;

export const ObservationPost = z.strictObject({
  id: z.uuid(),
  category: z.enum(OBSERVATION_CATEGORIES),
  severity: z.enum(SEVERITIES),
  text: ShortText.optional(),
});
export type ObservationPost = z.infer<typeof ObservationPost>;

export const Observation = ObservationPost.extend({ memberId: MemberId, callsign: Callsign, at: ServerTime });
export type Observation = z.infer<typeof Observation>;

// ---------------------------------------------------------------- plan, snapshot

export const PlanAck = z.strictObject({ version: z.number().int().nonnegative() });
export type PlanAck = z.infer<typeof PlanAck>;

export const SnapshotRequest = z.strictObject({}).prefault({});

export const Snapshot = z.object({
  mission: Mission,
  /** The member this token names: a client learns who it is (its role, its vehicle) from here. */
  self: Member,
  /** TriggerStates for lead, cpo and ops; a driver's own open TriggerCues. */
  triggers: z.array(z.union([TriggerState, TriggerCue])),
  presence: z.array(Presence),
  alerts: z.array(Alert),
  observations: z.array(Observation),
});
export type Snapshot = z.infer<typeof Snapshot>;

// ---------------------------------------------------------------- mission log

export const LOG_KINDS = [
  'mission.created',
  'member.added',
  'member.revoked',
  'member.replaced',
  'member.token-renewed',
  'plan.changed',
  'plan.acked',
  'mission.started',
  'mission.ended',
  'schedule.marked',
  'trigger.issued',
  'trigger.receipt',
  'trigger.answered',
  'trigger.expired',
  'alert.raised',
  'alert.resolved',
  'presence',
  'observation',
  'command.handover',
  'command.resumed',
  'refused',
] as const;
export const LogKind = z.enum(LOG_KINDS);
export type LogKind = z.infer<typeof LogKind>;

export const LogEntry = z.object({
  seq: z.number().int().positive(),
  at: ServerTime,
  kind: LogKind,
  memberId: MemberId.optional(),
  triggerId: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
});
export type LogEntry = z.infer<typeof LogEntry>;

// ---------------------------------------------------------------- handshake and server events

/**
 * The handshake's `auth`: the member's token, the highest cue seq the device holds, and the
 * protocol version its code speaks (native clients that send none are taken to speak this one).
 */
export const HandshakeAuth = z.object({
  token: z.string().min(1).max(256),
  lastSeq: z.number().int().nonnegative().optional(),
  protocol: z.number().int().positive().optional(),
});
export type HandshakeAuth = z.infer<typeof HandshakeAuth>;

export interface ServerToClientEvents {
  trigger: (cue: TriggerCue, receipt: (receipt: Receipt) => void) => void;
  'trigger:expired': (expired: { id: string }) => void;
  'trigger:state': (state: TriggerState) => void;
  alert: (alert: Alert) => void;
  presence: (presence: Presence) => void;
  probe: (probe: Probe, answer: (answer: ProbeAnswer) => void) => void;
  observation: (observation: Observation) => void;
  mission: (mission: Mission) => void;
}
export type { Member };
