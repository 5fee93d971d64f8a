import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowserHub } from '../support/browser.ts';
import { missionIdOf, photograph } from '../support/ops-console.ts';
import { decodeQrCode } from '../support/qr.ts';

const { hub, open } = useBrowserHub();

async function addPerson(page: Page, name: string, callsign: string, standby: boolean) {
  const form = page.getByRole('form', { name: 'New person' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Callsign').fill(callsign);
  await form.getByLabel('On standby').setChecked(standby);
  await form.getByRole('button', { name: 'Add person' }).click();
  await page.locator('tr', { hasText: name }).waitFor();
}

describe('the console with the people directory, new links, swaps and the report (PROTOCOL.md v1.1)', () => {
  it('adds two people as drivers, gives a lost tablet a new link the old one cannot use, swaps in a standby driver, ends and reports', async () => {
    const { page } = await open(`/ops?token=${hub.adminToken}`, 'desk');
    await page.getByRole('link', { name: 'People' }).click();
    await addPerson(page, 'Dana Reyes', 'DANA', false);
    await addPerson(page, 'Sam Okafor', 'SAM', false);
    await addPerson(page, 'Lee Park', 'LEE', true);
    // Sam qualifies as a vehicle CPO too.
    await page.getByRole('button', { name: 'Edit Sam Okafor' }).click();
    const edit = page.getByRole('form', { name: 'Edit Sam Okafor' });
    await edit.getByLabel('CPO').check();
    await photograph(page, 'people-edit');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.locator('tr', { hasText: 'Sam Okafor' }).filter({ hasText: 'CPO, DRIVER' }).waitFor();
    await edit.waitFor({ state: 'detached' });
    await photograph(page, 'people');

    await page.getByRole('link', { name: 'Missions' }).click();
    await page.getByRole('button', { name: '+ New mission' }).click();
    await page.getByLabel('Mission name').fill('Airport run');
    await page.getByRole('textbox', { name: 'Vehicle callsign' }).fill('ALPHA');
    await page.getByRole('button', { name: '+ Add vehicle' }).click();
    await page.getByRole('textbox', { name: 'Vehicle callsign' }).nth(1).fill('BRAVO');
    await page.getByRole('button', { name: 'Create mission' }).click();

    const add = page.getByRole('form', { name: 'Add a member' });
    // One at a time, as an operator does: the form is reset once the server has the member.
    for (const [person, vehicle, card, name] of [
      ['Dana Reyes (DANA)', 'ALPHA', 'DANA driver', 'Dana Reyes'],
      ['Sam Okafor (SAM)', 'BRAVO', 'SAM driver', 'Sam Okafor'],
    ] as const) {
      await add.getByLabel('Vehicle').selectOption({ label: vehicle });
      await add.getByLabel('From the directory').selectOption({ label: person });
      await add.getByRole('button', { name: 'Add member' }).click();
      await page.getByRole('article', { name: card }).filter({ hasText: name }).waitFor();
    }
    const dana = page.getByRole('article', { name: 'DANA driver' });
    const roster = (await hub.api('GET', `/api/missions/${missionIdOf(page)}`)).body.members;
    expect(roster.map((m: { callsign: string; vehicleId?: string; personId?: string }) => [m.callsign, m.vehicleId, !!m.personId])).toEqual(
      expect.arrayContaining([
        ['DANA', 'alpha', true],
        ['SAM', 'bravo', true],
      ]),
    );

    // DANA's tablet is lost: a new link, and the old one is refused at once, open or opened again.
    const oldLink = await decodeQrCode(dana.getByRole('img', { name: 'QR code of the link of DANA' }));
    const lost = await open(oldLink.slice(hub.url.length), 'tablet');
    await lost.page.getByRole('status').filter({ hasText: 'ONLINE' }).waitFor();
    await dana.getByRole('button', { name: 'New link for DANA' }).click();
    await page.getByRole('dialog', { name: 'New link for DANA?' }).getByRole('button', { name: 'Make a new link' }).click();
    await page.getByRole('status').filter({ hasText: 'New link for DANA' }).waitFor();
    await lost.page.getByRole('status').filter({ hasText: 'LINK REFUSED' }).waitFor();
    const newLink = await decodeQrCode(dana.getByRole('img', { name: 'QR code of the link of DANA' }));
    expect(newLink).not.toBe(oldLink);
    const oldToken = new URL(oldLink).searchParams.get('token') ?? '';
    expect((await hub.api('GET', `/api/missions/${missionIdOf(page)}`, { token: oldToken })).status).toBe(401);
    const reopened = await open(oldLink.slice(hub.url.length), 'tablet');
    await reopened.page.getByRole('status').filter({ hasText: 'LINK REFUSED' }).waitFor();
    const found = await open(newLink.slice(hub.url.length), 'tablet');
    await found.page.getByRole('status').filter({ hasText: 'ONLINE' }).waitFor();
    await found.page.getByRole('region', { name: 'Standing by' }).filter({ hasText: 'ALPHA' }).waitFor();

    // No plan: the start needs no acks. Then BRAVO's driver is swapped for LEE from the standby pool.
    await page.getByRole('button', { name: 'Start mission' }).click();
    await page.locator('[data-status="active"]').waitFor();
    await page.getByRole('button', { name: 'Swap driver: BRAVO' }).click();
    const swap = page.getByRole('dialog', { name: 'Swap the driver of BRAVO (now SAM)' });
    // The dialog opens once the standby pool is read.
    await swap.getByRole('button', { name: /^Lee Park/ }).waitFor();
    await expect(swap.locator('.pool-choice').allTextContents()).resolves.toEqual(['Lee Park (LEE) · 0% hesitations']);
    await photograph(page, 'swap');
    await swap.getByRole('button', { name: /^Lee Park/ }).click();
    const bravo = page.getByRole('region', { name: 'Vehicle BRAVO' });
    await bravo.getByRole('article', { name: 'LEE driver' }).getByRole('img', { name: 'QR code of the link of LEE' }).waitFor();
    await bravo.getByRole('article', { name: 'SAM driver' }).filter({ hasText: 'Replaced' }).filter({ hasText: 'by LEE' }).waitFor();
    await photograph(page, 'swapped');

    await page.getByRole('button', { name: 'End mission' }).click();
    await page.getByRole('dialog', { name: 'End the mission?' }).getByRole('button', { name: 'End mission' }).click();
    await page.locator('[data-status="ended"]').waitFor();
    await page.getByRole('button', { name: 'Report' }).click();
    const drivers = page.locator('.report table').first();
    await drivers.waitFor();
    await expect(drivers.locator('tbody td.name').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['DANA', 'SAM (replaced)', 'LEE']),
    );
    await photograph(page, 'report');
    const [printable] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('button', { name: 'Printable report' }).click(),
    ]);
    await printable.getByText('Airport run').first().waitFor();

    await page.getByRole('link', { name: 'Missions' }).click();
    await page.locator('tr', { hasText: 'Airport run' }).filter({ hasText: 'ENDED' }).waitFor();
    await photograph(page, 'missions-list');
  }, 180_000);
});
