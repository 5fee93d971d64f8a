import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisStore, connectRedis, newTriggerRecord } from '@lockstep/server';
import type { TriggerCue } from '@lockstep/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  STANDARD_MEMBERS,
  closeAllSockets,
  collect,
  connect,
  createMission,
  deviceNow,
  newId,
  nextEvent,
  nodesCounted,
  request,
  requestOk,
  startHub,
  type Hub,
  until,
} from './support/hub.ts';
import { startNodeProcess, type NodeProcess } from './support/node-process.ts';
import { missionRecord } from './support/mission-record.ts';
import { RedisServer, freePort } from './support/redis-server.ts';

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
    expect(await request(driver, 'trigger:respond', { triggerId: id, response: 'ack', respondedAt: deviceNow() })).toMatchObject({
      ok: true,
      hesitation: false,
    });
    await answered;
  });

  it('sees a mission changed on another node at once: a node that holds the mission refuses a cue the moment it ends elsewhere', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const mission = await createMission(a, { members: STANDARD_MEMBERS });
    const lead = await connect(b, mission.members.LEAD!.token);
    // Node B reads the mission for each of these, and keeps it.
    await requestOk(lead, 'trigger:issue', { id: newId(), type: 'hold', target: { convoy: true } });
    expect((await b.api('GET', `/api/missions/${mission.id}`)).body).toMatchObject({ status: 'active' });

    expect((await a.api('POST', `/api/missions/${mission.id}/end`)).status).toBe(200);
    const refused = await request(lead, 'trigger:issue', { id: newId(), type: 'hold', target: { convoy: true } });
    expect(!refused.ok && refused.error.code).toBe('mission_not_active');
    expect((await b.api('GET', `/api/missions/${mission.id}`)).body).toMatchObject({ status: 'ended' });
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
    expect(await request(leadOnA, 'trigger:issue', { id: pending, type: 'go', target: { vehicleIds: ['v1'] } })).toMatchObject({
      ok: true,
    });

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

describe('coordination alerts when the node that set their deadline is SIGKILLed', () => {
  /** How many times the mission log says an alert of this kind was raised. */
  async function raisedInLog(on: NodeProcess, missionId: string, kind: string): Promise<number> {
    const log = await on.api('GET', `/api/missions/${missionId}/log`);
    return log.body.events.filter((e: { kind: string; data: { kind?: string } }) => e.kind === 'alert.raised' && e.data.kind === kind)
      .length;
  }

  it('raises silence once, from the other node', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const mission = await createMission(a, { members: STANDARD_MEMBERS, settings: { silenceMs: 2000 } });
    const ops = await connect(a, mission.members.OPS!.token);
    const driverOnB = await connect(b, mission.members['DRV-1']!.token);
    const raised = nextEvent(ops, 'alert', (x) => x.kind === 'silence', 10_000);
    const posted = await request(driverOnB, 'observation:post', { id: newId(), category: 'vehicle', severity: 'threat' });
    b.signal('SIGKILL');
    await b.exited;
    const [alert] = await raised;
    expect(posted.ok && alert.observationId).toBe(posted.ok && posted.observation.id);
    expect(await raisedInLog(a, mission.id, 'silence')).toBe(1);
  }, 30_000);

  it("counts the cues to one vehicle across nodes, and raises the burst's overload once though the node that judged it dies", async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const mission = await createMission(a, { members: STANDARD_MEMBERS, settings: { overload: { count: 3, windowMs: 60_000 } } });
    const ops = await connect(a, mission.members.OPS!.token);
    const leadOnA = await connect(a, mission.members.LEAD!.token);
    const cpoOnB = await connect(b, mission.members['CPO-1']!.token);
    const cue = () => ({ id: newId(), type: 'hold', target: { vehicleIds: ['v1'] } });
    // Listening from before the burst (the dying node may raise it first), long enough for a lease the dead node held (5 s) to run out on a loaded machine.
    const raised = nextEvent(ops, 'alert', (x) => x.kind === 'overload', 25_000);
    const replies = [];
    for (const issuer of [leadOnA, cpoOnB, leadOnA]) replies.push(await request(issuer, 'trigger:issue', cue()));
    expect(replies.map((r) => r.ok && r.warnings)).toEqual([undefined, undefined, undefined]);
    const fourth = await request(cpoOnB, 'trigger:issue', cue());
    b.signal('SIGKILL');
    expect(fourth).toMatchObject({ ok: true, warnings: ['overload'] });
    await b.exited;
    expect((await raised)[0]).toMatchObject({ vehicleId: 'v1', count: 4, triggerId: fourth.ok ? fourth.trigger.id : '' });
    expect(await raisedInLog(a, mission.id, 'overload')).toBe(1);
  }, 45_000);

  it('raises plan-unacked once, from the other node, after the grace of a plan changed on the dead one', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const mission = await createMission(a, { members: STANDARD_MEMBERS, settings: { planAckGraceMs: 2000 } });
    const ops = await connect(a, mission.members.OPS!.token);
    const raised = ['DRV-1', 'DRV-2'].map((callsign) =>
      nextEvent(ops, 'alert', (x) => x.kind === 'plan-unacked' && x.memberId === mission.members[callsign]!.memberId, 10_000),
    );
    expect((await b.api('PUT', `/api/missions/${mission.id}/plan`, { body: { routes: [] } })).status).toBe(200);
    b.signal('SIGKILL');
    await b.exited;
    const both = (await Promise.all(raised)).map(([alert]) => alert);
    expect(both).toMatchObject([
      { vehicleId: 'v1', planVersion: 1 },
      { vehicleId: 'v2', planVersion: 1 },
    ]);
    expect(await raisedInLog(a, mission.id, 'plan-unacked')).toBe(2);
  }, 30_000);

  it('hands command over once, from the other node, when the node that saw the lead go dies', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const mission = await createMission(a, { members: STANDARD_MEMBERS, settings: { offlineGraceMs: 1500 }, start: false });
    const [leadId, cpoId] = [mission.members.LEAD!.memberId, mission.members['CPO-1']!.memberId];
    await a.api('PUT', `/api/missions/${mission.id}/plan`, { body: { routes: [], successionOfCommand: [cpoId] } });
    const ops = await connect(b, mission.members.OPS!.token);
    const online = [leadId, cpoId].map((id) => nextEvent(ops, 'presence', (p) => p.memberId === id && p.state === 'online'));
    const leadOnA = await connect(a, mission.members.LEAD!.token);
    const cpoOnB = await connect(b, mission.members['CPO-1']!.token);
    await Promise.all(online);
    await a.api('POST', `/api/missions/${mission.id}/start`, { body: { force: true } });
    const gone = nextEvent(ops, 'presence', (p) => p.memberId === leadId && p.state === 'offline');
    leadOnA.close();
    await gone;
    a.signal('SIGKILL');
    await a.exited;
    const [alert] = await nextEvent(ops, 'alert', (x) => x.kind === 'command-handover', 10_000);
    expect(alert).toMatchObject({ memberId: cpoId, fromMemberId: leadId });
    expect(await request(cpoOnB, 'trigger:issue', { id: newId(), type: 'hold', target: { convoy: true } })).toMatchObject({ ok: true });
    expect(await raisedInLog(b, mission.id, 'command-handover')).toBe(1);
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
    await hub.app.store.issueTrigger(
      newTriggerRecord(stored!, issuer, issue, Date.now()),
      { at: Date.now(), kind: 'trigger.issued', data: {} },
      [],
    );
    const cue = nextEvent(driver, 'trigger', (c) => c.id === issue.id);
    expect(await request(lead, 'trigger:issue', issue)).toMatchObject({ ok: true, trigger: { id: issue.id } });
    expect((await cue)[0]).toMatchObject({ id: issue.id, seq: 1 });
  });

  it('keeps relaying on the node while Redis is down, then writes its journal so the log ends complete and in order', async () => {
    hub = await startHub({ redisUrl: redis.url });
    const mission = await createMission(hub, { members: STANDARD_MEMBERS });
    const lead = await connect(hub, mission.members.LEAD!.token);
    const driver = await connect(hub, mission.members['DRV-1']!.token);
    driver.on('trigger', (_cue, receipt) => receipt({ shownAt: deviceNow() }));
    const [before, during] = [newId(), newId()];
    const firstDelivered = nextEvent(lead, 'trigger:state', (s) => s.id === before && s.status === 'delivered');
    await request(lead, 'trigger:issue', { id: before, type: 'hold', target: { vehicleIds: ['v1'] } });
    await firstDelivered;

    await redis.shutdown();
    const cue = nextEvent(driver, 'trigger', (c) => c.id === during);
    const delivered = nextEvent(lead, 'trigger:state', (s) => s.id === during && s.status === 'delivered');
    expect(await request(lead, 'trigger:issue', { id: during, type: 'go', target: { vehicleIds: ['v1'] } })).toMatchObject({ ok: true });
    await cue;
    await delivered;
    expect(await request(driver, 'trigger:respond', { triggerId: during, response: 'ack', respondedAt: deviceNow() })).toMatchObject({
      ok: true,
    });
    expect((await hub.api('GET', '/healthz')).body).toEqual({ status: 'degraded', store: 'redis' });
    expect(await fetch(`${hub.url}/metrics`).then((r) => r.text())).toMatch(/lockstep_outage_journal_depth [1-9]/);

    await redis.restart();
    await until(async () => (await hub.api('GET', '/healthz')).body.status === 'ok');
    expect(await fetch(`${hub.url}/metrics`).then((r) => r.text())).toMatch(/lockstep_outage_journal_depth 0/);
    const log = await hub.api('GET', `/api/missions/${mission.id}/log`);
    const story = log.body.events
      .filter((e: { triggerId?: string }) => e.triggerId)
      .map((e: { kind: string; triggerId: string }) => `${e.kind} ${e.triggerId === before ? 'before' : 'during'}`);
    expect(story).toEqual([
      'trigger.issued before',
      'trigger.receipt before',
      'trigger.issued during',
      'trigger.receipt during',
      'trigger.answered during',
    ]);
    expect(log.body.events.map((e: { seq: number }) => e.seq)).toEqual(log.body.events.map((_: unknown, i: number) => i + 1));
    const snapshot = await requestOk(lead, 'mission:snapshot', {});
    expect(snapshot.triggers.find((t) => t.id === during)).toMatchObject({ status: 'answered' });
  }, 30_000);

  it('starts while Redis is down, and once Redis is back hears the other nodes: a cue from a node started later reaches its driver', async () => {
    const prefix = `outage-start:${randomUUID()}:`;
    await redis.shutdown();
    hub = await startHub({ redisUrl: redis.url, prefix, peerCountMs: 100 });
    expect((await hub.api('GET', '/healthz')).body).toEqual({ status: 'degraded', store: 'redis' });

    await redis.restart();
    await until(async () => (await hub.api('GET', '/healthz')).body.status === 'ok');
    await until(async () => (await nodesCounted(hub)) === 1, '1 node counted');
    const other = await startHub({ redisUrl: redis.url, prefix });
    try {
      const mission = await createMission(other, { members: STANDARD_MEMBERS });
      const lead = await connect(other, mission.members.LEAD!.token);
      const driver = await connect(hub, mission.members['DRV-1']!.token);
      const id = newId();
      const cue = nextEvent(driver, 'trigger', (c) => c.id === id);
      await requestOk(lead, 'trigger:issue', { id, type: 'extract', target: { vehicleIds: ['v1'] } });
      expect((await cue)[0]).toMatchObject({ id, seq: 1 });
    } finally {
      await other.close();
    }
  }, 30_000);

  it('replays the journal of a node that crashed during the outage when it starts again', async () => {
    const journalDir = mkdtempSync(join(tmpdir(), 'lockstep-journal-'));
    const port = String(await freePort());
    const first = await startNodeProcess(redis.url, adminToken, { PORT: port, LOCKSTEP_JOURNAL_DIR: journalDir });
    processes.push(first);
    const mission = await createMission(first, { members: STANDARD_MEMBERS });
    const lead = await connect(first, mission.members.LEAD!.token);
    const driver = await connect(first, mission.members['DRV-1']!.token);
    await request(lead, 'mission:snapshot', {});
    await request(driver, 'mission:snapshot', {});

    await redis.shutdown();
    const id = newId();
    const cue = nextEvent(driver, 'trigger', (c) => c.id === id);
    expect(await request(lead, 'trigger:issue', { id, type: 'extract', target: { vehicleIds: ['v1'] } })).toMatchObject({ ok: true });
    await cue;
    first.signal('SIGKILL');
    await first.exited;

    await redis.restart();
    const second = await startNodeProcess(redis.url, adminToken, { PORT: port, LOCKSTEP_JOURNAL_DIR: journalDir });
    processes.push(second);
    await until(async () => (await second.api('GET', '/healthz')).body.status === 'ok');
    const log = await second.api('GET', `/api/missions/${mission.id}/log`);
    expect(
      log.body.events.filter((e: { kind: string }) => e.kind === 'trigger.issued').map((e: { triggerId: string }) => e.triggerId),
    ).toEqual([id]);
  }, 40_000);
});

