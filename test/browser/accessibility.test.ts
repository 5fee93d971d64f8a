import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { type Device, type MemberScreen, screenshot, type Screen, useBrowserHub } from '../support/browser.ts';
import { STANDARD_MEMBERS, createMission, type TestMission } from '../support/hub.ts';

/**
 * axe-core, injected into every screen in each of its states: no serious or critical violation,
 * every text at 4.5:1 or more (WCAG AA), and the driver's cue label at 7:1 (AAA).
 */

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const { hub, open: openPage, openMember } = useBrowserHub();

const PLAN = {
  routes: [
    { id: 'main', name: 'Main', kind: 'primary' as const },
    { id: 'river', name: 'River', kind: 'alternate' as const },
  ],
  safeHavens: [{ id: 'embassy', name: 'Embassy' }],
  hospitals: [{ id: 'st-marys', name: "St Mary's" }],
  // The pickup was due ten minutes before the run: marked, it is red on the board, and the venue with it.
  schedule: [
    { leg: 'Pickup', plannedAt: Date.now() - 10 * 60_000 },
    { leg: 'Venue', plannedAt: Date.now() + 30 * 60_000 },
  ],
};

interface Finding {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** Runs axe on the page as it is now; `only` narrows to some rules and `within` to part of the page. */
async function axe(page: Page, options: { rules?: string[]; within?: string } = {}): Promise<Finding[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE_PATH });
  return page.evaluate(async ({ rules, within }) => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected as a global script
    const run = (window as any).axe.run as (context: unknown, options: unknown) => Promise<{ violations: any[] }>;
    const result = await run(within ?? document, {
      runOnly: rules
        ? { type: 'rule', values: rules }
        : { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      // Animations (the pulsing offline banner) would make the contrast of a frame depend on timing.
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id as string,
      impact: v.impact as string | null,
      help: v.help as string,
      nodes: (v.nodes as { target: string[] }[]).map((n) => n.target.join(' ')),
    }));
  }, options);
}

/** What must not be there: a serious or critical finding, or any text below 4.5:1. */
async function expectClean(page: Page, name: string) {
  const findings = await axe(page);
  const blocking = findings.filter((f) => f.impact === 'serious' || f.impact === 'critical' || f.id === 'color-contrast');
  expect(blocking, `${name}: ${JSON.stringify(blocking, null, 1)}`).toEqual([]);
}

async function open(mission: TestMission, callsign: string, path: MemberScreen, device: Device) {
  const screen = await openMember(mission, callsign, path, device);
  // No pulsing banner while axe reads colours.
  await screen.page.emulateMedia({ reducedMotion: 'reduce' });
  return screen;
}

const online = (screen: Screen) =>
  screen.page
    .getByRole('status')
    .filter({ hasText: /ONLINE|LIVE/ })
    .first()
    .waitFor();

