import { randomUUID } from 'node:crypto';
import { buildApp } from '@lockstep/server';
import type { Alert, AddMemberReply, ClientToServerEvents, ServerToClientEvents, TriggerCue } from '@lockstep/shared';
import { DelayProxy } from '@lockstep/test/support/delay-proxy';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/** One-way delay of every chunk, uniform in [min, max], each direction drawn on its own. */
export interface Jitter {
  label: string;
  minMs: number;
  maxMs: number;
}

export const GAP_JITTERS: Jitter[] = [
  { label: '200 ± 100', minMs: 100, maxMs: 300 },
  { label: '600 ± 400', minMs: 200, maxMs: 1000 },
];
/** Known answer delays around the default 2 s threshold. */
export const GAP_DELAYS_MS = [1000, 1900, 1950, 2100, 2500, 3000];
const THRESHOLD_MS = 2000;
const DRIVERS = 6;
/** Probes come every 3 s (docs/PROTOCOL.md §5): three of them before the first cue, so the RTT window holds more than one. */
const WARM_UP_MS = 7000;

/** Seeded, so a run can be repeated: mulberry32. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What one cue came to, as the CPO and the report saw it. */
interface CueOutcome {
  d: number;
  /** The truth: the device's own gap, on the same clock as the server's. */
  trueGapMs: number;
  gapMs: number;
  gapSource: string;
  hesitation: boolean;
  /** A hesitation alert reached the lead before the answer did. */
  live: boolean;
  withdrawn: boolean;
  /** When the alert was raised, after the moment the threshold passed on the tablet. */
  latenessMs: number | undefined;
}

async function post<T>(url: string, adminToken: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${new URL(url).pathname} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

function socketTo(url: string, token: string): Promise<Client> {
  const socket: Client = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  socket.on('probe', (_probe, answer) => answer({ deviceAt: Date.now() }));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** One jitter: a node, a detail of six drivers each behind its own jittered link, `cuesPerDelay` cues for each d. */
async function runJitter(jitter: Jitter, cuesPerDelay: number, seed: number): Promise<CueOutcome[]> {
  const adminToken = `bench-admin-${randomUUID()}`;
  const app = await buildApp({ store: { kind: 'memory' }, adminToken, logger: pino({ level: 'warn' }) });
  const url = await app.listen(0, '127.0.0.1');
  const proxies: DelayProxy[] = [];
  const sockets: Client[] = [];
  try {
    const vehicles = Array.from({ length: DRIVERS }, (_, i) => ({ id: `v${i + 1}`, callsign: `V${i + 1}` }));
    const { id: missionId } = await post<{ id: string }>(`${url}/api/missions`, adminToken, {
      name: 'Gap bench',
      vehicles,
      settings: { thresholds: { default: THRESHOLD_MS }, overload: { count: 100, windowMs: 10_000 } },
    });
    const lead = await post<AddMemberReply>(`${url}/api/missions/${missionId}/members`, adminToken, { callsign: 'LEAD', role: 'lead' });
    const drivers = [];
    for (const v of vehicles)
      drivers.push(
        await post<AddMemberReply>(`${url}/api/missions/${missionId}/members`, adminToken, {
          callsign: `${v.callsign}-D`,
          role: 'driver',
          vehicleId: v.id,
        }),
      );
    await post(`${url}/api/missions/${missionId}/start`, adminToken, { force: true });

    const leadSocket = await socketTo(url, lead.token);
    sockets.push(leadSocket);
    const alerts = new Map<string, { live: boolean; withdrawn: boolean; at: number }>();
    const answered = new Set<string>();
    leadSocket.on('trigger:state', (state) => {
      if (state.recipients.every((r) => r.state === 'answered')) answered.add(state.id);
    });
    leadSocket.on('alert', (alert: Alert) => {
      if (alert.kind !== 'hesitation' || !alert.triggerId) return;
      const seen = alerts.get(alert.triggerId) ?? { live: !answered.has(alert.triggerId), withdrawn: false, at: alert.at };
      if ('withdrawnAt' in alert && alert.withdrawnAt !== undefined) seen.withdrawn = true;
      alerts.set(alert.triggerId, seen);
    });

    const plan = new Map<string, { d: number; done: (outcome: CueOutcome) => void }>();
    const driverSockets: Client[] = [];
    for (const [index, driver] of drivers.entries()) {
      const draw = random(seed * 100 + index);
      const delay = () => jitter.minMs + draw() * (jitter.maxMs - jitter.minMs);
      const proxy = await DelayProxy.start(url, { up: delay, down: delay });
      proxies.push(proxy);
      const socket = await socketTo(proxy.url, driver.token);
      sockets.push(socket);
      driverSockets.push(socket);
      const held = new Set<string>();
      socket.on('trigger', (cue: TriggerCue, receipt) => {
        const shownAt = Date.now();
        receipt({ shownAt });
        const wanted = plan.get(cue.id);
        if (held.has(cue.id) || !wanted) return;
        held.add(cue.id);
        setTimeout(() => {
          const respondedAt = Date.now();
          socket.emit('trigger:respond', { triggerId: cue.id, response: 'ack', shownAt, respondedAt }, (reply) => {
            if (!reply.ok) throw new Error(`answer refused: ${reply.error.code}`);
            const alert = alerts.get(cue.id);
            wanted.done({
              d: wanted.d,
              trueGapMs: respondedAt - shownAt,
              gapMs: reply.gapMs,
              gapSource: reply.gapSource,
              hesitation: reply.hesitation,
              live: alert?.live ?? false,
              withdrawn: alert?.withdrawn ?? false,
              latenessMs: alert ? alert.at - (shownAt + THRESHOLD_MS) : undefined,
            });
          });
        }, wanted.d);
      });
    }
    await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));

    const outcomes: CueOutcome[] = [];
    const perDriver = Math.ceil((cuesPerDelay * GAP_DELAYS_MS.length) / DRIVERS);
    await Promise.all(
      vehicles.map(async (vehicle, index) => {
        for (let i = 0; i < perDriver; i++) {
          const d = GAP_DELAYS_MS[(index + i) % GAP_DELAYS_MS.length]!;
          const id = randomUUID();
          const outcome = new Promise<CueOutcome>((done) => plan.set(id, { d, done }));
          const issued = await leadSocket
            .timeout(5000)
            .emitWithAck('trigger:issue', { id, type: 'box-in', target: { vehicleIds: [vehicle.id] } });
          if (!issued.ok) throw new Error(`trigger refused: ${issued.error.code}`);
          outcomes.push(await outcome);
          // The withdrawal, if any, comes right after the answer's state: let it land before the next cue.
          await new Promise((resolve) => setTimeout(resolve, 300));
          const alert = alerts.get(id);
          const last = outcomes.at(-1);
          if (last && alert) last.withdrawn = alert.withdrawn;
        }
      }),
    );
    return outcomes;
  } finally {
    for (const socket of sockets) socket.close();
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await app.close();
  }
}

