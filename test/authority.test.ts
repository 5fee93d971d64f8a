import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@lockstep/shared';
import {
  STANDARD_MEMBERS,
  TWO_VEHICLES,
  closeAllSockets,
  collect,
  connect,
  createMission,
  deviceNow,
  newId,
  nextEvent,
  request,
  requestRefused,
  requestOk,
  useHub,
  type Client,
} from './support/hub.ts';

const hub = useHub();
afterEach(() => closeAllSockets());

async function detail(options: { start?: boolean; plan?: boolean } = {}) {
  const mission = await createMission(hub, {
    members: [...STANDARD_MEMBERS, { callsign: 'ADV', role: 'advance' }],
    start: options.start ?? true,
    ...(options.plan
      ? {
          plan: {
            routes: [
              { id: 'main', name: 'Main', kind: 'primary' },
              { id: 'river', name: 'River', kind: 'alternate' },
            ],
          },
        }
      : {}),
  });
  const token = (callsign: string) => mission.members[callsign]!.token;
  return { mission, token };
}

/** What the hub holds for the mission: the refusals must leave it exactly as it was. */
async function triggersOf(socket: Client): Promise<string[]> {
  const snapshot = await requestOk(socket, 'mission:snapshot', {});
  return snapshot.triggers.map((t) => t.id);
}

const issue = (extra: Record<string, unknown> = {}) => ({ id: newId(), type: 'hold', target: { vehicleIds: ['v1'] }, ...extra });

