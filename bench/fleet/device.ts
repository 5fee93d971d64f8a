import type { ClientToServerEvents, HandshakeAuth, ServerToClientEvents } from '@lockstep/shared';
import { io, type Socket } from 'socket.io-client';
import type { ConnectReport } from './plan.ts';

/** What the device fleets share: how one simulated device opens its socket, and how many open at once. */

export type Device = Socket<ServerToClientEvents, ClientToServerEvents>;

export const MAX_ERROR_SAMPLES = 5;

/** The device's wall clock, read from the monotonic one: epoch ms, comparable across the bench's processes. */
export const deviceNow = () => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A device's socket to `url`, connecting at once. No reconnection of socket.io's own: a fleet decides
 * when and where a device comes back. Probes are answered at once, as every Lockstep client must
 * (docs/PROTOCOL.md §5); with `snapshot`, the device asks for its mission's snapshot once connected.
 */
export function deviceSocket(url: string, auth: Pick<HandshakeAuth, 'token' | 'lastSeq'>, timeoutMs: number, snapshot: boolean): Device {
  const socket: Device = io(url, {
    transports: ['websocket'],
    auth,
    // One device, one connection: without forceNew socket.io-client would multiplex every device over one.
    forceNew: true,
    reconnection: false,
    timeout: timeoutMs,
  });
  socket.on('probe', (_probe, answer) => answer({ deviceAt: deviceNow() }));
  if (snapshot) socket.once('connect', () => socket.timeout(timeoutMs).emit('mission:snapshot', {}, () => undefined));
  return socket;
}

/** Resolves once the socket is connected; on `connect_error` closes it and rejects with the server's message. */
export function connected(socket: Device): Promise<Device> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(new Error(`connect_error: ${error.message}`));
    });
  });
}

/**
 * An acknowledgement callback that also fires, with undefined, when no reply came in time.
 * (socket.timeout() cannot see through the optional answer of the shared event map.)
 */
export function withDeadline<T>(timeoutMs: number, onReply: (reply: T | undefined) => void): (reply: T) => void {
  let settled = false;
  const timer = setTimeout(() => {
    settled = true;
    onReply(undefined);
  }, timeoutMs);
  return (reply) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    onReply(reply);
  };
}

/** Calls `each` on every item, `concurrency` at a time. */
export async function inTurns<T>(items: readonly T[], concurrency: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await each(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/** Runs each job, `concurrency` at a time, so the server's accept queue is not flooded; counts what connected and what failed. */
export async function connectAll(jobs: readonly (() => Promise<void>)[], concurrency: number): Promise<ConnectReport> {
  const report: ConnectReport = { connected: 0, failed: 0, errors: [] };
  await inTurns(jobs, concurrency, async (job) => {
    try {
      await job();
      report.connected += 1;
    } catch (error) {
      report.failed += 1;
      if (report.errors.length < MAX_ERROR_SAMPLES) report.errors.push(error instanceof Error ? error.message : String(error));
    }
  });
  return report;
}
