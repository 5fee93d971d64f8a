import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { RedisServer } from '@lockstep/test/support/redis-server';
import type { FloodReport, FlooderRpc } from './flood/flooder.ts';
import { BenchChild } from './ipc.ts';
import type { LockstepNodeRpc } from './servers/lockstep-node.ts';
import { SERVER_NODE_FLAGS } from './servers/node-flags.ts';

/**
 * Issue #15's flood: one `advance` member opens 20 sockets on a node and sends `mission:snapshot`
 * at 15/s on each (every socket within its §4 limit), while another mission's lead fires cues at
 * its driver on the same node. The table is that relay, lead's emit to the driver's `trigger`
 * event, quiet and then under the flood.
 */
export interface FloodSettings {
  phaseMs: number;
  sockets: number;
  perSocketPerSecond: number;
  cuesPerSecond: number;
  observations: number;
}

export const FLOOD_SETTINGS: FloodSettings = { phaseMs: 5000, sockets: 20, perSocketPerSecond: 15, cuesPerSecond: 10, observations: 100 };

interface Phase {
  name: string;
  samplesMs: number[];
  lost: number;
  rssMb: number;
  /** The node's CPU over the phase, % of one core, and its event-loop delay p99: whether the node itself was the bottleneck. */
  nodeCpu: number;
  loopDelayP99Ms: number;
}

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest rank: the ⌈q·n⌉-th smallest. */
const percentile = (sorted: readonly number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;

async function api<T>(url: string, adminToken: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

function connect(url: string, token: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  socket.on('probe', (_probe: unknown, answer: (reply: unknown) => void) => answer({ deviceAt: Date.now() }));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Fires cues from the lead for `ms` and times each to the driver's `trigger` event (one process, one clock). */
async function measureRelay(
  lead: Socket,
  driver: Socket,
  ms: number,
  cuesPerSecond: number,
): Promise<{ samplesMs: number[]; lost: number }> {
  const sentAt = new Map<string, number>();
  const samplesMs: number[] = [];
  const onCue = (cue: { id: string }, receipt?: (r: unknown) => void) => {
    const at = sentAt.get(cue.id);
    receipt?.({ shownAt: Date.now() });
    if (at === undefined) return;
    samplesMs.push(performance.now() - at);
    sentAt.delete(cue.id);
  };
  driver.on('trigger', onCue);
  const timer = setInterval(() => {
    const id = randomUUID();
    sentAt.set(id, performance.now());
    lead.emit('trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v1'] } }, () => undefined);
  }, 1000 / cuesPerSecond);
  await sleep(ms);
  clearInterval(timer);
  // Cues still in flight get up to 5 s to arrive; what has not by then counts as lost.
  for (let waited = 0; sentAt.size > 0 && waited < 5000; waited += 50) await sleep(50);
  driver.off('trigger', onCue);
  return { samplesMs, lost: sentAt.size };
}

