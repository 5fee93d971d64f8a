import type { Member, Presence } from '@lockstep/shared';
import { MemoryStore, PresenceTracker, PROTOCOL_PRESENCE, systemClock } from '@lockstep/server';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { missionRecord } from '../support/mission-record.ts';

/** A presence tracker on a memory store, telling what it announces to `told`. */
async function tracker() {
  const store = new MemoryStore();
  const mission = missionRecord('active');
  await store.createMission(mission, []);
  const told: Presence[] = [];
  let flushed!: () => void;
  const announced = new Promise<void>((resolve) => (flushed = resolve));
  const presence = new PresenceTracker({
    store,
    fanout: {
      presenceToWatchers: (updates) => {
        told.push(...updates.map((u) => u.presence));
        flushed();
      },
    } as ConstructorParameters<typeof PresenceTracker>[0]['fanout'],
    clock: systemClock,
    timing: PROTOCOL_PRESENCE,
    logger: pino({ level: 'silent' }),
    watcher: { changing: async () => {}, changed: async () => {} },
    // Used only when a driver stays offline, which these tests do not reach.
    deadlines: undefined as never,
    alerts: undefined as never,
  });
  return { presence, missionId: mission.id, told, announced };
}

const driver: Member = { memberId: 'drv-1', callsign: 'ALPHA-D', role: 'driver', vehicleId: 'v1' };

describe('what the watchers are told of a device that connects', () => {
  it('is one presence, online with its first round trip, not one without it and another with it', async () => {
    const { presence, missionId, told, announced } = await tracker();
    presence.attach(driver, missionId, {
      id: 'tablet',
      probe: async () => ({ rttMs: 12, serverAt: Date.now(), deviceAt: Date.now() }),
    });
    await announced;
    presence.close();
    expect(told).toEqual([expect.objectContaining({ memberId: 'drv-1', state: 'online', rttMs: 12 })]);
  });
});
