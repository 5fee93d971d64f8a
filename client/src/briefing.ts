import type { Mission } from '@lockstep/shared';
import './styles/briefing.css';
import { ackedVersion, type Briefing, briefingOf, planAckRows } from './coordination.ts';
import { button, h, patchChildren } from './dom.ts';
import { hourMinute } from './format.ts';
import type { Connection } from './lockstep-client.ts';
import { isOutboxEntries, Outbox } from './outbox.ts';
import { shelf } from './storage.ts';

/**
 * The plan as every screen shows it (docs/PROTOCOL.md §7): routes, choke points, safe havens,
 * hospitals and the schedule, whole; the driver's ACK BRIEFING; the board's list of who acked
 * which version.
 */

const RETRY_EVERY_MS = 1000;

function section(title: string, rows: (HTMLElement | string)[]): HTMLElement {
  return h(
    'section',
    { class: 'brief-section', 'aria-label': title },
    h('h3', {}, title),
    rows.length ? h('ul', {}, ...rows.map((row) => h('li', {}, row))) : h('div', { class: 'muted' }, 'none briefed'),
  );
}

/** Every part of the briefing, in the order a driver rehearses it. */
export function briefingSections(briefing: Briefing): HTMLElement {
  return h(
    'div',
    { class: 'brief-sections' },
    section(
      'ROUTES',
      briefing.routes.map((r) =>
        h(
          'span',
          { class: r.primary ? 'route-primary' : 'route-alternate' },
          h('span', { class: 'route-kind' }, r.primary ? 'PRIMARY' : 'ALT'),
          ` ${r.name.toUpperCase()}`,
        ),
      ),
    ),
    section(
      'CHOKE POINTS',
      briefing.chokePoints.map((p) => p.name),
    ),
    section(
      'SAFE HAVENS',
      briefing.safeHavens.map((p) => p.name),
    ),
    section(
      'HOSPITALS',
      briefing.hospitals.map((p) => p.name),
    ),
    section(
      'SCHEDULE',
      briefing.schedule.map((s) => h('span', {}, h('span', { class: 'leg-time' }, hourMinute(s.plannedAt)), ` ${s.leg}`)),
    ),
  );
}

// ---------------------------------------------------------------- acking

export interface AckerOptions {
  screen: 'driver' | 'cpo' | 'board';
  /** The server took the ack: the screen may stop asking. */
  acked(version: number): void;
  changed(): void;
}

/**
 * Sends `plan:ack` through an outbox, so an ack tapped in a tunnel arrives when the link returns.
 * An ack of a version the plan has moved past is refused (`conflict`) and simply dropped: the
 * newer briefing is on screen by then.
 */
export class PlanAcker {
  readonly #outbox: Outbox<'plan:ack', undefined>;

  constructor(connection: Connection, options: AckerOptions) {
    this.#outbox = new Outbox<'plan:ack', undefined>({
      event: 'plan:ack',
      connection,
      shelf: shelf(sessionStorage, `lockstep.${options.screen}.plan-acks`, isOutboxEntries<'plan:ack', undefined>),
      idOf: (ack) => `plan-v${ack.version}`,
      settled: (settled) => {
        if (settled.outcome === 'accepted') options.acked(settled.entry.payload.version);
        options.changed();
      },
      retryEveryMs: RETRY_EVERY_MS,
    });
  }

  ack(version: number): void {
    if (this.pending(version)) return;
    this.#outbox.send({ version }, undefined);
  }

  pending(version: number): boolean {
    return this.#outbox.entries.some((e) => e.payload.version === version);
  }
}

// ---------------------------------------------------------------- the driver's tablet

export interface DriverBriefingOptions {
  ack(version: number): void;
  close(): void;
  now(): number;
  changed(): void;
}

/**
 * The briefing on the tablet, whole, before the start and after every change, with one large
 * ACK BRIEFING. Until the driver acks the version in force the heading says it is not acked;
 * once acked the same screen can be opened again to reread it, and closes with one tap.
 */
export class DriverBriefing {
  readonly #callsign = h('div', { class: 'brief-callsign' });
  readonly #title = h('div', { class: 'brief-title' });
  readonly #state = h('div', { class: 'brief-state' });
  readonly #body = h('div', { class: 'brief-body' });
  readonly #ack: HTMLButtonElement;
  readonly #options: DriverBriefingOptions;
  readonly element: HTMLElement;
  #version = 0;
  #acked = true;
  #armedAt = 0;

