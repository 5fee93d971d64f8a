import type { GapSource, Recipient, RecipientState, TriggerRespond, TriggerStatus, TriggerType } from '@lockstep/shared';
import type { Mission } from '@lockstep/shared';
import { refuse, type Result, accept } from '../refusal.ts';
import type { ClockEstimate } from './latency.ts';
import type { RecipientRecord, TriggerRecord } from './trigger-record.ts';

/**
 * docs/PROTOCOL.md §3: a recipient's state only moves forward along this order; `expired` and (§9)
 * `replaced` end it from any state but `answered`, and nothing leaves them.
 */
const FORWARD: Readonly<Record<RecipientState, number>> = {
  pending: 0,
  undelivered: 1,
  delivered: 2,
  hesitation: 3,
  answered: 4,
  expired: 5,
  replaced: 6,
};

const isFinal = (state: RecipientState) => state === 'answered' || state === 'expired' || state === 'replaced';

export function canMove(from: RecipientState, to: RecipientState): boolean {
  if (isFinal(from)) return false;
  if (to === 'expired' || to === 'replaced') return true;
  return FORWARD[to] > FORWARD[from];
}

export const isOpen = (state: RecipientState) => !isFinal(state);

/**
 * docs/PROTOCOL.md §3, a trigger's status; `replaced` recipients do not count (their cue went on to
 * the new driver). A trigger whose target had no driver counts as undelivered.
 */
