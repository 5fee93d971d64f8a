import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Hub } from './hub.ts';
import { freePort } from './redis-server.ts';

const MAIN = fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));

/** A Lockstep node as a real process (`server/src/main.ts`), so a test can SIGKILL or SIGTERM it. */
export interface NodeProcess extends Pick<Hub, 'url' | 'api' | 'adminToken'> {
  child: ChildProcess;
  exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
}

export async function startNodeProcess(redisUrl: string, adminToken: string, env: Record<string, string> = {}): Promise<NodeProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      LOCKSTEP_ADMIN_TOKEN: adminToken,
      LOCKSTEP_DEMO: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  // Ready is what /healthz says, not a guess: poll it until 200, bounded.
  const readyBy = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node exited at start: ${stderr.slice(-1000)}`);
    const healthy = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > readyBy) throw new Error(`node not ready in 20 s: ${stderr.slice(-1000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const api: Hub['api'] = async (method, path, { body, token = adminToken } = {}) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  return { url, api, adminToken, child, exited, signal: (signal) => child.kill(signal) };
}
