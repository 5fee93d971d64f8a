import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';

/** `up`: from the device to the server; `down`: from the server to the device. */
export type Direction = 'up' | 'down';

/** How long each chunk spends on the wire, one way; read per chunk, so a test may change it between messages. */
export type Delays = Record<Direction, () => number>;

/**
 * One direction of one connection: every chunk is held `delay()` ms but never overtakes the
 * chunk before it, as TCP keeps order. While held, chunks queue up and go out together on
 * release, as a stalled uplink flushes.
 */
class DelayedPipe {
  readonly #queue: { chunk: Buffer; at: number }[] = [];
  /** Called after each chunk joins the queue. */
  onPush: () => void = () => undefined;
  #last = 0;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(
    private readonly to: Socket,
    private readonly delay: () => number,
    private readonly held: () => boolean,
  ) {}

  push(chunk: Buffer): void {
    const at = Math.max(performance.now() + Math.max(0, this.delay()), this.#last);
    this.#last = at;
    this.#queue.push({ chunk, at });
    this.pump();
    this.onPush();
  }

  get waiting(): number {
    return this.#queue.length;
  }

  end(): void {
    this.#ended = true;
    this.pump();
  }

  pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.held() || this.to.destroyed) return;
    const now = performance.now();
    while (this.#queue[0] && this.#queue[0].at <= now) this.to.write(this.#queue.shift()!.chunk);
    const next = this.#queue[0];
    if (next) this.#timer = setTimeout(() => this.pump(), next.at - now);
    else if (this.#ended) this.to.end();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * A TCP proxy in front of a real server that delays each direction on its own, for tests and
 * the bench to put a jittered or stalled network between a real Socket.IO client and a node.
 */
export class DelayProxy {
  readonly #held: Record<Direction, boolean> = { up: false, down: false };
  readonly #pipes = new Set<{ up: DelayedPipe; down: DelayedPipe; sockets: Socket[] }>();
  readonly #watchers = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    /** The proxy's address, to connect to instead of the server's. */
    readonly url: string,
    public delays: Delays,
  ) {}

  static async start(target: string, delays: Delays): Promise<DelayProxy> {
    const { hostname, port } = new URL(target);
    let proxy: DelayProxy | undefined;
    const server = createServer((device) => proxy?.connectionFrom(device, hostname, Number(port)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
    proxy = new DelayProxy(server, `http://127.0.0.1:${address.port}`, delays);
    return proxy;
  }

  /** Holds every chunk of one direction until `release`: an uplink stall. */
  hold(direction: Direction): void {
    this.#held[direction] = true;
  }

  /** Lets the held chunks go, in order, each no earlier than its own delay. */
  release(direction: Direction): void {
    this.#held[direction] = false;
    for (const pipe of this.#pipes) pipe[direction].pump();
  }

  /** Resolves once `chunks` chunks wait in a held direction (over every connection): what a test holds has arrived. */
  holding(direction: Direction, chunks: number): Promise<void> {
    const count = () => [...this.#pipes].reduce((sum, pipe) => sum + pipe[direction].waiting, 0);
    return new Promise((resolve) => {
      const check = () => {
        if (count() < chunks) return;
        this.#watchers.delete(check);
        resolve();
      };
      this.#watchers.add(check);
      check();
    });
  }

  connectionFrom(device: Socket, host: string, port: number): void {
    const server = connectTcp({ host, port });
    device.setNoDelay(true);
    server.setNoDelay(true);
    const pipe = {
      up: new DelayedPipe(
        server,
        () => this.delays.up(),
        () => this.#held.up,
      ),
      down: new DelayedPipe(
        device,
        () => this.delays.down(),
        () => this.#held.down,
      ),
      sockets: [device, server],
    };
    const checkWatchers = () => {
      for (const check of this.#watchers) check();
    };
    pipe.up.onPush = checkWatchers;
    pipe.down.onPush = checkWatchers;
    this.#pipes.add(pipe);
    device.on('data', (chunk) => pipe.up.push(chunk));
    server.on('data', (chunk) => pipe.down.push(chunk));
    device.on('end', () => pipe.up.end());
    server.on('end', () => pipe.down.end());
    const close = () => {
      pipe.up.stop();
      pipe.down.stop();
      device.destroy();
      server.destroy();
      this.#pipes.delete(pipe);
    };
    device.on('error', close).on('close', close);
    server.on('error', close).on('close', close);
  }

  async close(): Promise<void> {
    for (const pipe of this.#pipes) for (const socket of pipe.sockets) socket.destroy();
    this.#pipes.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
