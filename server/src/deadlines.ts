import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import type { Store } from './store/store.ts';

/** How often a node looks for deadlines another node set and can no longer fire (it died). */
export const DEADLINE_POLL_MS = 250;
/** How long a claimed deadline is this node's before another may take it over. */
const LEASE_MS = 5000;
const CLAIM_BATCH = 200;

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

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly fire: (key: string) => Promise<void>,
    private readonly pollMs = DEADLINE_POLL_MS,
  ) {}

  start(): void {
    this.#poll = setInterval(() => this.claimDue(), this.pollMs);
    this.#poll.unref();
  }

  async schedule(key: string, at: number): Promise<void> {
    await this.store.scheduleDeadline(key, at);
    this.expect(key, at);
  }

  /** Fires on time here a deadline the store already holds (written with the change that made it due). */
  expect(key: string, at: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timers.get(key));
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        this.claimDue();
      },
      Math.max(0, at - this.clock.now()),
    );
    timer.unref();
    this.#timers.set(key, timer);
  }

  /** Forgets the local timers of deadlines a write has cleared from the store. */
  forget(...keys: string[]): void {
    for (const key of keys) {
      clearTimeout(this.#timers.get(key));
      this.#timers.delete(key);
    }
  }

  /** Claims and fires every due deadline; a call during a claim runs once more after it. */
  claimDue(): void {
    if (this.#closed) return;
    if (this.#claiming) {
      this.#claimAgain = true;
      return;
    }
    this.#claiming = this.#claim()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'deadlines not claimed'))
      .finally(() => {
        this.#claiming = undefined;
        if (this.#claimAgain) {
          this.#claimAgain = false;
          this.claimDue();
        }
      });
  }

  async #claim() {
    const due = await this.store.claimDeadlines(this.clock.now(), LEASE_MS, CLAIM_BATCH);
    for (const key of due) {
      try {
        await this.fire(key);
        await this.store.completeDeadline(key);
      } catch (error) {
        // Left leased: another claim takes it once the lease runs out.
        this.logger.warn({ err: error, deadline: key }, 'deadline failed; it will be retried');
      }
    }
    if (due.length === CLAIM_BATCH) this.#claimAgain = true;
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
