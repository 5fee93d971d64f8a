import { afterAll, afterEach, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import {
  STANDARD_MEMBERS,
  closeAllSockets,
  connect,
  createMission,
  newId,
  nextEvent,
  request,
  requestOk,
  startHub,
  type Client,
  type Hub,
} from './support/hub.ts';
import { startNodeProcess } from './support/node-process.ts';

/** Engine.IO's `ws` under a socket.io-client in Node: pausing its TCP socket makes a device that stops reading. */
function stopReading(client: Client): () => void {
  const transport = (client.io.engine as unknown as { transport: { ws?: { _socket?: { pause(): void; resume(): void } } } }).transport;
  const tcp = transport.ws?._socket;
  if (!tcp) throw new Error('no TCP socket under this client');
  tcp.pause();
  return () => tcp.resume();
}

const metric = async (hub: Hub, name: string) => {
  const text = await fetch(`${hub.url}/metrics`).then((r) => r.text());
  return Number(text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm'))?.[1] ?? 0);
};

const refusedLines = async (hub: Hub, missionId: string) =>
  ((await hub.api('GET', `/api/missions/${missionId}/log`)).body.events as { kind: string; data: Record<string, unknown> }[]).filter(
    (e) => e.kind === 'refused',
  );

describe('one flooding member', () => {
  let hub: Hub;
  beforeAll(async () => {
    hub = await startHub();
  });
  afterAll(() => hub.close());
  afterEach(() => closeAllSockets());

  it('keeps at most 5 sockets per member: a sixth evicts the oldest, the others stay', async () => {
    const mission = await createMission(hub, { members: [{ callsign: 'ADV', role: 'advance' }] });
    const token = mission.members.ADV!.token;
    const sockets: Client[] = [];
    for (let i = 0; i < 5; i++) sockets.push(await connect(hub, token));
    const evicted = nextEvent(sockets[0]!, 'disconnect' as never);
    sockets.push(await connect(hub, token));
    expect((await evicted)[0]).toBe('io server disconnect');
    expect(sockets.map((s) => s.connected)).toEqual([false, true, true, true, true, true]);
  });

  it('refuses snapshots beyond the member budget over 20 sockets each within its own limit, while another mission relays', async () => {
    const flooded = await createMission(hub, { members: [{ callsign: 'ADV', role: 'advance' }] });
    const other = await createMission(hub, { members: STANDARD_MEMBERS });
    const flooders: Client[] = [];
    const evictions: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const socket = await connect(hub, flooded.members.ADV!.token);
      flooders.push(socket);
      if (i < 15) evictions.push(nextEvent(socket, 'disconnect' as never, undefined, 10_000));
    }
    await Promise.all(evictions);
    const open = flooders.filter((s) => s.connected);
    expect(open).toEqual(flooders.slice(15));

    const lead = await connect(hub, other.members.LEAD!.token);
    const driver = await connect(hub, other.members['DRV-1']!.token);
    // 15 snapshots on each socket at once: well within a socket's burst of 40, far beyond the member's budget.
    const flood = Promise.all(open.flatMap((s) => Array.from({ length: 15 }, () => request(s, 'mission:snapshot', {}))));
    const id = newId();
    const cue = nextEvent(driver, 'trigger', (c) => c.id === id);
    await requestOk(lead, 'trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v1'] } });
    await cue;

    const replies = await flood;
    const limited = replies.filter((r) => !r.ok && r.error.code === 'rate_limited');
    expect(replies.length - limited.length).toBeGreaterThan(0);
    // The budget's burst is 16 snapshots; even 2 s of refill on a loaded machine allows 16 more.
    expect(limited.length).toBeGreaterThanOrEqual(75 - 32);
    expect(replies.every((r) => r.ok || r.error.code === 'rate_limited')).toBe(true);
  });

  it('answers unknown events invalid_payload, logs and counts them, and rate-limits them like any event', async () => {
    const mission = await createMission(hub, { members: [{ callsign: 'ADV', role: 'advance' }] });
    const advance = await connect(hub, mission.members.ADV!.token);
    const counted = await metric(hub, 'lockstep_unknown_events_total');
    const emit = (event: string, payload: unknown) =>
      (advance.timeout(5000).emitWithAck as (event: string, payload: unknown) => Promise<unknown>).call(advance, event, payload);
    expect(await emit('trigger:delete', {})).toEqual({ ok: false, error: { code: 'invalid_payload', message: 'unknown event' } });
    (advance.emit as (event: string, payload: unknown) => void)('x'.repeat(500), {});
    const burst = (await Promise.all(Array.from({ length: 60 }, () => emit('trigger:delete', {})))) as {
      ok: false;
      error: { code: string };
    }[];
    expect(burst.filter((r) => r.error.code === 'rate_limited').length).toBeGreaterThanOrEqual(15);
    expect(burst.every((r) => ['invalid_payload', 'rate_limited'].includes(r.error.code))).toBe(true);

    expect(await metric(hub, 'lockstep_unknown_events_total')).toBeGreaterThanOrEqual(counted + 2 + 1);
    const lines = await refusedLines(hub, mission.id);
    expect(lines[0]?.data).toMatchObject({ request: 'unknown: trigger:delete', code: 'invalid_payload', message: 'unknown event' });
    // The name is bounded in the log: the event without a callback is logged too, cut to 64 characters.
    expect(lines[1]?.data.request).toBe(`unknown: ${'x'.repeat(64)}`);
    expect(lines.some((l) => l.data.code === 'rate_limited')).toBe(true);
  });
});

