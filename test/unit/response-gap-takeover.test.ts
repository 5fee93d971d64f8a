import { randomUUID } from 'node:crypto';
import type { Member, Mission } from '@lockstep/shared';
import {
  Alerts,
  Deadlines,
  type Fanout,
  MemoryStore,
  Metrics,
  ResponseGapTracker,
  type TriggerRecord,
  accept,
  newTriggerRecord,
  systemClock,
  timing,
} from '@lockstep/server';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { missionRecord } from '../support/mission-record.ts';

const lead: Member = { memberId: 'lead', callsign: 'LEAD', role: 'lead' };
const driver: Member = { memberId: 'drv', callsign: 'ALPHA-D', role: 'driver', vehicleId: 'v1' };

/**
 * The response-gap tracker of the node that takes a deadline over, on a store where the node
 * that claimed it first wrote the cue's new state (`moved`) and died before raising the alert.
 */
async function takeover(issuedAgoMs: number, moved: (trigger: TriggerRecord, now: number) => TriggerRecord) {
  const store = new MemoryStore();
  const mission: Mission = { ...missionRecord('active'), members: [lead, driver] };
  await store.createMission(mission, []);
  const told: { event: string; payload: unknown }[] = [];
  const fanout: Fanout = {
    toWatchers: (_missionId, event, payload) => void told.push({ event, payload }),
    presenceToWatchers: () => {},
    toMission: () => {},
    toMember: () => {},
    deliverCue: () => {},
    disconnectMember: () => {},
  };
  const logger = pino({ level: 'silent' });
  const metrics = new Metrics();
  const alerts = new Alerts({ store, fanout, clock: systemClock, metrics, logger });
  const deadlines = new Deadlines({ store, clock: systemClock, logger });
  const gaps = new ResponseGapTracker({
    store,
    deadlines,
    fanout,
    alerts,
    clock: systemClock,
    metrics,
    logger,
    rttOf: () => undefined,
    linkOf: () => ({}),
  });
  const now = systemClock.now();
  const issuedAt = now - issuedAgoMs;
  const trigger = newTriggerRecord(mission, lead, { id: randomUUID(), type: 'box-in', target: { convoy: true }, params: {} }, issuedAt);
  await store.issueTrigger(trigger, { at: issuedAt, kind: 'trigger.issued', data: {} }, []);
  await store.changeTrigger(trigger.id, (t) => accept({ next: moved(t, now), log: [] }));
  return { store, gaps, told, missionId: mission.id, triggerId: trigger.id };
}

describe('a response-gap deadline taken over from a node that died mid-way', () => {
  it('raises the undelivered alert the dead node did not, once however often the deadline fires', async () => {
    // Issued 3 s ago: past its 2 s threshold with no receipt.
    const { store, gaps, told, missionId, triggerId } = await takeover(
      3000,
      (t, now) => timing.markUndelivered(t, driver.memberId, now).trigger,
    );
    await gaps.fireUndelivered({ triggerId, memberId: driver.memberId });
    await gaps.fireUndelivered({ triggerId, memberId: driver.memberId });
    const raised = (await store.missionAlerts(missionId)).filter((a) => a.kind === 'undelivered');
    expect(raised).toEqual([expect.objectContaining({ triggerId, memberId: driver.memberId })]);
    expect(told.filter((t) => t.event === 'alert')).not.toHaveLength(0);
  });

  it('raises the expired alert the dead node did not, once however often the deadline fires', async () => {
    // Issued 40 s ago: past the default 30 s until a box-in goes stale.
    const { store, gaps, missionId, triggerId } = await takeover(40_000, (t, now) => timing.expire(t, now).trigger);
    await gaps.fireExpired({ triggerId });
    await gaps.fireExpired({ triggerId });
    const raised = (await store.missionAlerts(missionId)).filter((a) => a.kind === 'expired');
    expect(raised).toEqual([expect.objectContaining({ triggerId, memberId: driver.memberId })]);
  });
});
