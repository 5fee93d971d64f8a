import { MISSION_CACHE_MAX_AGE_MS, MissionCache } from '@lockstep/server';
import { describe, expect, it } from 'vitest';
import { missionRecord } from '../support/mission-record.ts';

const mission = missionRecord;

function cache() {
  let now = 0;
  const missions = new MissionCache(() => now);
  missions.goLive();
  return { missions, advance: (ms: number) => (now += ms) };
}

describe('the mission cache of a node', () => {
  it('serves a mission read once until another node announces a newer revision', () => {
    const { missions } = cache();
    missions.keep(missions.begin('m1'), 3, mission('active'));
    expect(missions.get('m1')?.status).toBe('active');
    missions.announced('m1', 3);
    expect(missions.get('m1')?.status).toBe('active');
    missions.announced('m1', 4);
    expect(missions.get('m1')).toBeUndefined();
    missions.keep(missions.begin('m1'), 4, mission('ended'));
    expect(missions.get('m1')?.status).toBe('ended');
  });

  it('does not keep a read that an announcement overtook: the mission ended while the read was on its way', () => {
    const { missions } = cache();
    const reading = missions.begin('m1');
    missions.announced('m1', 5);
    missions.keep(reading, 4, mission('active'));
    expect(missions.get('m1')).toBeUndefined();
  });

  it('serves nothing while announcements may be missed, nor a read begun before they stopped', () => {
    const { missions } = cache();
    missions.keep(missions.begin('m1'), 1, mission('active'));
    const reading = missions.begin('m1');
    missions.stop();
    expect(missions.get('m1')).toBeUndefined();
    missions.goLive();
    missions.keep(reading, 1, mission('active'));
    expect(missions.get('m1')).toBeUndefined();
    missions.keep(missions.begin('m1'), 2, mission('ended'));
    expect(missions.get('m1')?.status).toBe('ended');
  });

  it('reads again after the maximum age, in case an announcement was lost', () => {
    const { missions, advance } = cache();
    missions.keep(missions.begin('m1'), 1, mission('active'));
    advance(MISSION_CACHE_MAX_AGE_MS);
    expect(missions.get('m1')).toBeDefined();
    advance(1);
    expect(missions.get('m1')).toBeUndefined();
  });

  it('hands out a frozen copy: a caller that changed a shared mission would fail at once', () => {
    const { missions } = cache();
    missions.keep(missions.begin('m1'), 1, mission('active'));
    const served = missions.get('m1')!;
    expect(() => {
      (served.vehicles as { callsign: string }[])[0]!.callsign = 'CHANGED';
    }).toThrow(TypeError);
  });

  it('lets callers share a read on its way, but not once an announcement came or announcements stopped', async () => {
    const { missions } = cache();
    const read = Promise.resolve(mission('active'));
    missions.share('m1', read);
    expect(missions.readUnderWay('m1')).toBe(read);
    missions.announced('m1', 2);
    expect(missions.readUnderWay('m1')).toBeUndefined();

    const again = new Promise<never>(() => {});
    missions.share('m1', again);
    missions.stop();
    expect(missions.readUnderWay('m1')).toBeUndefined();
    missions.goLive();
    expect(missions.readUnderWay('m1')).toBeUndefined();
  });

  it('stops sharing a read once it settled, failed or not', async () => {
    const { missions } = cache();
    const failed = Promise.reject(new Error('redis away'));
    missions.share('m1', failed);
    await expect(failed).rejects.toThrow('redis away');
    expect(missions.readUnderWay('m1')).toBeUndefined();
  });

  it('asks for a copy in use to be read again at half its maximum age, once, so no caller waits for the read', async () => {
    const { missions, advance } = cache();
    missions.keep(missions.begin('m1'), 1, mission('active'));
    advance(MISSION_CACHE_MAX_AGE_MS / 2);
    expect(missions.refreshDue('m1')).toBe(false);
    advance(1);
    expect(missions.refreshDue('m1')).toBe(true);

    const reading = missions.begin('m1');
    const read = Promise.resolve(missions.keep(reading, 1, mission('active')));
    missions.share('m1', read);
    expect(missions.refreshDue('m1')).toBe(false);
    await read;
    advance(MISSION_CACHE_MAX_AGE_MS / 2);
    expect(missions.refreshDue('m1')).toBe(false);
    expect(missions.get('m1')?.status).toBe('active');
  });
});
