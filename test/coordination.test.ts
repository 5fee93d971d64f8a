import type { Alert, MissionSettingsInput } from '@lockstep/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  STANDARD_MEMBERS,
  closeAllSockets,
  collect,
  connect,
  createMission,
  newId,
  nextEvent,
  request,
  requestOk,
  useHub,
  type Client,
} from './support/hub.ts';

/** docs/PROTOCOL.md §3 "Coordination alerts" and §11, on one node on the run's Redis. */
const hub = useHub({ presence: { probeIntervalMs: 200, offlineAfterMs: 1000 } });
afterEach(() => closeAllSockets());

const PLAN = { routes: [{ id: 'main', name: 'Main', kind: 'primary' as const }] };
const hold = (vehicleIds: string[] | 'convoy') => ({
  id: newId(),
  type: 'hold',
  target: vehicleIds === 'convoy' ? { convoy: true } : { vehicleIds },
});
const threat = (text = 'grey van closing') => ({ id: newId(), category: 'vehicle', severity: 'threat', text });

async function detail(settings: MissionSettingsInput, options: { start?: boolean } = {}) {
  const mission = await createMission(hub, { members: STANDARD_MEMBERS, settings, start: options.start ?? true });
  const member = (callsign: string) => mission.members[callsign]!;
  return { mission, member, connectAs: (callsign: string) => connect(hub, member(callsign).token) };
}

/**
 * Deadlines fire earliest first, one claim after another: once the silence of a threat posted
 * now has been raised, every deadline due before it has been decided. What a test expects
 * *not* to happen is asserted after this, never after a sleep.
 */
async function afterEverythingDueNow(observer: Client, watcher: Client): Promise<void> {
  const { observation } = await requestOk(observer, 'observation:post', threat('barrier'));
  await nextEvent(watcher, 'alert', (a) => a.kind === 'silence' && a.observationId === observation.id, 8000);
}

/** The alerts of a kind that were raised, each once however often it came again (resolved). */
const ofKind = (alerts: Alert[], kind: Alert['kind']) => [...new Map(alerts.filter((a) => a.kind === kind).map((a) => [a.id, a])).values()];

describe('overload (§3)', () => {
  it('relays every cue, warns from the one past the count, and raises one alert per burst with its figures', async () => {
    const { connectAs } = await detail({ overload: { count: 3, windowMs: 60_000 }, silenceMs: 1000 });
    const ops = await connectAs('OPS');
    const alerts = collect(ops, 'alert');
    const lead = await connectAs('LEAD');
    const driver = await connectAs('DRV-1');

    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await requestOk(lead, 'trigger:issue', hold(['v1'])));
    // Exactly `count` cues: no warning.
    expect(replies.map((r) => r.warnings)).toEqual([undefined, undefined, undefined]);

    const raised = nextEvent(ops, 'alert', (a) => a.kind === 'overload');
    const fourth = await requestOk(lead, 'trigger:issue', hold(['v1']));
    expect(fourth.warnings).toEqual(['overload']);
    const [alert] = await raised;
    expect(alert).toMatchObject({ vehicleId: 'v1', triggerId: fourth.trigger.id, count: 4, thresholdMs: 60_000 });
    expect(alert.valueMs).toBe(fourth.trigger.issuedAt - replies[0]!.trigger.issuedAt);

    // Still the same burst: warned again, no second alert; another vehicle counts on its own.
    expect((await requestOk(lead, 'trigger:issue', hold(['v1']))).warnings).toEqual(['overload']);
    expect((await requestOk(lead, 'trigger:issue', hold(['v2']))).warnings).toBeUndefined();
    expect((await requestOk(driver, 'mission:snapshot', {})).triggers).toHaveLength(5);
    await afterEverythingDueNow(driver, ops);
    expect(ofKind(alerts, 'overload')).toHaveLength(1);
  });

  it('counts a cue to the convoy against every vehicle', async () => {
    const { connectAs } = await detail({ overload: { count: 1, windowMs: 60_000 } });
    const ops = await connectAs('OPS');
    const lead = await connectAs('LEAD');
    await requestOk(lead, 'trigger:issue', hold('convoy'));
    const both = new Set<string>();
    const raised = nextEvent(ops, 'alert', (a) => a.kind === 'overload' && both.add(a.vehicleId ?? '').size === 2);
    expect((await requestOk(lead, 'trigger:issue', hold('convoy'))).warnings).toEqual(['overload']);
    await raised;
    expect([...both].sort()).toEqual(['v1', 'v2']);
  });
});

