import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Request/reply over Node's IPC channel between the bench and the processes it measures
 * (servers, device fleets). Both sides are typed by the same map, so a reply is trusted
 * to have the shape its request names.
 */
export type RpcMap = Record<string, { request: object; reply: unknown }>;

interface RpcRequest {
  id: number;
  kind: string;
  body: object;
}

type RpcReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The first message a child sends: it is ready, and where it listens if it serves. */
export interface Announcement {
  ready: true;
  url?: string;
}

export type Handlers<M extends RpcMap> = { [K in keyof M]: (body: M[K]['request']) => Promise<M[K]['reply']> | M[K]['reply'] };

const isRequest = (message: unknown): message is RpcRequest =>
  typeof message === 'object' && message !== null && 'id' in message && 'kind' in message && 'body' in message;

const isReply = (message: unknown): message is RpcReply =>
  typeof message === 'object' && message !== null && 'id' in message && 'ok' in message;

const isAnnouncement = (message: unknown): message is Announcement => typeof message === 'object' && message !== null && 'ready' in message;

/** Child side: answers the parent's requests. A child whose parent is gone exits, so nothing outlives the bench. */
export function serve<M extends RpcMap>(handlers: Handlers<M>, announcement: Announcement): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this script runs as a child of bench/run.ts (it needs an IPC channel)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    const handler = handlers[message.kind] as ((body: object) => Promise<unknown> | unknown) | undefined;
    if (!handler) {
      send({ id: message.id, ok: false, error: `unknown request ${message.kind}` } satisfies RpcReply);
      return;
    }
    Promise.resolve()
      .then(() => handler(message.body))
      .then(
        (value) => send({ id: message.id, ok: true, value } satisfies RpcReply),
        (error: unknown) =>
          send({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies RpcReply),
      );
  });
  send(announcement);
}

/** Every child the bench started, so a failure or Ctrl-C can end them all. */
const running = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
}

export interface StartOptions {
  /** Extra flags for node, e.g. --expose-gc or --cpu-prof. */
  nodeFlags?: readonly string[];
  env?: Record<string, string>;
  startTimeoutMs: number;
}

/** Parent side: one measured process, started with `node --import tsx`. */
export class BenchChild<M extends RpcMap> {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();

  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
    readonly url: string | undefined,
  ) {
    process.on('message', (message: unknown) => {
      if (!isReply(message)) return;
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(`${name}: ${message.error}`));
    });
    // A child that died mid-send must fail its calls, not crash the bench.
    process.on('error', () => undefined);
    process.once('exit', (code, signal) => {
      running.delete(process);
      for (const pending of this.#pending.values()) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`${name} exited (${signal ?? code}) before answering`));
      }
      this.#pending.clear();
    });
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  /** `script` is relative to bench/. Child stdout goes to our stderr: the report on stdout stays clean. */
  static start<M extends RpcMap>(name: string, script: string, options: StartOptions): Promise<BenchChild<M>> {
    const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
      execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    running.add(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name} did not start within ${options.startTimeoutMs} ms`));
      }, options.startTimeoutMs);
      const onMessage = (message: unknown) => {
        if (!isAnnouncement(message)) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(new BenchChild<M>(name, child, message.url));
      };
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        running.delete(child);
        reject(new Error(`${name} exited (${code}) while starting`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }

  call<K extends keyof M & string>(kind: K, body: M[K]['request'], timeoutMs: number): Promise<M[K]['reply']> {
    const id = this.#nextId++;
    if (!this.process.connected)
      return Promise.reject(new Error(`${this.name} is gone (exit ${this.process.signalCode ?? this.process.exitCode})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: (value) => resolve(value as M[K]['reply']), reject, timer });
      this.process.send({ id, kind, body } satisfies RpcRequest);
    });
  }

  /** Asks the child to close (so --cpu-prof can write its profile), then kills it if it lingers. */
  async stop(graceMs: number): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    const deadline = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    if (this.process.connected) this.process.disconnect();
    await exited;
    clearTimeout(deadline);
  }
}
