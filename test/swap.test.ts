import type { Mission, TriggerCue } from '@lockstep/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  STANDARD_MEMBERS,
  closeAllSockets,
  connect,
  createMission,
  deviceNow,
  newId,
  nextEvent,
  request,
  requestOk,
  useHub,
  type Client,
} from './support/hub.ts';

const hub = useHub();
afterEach(() => closeAllSockets());

const disconnected = (socket: Client) => new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));

async function standbyDriver(callsign: string, roles = ['driver']) {
  const created = await hub.api('POST', '/api/people', { body: { name: `${callsign} Spare`, callsign, roles, standby: true } });
  return created.body.personId as string;
}

describe('swapping a driver (docs/PROTOCOL.md §9)', () => {
  it('mid-mission with a cue open: the new driver gets it once with its own seq; the old tablet is cut off; the old recipient is replaced', async () => {
    // A threshold no answer here comes near, even on a loaded machine: no live hesitation enters the script.
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, settings: { thresholds: { default: 10_000 } } });
    const lead = await connect(hub, mission.members.LEAD!.token);
    const oldDriver = await connect(hub, mission.members['DRV-1']!.token);
    // The old driver draws the cue and holds it without answering.
    oldDriver.on('trigger', (_cue, receipt) => receipt({ shownAt: deviceNow() }));
    const answered = newId();
    const first = nextEvent(oldDriver, 'trigger', (cue) => cue.id === answered);
    await request(lead, 'trigger:issue', { id: answered, type: 'go', target: { vehicleIds: ['v1'] } });
    await first;
    expect((await request(oldDriver, 'trigger:respond', { triggerId: answered, response: 'ack', respondedAt: deviceNow() })).ok).toBe(true);
    const open = newId();
    const delivered = nextEvent(lead, 'trigger:state', (s) => s.id === open && s.recipients[0]?.state === 'delivered');
    await request(lead, 'trigger:issue', { id: open, type: 'box-in', target: { vehicleIds: ['v1'] } });
    await delivered;

    const spare = await standbyDriver('SPARE');
    const told = nextEvent(oldDriver, 'mission', (m) =>
      m.members.some((x) => x.memberId === mission.members['DRV-1']!.memberId && x.replacedAt),
    );
    const cut = disconnected(oldDriver);
    const handed = nextEvent(lead, 'trigger:state', (s) => s.id === open && s.recipients.length === 2);
    const swap = await hub.api('POST', `/api/missions/${mission.id}/vehicles/v1/driver`, { body: { personId: spare } });
    expect(swap.status).toBe(201);
    expect(swap.body).toEqual({ memberId: expect.any(String), token: expect.any(String), replaced: mission.members['DRV-1']!.memberId });

    // The old tablet learns it was replaced, then is disconnected, and its token opens nothing.
    const [announced] = (await told) as [Mission];
    expect(announced.members).toContainEqual(
      expect.objectContaining({ memberId: mission.members['DRV-1']!.memberId, replacedBy: swap.body.memberId }),
    );
    expect(announced.members).toContainEqual(
      expect.objectContaining({ memberId: swap.body.memberId, callsign: 'SPARE', personId: spare, vehicleId: 'v1' }),
    );
    await cut;
    await expect(connect(hub, mission.members['DRV-1']!.token)).rejects.toThrow('unauthorized');

    const [state] = await handed;
    expect(state.status).toBe('pending');
    expect(state.recipients).toMatchObject([
      { memberId: mission.members['DRV-1']!.memberId, state: 'replaced' },
      { memberId: swap.body.memberId, callsign: 'SPARE', vehicleId: 'v1', state: 'pending', hesitation: false },
    ]);

    // The new tablet gets the open cue (not the answered one), once, with its own seq.
    const seen: TriggerCue[] = [];
    let shownAt = 0;
    const newDelivered = nextEvent(lead, 'trigger:state', (s) => s.id === open && s.recipients[1]?.state === 'delivered');
    const newDriver = await connect(hub, swap.body.token, {
      before: (s) =>
        s.on('trigger', (cue, receipt) => {
          seen.push(cue);
          shownAt = deviceNow();
          receipt({ shownAt });
        }),
    });
    const [afterReceipt] = await newDelivered;
    // The trigger's status ignores the replaced recipient.
    expect(afterReceipt.status).toBe('delivered');
    expect(seen).toMatchObject([{ id: open, seq: 1, vehicleId: 'v1', expired: false }]);
    // Its gap runs from its own tablet's shownAt, not the old one's.
    const respondedAt = deviceNow();
    const reply = await requestOk(newDriver, 'trigger:respond', { triggerId: open, response: 'ack', respondedAt });
    expect(reply).toMatchObject({ ok: true, gapMs: Math.round(respondedAt - shownAt), gapSource: 'device', hesitation: false });
    const snapshot = await requestOk(lead, 'mission:snapshot', {});
    expect(snapshot.triggers.find((t: { id: string }) => t.id === open)).toMatchObject({ status: 'answered' });
    expect(seen).toHaveLength(1);

    // The report keeps both people's figures apart; the log says who replaced whom.
    const report = await hub.api('GET', `/api/missions/${mission.id}/report`);
    const drivers = report.body.drivers as { memberId: string }[];
    expect(drivers.find((d) => d.memberId === mission.members['DRV-1']!.memberId)).toMatchObject({
      cues: 2,
      answered: 1,
      replaced: 1,
      replacedAt: expect.any(Number),
    });
    expect(drivers.find((d) => d.memberId === swap.body.memberId)).toMatchObject({
      personId: spare,
      cues: 1,
      answered: 1,
      replaced: 0,
      gapMs: { median: reply.gapMs, p90: reply.gapMs, max: reply.gapMs },
    });
    const log = (await hub.api('GET', `/api/missions/${mission.id}/log`)).body.events as {
      kind: string;
      memberId?: string;
      data: object;
    }[];
    expect(log.filter((e) => e.kind === 'member.replaced')).toEqual([
      expect.objectContaining({
        memberId: mission.members['DRV-1']!.memberId,
        data: { vehicleId: 'v1', replacedBy: swap.body.memberId, by: 'admin' },
      }),
    ]);

    // The next cue to the vehicle reaches the new driver only.
    const next = newId();
    const issued = await requestOk(lead, 'trigger:issue', { id: next, type: 'hold', target: { vehicleIds: ['v1'] } });
    expect(issued.trigger.recipients.map((r: { memberId: string }) => r.memberId)).toEqual([swap.body.memberId]);
  });

  it('by callsign in planning, by the lead; refuses a person not qualified to drive, a person already in, an unknown vehicle', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, start: false });
    const lead = mission.members.LEAD!.token;
    const path = (vehicleId: string) => `/api/missions/${mission.id}/vehicles/${vehicleId}/driver`;
    const byCallsign = await hub.api('POST', path('v2'), { body: { callsign: 'DRV-2B' }, token: lead });
    expect(byCallsign.status).toBe(201);
    expect(byCallsign.body.replaced).toBe(mission.members['DRV-2']!.memberId);
    const roster = (await hub.api('GET', `/api/missions/${mission.id}`)).body.members as { callsign: string; replacedAt?: number }[];
    expect(roster.filter((m) => m.replacedAt === undefined).map((m) => m.callsign)).toEqual(['LEAD', 'CPO-1', 'DRV-1', 'OPS', 'DRV-2B']);
    // A driver added to an empty vehicle replaces nobody.
    const empty = await createMission(hub, { members: [{ callsign: 'LEAD', role: 'lead' }], start: false });
    const first = await hub.api('POST', `/api/missions/${empty.id}/vehicles/v1/driver`, { body: { callsign: 'NEW' } });
    expect(first.status).toBe(201);
    expect(first.body.replaced).toBeUndefined();

    const cpoOnly = await standbyDriver('CPO-ONLY', ['cpo']);
    expect((await hub.api('POST', path('v1'), { body: { personId: cpoOnly } })).status).toBe(409);
    const spare = await standbyDriver('SPARE-2');
    expect((await hub.api('POST', path('v1'), { body: { personId: spare } })).status).toBe(201);
    expect((await hub.api('POST', path('v2'), { body: { personId: spare } })).status).toBe(409);
    expect((await hub.api('POST', path('v9'), { body: { callsign: 'X' } })).status).toBe(404);
    expect((await hub.api('POST', path('v1'), { body: { personId: newId() } })).status).toBe(404);
    expect((await hub.api('POST', path('v1'), { body: {} })).status).toBe(400);
    expect((await hub.api('POST', path('v1'), { body: { callsign: 'X' }, token: mission.members['CPO-1']!.token })).status).toBe(403);
    // The new roster's drivers still must ack the plan: the replaced one is no longer asked.
    await hub.api('PUT', `/api/missions/${mission.id}/plan`, { body: { routes: [] } });
    const start = await hub.api('POST', `/api/missions/${mission.id}/start`, { body: {} });
    expect(start.status).toBe(409);
    expect(start.body.error.missing).toHaveLength(2);
  });
});