export function triggerStatus(all: readonly Pick<Recipient, 'state'>[]): TriggerStatus {
  const recipients = all.filter((r) => r.state !== 'replaced');
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

/** How much longer than the server saw the device gap may be (docs/PROTOCOL.md §3). */
const DEVICE_GAP_SLACK_MS = 50;

export interface GapInputs {
  shownAt: number | undefined;
  respondedAt: number | undefined;
  /** Server time the cue was first emitted (its `issuedAt`). */
  emittedAt: number;
  /** Server time the receipt arrived (the answer's, when it came first). */
  deliveredAt: number;
  /** Server time the answer arrived. */
  answeredAt: number;
}

/**
 * docs/PROTOCOL.md §3: the gap on the device's own clock when it is plausible, so no clock
 * offset enters it; otherwise what the server saw between receipt and answer. Plausible is
 * measured from the emission, not the receipt: a receipt the link held back and flushed with
 * the answer must not erase the gap the tablet measured.
 */
export function responseGap(inputs: GapInputs): { gapMs: number; gapSource: GapSource } {
  if (inputs.shownAt !== undefined && inputs.respondedAt !== undefined) {
    const deviceGap = inputs.respondedAt - inputs.shownAt;
    const ceiling = inputs.answeredAt - inputs.emittedAt + DEVICE_GAP_SLACK_MS;
    if (deviceGap >= 0 && deviceGap <= ceiling) return { gapMs: Math.round(deviceGap), gapSource: 'device' };
  }
  return { gapMs: Math.round(Math.max(0, inputs.answeredAt - inputs.deliveredAt)), gapSource: 'server' };
}

/** The most the live deadline waits for the answer's own trip to the server (docs/PROTOCOL.md §3). */
export const UPLINK_ALLOWANCE_CAP_MS = 1000;

/** Half the device's p95 round trip, at most 1 s: how long an answer tapped in time may still be on its way. */
export function uplinkAllowance(rttP95Ms: number | undefined): number {
  return Math.min(UPLINK_ALLOWANCE_CAP_MS, (rttP95Ms ?? 0) / 2);
}

/** What the server knows of a device's link when its receipt arrives. */
export interface DeviceLink {
  clock?: ClockEstimate | undefined;
  rttP95Ms?: number | undefined;
}

/**
 * docs/PROTOCOL.md §3, the live deadline: the moment the device drew the cue, in server time, plus
 * the threshold and the uplink allowance. `drawnAt` is clamped between the emission and the
 * receipt's arrival, where the device must have drawn it, so a stale offset (a clock stepped
 * since the probe) cannot move the deadline outside what the server saw. Without `shownAt`
 * or without an offset to translate it, the receipt's arrival stands in, as before v1.1.
 */
export function liveDeadline(
  trigger: Pick<TriggerRecord, 'issuedAt' | 'thresholdMs'>,
  shownAt: number | undefined,
  deliveredAt: number,
  link: DeviceLink,
): { drawnAt: number | undefined; dueAt: number } {
  if (shownAt === undefined || link.clock === undefined) return { drawnAt: undefined, dueAt: deliveredAt + trigger.thresholdMs };
  const drawnAt = Math.round(Math.min(deliveredAt, Math.max(trigger.issuedAt, shownAt - link.clock.offsetMs)));
  return { drawnAt, dueAt: Math.round(drawnAt + trigger.thresholdMs + uplinkAllowance(link.rttP95Ms)) };
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

/**
 * The receipt: the first one moves a pending or undelivered recipient to delivered and sets
 * its live deadline; later ones change nothing.
 */
export function recordReceipt(
  trigger: TriggerRecord,
  memberId: string,
  shownAt: number | undefined,
  networkMs: number | undefined,
  now: number,
  link: DeviceLink = {},
): Transition {
  return withRecipient(trigger, memberId, (r) => {
    if (r.deliveredAt !== undefined || !canMove(r.state, 'delivered')) return undefined;
    const { drawnAt, dueAt } = liveDeadline(trigger, shownAt, now, link);
    return { ...r, state: 'delivered', deliveredAt: now, shownAt, networkMs, drawnAt, hesitationDueAt: dueAt };
  });
}

/** Deadline `issuedAt + threshold`: still no receipt. */
export function markUndelivered(trigger: TriggerRecord, memberId: string, now: number): Transition {
  if (now < trigger.issuedAt + trigger.thresholdMs) return { trigger, changed: [] };
  return withRecipient(trigger, memberId, (r) => (r.state === 'pending' ? { ...r, state: 'undelivered' } : undefined));
}

/** When a delivered recipient becomes a live hesitation; records from before v1.1 carry no deadline of their own. */
export function hesitationDueAt(trigger: Pick<TriggerRecord, 'thresholdMs'>, r: RecipientRecord): number | undefined {
  return r.hesitationDueAt ?? (r.deliveredAt === undefined ? undefined : r.deliveredAt + trigger.thresholdMs);
}

/** The live deadline (see `liveDeadline`): delivered and still unanswered, the live hesitation. */
export function markHesitation(trigger: TriggerRecord, memberId: string, now: number): Transition {
  return withRecipient(trigger, memberId, (r) => {
    const dueAt = hesitationDueAt(trigger, r);
    if (r.state !== 'delivered' || dueAt === undefined || now < dueAt) return undefined;
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
  /** The hesitation was not raised live (e.g. the answer came before the live deadline, or without a receipt). */
  hesitationFirstSeen: boolean;
  /** A live hesitation the answer disproves: its alert is withdrawn. */
  hesitationWithdrawn: boolean;
}

/**
 * The driver's answer. Checks in the order of docs/PROTOCOL.md §4: not addressed to this member → not_found;
 * stale or expired → expired; answered already → conflict.
 */
export function recordAnswer(trigger: TriggerRecord, memberId: string, answer: TriggerRespond, now: number): Result<AnswerOutcome> {
  const current = trigger.recipients.find((r) => r.memberId === memberId);
  // A driver swapped out (§9) no longer holds the cue: it went on to the new driver.
  if (!current || current.state === 'replaced') return refuse('not_found', 'no such cue for this device');
  if (current.state === 'expired' || (current.state !== 'answered' && now >= trigger.staleAt)) {
    return refuse('expired', 'this cue went stale and can no longer be answered');
  }
  if (current.state === 'answered') return refuse('conflict', 'this cue was already answered; the first answer stands');
  // An answer without a receipt proves delivery: it counts as the receipt too.
  const deliveredAt = current.deliveredAt ?? now;
  const { gapMs, gapSource } = responseGap({
    shownAt: answer.shownAt ?? current.shownAt,
    respondedAt: answer.respondedAt,
    emittedAt: trigger.issuedAt,
    deliveredAt,
    answeredAt: now,
  });
  // Exactly the gap against the threshold: a live alert was a forecast, the answer is the fact.
  const hesitation = gapMs > trigger.thresholdMs;
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
  return accept({
    ...transition,
    recipient,
    hesitationFirstSeen: hesitation && !current.hesitation,
    hesitationWithdrawn: current.hesitation && !hesitation,
  });
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

/**
 * §9: the cue passes from a swapped-out driver to the new one. The old recipient ends
 * `replaced` (unless it answered or expired); the new one starts `pending` with seq 0, for the
 * store to give it the new driver's next seq. Nothing changes for a cue that is no longer open.
 */
export function handOverCue(
  trigger: TriggerRecord,
  fromMemberId: string,
  to: Pick<RecipientRecord, 'memberId' | 'callsign' | 'vehicleId'>,
  now: number,
): Transition {
  const from = trigger.recipients.find((r) => r.memberId === fromMemberId);
  if (!from || !canMove(from.state, 'replaced') || now >= trigger.staleAt) return { trigger, changed: [] };
  if (trigger.recipients.some((r) => r.memberId === to.memberId)) return { trigger, changed: [] };
  const replaced: RecipientRecord = { ...from, state: 'replaced' };
  const added: RecipientRecord = { ...to, state: 'pending', hesitation: false, seq: 0 };
  return {
    trigger: { ...trigger, recipients: [...trigger.recipients.map((r) => (r === from ? replaced : r)), added] },
    changed: [replaced, added],
  };
}
