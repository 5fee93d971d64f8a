import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { LISTEN_BACKLOG } from '../../server/src/listen-backlog.ts';
import { serve } from '../ipc.ts';
import { selfStats, type StatsRpc } from '../process-stats.ts';

/**
 * The baseline: what any Socket.IO relay of cues must do, and nothing more. Same socket.io,
 * WebSocket only, rooms per mission, the same probe every 3 s as Lockstep (so both carry the
 * same liveness traffic), a broadcast of the issue to the mission's drivers with a receipt,
 * and an ok to the issuer and to the answer. No validation, no authority, no store.
 *
 * With BENCH_REDIS_URL and BENCH_REDIS_PREFIX, the relay joins every other relay on that Redis
 * and prefix through @socket.io/redis-adapter, as Lockstep's nodes do (server/src/app.ts): the
 * two-node baseline. Without them it is one relay alone, with socket.io's in-memory adapter.
 *
 * With BENCH_WRITE_URL, the relay writes each issue and each answer to that Redis (one SET) and
 * only then relays or answers it: the least any relay pays that records a cue before showing it,
 * as Lockstep must (a cue's seq comes from the store). Lockstep's cost above this is its own.
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

const redisUrl = process.env.BENCH_REDIS_URL;
const prefix = process.env.BENCH_REDIS_PREFIX;
if (redisUrl !== undefined || prefix !== undefined) {
  if (!redisUrl || !prefix) throw new Error('BENCH_REDIS_URL and BENCH_REDIS_PREFIX go together');
  // The client settings and adapter key of Lockstep's nodes (connectRedis, buildApp), so only what runs on top differs.
  const pubClient = new Redis(redisUrl, { protocol: 2, maxRetriesPerRequest: 2, commandTimeout: 2000 });
  const subClient = pubClient.duplicate();
  for (const client of [pubClient, subClient])
    client.on('error', (error: Error) => process.stderr.write(`bare relay: redis connection error: ${error.message}\n`));
  io.adapter(createAdapter(pubClient, subClient, { key: `${prefix}socket.io` }));
}

const writeUrl = process.env.BENCH_WRITE_URL;
const writer = writeUrl ? new Redis(writeUrl, { protocol: 2, maxRetriesPerRequest: 2, commandTimeout: 2000 }) : undefined;
const keyPrefix = `bench:bare:${randomUUID()}:`;
let answers = 0;
/** One round trip to Redis when writing, none otherwise. */
const record = async (key: string, value: unknown) => {
  if (writer) await writer.set(`${keyPrefix}${key}`, JSON.stringify(value));
};

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

  socket.on('trigger:issue', async (issue, answer) => {
    await record(`cue:${issue.id}`, issue);
    io.to(drivers(missionKey))
      .timeout(RECEIPT_TIMEOUT_MS)
      .emit('trigger', issue, () => {});
    answer?.({ ok: true });
  });
  socket.on('trigger:respond', async (response, reply) => {
    await record(`answer:${++answers}`, response);
    reply?.({ ok: true });
  });
});

// The same accept queue as Lockstep's nodes: a storm measures the servers, not the kernel's default.
await new Promise<void>((resolve) => http.listen({ port: 0, host: '127.0.0.1', backlog: LISTEN_BACKLOG }, resolve));
const address = http.address();
if (typeof address !== 'object' || !address) throw new Error('the bare relay has no address');

serve<StatsRpc>({ stats: selfStats(io) }, { ready: true, url: `http://127.0.0.1:${address.port}` });
