import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Whether other nodes share this node's Redis. A node alone publishes nothing of what only its
 * own sockets need (cues, presence, trigger states): each publish came back to it through its own
 * subscription to be decoded and dropped, an eighth of a lone node's work at 10,000 devices.
 */
export interface Peers {
  readonly alone: boolean;
}

/** A node without Redis (the in-memory store) is the whole hub. */
export const NO_PEERS: Peers = { alone: true };

/** How often a node counts the nodes on its Redis: how long it goes on publishing after its last peer left. */
export const PEER_COUNT_MS = 1000;

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
      if (this.#timer)
        this.#announce().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not announce this node again'));
    });
  }

  get alone(): boolean {
    return this.#alone;
  }

  /** Before the node listens: its subscriptions are live, and every node on its Redis knows of it. */
  async join(): Promise<void> {
    // Answered after the adapter's own subscriptions on this connection, so those are live too.
    await this.sub.subscribe(this.#ownChannel);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#announce();
        break;
      } catch (error) {
        if (attempt === JOIN_ATTEMPTS) {
          this.options.logger.warn(
            { err: error },
            'a node on this Redis did not acknowledge this one: starting anyway, counted as not alone',
          );
          break;
        }
      }
    }
    await this.#count();
    this.#timer = setInterval(() => void this.#count(), this.options.countMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #announce(): Promise<void> {
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
