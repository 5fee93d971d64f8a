import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openScreen, screenshot, type Screen, useScenarioTimeout } from '../support/browser.ts';
import { closeAllSockets, connect, createMission, type Hub, requestOk, startHub, type TestMission } from '../support/hub.ts';

/**
 * The schedule's cascade on the screens (PROTOCOL.md §10, issue #10): one late leg marked from the
 * handset shifts every later leg on the board; the board marks the next leg in one tap and the
 * handset follows; a mark the server will not take is said plainly; the ended mission's report is
 * one link away on the board.
 */

const MINUTE = 60_000;
/** A leg later than this is red; a few seconds late is amber. */
const ALLOWED_MS = 5 * MINUTE;

const RED = 'rgb(229, 38, 47)';
const AMBER = 'rgb(242, 169, 0)';
const RED_TEXT = 'rgb(255, 123, 128)';

useScenarioTimeout();

let hub: Hub;
let browser: Browser;
const screens: Screen[] = [];

beforeAll(async () => {
  [hub, browser] = await Promise.all([startHub(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await hub?.close();
});
afterEach(async () => {
  closeAllSockets();
  for (const screen of screens) expect(screen.errors).toEqual([]);
  await Promise.all(screens.splice(0).map((s) => s.context.close()));
});

/** A late drift as the screens write it (their style puts it in capitals), in whole units. */
const lateText = (ms: number) => (ms < MINUTE ? `+${Math.floor(ms / 1000)} s late` : `+${Math.floor(ms / MINUTE)} min late`);

/** A time of the plan as the screens write it. */
const hm = (at: number) => new Date(at).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false });

/** Three vehicles whose drivers are on line and briefed; the pickup was due a quarter of an hour ago. */
async function detail(): Promise<{ mission: TestMission; planned: number[] }> {
  const now = Date.now();
  const thisMinute = Math.floor(now / MINUTE) * MINUTE;
  const planned = [thisMinute - 15 * MINUTE, now, thisMinute + 30 * MINUTE];
  const mission = await createMission(hub, {
    vehicles: [
      { id: 'v1', callsign: 'ALPHA' },
      { id: 'v2', callsign: 'BRAVO' },
      { id: 'v3', callsign: 'CHARLIE' },
    ],
    members: [
      { callsign: 'LEAD', role: 'lead' },
      { callsign: 'CPO-1', role: 'cpo', vehicleId: 'v1' },
      { callsign: 'DRV-1', role: 'driver', vehicleId: 'v1' },
      { callsign: 'DRV-2', role: 'driver', vehicleId: 'v2' },
      { callsign: 'DRV-3', role: 'driver', vehicleId: 'v3' },
      { callsign: 'OPS', role: 'ops' },
    ],
    settings: { scheduleDriftMs: ALLOWED_MS },
    plan: {
      routes: [{ id: 'main', name: 'Main', kind: 'primary' }],
      schedule: [
        { leg: 'Hotel pickup', plannedAt: planned[0]! },
        { leg: 'Venue arrival', plannedAt: planned[1]! },
        { leg: 'Dinner', plannedAt: planned[2]! },
      ],
    },
    start: false,
  });
  for (const driver of ['DRV-1', 'DRV-2', 'DRV-3']) {
    const socket = await connect(hub, mission.members[driver]!.token);
    await requestOk(socket, 'plan:ack', { version: 1 });
  }
  const started = await hub.api('POST', `/api/missions/${mission.id}/start`);
  expect(started.status).toBe(200);
  return { mission, planned };
}

async function open(mission: TestMission, callsign: string, path: 'cpo' | 'board', device: 'phone' | 'wall') {
  const screen = await openScreen(browser, `${hub.url}/${path}?token=${mission.members[callsign]!.token}`, device);
  screens.push(screen);
  await screen.page
    .getByRole('status')
    .filter({ hasText: /ONLINE|LIVE/ })
    .first()
    .waitFor();
  return screen;
}

const scheduleOf = (page: Page) => page.getByRole('region', { name: 'Schedule' });
const legOnBoard = (page: Page, leg: string) => scheduleOf(page).getByRole('listitem').filter({ hasText: leg });
/** What a reader sees of an element: its rendered text (capitals and all) on one line. */
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text, in the capitals the screens' style gives it, is what is asserted
const seen = async (locator: Locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();
const colours = (locator: Locator) =>
  locator.evaluate((el) => ({ background: getComputedStyle(el).backgroundColor, text: getComputedStyle(el).color }));

/** A MARK button that has just come up takes taps a moment later: wait for that, for a picture of it as it is then. */
const armed = (page: Page, name: string) => expect.poll(() => page.getByRole('button', { name }).isEnabled()).toBe(true);

/** The server's schedule, for the times the screens must show. */
async function serverSchedule(missionId: string) {
  const got = await hub.api('GET', `/api/missions/${missionId}`);
  return got.body.schedule as { leg: string; plannedAt: number; actualAt?: number; projectedAt: number; driftMs: number }[];
}

describe('the schedule on the board and the handset', () => {
  it('shows a late leg cascading, marks the next leg from the board, says a refused mark plainly, and links the report', async () => {
    const { mission, planned } = await detail();
    const [board, cpo] = await Promise.all([open(mission, 'OPS', 'board', 'wall'), open(mission, 'LEAD', 'cpo', 'phone')]);

    // The pickup's time has passed unmarked: both screens say so rather than "on time".
    await legOnBoard(board.page, 'Hotel pickup').filter({ hasText: 'OVERDUE' }).waitFor();
    await scheduleOf(cpo.page).filter({ hasText: 'OVERDUE' }).waitFor();
    expect(await seen(scheduleOf(cpo.page))).toContain(`NEXT HOTEL PICKUP`);
    await armed(cpo.page, 'MARK HOTEL PICKUP DONE');
    await armed(board.page, 'MARK HOTEL PICKUP DONE');
    await Promise.all([screenshot(cpo.page, 'schedule-cpo-overdue'), screenshot(board.page, 'schedule-board-3-overdue')]);

    // The lead marks the pickup from the handset, a quarter of an hour late.
    await cpo.page.getByRole('button', { name: 'MARK HOTEL PICKUP DONE' }).click();
    await legOnBoard(board.page, 'Hotel pickup').filter({ hasText: 'DONE' }).waitFor();
    const [pickup] = await serverSchedule(mission.id);
    expect(pickup?.actualAt).toBeDefined();
    const drift = pickup!.driftMs;
    expect(drift).toBeGreaterThan(ALLOWED_MS);
    const minutes = Math.floor(drift / MINUTE);
    const late = `+${minutes} min late`;
    const LATE = late.toUpperCase();

    const first = legOnBoard(board.page, 'Hotel pickup');
    expect(await seen(first)).toContain(`PLAN ${hm(planned[0]!)} DONE ${hm(pickup!.actualAt!)}`);
    expect(await seen(first)).toContain(LATE);
    expect((await colours(first.getByText(late, { exact: true }))).background).toBe(RED);
    // The cascade: both later legs are now due later by the same drift, in the same red (outlined: projected).
    for (const [i, leg] of [
      [1, 'Venue arrival'],
      [2, 'Dinner'],
    ] as const) {
      const row = legOnBoard(board.page, leg);
      expect(await seen(row)).toContain(`PLAN ${hm(planned[i]!)} DUE ${hm(planned[i]! + drift)}`);
      expect(await seen(row)).toContain(LATE);
      expect((await colours(row.getByText(late, { exact: true }))).text).toBe(RED_TEXT);
    }
    // The room sees the alert, with the same drift; the handset names the next leg, when it is due now, and what was done.
    await board.page
      .locator('.alert', { hasText: 'LATE' })
      .filter({ hasText: `Hotel pickup +${minutes} min` })
      .waitFor();
    await scheduleOf(cpo.page).filter({ hasText: 'Venue arrival' }).waitFor();
    const handset = await seen(scheduleOf(cpo.page));
    expect(handset).toContain(`NEXT VENUE ARRIVAL`);
    expect(handset).toContain(`DUE ${hm(planned[1]! + drift)} ${LATE}`);
    expect(handset).toContain(`✓ HOTEL PICKUP DONE ${hm(pickup!.actualAt!)}`);
    await armed(cpo.page, 'MARK VENUE ARRIVAL DONE');
    await armed(board.page, 'MARK VENUE ARRIVAL DONE');
    await Promise.all([screenshot(board.page, 'schedule-board-3-late'), screenshot(cpo.page, 'schedule-cpo-late')]);

    // The board marks the venue in one tap, moments after it was planned: late, within the allowance.
    await board.page.getByRole('button', { name: 'MARK VENUE ARRIVAL DONE' }).click();
    await legOnBoard(board.page, 'Venue arrival').filter({ hasText: 'DONE' }).waitFor();
    const [, venue] = await serverSchedule(mission.id);
    expect(venue?.actualAt).toBeDefined();
    expect(venue!.driftMs).toBeLessThanOrEqual(ALLOWED_MS);
    const venueBadge = legOnBoard(board.page, 'Venue arrival').getByText(lateText(venue!.driftMs), { exact: true });
    expect((await colours(venueBadge)).background).toBe(AMBER);
    expect(await seen(legOnBoard(board.page, 'Dinner'))).toContain(`DUE ${hm(planned[2]! + venue!.driftMs)}`);
    await scheduleOf(cpo.page).filter({ hasText: 'NEXT Dinner' }).waitFor();
    expect(await seen(scheduleOf(cpo.page))).toContain(`✓ VENUE ARRIVAL DONE ${hm(venue!.actualAt!)}`);
    await armed(board.page, 'MARK DINNER DONE');
    await armed(cpo.page, 'MARK DINNER DONE');
    await Promise.all([screenshot(board.page, 'schedule-board-3-marked'), screenshot(cpo.page, 'schedule-cpo-marked')]);

    // Offline, the board's tap on DINNER is kept; the lead marks it meanwhile; back on line the board's mark is refused, in words.
    await board.context.setOffline(true);
    await board.page.getByRole('status').filter({ hasText: 'OFFLINE' }).waitFor();
    await board.page.getByRole('button', { name: 'MARK DINNER DONE' }).click();
    await legOnBoard(board.page, 'Dinner').filter({ hasText: 'SENDING' }).waitFor();
    const lead = await connect(hub, mission.members.LEAD!.token);
    await requestOk(lead, 'schedule:mark', { leg: 'Dinner' });
    await board.context.setOffline(false);
    const refusal = scheduleOf(board.page).getByRole('alert');
    await refusal.filter({ hasText: 'NOT MARKED' }).waitFor();
    expect(await seen(refusal)).toBe('DINNER NOT MARKED — SOMEONE ALREADY MARKED IT');
    await scheduleOf(cpo.page).filter({ hasText: 'ALL LEGS DONE' }).waitFor();
    await expect.poll(() => board.page.getByRole('button', { name: /^MARK / }).count()).toBe(0);
    await screenshot(board.page, 'schedule-board-3-refused');

    // Ended: the handset's schedule goes, the board keeps the final strip and links the report, which opens in one tap.
    expect((await hub.api('POST', `/api/missions/${mission.id}/end`)).status).toBe(200);
    const reportLink = board.page.getByRole('link', { name: 'AFTER-ACTION REPORT' });
    await reportLink.waitFor();
    await scheduleOf(cpo.page).waitFor({ state: 'hidden' });
    await screenshot(board.page, 'schedule-board-3-ended');
    const [report] = await Promise.all([board.context.waitForEvent('page'), reportLink.click()]);
    await report.getByRole('heading', { name: /After-action report/ }).waitFor();
    const legs = report.locator('h2:has-text("Schedule") + table tbody tr');
    expect(await legs.allInnerTexts()).toEqual([
      expect.stringContaining('Hotel pickup'),
      expect.stringContaining('Venue arrival'),
      expect.stringContaining('Dinner'),
    ]);
    await screenshot(report, 'schedule-report', { fullPage: true });
  });

  it('keeps the strip away when the plan has no schedule', async () => {
    const mission = await createMission(hub, {
      members: [
        { callsign: 'LEAD', role: 'lead' },
        { callsign: 'OPS', role: 'ops' },
      ],
    });
    const [board, cpo] = await Promise.all([open(mission, 'OPS', 'board', 'wall'), open(mission, 'LEAD', 'cpo', 'phone')]);
    await board.page.getByRole('region', { name: 'Vehicles' }).getByText('ALPHA', { exact: true }).waitFor();
    await cpo.page.getByRole('button', { name: 'ALPHA', exact: true }).waitFor();
    expect(await scheduleOf(board.page).count()).toBe(0);
    expect(await scheduleOf(cpo.page).count()).toBe(0);
  });
});
