import { afterEach, describe, expect, it } from 'vitest';
import { DelayedTablet, ONE_PROBE, closeAllTablets } from '../support/delayed-tablet.ts';
import { screenshot, useBrowserHub } from '../support/browser.ts';
import { STANDARD_MEMBERS, closeAllSockets, connect, createMission, nextEvent, type TestMission } from '../support/hub.ts';

/**
 * What the handset and the board show of a withdrawn hesitation and of a server-clock gap
 * (docs/PROTOCOL.md §3, issue #14). The tablet is a Socket.IO client behind a delayed link, so the
 * withdrawal happens on cue: threshold 1 s, the answer tapped at 0.8 s spends 0.9 s on the uplink,
 * past the live deadline (1 s + 0.3 s allowance).
 */

// Registered before the screens' own hooks, so it runs after them (vitest runs after-hooks last in, first out):
// the screens are checked and closed while the watcher and the tablet are still connected.
afterEach(async () => {
  closeAllSockets();
  await closeAllTablets();
});
const { hub, openMember } = useBrowserHub({ hub: { presence: ONE_PROBE } });

async function open(mission: TestMission, callsign: string, path: 'cpo' | 'board', device: 'phone' | 'wall') {
  const screen = await openMember(mission, callsign, path, device);
  await screen.page
    .getByRole('status')
    .filter({ hasText: /ONLINE|LIVE/ })
    .waitFor();
  return screen;
}

describe('gaps on the screens', () => {
  it('strikes a withdrawn hesitation through on the handset and the board, and marks a server-clock gap ≈', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, settings: { thresholds: { default: 1000 } } });
    const driverId = mission.members['DRV-1']!.memberId;
    const watcher = await connect(hub, mission.members.OPS!.token);
    const [cpo, board] = await Promise.all([open(mission, 'LEAD', 'cpo', 'phone'), open(mission, 'OPS', 'board', 'wall')]);
    const tablet = await DelayedTablet.connect(hub, watcher, mission.members['DRV-1']!.token, driverId);
    await cpo.page.getByRole('button', { name: 'ALPHA', exact: true }).click();

    // 1. Tapped at 0.8 s, the answer spends 0.9 s on the uplink: raised live, then withdrawn.
    const drawnBoxIn = tablet.next();
    await cpo.page.getByRole('button', { name: 'BOX-IN — OPEN GAP', exact: true }).click();
    const boxIn = await drawnBoxIn;
    // The receipt takes 300 ms: listening now cannot miss it.
    await nextEvent(watcher, 'trigger:state', (s) => s.id === boxIn.cue.id && s.recipients[0]?.state === 'delivered');
    tablet.link.up = 900;
    const raised = nextEvent(watcher, 'alert', (a) => a.kind === 'hesitation' && a.triggerId === boxIn.cue.id);
    const answered = tablet.answerAfter(boxIn.cue.id, boxIn.shownAt, 800);
    await raised;
    await board.page.locator('.alert.alert-hesitation', { hasText: 'HESITATION' }).waitFor();
    const { reply } = await answered;
    expect(reply).toMatchObject({ ok: true, hesitation: false, gapSource: 'device' });

    const struck = board.page.locator('.alert-withdrawn', { hasText: /withdrawn: answered in 0\.\d s/ });
    await struck.waitFor();
    await expect(struck.locator('s').textContent()).resolves.toContain('HESITATION');
    await board.page.locator('.alert.alert-hesitation').waitFor({ state: 'detached' });
    const notice = cpo.page.locator('.notice', { hasText: /withdrawn: answered in 0\.\d s/ });
    await notice.waitFor();
    await expect(notice.locator('s').textContent()).resolves.toContain('hesitation');
    await Promise.all([screenshot(board.page, 'board-withdrawn'), screenshot(cpo.page, 'cpo-withdrawn')]);

    // 2. No device time at all: the gap comes from the server's clock and reads as approximate.
    tablet.link.up = 300;
    tablet.receipts = 'bare';
    const drawnHold = tablet.next();
    await cpo.page.getByRole('button', { name: 'HOLD', exact: true }).click();
    const hold = await drawnHold;
    const approximate = await tablet.answerAfter(hold.cue.id, hold.shownAt, 200, false);
    expect(approximate.reply).toMatchObject({ ok: true, gapSource: 'server' });
    await board.page
      .locator('.trigger', { hasText: 'HOLD' })
      .locator('.recipient', { hasText: /ALPHA answered ≈ \d\.\d s/ })
      .waitFor();
    await cpo.page
      .locator('.fired', { hasText: 'HOLD' })
      .locator('.chip', { hasText: /ALPHA answered ≈ \d\.\d s/ })
      .waitFor();
  });
});
