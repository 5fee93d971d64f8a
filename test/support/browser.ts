import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core: no browser is ever downloaded. */
const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** `extraArgs` for a test that needs more of Chromium, such as `--host-resolver-rules` to open a page by a LAN-like name. */
export function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** The devices the screens are built for. */
export const DEVICES = {
  /** A 10-inch tablet on the dashboard, landscape. */
  tablet: { viewport: { width: 1280, height: 800 }, hasTouch: true },
  /** A 6-inch phone held upright. */
  phone: { viewport: { width: 412, height: 915 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 },
  /** The operations room's wall screen. */
  wall: { viewport: { width: 1920, height: 1080 } },
  /** The operations room's desk: a common laptop screen. */
  desk: { viewport: { width: 1366, height: 768 } },
  /** A 4K wall screen at its native resolution. */
  wall4k: { viewport: { width: 3840, height: 2160 } },
} as const;

export interface Screen {
  context: BrowserContext;
  page: Page;
  /** Every uncaught error of the page's own code, to assert a clean run (network failures while offline are expected and not counted). */
  errors: string[];
}

/** Opens one screen in its own context, so each has its own session storage and its own network (for setOffline). */
export async function openScreen(browser: Browser, url: string, device: keyof typeof DEVICES): Promise<Screen> {
  const context = await browser.newContext(DEVICES[device]);
  // Well inside the test's own timeout, so a failure names the locator it was waiting for.
  context.setDefaultTimeout(6000);
  // Loading a page (four at once, on two loaded cores) may take longer than a locator's wait.
  context.setDefaultNavigationTimeout(20_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS_DIR}${name}.png`, ...options });
}