  constructor(options: DriverBriefingOptions) {
    this.#options = options;
    this.#ack = button('ACK BRIEFING', { class: 'brief-ack' }, () => {
      if (this.#ack.disabled) return;
      if (this.#acked) options.close();
      else options.ack(this.#version);
    });
    this.element = h(
      'section',
      { class: 'briefing', 'aria-label': 'Briefing' },
      h('div', { class: 'brief-head' }, this.#callsign, this.#title, this.#state),
      this.#body,
      this.#ack,
    );
  }

  /** The briefing has just come on screen: no tap for `ms`, so a tap meant for what was there cannot ack it. */
  holdOff(ms: number): void {
    this.#armedAt = this.#options.now() + ms;
    setTimeout(this.#options.changed, ms);
  }

  update(mission: Mission, callsign: string, acked: number, pending: boolean, online: boolean): void {
    const briefing = briefingOf(mission.plan);
    this.#version = briefing.version;
    this.#acked = acked >= briefing.version;
    this.element.classList.toggle('brief-unacked', !this.#acked);
    this.#callsign.textContent = callsign;
    this.#title.textContent = `BRIEFING v${briefing.version}`;
    this.#state.textContent = this.#acked ? 'ACKED ✓' : pending ? 'ACK SENT — WAITING' : 'NOT ACKED';
    if (pending && !online) this.#state.textContent = 'ACK WAITING FOR LINK';
    this.#ack.textContent = this.#acked ? 'CLOSE' : 'ACK BRIEFING';
    this.#ack.setAttribute('aria-label', this.#acked ? 'Close the briefing' : `ACK BRIEFING v${briefing.version}`);
    this.#ack.disabled = this.#options.now() < this.#armedAt || (!this.#acked && pending);
    const body = briefingSections(briefing);
    if (this.#body.firstElementChild?.outerHTML !== body.outerHTML) this.#body.replaceChildren(body);
  }
}

// ---------------------------------------------------------------- the handset and the board

export interface PlanOverlayOptions {
  ack(version: number): void;
}

/** The plan one tap away on the handset and the board: read it, ack it, close it. */
export class PlanOverlay {
  readonly element = h('div', { class: 'plan-overlay', role: 'dialog', 'aria-label': 'Plan', hidden: true });
  readonly #title = h('div', { class: 'brief-title' });
  readonly #body = h('div', { class: 'brief-body' });
  readonly #ack: HTMLButtonElement;
  #version = 0;

  constructor(options: PlanOverlayOptions) {
    this.#ack = button('ACK PLAN', { class: 'brief-ack' }, () => options.ack(this.#version));
    this.element.replaceChildren(
      this.#title,
      this.#body,
      h(
        'div',
        { class: 'plan-actions' },
        this.#ack,
        button('CLOSE', { class: 'plan-close' }, () => this.close()),
      ),
    );
  }

  /** The button that opens it; it says when this member has not acked the plan in force. */
  opener(): HTMLButtonElement {
    return button('PLAN', { class: 'open-plan', 'aria-haspopup': 'dialog' }, () => {
      this.element.hidden = false;
    });
  }

  close(): void {
    this.element.hidden = true;
  }

  update(mission: Mission | undefined, selfId: string | undefined, pending: boolean, opener: HTMLButtonElement): void {
    const version = mission?.plan.version ?? 0;
    const acked = mission && selfId ? ackedVersion(mission, selfId) >= version : true;
    opener.textContent = version === 0 ? 'PLAN' : `PLAN v${version}${acked ? '' : ' — ACK'}`;
    opener.classList.toggle('unacked', !acked);
    this.#version = version;
    this.#title.textContent = version === 0 ? 'NO PLAN BRIEFED' : `PLAN v${version}`;
    this.#ack.hidden = acked || version === 0;
    this.#ack.disabled = pending;
    this.#ack.textContent = pending ? 'ACK SENT — WAITING' : `ACK PLAN v${version}`;
    if (!mission) return;
    const body = briefingSections(briefingOf(mission.plan));
    if (this.#body.firstElementChild?.outerHTML !== body.outerHTML) this.#body.replaceChildren(body);
  }
}

/** Who has acked which version: one chip per member, the ones behind in amber. */
export function renderPlanAcks(region: HTMLElement, mission: Mission | undefined): void {
  if (!mission || mission.plan.version === 0) {
    patchChildren(region, [h('div', { class: 'muted' }, 'No plan briefed')]);
    return;
  }
  patchChildren(
    region,
    planAckRows(mission).map((row) =>
      h(
        'span',
        { class: `plan-ack-chip ${row.current ? 'acked' : 'behind'}`, 'data-member': row.memberId },
        h('b', {}, row.vehicle ? `${row.vehicle} ${row.callsign}` : row.callsign),
        row.current ? ` v${row.acked} ✓` : row.acked ? ` v${row.acked} — NOT v${mission.plan.version}` : ' NOT ACKED',
      ),
    ),
  );
}
