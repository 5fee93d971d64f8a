import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { DEVICES, screenshot } from './browser.ts';

/**
 * Each console view at the desk's 1366×768 and the wall's 1920×1080 as the operator first sees it
 * (and whole, scrolled, at the desk's size): photographed, and nothing runs off the side.
 */
export async function photograph(page: Page, name: string) {
  for (const [size, viewport] of [
    ['1366', DEVICES.desk.viewport],
    ['1920', DEVICES.wall.viewport],
  ] as const) {
    await page.setViewportSize(viewport);
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, `ops-${name}-${size}`);
    if (size === '1366') await screenshot(page, `ops-${name}-${size}-whole`, { fullPage: true });
  }
  await page.setViewportSize(DEVICES.desk.viewport);
}

/** The mission the console shows, from its `#/missions/<id>` address. */
export const missionIdOf = (page: Page) => decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
