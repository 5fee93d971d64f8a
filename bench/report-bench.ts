import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { RedisStore, connectRedis, newTriggerRecord, type LogDraft, type TriggerRecord } from '@lockstep/server';
import type { Member, Mission, TriggerCue } from '@lockstep/shared';
import type { RedisServer } from '@lockstep/test/support/redis-server';
import { io, type Socket } from 'socket.io-client';
import { BenchChild } from './ipc.ts';
import { summarise, type LatencySummary } from './latency.ts';
import type { LockstepNodeRpc } from './servers/lockstep-node.ts';
import { SERVER_NODE_FLAGS } from './servers/node-flags.ts';

/**
 * `npm run bench -- --report`: the after-action report of a long mission (issue #10) — 10
 * vehicles, 8 hours, 20,000 log events — asked for as JSON and as HTML from a Lockstep node on
 * Redis, while the same node relays a steady stream of cues in another mission: the report's
 * time, and the relay's latency with and without a report rendering.
 */
export const LONG_MISSION = { vehicles: 10, hours: 8, cues: 6000, logEvents: 20_000 } as const;

const RELAY_CUES_PER_SECOND = 20;
const IDLE_WINDOW_MS = 5000;
const RENDERS_EACH = 5;
const THRESHOLD_MS = 2000;

/** A deterministic spread of gaps (no Math.random: two runs seed the same mission). */
const gapOf = (k: number) => 400 + ((k * 7919) % 3600);

/** Writes the long mission straight into the store under the node's key prefix, as eight hours of relaying would have. */
async function seedLongMission(redisUrl: string, prefix: string): Promise<string> {
  const redis = connectRedis(redisUrl, () => undefined);
  const store = new RedisStore(redis, prefix);
  const endedAt = Date.now();
  const startedAt = endedAt - LONG_MISSION.hours * 3_600_000;
  const vehicles = Array.from({ length: LONG_MISSION.vehicles }, (_, i) => ({ id: `v${i + 1}`, callsign: `V${i + 1}` }));
  const lead: Member = { memberId: randomUUID(), callsign: 'LEAD', role: 'lead' };
  const drivers: Member[] = vehicles.map((v) => ({ memberId: randomUUID(), callsign: `${v.callsign}-D`, role: 'driver', vehicleId: v.id }));
  const mission: Mission = {
    id: randomUUID(),
    name: 'Long mission (bench)',
    status: 'ended',
    vehicles,
    members: [lead, ...drivers],
    plan: { version: 0, routes: [] },
    planAcks: {},
    settings: {
      thresholds: { default: THRESHOLD_MS },
      staleMs: { default: 30_000 },
      offlineGraceMs: 3000,
      overload: { count: 4, windowMs: 10_000 },
      silenceMs: 5000,
      planAckGraceMs: 30_000,
      scheduleDriftMs: 60_000,
    },
    createdAt: startedAt - 60_000,
    startedAt,
    endedAt,
  };
  await store.createMission(mission, [{ at: mission.createdAt, kind: 'mission.created', data: { name: mission.name, vehicles } }]);

  let logged = 1;
  const spacing = (endedAt - startedAt) / LONG_MISSION.cues;
  const seedCue = async (k: number) => {
    const issuedAt = Math.round(startedAt + k * spacing);
    const vehicleId = vehicles[k % vehicles.length]?.id ?? 'v1';
    const record = newTriggerRecord(
      mission,
      lead,
      { id: randomUUID(), type: 'hold', target: { vehicleIds: [vehicleId] }, params: {} },
      issuedAt,
    );
    const issued = await store.issueTrigger(
      record,
      {
        at: issuedAt,
        kind: 'trigger.issued',
        memberId: lead.memberId,
        triggerId: record.id,
        data: { type: 'hold', target: record.target },
      },
      [],
    );
    const expired = k % 100 === 99;
    const gapMs = gapOf(k);
    const log: LogDraft[] = [];
    const final = await store.changeTrigger(issued.trigger.id, (t: TriggerRecord) => {
      const r = t.recipients[0];
      if (!r) return { ok: true, value: { next: t, log: [] } };
      const deliveredAt = issuedAt + 40;
      log.push({ at: deliveredAt, kind: 'trigger.receipt', memberId: r.memberId, triggerId: t.id, data: { networkMs: 20 } });
      const recipient = expired
        ? { ...r, state: 'expired' as const, deliveredAt, hesitation: true }
        : {
            ...r,
            state: 'answered' as const,
            deliveredAt,
            response: 'ack' as const,
            gapMs,
            gapSource: 'device' as const,
            hesitation: gapMs > THRESHOLD_MS,
          };
      log.push(
        expired
          ? { at: t.staleAt, kind: 'trigger.expired', memberId: r.memberId, triggerId: t.id, data: { staleAt: t.staleAt } }
          : {
              at: deliveredAt + gapMs,
              kind: 'trigger.answered',
              memberId: r.memberId,
              triggerId: t.id,
              data: { response: 'ack', gapMs, hesitation: recipient.hesitation },
            },
      );
      return { ok: true, value: { next: { ...t, recipients: [recipient] }, log } };
    });
    logged += 3;
    const r = final.ok ? final.value.recipients[0] : undefined;
    // One alert in ten cues: the hesitations above 3.6 s and every expiry.
    if (r && (expired || (r.gapMs ?? 0) > 3600)) {
      const kind = expired ? 'expired' : 'hesitation';
      await store.raiseAlert(
        {
          id: `${kind}:${record.id}:${r.memberId}`,
          kind,
          missionId: mission.id,
          memberId: r.memberId,
          vehicleId,
          triggerId: record.id,
          at: issuedAt + THRESHOLD_MS,
        },
        { at: issuedAt + THRESHOLD_MS, kind: 'alert.raised', memberId: r.memberId, triggerId: record.id, data: { kind } },
      );
      logged++;
    }
  };
  for (let k = 0; k < LONG_MISSION.cues; k += 50) await Promise.all(Array.from({ length: 50 }, (_, i) => seedCue(k + i)));
  // Presence changes make up the rest of the 20,000 lines.
  const presence: LogDraft[] = Array.from({ length: LONG_MISSION.logEvents - logged }, (_, i) => ({
    at: Math.round(startedAt + (i * (endedAt - startedAt)) / (LONG_MISSION.logEvents - logged)),
    kind: 'presence',
    memberId: drivers[i % drivers.length]?.memberId,
    data: { state: i % 2 ? 'online' : 'stale' },
  }));
  for (let i = 0; i < presence.length; i += 500) await store.appendLog(mission.id, presence.slice(i, i + 500));
  await store.close();
  return mission.id;
}

