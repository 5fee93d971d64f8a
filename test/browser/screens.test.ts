import { describe, expect, it } from 'vitest';
import { screenshot, useBrowserHub } from '../support/browser.ts';
import { STANDARD_MEMBERS, createMission } from '../support/hub.ts';

const { hub, openMember } = useBrowserHub();

const PLAN = {
  routes: [
    { id: 'main', name: 'Main', kind: 'primary' as const },
    { id: 'river', name: 'River', kind: 'alternate' as const },
  ],
};

/** The lead's handset, the first vehicle's tablet and the ops board, all three live. */
async function detail(settings?: { thresholds: { default: number } }) {
  const mission = await createMission(hub, { members: STANDARD_MEMBERS, plan: PLAN, ...(settings ? { settings } : {}) });
  const [cpo, driver, board] = await Promise.all([
    openMember(mission, 'LEAD', 'cpo', 'phone'),
    openMember(mission, 'DRV-1', 'driver', 'tablet'),
    openMember(mission, 'OPS', 'board', 'wall'),
  ]);
  await Promise.all(
    [cpo, driver, board].map(({ page }) =>
      page
        .getByRole('status')
        .filter({ hasText: /ONLINE|LIVE/ })
        .waitFor(),
    ),
  );
  // The tablet shows the briefing until its driver acks it; these drills start from a briefed driver.
  await driver.page.getByRole('button', { name: 'ACK BRIEFING v1' }).click();
  await driver.page.getByRole('region', { name: 'Standing by' }).waitFor();
  // The handset knows the convoy once the snapshot is in: one tap narrows the target to ALPHA.
  await cpo.page.getByRole('button', { name: 'ALPHA', exact: true }).click();
  return { mission, cpo, driver, board };
}

