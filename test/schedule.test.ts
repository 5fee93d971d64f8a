import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_MEMBERS, closeAllSockets, collect, connect, createMission, nextEvent, request, useHub } from './support/hub.ts';

const hub = useHub();
afterEach(() => closeAllSockets());

const MINUTE = 60_000;

describe('the schedule and its cascade (docs/PROTOCOL.md §10)', () => {
  it('marks legs: drift of the marked, the cascade to later legs, schedule-drift once, refusals in §4 order', async () => {
    // Planned far enough back that a mark made now is late by whole minutes whatever the machine's speed.
    const base = Date.now() - 30 * MINUTE;
    const legs = [
      { leg: 'pickup', plannedAt: base },
      { leg: 'depart', plannedAt: base + 10 * MINUTE },
      { leg: 'venue', plannedAt: base + 40 * MINUTE },
      { leg: 'home', plannedAt: base + 90 * MINUTE },
    ];
    const mission = await createMission(hub, {
      members: STANDARD_MEMBERS,
      settings: { scheduleDriftMs: 5 * MINUTE },
      plan: { routes: [], schedule: legs },
    });
    const planned = await hub.api('GET', `/api/missions/${mission.id}`);
    expect(planned.body.schedule).toEqual(legs.map((l) => ({ ...l, projectedAt: l.plannedAt, driftMs: 0 })));

    const lead = await connect(hub, mission.members.LEAD!.token);
    const ops = await connect(hub, mission.members.OPS!.token);
    const driver = await connect(hub, mission.members['DRV-1']!.token);
    const alerts = collect(ops, 'alert');
    const startedAt = planned.body.startedAt as number;

    // pickup, two minutes after the start: 28 minutes late. Every later leg is projected as late.
    const cascaded = nextEvent(driver, 'mission', (m) => m.schedule?.[0]?.actualAt !== undefined);
    const pickupAt = startedAt;
    const pickupLate = nextEvent(ops, 'alert', (a) => a.kind === 'schedule-drift');
    const first = await request(lead, 'schedule:mark', { leg: 'pickup', at: pickupAt });
    expect(first).toMatchObject({ ok: true });
    const drift = pickupAt - base;
    const expected = [
      { leg: 'pickup', plannedAt: base, actualAt: pickupAt, projectedAt: pickupAt, driftMs: drift },
      { leg: 'depart', plannedAt: base + 10 * MINUTE, projectedAt: base + 10 * MINUTE + drift, driftMs: drift },
      { leg: 'venue', plannedAt: base + 40 * MINUTE, projectedAt: base + 40 * MINUTE + drift, driftMs: drift },
      { leg: 'home', plannedAt: base + 90 * MINUTE, projectedAt: base + 90 * MINUTE + drift, driftMs: drift },
    ];
    if (!first.ok) throw new Error('not marked');
    expect(first.schedule).toEqual(expected);
    const [announced] = await cascaded;
    expect(announced.schedule).toEqual(expected);
    const [driftAlert] = await pickupLate;
    expect(driftAlert).toMatchObject({
      kind: 'schedule-drift',
      missionId: mission.id,
      leg: 'pickup',
      valueMs: drift,
      thresholdMs: 5 * MINUTE,
    });

    // depart, by ops, at the arrival: the drift now comes from depart and cascades on from there.
    const departLate = nextEvent(ops, 'alert', (a) => a.kind === 'schedule-drift' && a.leg === 'depart');
    const second = await request(ops, 'schedule:mark', { leg: 'depart' });
    if (!second.ok) throw new Error(`depart not marked: ${second.error.code}`);
    const depart = second.schedule[1]!;
    expect(depart.actualAt).toBeGreaterThanOrEqual(startedAt);
    expect(depart.driftMs).toBe((depart.actualAt ?? 0) - (base + 10 * MINUTE));
    expect(second.schedule[2]).toEqual({
      leg: 'venue',
      plannedAt: base + 40 * MINUTE,
      projectedAt: base + 40 * MINUTE + depart.driftMs,
      driftMs: depart.driftMs,
    });
    await departLate;

    // Refusals: the role, the payload, the leg, the state.
    expect(await request(driver, 'schedule:mark', { leg: 'venue' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(lead, 'schedule:mark', { leg: '' })).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    expect(await request(lead, 'schedule:mark', { leg: 'lunch' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await request(lead, 'schedule:mark', { leg: 'pickup' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await request(lead, 'schedule:mark', { leg: 'venue', at: Date.now() + MINUTE })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(await request(lead, 'schedule:mark', { leg: 'venue', at: startedAt - 1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });

    // The report gives each leg its drift; the snapshot holds each schedule-drift alert once.
    const report = await hub.api('GET', `/api/missions/${mission.id}/report`);
    expect(report.body.schedule.map((l: { leg: string; driftMs?: number }) => [l.leg, l.driftMs])).toEqual([
      ['pickup', drift],
      ['depart', depart.driftMs],
      ['venue', undefined],
      ['home', undefined],
    ]);
    const snapshot = await request(lead, 'mission:snapshot', {});
    if (!snapshot.ok) throw new Error('no snapshot');
    expect(snapshot.alerts.filter((a) => a.kind === 'schedule-drift').map((a) => a.leg)).toEqual(['pickup', 'depart']);
    expect(alerts.filter((a) => a.kind === 'schedule-drift')).toHaveLength(2);

    await hub.api('POST', `/api/missions/${mission.id}/end`);
    expect(await request(lead, 'schedule:mark', { leg: 'venue' })).toMatchObject({ ok: false, error: { code: 'mission_not_active' } });
  });

  it('keeps the marks of legs a new briefing keeps, and drops those it does not', async () => {
    const base = Date.now() - 20 * MINUTE;
    const mission = await createMission(hub, {
      members: STANDARD_MEMBERS,
      plan: {
        routes: [],
        schedule: [
          { leg: 'pickup', plannedAt: base },
          { leg: 'venue', plannedAt: base + 30 * MINUTE },
        ],
      },
    });
    const lead = await connect(hub, mission.members.LEAD!.token);
    const marked = await request(lead, 'schedule:mark', { leg: 'pickup' });
    expect(marked.ok).toBe(true);
    await hub.api('PUT', `/api/missions/${mission.id}/plan`, {
      body: {
        routes: [],
        schedule: [
          { leg: 'pickup', plannedAt: base },
          { leg: 'lunch', plannedAt: base + 10 * MINUTE },
        ],
      },
    });
    const { body } = await hub.api('GET', `/api/missions/${mission.id}`);
    expect(body.schedule.map((l: { leg: string; actualAt?: number }) => [l.leg, l.actualAt !== undefined])).toEqual([
      ['pickup', true],
      ['lunch', false],
    ]);
  });
});
