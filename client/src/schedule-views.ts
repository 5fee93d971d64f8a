import type { Mission, ScheduleLeg } from '@lockstep/shared';
import './styles/schedule.css';
import { spokenSpan } from './coordination.ts';
import { ARM_DELAY_MS, button, h, patchChildren } from './dom.ts';
import { hourMinute } from './format.ts';
import { driftLevel, driftText, lastDone, legsOf, nextLeg, overdue } from './schedule.ts';

/**
 * The schedule on screen (docs/PROTOCOL.md §10): the board's legs, each planned against done or
 * due with its drift in colour, so one late leg visibly shifts every later one; and the handset's
 * next leg. Both carry one MARK <LEG> DONE, built once.
 */

export interface ScheduleView {
  mission: Mission | undefined;
  /** Legs marked from this screen that the server has not answered yet. */
  pending: ReadonlySet<string>;
  /** This member may mark legs (the mission's running state is checked here). */
  mayMark: boolean;
  /** Server time: a leg whose time has passed unmarked says so. */
  now: number;
}

/** How long a refused mark stays over the legs: long enough to be read from across the room. */
const REFUSAL_SHOWN_MS = 10_000;

/**
 * The drift of a leg: filled once the leg is done (what happened), outlined while it is only
 * projected (what the cascade says will happen). Words carry it as well as the colour.
 */
function driftBadge(leg: ScheduleLeg, allowedMs: number): HTMLElement {
  const kind = leg.actualAt === undefined ? 'projected' : 'actual';
  return h('span', { class: `sched-drift drift-${driftLevel(leg.driftMs, allowedMs)} drift-${kind}` }, driftText(leg.driftMs));
}

/** In place of the drift of a leg whose time has passed unmarked, coloured by how late it already is. */
const overdueBadge = (leg: ScheduleLeg, allowedMs: number, now: number) =>
  h('span', { class: `sched-drift drift-${driftLevel(now - leg.plannedAt, allowedMs)} drift-actual` }, 'OVERDUE');

/** The colour of a leg: its drift, or for one overdue, the time since it was planned. */
const levelOf = (leg: ScheduleLeg, allowedMs: number, now: number, running: boolean) =>
  driftLevel(running && overdue(leg, now) ? now - leg.plannedAt : leg.driftMs, allowedMs);

/**
 * MARK <LEG> DONE, built once and relabelled in place. When the leg it names changes (the last
 * one was marked, here or elsewhere) or it comes on screen, it takes no tap for ARM_DELAY_MS: the
 * second touch of a double tap cannot mark the next leg too.
 */
class MarkButton {
  readonly element: HTMLButtonElement;
  readonly #changed: () => void;
  #leg: string | undefined;
  #armedAt = 0;