interface ReportRow {
  label: string;
  summary: LatencySummary | undefined;
  note?: string;
}

/** A steady stream of cues from a lead to ten drivers of another mission; each cue's relay latency as the driver's socket sees it. */
async function relayStream(
  url: string,
  admin: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>,
) {
  const created = (await admin('POST', '/api/missions', {
    name: 'Relay while reporting',
    vehicles: Array.from({ length: 10 }, (_, i) => ({ id: `r${i + 1}`, callsign: `R${i + 1}` })),
    settings: { overload: { count: 100, windowMs: 1000 } },
  })) as { body: { id: string } };
  const missionId = created.body.id;
  const token = async (body: object) => ((await admin('POST', `/api/missions/${missionId}/members`, body)).body as { token: string }).token;
  const leadToken = await token({ callsign: 'LEAD', role: 'lead' });
  const driverTokens = await Promise.all(
    Array.from({ length: 10 }, (_, i) => token({ callsign: `R${i + 1}-D`, role: 'driver', vehicleId: `r${i + 1}` })),
  );
  await admin('POST', `/api/missions/${missionId}/start`, { force: true });

  const sentAt = new Map<string, number>();
  let samplesUs: number[] = [];
  const open = (t: string): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const socket = io(url, { transports: ['websocket'], auth: { token: t }, reconnection: false, forceNew: true });
      socket.on('probe', (_probe: unknown, answer: (a: { deviceAt: number }) => void) => answer({ deviceAt: Date.now() }));
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });
  const lead = await open(leadToken);
  const drivers = await Promise.all(driverTokens.map(open));
  for (const driver of drivers) {
    driver.on('trigger', (cue: TriggerCue, receipt: (r: { shownAt: number }) => void) => {
      const sent = sentAt.get(cue.id);
      if (sent !== undefined) samplesUs.push(Math.round((performance.now() - sent) * 1000));
      receipt({ shownAt: Date.now() });
      driver.emit('trigger:respond', { triggerId: cue.id, response: 'ack', respondedAt: Date.now() }, () => undefined);
    });
  }
  let k = 0;
  const timer = setInterval(() => {
    const id = randomUUID();
    sentAt.set(id, performance.now());
    lead.emit('trigger:issue', { id, type: 'hold', target: { vehicleIds: [`r${(k++ % 10) + 1}`] } }, () => undefined);
  }, 1000 / RELAY_CUES_PER_SECOND);
  return {
    /** The samples since the last call. */
    take(): number[] {
      const taken = samplesUs;
      samplesUs = [];
      return taken;
    },
    stop() {
      clearInterval(timer);
      for (const socket of [lead, ...drivers]) socket.close();
    },
  };
}