describe('silence (§3)', () => {
  it('raises silence for a threat no trigger answers within silenceMs, naming the observer and the observation', async () => {
    const { connectAs, member } = await detail({ silenceMs: 1000 });
    const ops = await connectAs('OPS');
    const driver = await connectAs('DRV-1');
    const raised = nextEvent(ops, 'alert', (a) => a.kind === 'silence', 8000);
    const { observation } = await requestOk(driver, 'observation:post', threat());
    const [alert] = await raised;
    expect(alert).toMatchObject({ memberId: member('DRV-1').memberId, observationId: observation.id, valueMs: 1000 });
    expect(alert.at - observation.at).toBeGreaterThanOrEqual(1000);
  });

  it('raises nothing when a trigger follows the threat in time, nor for an observation that is not a threat', async () => {
    const { connectAs } = await detail({ silenceMs: 1000 });
    const ops = await connectAs('OPS');
    const alerts = collect(ops, 'alert');
    const driver = await connectAs('DRV-1');
    const cpo = await connectAs('CPO-1');
    const answered = await requestOk(driver, 'observation:post', threat());
    await requestOk(driver, 'observation:post', { id: newId(), category: 'crowd', severity: 'caution' });
    await requestOk(cpo, 'trigger:issue', hold(['v1']));
    await afterEverythingDueNow(driver, ops);
    expect(ofKind(alerts, 'silence').map((a) => a.observationId)).not.toContain(answered.observation.id);
    expect(ofKind(alerts, 'silence')).toHaveLength(1);
  });
});

describe('plan-unacked (§3)', () => {
  it('on a forced start, raises it at once for each driver who has not acked, and the server resolves it when they ack', async () => {
    const { connectAs, member, mission } = await detail({ silenceMs: 1000 }, { start: false });
    await hub.api('PUT', `/api/missions/${mission.id}/plan`, { body: PLAN });
    const ops = await connectAs('OPS');
    const alerts = collect(ops, 'alert');
    const acked = await connectAs('DRV-1');
    await requestOk(acked, 'plan:ack', { version: 1 });

    const raised = nextEvent(ops, 'alert', (a) => a.kind === 'plan-unacked');
    expect((await hub.api('POST', `/api/missions/${mission.id}/start`, { body: { force: true } })).status).toBe(200);
    const [alert] = await raised;
    expect(alert).toMatchObject({ memberId: member('DRV-2').memberId, vehicleId: 'v2', planVersion: 1 });
    expect(alert.resolvedAt).toBeUndefined();

    const late = await connectAs('DRV-2');
    const resolved = nextEvent(ops, 'alert', (a) => a.id === alert.id && a.resolvedAt !== undefined);
    await requestOk(late, 'plan:ack', { version: 1 });
    expect((await resolved)[0]).toMatchObject({ resolvedBy: 'system' });
    await afterEverythingDueNow(acked, ops);
    expect(ofKind(alerts, 'plan-unacked').map((a) => a.memberId)).not.toContain(member('DRV-1').memberId);
    expect((await requestOk(ops, 'mission:snapshot', {})).alerts.filter((a) => a.kind === 'plan-unacked')).toEqual([]);
  });

  it('after a plan change while active, raises it planAckGraceMs later for a driver who has not acked, and not for one who acked within the grace', async () => {
    const { connectAs, member, mission } = await detail({ planAckGraceMs: 1500, silenceMs: 1000 });
    const ops = await connectAs('OPS');
    const alerts = collect(ops, 'alert');
    const prompt = await connectAs('DRV-1');
    await connectAs('DRV-2');
    const raised = nextEvent(ops, 'alert', (a) => a.kind === 'plan-unacked', 8000);
    const changedAt = Date.now();
    expect((await hub.api('PUT', `/api/missions/${mission.id}/plan`, { body: PLAN })).body).toEqual({ version: 1 });
    await requestOk(prompt, 'plan:ack', { version: 1 });
    const [alert] = await raised;
    expect(alert).toMatchObject({ memberId: member('DRV-2').memberId, vehicleId: 'v2', planVersion: 1 });
    expect(alert.at - changedAt).toBeGreaterThanOrEqual(1500 - 50);
    await afterEverythingDueNow(prompt, ops);
    expect(ofKind(alerts, 'plan-unacked')).toHaveLength(1);
  });
});

