import { randomUUID } from 'node:crypto';
import { connect as connectTcp, type Socket } from 'node:net';
import { RedisPeers, type PeerIo } from '@lockstep/server';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  type Client,
  STANDARD_MEMBERS,
  closeAllSockets,
  connect,
  createMission,
  newId,
  nextEvent,
  nodesCounted,
  requestOk,
  startHub,
  type Hub,
  until,
} from './support/hub.ts';

const hubs: Hub[] = [];
const clients: Redis[] = [];
const monitors: Socket[] = [];
afterEach(async () => {
  closeAllSockets();
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
  for (const client of clients.splice(0)) client.disconnect();
  for (const monitor of monitors.splice(0)) monitor.destroy();
});

async function hub(prefix: string, peerCountMs: number): Promise<Hub> {
  const started = await startHub({ prefix, peerCountMs });
  hubs.push(started);
  return started;
}

const untilCounted = (node: Hub, nodes: number) => until(async () => (await nodesCounted(node)) === nodes, `${nodes} nodes counted`);

/**
 * MONITOR on a socket of its own, calling back with the channel of every PUBLISH Redis runs from
 * when it answers OK. ioredis's monitor() took the lines a busy Redis streams right behind its OK
 * for replies to nothing ("Command queue state error"), failing the test on a loaded machine.
 */
async function monitorPublishes(onPublish: (channel: string) => void): Promise<void> {
  const { hostname, port } = new URL(inject('redisUrl'));
  const socket = connectTcp(Number(port), hostname);
  monitors.push(socket);
  socket.setEncoding('utf8');
  let pending = '';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\r\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '+OK') resolve();
        // +<time> [<db> <client>] "publish" "<channel>" ...: each argument quoted, quotes inside escaped.
        const [command, channel] = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((quoted) => quoted[1]);
        if (command?.toLowerCase() === 'publish' && channel !== undefined) onPublish(channel);
      }
    });
    socket.write('MONITOR\r\n');
  });
}

/**
 * Every PUBLISH Redis runs on the channels between the hub's nodes (the adapter's; the mission
 * cache has its own), seen through MONITOR (a subscriber would be counted as a node).
 */
async function publishesOn(prefix: string): Promise<{ channels: string[]; settled: () => Promise<void> }> {
  const channels: string[] = [];
  const markers = new Map<string, () => void>();
  await monitorPublishes((channel) => {
    if (channel.startsWith(`${prefix}socket.io`)) channels.push(channel);
    markers.get(channel)?.();
  });
  const marker = new Redis(inject('redisUrl'));
  clients.push(marker);
  return {
    channels,
    // Redis runs commands one at a time: once a marker sent now is seen, every publish sent before it has been.
    settled: () =>
      new Promise((resolve) => {
        const channel = `marker:${randomUUID()}`;
        markers.set(channel, resolve);
        void marker.publish(channel, '');
      }),
  };
}

describe('nodes on one Redis count each other', () => {
  it('a node alone publishes nothing; once a node starts beside it, cues, broadcasts and revocations reach the other at once, before its first count would tell it', async () => {
    const prefix = `peers:${randomUUID()}:`;
    // A count a minute apart: only the newcomer's announcement can tell the first node it is no longer alone.
    const a = await hub(prefix, 60_000);
    expect(await nodesCounted(a)).toBe(1);
    const mission = await createMission(a, { members: STANDARD_MEMBERS });
    const token = (callsign: string) => mission.members[callsign]!.token;
    const revoke = async (callsign: string) =>
      expect((await a.api('DELETE', `/api/missions/${mission.id}/members/${mission.members[callsign]!.memberId}`)).status).toBe(204);
    const lead = await connect(a, token('LEAD'));
    /** A cue to the driver's vehicle and an observation reach the driver; a revocation closes the revoked member's socket. */
    const eachReaches = async (driver: Client, vehicleId: string, revoked: { callsign: string; socket: Client }) => {
      const id = newId();
      const shown = nextEvent(driver, 'trigger', (cue) => cue.id === id);
      await requestOk(lead, 'trigger:issue', { id, type: 'box-in', target: { vehicleIds: [vehicleId] } });
      await shown;
      const observation = { id: newId(), category: 'vehicle', severity: 'threat', text: 'grey van closing' };
      const broadcast = nextEvent(driver, 'observation', (seen) => seen.id === observation.id);
      await requestOk(lead, 'observation:post', observation);
      await broadcast;
      const closed = new Promise((resolve) => revoked.socket.once('disconnect', resolve));
      await revoke(revoked.callsign);
      await closed;
    };
    const driverOnA = await connect(a, token('DRV-1'));
    const cpoOnA = await connect(a, token('CPO-1'));
    const published = await publishesOn(prefix);

    await eachReaches(driverOnA, 'v1', { callsign: 'CPO-1', socket: cpoOnA });
    await published.settled();
    expect(published.channels).toEqual([]);

    const b = await hub(prefix, 60_000);
    expect(await nodesCounted(b)).toBe(2);
    const driverOnB = await connect(b, token('DRV-2'));
    await eachReaches(driverOnB, 'v2', { callsign: 'DRV-2', socket: driverOnB });
    await published.settled();
    expect(published.channels.length).toBeGreaterThan(0);
  });

  it('counts the nodes on its Redis for the operator: two while another is up, one once it has gone', async () => {
    const prefix = `peers:${randomUUID()}:`;
    const a = await hub(prefix, 50);
    const b = await hub(prefix, 50);
    await untilCounted(a, 2);
    await b.close();
    await untilCounted(a, 1);
  });

  it('counts itself not alone the moment its subscriber drops, and announces itself again when it is back', async () => {
    const adapterKey = `peers:${randomUUID()}:socket.io`;
    const pub = new Redis(inject('redisUrl'));
    const sub = new Redis(inject('redisUrl'));
    clients.push(pub, sub);
    // What the adapter does on this connection: every node subscribes to its request channel.
    await sub.subscribe(`${adapterKey}-request#/#`);
    let announcements = 0;
    const io: PeerIo = {
      on: () => undefined,
      serverSideEmitWithAck: async () => {
        announcements += 1;
        return [];
      },
    };
    const peers = new RedisPeers(io, pub, sub, { adapterKey, countMs: 20, logger: pino({ level: 'silent' }), onCount: () => {} });
    await peers.join();
    expect(peers.alone).toBe(true);
    expect(announcements).toBe(1);

    const closed = new Promise((resolve) => sub.once('close', resolve));
    sub.disconnect(true);
    await closed;
    expect(peers.alone).toBe(false);
    await until(() => announcements === 2, 'announced again');
    await until(() => peers.alone, 'alone again once counted');
    peers.close();
  });
});
