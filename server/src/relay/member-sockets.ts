import { MEMBER_LIMIT, fullBucket, type TokenBucket } from '../rules/rate-limit.ts';

/** How long an empty budget takes to fill again: a member's budget is kept this long after its last socket, so reconnecting does not refill it. */
const REFILL_MS = (MEMBER_LIMIT.burst / MEMBER_LIMIT.perSecond) * 1000;

interface MemberEntry<S> {
  /** Oldest first. */
  sockets: S[];
  /** The member's budget across all of these sockets. */
  bucket: TokenBucket;
}

/**
 * This node's sockets of each member and the budget they share. A member is forgotten once its
 * last socket has been gone long enough for its budget to be full again.
 */
export class MemberSockets<S> {
  readonly #members = new Map<string, MemberEntry<S>>();

  constructor(private readonly maxPerMember: number) {}

  /** Adds a socket; answers the sockets it evicts, oldest first, so the member keeps at most the cap. */
  add(memberId: string, socket: S, now: number): S[] {
    const entry = this.#members.get(memberId) ?? { sockets: [], bucket: fullBucket(now, MEMBER_LIMIT) };
    this.#members.set(memberId, entry);
    entry.sockets.push(socket);
    return entry.sockets.splice(0, Math.max(0, entry.sockets.length - this.maxPerMember));
  }

  remove(memberId: string, socket: S): void {
    const entry = this.#members.get(memberId);
    if (!entry) return;
    entry.sockets = entry.sockets.filter((s) => s !== socket);
    if (entry.sockets.length > 0) return;
    setTimeout(() => {
      if (this.#members.get(memberId) === entry && entry.sockets.length === 0) this.#members.delete(memberId);
    }, REFILL_MS).unref();
  }

  /** The member's shared budget; a fresh one for a member with no socket here (an event racing its disconnect). */
  bucketOf(memberId: string, now: number): TokenBucket {
    return this.#members.get(memberId)?.bucket ?? fullBucket(now, MEMBER_LIMIT);
  }
}
