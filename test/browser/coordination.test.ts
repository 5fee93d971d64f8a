import { describe, expect, it } from 'vitest';
import { screenshot, useBrowserHub } from '../support/browser.ts';
import { createMission, type MissionSpec, STANDARD_MEMBERS, type TestMission } from '../support/hub.ts';

/** The shared picture on the three screens (issue #9): the briefing, observations, overload and command. */

const { hub, openMember, closeScreen } = useBrowserHub();

/** A plan listed out of order on purpose: the tablet must still put the primary route first. */
const PLAN = {
  routes: [
    { id: 'river', name: 'River', kind: 'alternate' as const },
    { id: 'main', name: 'Main', kind: 'primary' as const },
    { id: 'ring', name: 'Ring road', kind: 'alternate' as const },
  ],
  chokePoints: [{ id: 'bridge', name: 'Kings Bridge' }],
  safeHavens: [{ id: 'embassy', name: 'Embassy compound' }],
  hospitals: [{ id: 'st-mary', name: "St Mary's A&E" }],
  schedule: [
    { leg: 'depart hotel', plannedAt: Date.UTC(2026, 11, 2, 9, 0) },
    { leg: 'arrive venue', plannedAt: Date.UTC(2026, 11, 2, 9, 40) },
  ],
};

async function open(mission: TestMission, callsign: string, path: 'driver' | 'cpo' | 'board', device: 'tablet' | 'phone' | 'wall') {
  const screen = await openMember(mission, callsign, path, device);
  await screen.page
    .getByRole('status')
    // A handset of a mission not yet started says so in place of ONLINE.
    .filter({ hasText: /ONLINE|LIVE|NOT STARTED/ })
    .waitFor();
  return screen;
}

const mission = (spec: Partial<MissionSpec> = {}) => createMission(hub, { members: STANDARD_MEMBERS, plan: PLAN, ...spec });

