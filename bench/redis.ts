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
 * The bench's own redis-server (same approach as test/support/redis-server.ts): a free port,
 * its own directory, AOF with fsync every second as in production, no RDB snapshots.
 */
export class BenchRedis {
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly process: ChildProcess,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  static async start(startTimeoutMs: number): Promise<BenchRedis> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-bench-redis-'));
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--protected-mode', 'yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const redis = new BenchRedis(port, dir, child);
    try {
      await new Promise<void>((resolve, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`redis-server not ready within ${startTimeoutMs} ms: ${output.slice(-500)}`)), startTimeoutMs);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (!output.includes('Ready to accept connections')) return;
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.stdout?.resume();
          resolve();
        };
        child.stdout?.on('data', onData);
        child.stderr?.resume();
        child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`)));
        child.once('error', reject);
      });
    } catch (error) {
      redis.stop();
      throw error;
    }
    return redis;
  }

  /** Synchronous, so it can run from an exit handler. */
  stop(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
