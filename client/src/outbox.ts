import type { ErrorCode, TriggerIssueInput, TriggerState } from '@lockstep/shared';
import { RETRYABLE_CODES, type Connection } from './lockstep-client.ts';
import { loadJson, saveJson } from './storage.ts';

/**
 * Fired triggers that the server has not acknowledged yet. A tap is never lost: each issue is
 * kept in session storage and sent again with the same id (the server's idempotency key) until
 * the server answers `ok`, or refuses it for a reason that a retry cannot change.
 */

export interface OutboxEntry {
  issue: TriggerIssueInput;
  /** Device wall time of the tap. */
  firedAt: number;
  attempts: number;
}

export type Settled =
  | { issue: TriggerIssueInput; outcome: 'accepted'; trigger: TriggerState }
  | { issue: TriggerIssueInput; outcome: 'refused' | 'too-late'; code?: ErrorCode };

const OUTBOX_KEY = 'lockstep.cpo.outbox';
const RETRY_EVERY_MS = 1000;

const isOutbox = (value: unknown): value is OutboxEntry[] =>
  Array.isArray(value) && value.every((e) => typeof e === 'object' && e !== null && 'issue' in e && 'firedAt' in e);

export class Outbox {
  #entries: OutboxEntry[] = loadJson(sessionStorage, OUTBOX_KEY, isOutbox) ?? [];
  readonly #inFlight = new Set<string>();

  /**
   * @param staleMs how long after the tap an order still means something; an issue that could not be
   *   sent in that time is dropped and reported, never delivered late as if it were fresh.
   */
  constructor(
    private readonly connection: Connection,
    private readonly staleMs: (issue: TriggerIssueInput) => number,
    private readonly settled: (settled: Settled) => void,
  ) {
    connection.onState((state) => {
      if (state === 'online') this.flush();
    });
    setInterval(() => this.flush(), RETRY_EVERY_MS);
  }

  get entries(): readonly OutboxEntry[] {
    return this.#entries;
  }

  fire(issue: TriggerIssueInput): void {
    this.#entries = [...this.#entries, { issue, firedAt: Date.now(), attempts: 0 }];
    this.#save();
    this.flush();
  }

  flush(): void {
    for (const entry of this.#entries) {
      if (Date.now() - entry.firedAt > this.staleMs(entry.issue)) {
        this.#settle(entry, { issue: entry.issue, outcome: 'too-late' });
        continue;
      }
      if (this.#inFlight.has(entry.issue.id) || this.connection.state !== 'online') continue;
      this.#inFlight.add(entry.issue.id);
      entry.attempts += 1;
      this.connection
        .request('trigger:issue', entry.issue)
        .then((reply) => {
          if (reply.ok) this.#settle(entry, { issue: entry.issue, outcome: 'accepted', trigger: reply.trigger });
          else if (!RETRYABLE_CODES.has(reply.error.code))
            this.#settle(entry, { issue: entry.issue, outcome: 'refused', code: reply.error.code });
        })
        // Lost in transit or timed out: the next flush sends it again with the same id.
        .catch(() => undefined)
        .finally(() => this.#inFlight.delete(entry.issue.id));
    }
  }

  #settle(entry: OutboxEntry, settled: Settled) {
    if (!this.#entries.includes(entry)) return;
    this.#entries = this.#entries.filter((e) => e !== entry);
    this.#save();
    this.settled(settled);
  }

  #save() {
    saveJson(sessionStorage, OUTBOX_KEY, this.#entries);
  }
}
