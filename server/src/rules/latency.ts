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

export const round1 = (ms: number) => Math.round(ms * 10) / 10;
