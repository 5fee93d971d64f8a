import { randomUUID } from 'node:crypto';
import { newTriggerRecord } from '@lockstep/server';
import type { TriggerCue } from '@lockstep/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_MEMBERS, closeAllSockets, collect, connect, createMission, deviceNow, newId, nextEvent, request, startHub, type Hub } from './support/hub.ts';
import { startNodeProcess, type NodeProcess } from './support/node-process.ts';
import { RedisServer } from './support/redis-server.ts';

/** These tests own their Redis, so they can restart it; and run nodes as processes, so they can kill them. */
let redis: RedisServer;
const processes: NodeProcess[] = [];
const adminToken = `admin-${randomUUID()}`;

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterEach(() => {
  closeAllSockets();
  for (const node of processes.splice(0)) node.signal('SIGKILL');
});
afterAll(() => redis.stop());

async function node(): Promise<NodeProcess> {
  const started = await startNodeProcess(redis.url, adminToken);
  processes.push(started);
  return started;
}

describe('several nodes on one Redis', () => {
  it('relays from a lead on node A to a driver on node B and back, with presence across nodes', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const mission = await createMission(a, { members: STANDARD_MEMBERS, settings: { thresholds: { default: 1000 } } });
    const lead = await connect(a, mission.members.LEAD!.token);
    const driverId = mission.members['DRV-1']!.memberId;
    const online = nextEvent(lead, 'presence', (p) => p.memberId === driverId && p.state === 'online' && p.rttMs !== undefined);
    const driver = await connect(b, mission.members['DRV-1']!.token);
    await online;
    const cue = nextEvent(driver, 'trigger');
    const id = newId();
    const answered = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.status === 'answered');
    await request(lead, 'trigger:issue', { id, type: 'extract', target: { vehicleIds: ['v1'] } });
    const [received, receipt] = await cue;
    receipt({ shownAt: deviceNow() });
    expect(received).toMatchObject({ id, label: 'EXTRACT NOW', seq: 1 });
    expect(await request(driver, 'trigger:respond', { triggerId: id, response: 'ack', respondedAt: deviceNow() })).toMatchObject({ ok: true, hesitation: false });
    await answered;
  });

  it('loses nothing when the driver node is SIGKILLed: the hesitation it owned fires once, from the other node', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const mission = await createMission(a, { members: STANDARD_MEMBERS, settings: { thresholds: { default: 1500 } } });
    const ops = await connect(a, mission.members.OPS!.token);
    const hesitations = collect(ops, 'alert');
    const lead = await connect(b, mission.members.LEAD!.token);
    const driverOnB = await connect(b, mission.members['DRV-1']!.token);
    const first = nextEvent(driverOnB, 'trigger');
    const [delivered, pending] = [newId(), newId()];
    const receiptRecorded = nextEvent(ops, 'trigger:state', (s) => s.id === delivered && s.status === 'delivered');
    await request(lead, 'trigger:issue', { id: delivered, type: 'hold', target: { vehicleIds: ['v1'] } });
    const [, receipt] = await first;
    receipt({ shownAt: deviceNow() });
    await receiptRecorded;

    // Node B held the driver, the lead and the hesitation timer. It dies before the threshold.
    b.signal('SIGKILL');
    await b.exited;
    const leadOnA = await connect(a, mission.members.LEAD!.token);
    expect(await request(leadOnA, 'trigger:issue', { id: pending, type: 'go', target: { vehicleIds: ['v1'] } })).toMatchObject({ ok: true });

    const hesitation = await nextEvent(ops, 'alert', (x) => x.kind === 'hesitation' && x.triggerId === delivered, 4000);
    expect(hesitation[0]).toMatchObject({ memberId: mission.members['DRV-1']!.memberId, thresholdMs: 1500 });

    let cues: TriggerCue[] = [];
    let replayed: Promise<unknown> = Promise.resolve();
    await connect(a, mission.members['DRV-1']!.token, {
      lastSeq: 1,
      before: (socket) => {
        cues = collect(socket, 'trigger');
        replayed = nextEvent(socket, 'trigger', (c) => c.id === pending);
      },
    });
    await replayed;
    expect(cues.map((c) => [c.id, c.seq])).toEqual([[pending, 2]]);
    await request(leadOnA, 'mission:snapshot', {});
    expect(hesitations.filter((x) => x.kind === 'hesitation' && x.triggerId === delivered)).toHaveLength(1);
  }, 30_000);

  it('shuts down on SIGTERM within 10 s, closing its sockets so devices reconnect elsewhere', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const mission = await createMission(a, { members: STANDARD_MEMBERS });
    const driver = await connect(b, mission.members['DRV-1']!.token);
    const dropped = new Promise<string>((resolve) => driver.once('disconnect', resolve));
    const sentAt = Date.now();
    b.signal('SIGTERM');
    // "io server disconnect" would stop socket.io-client from reconnecting; a transport close lets it.
    expect(await dropped).not.toBe('io server disconnect');
    expect(await b.exited).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    const lead = await connect(a, mission.members.LEAD!.token);
    const again = await connect(a, mission.members['DRV-1']!.token);
    const cue = nextEvent(again, 'trigger');
    await request(lead, 'trigger:issue', { id: newId(), type: 'hold', target: { vehicleIds: ['v1'] } });
    await cue;
  }, 30_000);
});

