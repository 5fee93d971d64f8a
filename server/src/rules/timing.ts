import type { GapSource, Recipient, RecipientState, TriggerRespond, TriggerStatus, TriggerType } from '@lockstep/shared';
import type { Mission } from '@lockstep/shared';
import { refuse, type Result, accept } from '../refusal.ts';
import type { RecipientRecord, TriggerRecord } from './trigger-record.ts';

/** docs/PROTOCOL.md §3: a recipient's state only moves forward along this order; `expired` is reachable from any state but `answered`. */
const FORWARD: Readonly<Record<RecipientState, number>> = {
  pending: 0,
  undelivered: 1,
  delivered: 2,
  hesitation: 3,
  answered: 4,
  expired: 5,
};

export function canMove(from: RecipientState, to: RecipientState): boolean {
  if (from === 'expired' || from === 'answered') return false;
  if (to === 'expired') return true;
  return FORWARD[to] > FORWARD[from];
}

export const isOpen = (state: RecipientState) => state !== 'answered' && state !== 'expired';

/** docs/PROTOCOL.md §3, a trigger's status. A trigger whose target had no driver counts as undelivered. */
export function triggerStatus(recipients: readonly Pick<Recipient, 'state'>[]): TriggerStatus {
  if (recipients.length === 0) return 'undelivered';
  const states = new Set(recipients.map((r) => r.state));
  if (states.has('hesitation')) return 'hesitation';
  if (states.has('undelivered')) return 'undelivered';
  if (states.has('pending')) return 'pending';
  if (states.has('delivered')) return 'delivered';
  if (states.has('answered') && !states.has('expired')) return 'answered';
  return 'expired';
}

export function thresholdFor(settings: Mission['settings'], type: TriggerType): number {
  return settings.thresholds[type] ?? settings.thresholds.default;
}

export function staleMsFor(settings: Mission['settings'], type: TriggerType): number {
  return settings.staleMs[type] ?? settings.staleMs.default;
}

/** How much slack the device gap gets over what the server saw, beyond the device's RTT. */
const DEVICE_GAP_SLACK_MS = 50;

export interface GapInputs {
  shownAt: number | undefined;
  respondedAt: number | undefined;
  /** Server time the receipt arrived. */
  deliveredAt: number;
  /** Server time the answer arrived. */
  answeredAt: number;
  rttMs: number | undefined;
}

/**
 * docs/PROTOCOL.md §3: the gap on the device's own clock when it is plausible, so no clock
 * offset enters it; otherwise what the server saw between receipt and answer.
 */
export function responseGap(inputs: GapInputs): { gapMs: number; gapSource: GapSource } {
  const serverGap = Math.max(0, inputs.answeredAt - inputs.deliveredAt);
  if (inputs.shownAt !== undefined && inputs.respondedAt !== undefined) {
    const deviceGap = inputs.respondedAt - inputs.shownAt;
    const ceiling = serverGap + (inputs.rttMs ?? 0) + DEVICE_GAP_SLACK_MS;
    if (deviceGap >= 0 && deviceGap <= ceiling) return { gapMs: Math.round(deviceGap), gapSource: 'device' };
  }
  return { gapMs: Math.round(serverGap), gapSource: 'server' };
}

/** A transition's outcome: the new record and the recipients whose state it changed. */
export interface Transition {
  trigger: TriggerRecord;
  changed: RecipientRecord[];
}

function withRecipient(trigger: TriggerRecord, memberId: string, update: (r: RecipientRecord) => RecipientRecord | undefined): Transition {
  const changed: RecipientRecord[] = [];
  const recipients = trigger.recipients.map((r) => {
    if (r.memberId !== memberId) return r;
    const next = update(r);
    if (!next) return r;
    changed.push(next);
    return next;
  });
  return { trigger: changed.length ? { ...trigger, recipients } : trigger, changed };
}

/** The receipt: the first one moves a pending or undelivered recipient to delivered; later ones change nothing. */
export function recordReceipt(
  trigger: TriggerRecord,
  memberId: string,
  shownAt: number | undefined,
  networkMs: number | undefined,
  now: number,
): Transition {
  return withRecipient(trigger, memberId, (r) => {
    if (r.deliveredAt !== undefined || !canMove(r.state, 'delivered')) return undefined;
    return { ...r, state: 'delivered', deliveredAt: now, shownAt, networkMs };
  });
}

