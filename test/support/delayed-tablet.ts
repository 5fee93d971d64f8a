import type { SuccessReply, TriggerCue } from '@lockstep/shared';
import { DelayProxy } from './delay-proxy.ts';
import { connect, deviceNow, nextEvent, requestOk, type Client, type Hub } from './hub.ts';

/** The one-way delay of a delayed tablet's link unless a test changes it: an RTT of 600 ms, an uplink allowance of 300 ms. */
export const ONE_WAY_MS = 300;

/** Presence timing with a single probe, at connect: a later one through a lopsided link would move the clock estimate mid-test. */
export const ONE_PROBE = { probeIntervalMs: 60_000, offlineAfterMs: 120_000 };

const proxies = new Set<DelayProxy>();

export async function closeAllTablets(): Promise<void> {
  const open = [...proxies];
  proxies.clear();
  await Promise.all(open.map((proxy) => proxy.close()));
}

export interface TabletOptions {
  /** How far the tablet's clock is off the server's. */
  skewMs?: number;
  /** `shown`: receipts carry `shownAt` (the default); `bare`: receipts without it; `none`: no receipt at all. */
  receipts?: 'shown' | 'bare' | 'none';
  /** The link's one-way delay each way from the connect on (so its probe measures it): ONE_WAY_MS unless said. */
  oneWayMs?: number;
}

export interface Drawn {
  cue: TriggerCue;
  /** When the tablet drew it, on its own clock. */
  shownAt: number;
}

export interface AnswerReply {
  reply: SuccessReply<'trigger:respond'>;
  /** What the tablet itself measured: respondedAt − shownAt. */
  trueGapMs: number;
}

/** A driver's tablet as a Socket.IO client behind its own delayed link (docs/PROTOCOL.md §3's receipt and answer, on its own clock). */
export class DelayedTablet {
  /** The one-way delays, read per chunk: set them between messages. */
  readonly link: { up: number; down: number };
  receipts: NonNullable<TabletOptions['receipts']>;
  socket: Client | undefined;
  readonly #byId = new Map<string, (drawn: Drawn) => void>();
  readonly #any: ((drawn: Drawn) => void)[] = [];

  private constructor(
    readonly proxy: DelayProxy,
    private readonly options: TabletOptions,
  ) {
    this.receipts = options.receipts ?? 'shown';
    this.link = { up: options.oneWayMs ?? ONE_WAY_MS, down: options.oneWayMs ?? ONE_WAY_MS };
  }

  /** Connects through a fresh proxy and returns once its first probe has landed (`watcher`: a lead, cpo or ops socket). */
  static async connect(hub: Pick<Hub, 'url'>, watcher: Client, token: string, memberId: string, options: TabletOptions = {}) {
    let tablet: DelayedTablet | undefined;
    const proxy = await DelayProxy.start(hub.url, { up: () => tablet?.link.up ?? 0, down: () => tablet?.link.down ?? 0 });
    proxies.add(proxy);
    tablet = new DelayedTablet(proxy, options);
    const connected = tablet;
    const probed = nextEvent(watcher, 'presence', (p) => p.memberId === memberId && p.rttMs !== undefined);
    connected.socket = await connect({ url: proxy.url }, token, {
      answerProbes: false,
      before: (s) => {
        s.on('probe', (_probe, answer) => answer({ deviceAt: connected.clock() }));
        s.on('trigger', (cue, receipt) => connected.#draw(cue, receipt));
      },
    });
    await probed;
    return connected;
  }

  clock(): number {
    return deviceNow() + (this.options.skewMs ?? 0);
  }

  /** Resolves when the cue `id` is drawn. */
  drawn(id: string): Promise<Drawn> {
    return new Promise((resolve) => this.#byId.set(id, resolve));
  }

  /** Resolves when the next cue is drawn, whichever it is (one fired from a screen, whose id a test cannot know). */
  next(): Promise<Drawn> {
    return new Promise((resolve) => this.#any.push(resolve));
  }

  /**
   * The driver taps `ack` `afterMs` after the cue was drawn, or at once when that moment has
   * passed. The answer is stamped with the tap's moment on the tablet's clock and leaves no sooner
   * (later when the test process is busy, like a tablet whose page was busy), so a loaded machine
   * delays its arrival but never changes the gap it carries. It carries `shownAt` unless told not to.
   */
  answerAfter(id: string, shownAt: number, afterMs: number, withShownAt = true): Promise<AnswerReply> {
    const tapAt = Math.max(shownAt + afterMs, this.clock());
    return new Promise((resolve, reject) => {
      // The driver's own hesitation: the one wait that is the behaviour under test, not a synchronisation.
      setTimeout(
        () => {
          const answer = { triggerId: id, response: 'ack', ...(withShownAt ? { shownAt } : {}), respondedAt: tapAt };
          requestOk(this.socket!, 'trigger:respond', answer).then((reply) => resolve({ reply, trueGapMs: tapAt - shownAt }), reject);
        },
        Math.max(0, tapAt - this.clock()),
      );
    });
  }

  #draw(cue: TriggerCue, receipt: (receipt: { shownAt?: number }) => void) {
    const shownAt = this.clock();
    if (this.receipts !== 'none') receipt(this.receipts === 'shown' ? { shownAt } : {});
    this.#byId.get(cue.id)?.({ cue, shownAt });
    for (const resolve of this.#any.splice(0)) resolve({ cue, shownAt });
  }
}
