import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowserHub } from '../support/browser.ts';
import { missionIdOf, photograph } from '../support/ops-console.ts';
import { decodeQrCode } from '../support/qr.ts';

const { hub, open } = useBrowserHub();

async function createMission(page: Page, name: string, vehicles: string[]) {
  await page.getByRole('button', { name: '+ New mission' }).click();
  await page.getByLabel('Mission name').fill(name);
  for (const [i, callsign] of vehicles.entries()) {
    if (i > 0) await page.getByRole('button', { name: '+ Add vehicle' }).click();
    await page.getByRole('textbox', { name: 'Vehicle callsign' }).nth(i).fill(callsign);
  }
  // The defaults are on screen; the operator tightens the threshold.
  await expect(page.getByLabel('Offline grace (s)').inputValue()).resolves.toBe('3');
  await page.getByLabel('Hesitation threshold (s)').fill('1.5');
  await photograph(page, 'new-mission');
  await page.getByRole('button', { name: 'Create mission' }).click();
  await page.getByRole('region', { name: `Vehicle ${vehicles[0]}` }).waitFor();
  await page
    .getByRole('status')
    .filter({ hasText: `Mission “${name}” created. Add its crew next.` })
    .waitFor();
}

async function addMember(page: Page, role: string, callsign: string, vehicle?: string) {
  const form = page.getByRole('form', { name: 'Add a member' });
  await form.getByLabel('Role').selectOption(role);
  if (vehicle) await form.getByLabel('Vehicle').selectOption({ label: vehicle });
  await form.getByLabel('Callsign', { exact: true }).fill(callsign);
  await form.getByRole('button', { name: 'Add member' }).click();
  await page.getByRole('article', { name: `${callsign} ${role}` }).waitFor();
}

