import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { serve } from '../ipc.ts';
import { selfStats, type StatsRpc } from '../process-stats.ts';

/**
 * The baseline: what any Socket.IO relay of cues must do, and nothing more. Same socket.io,
 * WebSocket only, rooms per mission, the same probe every 3 s as Lockstep (so both carry the
 * same liveness traffic), a broadcast of the issue to the mission's drivers with a receipt,
 * and an ok to the issuer and to the answer. No validation, no authority, no store.
 */

/** The token is `missionKey|role`: the bench is the only client, so it is trusted as is. */
interface DeviceData {
  missionKey: string;
  role: string;
}

type Ok = { ok: true };

/** Whatever the lead sent is relayed untouched; only its `id` matters to the bench. */
interface RelayedIssue {
  id: string;
}

interface BareClientEvents {
  'trigger:issue': (issue: RelayedIssue, answer?: (reply: Ok) => void) => void;
  'trigger:respond': (answer: unknown, reply?: (reply: Ok) => void) => void;
}

interface BareServerEvents {
  trigger: (cue: RelayedIssue, receipt: (receipt: unknown) => void) => void;
  probe: (probe: { serverAt: number }, answer: (answer: unknown) => void) => void;
}

const PROBE_INTERVAL_MS = 3000;
/** Lockstep waits for a receipt until the cue goes stale; the bare relay just needs a bound. */
const RECEIPT_TIMEOUT_MS = 30_000;

const drivers = (missionKey: string) => `drivers:${missionKey}`;

const http = createServer();
const io = new Server<BareClientEvents, BareServerEvents, Record<string, never>, DeviceData>(http, {
  path: '/socket.io',
  transports: ['websocket'],
  serveClient: false,
  maxHttpBufferSize: 64 * 1024,
});

io.use((socket, next) => {
  const token: unknown = socket.handshake.auth.token;
  const [missionKey, role] = typeof token === 'string' ? token.split('|') : [];
  if (!missionKey || !role) return next(new Error('unauthorized'));
  socket.data = { missionKey, role };
  next();
});

io.on('connection', (socket) => {
  const { missionKey, role } = socket.data;
  if (role === 'driver') void socket.join(drivers(missionKey));

  const probe = () => socket.timeout(PROBE_INTERVAL_MS).emit('probe', { serverAt: Date.now() }, () => {});
  probe();
  const prober = setInterval(probe, PROBE_INTERVAL_MS);
  socket.on('disconnect', () => clearInterval(prober));

  socket.on('trigger:issue', (issue, answer) => {
    io.to(drivers(missionKey))
      .timeout(RECEIPT_TIMEOUT_MS)
      .emit('trigger', issue, () => {});
    answer?.({ ok: true });
  });
  socket.on('trigger:respond', (_answer, reply) => reply?.({ ok: true }));
});

await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const address = http.address();
if (typeof address !== 'object' || !address) throw new Error('the bare relay has no address');

serve<StatsRpc>({ stats: selfStats() }, { ready: true, url: `http://127.0.0.1:${address.port}` });