describe('a new link for a member (docs/PROTOCOL.md §6)', () => {
  it('issues a new token; the old one dies and its sockets close', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS });
    const old = await connect(hub, mission.members['DRV-1']!.token);
    const cut = disconnected(old);
    const renewed = await hub.api('POST', `/api/missions/${mission.id}/members/${mission.members['DRV-1']!.memberId}/token`, {
      token: mission.members.LEAD!.token,
    });
    expect(renewed.status).toBe(201);
    expect(renewed.body).toEqual({ memberId: mission.members['DRV-1']!.memberId, token: expect.any(String) });
    expect(renewed.body.token).not.toBe(mission.members['DRV-1']!.token);
    await cut;
    await expect(connect(hub, mission.members['DRV-1']!.token)).rejects.toThrow('unauthorized');
    const fresh = await connect(hub, renewed.body.token);
    expect((await requestOk(fresh, 'mission:snapshot', {})).self.memberId).toBe(mission.members['DRV-1']!.memberId);
    const missing = await hub.api('POST', `/api/missions/${mission.id}/members/${newId()}/token`);
    expect(missing.status).toBe(404);
    const byOps = await hub.api('POST', `/api/missions/${mission.id}/members/${mission.members['DRV-2']!.memberId}/token`, {
      token: mission.members.OPS!.token,
    });
    expect(byOps.status).toBe(403);
    expect(hub.logLines.join('')).not.toContain(renewed.body.token);
  });
});

describe('the missions list (docs/PROTOCOL.md §6)', () => {
  it('lists newest first with counts, filtered by status, limited', async () => {
    const a = await createMission(hub, { members: STANDARD_MEMBERS, start: false });
    const b = await createMission(hub, { members: [{ callsign: 'LEAD', role: 'lead' }] });
    const listed = await hub.api('GET', '/api/missions?limit=2');
    expect(listed.status).toBe(200);
    expect(listed.body.missions).toEqual([
      {
        id: b.id,
        name: 'Test detail',
        status: 'active',
        createdAt: expect.any(Number),
        startedAt: expect.any(Number),
        vehicles: 2,
        members: 1,
      },
      { id: a.id, name: 'Test detail', status: 'planning', createdAt: expect.any(Number), vehicles: 2, members: 5 },
    ]);
    const planning = await hub.api('GET', '/api/missions?status=planning');
    expect(planning.body.missions[0].id).toBe(a.id);
    expect(planning.body.missions.every((m: { status: string }) => m.status === 'planning')).toBe(true);
    expect((await hub.api('GET', '/api/missions?status=paused')).status).toBe(400);
    expect((await hub.api('GET', '/api/missions', { token: a.members.LEAD!.token })).status).toBe(403);
  });
});