describe('authority and bad input, in the order of checks of docs/PROTOCOL.md §4', () => {
  it('1. refuses an event the role may not send at all, before looking at the payload', async () => {
    const { token } = await detail();
    const driver = await connect(hub, token('DRV-1'));
    const cpo = await connect(hub, token('CPO-1'));
    const advance = await connect(hub, token('ADV'));
    expect(await request(driver, 'trigger:issue', issue())).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(driver, 'trigger:issue', 'not even an object')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(advance, 'trigger:issue', issue())).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(cpo, 'trigger:respond', { triggerId: newId(), response: 'ack', respondedAt: 1 })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await request(cpo, 'alert:resolve', { alertId: 'x' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('2. answers invalid_payload with zod issues for every malformed payload, and changes nothing', async () => {
    const { token } = await detail();
    const lead = await connect(hub, token('LEAD'));
    const driver = await connect(hub, token('DRV-1'));
    const cues = collect(driver, 'trigger');
    const cases: [string, unknown, string][] = [
      ['unknown trigger type', issue({ type: 'ram' }), 'type'],
      ['alt-route without routeId', issue({ type: 'alt-route' }), 'params'],
      ['non-uuid id', issue({ id: '42' }), 'id'],
      ['extra junk', issue({ junk: true }), ''],
      ['params on a type without params', issue({ params: { speed: 90 } }), 'params'],
      ['empty vehicle list', issue({ target: { vehicleIds: [] } }), 'target'],
      ['no payload', undefined, ''],
      ['an array', [1, 2], ''],
    ];
    for (const [what, payload, path] of cases) {
      const reply = await requestRefused(lead, 'trigger:issue', payload);
      expect(reply, what).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
      expect(reply.error.issues?.length, what).toBeGreaterThan(0);
      if (path)
        expect(
          reply.error.issues?.map((i) => i.path[0]),
          what,
        ).toContain(path);
    }
    const tooLong = await request(lead, 'observation:post', { id: newId(), category: 'vehicle', severity: 'info', text: 'x'.repeat(281) });
    expect(tooLong).toMatchObject({ ok: false, error: { code: 'invalid_payload', issues: [{ path: ['text'] }] } });
    const unableWithoutReason = await request(driver, 'trigger:respond', {
      triggerId: newId(),
      response: 'unable',
      respondedAt: deviceNow(),
    });
    expect(unableWithoutReason).toMatchObject({ ok: false, error: { code: 'invalid_payload', issues: [{ path: ['reason'] }] } });
    expect(await triggersOf(lead)).toEqual([]);
    expect(cues).toEqual([]);
  });

  it('3. refuses a cpo targeting beyond their own vehicle, before checking the vehicles exist', async () => {
    const { token } = await detail();
    const cpo = await connect(hub, token('CPO-1'));
    const driver2 = await connect(hub, token('DRV-2'));
    const cues = collect(driver2, 'trigger');
    for (const target of [{ vehicleIds: ['v2'] }, { convoy: true }, { vehicleIds: ['v1', 'v2'] }, { vehicleIds: ['v1', 'ghost'] }]) {
      expect(await request(cpo, 'trigger:issue', issue({ target })), JSON.stringify(target)).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      });
    }
    expect(await request(cpo, 'trigger:issue', issue())).toMatchObject({ ok: true });
    await request(driver2, 'mission:snapshot', {});
    expect(cues).toEqual([]);
  });

  it('4. answers not_found for a vehicle that does not exist, and for a cue addressed to another vehicle', async () => {
    const { token } = await detail();
    const lead = await connect(hub, token('LEAD'));
    const driver2 = await connect(hub, token('DRV-2'));
    expect(await request(lead, 'trigger:issue', issue({ target: { vehicleIds: ['ghost'] } }))).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(await request(lead, 'trigger:issue', issue({ type: 'breakdown', params: { toVehicleId: 'ghost' } }))).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    const forVehicle1 = issue();
    await request(lead, 'trigger:issue', forVehicle1);
    const answer = await requestRefused(driver2, 'trigger:respond', {
      triggerId: forVehicle1.id,
      response: 'ack',
      respondedAt: deviceNow(),
    });
    expect(answer).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const unknown = await requestRefused(driver2, 'trigger:respond', { triggerId: newId(), response: 'ack', respondedAt: deviceNow() });
    expect(unknown.error).toEqual(answer.error);
  });

  it('5. refuses by state: a mission not active, an unknown route of the plan', async () => {
    const planning = await detail({ start: false });
    const leadInPlanning = await connect(hub, planning.token('LEAD'));
    expect(await request(leadInPlanning, 'trigger:issue', issue())).toMatchObject({ ok: false, error: { code: 'mission_not_active' } });

    const briefed = await detail({ plan: true });
    const lead = await connect(hub, briefed.token('LEAD'));
    const driver = await connect(hub, briefed.token('DRV-1'));
    expect(await request(lead, 'trigger:issue', issue({ type: 'alt-route', params: { routeId: 'ring-road' } }))).toMatchObject({
      ok: false,
      error: { code: 'unknown_route' },
    });
    const cue = nextEvent(driver, 'trigger');
    expect(await request(lead, 'trigger:issue', issue({ type: 'alt-route', params: { routeId: 'river' } }))).toMatchObject({ ok: true });
    expect((await cue)[0]).toMatchObject({ label: 'ALT ROUTE River', params: { routeId: 'river' } });
  });

  it('lets lead and ops resolve an alert, once; a vehicle without a driver is undelivered at once', async () => {
    const mission = await createMission(hub, { vehicles: [...TWO_VEHICLES, { id: 'v3', callsign: 'CHARLIE' }], members: STANDARD_MEMBERS });
    const lead = await connect(hub, mission.members.LEAD!.token);
    const ops = await connect(hub, mission.members.OPS!.token);
    const id = newId();
    const raised = nextEvent(ops, 'alert', (a) => a.kind === 'undelivered' && a.triggerId === id, 500);
    await request(lead, 'trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v3'] } });
    const [alert] = await raised;
    expect(alert).toMatchObject({ vehicleId: 'v3', triggerId: id });
    const resolvedAtLead = nextEvent(lead, 'alert', (a) => a.id === alert.id && a.resolvedAt !== undefined);
    expect(await request(ops, 'alert:resolve', { alertId: alert.id, note: 'driver on radio' })).toMatchObject({
      ok: true,
      alert: { id: alert.id, note: 'driver on radio' },
    });
    await resolvedAtLead;
    expect(await request(lead, 'alert:resolve', { alertId: alert.id })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await request(lead, 'alert:resolve', { alertId: 'hesitation:nothing:here' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
  });
});

describe('tokens', () => {
  it('refuses a device that speaks another protocol version, saying which one the server speaks', async () => {
    const { token } = await detail();
    const refused = connect(hub, token('DRV-1'), { protocol: PROTOCOL_VERSION + 1 });
    await expect(refused).rejects.toThrow('incompatible_protocol');
    await expect(refused).rejects.toMatchObject({ data: { protocol: PROTOCOL_VERSION } });
    await expect(connect(hub, token('DRV-1'), { protocol: PROTOCOL_VERSION })).resolves.toBeDefined();
    await expect(connect(hub, token('DRV-1'))).resolves.toBeDefined();
  });

  it('refuses a forged token and a token of another mission where it has no right', async () => {
    const a = await detail();
    const b = await detail();
    await expect(connect(hub, 'forged-token-that-was-never-issued')).rejects.toThrow('unauthorized');
    await expect(connect(hub, '')).rejects.toThrow('unauthorized');
    expect((await hub.api('GET', `/api/missions/${b.mission.id}`, { token: a.token('LEAD') })).status).toBe(403);
    expect((await hub.api('POST', `/api/missions/${b.mission.id}/end`, { token: a.token('LEAD') })).status).toBe(403);
    expect(
      (await hub.api('DELETE', `/api/missions/${b.mission.id}/members/${b.mission.members['DRV-1']!.memberId}`, { token: a.token('LEAD') }))
        .status,
    ).toBe(403);
    expect((await hub.api('GET', `/api/missions/${b.mission.id}`, { token: b.token('LEAD') })).status).toBe(200);
    expect((await hub.api('GET', `/api/missions/${b.mission.id}`, { token: 'forged' })).status).toBe(401);
  });

  it('revokes a member: its sockets are closed and its token no longer opens a socket or calls the API', async () => {
    const { mission, token } = await detail();
    const driver = await connect(hub, token('DRV-1'));
    const closed = new Promise((resolve) => driver.once('disconnect', resolve));
    const revoked = await hub.api('DELETE', `/api/missions/${mission.id}/members/${mission.members['DRV-1']!.memberId}`, {
      token: token('LEAD'),
    });
    expect(revoked.status).toBe(204);
    await closed;
    await expect(connect(hub, token('DRV-1'))).rejects.toThrow('unauthorized');
    expect((await hub.api('GET', `/api/missions/${mission.id}`, { token: token('DRV-1') })).status).toBe(401);
    const log = await hub.api('GET', `/api/missions/${mission.id}/log`);
    expect(log.body.events.some((e: { kind: string }) => e.kind === 'member.revoked')).toBe(true);
  });

  it('never writes a token to the logs', async () => {
    const { mission, token } = await detail();
    const lead = await connect(hub, token('LEAD'));
    await request(lead, 'trigger:issue', issue());
    await fetch(`${hub.url}/driver?token=${token('DRV-1')}`);
    await hub.api('GET', `/api/missions/${mission.id}`, { token: token('OPS') });
    await connect(hub, 'a-forged-token-to-be-refused').catch(() => undefined);
    const logs = hub.logLines.join('');
    expect(logs).toContain('request');
    for (const secret of [...Object.values(mission.members).map((m) => m.token), hub.adminToken, 'a-forged-token-to-be-refused']) {
      expect(logs).not.toContain(secret);
    }
  });
});

describe('abuse', () => {
  it('answers rate_limited beyond a burst of 40, counts it in /metrics, and keeps serving', async () => {
    const { token } = await detail();
    const ops = await connect(hub, token('OPS'));
    const replies = await Promise.all(Array.from({ length: 60 }, () => request(ops, 'plan:ack', { version: 0 })));
    const limited = replies.filter((r) => !r.ok && r.error.code === 'rate_limited').length;
    expect(replies.filter((r) => r.ok).length).toBeGreaterThanOrEqual(40);
    expect(limited).toBeGreaterThanOrEqual(15);
    const metrics = await fetch(`${hub.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/lockstep_refusals_total\{code="rate_limited"\} \d+/);
  });

  it('drops a socket that sends a payload over 64 kB, and stays up for everyone else', async () => {
    const { token } = await detail();
    const flooder = await connect(hub, token('ADV'));
    const dropped = new Promise((resolve) => flooder.once('disconnect', resolve));
    (flooder.emit as (...args: unknown[]) => void)('observation:post', {
      id: newId(),
      category: 'other',
      severity: 'info',
      text: 'x'.repeat(70 * 1024),
    });
    await dropped;
    const lead = await connect(hub, token('LEAD'));
    expect(await request(lead, 'trigger:issue', issue())).toMatchObject({ ok: true });
  });

  it('processes an event sent without a callback the same way, and survives junk arguments', async () => {
    const { mission, token } = await detail();
    const lead = await connect(hub, token('LEAD'));
    const driver = await connect(hub, token('DRV-1'));
    const cue = nextEvent(driver, 'trigger');
    const id = newId();
    (lead.emit as (...args: unknown[]) => void)('trigger:issue', { id, type: 'go', target: { vehicleIds: ['v1'] } });
    expect((await cue)[0].id).toBe(id);
    (lead.emit as (...args: unknown[]) => void)('trigger:issue', null, 'extra', 42);
    (lead.emit as (...args: unknown[]) => void)('no:such:event', { anything: true });
    expect(await request(lead, 'mission:snapshot', {})).toMatchObject({ ok: true });
    const log = await hub.api('GET', `/api/missions/${mission.id}/log`);
    const refused = log.body.events.filter(
      (e: { kind: string; data: { code?: string } }) => e.kind === 'refused' && e.data.code === 'invalid_payload',
    );
    // The unknown name is refused before any handler runs, so the two lines may come in either order.
    expect(refused.map((e: { data: { request: string } }) => e.data.request).sort()).toEqual(['trigger:issue', 'unknown: no:such:event']);
  });
});
