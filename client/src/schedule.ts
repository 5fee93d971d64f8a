import type { ErrorCode, Member, Mission, ScheduleLeg } from '@lockstep/shared';
import { ROLE_AUTHORITY } from '@lockstep/shared/constants';
import { driftAmount, wholeSpan } from './format.ts';
import type { Connection } from './lockstep-client.ts';
import { Outbox, type OutboxEntry, type Settled } from './outbox.ts';
import type { Shelf } from './storage.ts';

/**
 * The schedule's cascade as the board and the handset read it (docs/PROTOCOL.md §10), without the
 * DOM: which leg is next, how late a leg stands against the mission's allowance, the words for it,
 * and the one-tap mark, which must arrive even when it was tapped in a tunnel.
 */

/** On time (or early), late within `scheduleDriftMs`, or late beyond it: the three colours of the strip. */
export type DriftLevel = 'on-time' | 'late' | 'too-late';

/** Under a second is on time: a leg is marked by a thumb, and "+0 s late" in amber would be noise. */
const ON_TIME_BELOW_MS = 1000;

/** Beyond the allowance is exactly when the server raises `schedule-drift` (§3), so the red and the alert agree. */
export const driftLevel = (driftMs: number, allowedMs: number): DriftLevel =>
  driftMs < ON_TIME_BELOW_MS ? 'on-time' : driftMs <= allowedMs ? 'late' : 'too-late';

/** A drift as the screens write it (in capitals by their style): `on time`, `+7 min late`, `2 min early`. */
export function driftText(driftMs: number): string {
  if (Math.abs(driftMs) < ON_TIME_BELOW_MS) return 'on time';
  return driftMs > 0 ? `+${driftAmount(driftMs)} late` : `${driftAmount(driftMs)} early`;
}

/** The same drift in the earpiece: "seven minutes late", never an abbreviation a voice misreads. */
export function spokenDrift(driftMs: number): string {
  if (Math.abs(driftMs) < ON_TIME_BELOW_MS) return 'on time';
  const { hours, minutes, seconds } = wholeSpan(driftMs);
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const amount = hours
    ? [unit(hours, 'hour'), minutes ? unit(minutes, 'minute') : ''].filter(Boolean).join(' ')
    : minutes
      ? unit(minutes, 'minute')
      : unit(seconds, 'second');
  return `${amount} ${driftMs > 0 ? 'late' : 'early'}`;
}

/** The legs of the mission in plan order; empty when its plan has no schedule. */
export const legsOf = (mission: Mission | undefined): readonly ScheduleLeg[] => mission?.schedule ?? [];

/**
 * The leg to mark next: the one after the latest leg marked (or being marked from this screen). A
 * leg left unmarked before it stays so; the detail has moved past it.
 */
export function nextLeg(legs: readonly ScheduleLeg[], pending: ReadonlySet<string> = new Set()): ScheduleLeg | undefined {
  const last = legs.findLastIndex((l) => l.actualAt !== undefined || pending.has(l.leg));
  return legs[last + 1];
}

/** The latest leg marked: what the handset names as done. */
export const lastDone = (legs: readonly ScheduleLeg[]): ScheduleLeg | undefined => legs.findLast((l) => l.actualAt !== undefined);

/**
 * An unmarked leg whose time, planned and projected, has come and gone: the projection moves only
 * with marks, so the screens say it. It is at least as late as the time since it was planned.
 */
export const overdue = (leg: ScheduleLeg, now: number): boolean =>
  leg.actualAt === undefined && now > Math.max(leg.plannedAt, leg.projectedAt);

/** Who may send `schedule:mark` (§5): lead, cpo and ops, the ones who watch the whole mission. The server decides; this lays out the screen. */
export const mayMarkSchedule = (self: Member | undefined): boolean => self !== undefined && ROLE_AUTHORITY[self.role].watches;

// ---------------------------------------------------------------- marking

export type MarkEntry = OutboxEntry<'schedule:mark', undefined>;

/** What became of a mark: the leg as the server now has it, or why it was not taken. */
export type MarkResult = { leg: string; outcome: 'marked'; marked: ScheduleLeg } | { leg: string; outcome: 'refused'; code: ErrorCode };

export interface MarkerOptions {
  connection: Pick<Connection, 'state' | 'onState' | 'request'>;
  /** Where unsent marks wait (session storage), so a reload in a tunnel keeps them. */
  shelf: Shelf<MarkEntry[]>;
  /** The mission as this screen knows it now: a `conflict` is our own mark if the leg carries our time. */
  mission(): Mission | undefined;
  settled(result: MarkResult): void;
  retryEveryMs?: number;
}

/**
 * Sends `schedule:mark` through an outbox with the moment of the tap (on the server's clock), so
 * a mark kept while the link is down records when the leg happened, not when the link came back.
 * `schedule:mark` has no idempotency key: a retry whose first attempt did arrive is answered
 * `conflict`, and is recognised as ours by the time the leg now carries.
 */
export class ScheduleMarker {
  readonly #outbox: Outbox<'schedule:mark', undefined>;
  readonly #options: MarkerOptions;

  constructor(options: MarkerOptions) {
    this.#options = options;
    this.#outbox = new Outbox<'schedule:mark', undefined>({
      event: 'schedule:mark',
      connection: options.connection,
      shelf: options.shelf,
      idOf: (mark) => mark.leg,
      settled: (settled) => options.settled(this.#result(settled)),
      ...(options.retryEveryMs === undefined ? {} : { retryEveryMs: options.retryEveryMs }),
    });
  }

  /** `at`: the tap, in server time. A second tap on a leg still being marked adds nothing. */
  mark(leg: string, at: number): void {
    if (this.pending().has(leg)) return;
    this.#outbox.send({ leg, at: Math.floor(at) }, undefined);
  }

  /** The legs marked here that the server has not answered yet. */
  pending(): ReadonlySet<string> {
    return new Set(this.#outbox.entries.map((e) => e.payload.leg));
  }

  #result(settled: Settled<'schedule:mark', undefined>): MarkResult {
    const { leg, at } = settled.entry.payload;
    if (settled.outcome === 'accepted') {
      const marked = settled.reply.schedule.find((l) => l.leg === leg);
      if (marked) return { leg, outcome: 'marked', marked };
    }
    const known = legsOf(this.#options.mission()).find((l) => l.leg === leg);
    if (settled.outcome === 'refused' && settled.code === 'conflict' && known !== undefined && known.actualAt === at)
      return { leg, outcome: 'marked', marked: known };
    // Without a stale time nothing is dropped as too late; an accepted reply without the leg is the server's fault.
    return { leg, outcome: 'refused', code: settled.outcome === 'refused' ? settled.code : 'internal' };
  }
}
