import type { Observation } from '@lockstep/shared';
import './styles/observations.css';
import {
  CATEGORIES,
  CATEGORY_LABELS,
  DRIVER_OBSERVATIONS,
  mergeObservations,
  type ObservationCategory,
  type ObservationPreset,
  observationLine,
  recentThreats,
  SEVERITIES,
  SEVERITY_LABELS,
  type Severity,
} from './coordination.ts';
import { button, h, patchChildren } from './dom.ts';
import { clockTime } from './format.ts';
import { newId } from './ids.ts';
import type { Connection, PayloadOf } from './lockstep-client.ts';
import { isOutboxEntries, Outbox, type OutboxEntry, type Settled } from './outbox.ts';
import { shelf } from './storage.ts';

/**
 * The shared threat picture on the screens: posting an observation (one tap on the tablet, two
 * on the handset and the board), the feed, and the threat line on the driver's idle screen.
 */

export type ObservationDraft = Omit<PayloadOf<'observation:post'>, 'id'>;

const RETRY_EVERY_MS = 1000;
/** An observation not sent within this would arrive stamped with a time it no longer describes. */
const OBSERVATION_STALE_MS = 60_000;

export interface SenderOptions {
  /** Names the session-storage shelf, one per screen. */
  screen: 'driver' | 'cpo' | 'board';
  changed(): void;
  /** An observation the server refused, or one that could not be sent in time: said on screen. */
  failed(text: string, id: string): void;
}

/** Posts observations through an outbox: a tap made in a tunnel is sent when the link returns, once. */
export class ObservationSender {
  readonly #outbox: Outbox<'observation:post', undefined>;

  constructor(connection: Connection, options: SenderOptions) {
    this.#outbox = new Outbox<'observation:post', undefined>({
      event: 'observation:post',
      connection,
      shelf: shelf(sessionStorage, `lockstep.${options.screen}.observations`, isOutboxEntries<'observation:post', undefined>),
      idOf: (post) => post.id,
      staleMs: () => OBSERVATION_STALE_MS,
      settled: (settled: Settled<'observation:post', undefined>) => {
        const { id, category, severity } = settled.entry.payload;
        const what = `${SEVERITY_LABELS[severity]} ${CATEGORY_LABELS[category]}`;
        if (settled.outcome === 'too-late') options.failed(`${what} NOT SENT IN TIME — USE VOICE`, id);
        if (settled.outcome === 'refused')
          options.failed(`${what} NOT TAKEN${settled.code === 'mission_not_active' ? ': MISSION NOT ACTIVE' : ''} — USE VOICE`, id);
        options.changed();
      },
      retryEveryMs: RETRY_EVERY_MS,
    });
  }

  /** Answers the observation's id. */
  post(draft: ObservationDraft): string {
    const id = newId();
    this.#outbox.send({ id, ...draft }, undefined);
    return id;
  }

  get unsent(): readonly OutboxEntry<'observation:post', undefined>[] {
    return this.#outbox.entries;
  }

  isUnsent(id: string): boolean {
    return this.#outbox.entries.some((e) => e.payload.id === id);
  }
}

/** The observations of the mission for a screen without a MissionWatch (the driver's). */
export class ObservationLog {
  observations: Observation[] = [];

  constructor(connection: Connection, changed: () => void) {
    connection.socket.on('observation', (observation) => {
      this.observations = mergeObservations(this.observations, [observation]);
      changed();
    });
    connection.onSnapshot((snapshot) => {
      this.observations = mergeObservations(this.observations, snapshot.observations);
      changed();
    });
  }
}

// ---------------------------------------------------------------- the feed