export async function runFlood(redis: RedisServer, settings: FloodSettings, progress: (line: string) => void): Promise<string[]> {
  const adminToken = `bench-admin-${randomUUID()}`;
  const node = await BenchChild.start<LockstepNodeRpc>('lockstep node', './servers/lockstep-node.ts', {
    env: {
      BENCH_REDIS_URL: redis.url,
      BENCH_REDIS_PREFIX: `bench:${randomUUID()}:`,
      BENCH_ADMIN_TOKEN: adminToken,
      BENCH_JOURNAL_PATH: join(redis.dir, `journal-${randomUUID()}.jsonl`),
    },
    nodeFlags: SERVER_NODE_FLAGS,
    startTimeoutMs: 30_000,
  });
  const flooder = await BenchChild.start<FlooderRpc>('flooder', './flood/flooder.ts', { startTimeoutMs: 30_000 });
  try {
    const url = node.url;
    if (!url) throw new Error('the node did not say where it listens');
    const mission = async (members: { callsign: string; role: string; vehicleId?: string }[]) => {
      const { id } = await api<{ id: string }>(url, adminToken, '/api/missions', {
        name: 'Flood bench',
        vehicles: [{ id: 'v1', callsign: 'ALPHA' }],
        settings: { overload: { count: 100, windowMs: 5000 } },
      });
      const tokens: Record<string, string> = {};
      for (const member of members)
        tokens[member.callsign] = (await api<{ token: string }>(url, adminToken, `/api/missions/${id}/members`, member)).token;
      await api(url, adminToken, `/api/missions/${id}/start`, { force: true });
      return tokens;
    };
    const measured = await mission([
      { callsign: 'LEAD', role: 'lead' },
      { callsign: 'DRV', role: 'driver', vehicleId: 'v1' },
    ]);
    const posters = ['ADV-1', 'ADV-2', 'ADV-3'];
    const flooded = await mission(posters.map((callsign) => ({ callsign, role: 'advance' })));
    // The flooded mission holds its snapshot's 100 observations, posted by three members within their limits.
    await Promise.all(
      posters.map(async (callsign, p) => {
        const poster = await connect(url, flooded[callsign] ?? '');
        const mine = Array.from({ length: Math.ceil(settings.observations / posters.length) }, (_, i) => i * posters.length + p);
        await Promise.all(
          mine.map((i) =>
            poster.emitWithAck('observation:post', {
              id: randomUUID(),
              category: 'crowd',
              severity: 'info',
              text: `observation ${i} `.repeat(10),
            }),
          ),
        );
        poster.close();
      }),
    );

    const lead = await connect(url, measured.LEAD ?? '');
    const driver = await connect(url, measured.DRV ?? '');
    const stats = () => node.call('stats', { gc: false, resetLoopDelay: true }, 30_000);
    const rss = async () => (await node.call('stats', { gc: true, resetLoopDelay: false }, 30_000)).rssBytes / MB;
    const phases: Phase[] = [];
    /** Measures the relay over one phase, with what the node spent on it. */
    const phase = async (name: string) => {
      const before = await stats();
      const startedAt = performance.now();
      const relay = await measureRelay(lead, driver, settings.phaseMs, settings.cuesPerSecond);
      const after = await stats();
      const nodeCpu = ((after.cpuSeconds - before.cpuSeconds) / ((performance.now() - startedAt) / 1000)) * 100;
      phases.push({ name, ...relay, rssMb: await rss(), nodeCpu, loopDelayP99Ms: after.loopDelayP99Ms });
    };

    progress(`flood bench: quiet phase, ${settings.phaseMs / 1000} s`);
    await measureRelay(lead, driver, 1000, settings.cuesPerSecond); // warm-up
    await phase('quiet');

    progress(`flood bench: ${settings.sockets} sockets × ${settings.perSocketPerSecond} snapshots/s, ${settings.phaseMs / 1000} s`);
    await flooder.call('open', { url, token: flooded['ADV-1'] ?? '', sockets: settings.sockets }, 60_000);
    const flooding = flooder.call(
      'flood',
      { perSocketPerSecond: settings.perSocketPerSecond, durationMs: settings.phaseMs },
      settings.phaseMs + 60_000,
    );
    // The relay is measured while the flood runs, once its sockets are open.
    await phase('under flood');
    const report: FloodReport = await flooding;
    lead.close();
    driver.close();
    return floodTable(settings, phases, report);
  } finally {
    await Promise.all([node.stop(5000), flooder.stop(5000)]);
  }
}

function floodTable(settings: FloodSettings, phases: Phase[], report: FloodReport): string[] {
  const fmt = (ms: number) => (Number.isNaN(ms) ? '—' : ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
  const rows = phases.map((phase) => {
    const sorted = [...phase.samplesMs].sort((a, b) => a - b);
    return { phase, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), max: sorted.at(-1) ?? Number.NaN };
  });
  const [quiet, flood] = rows;
  const ratio = quiet && flood ? flood.p95 / quiet.p95 : Number.NaN;
  return [
    `Flood (issue #15): one advance member, ${settings.sockets} sockets × ${settings.perSocketPerSecond} mission:snapshot/s (each socket within its 20/s), ` +
      `snapshot of ${settings.observations} observations; another mission's lead → driver relay at ${settings.cuesPerSecond} cues/s, ${settings.phaseMs / 1000} s per phase.`,
    '',
    '| phase | cues | lost | relay p50 ms | relay p95 ms | relay max ms | node CPU % | node loop delay p99 ms | node RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.phase.name} | ${r.phase.samplesMs.length} | ${r.phase.lost} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.max)} | ${r.phase.nodeCpu.toFixed(0)} | ${fmt(r.phase.loopDelayP99Ms)} | ${r.phase.rssMb.toFixed(0)} |`,
    ),
    '',
    `Flood: ${report.sent} snapshots sent, ${report.answered} answered, ${report.rateLimited} rate_limited, ${report.otherRefusals} other refusals, ` +
      `${report.unanswered} unanswered; ${report.evicted} sockets evicted by the cap, ${report.openAtEnd} open at the end.`,
    `Relay p95 under flood / quiet: ${Number.isNaN(ratio) ? '—' : `${ratio.toFixed(2)}×`} (target ≤ 2×). ` +
      `Cues fewer than ${(settings.phaseMs / 1000) * settings.cuesPerSecond} in a phase mean the bench process itself was starved of CPU: the machine was busy.`,
  ];
}