describe('Redis trouble', () => {
  let hub: Hub;
  afterEach(() => hub?.close());

  it('delivers a trigger whose node wrote it and died before emitting, when the lead retries it', async () => {
    hub = await startHub({ redisUrl: redis.url });
    const mission = await createMission(hub, { members: STANDARD_MEMBERS });
    const lead = await connect(hub, mission.members.LEAD!.token);
    const driver = await connect(hub, mission.members['DRV-1']!.token);
    const stored = await hub.app.store.getMission(mission.id);
    const issuer = stored!.members.find((m) => m.callsign === 'LEAD')!;
    const issue = { id: newId(), type: 'hold' as const, target: { vehicleIds: ['v1'] }, params: {} };
    // What the dead node left behind: the trigger, durably written, never emitted.
    await hub.app.store.issueTrigger(newTriggerRecord(stored!, issuer, issue, Date.now()), { at: Date.now(), kind: 'trigger.issued', data: {} }, []);
    const cue = nextEvent(driver, 'trigger', (c) => c.id === issue.id);
    expect(await request(lead, 'trigger:issue', issue)).toMatchObject({ ok: true, trigger: { id: issue.id } });
    expect((await cue)[0]).toMatchObject({ id: issue.id, seq: 1 });
  });

  it('loses no cue across a Redis restart: a refused issue retried by id lands once, and the log is complete', async () => {
    hub = await startHub({ redisUrl: redis.url });
    const mission = await createMission(hub, { members: STANDARD_MEMBERS });
    const lead = await connect(hub, mission.members.LEAD!.token);
    const driver = await connect(hub, mission.members['DRV-1']!.token);
    const cues = collect(driver, 'trigger');
    const before = newId();
    await request(lead, 'trigger:issue', { id: before, type: 'hold', target: { vehicleIds: ['v1'] } });

    await redis.shutdown();
    const during = { id: newId(), type: 'go', target: { vehicleIds: ['v1'] } };
    const refused = await request(lead, 'trigger:issue', during);
    expect(refused).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect((await hub.api('GET', '/healthz')).body).toEqual({ status: 'degraded', store: 'redis' });
    await redis.restart();

    // The handset's outbox retries with the same id until the hub says ok.
    let reply = await request(lead, 'trigger:issue', during);
    for (let attempt = 0; !reply.ok && attempt < 50; attempt++) {
      await nextEvent(lead, 'presence', () => true, 200).catch(() => undefined);
      reply = await request(lead, 'trigger:issue', during);
    }
    expect(reply).toMatchObject({ ok: true });
    await nextEvent(driver, 'trigger', (c) => c.id === during.id).catch(() => undefined);
    expect(cues.map((c) => c.id)).toEqual([before, during.id]);
    const log = await hub.api('GET', `/api/missions/${mission.id}/log`);
    const issued = log.body.events.filter((e: { kind: string }) => e.kind === 'trigger.issued').map((e: { triggerId: string }) => e.triggerId);
    expect(issued).toEqual([before, during.id]);
  }, 30_000);
});