describe('a socket that does not read', () => {
  let hub: Hub;
  beforeAll(async () => {
    hub = await startHub({ outboundLimitBytes: 256 * 1024 });
  });
  afterAll(() => hub.close());
  afterEach(() => closeAllSockets());

  // The kernel's socket buffers hold a few MB before the node's own backlog grows: on a loaded machine that takes a while.
  it('is dropped once its unread backlog passes the limit, reconnects, and gets the cue it missed', async () => {
    // The cue must still be open when the driver is back, however long a loaded machine takes to fill the buffers.
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, settings: { staleMs: { default: 600_000 } } });
    const lead = await connect(hub, mission.members.LEAD!.token);
    const reader = await connect(hub, mission.members.OPS!.token);
    const driver = await connect(hub, mission.members['DRV-1']!.token);
    const resume = stopReading(driver);
    onTestFinished(resume);

    const id = newId();
    await requestOk(lead, 'trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v1'] } });
    // Every plan change is a `mission` event of about 50 kB to every member: the driver's backlog grows until it is cut.
    const dropped = () => hub.logLines.some((line) => line.includes('socket dropped: it does not read what it is sent'));
    const waypoints = Array.from({ length: 2000 }, (_, i) => [51 + i / 1e4, -0.1]);
    for (let changes = 1; !dropped(); changes++) {
      if (changes > 2000) throw new Error('the slow socket was never dropped');
      const put = await hub.api('PUT', `/api/missions/${mission.id}/plan`, {
        body: { routes: [{ id: 'main', name: `Main ${changes}`, kind: 'primary', waypoints }] },
      });
      expect(put.status).toBe(200);
    }
    expect(await metric(hub, 'lockstep_slow_consumers_dropped_total')).toBe(1);
    expect(reader.connected).toBe(true);

    const closed = nextEvent(driver, 'disconnect' as never);
    resume();
    expect((await closed)[0]).toBe('transport close');
    let replayed: Promise<unknown> | undefined;
    await connect(hub, mission.members['DRV-1']!.token, {
      before: (s) => (replayed = nextEvent(s, 'trigger', (c) => c.id === id, 15_000)),
    });
    await replayed;
  }, 120_000);
});

describe('HTTP and handshake', () => {
  let hub: Hub;
  beforeAll(async () => {
    hub = await startHub();
  });
  afterAll(() => hub.close());
  afterEach(() => closeAllSockets());

  it('never logs a query string, however a token parameter is spelled', async () => {
    const mission = await createMission(hub, { members: [{ callsign: 'DRV-1', role: 'driver', vehicleId: 'v1' }] });
    const token = mission.members['DRV-1']!.token;
    for (const query of [`%74oken=${token}`, `token=${token}`, `t%6Fken=${token}&x=1`, `a=1&TOKEN=${token}`]) {
      // 200 with the clients built, 503 without: the request line is logged either way.
      await fetch(`${hub.url}/driver?${query}`);
    }
    await fetch(`${hub.url}/no/such/route?%74oken=${token}`);
    const logs = hub.logLines.join('');
    expect(logs).toContain('"url":"/driver"');
    expect(logs).not.toContain(token);
  });

  it('validates the mission id before the right: 65 characters is 400 for the admin and for a member of another mission', async () => {
    const mission = await createMission(hub, { members: [{ callsign: 'LEAD', role: 'lead' }] });
    const longId = 'm'.repeat(65);
    expect((await hub.api('GET', `/api/missions/${longId}`)).status).toBe(400);
    expect((await hub.api('POST', `/api/missions/${longId}/end`)).status).toBe(400);
    expect((await hub.api('GET', `/api/missions/${longId}`, { token: mission.members.LEAD!.token })).status).toBe(400);
    expect((await hub.api('GET', `/api/missions/${longId}`, { token: 'not-a-token' })).status).toBe(401);
  });

  it("refuses a browser socket whose Origin only matches a forged Host (DNS rebinding), and accepts the server's own", async () => {
    const mission = await createMission(hub, { members: [{ callsign: 'LEAD', role: 'lead' }] });
    const token = mission.members.LEAD!.token;
    await expect(connect(hub, token, { origin: 'http://evil.example', headers: { host: 'evil.example' } })).rejects.toThrow();
    await expect(connect(hub, token, { origin: 'http://evil.example' })).rejects.toThrow();
    expect((await connect(hub, token, { origin: hub.url })).connected).toBe(true);
  });

  it('takes its own origin from LOCKSTEP_PUBLIC_URL when set, besides its own addresses', async () => {
    const behindProxy = await startHub({ publicOrigin: 'https://lockstep.example' });
    try {
      const mission = await createMission(behindProxy, { members: [{ callsign: 'LEAD', role: 'lead' }] });
      const token = mission.members.LEAD!.token;
      expect((await connect(behindProxy, token, { origin: 'https://lockstep.example' })).connected).toBe(true);
      expect((await connect(behindProxy, token, { origin: behindProxy.url })).connected).toBe(true);
      await expect(connect(behindProxy, token, { origin: 'https://evil.example', headers: { host: 'evil.example' } })).rejects.toThrow();
    } finally {
      closeAllSockets();
      await behindProxy.close();
    }
  });

  it('refuses at start an admin token with too little randomness, saying how to make one', async () => {
    await expect(startNodeProcess(inject('redisUrl'), 'aaaaaaaaaaaaaaaa')).rejects.toThrow(
      /LOCKSTEP_ADMIN_TOKEN: is too weak: about \d+ bits of randomness, at least 128 needed; make one with `openssl rand -hex 32`/,
    );
  });
});