/** The feed, newest first: threats in red, unsent posts marked so nobody thinks they were seen. */
export function feedRows(
  observations: readonly Observation[],
  unsent: readonly OutboxEntry<'observation:post', undefined>[],
  limit: number,
): HTMLElement[] {
  const pending = unsent.map((e) =>
    h(
      'div',
      { class: `observation severity-${e.payload.severity} unsent` },
      h('span', { class: 'observation-line' }, observationLine({ ...e.payload, callsign: 'YOU' })),
      h('span', { class: 'muted' }, ' SENDING…'),
    ),
  );
  const posted = [...observations]
    .reverse()
    .slice(0, Math.max(0, limit - pending.length))
    .map((o) =>
      h(
        'div',
        { class: `observation severity-${o.severity}`, 'data-observation': o.id },
        h('span', { class: 'observation-line' }, observationLine(o)),
        h('span', { class: 'muted' }, ` ${clockTime(o.at)}`),
      ),
    );
  return [...pending, ...posted];
}

// ---------------------------------------------------------------- the driver's tablet

/** How long a threat stays on the driver's idle screen: the length of a typical incident, not the mission. */
const THREAT_SHOWN_MS = 5 * 60_000;
/** How long a pad button says SENT before it can report again: one tap, one report, even from a shaking hand. */
const SENT_SHOWN_MS = 3000;
/** How long a pad button says its report did not go. */
const FAILED_SHOWN_MS = 10_000;

/** The newest threat, in colour, one line: what a driver takes in at a glance. */
export class ThreatLine {
  readonly element = h('div', { class: 'threat-line', role: 'alert', hidden: true });

  update(observations: readonly Observation[], now: number, selfId: string | undefined): void {
    const [newest, ...older] = recentThreats(observations, now, THREAT_SHOWN_MS);
    this.element.hidden = !newest;
    if (!newest) return;
    const who = newest.memberId === selfId ? 'YOU' : newest.callsign;
    const what = newest.text ?? CATEGORY_LABELS[newest.category];
    this.element.replaceChildren(
      h('b', {}, 'THREAT '),
      `${what.toUpperCase()} — ${who}`,
      h('span', { class: 'threat-time' }, ` ${clockTime(newest.at)}`),
      ...(older.length ? [h('span', { class: 'threat-more' }, ` +${older.length} more`)] : []),
    );
  }
}

interface PadButton {
  preset: ObservationPreset;
  element: HTMLButtonElement;
  caption: HTMLElement;
  /** The observation this button last posted, and when. */
  sent?: { id: string; at: number };
  /** When the server refused it or it could not be sent in time. */
  failedAt?: number;
}

/**
 * The driver's few one-tap reports. It is only on screen while no cue is open; each time it comes
 * back it waits a moment before taking taps, so the second tap of a double tap on ACK cannot
 * report a threat.
 */
export interface PadOptions {
  /** Without one (no token), the buttons never take a tap. */
  connection: Connection | undefined;
  now(): number;
  changed(): void;
}

export class ObservationPad {
  readonly element = h('div', { class: 'observe-pad', role: 'group', 'aria-label': 'Report' });
  readonly #options: PadOptions;
  readonly #buttons: PadButton[];
  readonly #sender: ObservationSender | undefined;
  #armedAt = 0;