  constructor(className: string, mark: (leg: string) => void, changed: () => void) {
    this.#changed = changed;
    this.element = button('', { class: className }, () => {
      if (!this.element.disabled && this.#leg !== undefined) mark(this.#leg);
    });
    this.element.hidden = true;
  }

  /** `leg`: the leg a tap marks now; none hides the button (nothing left, no right, not running). */
  update(leg: string | undefined): void {
    if (leg !== this.#leg) {
      this.#leg = leg;
      this.#armedAt = performance.now() + ARM_DELAY_MS;
      setTimeout(this.#changed, ARM_DELAY_MS);
    }
    this.element.hidden = leg === undefined;
    if (leg === undefined) return;
    this.element.textContent = `MARK ${leg.toUpperCase()} DONE`;
    this.element.disabled = performance.now() < this.#armedAt;
  }
}

export interface MarkViewOptions {
  mark(leg: string): void;
  changed(): void;
}

/** The leg a tap may mark now: only while the mission runs, only for a member who may. */
const markable = (view: ScheduleView, next: ScheduleLeg | undefined) =>
  view.mayMark && view.mission?.status === 'active' ? next?.leg : undefined;

// ---------------------------------------------------------------- the board

/**
 * The board's schedule, beside the response-gap chart at the foot of the wall, so it takes no
 * height from the vehicles; hidden when the plan has no schedule. One line a leg, in plan order,
 * the drifts in one column so the cascade reads down it. With more legs than fit, it shows the
 * last one done and those that follow, and its heading counts the others.
 */
export class BoardSchedule {
  readonly element: HTMLElement;
  readonly #legs = h('ol', { class: 'sched-legs', 'aria-label': 'Legs' });
  readonly #allowed = h('span', { class: 'muted' });
  readonly #counts = h('span', { class: 'sched-counts' });
  readonly #mark: MarkButton;
  readonly #refusal = h('div', { class: 'sched-refusal', role: 'alert', hidden: true });
  #refusalTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: MarkViewOptions) {
    this.#mark = new MarkButton(
      'sched-mark',
      (leg) => {
        this.#refusal.hidden = true;
        options.mark(leg);
      },
      options.changed,
    );
    this.element = h(
      'section',
      { class: 'panel sched-panel', 'aria-label': 'Schedule', hidden: true },
      h('div', { class: 'sched-head' }, h('h2', {}, 'Schedule'), this.#allowed, this.#counts, this.#mark.element),
      h('div', { class: 'sched-body' }, this.#legs, this.#refusal),
    );
  }

  /**
   * A mark the server would not take: over the legs, in words, until the next tap or for a while.
   * `caution`: the schedule is right all the same (someone else marked the leg first).
   */
  refused(text: string, caution = false): void {
    this.#refusal.textContent = text;
    this.#refusal.classList.toggle('caution', caution);
    this.#refusal.hidden = false;
    clearTimeout(this.#refusalTimer);
    this.#refusalTimer = setTimeout(() => {
      this.#refusal.hidden = true;
    }, REFUSAL_SHOWN_MS);
  }

  update(view: ScheduleView): void {
    const legs = legsOf(view.mission);
    this.element.hidden = !view.mission || legs.length === 0;
    if (!view.mission || legs.length === 0) {
      this.#mark.update(undefined);
      return;
    }
    const allowedMs = view.mission.settings.scheduleDriftMs;
    const running = view.mission.status === 'active';
    this.#allowed.textContent = `allowed ${spokenSpan(allowedMs)}`;
    const next = nextLeg(legs, view.pending);
    this.#mark.update(markable(view, next));

    const row = (leg: ScheduleLeg) => {
      const done = leg.actualAt !== undefined;
      // An unmarked leg whose time has passed: the projection cannot know it, and "on time" beside it would mislead.
      const late = !done && running && overdue(leg, view.now);
      const flag = done ? undefined : view.pending.has(leg.leg) ? 'sending…' : leg === next ? 'next' : undefined;
      return h(
        'li',
        {
          class: `sched-leg level-${levelOf(leg, allowedMs, view.now, running)} ${done ? 'leg-done' : 'leg-due'}${leg === next ? ' leg-next' : ''}`,
          'data-leg': leg.leg,
        },
        h(
          'span',
          { class: 'sched-leg-name' },
          h('span', { class: 'sched-name' }, leg.leg),
          flag ? h('span', { class: 'sched-flag' }, flag) : null,
        ),
        h('span', { class: 'sched-time' }, h('span', { class: 'sched-label' }, 'plan '), hourMinute(leg.plannedAt)),
        h(
          'span',
          { class: 'sched-time' },
          h('span', { class: 'sched-label' }, done ? 'done ' : 'due '),
          h('b', {}, hourMinute(leg.actualAt ?? leg.projectedAt)),
          done ? ' ✓' : '',
        ),
        late ? overdueBadge(leg, allowedMs, view.now) : driftBadge(leg, allowedMs),
      );
    };
    // As many legs as the height takes: a guess from a row's height, then one fewer until the last one shown fits.
    const pitch = (this.#legs.firstElementChild as HTMLElement | null)?.offsetHeight;
    const guess = pitch ? Math.floor(this.#legs.clientHeight / pitch) + 1 : legs.length;
    for (let room = Math.min(legs.length, guess); room >= 1; room -= 1) {
      const from = Math.max(0, Math.min((next ? legs.indexOf(next) : legs.length) - 1, legs.length - room));
      const to = Math.min(legs.length, from + room);
      patchChildren(this.#legs, legs.slice(from, to).map(row));
      this.#counts.textContent = [from ? `✓ ${from} earlier` : '', to < legs.length ? `+${legs.length - to} later` : '']
        .filter(Boolean)
        .join(' · ');
      const last = this.#legs.lastElementChild as HTMLElement | null;
      if (!last || last.offsetTop + last.offsetHeight <= this.#legs.clientHeight + 1) break;
    }
  }
}

// ---------------------------------------------------------------- the handset

/**
 * The handset's next leg, above the target row: where the schedule stands (next leg, when it is
 * due, its drift; the last leg done) and a big MARK <LEG> DONE for the thumb. Hidden when the plan
 * has no schedule and once the mission has ended.
 */
export class NextLegPanel {
  readonly element: HTMLElement;
  readonly #next = h('div', { class: 'sched-next-leg' });
  readonly #due = h('div', { class: 'sched-next-due' });
  readonly #last = h('div', { class: 'sched-next-last' });
  readonly #mark: MarkButton;

  constructor(options: MarkViewOptions) {
    this.#mark = new MarkButton('sched-mark sched-mark-big', options.mark, options.changed);
    this.element = h(
      'section',
      { class: 'sched-next', 'aria-label': 'Schedule', hidden: true },
      h('div', { class: 'sched-next-info' }, this.#next, this.#due, this.#last),
      this.#mark.element,
    );
  }

  update(view: ScheduleView): void {
    const mission = view.mission;
    const legs = legsOf(mission);
    this.element.hidden = !mission || legs.length === 0 || mission.status === 'ended';
    if (!mission || this.element.hidden) {
      this.#mark.update(undefined);
      return;
    }
    const allowedMs = mission.settings.scheduleDriftMs;
    const next = nextLeg(legs, view.pending);
    this.#mark.update(markable(view, next));

    const sending = [...view.pending];
    const last = lastDone(legs);
    // The last leg's drift is the one the next leg carries, shown there: here only what was done, and when.
    patchChildren(
      this.#last,
      sending.length
        ? [h('span', { class: 'sched-sending' }, `${sending.join(', ')} marked — sending…`)]
        : last?.actualAt !== undefined
          ? [h('span', {}, `✓ ${last.leg} done ${hourMinute(last.actualAt)}`)]
          : [],
    );
    if (!next) {
      patchChildren(this.#next, [h('span', {}, 'All legs done')]);
      patchChildren(this.#due, []);
      return;
    }
    patchChildren(this.#next, [h('span', { class: 'sched-label' }, 'NEXT '), h('b', {}, next.leg)]);
    const late = mission.status === 'active' && overdue(next, view.now);
    patchChildren(this.#due, [
      h('span', { class: 'sched-label' }, 'DUE'),
      h('b', {}, hourMinute(next.projectedAt)),
      late ? overdueBadge(next, allowedMs, view.now) : driftBadge(next, allowedMs),
    ]);
  }
}
