import type { ErrorCode } from '@lockstep/shared';
import { type Connection, type PayloadOf, RETRYABLE_CODES, type ReplyOf } from './lockstep-client.ts';
import type { Shelf } from './storage.ts';

/**
 * What a tap sent that the server has not acknowledged yet: a fired trigger on the handset, an
 * answer on the tablet, an observation, a plan ack, a leg marked done. A tap is never lost: each is kept on a shelf (session storage) and sent
 * again with the same id (the server's idempotency key) until the server answers `ok`, or refuses
 * it for a reason that a retry cannot change. One request per id is in flight at a time, so a
 * reconnect and a retry tick never send it twice at once.
 */

/** The events a tap sends and that must arrive once. */
export type OutboxEvent = 'trigger:issue' | 'trigger:respond' | 'observation:post' | 'plan:ack' | 'schedule:mark';

export interface OutboxEntry<E extends OutboxEvent, Note> {
  payload: PayloadOf<E>;
  /** What the page needs to tell the user about it later (a label, when the cue was issued). */
  note: Note;
  /** Device wall time of the tap. */
  queuedAt: number;
  attempts: number;
}

export type Settled<E extends OutboxEvent, Note> =
  | { entry: OutboxEntry<E, Note>; outcome: 'accepted'; reply: Extract<ReplyOf<E>, { ok: true }> }
  | { entry: OutboxEntry<E, Note>; outcome: 'refused'; code: ErrorCode }
  | { entry: OutboxEntry<E, Note>; outcome: 'too-late' };

export interface OutboxOptions<E extends OutboxEvent, Note> {
  event: E;
  connection: Pick<Connection, 'state' | 'onState' | 'request'>;
  shelf: Shelf<OutboxEntry<E, Note>[]>;
  /** The idempotency key of a payload. */
  idOf(payload: PayloadOf<E>): string;
  /**
   * How long after the tap it still means something; one that could not be sent in that time is
   * dropped and reported, never delivered late as if it were fresh. Without it, it waits for ever.
   */
  staleMs?(payload: PayloadOf<E>): number;
  settled(settled: Settled<E, Note>): void;
  /** Sends again on this period as well as on every reconnect; without it, only on reconnect and on a new tap. */
  retryEveryMs?: number;
  now?: () => number;
}

/** The shape check for what a shelf read back; the payloads are this page's own, written by `send`. */
export function isOutboxEntries<E extends OutboxEvent, Note>(value: unknown): value is OutboxEntry<E, Note>[] {
  return (
    Array.isArray(value) && value.every((e) => typeof e === 'object' && e !== null && 'payload' in e && 'queuedAt' in e && 'attempts' in e)
  );
}

export class Outbox<E extends OutboxEvent, Note> {
  readonly #options: OutboxOptions<E, Note>;
  readonly #now: () => number;
  #entries: OutboxEntry<E, Note>[];
  readonly #inFlight = new Set<string>();

  constructor(options: OutboxOptions<E, Note>) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#entries = options.shelf.load() ?? [];
    options.connection.onState((state) => {
      if (state === 'online') this.flush();
    });
    if (options.retryEveryMs !== undefined) setInterval(() => this.flush(), options.retryEveryMs);
  }

  get entries(): readonly OutboxEntry<E, Note>[] {
    return this.#entries;
  }

  send(payload: PayloadOf<E>, note: Note): void {
    this.#entries = [...this.#entries, { payload, note, queuedAt: this.#now(), attempts: 0 }];
    this.#save();
    this.flush();
  }

  flush(): void {
    const { connection, event, idOf, staleMs } = this.#options;
    for (const entry of this.#entries) {
      if (staleMs && this.#now() - entry.queuedAt > staleMs(entry.payload)) {
        this.#settle({ entry, outcome: 'too-late' });
        continue;
      }
      const id = idOf(entry.payload);
      if (this.#inFlight.has(id) || connection.state !== 'online') continue;
      this.#inFlight.add(id);
      entry.attempts += 1;
      connection
        .request(event, entry.payload)
        .then((reply) => {
          if (reply.ok) this.#settle({ entry, outcome: 'accepted', reply: reply as Extract<ReplyOf<E>, { ok: true }> });
          else if (!RETRYABLE_CODES.has(reply.error.code)) this.#settle({ entry, outcome: 'refused', code: reply.error.code });
        })
        // Lost in transit or timed out: the next flush sends it again with the same id.
        .catch(() => undefined)
        .finally(() => this.#inFlight.delete(id));
    }
  }

  #settle(settled: Settled<E, Note>) {
    if (!this.#entries.includes(settled.entry)) return;
    this.#entries = this.#entries.filter((e) => e !== settled.entry);
    this.#save();
    this.#options.settled(settled);
  }

  #save() {
    this.#options.shelf.save(this.#entries);
  }
}