/** Deadline `issuedAt + threshold`: still no receipt. */
export function markUndelivered(trigger: TriggerRecord, memberId: string, now: number): Transition {
  if (now < trigger.issuedAt + trigger.thresholdMs) return { trigger, changed: [] };
  return withRecipient(trigger, memberId, (r) => (r.state === 'pending' ? { ...r, state: 'undelivered' } : undefined));
}

/** Deadline `deliveredAt + threshold`: delivered and still unanswered, the live hesitation. */
export function markHesitation(trigger: TriggerRecord, memberId: string, now: number): Transition {
  return withRecipient(trigger, memberId, (r) => {
    if (r.state !== 'delivered' || r.deliveredAt === undefined || now < r.deliveredAt + trigger.thresholdMs) return undefined;
    return { ...r, state: 'hesitation', hesitation: true };
  });
}

/** Deadline `staleAt`: every recipient that has not answered is expired. */
export function expire(trigger: TriggerRecord, now: number): Transition {
  if (now < trigger.staleAt) return { trigger, changed: [] };
  const changed: RecipientRecord[] = [];
  const recipients = trigger.recipients.map((r) => {
    if (!canMove(r.state, 'expired')) return r;
    const next: RecipientRecord = { ...r, state: 'expired' };
    changed.push(next);
    return next;
  });
  return { trigger: changed.length ? { ...trigger, recipients } : trigger, changed };
}

export interface AnswerOutcome extends Transition {
  recipient: RecipientRecord;
  /** The hesitation was not raised live (e.g. the device gap exceeded the threshold while the server's did not). */
  hesitationFirstSeen: boolean;
}

/**
 * The driver's answer. Checks in the order of docs/PROTOCOL.md §4: not addressed to this member → not_found;
 * stale or expired → expired; answered already → conflict.
 */
export function recordAnswer(
  trigger: TriggerRecord,
  memberId: string,
  answer: TriggerRespond,
  rttMs: number | undefined,
  now: number,
): Result<AnswerOutcome> {
  const current = trigger.recipients.find((r) => r.memberId === memberId);
  if (!current) return refuse('not_found', 'no such cue for this device');
  if (current.state === 'expired' || (current.state !== 'answered' && now >= trigger.staleAt)) {
    return refuse('expired', 'this cue went stale and can no longer be answered');
  }
  if (current.state === 'answered') return refuse('conflict', 'this cue was already answered; the first answer stands');
  // An answer without a receipt proves delivery: it counts as the receipt too.
  const deliveredAt = current.deliveredAt ?? now;
  const { gapMs, gapSource } = responseGap({
    shownAt: answer.shownAt ?? current.shownAt,
    respondedAt: answer.respondedAt,
    deliveredAt,
    answeredAt: now,
    rttMs,
  });
  const hesitation = current.hesitation || gapMs > trigger.thresholdMs;
  const recipient: RecipientRecord = {
    ...current,
    state: 'answered',
    deliveredAt,
    shownAt: answer.shownAt ?? current.shownAt,
    response: answer.response,
    ...(answer.reason ? { reason: answer.reason } : {}),
    gapMs,
    gapSource,
    hesitation,
  };
  const transition = withRecipient(trigger, memberId, () => recipient);
  return accept({ ...transition, recipient, hesitationFirstSeen: hesitation && !current.hesitation });
}

/**
 * Two versions of one trigger, written apart (one through a node's outage journal, one in
 * Redis by other nodes): each recipient keeps whichever state is further along, so replaying
 * a journal can never move a recipient back.
 */
export function mergeTriggers(stored: TriggerRecord, journaled: TriggerRecord): TriggerRecord {
  const further = (a: RecipientRecord, b: RecipientRecord) => (a.state === b.state || !canMove(a.state, b.state) ? a : b);
  const recipients = stored.recipients.map((r) => {
    const other = journaled.recipients.find((j) => j.memberId === r.memberId);
    return other ? further(r, other) : r;
  });
  return recipients.every((r, i) => r === stored.recipients[i]) ? stored : { ...stored, recipients };
}