describe('the shared picture on the three screens', () => {
  it('shows a driver the whole briefing before the start and after every change, until they ack it', async () => {
    const m = await mission({ start: false });
    const [driver, board] = await Promise.all([open(m, 'DRV-1', 'driver', 'tablet'), open(m, 'OPS', 'board', 'wall')]);

    const briefing = driver.page.getByRole('region', { name: 'Briefing' });
    await briefing.getByText('NOT ACKED').waitFor();
    const routes = briefing.getByRole('region', { name: 'ROUTES' }).getByRole('listitem');
    expect(await routes.allTextContents()).toEqual(['PRIMARY MAIN', 'ALT RIVER', 'ALT RING ROAD']);
    for (const [part, line] of [
      ['CHOKE POINTS', 'Kings Bridge'],
      ['SAFE HAVENS', 'Embassy compound'],
      ['HOSPITALS', "St Mary's A&E"],
      ['SCHEDULE', 'depart hotel'],
    ] as const)
      await briefing.getByRole('region', { name: part }).getByText(line).waitFor();
    await board.page.locator('.plan-ack-chip.behind', { hasText: 'ALPHA DRV-1 NOT ACKED' }).waitFor();
    await screenshot(driver.page, 'driver-briefing');
    await driver.page.setViewportSize({ width: 412, height: 915 });
    await screenshot(driver.page, 'driver-briefing-phone-portrait');
    await driver.page.setViewportSize({ width: 1280, height: 800 });

    await driver.page.getByRole('button', { name: 'ACK BRIEFING v1' }).click();
    await driver.page.getByRole('region', { name: 'Standing by' }).waitFor();
    await board.page.locator('.plan-ack-chip.acked', { hasText: 'ALPHA DRV-1 v1 ✓' }).waitFor();

    // A change while the driver stands by: the new version takes the screen again, whole.
    const changed = await hub.api('PUT', `/api/missions/${m.id}/plan`, {
      body: { ...PLAN, safeHavens: [...PLAN.safeHavens, { id: 'police', name: 'Central police station' }] },
    });
    expect(changed.status).toBe(200);
    await briefing.getByText('Central police station').waitFor();
    await expect(briefing.locator('.brief-title').textContent()).resolves.toBe('BRIEFING v2');
    await briefing.getByText('NOT ACKED').waitFor();
    await board.page.locator('.plan-ack-chip.behind', { hasText: 'ALPHA DRV-1 v1 — NOT v2' }).waitFor();
    await Promise.all([screenshot(driver.page, 'driver-briefing-v2'), screenshot(board.page, 'board-plan-acks')]);

    await driver.page.getByRole('button', { name: 'ACK BRIEFING v2' }).click();
    await board.page.locator('.plan-ack-chip.acked', { hasText: 'ALPHA DRV-1 v2 ✓' }).waitFor();
    // Acked, it can still be read again, and closed with one tap.
    await driver.page.getByRole('button', { name: 'BRIEFING v2' }).click();
    await briefing.getByText('ACKED ✓').waitFor();
    await driver.page.getByRole('button', { name: 'Close the briefing' }).click();
    await driver.page.getByRole('region', { name: 'Standing by' }).waitFor();
  });

  it("posts a driver's one-tap report to the board and the handset, and shows anyone's threat on the idle tablet", async () => {
    const m = await mission({ settings: { silenceMs: 1000 } });
    const [cpo, driver, board] = await Promise.all([
      open(m, 'CPO-1', 'cpo', 'phone'),
      open(m, 'DRV-1', 'driver', 'tablet'),
      open(m, 'OPS', 'board', 'wall'),
    ]);
    // Started by force with nobody briefed: the board says so per driver until each acks.
    const unacked = board.page.locator('.alert-plan-unacked', { hasText: 'PLAN v1 NOT ACKED — ALPHA' });
    await unacked.waitFor();
    await board.page.locator('.alert-plan-unacked', { hasText: 'PLAN v1 NOT ACKED — BRAVO' }).waitFor();
    await driver.page.getByRole('button', { name: 'ACK BRIEFING v1' }).click();
    await driver.page.getByRole('region', { name: 'Standing by' }).waitFor();
    await unacked.waitFor({ state: 'detached' });

    await driver.page.getByRole('button', { name: 'ROUTE BLOCKED' }).click();
    const routeBlocked = 'CAUTION ROUTE — DRV-1: route blocked';
    await board.page.locator('.observations .observation.severity-caution', { hasText: routeBlocked }).waitFor();
    await cpo.page.locator('.feed .observation', { hasText: routeBlocked }).waitFor();
    await driver.page.getByRole('button', { name: 'ROUTE BLOCKED' }).getByText('SENT ✓').waitFor();

    // The plan is one tap away on the handset, whole, with its ack.
    await cpo.page.getByRole('button', { name: 'PLAN v1 — ACK' }).click();
    const plan = cpo.page.getByRole('dialog', { name: 'Plan' });
    await plan.getByRole('region', { name: 'SAFE HAVENS' }).getByText('Embassy compound').waitFor();
    await plan.getByRole('region', { name: 'HOSPITALS' }).getByText("St Mary's A&E").waitFor();
    await screenshot(cpo.page, 'cpo-plan');
    await plan.getByRole('button', { name: 'ACK PLAN v1' }).click();
    await plan.getByRole('button', { name: 'CLOSE' }).click();
    await cpo.page.getByRole('button', { name: 'PLAN v1', exact: true }).waitFor();
    await board.page.locator('.plan-ack-chip.acked', { hasText: 'CPO-1 v1 ✓' }).waitFor();

    // The handset posts a threat in two taps: OBSERVE, then the severity in the category's row.
    await cpo.page.getByRole('button', { name: 'OBSERVE' }).click();
    await screenshot(cpo.page, 'cpo-observe');
    await cpo.page.getByRole('button', { name: 'THREAT VEHICLE' }).click();
    await driver.page.getByRole('alert').filter({ hasText: 'THREAT VEHICLE — CPO-1' }).waitFor();
    await board.page.locator('.observations .observation.severity-threat', { hasText: 'THREAT VEHICLE — CPO-1' }).waitFor();

    // The board posts with a few words; the tablet's line shows the newest threat.
    await board.page.getByRole('button', { name: 'OBSERVE' }).click();
    await board.page.getByPlaceholder('what you see (optional)').fill('grey van closing fast');
    await screenshot(board.page, 'board-observe');
    await board.page.getByRole('button', { name: 'THREAT VEHICLE' }).click();
    await driver.page.getByRole('alert').filter({ hasText: 'THREAT GREY VAN CLOSING FAST — OPS' }).waitFor();
    await cpo.page.locator('.feed .observation.severity-threat', { hasText: 'OPS: grey van closing fast' }).waitFor();
    // Nobody fired within silenceMs of the threat: the room is told.
    await board.page.locator('.alert-silence', { hasText: 'SILENCE after THREAT: grey van closing fast' }).waitFor();
    await Promise.all([
      screenshot(driver.page, 'driver-idle-threat'),
      screenshot(board.page, 'board-observations'),
      screenshot(cpo.page, 'cpo-feed'),
    ]);

    // A cue takes the whole screen: no report button is reachable while it is open.
    await cpo.page.getByRole('button', { name: 'HOLD', exact: true }).click();
    await driver.page.getByRole('alertdialog', { name: 'HOLD' }).waitFor();
    await expect(driver.page.getByRole('button', { name: 'FOLLOWED' }).count()).resolves.toBe(0);
    await driver.page.getByRole('button', { name: /^ACK/ }).click();
    // Back on the idle screen, FOLLOWED takes a tap (once its short guard against a double tap has passed).
    const followed = driver.page.getByRole('button', { name: 'FOLLOWED' });
    await followed.click();
    await board.page.locator('.observation.severity-threat', { hasText: 'THREAT SURVEILLANCE — DRV-1: followed' }).waitFor();
    await driver.page.getByRole('alert').filter({ hasText: 'THREAT FOLLOWED — YOU' }).waitFor();
  });

  it('warns the handset that sent a burst, naming the vehicle, and tells the room', async () => {
    const m = await mission({ settings: { overload: { count: 2, windowMs: 60_000 } } });
    const [lead, board] = await Promise.all([open(m, 'LEAD', 'cpo', 'phone'), open(m, 'OPS', 'board', 'wall')]);
    await lead.page.getByRole('button', { name: 'ALPHA', exact: true }).click();
    const hold = lead.page.getByRole('button', { name: 'HOLD', exact: true });
    for (let n = 1; n <= 2; n += 1) {
      await hold.click();
      // A row with its trigger id is one the server accepted, so its reply (without a warning) is in.
      await expect.poll(() => lead.page.locator('.fired[data-trigger]', { hasText: 'HOLD' }).count()).toBe(n);
    }
    await expect(lead.page.locator('.notice', { hasText: 'OVERLOAD' }).count()).resolves.toBe(0);

    // The third cue in the window is still sent, and the handset says whom it is drowning.
    await hold.click();
    await lead.page.locator('.notice.caution', { hasText: 'OVERLOAD ALPHA 3 cues / 60 s' }).waitFor();
    await expect.poll(() => lead.page.locator('.fired[data-trigger]', { hasText: 'HOLD' }).count()).toBe(3);
    await board.page.locator('.alert-overload', { hasText: 'OVERLOAD ALPHA 3 cues / 60 s' }).waitFor();
    await Promise.all([screenshot(lead.page, 'cpo-overload'), screenshot(board.page, 'board-overload')]);
  });

  it('tells the next in line YOU HAVE COMMAND when the lead drops, gives them the convoy, and hands it back', async () => {
    const m = await mission({ settings: { offlineGraceMs: 500 }, start: false });
    const cpo1 = m.members['CPO-1']!.memberId;
    await hub.api('PUT', `/api/missions/${m.id}/plan`, { body: { ...PLAN, successionOfCommand: [cpo1] } });
    const [lead, cpo, board] = await Promise.all([
      open(m, 'LEAD', 'cpo', 'phone'),
      open(m, 'CPO-1', 'cpo', 'phone'),
      open(m, 'OPS', 'board', 'wall'),
    ]);
    await board.page.locator('.vehicles ~ .team .member.presence-online', { hasText: 'LEAD' }).waitFor();
    expect((await hub.api('POST', `/api/missions/${m.id}/start`, { body: { force: true } })).status).toBe(200);
    await cpo.page.getByText('COMMAND LEAD').waitFor();
    // A vehicle CPO reaches only their own vehicle.
    await expect(cpo.page.getByRole('button', { name: 'CONVOY' }).count()).resolves.toBe(0);

    await closeScreen(lead);
    const notice = cpo.page.getByRole('alert').filter({ hasText: 'YOU HAVE COMMAND' });
    await notice.waitFor();
    await cpo.page.getByText('ACTING LEAD CPO-1').waitFor();
    await board.page.locator('.alert-command-handover', { hasText: 'COMMAND → CPO-1' }).waitFor();
    await board.page.getByText('ACTING LEAD CPO-1').waitFor();
    // The acting lead has the lead's reach: the convoy is a target now, and a cue to it goes.
    await cpo.page.getByRole('button', { name: 'CONVOY' }).click();
    await cpo.page.getByRole('button', { name: 'ALL CLEAR', exact: true }).click();
    await cpo.page.locator('.fired', { hasText: 'ALL CLEAR' }).locator('.chip', { hasText: 'BRAVO' }).waitFor();
    await Promise.all([screenshot(cpo.page, 'cpo-you-have-command'), screenshot(board.page, 'board-command-handover')]);

    // The lead is back: command returns at once, and the handset says it no longer has it.
    await open(m, 'LEAD', 'cpo', 'phone');
    await notice.waitFor({ state: 'detached' });
    await cpo.page.locator('.notice', { hasText: 'COMMAND BACK WITH LEAD — YOUR VEHICLE ONLY' }).waitFor();
    await expect(cpo.page.getByRole('button', { name: 'CONVOY' }).count()).resolves.toBe(0);
    await screenshot(cpo.page, 'cpo-command-returned');
  });
});
