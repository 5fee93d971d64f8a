import { performance } from 'node:perf_hooks';

/** Time, injected so the rules can be tested without waiting. */
export interface Clock {
  /** Epoch milliseconds, an integer: the server times of docs/PROTOCOL.md. */
  now(): number;
  /** Monotonic milliseconds for durations: immune to wall-clock jumps. */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