const percent = (n: number, of: number) => (of === 0 ? '—' : `${Math.round((100 * n) / of)} %`);
function nearestRank(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

/** The table of docs/PROTOCOL.md §3's promises under each jitter, by known answer delay d. */
export function gapTable(rows: { jitter: Jitter; outcomes: CueOutcome[] }[]): string {
  const lines = [
    `| one-way jitter (ms) | d (ms) | cues | live alert | withdrawn | final flag wrong | alert lateness p50 / p95 / max (ms) | gap error max (ms) | server-clock gaps |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { jitter, outcomes } of rows) {
    for (const d of GAP_DELAYS_MS) {
      const cues = outcomes.filter((o) => o.d === d);
      const over = d > THRESHOLD_MS;
      const live = cues.filter((o) => o.live).length;
      const withdrawn = cues.filter((o) => o.withdrawn).length;
      // Judged against the gap the tablet really had: a timer that fired late on a loaded machine moved it past d.
      const wrong = cues.filter((o) => o.hesitation !== o.trueGapMs > THRESHOLD_MS).length;
      const lateness = cues.flatMap((o) => (o.latenessMs === undefined || o.trueGapMs <= THRESHOLD_MS ? [] : [o.latenessMs]));
      const latenessText =
        over && lateness.length ? `${nearestRank(lateness, 0.5)} / ${nearestRank(lateness, 0.95)} / ${Math.max(...lateness)}` : '—';
      const gapError = Math.max(0, ...cues.map((o) => Math.abs(o.gapMs - o.trueGapMs)));
      const serverGaps = cues.filter((o) => o.gapSource === 'server').length;
      lines.push(
        `| ${jitter.label} | ${d} | ${cues.length} | ${percent(live, cues.length)} | ${percent(withdrawn, cues.length)} | ${percent(wrong, cues.length)} | ${latenessText} | ${Math.round(gapError)} | ${serverGaps} |`,
      );
    }
  }
  return lines.join('\n');
}

/** `npm run bench -- --gap`: response gaps and live hesitations through a jittered link (issue #14). */
export async function runGapBench(cuesPerDelay: number, progress: (line: string) => void): Promise<string> {
  const rows = [];
  for (const [index, jitter] of GAP_JITTERS.entries()) {
    progress(`gap bench: ${jitter.label} ms one way, ${cuesPerDelay} cues for each of ${GAP_DELAYS_MS.length} delays`);
    rows.push({ jitter, outcomes: await runJitter(jitter, cuesPerDelay, index + 1) });
  }
  return [
    `Response gaps through a jittered link: threshold ${THRESHOLD_MS} ms, ${DRIVERS} drivers each behind its own order-keeping delay proxy, probes every 3 s.`,
    `"live alert": a hesitation alert reached the lead before the answer did (for d under the threshold, a false one). "withdrawn": the answer then withdrew it.`,
    `"final flag wrong": the final hesitation differs from true gap > threshold. Lateness (answers over the threshold): the first hesitation alert's time, live or at the answer, after the moment the tablet passed the threshold.`,
    '',
    gapTable(rows),
  ].join('\n');
}
