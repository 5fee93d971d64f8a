/** docs/PROTOCOL.md §4: 20 events per second sustained, bursts of 40, per socket. */
export const RATE_PER_SECOND = 20;
export const BURST = 40;

export interface TokenBucket {
  tokens: number;
  refilledAt: number;
}

export const fullBucket = (now: number): TokenBucket => ({ tokens: BURST, refilledAt: now });

/** Takes one token if there is one; mutates the bucket (one per socket, owned by it). */
export function takeToken(bucket: TokenBucket, now: number): boolean {
  const elapsed = Math.max(0, now - bucket.refilledAt);
  bucket.tokens = Math.min(BURST, bucket.tokens + (elapsed * RATE_PER_SECOND) / 1000);
  bucket.refilledAt = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}
