import { io, type Socket } from 'socket.io-client';
import { serve } from '../ipc.ts';

/**
 * One member flooding `mission:snapshot` over many sockets, each within its own §4 limit: the
 * load of issue #15, in a process of its own so the measuring clients do not share its event loop.
 */
export interface OpenRequest {
  url: string;
  token: string;
  sockets: number;
}

export interface FloodRequest {
  perSocketPerSecond: number;
  durationMs: number;
}

export interface FloodReport {
  sent: number;
  answered: number;
  rateLimited: number;
  otherRefusals: number;
  unanswered: number;
  /** Sockets the server closed on its own (the cap on sockets per member). */
  evicted: number;
  openAtEnd: number;
}

export type FlooderRpc = {
  open: { request: OpenRequest; reply: Record<string, never> };
  flood: { request: FloodRequest; reply: FloodReport };
};

const ACK_TIMEOUT_MS = 5000;

const report: FloodReport = { sent: 0, answered: 0, rateLimited: 0, otherRefusals: 0, unanswered: 0, evicted: 0, openAtEnd: 0 };
const sockets: Socket[] = [];

async function open({ url, token, sockets: count }: OpenRequest): Promise<Record<string, never>> {
  // Opened one after another, as a handset would reconnect: the server sees them in order.
  for (let i = 0; i < count; i++) {
    const socket = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
    socket.on('probe', (_probe: unknown, answer: (reply: unknown) => void) => answer({ deviceAt: Date.now() }));
    socket.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') report.evicted += 1;
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    sockets.push(socket);
  }
  return {};
}

async function flood({ perSocketPerSecond, durationMs }: FloodRequest): Promise<FloodReport> {
  const pending: Promise<void>[] = [];
  const timers = sockets.map((socket) =>
    setInterval(() => {
      if (!socket.connected) return;
      report.sent += 1;
      pending.push(
        socket
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck('mission:snapshot', {})
          .then(
            (reply: { ok: boolean; error?: { code: string } }) => {
              if (reply.ok) report.answered += 1;
              else if (reply.error?.code === 'rate_limited') report.rateLimited += 1;
              else report.otherRefusals += 1;
            },
            () => {
              report.unanswered += 1;
            },
          ),
      );
    }, 1000 / perSocketPerSecond),
  );
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  for (const timer of timers) clearInterval(timer);
  await Promise.all(pending);
  report.openAtEnd = sockets.filter((s) => s.connected).length;
  for (const socket of sockets) socket.close();
  return report;
}

serve<FlooderRpc>({ open, flood }, { ready: true });
