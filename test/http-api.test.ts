import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_MEMBERS, closeAllSockets, connect, createMission, request, startHub, type Hub } from './support/hub.ts';

let hub: Hub;
beforeAll(async () => {
  hub = await startHub();
});
afterAll(() => hub.close());
afterEach(() => closeAllSockets());

const PLAN = { routes: [{ id: 'main', name: 'Main', kind: 'primary' }] };

describe('HTTP API (docs/PROTOCOL.md §6)', () => {
  it('reports health and the store kind, and serves Prometheus metrics', async () => {
    expect(await hub.api('GET', '/healthz')).toEqual({ status: 200, body: { status: 'ok', store: 'redis' } });
    const memoryHub = await startHub({ store: 'memory' });
    expect((await memoryHub.api('GET', '/healthz')).body).toEqual({ status: 'ok', store: 'memory' });
    await memoryHub.close();
    const metrics = await fetch(`${hub.url}/metrics`).then((r) => r.text());
    for (const name of ['lockstep_relay_seconds', 'lockstep_response_gap_seconds', 'lockstep_connected_devices', 'lockstep_alerts_total'])
      expect(metrics).toContain(name);
  });

  it('creates a mission with settings defaulted, and refuses bad bodies with issues', async () => {
    const created = await hub.api('POST', '/api/missions', {
      body: { name: 'Op', vehicles: [{ id: 'v1', callsign: 'ALPHA' }], settings: { thresholds: { extract: 1500 } } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: 'planning',
      plan: { version: 0 },
      settings: { thresholds: { default: 2000, extract: 1500 }, staleMs: { default: 30_000 }, offlineGraceMs: 3000 },
    });

    const bad = [
      { name: '', vehicles: [] },
      { name: 'Op', vehicles: [{ id: 'Not A Slug', callsign: 'X' }] },
      {
        name: 'Op',
        vehicles: [
          { id: 'v1', callsign: 'A' },
          { id: 'v1', callsign: 'B' },
        ],
      },
      { name: 'Op', vehicles: [{ id: 'v1', callsign: 'A' }], settings: { thresholds: { default: 100 } } },
      { name: 'Op', vehicles: [{ id: 'v1', callsign: 'A' }], extra: 1 },
    ];
    for (const body of bad) {
      const refused = await hub.api('POST', '/api/missions', { body });
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error.code).toBe('invalid_payload');
      expect(refused.body.error.issues.length).toBeGreaterThan(0);
    }
    expect(await hub.api('POST', '/api/missions', { body: '{"name": "broken' })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_payload' } },
    });
    expect(
      (await hub.api('POST', '/api/missions', { body: { name: 'Op', vehicles: [{ id: 'v1', callsign: 'A' }] }, token: 'nope' })).status,
    ).toBe(401);
    expect((await hub.api('GET', '/api/missions/does-not-exist')).status).toBe(404);
  });

  it('adds members: one driver per vehicle, a vehicle for drivers and cpos, a vehicle that exists', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, start: false });
    const add = (body: unknown) => hub.api('POST', `/api/missions/${mission.id}/members`, { body });
    expect(await add({ callsign: 'DRV-X', role: 'driver', vehicleId: 'v1' })).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict' } },
    });
    expect(await add({ callsign: 'CPO-X', role: 'cpo' })).toMatchObject({ status: 400, body: { error: { code: 'invalid_payload' } } });
    expect(await add({ callsign: 'DRV-X', role: 'driver', vehicleId: 'v9' })).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    });
    expect(await add({ callsign: 'DRV-X', role: 'captain' })).toMatchObject({ status: 400 });
    const added = await add({ callsign: 'LIA', role: 'liaison' });
    expect(added.status).toBe(201);
    expect(added.body.token.length).toBeGreaterThanOrEqual(22);
    expect(
      (
        await hub.api('POST', `/api/missions/${mission.id}/members`, {
          body: { callsign: 'X', role: 'ops' },
          token: mission.members.LEAD!.token,
        })
      ).status,
    ).toBe(403);
  });

  it('will not start while a driver has not acked the plan, unless forced; then runs planning → active → ended', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, start: false, plan: PLAN as never });
    const leadToken = mission.members.LEAD!.token;
    const refused = await hub.api('POST', `/api/missions/${mission.id}/start`, { body: {}, token: leadToken });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('plan_not_acknowledged');
    expect(refused.body.error.missing.sort()).toEqual([mission.members['DRV-1']!.memberId, mission.members['DRV-2']!.memberId].sort());

    for (const callsign of ['DRV-1', 'DRV-2']) {
      const driver = await connect(hub, mission.members[callsign]!.token);
      expect(await request(driver, 'plan:ack', { version: 2 })).toMatchObject({ ok: false, error: { code: 'conflict' } });
      expect(await request(driver, 'plan:ack', { version: 1 })).toMatchObject({ ok: true });
    }
    const started = await hub.api('POST', `/api/missions/${mission.id}/start`, { body: {}, token: leadToken });
    expect(started).toMatchObject({ status: 200, body: { status: 'active' } });
    expect((await hub.api('POST', `/api/missions/${mission.id}/start`, { body: {}, token: leadToken })).status).toBe(409);
    expect((await hub.api('POST', `/api/missions/${mission.id}/start`, { body: {}, token: mission.members['CPO-1']!.token })).status).toBe(
      403,
    );
    expect(await hub.api('PUT', `/api/missions/${mission.id}/plan`, { body: PLAN, token: leadToken })).toMatchObject({
      status: 200,
      body: { version: 2 },
    });
    expect((await hub.api('POST', `/api/missions/${mission.id}/end`, { token: leadToken })).body.status).toBe('ended');
    expect((await hub.api('GET', `/api/missions/${mission.id}`, { token: mission.members['DRV-1']!.token })).body.status).toBe('ended');
  });

  it('serves the log to admin, lead and ops only', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS });
    expect((await hub.api('GET', `/api/missions/${mission.id}/log`, { token: mission.members.OPS!.token })).status).toBe(200);
    expect((await hub.api('GET', `/api/missions/${mission.id}/log`, { token: mission.members.LEAD!.token })).status).toBe(200);
    expect((await hub.api('GET', `/api/missions/${mission.id}/log`, { token: mission.members['DRV-1']!.token })).status).toBe(403);
    expect((await hub.api('GET', `/api/missions/${mission.id}/log`, { token: mission.members['CPO-1']!.token })).status).toBe(403);
    expect((await hub.api('GET', `/api/missions/${mission.id}/log?format=xml`)).status).toBe(400);
  });

  it('serves the three clients', async () => {
    for (const screen of ['driver', 'cpo', 'board']) {
      const response = await fetch(`${hub.url}/${screen}?token=abc`);
      expect(response.status, screen).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
    }
  });
});
