import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1, from the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A real redis-server of our own, on a free port with its own directory, AOF fsynced every
 * second as in production: tests and the benchmark are isolated from the machine's Redis and
 * can kill and restart theirs.
 */
export class RedisServer {
  #process: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'lockstep-redis-'));

  private constructor(
    readonly port: number,
    private readonly startTimeoutMs: number,
  ) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.#process?.pid ?? -1;
  }

  static async start(startTimeoutMs = 10_000): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), startTimeoutMs);
    try {
      await server.restart();
    } catch (error) {
      server.stop();
      throw error;
    }
    return server;
  }

  /** Starts (again) on the same port and directory. */
  async restart(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
        '--protected-mode',
        'yes',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#process = child;
    child.stderr?.resume();
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`redis-server not ready within ${this.startTimeoutMs} ms: ${output.slice(-500)}`)),
        this.startTimeoutMs,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (!output.includes('Ready to accept connections')) return;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        // Keep draining its log: a full pipe would stall redis-server mid-test.
        child.stdout?.resume();
        resolve();
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`)));
      child.once('error', reject);
    });
  }

  /** SHUTDOWN as an operator would: Redis flushes its AOF first, so nothing written is lost. */
  shutdown(): Promise<void> {
    return this.#signal('SIGTERM');
  }

  /** SIGKILL: a crash, not a shutdown. */
  kill(): Promise<void> {
    return this.#signal('SIGKILL');
  }

  /** Kills it and removes its directory; synchronous, so it can run from an exit handler. */
  stop(): void {
    const child = this.#process;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}