describe('succession of command (§11)', () => {
  const grace = 600;

  /** The standard detail and a second vehicle CPO, not started, with `line` (callsigns) as its succession of command. */
  async function successionDetail(line: string[]) {
    const mission = await createMission(hub, {
      members: [...STANDARD_MEMBERS, { callsign: 'CPO-2', role: 'cpo', vehicleId: 'v2' }],
      settings: { offlineGraceMs: grace },
      start: false,
    });
    const id = (callsign: string) => mission.members[callsign]!.memberId;
    const as = (callsign: string) => connect(hub, mission.members[callsign]!.token);
    await hub.api('PUT', `/api/missions/${mission.id}/plan`, { body: { ...PLAN, successionOfCommand: line.map(id) } });
    return { mission, id, as, ops: await as('OPS') };
  }

  it('names the first online member of the line acting lead once the lead has been gone offlineGraceMs, with its authority, and hands it back', async () => {
    const { mission, id, as, ops } = await successionDetail(['CPO-2', 'CPO-1']);
    const alerts = collect(ops, 'alert');
    const everyoneOnline = Promise.all(
      ['LEAD', 'CPO-1'].map((callsign) => nextEvent(ops, 'presence', (p) => p.memberId === id(callsign) && p.state === 'online')),
    );
    let lead = await as('LEAD');
    const cpo1 = await as('CPO-1');
    const driver2 = await as('DRV-2');
    await everyoneOnline;
    await hub.api('POST', `/api/missions/${mission.id}/start`, { body: { force: true } });
    expect(await request(cpo1, 'trigger:issue', hold('convoy'))).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    // The lead's sockets go away. CPO-2, first in line, is not online: CPO-1 takes command.
    const handedOver = nextEvent(ops, 'mission', (m) => m.actingLeadId !== undefined, 5000);
    const handoverAlert = nextEvent(ops, 'alert', (a) => a.kind === 'command-handover', 5000);
    const goneAt = Date.now();
    lead.close();
    const [acting] = await handedOver;
    expect(acting.actingLeadId).toBe(id('CPO-1'));
    const [alert] = await handoverAlert;
    expect(alert).toMatchObject({ memberId: id('CPO-1'), fromMemberId: id('LEAD') });
    expect(alert.at - goneAt).toBeGreaterThanOrEqual(grace);

    // The acting lead has the lead's authority: the convoy, and resolving alerts.
    const cue = nextEvent(driver2, 'trigger');
    expect(await request(cpo1, 'trigger:issue', hold('convoy'))).toMatchObject({ ok: true });
    await cue;
    expect(await request(cpo1, 'alert:resolve', { alertId: alert.id })).toMatchObject({ ok: true, alert: { resolvedBy: id('CPO-1') } });
    // Nobody else gains it: a plain cpo, even first in line and online now, a driver never.
    const cpo2 = await as('CPO-2');
    await nextEvent(ops, 'presence', (p) => p.memberId === id('CPO-2') && p.state === 'online');
    expect(await request(cpo2, 'trigger:issue', hold('convoy'))).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(cpo2, 'trigger:issue', hold(['v1']))).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(cpo2, 'alert:resolve', { alertId: alert.id })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(driver2, 'trigger:issue', hold(['v2']))).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await requestOk(cpo2, 'mission:snapshot', {})).mission.actingLeadId).toBe(id('CPO-1'));
    // Swapping a driver over HTTP is the acting lead's too, and not a plain cpo's.
    const swap = (callsign: string) =>
      hub.api('POST', `/api/missions/${mission.id}/vehicles/v1/driver`, {
        body: { callsign: 'ALPHA-D2' },
        token: mission.members[callsign]!.token,
      });
    expect((await swap('CPO-2')).status).toBe(403);
    expect((await swap('CPO-1')).status).toBe(201);

    // The lead is back: authority returns at once.
    const resumed = nextEvent(ops, 'mission', (m) => m.actingLeadId === undefined);
    lead = await as('LEAD');
    await resumed;
    expect(await request(cpo1, 'trigger:issue', hold('convoy'))).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(lead, 'trigger:issue', hold('convoy'))).toMatchObject({ ok: true });

    const log = (await hub.api('GET', `/api/missions/${mission.id}/log`)).body.events as { kind: string; memberId?: string }[];
    expect(log.filter((e) => e.kind.startsWith('command.')).map((e) => [e.kind, e.memberId])).toEqual([
      ['command.handover', id('CPO-1')],
      ['command.resumed', id('LEAD')],
    ]);
    expect(ofKind(alerts, 'command-handover')).toHaveLength(1);
  });

  it('passes command to the next online member in line when the acting lead has been gone offlineGraceMs', async () => {
    const { mission, id, as, ops } = await successionDetail(['CPO-1', 'CPO-2']);
    const bothOnline = Promise.all(
      ['CPO-1', 'CPO-2'].map((callsign) => nextEvent(ops, 'presence', (p) => p.memberId === id(callsign) && p.state === 'online')),
    );
    const cpo1 = await as('CPO-1');
    const cpo2 = await as('CPO-2');
    await bothOnline;
    await hub.api('POST', `/api/missions/${mission.id}/start`, { body: { force: true } });
    // The lead never connected: after the grace from the start, CPO-1 has command.
    await nextEvent(ops, 'alert', (a) => a.kind === 'command-handover' && a.memberId === id('CPO-1'), 5000);

    const next = nextEvent(ops, 'alert', (a) => a.kind === 'command-handover' && a.memberId === id('CPO-2'), 5000);
    const goneAt = Date.now();
    cpo1.close();
    const [alert] = await next;
    expect(alert).toMatchObject({ fromMemberId: id('CPO-1') });
    expect(alert.at - goneAt).toBeGreaterThanOrEqual(grace);
    expect(await request(cpo2, 'trigger:issue', hold('convoy'))).toMatchObject({ ok: true });
  });
});
