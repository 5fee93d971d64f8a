import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_MEMBERS, closeAllSockets, connect, createMission, nextEvent, requestOk, useHub } from './support/hub.ts';

// Probes every 100 ms and offline after 600 ms of silence: the protocol's 3 s / 10 s, scaled down so the test is quick.
const hub = useHub({ presence: { probeIntervalMs: 100, offlineAfterMs: 600 } });
afterEach(() => closeAllSockets());

describe('presence and latency (docs/PROTOCOL.md §5)', () => {
  it('goes online with an RTT, stale after two missed probes, offline after the silence window', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS });
    const driverId = mission.members['DRV-1']!.memberId;
    const ops = await connect(hub, mission.members.OPS!.token);
    const online = nextEvent(ops, 'presence', (p) => p.memberId === driverId && p.state === 'online' && p.rttMs !== undefined);
    const driver = await connect(hub, mission.members['DRV-1']!.token);
    const [seen] = await online;
    expect(seen).toMatchObject({ callsign: 'DRV-1', role: 'driver', vehicleId: 'v1' });
    expect(seen.rttMs).toBeGreaterThanOrEqual(0);
    // Loopback, but on two cores shared with browser tests: a probe answer may wait 100 ms for the event loop.
    expect(seen.rttMs).toBeLessThan(250);
    expect(seen.rttP95Ms).toBeGreaterThanOrEqual(0);
    // Same machine, same clock: the offset is within the round trip.
    expect(Math.abs(seen.clockOffsetMs ?? Infinity)).toBeLessThan(250);

    // The tablet freezes: the socket stays open but no probe is answered.
    const stale = nextEvent(ops, 'presence', (p) => p.memberId === driverId && p.state === 'stale');
    const offline = nextEvent(ops, 'presence', (p) => p.memberId === driverId && p.state === 'offline');
    driver.off('probe');
    await stale;
    await offline;

    const snapshot = await requestOk(ops, 'mission:snapshot', {});
    expect(snapshot.presence.find((p) => p.memberId === driverId)?.state).toBe('offline');
    const log = await hub.api('GET', `/api/missions/${mission.id}/log`);
    const states = log.body.events
      .filter((e: { kind: string; memberId: string }) => e.kind === 'presence' && e.memberId === driverId)
      .map((e: { data: { state: string } }) => e.data.state);
    expect(states).toEqual(['online', 'stale', 'offline']);
  });

  it('turns offline at once on disconnect and raises the offline alert after the grace, once', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, settings: { offlineGraceMs: 300 } });
    const driverId = mission.members['DRV-1']!.memberId;
    const lead = await connect(hub, mission.members.LEAD!.token);
    const driver = await connect(hub, mission.members['DRV-1']!.token);
    await nextEvent(lead, 'presence', (p) => p.memberId === driverId && p.state === 'online');
    const offline = nextEvent(lead, 'presence', (p) => p.memberId === driverId && p.state === 'offline');
    const alert = nextEvent(lead, 'alert', (a) => a.kind === 'offline' && a.memberId === driverId);
    const disconnectedAt = Date.now();
    driver.close();
    const [presence] = await offline;
    expect(Date.now() - disconnectedAt).toBeLessThan(300);
    const [raised] = await alert;
    expect(raised.at - presence.lastSeenAt).toBeGreaterThanOrEqual(0);
    expect(raised).toMatchObject({ vehicleId: 'v1', valueMs: 300 });
  });

  it('raises no offline alert when the driver is back within the grace', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, settings: { offlineGraceMs: 400 } });
    const driverId = mission.members['DRV-1']!.memberId;
    const lead = await connect(hub, mission.members.LEAD!.token);
    const driver = await connect(hub, mission.members['DRV-1']!.token);
    await nextEvent(lead, 'presence', (p) => p.memberId === driverId && p.state === 'online');
    const offline = nextEvent(lead, 'presence', (p) => p.memberId === driverId && p.state === 'offline');
    driver.close();
    await offline;
    const back = nextEvent(lead, 'presence', (p) => p.memberId === driverId && p.state === 'online');
    await connect(hub, mission.members['DRV-1']!.token);
    await back;
    // Well past the grace: the ops board must still hold no offline alert.
    await expect(nextEvent(lead, 'alert', (a) => a.kind === 'offline', 800)).rejects.toThrow('no alert');
  });
});
