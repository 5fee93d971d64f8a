import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from './support/browser.ts';
import {
  SteppedClock,
  closeAllSockets,
  connect,
  createMission,
  newId,
  nextEvent,
  request,
  startHub,
  type Client,
  type Hub,
} from './support/hub.ts';

/**
 * A scripted mission whose every gap is known exactly: the server runs on a stepped clock and
 * the tablets on a device clock the test sets (server time + DEVICE_AHEAD, answered through the
 * probes). A driver "takes" N ms by the test stepping the server clock N ms and answering with
 * `respondedAt = shownAt + N`: the device gap is N, and plausible, since the server saw at least N.
 */
const DEVICE_AHEAD = 5_000_000;

let hub: Hub;
let clock: SteppedClock;
let browser: Browser;
beforeAll(async () => {
  clock = new SteppedClock();
  // One probe at connect (for the RTT), none during the script: presence stays out of the figures.
  hub = await startHub({ clock, presence: { probeIntervalMs: 60_000, offlineAfterMs: 600_000 } });
  browser = await launchBrowser();
});
afterAll(async () => {
  closeAllSockets();
  await browser?.close();
  await hub.close();
});

/** A tablet on the test's device clock: draws each cue at once and sends `shownAt`. */
async function tablet(token: string) {
  const shownAt = new Map<string, number>();
  const socket = await connect(hub, token, {
    answerProbes: false,
    before: (s) => {
      s.on('probe', (probe, answer) => answer({ deviceAt: probe.serverAt + DEVICE_AHEAD }));
      s.on('trigger', (cue, receipt) => {
        const at = clock.now() + DEVICE_AHEAD;
        shownAt.set(cue.id, at);
        receipt({ shownAt: at });
      });
    },
  });
  /** Answers after exactly `gapMs` on the device's clock. */
  const answer = (triggerId: string, gapMs: number, response: 'ack' | 'unable' = 'ack', reason?: string) => {
    const shown = shownAt.get(triggerId);
    if (shown === undefined) throw new Error(`cue ${triggerId} was never shown`);
    clock.step(gapMs);
    return request(socket, 'trigger:respond', {
      triggerId,
      response,
      ...(reason ? { reason } : {}),
      shownAt: shown,
      respondedAt: shown + gapMs,
    });
  };
  return { socket, answer };
}

/** Fires a cue and resolves once every one of its recipients has drawn it. */
async function fire(lead: Client, type: string, target: object, recipients: number) {
  const id = newId();
  const delivered = nextEvent(
    lead,
    'trigger:state',
    (s) => s.id === id && s.recipients.length === recipients && s.recipients.every((r) => r.state === 'delivered'),
  );
  const issued = await request(lead, 'trigger:issue', { id, type, target });
  expect(issued.ok).toBe(true);
  await delivered;
  return id;
}

async function person(body: object) {
  const created = await hub.api('POST', '/api/people', { body });
  expect(created.status).toBe(201);
  return created.body.personId as string;
}

