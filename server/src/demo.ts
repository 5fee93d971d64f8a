import type { Missions } from './missions/missions.ts';

export interface DemoLinks {
  missionId: string;
  lead: string;
  drivers: { callsign: string; path: string }[];
  board: string;
}

/**
 * A two-vehicle demo mission, started, with a briefed plan so ALT ROUTE has routes to
 * offer: enough to run a drill from three browser tabs.
 */
export async function createDemoMission(missions: Missions): Promise<DemoLinks> {
  const mission = await missions.create({
    name: 'Demo — principal move, hotel to venue',
    vehicles: [
      { id: 'v1', callsign: 'ALPHA' },
      { id: 'v2', callsign: 'BRAVO' },
    ],
    settings: {
      thresholds: { default: 2000 },
      staleMs: { default: 30_000 },
      offlineGraceMs: 3000,
      overload: { count: 4, windowMs: 10_000 },
      silenceMs: 5000,
      planAckGraceMs: 30_000,
      scheduleDriftMs: 60_000,
    },
  });
  const add = async (callsign: string, role: 'lead' | 'driver' | 'ops', vehicleId?: string) => {
    const added = await missions.addMember(mission.id, { callsign, role, ...(vehicleId ? { vehicleId } : {}) });
    if (!added.ok) throw new Error(`demo member ${callsign}: ${added.refusal.message}`);
    return added.value.token;
  };
  const lead = await add('LEAD', 'lead');
  const drivers = [
    { callsign: 'ALPHA driver', path: `/driver?token=${await add('ALPHA-D', 'driver', 'v1')}` },
    { callsign: 'BRAVO driver', path: `/driver?token=${await add('BRAVO-D', 'driver', 'v2')}` },
  ];
  const board = await add('OPS', 'ops');
  await missions.putPlan(
    mission.id,
    {
      routes: [
        { id: 'main', name: 'Main', kind: 'primary' },
        { id: 'river', name: 'River', kind: 'alternate' },
        { id: 'north', name: 'North', kind: 'alternate' },
      ],
      safeHavens: [{ id: 'embassy', name: 'Embassy' }],
      hospitals: [{ id: 'st-marys', name: "St Mary's" }],
    },
    'demo',
  );
  await missions.start(mission.id, true, 'demo');
  return { missionId: mission.id, lead: `/cpo?token=${lead}`, drivers, board: `/board?token=${board}` };
}
