import type { MissionSettingsInput } from '@lockstep/shared';
import { describe, expect, it } from 'vitest';
import { screenshot, type Screen, useBrowserHub } from '../support/browser.ts';
import { STANDARD_MEMBERS, createMission } from '../support/hub.ts';
import { freePort } from '../support/redis-server.ts';

/**
 * The screens as they are used in the field: a handset on a LAN name over plain http, taps that
 * come twice, reloads, a tablet that loses its link while the driver answers.
 */

/** A name Chromium resolves to the node without DNS: not localhost nor 127.x, so the page is not a secure context. */
const LAN_NAME = 'lockstep.field';

const { hub, open, openMember, newContext } = useBrowserHub({
  // A page opened by a name is a browser origin the node must be told is its own (LOCKSTEP_PUBLIC_URL): never taken from Host.
  hub: async () => {
    const port = await freePort();
    return { port, publicOrigin: `http://${LAN_NAME}:${port}` };
  },
  browserArgs: [`--host-resolver-rules=MAP ${LAN_NAME} 127.0.0.1`],
});

const PLAN = {
  routes: [
    { id: 'main', name: 'Main', kind: 'primary' as const },
    { id: 'river', name: 'River', kind: 'alternate' as const },
  ],
};

const online = (screen: Screen) =>
  screen.page
    .getByRole('status')
    .filter({ hasText: /ONLINE|LIVE/ })
    .waitFor();

/** A driver handed a plan reads it first: these drills start from a briefed driver. */
async function brief(...drivers: Screen[]) {
  for (const driver of drivers) {
    await driver.page.getByRole('button', { name: 'ACK BRIEFING v1' }).click();
    await driver.page.getByRole('region', { name: 'Standing by' }).waitFor();
  }
}

/** The lead's handset and ALPHA's tablet, both live, its driver briefed. */
async function handsetAndTablet(settings?: MissionSettingsInput) {
  const mission = await createMission(hub, { members: STANDARD_MEMBERS, plan: PLAN, ...(settings ? { settings } : {}) });
  const [cpo, driver] = await Promise.all([openMember(mission, 'LEAD', 'cpo', 'phone'), openMember(mission, 'DRV-1', 'driver', 'tablet')]);
  await Promise.all([online(cpo), online(driver)]);
  await brief(driver);
  return { cpo, driver };
}