describe('after-action report (docs/PROTOCOL.md §8)', () => {
  let missionA: string;
  let alice: string;
  let bob: string;
  let carol: string;

  it('counts every cue of a scripted mission exactly: counts, median, p90, max, lostMs, byType, byKind', async () => {
    alice = await person({ name: 'Alice Ward', callsign: 'ALICE', roles: ['driver'] });
    bob = await person({ name: 'Bob Lane', callsign: 'BOB', roles: ['driver', 'cpo'], standby: true });
    carol = await person({ name: 'Carol Frey', callsign: 'CAROL', roles: ['cpo'], standby: true, notes: 'advance work' });
    const mission = await createMission(hub, {
      settings: { thresholds: { default: 2000, extract: 1500 }, staleMs: { default: 10_000 }, offlineGraceMs: 60_000 },
      members: [
        { callsign: 'LEAD', role: 'lead' },
        { callsign: 'DRV-2', role: 'driver', vehicleId: 'v2' },
      ],
      start: false,
    });
    missionA = mission.id;
    // DRV-1 is Alice: named by person, the callsign defaults to hers.
    const added = await hub.api('POST', `/api/missions/${missionA}/members`, {
      body: { personId: alice, role: 'driver', vehicleId: 'v1' },
    });
    expect(added.status).toBe(201);
    const again = await hub.api('POST', `/api/missions/${missionA}/members`, { body: { personId: alice, role: 'ops' } });
    expect(again.status).toBe(409);
    const unknown = await hub.api('POST', `/api/missions/${missionA}/members`, { body: { personId: newId(), role: 'ops' } });
    expect(unknown.status).toBe(404);
    expect((await hub.api('GET', `/api/missions/${missionA}`)).body.members).toContainEqual(
      expect.objectContaining({ memberId: added.body.memberId, callsign: 'ALICE', personId: alice }),
    );
    expect((await hub.api('POST', `/api/missions/${missionA}/start`, { body: {} })).status).toBe(200);

    const lead = await connect(hub, mission.members.LEAD!.token);
    const d1 = await tablet(added.body.token);
    let d2 = await tablet(mission.members['DRV-2']!.token);

    const c1 = await fire(lead, 'box-in', { vehicleIds: ['v1'] }, 1);
    expect(await d1.answer(c1, 800)).toMatchObject({ ok: true, gapMs: 800, gapSource: 'device', hesitation: false });
    const c2 = await fire(lead, 'go', { convoy: true }, 2);
    expect(await d1.answer(c2, 1200)).toMatchObject({ gapMs: 1200, hesitation: false });
    expect(await d2.answer(c2, 2500)).toMatchObject({ gapMs: 2500, hesitation: true });
    const c3 = await fire(lead, 'extract', { vehicleIds: ['v2'] }, 1);
    expect(await d2.answer(c3, 1700, 'unable', 'blocked')).toMatchObject({ gapMs: 1700, hesitation: true });
    const c4 = await fire(lead, 'hold', { vehicleIds: ['v1'] }, 1);
    expect(await d1.answer(c4, 600, 'unable', 'say-again')).toMatchObject({ gapMs: 600, hesitation: false });
    const c5 = await fire(lead, 'box-in', { vehicleIds: ['v1'] }, 1);
    expect(await d1.answer(c5, 4000)).toMatchObject({ gapMs: 4000, hesitation: true });

    // Never answered: it reaches its live deadline, then goes stale.
    const c6 = await fire(lead, 'pickup', { vehicleIds: ['v2'] }, 1);
    const expired = nextEvent(lead, 'trigger:state', (s) => s.id === c6 && s.status === 'expired');
    clock.step(10_100);
    await expired;

    // DRV-2's tablet is away: the cue is undelivered, then replayed on reconnect and answered.
    const gone = nextEvent(lead, 'presence', (p) => p.callsign === 'DRV-2' && p.state === 'offline');
    d2.socket.close();
    await gone;
    const c7 = newId();
    const undelivered = nextEvent(lead, 'alert', (a) => a.kind === 'undelivered' && a.triggerId === c7);
    await request(lead, 'trigger:issue', { id: c7, type: 'hold', target: { vehicleIds: ['v2'] } });
    clock.step(2100);
    await undelivered;
    const redelivered = nextEvent(lead, 'trigger:state', (s) => s.id === c7 && s.recipients[0]?.state === 'delivered');
    // Back online is logged too: the report is read once the board has seen it, so the log holds it.
    const back = nextEvent(lead, 'presence', (p) => p.callsign === 'DRV-2' && p.state === 'online');
    d2 = await tablet(mission.members['DRV-2']!.token);
    await Promise.all([redelivered, back]);
    expect(await d2.answer(c7, 1000)).toMatchObject({ gapMs: 1000, hesitation: false });
    expect((await hub.api('POST', `/api/missions/${missionA}/end`)).status).toBe(200);

    const { status, body: report } = await hub.api('GET', `/api/missions/${missionA}/report`);
    expect(status).toBe(200);
    expect(report.mission).toMatchObject({ id: missionA, name: 'Test detail', status: 'ended' });
    expect(report.mission.endedAt).toBeGreaterThan(report.mission.startedAt);
    expect(report.triggers).toEqual({ total: 7, byType: { 'box-in': 2, go: 1, extract: 1, hold: 2, pickup: 1 } });
    expect(report.drivers).toEqual([
      {
        memberId: mission.members['DRV-2']!.memberId,
        callsign: 'DRV-2',
        vehicleId: 'v2',
        cues: 4,
        answered: 3,
        ack: 2,
        unable: 1,
        sayAgain: 0,
        hesitations: 3,
        undelivered: 1,
        expired: 1,
        replaced: 0,
        lostMs: 500 + 200,
        gapMs: { median: 1700, p90: 2500, max: 2500 },
      },
      {
        memberId: added.body.memberId,
        personId: alice,
        callsign: 'ALICE',
        vehicleId: 'v1',
        cues: 4,
        answered: 4,
        ack: 3,
        unable: 0,
        sayAgain: 1,
        hesitations: 1,
        undelivered: 0,
        expired: 0,
        replaced: 0,
        lostMs: 2000,
        gapMs: { median: 800, p90: 4000, max: 4000 },
      },
    ]);
    expect(report.alerts).toEqual({ total: 6, open: 6, byKind: { hesitation: 4, expired: 1, undelivered: 1 } });
    expect(report.schedule).toEqual([]);
    const sentences = report.timeline.map((e: { text: string }) => e.text);
    expect(sentences).toContain('LEAD fired BOX-IN — OPEN GAP to ALPHA');
    expect(sentences).toContain('ALICE answered ACK in 0.8 s');
    expect(sentences).toContain('DRV-2 answered UNABLE (blocked) to EXTRACT NOW in 1.7 s — a hesitation');
    expect(report.timeline).toHaveLength((await hub.api('GET', `/api/missions/${missionA}/log`)).body.events.length);
  });

  it('gives the per-driver table as CSV', async () => {
    const csv = await hub.api('GET', `/api/missions/${missionA}/report?format=csv`);
    expect(csv.status).toBe(200);
    const [header, ...rows] = (csv.body as string).trimEnd().split('\r\n');
    expect(header).toBe(
      'memberId,personId,callsign,vehicleId,replacedAt,cues,answered,ack,unable,sayAgain,hesitations,undelivered,expired,replaced,lostMs,gapMedianMs,gapP90Ms,gapMaxMs',
    );
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(new RegExp(`^[^,]+,${alice},ALICE,v1,,4,4,3,0,1,1,0,0,0,2000,800,4000,4000$`));
  });

  it('renders a printable HTML page that needs no script: the gap chart with its threshold, the drivers, the timeline', async () => {
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 1000, height: 1400 },
      extraHTTPHeaders: { authorization: `Bearer ${hub.adminToken}` },
    });
    const page = await context.newPage();
    const response = await page.goto(`${hub.url}/api/missions/${missionA}/report?format=html`);
    expect(response?.headers()['content-type']).toContain('text/html');
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('svg.chart circle').count()).toBe(7);
    expect(await page.locator('svg.chart circle.late').count()).toBe(3);
    expect(await page.locator('svg.chart line.threshold').count()).toBe(1);
    expect(await page.locator('svg.chart').textContent()).toContain('threshold 2.0 s');
    const rows = page.locator('h2:has-text("Drivers") + table tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(1).locator('td').first().textContent()).toBe('ALICE');
    expect(await page.locator('ol.timeline li').first().textContent()).toContain('Mission "Test detail" created');
    await screenshot(page, 'after-action-report');
    await context.close();
  });

  it('reports a person across two missions, and orders the people by friction', async () => {
    const mission = await createMission(hub, {
      members: [{ callsign: 'LEAD', role: 'lead' }],
      start: false,
    });
    const a = await hub.api('POST', `/api/missions/${mission.id}/members`, { body: { personId: alice, role: 'driver', vehicleId: 'v1' } });
    const b = await hub.api('POST', `/api/missions/${mission.id}/members`, { body: { personId: bob, role: 'driver', vehicleId: 'v2' } });
    await hub.api('POST', `/api/missions/${mission.id}/start`, { body: {} });
    const lead = await connect(hub, mission.members.LEAD!.token);
    const da = await tablet(a.body.token);
    const db = await tablet(b.body.token);
    const cue = await fire(lead, 'go', { convoy: true }, 2);
    await da.answer(cue, 900);
    await db.answer(cue, 3000);

    const report = await hub.api('GET', `/api/people/${alice}/report`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      person: { personId: alice, name: 'Alice Ward', callsign: 'ALICE', roles: ['driver'], standby: false },
      missions: 2,
      cues: 5,
      answered: 5,
      ack: 4,
      unable: 0,
      sayAgain: 1,
      hesitations: 1,
      hesitationRate: 0.2,
      undelivered: 0,
      expired: 0,
      lostMs: 2000,
      gapMs: { median: 900, p90: 4000, max: 4000 },
    });
    expect(report.body.perMission).toEqual([
      expect.objectContaining({ missionId: missionA, cues: 4, hesitations: 1, lostMs: 2000, gapMs: { median: 800, p90: 4000, max: 4000 } }),
      expect.objectContaining({ missionId: mission.id, cues: 1, hesitations: 0, lostMs: 0, gapMs: { median: 900, p90: 900, max: 900 } }),
    ]);

    const friction = await hub.api('GET', '/api/people?sort=friction');
    expect(friction.body.people.map((p: { callsign: string }) => p.callsign)).toEqual(['BOB', 'ALICE', 'CAROL']);
    expect(friction.body.people[0].stats).toEqual({ missions: 1, cues: 1, hesitations: 1, hesitationRate: 1, gapP90Ms: 3000 });
    expect(friction.body.people[2].stats).toEqual({ missions: 0, cues: 0, hesitations: 0, hesitationRate: 0 });
    const pool = await hub.api('GET', '/api/people?standby=true&role=driver');
    expect(pool.body.people.map((p: { personId: string }) => p.personId)).toEqual([bob]);
    expect((await hub.api('GET', '/api/people?role=pilot')).status).toBe(400);
  });

  it('reads and patches a person; only the admin may', async () => {
    expect((await hub.api('GET', `/api/people/${carol}`)).body).toEqual({
      personId: carol,
      name: 'Carol Frey',
      callsign: 'CAROL',
      roles: ['cpo'],
      standby: true,
      notes: 'advance work',
    });
    const patched = await hub.api('PATCH', `/api/people/${carol}`, { body: { roles: ['cpo', 'driver'], standby: false } });
    expect(patched.body).toMatchObject({ personId: carol, name: 'Carol Frey', roles: ['cpo', 'driver'], standby: false });
    expect((await hub.api('GET', `/api/people/${carol}`)).body.standby).toBe(false);
    expect((await hub.api('PATCH', `/api/people/${carol}`, { body: { personId: 'x' } })).status).toBe(400);
    expect((await hub.api('PATCH', `/api/people/${newId()}`, { body: { standby: true } })).status).toBe(404);
    expect((await hub.api('POST', '/api/people', { body: { name: 'No roles', callsign: 'NR', roles: [] } })).status).toBe(400);
    expect((await hub.api('GET', '/api/people', { token: 'not-a-token' })).status).toBe(401);
  });
});
