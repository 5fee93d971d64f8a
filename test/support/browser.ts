import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, vi } from 'vitest';
import { type FileHubOptions, resolveHubOptions, startHub, startedHub, type Hub, type TestMission } from './hub.ts';

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
export type Device = keyof typeof DEVICES;

export interface Screen {
  context: BrowserContext;
  page: Page;
  /** Every uncaught error of the page's own code, to assert a clean run (network failures while offline are expected and not counted). */
  errors: string[];
}

/** Opens one screen in its own context, so each has its own session storage and its own network (for setOffline). */
export async function openScreen(browser: Browser, url: string, device: Device): Promise<Screen> {
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

/** A member's own screen, opened by the link the console hands out. */
export type MemberScreen = 'driver' | 'cpo' | 'board' | 'field';

export interface BrowserHubOptions {
  hub?: FileHubOptions;
  /** More of Chromium's switches, as `launchBrowser` takes them. */
  browserArgs?: readonly string[];
}

export interface BrowserHub {
  /** The node; its members are read when used, inside a test or a hook. */
  hub: Hub;
  /** Opens a page of the node (`/ops`, `/driver?token=…`), or of `base` when given: another name for the same node. */
  open(path: string, device: Device, base?: string): Promise<Screen>;
  /** Opens a member's screen by their token, as their link does. */
  openMember(mission: TestMission, callsign: string, screen: MemberScreen, device: Device, base?: string): Promise<Screen>;
  /** A context of its own for a test that opens its own pages in it: closed after the test with the screens. */
  newContext(options: BrowserContextOptions): Promise<BrowserContext>;
  /** Closes a screen in the middle of a test (a handset that goes away): it is not checked afterwards. */
  closeScreen(screen: Screen): Promise<void>;
}

/**
 * What one browser scenario may take in all. It walks many steps across several screens, each
 * waiting up to 6 s for what it expects (a step that hangs still fails there, naming its
 * locator); on two loaded cores the longer walks passed the default 20 s (the shared picture's,
 * 20.5 s, on a host taking CPU from this machine).
 */
const BROWSER_SCENARIO_MS = 60_000;

/** Gives every test of the calling file a browser scenario's time; call it before its tests. */
export function useScenarioTimeout(): void {
  vi.setConfig({ testTimeout: BROWSER_SCENARIO_MS });
}

/**
 * One node and one Chromium for a test file, started before its first test and closed after its
 * last, with a browser scenario's time for each test. After each test every screen opened through
 * it must have seen no uncaught page error, and is closed.
 */
export function useBrowserHub(options: BrowserHubOptions = {}): BrowserHub {
  useScenarioTimeout();
  let hub: Hub | undefined;
  let browser: Browser | undefined;
  const screens: Screen[] = [];

  beforeAll(async () => {
    const [started, launched] = await Promise.allSettled([
      resolveHubOptions(options.hub).then(startHub),
      launchBrowser(options.browserArgs),
    ]);
    // Whichever of the two did start is kept, so that afterAll closes it even when the other failed.
    if (started.status === 'fulfilled') hub = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });
  afterEach(async () => {
    const open = screens.splice(0);
    try {
      for (const screen of open) expect(screen.errors).toEqual([]);
    } finally {
      await Promise.all(open.map((s) => s.context.close()));
    }
  });

  const started = startedHub(() => hub);
  const runningBrowser = () => {
    if (!browser) throw new Error('Chromium is launched in beforeAll: use it inside a test or a hook');
    return browser;
  };
  const open = async (path: string, device: Device, base = started.url) => {
    const screen = await openScreen(runningBrowser(), `${base}${path}`, device);
    screens.push(screen);
    return screen;
  };
  return {
    hub: started,
    open,
    openMember: (mission, callsign, screen, device, base) => open(`/${screen}?token=${mission.members[callsign]!.token}`, device, base),
    async newContext(contextOptions) {
      const context = await runningBrowser().newContext(contextOptions);
      // Kept as a screen whose page is blank: its errors are the test's own to check.
      screens.push({ context, page: await context.newPage(), errors: [] });
      return context;
    },
    async closeScreen(screen) {
      await screen.context.close();
      const at = screens.indexOf(screen);
      if (at >= 0) screens.splice(at, 1);
    },
  };
}