  constructor(options: PadOptions) {
    this.#options = options;
    this.#buttons = DRIVER_OBSERVATIONS.map((preset) => {
      const caption = h('span', { class: 'observe-caption' });
      const pad: PadButton = {
        preset,
        caption,
        element: button(h('span', {}, preset.label), { class: `observe observe-${preset.severity}`, 'aria-label': preset.label }, () =>
          this.#press(pad),
        ),
      };
      pad.element.append(caption);
      return pad;
    });
    this.element.replaceChildren(...this.#buttons.map((b) => b.element));
    // Last: the outbox may settle reports kept from before a reload at once, and those name no button.
    this.#sender =
      options.connection &&
      new ObservationSender(options.connection, { screen: 'driver', changed: options.changed, failed: (_text, id) => this.notSent(id) });
  }

  /** The pad has just come on screen: no tap for `ms`. */
  holdOff(ms: number): void {
    this.#armedAt = this.#options.now() + ms;
    setTimeout(this.#options.changed, ms);
  }

  update(online: boolean): void {
    const sender = this.#sender;
    const now = this.#options.now();
    for (const pad of this.#buttons) {
      const failed = pad.failedAt !== undefined && now - pad.failedAt < FAILED_SHOWN_MS;
      const unsent = pad.sent && sender?.isUnsent(pad.sent.id);
      const justSent = !failed && pad.sent && now - pad.sent.at < SENT_SHOWN_MS;
      pad.element.disabled = !sender || now < this.#armedAt || Boolean(unsent) || Boolean(justSent);
      pad.element.classList.toggle('not-sent', failed);
      pad.caption.textContent = failed
        ? 'NOT SENT — USE VOICE'
        : unsent
          ? online
            ? 'SENDING…'
            : 'WAITING FOR LINK'
          : justSent
            ? 'SENT ✓'
            : '';
    }
  }

  /** The report `id` did not reach the detail: its button says so, and takes a tap again. */
  notSent(id: string): void {
    const pad = this.#buttons.find((b) => b.sent?.id === id);
    if (!pad) return;
    pad.failedAt = this.#options.now();
    setTimeout(this.#options.changed, FAILED_SHOWN_MS);
    this.#options.changed();
  }

  #press(pad: PadButton) {
    const { now, changed } = this.#options;
    const sender = this.#sender;
    if (!sender || pad.element.disabled) return;
    const { category, severity, text } = pad.preset;
    pad.sent = { id: sender.post({ category, severity, text }), at: now() };
    delete pad.failedAt;
    setTimeout(changed, SENT_SHOWN_MS);
    changed();
  }
}

// ---------------------------------------------------------------- the handset and the board

export interface PickerOptions {
  /** The board has a keyboard: a few words go with the observation. The handset posts in two taps. */
  withText: boolean;
  post(draft: ObservationDraft): void;
}

/**
 * Category and severity in one grid: the button that opens it is the first tap, a severity in a
 * category's row the second, which posts and closes.
 */
export class ObservationPicker {
  readonly element = h('div', { class: 'picker', role: 'dialog', 'aria-label': 'Post an observation', hidden: true });
  readonly #text = h('input', { class: 'picker-text', type: 'text', maxlength: 280, placeholder: 'what you see (optional)' });
  readonly #options: PickerOptions;

  constructor(options: PickerOptions) {
    this.#options = options;
    const rows = CATEGORIES.map((category) =>
      h(
        'div',
        { class: 'picker-row' },
        h('span', { class: 'picker-category' }, CATEGORY_LABELS[category]),
        ...SEVERITIES.map((severity) =>
          button(
            SEVERITY_LABELS[severity],
            { class: `picker-severity severity-${severity}`, 'aria-label': `${SEVERITY_LABELS[severity]} ${CATEGORY_LABELS[category]}` },
            () => this.#post(category, severity),
          ),
        ),
      ),
    );
    this.element.replaceChildren(
      h('div', { class: 'picker-title' }, 'OBSERVATION'),
      ...(options.withText ? [this.#text] : []),
      ...rows,
      button('CANCEL', { class: 'picker-cancel' }, () => this.close()),
    );
  }

  /** The button a screen puts where the officer's thumb is. */
  opener(): HTMLButtonElement {
    return button('OBSERVE', { class: 'open-picker', 'aria-haspopup': 'dialog' }, () => this.open());
  }

  open(): void {
    this.element.hidden = false;
    if (this.#options.withText) this.#text.focus();
  }

  close(): void {
    this.element.hidden = true;
    this.#text.value = '';
  }

  #post(category: ObservationCategory, severity: Severity) {
    const text = this.#text.value.trim();
    this.#options.post({ category, severity, ...(text ? { text } : {}) });
    this.close();
  }
}

/** Refills a feed region, keeping rows that read the same; an empty feed says `emptyText`, or hides without one. */
export function renderFeed(
  region: HTMLElement,
  observations: readonly Observation[],
  unsent: readonly OutboxEntry<'observation:post', undefined>[],
  limit: number,
  emptyText?: string,
): void {
  const rows = feedRows(observations, unsent, limit);
  region.hidden = rows.length === 0 && emptyText === undefined;
  patchChildren(region, rows.length || emptyText === undefined ? rows : [h('div', { class: 'muted' }, emptyText)]);
}