export async function runReportBench(redis: RedisServer, progress: (line: string) => void): Promise<string[]> {
  const prefix = `bench:${randomUUID()}:`;
  const adminToken = `bench-admin-${randomUUID()}`;
  progress(
    `report bench: seeding a mission of ${LONG_MISSION.vehicles} vehicles, ${LONG_MISSION.hours} h, ${LONG_MISSION.logEvents.toLocaleString('en-US')} log events`,
  );
  const seedStart = performance.now();
  const missionId = await seedLongMission(redis.url, prefix);
  const seededS = (performance.now() - seedStart) / 1000;
  const node = await BenchChild.start<LockstepNodeRpc>('lockstep node', './servers/lockstep-node.ts', {
    env: {
      BENCH_REDIS_URL: redis.url,
      BENCH_REDIS_PREFIX: prefix,
      BENCH_ADMIN_TOKEN: adminToken,
      BENCH_JOURNAL_PATH: join(redis.dir, `journal-${randomUUID()}.jsonl`),
    },
    nodeFlags: SERVER_NODE_FLAGS,
    startTimeoutMs: 30_000,
  });
  const url = node.url ?? '';
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : text };
  };

  try {
    const relay = await relayStream(url, admin);
    await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
    const idle = relay.take();
    const timings: Record<'json' | 'html', number[]> = { json: [], html: [] };
    const sizes: Record<'json' | 'html', number> = { json: 0, html: 0 };
    for (let i = 0; i < RENDERS_EACH; i++) {
      for (const format of ['json', 'html'] as const) {
        const started = performance.now();
        const response = await fetch(`${url}/api/missions/${missionId}/report?format=${format}`, {
          headers: { authorization: `Bearer ${adminToken}` },
        });
        const body = await response.arrayBuffer();
        timings[format].push(Math.round((performance.now() - started) * 1000));
        if (response.status !== 200) throw new Error(`report ${format} answered ${response.status}`);
        sizes[format] = body.byteLength;
      }
    }
    const rendering = relay.take();
    relay.stop();
    const rows: ReportRow[] = [
      { label: 'report, JSON', summary: summarise(timings.json), note: `${(sizes.json / 1e6).toFixed(1)} MB` },
      { label: 'report, HTML', summary: summarise(timings.html), note: `${(sizes.html / 1e6).toFixed(1)} MB` },
      { label: `relay, ${RELAY_CUES_PER_SECOND} cues/s, no report`, summary: summarise(idle) },
      { label: `relay, ${RELAY_CUES_PER_SECOND} cues/s, reports rendering back to back`, summary: summarise(rendering) },
    ];
    const ms = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(1));
    return [
      `After-action report of a long mission: ${LONG_MISSION.vehicles} vehicles, ${LONG_MISSION.hours} h, ${LONG_MISSION.cues.toLocaleString('en-US')} cues, ${LONG_MISSION.logEvents.toLocaleString('en-US')} log events (seeded in ${seededS.toFixed(1)} s), one Lockstep node on Redis; times are wall time at the client, in ms.`,
      '',
      '| measure | n | p50 | p90 | p99 | max | size |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.label} | ${r.summary?.count ?? 0} | ${ms(r.summary?.p50)} | ${ms(r.summary?.p90)} | ${ms(r.summary?.p99)} | ${ms(r.summary?.max)} | ${r.note ?? ''} |`,
      ),
    ];
  } finally {
    await node.stop(5000);
  }
}