describe('the three screens against a real node', () => {
  it('fires BOX-IN from the handset; the tablet shows it, the driver acks, handset and board show the gap', async () => {
    const { cpo, driver, board } = await detail();
    expect(new URL(driver.page.url()).search).toBe('');

    await cpo.page.getByRole('button', { name: 'BOX-IN — OPEN GAP', exact: true }).click();
    const cue = driver.page.getByRole('alertdialog', { name: 'BOX-IN — OPEN GAP' });
    await cue.waitFor();
    await screenshot(driver.page, 'driver-cue');
    await driver.page.setViewportSize({ width: 412, height: 915 });
    await screenshot(driver.page, 'driver-cue-phone-portrait');
    await driver.page.getByRole('button', { name: /^ACK/ }).click();
    await cue.waitFor({ state: 'detached' });

    const answered = /ALPHA answered \d+\.\d s/;
    await cpo.page.locator('.fired', { hasText: 'BOX-IN' }).locator('.chip', { hasText: answered }).waitFor();
    await board.page.locator('.trigger', { hasText: 'BOX-IN' }).locator('.recipient', { hasText: answered }).waitFor();
    await board.page.locator('.chart circle.gap').first().waitFor();
    await Promise.all([
      screenshot(cpo.page, 'cpo-answered'),
      screenshot(board.page, 'board-answered'),
      screenshot(driver.page, 'driver-idle'),
    ]);
  });

  it('turns an unanswered cue to HESITATION on the handset and the board at the threshold', async () => {
    const { cpo, driver, board } = await detail({ thresholds: { default: 500 } });

    await cpo.page.getByRole('button', { name: 'EXTRACT NOW', exact: true }).click();
    await driver.page.getByRole('alertdialog', { name: 'EXTRACT NOW' }).waitFor();
    await cpo.page.locator('.fired', { hasText: 'EXTRACT NOW' }).locator('.chip.alarmed', { hasText: 'ALPHA HESITATION' }).waitFor();
    await board.page
      .locator('.trigger', { hasText: 'EXTRACT NOW' })
      .locator('.recipient.alarmed', { hasText: 'ALPHA hesitation' })
      .waitFor();
    const alert = board.page.locator('.alert', { hasText: 'HESITATION' });
    await alert.waitFor();
    await Promise.all([screenshot(cpo.page, 'cpo-hesitation'), screenshot(board.page, 'board-hesitation')]);

    // The late answer still lands: answered, with its gap, and still flagged.
    await driver.page.getByRole('button', { name: 'UNABLE' }).click();
    await screenshot(driver.page, 'driver-unable-reasons');
    await driver.page.getByRole('button', { name: 'BLOCKED' }).click();
    await cpo.page
      .locator('.fired', { hasText: 'EXTRACT NOW' })
      .locator('.chip.alarmed', { hasText: /ALPHA unable blocked \d+\.\d s HESITATION/ })
      .waitFor();

    await alert.getByRole('button', { name: /^Resolve/ }).click();
    await alert.waitFor({ state: 'detached' });
  });

  it('shows each pending cue once after the tablet goes offline and comes back', async () => {
    const { cpo, driver } = await detail();

    await cpo.page.getByRole('button', { name: 'HOLD', exact: true }).click();
    await driver.page.getByRole('alertdialog', { name: 'HOLD' }).waitFor();

    await driver.context.setOffline(true);
    await driver.page.getByRole('status').filter({ hasText: 'OFFLINE' }).waitFor();
    await cpo.page.getByRole('button', { name: 'EXTRACT NOW', exact: true }).click();
    await cpo.page.locator('.fired', { hasText: 'EXTRACT NOW' }).locator('.chip', { hasText: 'ALPHA' }).waitFor();
    await screenshot(driver.page, 'driver-offline');

    await driver.context.setOffline(false);
    // EXTRACT outranks HOLD: it takes the screen, HOLD waits in the queue, and neither is there twice.
    await driver.page.getByRole('alertdialog', { name: 'EXTRACT NOW' }).waitFor();
    await expect.poll(() => driver.page.locator('.queued').textContent()).toBe('+1 QUEUED: HOLD');
    await screenshot(driver.page, 'driver-queued');
    await cpo.page
      .locator('.fired', { hasText: 'EXTRACT NOW' })
      .locator('.chip', { hasText: /ALPHA (delivered|HESITATION)/ })
      .waitFor();

    await driver.page.getByRole('button', { name: /^ACK/ }).click();
    await driver.page.getByRole('alertdialog', { name: 'HOLD' }).waitFor();
    await driver.page.getByRole('button', { name: /^ACK/ }).click();
    await driver.page.getByRole('region', { name: 'Standing by' }).waitFor();
    await expect(driver.page.getByRole('alertdialog').count()).resolves.toBe(0);
  });

  it('keeps a tap made while the handset is offline and fires it once when the link returns', async () => {
    const { cpo, driver, board } = await detail();

    await cpo.context.setOffline(true);
    await cpo.page.getByRole('status').filter({ hasText: 'OFFLINE' }).waitFor();
    await cpo.page.getByRole('button', { name: 'ALL CLEAR', exact: true }).click();
    await cpo.page.locator('.fired.unsent', { hasText: 'ALL CLEAR' }).waitFor();
    await screenshot(cpo.page, 'cpo-offline-outbox');

    await cpo.context.setOffline(false);
    await driver.page.getByRole('alertdialog', { name: 'ALL CLEAR' }).waitFor();
    await driver.page.getByRole('button', { name: /^ACK/ }).click();
    await board.page
      .locator('.trigger', { hasText: 'ALL CLEAR' })
      .locator('.recipient', { hasText: /ALPHA answered/ })
      .waitFor();
    await cpo.page.locator('.fired.unsent').waitFor({ state: 'detached' });
    await expect(board.page.locator('.trigger', { hasText: 'ALL CLEAR' }).count()).resolves.toBe(1);
  });

  it('tells a swapped-out driver plainly, and links the after-action report on the board once the mission ends', async () => {
    const { mission, driver, board } = await detail();
    const swap = await hub.api('POST', `/api/missions/${mission.id}/vehicles/v1/driver`, { body: { callsign: 'SPARE' } });
    expect(swap.status).toBe(201);
    await driver.page.getByText('YOU ARE NO LONGER DRIVING ALPHA').waitFor();
    // The dead link after a reload still reads as a swap, not as an error.
    await driver.page.reload();
    await driver.page.getByText('YOU ARE NO LONGER DRIVING ALPHA').waitFor();
    expect(await driver.page.getByText(/LINK REFUSED|LINK NOT VALID/).count()).toBe(0);
    await screenshot(driver.page, 'driver-swapped-out');

    await hub.api('POST', `/api/missions/${mission.id}/end`);
    const reportLink = board.page.getByRole('link', { name: 'AFTER-ACTION REPORT' });
    await reportLink.waitFor();
    const [report] = await Promise.all([board.context.waitForEvent('page'), reportLink.click()]);
    await report.getByRole('heading', { name: /After-action report/ }).waitFor();
    expect(await report.locator('h2:has-text("Drivers") + table tbody tr').count()).toBe(3);
  });
});
