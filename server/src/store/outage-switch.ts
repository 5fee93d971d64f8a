import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type OutageJournal, replayEntry } from './outage-journal.ts';
import { StoreUnavailable } from './outage-mirror.ts';
import { isRedisAway, type RedisStore } from './redis-store.ts';

/** How often a node in an outage checks whether Redis is back. */
const RECOVERY_CHECK_MS = 500;

export interface OutageSwitchDeps {
  redis: Redis;
  store: RedisStore;
  journal: OutageJournal;
  logger: Logger;
  onDepth: (depth: number) => void;
}

/**
 * When Redis is away and how a node comes back: a call goes to Redis until one finds it gone;
 * from then on the outage side answers, until the journal has been replayed to Redis in order.
 * What each call does in an outage is the journaled store's; this only decides which side answers.
 */
export class OutageSwitch {
  #outage = false;
  #recovery: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(private readonly deps: OutageSwitchDeps) {}

  get inOutage(): boolean {
    return this.#outage;
  }

  /** Redis, then `keep` with its answer; the outage side when Redis is away or the journal still holds writes. */
  async either<T>(call: { redis: () => Promise<T>; outage: () => Promise<T>; keep?: (value: T) => unknown }): Promise<T> {
    if (this.#outage) return call.outage();
    let value: T;
    try {
      value = await call.redis();
    } catch (error) {
      if (!isRedisAway(this.deps.redis, error)) throw error;
      this.enter();
      return call.outage();
    }
    await call.keep?.(value);
    return value;
  }

  /** A call that must wait for Redis: refused (StoreUnavailable) while it is away. */
  async redisOnly<T>(what: string, direct: () => Promise<T>): Promise<T> {
    if (this.#outage) throw new StoreUnavailable(what);
    try {
      return await direct();
    } catch (error) {
      if (isRedisAway(this.deps.redis, error)) this.enter();
      throw error;
    }
  }

  enter(): void {
    if (this.#outage) return;
    this.#outage = true;
    const { redis, journal, logger } = this.deps;
    logger.warn({ journal: journal.path }, 'redis unreachable: relaying from this node, writing to the outage journal');
    this.#recovery = setInterval(() => {
      if (!this.#flushing && redis.status === 'ready') {
        this.#flushing = this.#flush()
          .catch((error: unknown) => logger.warn({ err: error, depth: journal.depth }, 'journal not yet written to redis'))
          .finally(() => (this.#flushing = undefined));
      }
    }, RECOVERY_CHECK_MS);
    this.#recovery.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#recovery);
    await this.#flushing;
  }

  /** Replays the journal to Redis in order; entries added meanwhile go too; then Redis serves again. */
  async #flush() {
    const { journal } = this.deps;
    if (!(await this.deps.store.ping())) return;
    for (let entry = journal.peek(); entry; entry = journal.peek()) {
      await replayEntry(this.deps.store, entry);
      journal.shift();
      this.deps.onDepth(journal.depth);
    }
    clearInterval(this.#recovery);
    this.#outage = false;
    this.deps.logger.info('redis is back: the outage journal is written');
  }
}