describe('a Redis that comes back with less than it had', () => {
  it('changes the record it holds now, not the one a node last wrote: a restart that lost the data does not let an old revision number undo another node’s write', async () => {
    const prefix = `restart:${randomUUID()}:`;
    const [a, b] = [0, 1].map(
      () =>
        new RedisStore(
          connectRedis(redis.url, () => {}),
          prefix,
        ),
    ) as [RedisStore, RedisStore];
    const ack =
      (member: string): Parameters<RedisStore['changeMission']>[1] =>
      (current) => ({ ok: true, value: { next: { ...current, planAcks: { ...current.planAcks, [member]: 1 } }, log: [] } });
    try {
      const mission = missionRecord('active');
      await a.createMission(mission, []);
      await a.changeMission(mission.id, ack('first'));

      // As a failover to a replica that had not caught up would: the same Redis, without what it held.
      await redis.kill();
      rmSync(join(redis.dir, 'appendonlydir'), { recursive: true, force: true });
      await redis.restart();
      await until(async () => (await a.ping()) && (await b.ping()));

      await b.createMission(mission, []);
      await b.changeMission(mission.id, ack('second'));
      const third = await a.changeMission(mission.id, ack('third'));
      expect(third.ok && Object.keys(third.value.planAcks).sort()).toEqual(['second', 'third']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 30_000);
});
