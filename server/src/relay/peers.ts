import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Whether other nodes share this node's Redis. A node alone publishes nothing of what only its
 * own sockets need (cues, presence, trigger states): each publish came back to it through its own
 * subscription to be decoded and dropped (5 % of a lone node's time at 10,000 devices; its connect
 * of 10,000 devices 10 % faster without).
 */
export interface Peers {
  readonly alone: boolean;
}

/** A node without Redis (the in-memory store) is the whole hub. */
export const NO_PEERS: Peers = { alone: true };

/** How often a node counts the nodes on its Redis: how long it goes on publishing after its last peer left. */
export const PEER_COUNT_MS = 1000;

/** How long a start waits for Redis to take this node's subscriptions before it starts without (an outage). */
const JOIN_SUBSCRIBE_WAIT_MS = 2000;

/** A start waits this many times for every node's word (the adapter's 5 s each) before it gives up on a node that does not answer. */
const JOIN_ATTEMPTS = 3;

/** The socket server's part in this: nodes announce themselves to each other through the adapter. */
export interface PeerIo {
  on(event: 'joining', listener: (ack: (heard: boolean) => void) => void): unknown;
  serverSideEmitWithAck(event: 'joining'): Promise<boolean[]>;
}

export interface PeersOptions {
  /** The adapter's key: its channels are named after it. */
  adapterKey: string;
  countMs: number;
  logger: Logger;
  /** Told each count of the nodes, this one included. */
  onCount: (nodes: number) => void;
}

/**
 * Sound as long as no node takes a device before every other node knows of it: a starting node
 * announces itself and waits for every node's acknowledgement before it listens (`join`), and a
 * node counts as alone only on a count that no announcement came after, taken while its own
 * subscription was live (docs/protocol-notes.md, "A node alone").
 */
export class RedisPeers implements Peers {
  #alone = false;
  /** Bumped whenever another node may have appeared: a count asked for before it is stale. */
  #epoch = 0;
  #counting = false;
  #timer: NodeJS.Timeout | undefined;
  /** Set when the node starts to join: from then on, a subscriber that comes (back) announces the node. */
  #joined = false;
  /** The adapter's request channel (@socket.io/redis-adapter 8: `${key}-request#${nsp}#`): every node, of any version, subscribes to it. */
  readonly #nodesChannel: string;
  /** Subscribed by this node alone, on the adapter's subscriber: counted, it proves this node's own subscriptions live. */
  readonly #ownChannel: string;

  constructor(
    private readonly io: PeerIo,
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly options: PeersOptions,
  ) {
    const { adapterKey } = options;
    this.#nodesChannel = `${adapterKey}-request#/#`;
    this.#ownChannel = `${adapterKey}-node#${randomUUID()}#`;
    io.on('joining', (ack) => {
      this.#mayHavePeers();
      ack(true);
    });
    // Whatever was published while this node's subscriber was away is lost to it (pub/sub is at
    // most once), and another node may have counted it out meanwhile: once back, it says so.
    sub.on('close', () => this.#mayHavePeers());
    sub.on('ready', () => {
      if (this.#joined)
        this.#announce().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not announce this node again'));
    });
  }

  get alone(): boolean {
    return this.#alone;
  }

  /**
   * Before the node listens: its subscriptions are live, and every node on its Redis knows of it.
   * With Redis away the node starts all the same (on its outage journal), counted as not alone,
   * and announces itself once its subscriber is back.
   */
  async join(): Promise<void> {
    this.#joined = true;
    if (await this.#subscribedWithin(JOIN_SUBSCRIBE_WAIT_MS)) await this.#askEveryNode();
    else this.options.logger.warn('Redis unreachable: starting counted as not alone; this node announces itself when it is back');
    await this.#count();
    this.#timer = setInterval(() => void this.#count(), this.options.countMs);
    this.#timer.unref();
  }

  /** Asks every node counted on the Redis to acknowledge this one, a few times before giving up on one that does not answer. */
  async #askEveryNode(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.io.serverSideEmitWithAck('joining');
        return;
      } catch (error) {
        if (attempt === JOIN_ATTEMPTS) {
          this.options.logger.warn({ err: error }, 'not every node on this Redis acknowledged this one: starting, counted as not alone');
          return;
        }
      }
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /** Whether this node's own channel is subscribed within `ms`: the subscriber waits for Redis however long it is away. */
  async #subscribedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const subscribed = this.sub.subscribe(this.#ownChannel).then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([subscribed, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Once its subscriber is (back) ready. */
  async #announce(): Promise<void> {
    // Its answer comes after the adapter's own subscriptions on this connection, including any a
    // start during an outage left waiting: those are live too before any node is asked.
    await this.sub.subscribe(this.#ownChannel);
    await this.io.serverSideEmitWithAck('joining');
  }

  #mayHavePeers(): void {
    this.#epoch += 1;
    this.#alone = false;
  }

  async #count(): Promise<void> {
    if (this.#counting) return;
    this.#counting = true;
    const epoch = this.#epoch;
    try {
      const [, nodes, , own] = (await this.pub.pubsub('NUMSUB', this.#nodesChannel, this.#ownChannel)) as [string, number, string, number];
      if (epoch !== this.#epoch) return;
      this.#alone = own === 1 && nodes === 1;
      this.options.onCount(nodes);
    } catch {
      // Redis is away: whether anyone else is there cannot be known, so publish as if they were.
      this.#mayHavePeers();
    } finally {
      this.#counting = false;
    }
  }
}
