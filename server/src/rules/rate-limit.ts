/** docs/PROTOCOL.md §4: 20 events per second sustained, bursts of 40, per socket. */
export const RATE_PER_SECOND = 20;
export const BURST = 40;

export interface BucketLimit {
  perSecond: number;
  burst: number;
}

export const SOCKET_LIMIT: BucketLimit = { perSecond: RATE_PER_SECOND, burst: BURST };

/**
 * Across all of one member's sockets on a node, in units of cost: a member cannot multiply the
 * per-socket limit by opening sockets, and cannot spend it on the expensive events.
 */
export const MEMBER_LIMIT: BucketLimit = { perSecond: 40, burst: 80 };

/**
 * What an event costs a member's budget. A snapshot reads the whole mission (up to 500 triggers,
 * 100 observations, every alert and presence) and is sent once per connect by a well-behaved
 * client; anything else is one small read or write.
 */
export const SNAPSHOT_COST = 5;
export const eventCost = (event: string): number => (event === 'mission:snapshot' ? SNAPSHOT_COST : 1);

/** At most this many sockets per member on one node; a newer one evicts the oldest (§1: a tablet that reconnects before its old socket is noticed dead). */
export const MAX_SOCKETS_PER_MEMBER = 5;

export interface TokenBucket {
  tokens: number;
  refilledAt: number;
}

export const fullBucket = (now: number, limit: BucketLimit = SOCKET_LIMIT): TokenBucket => ({ tokens: limit.burst, refilledAt: now });

function refill(bucket: TokenBucket, limit: BucketLimit, now: number): void {
  const elapsed = Math.max(0, now - bucket.refilledAt);
  bucket.tokens = Math.min(limit.burst, bucket.tokens + (elapsed * limit.perSecond) / 1000);
  bucket.refilledAt = now;
}

/**
 * Takes `cost` from every bucket if each has enough, else takes nothing: an event refused by one
 * limit does not spend the others. Mutates the buckets (each owned by its socket or member).
 */
export function takeFromAll(charges: readonly { bucket: TokenBucket; limit: BucketLimit; cost: number }[], now: number): boolean {
  for (const { bucket, limit } of charges) refill(bucket, limit, now);
  if (charges.some(({ bucket, cost }) => bucket.tokens < cost)) return false;
  for (const charge of charges) charge.bucket.tokens -= charge.cost;
  return true;
}

/** Takes one token if there is one (a socket's own §4 limit). */
export const takeToken = (bucket: TokenBucket, now: number): boolean => takeFromAll([{ bucket, limit: SOCKET_LIMIT, cost: 1 }], now);
