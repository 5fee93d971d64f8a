import type { Clock } from '../clock.ts';

interface Read<T> {
  /** Monotonic time the read was started. */
  startedAt: number;
  value: Promise<T>;
}

/**
 * One read shared by every request for the same key within `windowMs`: single-flight while it
 * runs, then reused until the window closes. A request takes a read only if that read started
 * after `since` (when the requester's socket joined its rooms), so whatever changed after the
 * read began reaches the requester live: sharing never hides a change from it.
 */
export class SharedReads<T> {
  readonly #reads = new Map<string, Read<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
  ) {}

  get(key: string, since: number, read: () => Promise<T>): Promise<T> {
    const now = this.clock.monotonic();
    const shared = this.#reads.get(key);
    if (shared && shared.startedAt >= since && now - shared.startedAt <= this.windowMs) return shared.value;
    const fresh: Read<T> = { startedAt: now, value: read() };
    this.#reads.set(key, fresh);
    // Forgotten once the window closes, or at once when it fails (a failure is not shared past its own requests).
    const forget = () => {
      if (this.#reads.get(key) === fresh) this.#reads.delete(key);
    };
    fresh.value.then(() => setTimeout(forget, this.windowMs).unref(), forget);
    return fresh.value;
  }
}