describe('field-ready screens', () => {
  it('fires from a handset opened by a LAN name over plain http, where crypto.randomUUID does not exist', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, plan: PLAN });
    const lanBase = hub.url.replace('127.0.0.1', LAN_NAME);
    const cpo = await openMember(mission, 'LEAD', 'cpo', 'phone', lanBase);
    const driver = await openMember(mission, 'DRV-1', 'driver', 'tablet', lanBase);
    expect(await cpo.page.evaluate(() => ({ secure: window.isSecureContext, randomUUID: typeof crypto.randomUUID }))).toEqual({
      secure: false,
      randomUUID: 'undefined',
    });
    await Promise.all([online(cpo), online(driver)]);
    await brief(driver);

    await cpo.page.getByRole('button', { name: 'ALPHA', exact: true }).click();
    await cpo.page.getByRole('button', { name: 'HOLD', exact: true }).click();
    await driver.page.getByRole('alertdialog', { name: 'HOLD' }).waitFor();
    await cpo.page
      .locator('.fired', { hasText: 'HOLD' })
      .locator('.chip', { hasText: /ALPHA (delivered|pending)/ })
      .waitFor();
    // No Screen Wake Lock outside a secure context: the tablet says its screen may sleep.
    await driver.page.getByRole('button', { name: /^ACK/ }).click();
    await driver.page.getByText('SCREEN MAY SLEEP').waitFor();
    await Promise.all([screenshot(cpo.page, 'cpo-lan-http'), screenshot(driver.page, 'driver-lan-http')]);
  });

  it('does not let a double tap on UNABLE send SAY AGAIN: the reasons arm after a moment', async () => {
    const { cpo, driver } = await handsetAndTablet();
    await cpo.page.getByRole('button', { name: 'ALPHA', exact: true }).click();
    await cpo.page.getByRole('button', { name: 'HOLD', exact: true }).click();
    const cue = driver.page.getByRole('alertdialog', { name: 'HOLD' });
    await cue.waitFor();

    // The second tap of the double tap lands where SAY AGAIN appears.
    const unable = driver.page.getByRole('button', { name: 'UNABLE' });
    const box = await unable.boundingBox();
    if (!box) throw new Error('UNABLE is not on screen');
    const sayAgain = driver.page.getByRole('button', { name: 'SAY AGAIN' });
    await driver.page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
    await sayAgain.waitFor();
    const under = await sayAgain.boundingBox();
    expect(under && box.x + box.width / 2 >= under.x && box.y + box.height / 2 >= under.y).toBe(true);
    // Still the same cue, unanswered: the handset shows no answer.
    await expect(cue.isVisible()).resolves.toBe(true);
    await expect(
      cpo.page
        .locator('.fired', { hasText: 'HOLD' })
        .locator('.chip', { hasText: /unable/ })
        .count(),
    ).resolves.toBe(0);

    // Armed, it takes a deliberate tap.
    await expect.poll(() => sayAgain.isEnabled()).toBe(true);
    await sayAgain.click();
    await cpo.page
      .locator('.fired', { hasText: 'HOLD' })
      .locator('.chip', { hasText: /ALPHA unable say-again/ })
      .waitFor();
  });

  it('keeps the CPO target across a reload, shown next to the pad', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, plan: PLAN });
    const [cpo, driver1, driver2] = await Promise.all([
      openMember(mission, 'LEAD', 'cpo', 'phone'),
      openMember(mission, 'DRV-1', 'driver', 'tablet'),
      openMember(mission, 'DRV-2', 'driver', 'tablet'),
    ]);
    await Promise.all([online(cpo), online(driver1), online(driver2)]);
    await brief(driver1, driver2);
    await cpo.page.getByRole('button', { name: 'BRAVO', exact: true }).click();
    await cpo.page.reload();
    await online(cpo);
    await expect.poll(() => cpo.page.locator('.aim-name').textContent()).toBe('BRAVO');
    await expect(cpo.page.getByRole('button', { name: 'BRAVO', exact: true }).getAttribute('aria-pressed')).resolves.toBe('true');

    // The target row is in the lower half, where the thumb is, and right above the pad.
    const viewport = cpo.page.viewportSize();
    const row = await cpo.page.locator('.thumb-row').boundingBox();
    const pad = await cpo.page.locator('.pad').boundingBox();
    expect(row && viewport && row.y > viewport.height / 2).toBe(true);
    expect(row && pad && Math.abs(row.y + row.height - pad.y) < 20).toBe(true);

    await cpo.page.getByRole('button', { name: 'HOLD', exact: true }).click();
    await driver2.page.getByRole('alertdialog', { name: 'HOLD' }).waitFor();
    await cpo.page.locator('.fired', { hasText: 'HOLD' }).locator('.chip', { hasText: 'BRAVO' }).waitFor();
    await expect(driver1.page.getByRole('alertdialog').count()).resolves.toBe(0);
    await screenshot(cpo.page, 'cpo-target-after-reload');
  });

  it('shows an ACK tapped offline as waiting to be sent, and clears it once the server has it', async () => {
    const { cpo, driver } = await handsetAndTablet();
    await cpo.page.getByRole('button', { name: 'ALPHA', exact: true }).click();
    await cpo.page.getByRole('button', { name: 'HOLD', exact: true }).click();
    await driver.page.getByRole('alertdialog', { name: 'HOLD' }).waitFor();

    await driver.context.setOffline(true);
    await driver.page.getByRole('status').filter({ hasText: 'OFFLINE' }).waitFor();
    await driver.page.getByRole('button', { name: /^ACK/ }).click();
    const waiting = driver.page.locator('.unsent-line', { hasText: 'ACK HOLD — WAITING TO BE SENT' });
    await waiting.waitFor();
    await screenshot(driver.page, 'driver-ack-waiting');

    await driver.context.setOffline(false);
    await waiting.waitFor({ state: 'detached' });
    await cpo.page
      .locator('.fired', { hasText: 'HOLD' })
      .locator('.chip', { hasText: /ALPHA answered/ })
      .waitFor();
  });

  it('keeps the driver token across a closed tab, and answers a revoked tablet and an ended mission in plain words', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, plan: PLAN });
    const context = await newContext({ viewport: { width: 1280, height: 800 }, hasTouch: true });
    context.setDefaultTimeout(6000);
    const first = await context.newPage();
    await first.goto(`${hub.url}/driver?token=${mission.members['DRV-1']!.token}`);
    await first.getByRole('status').filter({ hasText: 'ONLINE' }).waitFor();
    await first.close();

    const reopened = await context.newPage();
    await reopened.goto(`${hub.url}/driver`);
    await reopened.getByRole('status').filter({ hasText: 'ONLINE' }).waitFor();
    await reopened.getByRole('button', { name: 'ACK BRIEFING v1' }).click();
    await reopened.getByRole('region', { name: 'Standing by' }).getByText('ALPHA').waitFor();

    const revoked = await hub.api('DELETE', `/api/missions/${mission.id}/members/${mission.members['DRV-1']!.memberId}`);
    expect(revoked.status).toBe(204);
    await reopened.getByRole('alert').filter({ hasText: 'LINK NOT VALID' }).waitFor();
    await screenshot(reopened, 'driver-revoked');

    const other = await openMember(mission, 'DRV-2', 'driver', 'tablet');
    await online(other);
    await hub.api('POST', `/api/missions/${mission.id}/end`, { body: {} });
    await other.page.getByRole('alert').filter({ hasText: 'MISSION ENDED' }).waitFor();
    await screenshot(other.page, 'driver-mission-ended');

    const none = await open('/driver', 'tablet');
    await none.page.getByRole('alert').filter({ hasText: 'NO LINK' }).waitFor();
    await screenshot(none.page, 'driver-no-token');
  });

  it('lets the CPO rebind a key on screen; the binding fires at once and survives a reload', async () => {
    const { cpo, driver } = await handsetAndTablet();
    await cpo.page.getByRole('button', { name: 'ALPHA', exact: true }).click();
    await cpo.page.getByRole('button', { name: 'Keys and earpiece bindings' }).click();
    const keys = cpo.page.getByRole('dialog', { name: 'Keys and earpiece bindings' });
    await expect(keys.getByLabel('Key 1', { exact: true }).inputValue()).resolves.toBe('hold');
    await keys.getByLabel('Key 7', { exact: true }).selectOption('medical');
    await screenshot(cpo.page, 'cpo-keys-edit');
    await expect.poll(() => keys.getByRole('button', { name: 'DONE' }).isEnabled()).toBe(true);
    await keys.getByRole('button', { name: 'DONE' }).click();
    await expect(cpo.page.locator('.fire[data-type="medical"] .key-hint').textContent()).resolves.toBe('7');

    await cpo.page.reload();
    await online(cpo);
    await expect.poll(() => cpo.page.locator('.fire[data-type="medical"] .key-hint').textContent()).toBe('7');
    await cpo.page.keyboard.press('7');
    await driver.page.getByRole('alertdialog', { name: 'MEDICAL — HOSPITAL' }).waitFor();
  });

  it('sends a field member to a page with the threat picture, a report form and the plan', async () => {
    const mission = await createMission(hub, {
      members: [...STANDARD_MEMBERS, { callsign: 'ADV', role: 'advance' }],
      plan: { ...PLAN, safeHavens: [{ id: 'embassy', name: 'Embassy' }] },
    });
    // The advance member was given a handset link by mistake: the page moves to the field screen.
    const field = await openMember(mission, 'ADV', 'cpo', 'phone');
    const board = await openMember(mission, 'OPS', 'board', 'wall');
    await field.page.waitForURL(/\/field$/);
    await online(field);
    await field.page.getByRole('region', { name: 'Plan' }).getByText('Embassy').waitFor();

    await field.page.getByRole('button', { name: 'SURVEILLANCE' }).click();
    await field.page.getByRole('button', { name: 'THREAT' }).click();
    await field.page.getByLabel('Details').fill('Grey van, third pass, north gate');
    await field.page.getByRole('button', { name: 'SEND REPORT' }).click();
    await field.page
      .getByRole('region', { name: 'Threat picture' })
      .locator('.report.severity-threat', { hasText: 'Grey van, third pass' })
      .waitFor();
    await board.page.locator('.observation', { hasText: 'Grey van, third pass' }).waitFor();
    await screenshot(field.page, 'field-phone');

    // A driver's link opened as a board moves to the driver's screen, token and all.
    const misplaced = await openMember(mission, 'DRV-2', 'board', 'tablet');
    await misplaced.page.waitForURL(/\/driver$/);
    // There it is the driver's own tablet: the briefing it owes, then standing by in BRAVO.
    await brief(misplaced);
    await misplaced.page.getByRole('region', { name: 'Standing by' }).getByText('BRAVO').waitFor();
  });

  it('never refuses a tap in silence: an ended mission is on the banner, and a refused HOLD says why in words', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS, plan: PLAN });
    const cpo = await openMember(mission, 'LEAD', 'cpo', 'phone');
    await online(cpo);
    await cpo.page.getByRole('button', { name: 'ALPHA', exact: true }).click();
    await hub.api('POST', `/api/missions/${mission.id}/end`, { body: {} });
    await cpo.page.getByRole('status').filter({ hasText: 'MISSION ENDED — TAPS ARE REFUSED' }).waitFor();
    await cpo.page.getByRole('button', { name: 'HOLD', exact: true }).click();
    await cpo.page.getByRole('alert').filter({ hasText: 'HOLD REFUSED — THE MISSION IS NOT RUNNING' }).waitFor();
    await screenshot(cpo.page, 'cpo-refused');
  });

  it('sounds and keeps a plain note when a cue expires unanswered', async () => {
    const { cpo, driver } = await handsetAndTablet({ staleMs: { default: 5000 } });
    // Counts the tones the page starts, without a hook in the page's own code.
    await driver.page.evaluate(() => {
      const counted = window as unknown as { tones: number };
      counted.tones = 0;
      const create = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function (this: AudioContext) {
        counted.tones += 1;
        return create.call(this);
      };
    });
    const tones = () => driver.page.evaluate(() => (window as unknown as { tones: number }).tones);
    await driver.page.getByRole('region', { name: 'Standing by' }).click();
    await driver.page.getByText('SOUND ON').waitFor();

    await cpo.page.getByRole('button', { name: 'ALPHA', exact: true }).click();
    await cpo.page.getByRole('button', { name: 'HOLD', exact: true }).click();
    await driver.page.getByRole('alertdialog', { name: 'HOLD' }).waitFor();
    await expect.poll(tones).toBeGreaterThan(0);
    const beforeExpiry = await tones();

    await driver.page.getByRole('region', { name: 'Standing by' }).waitFor({ timeout: 15_000 });
    await driver.page
      .locator('.missed-line', { hasText: 'MISSED HOLD' })
      .getByText(/Confirm by voice/)
      .waitFor();
    await expect.poll(tones).toBeGreaterThan(beforeExpiry);
    await screenshot(driver.page, 'driver-missed');
  });
});