describe('every screen passes axe-core', () => {
  it('handset (pad, routes, keys), tablet (idle, each cue urgency, reasons), board and field page', async () => {
    const mission = await createMission(hub, {
      members: [...STANDARD_MEMBERS, { callsign: 'ADV', role: 'advance' }],
      plan: PLAN,
      settings: { thresholds: { default: 500 } },
    });
    const [cpo, driver, board, field] = await Promise.all([
      open(mission, 'LEAD', 'cpo', 'phone'),
      open(mission, 'DRV-1', 'driver', 'tablet'),
      open(mission, 'OPS', 'board', 'wall'),
      open(mission, 'ADV', 'field', 'phone'),
    ]);
    await Promise.all([online(cpo), online(driver), online(board), online(field)]);
    await cpo.page.getByRole('button', { name: 'ALPHA', exact: true }).click();

    await expectClean(cpo.page, 'cpo');
    await expectClean(driver.page, 'driver idle');
    await expectClean(field.page, 'field');

    for (const [label, urgency] of [
      ['MOVE NOW', 'routine'],
      ['HOLD', 'caution'],
      ['EXTRACT NOW', 'alarm'],
    ] as const) {
      await cpo.page.getByRole('button', { name: label, exact: true }).click();
      const cue = driver.page.getByRole('alertdialog', { name: label });
      await cue.waitFor();
      await expect.poll(() => driver.page.getByRole('button', { name: /^ACK/ }).isEnabled()).toBe(true);
      await expectClean(driver.page, `driver cue ${urgency}`);
      const enhanced = await axe(driver.page, { rules: ['color-contrast-enhanced'], within: '.cue-label' });
      expect(enhanced, `cue label ${urgency} at 7:1`).toEqual([]);
      await screenshot(driver.page, `driver-cue-${urgency}`);
      await driver.page.getByRole('button', { name: 'UNABLE' }).click();
      await expect.poll(() => driver.page.getByRole('button', { name: 'BLOCKED' }).isEnabled()).toBe(true);
      await expectClean(driver.page, `driver reasons ${urgency}`);
      await driver.page.getByRole('button', { name: 'BLOCKED' }).click();
      await cue.waitFor({ state: 'detached' });
    }

    // The alerts of the late answers are on the board; its full list too. The schedule: one leg done late, one due late.
    await cpo.page.getByRole('button', { name: 'MARK PICKUP DONE' }).click();
    await board.page
      .getByRole('region', { name: 'Schedule' })
      .getByRole('listitem')
      .filter({ hasText: 'Pickup' })
      .filter({ hasText: '✓' })
      .waitFor();
    await board.page.locator('.alert').first().waitFor();
    await expectClean(board.page, 'board');
    await expectClean(cpo.page, 'cpo schedule');
    await cpo.page.getByRole('button', { name: 'ALT ROUTE', exact: true }).click();
    await expect.poll(() => cpo.page.getByRole('button', { name: 'RIVER' }).isEnabled()).toBe(true);
    await expectClean(cpo.page, 'cpo routes');
    await cpo.page.getByRole('button', { name: 'CANCEL' }).click();
    await cpo.page.getByRole('button', { name: 'Keys and earpiece bindings' }).click();
    await expect.poll(() => cpo.page.getByRole('button', { name: 'DONE', exact: true }).isEnabled()).toBe(true);
    await expectClean(cpo.page, 'cpo keys');
    await screenshot(cpo.page, 'cpo-keys');
  });

  it('the operations console: sign-in, missions, new mission, crew with QR codes, plan editor, start refused, its dialogs', async () => {
    const signIn = await openPage('/ops', 'desk');
    await signIn.page.getByLabel('Admin token').waitFor();
    await expectClean(signIn.page, 'ops sign-in');

    const ops = await openPage(`/ops?token=${hub.adminToken}`, 'desk');
    const { page } = ops;
    await page.getByRole('heading', { name: 'Missions' }).waitFor();
    await expectClean(page, 'ops missions');
    await page.getByRole('button', { name: '+ New mission' }).click();
    await page.getByLabel('Mission name').fill('Axe run');
    await page.getByRole('textbox', { name: 'Vehicle callsign' }).fill('ALPHA');
    await expectClean(page, 'ops new mission');
    await page.getByRole('button', { name: 'Create mission' }).click();
    const form = page.getByRole('form', { name: 'Add a member' });
    await form.getByLabel('Callsign', { exact: true }).fill('ALPHA-D');
    await form.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('img', { name: 'QR code of the link of ALPHA-D' }).waitFor();
    await expectClean(page, 'ops crew');

    await page.getByRole('link', { name: 'Plan', exact: true }).click();
    await page.getByRole('button', { name: '+ Add route' }).click();
    await page.getByLabel('Route name').fill('Main');
    await page.getByRole('button', { name: 'Save as v1' }).click();
    await page.getByRole('region', { name: 'Plan acknowledgements' }).getByText('Plan v1 not acked').first().waitFor();
    await expectClean(page, 'ops plan');
    await page.getByRole('button', { name: 'Start mission' }).click();
    await page.getByRole('alert', { name: 'Start refused' }).waitFor();
    await expectClean(page, 'ops start refused');
    await page.getByRole('button', { name: 'Force start…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Start without every acknowledgement?' });
    await confirm.waitFor();
    await expectClean(page, 'ops force-start question');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('link', { name: 'Crew and links' }).click();
    await page.getByRole('button', { name: 'Show the QR code of ALPHA-D large' }).click();
    await page.getByRole('img', { name: 'Large QR code of the link of ALPHA-D' }).waitFor();
    await expectClean(page, 'ops large QR code');
  });
});