describe('the operations console against a real node', () => {
  it('signs in with the admin token typed into the field, and names a wrong one', async () => {
    const { page } = await open('/ops', 'desk');
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That token was refused' }).waitFor();
    await photograph(page, 'sign-in-refused');

    await page.getByLabel('Admin token').fill(hub.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Missions' }).waitFor();
    // Kept for the tab's life: a reload stays signed in.
    await page.reload();
    await page.getByRole('heading', { name: 'Missions' }).waitFor();
    await photograph(page, 'missions');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('form', { name: 'Sign in' }).waitFor();
    await page.reload();
    await page.getByRole('form', { name: 'Sign in' }).waitFor();
  });

  it('sets up two vehicles, hands ALPHA its link by QR code, names BRAVO as not acked and force-starts', async () => {
    const ops = await open(`/ops?token=${hub.adminToken}`, 'desk');
    const { page } = ops;
    await ops.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.url });
    await page.getByRole('heading', { name: 'Missions' }).waitFor();
    expect(new URL(page.url()).search).toBe('');

    await createMission(page, 'Hotel to venue', ['ALPHA', 'BRAVO']);
    await addMember(page, 'lead', 'LEAD');
    await addMember(page, 'driver', 'ALPHA-D', 'ALPHA');
    await addMember(page, 'driver', 'BRAVO-D', 'BRAVO');
    await photograph(page, 'crew');

    // The tablet's camera reads ALPHA-D's code; the link it holds opens ALPHA's working screen.
    const alphaCard = page.getByRole('article', { name: 'ALPHA-D driver' });
    const link = await decodeQrCode(alphaCard.getByRole('img', { name: 'QR code of the link of ALPHA-D' }));
    expect(link).toMatch(new RegExp(`^${hub.url}/driver\\?token=`));
    await alphaCard.getByRole('button', { name: 'Copy link' }).click();
    await alphaCard.getByRole('button', { name: 'Copied ✓' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await alphaCard.getByRole('button', { name: 'Show the QR code of ALPHA-D large' }).click();
    await decodeQrCode(page.getByRole('img', { name: 'Large QR code of the link of ALPHA-D' })).then((large) => expect(large).toBe(link));
    await photograph(page, 'qr-large');
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    // A console opened on this machine's own address is told the one the tablets reach.
    const base = page.getByRole('form', { name: 'Where the links point' });
    await expect(base.getByText('Tablets cannot reach “localhost”').isVisible()).resolves.toBe(true);
    await base.getByLabel('Links point to').fill('http://192.168.1.20:8080');
    await base.getByRole('button', { name: 'Use this address' }).click();
    await base.getByText('Tablets cannot reach “localhost”').waitFor({ state: 'hidden' });
    const lanLink = await decodeQrCode(alphaCard.getByRole('img', { name: 'QR code of the link of ALPHA-D' }));
    expect(lanLink).toBe(link.replace(hub.url, 'http://192.168.1.20:8080'));
    await base.getByLabel('Links point to').fill(hub.url);
    await base.getByRole('button', { name: 'Use this address' }).click();

    const tablet = await open(link.slice(hub.url.length), 'tablet');
    await tablet.page.getByRole('status').filter({ hasText: 'ONLINE' }).waitFor();
    await tablet.page
      .getByRole('region', { name: 'Standing by' })
      .filter({ hasText: 'ALPHA' })
      .filter({ hasText: 'Hotel to venue' })
      .waitFor();
    // The console sees the tablet come online; BRAVO's has not scanned yet.
    await alphaCard.locator('.presence', { hasText: /^● ONLINE/ }).waitFor();
    await expect(page.getByRole('article', { name: 'BRAVO-D driver' }).locator('.presence').textContent()).resolves.toBe(
      'NOT CONNECTED YET',
    );

    await page.getByRole('link', { name: 'Plan', exact: true }).click();
    await page.getByRole('button', { name: '+ Add route' }).click();
    await page.getByLabel('Route name').nth(0).fill('Main');
    await page.getByRole('button', { name: '+ Add route' }).click();
    await page.getByLabel('Route name').nth(1).fill('River');
    await page.getByLabel('Kind').nth(1).selectOption('alternate');
    await page.getByLabel('Waypoints (optional)').nth(1).fill('51.5007, -0.1246; 51.5014, -0.1419');
    await page.getByRole('button', { name: '+ Add choke point' }).click();
    await page.getByLabel('Choke point name').fill('Bridge St');
    await page.getByRole('button', { name: '+ Add safe haven' }).click();
    await page.getByLabel('Safe haven name').fill('Embassy');
    await page.getByRole('group', { name: 'Safe havens' }).getByLabel('Position (optional)').fill('51.5, -0.12');
    await page.getByRole('button', { name: '+ Add hospital' }).click();
    await page.getByLabel('Hospital name').fill("St Mary's");
    await page.getByRole('button', { name: '+ Add to the succession' }).click();
    await page.getByLabel('In command next').selectOption({ label: 'LEAD (LEAD)' });
    await page.getByRole('button', { name: '+ Add leg' }).click();
    await page.getByLabel('Leg', { exact: true }).fill('Pickup');
    await page.getByLabel('Planned at').fill('2026-12-01T21:30');
    await page.getByRole('button', { name: 'Save as v1' }).click();
    await page.getByRole('status').filter({ hasText: 'Plan saved as version 1' }).waitFor();
    const briefed = (await hub.api('GET', `/api/missions/${missionIdOf(page)}`)).body;
    expect(briefed.vehicles).toEqual([
      { id: 'alpha', callsign: 'ALPHA' },
      { id: 'bravo', callsign: 'BRAVO' },
    ]);
    expect(briefed.settings).toMatchObject({
      thresholds: { default: 1500 },
      staleMs: { default: 30_000 },
      offlineGraceMs: 3000,
      planAckGraceMs: 30_000,
      scheduleDriftMs: 60_000,
    });
    expect(briefed.plan).toEqual({
      version: 1,
      routes: [
        { id: 'main', name: 'Main', kind: 'primary' },
        {
          id: 'river',
          name: 'River',
          kind: 'alternate',
          waypoints: [
            [51.5007, -0.1246],
            [51.5014, -0.1419],
          ],
        },
      ],
      chokePoints: [{ id: 'bridge-st', name: 'Bridge St' }],
      safeHavens: [{ id: 'embassy', name: 'Embassy', at: [51.5, -0.12] }],
      hospitals: [{ id: 'st-mary-s', name: "St Mary's" }],
      successionOfCommand: [briefed.members.find((m: { callsign: string }) => m.callsign === 'LEAD').memberId],
      // The page and this test read the wall time in the machine's one time zone.
      schedule: [{ leg: 'Pickup', plannedAt: new Date('2026-12-01T21:30').getTime() }],
    });

    // ALPHA's driver acks on the tablet; the console sees it, BRAVO-D still has not.
    await tablet.page.getByRole('button', { name: 'ACK BRIEFING v1' }).click();
    await tablet.page.getByRole('region', { name: 'Standing by' }).waitFor();
    const acks = page.getByRole('region', { name: 'Plan acknowledgements' });
    await acks.getByRole('listitem').filter({ hasText: 'ALPHA-D' }).filter({ hasText: 'Plan v1 acked' }).waitFor();
    await acks.getByRole('listitem').filter({ hasText: 'BRAVO-D' }).filter({ hasText: 'Plan v1 not acked' }).waitFor();
    await photograph(page, 'plan');

    await page.getByRole('button', { name: 'Start mission' }).click();
    const refused = page.getByRole('alert', { name: 'Start refused' });
    await refused.waitFor();
    await expect(refused.getByRole('listitem').allTextContents()).resolves.toEqual(['BRAVO-D — BRAVO']);
    await photograph(page, 'start-refused');

    await refused.getByRole('button', { name: 'Force start…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Start without every acknowledgement?' });
    await expect(confirm.textContent()).resolves.toContain('BRAVO-D has not acknowledged plan v1');
    await photograph(page, 'force-start-confirm');
    await confirm.getByRole('button', { name: 'Force start' }).click();
    await page.locator('[data-status="active"]').waitFor();
    expect((await hub.api('GET', `/api/missions/${missionIdOf(page)}`)).body.status).toBe('active');
    await refused.waitFor({ state: 'detached' });

    // The live board is one click away, and flags BRAVO's missing ack.
    const [board] = await Promise.all([ops.context.waitForEvent('page'), page.getByRole('link', { name: 'Live board ↗' }).click()]);
    await board.getByRole('status').filter({ hasText: 'LIVE' }).waitFor();
    await board.locator('[data-vehicle="bravo"]').filter({ hasText: 'PLAN NOT ACKED' }).waitFor();
    await page.getByRole('link', { name: 'Crew and links' }).click();
    await page.getByRole('article', { name: 'ALPHA-D driver' }).waitFor();
    await photograph(page, 'active');
  }, 180_000);

  it('keeps the console out of the driver tablet’s scripts', async () => {
    const tablet = await open('/driver', 'tablet');
    const scripts = await tablet.page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name));
    expect(scripts.some((name) => /\/assets\/ops-/.test(name))).toBe(false);
    const served = await fetch(`${hub.url}/ops`);
    expect(served.status).toBe(200);
    expect(await served.text()).toContain('/assets/ops-');
  });
});
