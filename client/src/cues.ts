import type { TriggerCue, UnableReason } from '@lockstep/shared';
import { URGENCY, URGENCY_RANK } from './format.ts';
import type { PayloadOf } from './lockstep-client.ts';
import type { Shelf } from './storage.ts';

/**
 * The driver tablet's cues, without the screen: which are held (open, waiting for an answer),
 * which one takes the screen, which were answered or missed, and what survives a reload. A cue
 * is taken in at most once per id, and one that expired is listed as MISSED, never shown as an order.
 */

export type Answer = PayloadOf<'trigger:respond'>;

export interface HeldCue {
  cue: TriggerCue;
  /** Resolves with the device time of the frame that first drew the cue. */
  shown: Promise<number>;
  shownAt?: number;
  /** Device time it reached this page, to tell it apart from what a snapshot may not know yet. */
  arrivedAt: number;
}

/** A cue that expired before it was answered: listed as MISSED, never shown as an order. */
export interface MissedCue {
  id: string;
  label: string;
  issuedAt: number;
}

/** What the screen needs about an answer on its way, if the server refuses it as too late. */
export type AnswerNote = Omit<MissedCue, 'id'>;

/** What survives a reload of the tab: the handshake's lastSeq, the open cues, what was closed. */
export interface DriverMemory {
  lastSeq: number;
  open: { cue: TriggerCue; shownAt: number }[];
  /** Ids answered or missed, so that a replay of one is dropped. */
  closed: string[];
  missed: MissedCue[];
  routeId?: string;
  /** The plan version this tablet acked: the protocol tells a device who it is nowhere, so it keeps its own. */
  planAcked?: number;
}

export const isDriverMemory = (value: unknown): value is DriverMemory =>
  typeof value === 'object' &&
  value !== null &&
  'lastSeq' in value &&
  typeof value.lastSeq === 'number' &&
  ['open', 'closed', 'missed'].every((key) => Array.isArray((value as Record<string, unknown>)[key]));

/**
 * What became of a cue that arrived: `shown` takes the screen (sound the tone), `replayed` is one
 * already held, `missed` had expired on the way, `dropped` was answered or missed before. `shown`
 * resolves with the time of the frame that draws it, for the receipt; a dropped cue has no frame.
 */
export type Intake = { outcome: 'shown' | 'replayed' | 'missed'; shown: Promise<number> } | { outcome: 'dropped'; shown?: undefined };

export interface DriverCuesOptions {
  shelf: Shelf<DriverMemory>;
  /** Device time, as the protocol wants it. */
  now: () => number;
  /** The device time of the next frame drawn, the one that carries the screen just changed. */
  nextFrame: () => Promise<number>;
}

const CLOSED_KEPT = 100;
const MISSED_SHOWN = 3;

export class DriverCues {
  readonly memory: DriverMemory;
  readonly #held = new Map<string, HeldCue>();
  readonly #options: DriverCuesOptions;

  constructor(options: DriverCuesOptions) {
    this.#options = options;
    this.memory = options.shelf.load() ?? { lastSeq: 0, open: [], closed: [], missed: [] };
    for (const { cue, shownAt } of this.memory.open)
      this.#held.set(cue.id, { cue, shown: Promise.resolve(shownAt), shownAt, arrivedAt: 0 });
  }

  /** The handshake's lastSeq: the highest cue seq seen, or none before the first. */
  get lastSeq(): number | undefined {
    return this.memory.lastSeq > 0 ? this.memory.lastSeq : undefined;
  }

  get held(): readonly HeldCue[] {
    return [...this.#held.values()];
  }

  /** The most recent missed cues, oldest first. */
  get missed(): readonly MissedCue[] {
    return this.memory.missed;
  }

  /** The cue that holds the screen: the most urgent, then the newest. */
  onScreen(): HeldCue | undefined {
    let best: HeldCue | undefined;
    for (const c of this.#held.values()) {
      const rank = best ? URGENCY_RANK[URGENCY[c.cue.type]] - URGENCY_RANK[URGENCY[best.cue.type]] : 1;
      if (!best || rank > 0 || (rank === 0 && c.cue.seq > best.cue.seq)) best = c;
    }
    return best;
  }

  receive(cue: TriggerCue): Intake {
    this.memory.lastSeq = Math.max(this.memory.lastSeq, cue.seq);
    const known = this.#held.get(cue.id);
    if (known) return { outcome: 'replayed', shown: known.shown };
    if (this.memory.closed.includes(cue.id)) {
      this.#remember();
      return { outcome: 'dropped' };
    }
    if (cue.expired) {
      this.#close(cue.id);
      this.addMissed({ id: cue.id, label: cue.label, issuedAt: cue.issuedAt });
      return { outcome: 'missed', shown: this.#options.nextFrame() };
    }
    const entry: HeldCue = { cue, shown: this.#options.nextFrame(), arrivedAt: this.#options.now() };
    this.#held.set(cue.id, entry);
    void entry.shown.then((shownAt) => {
      entry.shownAt = shownAt;
      this.#remember();
    });
    return { outcome: 'shown', shown: entry.shown };
  }

  /** The server says the cue expired: it stops being an order. Answers whether the screen changed. */
  expire(id: string): boolean {
    const entry = this.#held.get(id);
    if (!entry) return false;
    this.#close(id);
    this.addMissed({ id, label: entry.cue.label, issuedAt: entry.cue.issuedAt });
    return true;
  }

  /**
   * After a snapshot: a cue held from before it was asked for but no longer open on the server
   * expired while this page was away.
   */
  reconcile(openIds: ReadonlySet<string>, requestedAt: number): void {
    for (const entry of [...this.#held.values()])
      if (entry.arrivedAt < requestedAt && !openIds.has(entry.cue.id)) this.expire(entry.cue.id);
  }

  /** The driver's one tap: closes the cue and gives the answer to send, or nothing for a cue not held. */
  answer(id: string, response: Answer['response'], reason?: UnableReason): { payload: Answer; note: AnswerNote } | undefined {
    const entry = this.#held.get(id);
    if (!entry) return undefined;
    const { cue } = entry;
    const payload: Answer = {
      triggerId: cue.id,
      response,
      ...(reason ? { reason } : {}),
      ...(entry.shownAt === undefined ? {} : { shownAt: entry.shownAt }),
      respondedAt: this.#options.now(),
    };
    if (response === 'ack' && cue.type === 'alt-route' && cue.params.routeId) this.memory.routeId = cue.params.routeId;
    this.#close(id);
    this.#remember();
    return { payload, note: { label: cue.label, issuedAt: cue.issuedAt } };
  }

  addMissed(missed: MissedCue): void {
    this.memory.missed = [...this.memory.missed, missed].slice(-MISSED_SHOWN);
    this.#remember();
  }

  planAcked(version: number): void {
    this.memory.planAcked = Math.max(this.memory.planAcked ?? 0, version);
    this.#remember();
  }

  #close(id: string) {
    this.#held.delete(id);
    this.memory.closed = [...this.memory.closed, id].slice(-CLOSED_KEPT);
  }

  #remember() {
    this.memory.open = this.held.flatMap((c) => (c.shownAt === undefined ? [] : [{ cue: c.cue, shownAt: c.shownAt }]));
    this.#options.shelf.save(this.memory);
  }
}
