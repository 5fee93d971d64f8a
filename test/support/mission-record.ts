import { randomUUID } from 'node:crypto';
import { type Mission, MissionSettings } from '@lockstep/shared';

/** A mission as the store keeps it: one vehicle, no members yet, the default settings. */
export const missionRecord = (status: Mission['status']): Mission => ({
  id: randomUUID(),
  name: 'Test detail',
  status,
  vehicles: [{ id: 'v1', callsign: 'ALPHA' }],
  members: [],
  plan: { version: 0, routes: [] },
  planAcks: {},
  settings: MissionSettings.parse({}),
  createdAt: 1,
});
