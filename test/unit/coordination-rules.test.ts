import { commandAfter, hasCommand, judgeCue, planAckDeadlines, stillUnacked, threatAnswered, type VehicleCueLoad } from '@lockstep/server';
import { MissionSettings, type Mission, type Presence } from '@lockstep/shared';
import { describe, expect, it } from 'vitest';

describe('overload (docs/PROTOCOL.md §3): one alert per burst of more than count cues within windowMs', () => {
  const limits = { count: 2, windowMs: 1000 };
  /** Feeds cues at these times; what each one was judged. */
  function feed(times: number[]) {
    let load: VehicleCueLoad | undefined;
    return times.map((at, i) => {
      const judged = judgeCue(load, { triggerId: `t${i}`, at }, limits);
      load = judged.load;
      return judged.burst ? `burst ${judged.burst.count}/${judged.burst.valueMs}` : judged.overloaded ? 'over' : 'ok';
    });
  }

  it('lets exactly count cues through, warns from the next, and alerts once for the burst', () => {
    expect(feed([0, 100, 200, 300, 400])).toEqual(['ok', 'ok', 'burst 3/200', 'over', 'over']);
  });

  it('counts only the cues of the last window', () => {
    expect(feed([0, 600, 1200, 1800])).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  it('keeps one burst while cues keep the window over, however long it lasts', () => {
    expect(feed([0, 400, 800, 1200, 1600, 2000, 2400])).toEqual(['ok', 'ok', 'burst 3/800', 'over', 'over', 'over', 'over']);
  });

  it('opens a new burst only after a whole window has passed since the last cue that was over', () => {
    // Over at 200; a window later (1200) the vehicle is quiet enough, so the burst at 1300 is a new one.
    expect(feed([0, 100, 200, 1200, 1250, 1300])).toEqual(['ok', 'ok', 'burst 3/200', 'ok', 'ok', 'burst 3/100']);
    // Back over before a whole window passed: still the first burst.
    expect(feed([0, 100, 200, 700, 900, 1100])).toEqual(['ok', 'ok', 'burst 3/200', 'over', 'over', 'over']);
  });
});

describe('silence (§3)', () => {
  it('is answered by a trigger issued from the threat up to silenceMs after it, not before, not later', () => {
    const threat = { at: 10_000 };
    expect(threatAnswered(threat, [{ issuedAt: 10_000 }], 5000)).toBe(true);
    expect(threatAnswered(threat, [{ issuedAt: 15_000 }], 5000)).toBe(true);
    expect(threatAnswered(threat, [{ issuedAt: 9_999 }, { issuedAt: 15_001 }], 5000)).toBe(false);
    expect(threatAnswered(threat, [], 5000)).toBe(false);
  });
});

const member = (memberId: string, role: Mission['members'][number]['role'], vehicleId?: string) => ({
  memberId,
  callsign: memberId.toUpperCase(),
  role,
  ...(vehicleId ? { vehicleId } : {}),
});

function mission(overrides: Partial<Mission> = {}): Mission {
  return {
    id: 'm',
    name: 'M',
    status: 'active',
    vehicles: [
      { id: 'v1', callsign: 'ALPHA' },
      { id: 'v2', callsign: 'BRAVO' },
    ],
    members: [member('lead', 'lead'), member('cpo1', 'cpo', 'v1'), member('cpo2', 'cpo', 'v2'), member('d1', 'driver', 'v1')],
    plan: { version: 1, routes: [], successionOfCommand: ['cpo1', 'cpo2', 'd1'] },
    planAcks: {},
    settings: MissionSettings.parse({ offlineGraceMs: 3000 }),
    createdAt: 0,
    startedAt: 1000,
    ...overrides,
  };
}

describe('plan-unacked (§3)', () => {
  it('is due for each driver who has not acked the plan in force, only while active and with a plan', () => {
    const acked = mission({ planAcks: { d1: 1 } });
    expect(planAckDeadlines(mission(), 5000)).toEqual([
      { deadline: { kind: 'plan-unacked', missionId: 'm', memberId: 'd1', version: 1 }, at: 5000 },
    ]);
    expect(planAckDeadlines(acked, 5000)).toEqual([]);
    expect(planAckDeadlines(mission({ status: 'planning' }), 5000)).toEqual([]);
    expect(planAckDeadlines(mission({ plan: { version: 0, routes: [] } }), 5000)).toEqual([]);
    expect(stillUnacked(mission(), 'd1', 1)).toMatchObject({ vehicleId: 'v1' });
    expect(stillUnacked(mission({ plan: { version: 2, routes: [] } }), 'd1', 1)).toBeUndefined();
    expect(stillUnacked(acked, 'd1', 1)).toBeUndefined();
  });
});

describe('succession of command (§11)', () => {
  const seen = (memberId: string, state: Presence['state'], at: number): [string, Presence] => [
    memberId,
    { memberId, callsign: memberId, role: 'cpo', state, lastSeenAt: at, ...(state === 'offline' ? { offlineSince: at } : {}) },
  ];
  const presence = (...entries: [string, Presence][]) => new Map(entries);

  it('names nobody while a lead is online, or stale', () => {
    expect(commandAfter(mission(), presence(seen('lead', 'online', 0), seen('cpo1', 'online', 0)), 10_000)).toEqual({
      actingLeadId: undefined,
    });
    expect(commandAfter(mission({ actingLeadId: 'cpo1' }), presence(seen('lead', 'stale', 0)), 10_000).actingLeadId).toBeUndefined();
  });

  it('waits out the grace from the moment the lead went offline, then names the first online member of the line', () => {
    const gone = presence(seen('lead', 'offline', 5000), seen('cpo1', 'offline', 4000), seen('cpo2', 'online', 0));
    expect(commandAfter(mission(), gone, 7999)).toEqual({ actingLeadId: undefined, reviewAt: 8000 });
    expect(commandAfter(mission(), gone, 8000)).toEqual({ actingLeadId: 'cpo2', fromMemberId: 'lead' });
  });

  it('counts a lead never seen as gone since the start', () => {
    expect(commandAfter(mission(), presence(seen('cpo1', 'online', 0)), 3999)).toEqual({ actingLeadId: undefined, reviewAt: 4000 });
    expect(commandAfter(mission(), presence(seen('cpo1', 'online', 0)), 4000).actingLeadId).toBe('cpo1');
  });

  it('keeps the acting lead while online and through their own grace, then passes to the next online in line', () => {
    const acting = mission({ actingLeadId: 'cpo1' });
    expect(commandAfter(acting, presence(seen('cpo1', 'online', 0), seen('cpo2', 'online', 0)), 10_000).actingLeadId).toBe('cpo1');
    const dropped = presence(seen('cpo1', 'offline', 9000), seen('cpo2', 'online', 0));
    expect(commandAfter(acting, dropped, 11_000)).toEqual({ actingLeadId: 'cpo1', reviewAt: 12_000 });
    expect(commandAfter(acting, dropped, 12_000)).toEqual({ actingLeadId: 'cpo2', fromMemberId: 'cpo1' });
  });

  it('never gives command to a driver, even one listed, nor to anyone while the mission is not active', () => {
    const onlyDriver = presence(seen('d1', 'online', 0));
    expect(commandAfter(mission(), onlyDriver, 10_000).actingLeadId).toBeUndefined();
    expect(commandAfter(mission({ status: 'planning' }), presence(seen('cpo1', 'online', 0)), 10_000).actingLeadId).toBeUndefined();
  });

  it('gives the acting lead the lead authority, and no one else', () => {
    const acting = mission({ actingLeadId: 'cpo1' });
    expect(hasCommand(member('cpo1', 'cpo', 'v1'), acting)).toBe(true);
    expect(hasCommand(member('cpo2', 'cpo', 'v2'), acting)).toBe(false);
    expect(hasCommand(member('d1', 'driver', 'v1'), mission({ actingLeadId: 'd1' }))).toBe(false);
    expect(hasCommand(member('lead', 'lead'), mission())).toBe(true);
  });
});
