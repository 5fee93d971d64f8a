/** How many recent round trips the rolling p95 covers (about a minute at one probe every 3 s). */
export const RTT_WINDOW = 20;

/** Nearest-rank percentile of a small sample. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The device clock's offset from the server's, assuming the probe's two legs took equally long. */
export function clockOffset(serverSentAt: number, rttMs: number, deviceAt: number): number {
  return deviceAt - (serverSentAt + rttMs / 2);
}

/** What one probe says about the device's clock. */
export interface ClockSample {
  rttMs: number;
  /** `clockOffset` of that probe: device clock − server clock. */
  offsetMs: number;
}

/**
 * The device clock's offset and its error bound: whatever the split of a probe's two legs,
 * the true offset lies within `offsetMs ± errorMs`.
 */
export interface ClockEstimate {
  offsetMs: number;
  errorMs: number;
}

/**
 * NTP-style: the probe with the lowest RTT bounds the offset most tightly (its error is RTT / 2),
 * so it wins over the latest or an average, which a slow leg would bias.
 */
export function clockEstimate(samples: readonly ClockSample[]): ClockEstimate | undefined {
  let best: ClockSample | undefined;
  for (const sample of samples) if (best === undefined || sample.rttMs < best.rttMs) best = sample;
  return best && { offsetMs: best.offsetMs, errorMs: best.rttMs / 2 };
}

export const round1 = (ms: number) => Math.round(ms * 10) / 10;
