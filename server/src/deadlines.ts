import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { type Deadline, deadlineKey, parseDeadlineKey } from './deadline-keys.ts';
import type { Store } from './store/store.ts';

export interface DeadlinesDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  pollMs?: number;
}

/** Does what a deadline calls for; an exhaustive switch over its kind (see app.ts). */
export type FireDeadline = (deadline: Deadline) => Promise<void>;

/** How often a node looks for deadlines another node set and can no longer fire (it died). */
export const DEADLINE_POLL_MS = 250;
/** How long a claimed deadline is this node's before another may take it over. */
const LEASE_MS = 5000;
const CLAIM_BATCH = 200;
/** Deadlines of one claim fired at the same time. */
const FIRING_AT_ONCE = 16;

/**
 * Deadlines kept in the store and fired by whichever node claims them first: the node that
 * set one fires it on time with a local timer; every node polls for orphans. Handlers are
 * idempotent (state only moves forward, alerts are raised once), so a deadline fired twice
 * after a lost lease changes nothing.
 */
export class Deadlines {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #poll: NodeJS.Timeout | undefined;
  #claiming: Promise<void> | undefined;
  #claimAgain = false;
  #closed = false;
  #fire: FireDeadline | undefined;

  constructor(private readonly deps: DeadlinesDeps) {}

  /** Starts firing, once every service that handles a deadline exists; until then due deadlines wait in the store. */
  start(fire: FireDeadline): void {
    this.#fire = fire;
    this.#poll = setInterval(() => this.claimDue(), this.deps.pollMs ?? DEADLINE_POLL_MS);
    this.#poll.unref();
  }

  async schedule(deadline: Deadline, at: number): Promise<void> {
    await this.deps.store.scheduleDeadline(deadlineKey(deadline), at);
    this.expect(deadline, at);
  }

  /** Fires on time here a deadline the store already holds (written with the change that made it due). */
  expect(deadline: Deadline, at: number): void {
    if (this.#closed) return;
    const key = deadlineKey(deadline);
    clearTimeout(this.#timers.get(key));
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        this.claimDue();
      },
      Math.max(0, at - this.deps.clock.now()),
    );
    timer.unref();
    this.#timers.set(key, timer);
  }

  /** Forgets the local timers of deadlines a write has cleared from the store. */
  forget(...deadlines: Deadline[]): void {
    for (const key of deadlines.map(deadlineKey)) {
      clearTimeout(this.#timers.get(key));
      this.#timers.delete(key);
    }
  }

  /** Claims and fires every due deadline; a call during a claim runs once more after it. */
  claimDue(): void {
    if (this.#closed || !this.#fire) return;
    if (this.#claiming) {
      this.#claimAgain = true;
      return;
    }
    this.#claiming = this.#claim(this.#fire)
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'deadlines not claimed'))
      .finally(() => {
        this.#claiming = undefined;
        if (this.#claimAgain) {
          this.#claimAgain = false;
          this.claimDue();
        }
      });
  }

  async #claim(fire: FireDeadline) {
    const due = await this.deps.store.claimDeadlines(this.deps.clock.now(), LEASE_MS, CLAIM_BATCH);
    // Several at once, so a node that takes over thousands of a dead node's deadlines is not one
    // round trip after another. They start in the order claimed, earliest first, and changes to
    // one record still apply in that order (the store queues them).
    let next = 0;
    const firing = async () => {
      while (next < due.length) await this.#fireOne(fire, due[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(FIRING_AT_ONCE, due.length) }, firing));
    if (due.length === CLAIM_BATCH) this.#claimAgain = true;
  }

  async #fireOne(fire: FireDeadline, key: string) {
    try {
      const deadline = parseDeadlineKey(key);
      if (deadline) await fire(deadline);
      else this.deps.logger.warn({ deadline: key }, 'unknown deadline dropped');
      await this.deps.store.completeDeadline(key);
    } catch (error) {
      // Left leased: another claim takes it once the lease runs out.
      this.deps.logger.warn({ err: error, deadline: key }, 'deadline failed; it will be retried');
    }
  }

  /** Stops firing; what is still due stays in the store for the other nodes. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#claiming;
  }
}
