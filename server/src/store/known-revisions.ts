import { ageSweep } from './age-sweep.ts';
import { deepFreeze } from './deep-freeze.ts';

/** How long a record this node read or wrote is trusted as a guess of what Redis holds. */
const KNOWN_FOR_MS = 10_000;

/**
 * The last revision of each record this node read or wrote, so that a compare-and-set need not
 * read the record first: the receipts and answers to a cue follow its issue on the same node
 * within seconds, and each read was a round trip and a parse on the answer's path. Only ever a
 * guess: the write's own revision check decides, and a guess another node's write overtook
 * costs that write, then a read as before.
 */
export class KnownRevisions<S extends { rev: number }> {
  readonly #entries = new Map<string, { stored: S; at: number }>();
  /** Drops guesses too old to use, so the map holds only recent records. */
  readonly #sweep: () => void;

  constructor(private readonly now: () => number) {
    this.#sweep = ageSweep(this.#entries, KNOWN_FOR_MS, now);
  }

  get(key: string): S | undefined {
    const entry = this.#entries.get(key);
    return entry && this.now() - entry.at <= KNOWN_FOR_MS ? entry.stored : undefined;
  }

  /** Frozen: a guess is shared by every change made from it. */
  set(key: string, stored: S): void {
    this.#sweep();
    this.#entries.set(key, { stored: deepFreeze(stored), at: this.now() });
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every guess: Redis may have come back with less than it had (a restart, a failover). */
  clear(): void {
    this.#entries.clear();
  }
}
