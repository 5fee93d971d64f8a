import type { Alert, GapSummary } from '@lockstep/shared';
import type { RecipientRecord, TriggerRecord } from '../rules/trigger-record.ts';

/** The counts of docs/PROTOCOL.md §8 over a set of recipients of cues, and the answered gaps behind `gapMs`. */
export interface Tally {
  cues: number;
  answered: number;
  ack: number;
  unable: number;
  sayAgain: number;
  hesitations: number;
  undelivered: number;
  expired: number;
  replaced: number;
  lostMs: number;
  gaps: number[];
}

export const emptyTally = (): Tally => ({
  cues: 0,
  answered: 0,
  ack: 0,
  unable: 0,
  sayAgain: 0,
  hesitations: 0,
  undelivered: 0,
  expired: 0,
  replaced: 0,
  lostMs: 0,
  gaps: [],
});

/** One recipient of one cue, as the report reads it. */
export interface CueOutcome {
  trigger: TriggerRecord;
  recipient: RecipientRecord;
  /** An `undelivered` alert was raised for this recipient: it was undelivered at some point, whatever came after. */
  everUndelivered: boolean;
}

/** Every recipient of every cue, in the order the cues were issued. */
export function cueOutcomes(triggers: readonly TriggerRecord[], alerts: readonly Alert[]): CueOutcome[] {
  const undelivered = new Set(
    alerts.filter((a) => a.kind === 'undelivered' && a.memberId !== undefined).map((a) => `${a.triggerId}|${a.memberId}`),
  );
  return [...triggers]
    .sort((a, b) => a.issuedAt - b.issuedAt)
    .flatMap((trigger) =>
      trigger.recipients.map((recipient) => ({
        trigger,
        recipient,
        everUndelivered: undelivered.has(`${trigger.id}|${recipient.memberId}`),
      })),
    );
}

/** Seconds lost to hesitation on one answered cue: the part of the gap beyond the threshold. */
export const lostOn = (outcome: CueOutcome): number =>
  outcome.recipient.gapMs === undefined ? 0 : Math.max(0, outcome.recipient.gapMs - outcome.trigger.thresholdMs);

export function tally(outcomes: Iterable<CueOutcome>, into: Tally = emptyTally()): Tally {
  for (const outcome of outcomes) {
    const r = outcome.recipient;
    into.cues++;
    if (r.hesitation) into.hesitations++;
    if (outcome.everUndelivered) into.undelivered++;
    if (r.state === 'expired') into.expired++;
    if (r.state === 'replaced') into.replaced++;
    if (r.state !== 'answered') continue;
    into.answered++;
    if (r.response === 'ack') into.ack++;
    else if (r.reason === 'say-again') into.sayAgain++;
    else into.unable++;
    if (r.gapMs !== undefined) into.gaps.push(r.gapMs);
    into.lostMs += lostOn(outcome);
  }
  return into;
}

/** Nearest rank: the ⌈q·n⌉-th smallest, in integer arithmetic so 90 % of 30 is the 27th, not the 28th. */
function nearestRank(sorted: readonly number[], percent: number): number {
  const rank = Math.max(1, Math.ceil((percent * sorted.length) / 100));
  return sorted[rank - 1] ?? Number.NaN;
}

/** Median, p90 and max of the answered gaps; undefined when nothing was answered. */
export function gapSummary(gaps: readonly number[]): GapSummary | undefined {
  if (gaps.length === 0) return undefined;
  const sorted = [...gaps].sort((a, b) => a - b);
  return { median: nearestRank(sorted, 50), p90: nearestRank(sorted, 90), max: sorted[sorted.length - 1] ?? Number.NaN };
}

/** The tally in the report's shape: the counts, `lostMs`, and `gapMs` when anything was answered. */
export function figures(t: Tally) {
  const { gaps, ...counts } = t;
  const gapMs = gapSummary(gaps);
  return { ...counts, ...(gapMs ? { gapMs } : {}) };
}

/** One answered gap on the mission's clock, for the report's chart. */
export interface GapPoint {
  at: number;
  gapMs: number;
  thresholdMs: number;
  callsign: string;
  hesitation: boolean;
}

export function gapPoints(outcomes: readonly CueOutcome[]): GapPoint[] {
  return outcomes.flatMap(({ trigger, recipient }) =>
    recipient.gapMs === undefined
      ? []
      : [
          {
            at: trigger.issuedAt,
            gapMs: recipient.gapMs,
            thresholdMs: trigger.thresholdMs,
            callsign: recipient.callsign,
            hesitation: recipient.hesitation,
          },
        ],
  );
}
