import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { AddMemberBody, AddMemberReply, CreateMissionBody } from '@lockstep/shared';
import type { Endpoint, MissionDevices } from './fleet/plan.ts';

/** A protective detail as the bench models it: one lead, one ops board, a driver per vehicle. */
export const DEVICES_PER_MISSION = 5;
const VEHICLES = [
  { id: 'v1', callsign: 'ALPHA' },
  { id: 'v2', callsign: 'BRAVO' },
  { id: 'v3', callsign: 'CHARLIE' },
];

/** Where each role of a mission connects: two nodes put the lead on one and everyone else on the other. */
export interface Placement {
  leadUrl: string;
  othersUrl: string;
}

/** node:http with keep-alive rather than fetch: it costs the bench less CPU per request while the server is set up. */
function post<T>(agent: Agent, url: string, adminToken: string, body: unknown, expected: number): Promise<T> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${adminToken}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          if (response.statusCode !== expected)
            return reject(new Error(`POST ${new URL(url).pathname} answered ${response.statusCode}: ${text.slice(0, 300)}`));
          try {
            resolve(JSON.parse(text) as T);
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/**
 * Creates `count` active missions through the HTTP API of `apiUrl`, as an operator would (docs/PROTOCOL.md §6).
 * Members of one mission are added in turn (each is a compare-and-set on the mission);
 * missions go `concurrency` at a time.
 */
export async function createLockstepMissions(
  apiUrl: string,
  adminToken: string,
  count: number,
  placement: Placement,
  concurrency: number,
): Promise<MissionDevices[]> {
  // A box-in every 2 s is more than a real detail fires; `overload` is raised past the default 4 per 10 s,
  // so it is raised higher here: the bench measures the relay, not the overload alert.
  const mission: CreateMissionBody = { name: 'Bench detail', vehicles: VEHICLES, settings: { overload: { count: 20, windowMs: 10_000 } } };
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const create = async (): Promise<MissionDevices> => {
    const { id } = await post<{ id: string }>(agent, `${apiUrl}/api/missions`, adminToken, mission, 201);
    const add = async (member: AddMemberBody, url: string): Promise<Endpoint> => {
      const { token } = await post<AddMemberReply>(agent, `${apiUrl}/api/missions/${id}/members`, adminToken, member, 201);
      return { url, token };
    };
    const lead = await add({ callsign: 'LEAD', role: 'lead' }, placement.leadUrl);
    const ops = await add({ callsign: 'OPS', role: 'ops' }, placement.othersUrl);
    const drivers: Endpoint[] = [];
    for (const [index, vehicle] of VEHICLES.entries())
      drivers.push(await add({ callsign: `DRV-${index + 1}`, role: 'driver', vehicleId: vehicle.id }, placement.othersUrl));
    await post(agent, `${apiUrl}/api/missions/${id}/start`, adminToken, { force: true }, 200);
    return { key: id, lead, ops, drivers };
  };

  const missions: MissionDevices[] = [];
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started += 1;
      missions.push(await create());
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } finally {
    agent.destroy();
  }
  return missions;
}

/** The bare relay has no API: a token is `missionKey|role`, made up here. */
export function bareMissions(placement: Placement, count: number): MissionDevices[] {
  return Array.from({ length: count }, () => {
    const key = randomUUID();
    const endpoint = (role: string, url: string): Endpoint => ({ url, token: `${key}|${role}` });
    return {
      key,
      lead: endpoint('lead', placement.leadUrl),
      ops: endpoint('ops', placement.othersUrl),
      drivers: VEHICLES.map(() => endpoint('driver', placement.othersUrl)),
    };
  });
}
