import type { Plan, PlanInput } from '@lockstep/shared';
import { button, h } from './dom.ts';
import type { RosterMember } from './ops-api.ts';
import { type MissionPage, type MissionTabView, ackWord, isCurrent, vehicleOf } from './ops-roster.ts';
import { busyButton, sayError } from './ops-ui.ts';

/**
 * The plan editor (PROTOCOL.md §7): routes, choke points, safe havens, hospitals, the succession
 * of command and the schedule, as rows an operator adds, orders and removes. Built once from the
 * plan in force and read back on save, so nothing the operator types is lost to a refresh.
 */

export interface PlanEditor {
  element: HTMLElement;
  read(): { ok: true; plan: PlanInput } | { ok: false; problem: string };
}

type Place = NonNullable<PlanInput['hospitals']>[number];

/** Ids are slugs of the names; an id already given is kept, so a trigger naming a route still finds it in the next version. */
export function slugOf(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 28);
  return slug || 'item';
}

export function uniqueIds(wanted: string[]): string[] {
  const taken = new Set<string>();
  return wanted.map((id) => {
    let candidate = id;
    for (let n = 2; taken.has(candidate); n++) candidate = `${id}-${n}`;
    taken.add(candidate);
    return candidate;
  });
}

const field = (labelText: string, input: HTMLElement, extraClass = '') =>
  h('label', { class: `field ${extraClass}`.trim() }, h('span', {}, labelText), input);

const input = (name: string, value: string, attrs: Record<string, string | number | boolean> = {}) =>
  h('input', { name, value, autocomplete: 'off', ...attrs });

/** A list of rows with add, move up, move down and remove; `read` walks the rows in their order on screen. */
function rowList(title: string, addLabel: string, makeRow: () => HTMLElement, initial: HTMLElement[]) {
  const rows = h('ol', { class: 'rows' });
  const wrap = (row: HTMLElement) => {
    const item = h(
      'li',
      { class: 'row' },
      row,
      h(
        'div',
        { class: 'row-tools' },
        button('↑', { class: 'tool', 'aria-label': `Move up (${title})` }, () => item.previousElementSibling?.before(item)),
        button('↓', { class: 'tool', 'aria-label': `Move down (${title})` }, () => item.nextElementSibling?.after(item)),
        button('✕', { class: 'tool danger', 'aria-label': `Remove (${title})` }, () => item.remove()),
      ),
    );
    return item;
  };
  rows.append(...initial.map(wrap));
  const section = h(
    'fieldset',
    { class: 'plan-section', 'aria-label': title },
    h('legend', {}, title),
    rows,
    button(addLabel, { class: 'secondary add' }, () => {
      const row = makeRow();
      rows.append(wrap(row));
      (row.querySelector('input, select') as HTMLElement | null)?.focus();
    }),
  );
  return { section, items: () => [...rows.children].map((li) => li.firstElementChild as HTMLElement) };
}

const latLonText = (at: readonly [number, number] | undefined) => (at ? `${at[0]}, ${at[1]}` : '');

function parseLatLon(text: string): [number, number] | undefined | 'bad' {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  const parts = trimmed.split(/[\s,]+/).map(Number);
  const [lat, lon] = parts;
  if (parts.length !== 2 || lat === undefined || lon === undefined || !Number.isFinite(lat) || !Number.isFinite(lon)) return 'bad';
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return 'bad';
  return [lat, lon];
}

/** `datetime-local` speaks local wall time; the plan speaks epoch ms. */
const localInputValue = (at: number) => {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

export function planEditor(plan: Plan, members: readonly RosterMember[]): PlanEditor {
  const routeRow = (route?: Plan['routes'][number]) =>
    h(
      'div',
      { class: 'row-fields', 'data-id': route?.id ?? '' },
      field('Route name', input('route-name', route?.name ?? '', { maxlength: 40, required: true })),
      field(
        'Kind',
        h(
          'select',
          { name: 'route-kind' },
          h('option', { value: 'primary', selected: route?.kind !== 'alternate' }, 'Primary'),
          h('option', { value: 'alternate', selected: route?.kind === 'alternate' }, 'Alternate'),
        ),
      ),
      field(
        'Waypoints (optional)',
        input('route-waypoints', (route?.waypoints ?? []).map((w) => latLonText(w)).join('; '), {
          class: 'wide',
          placeholder: 'lat, lon; lat, lon; …',
        }),
        'waypoints',
      ),
    );
  const placeRow = (noun: string) => (place?: Place) =>
    h(
      'div',
      { class: 'row-fields', 'data-id': place?.id ?? '' },
      field(`${noun} name`, input('place-name', place?.name ?? '', { maxlength: 80, required: true })),
      field('Position (optional)', input('place-at', latLonText(place?.at), { placeholder: 'lat, lon' })),
    );
  const commanders = members.filter((m) => (m.role === 'lead' || m.role === 'cpo') && !m.replacedAt);
  const successorRow = (memberId?: string) =>
    h(
      'div',
      { class: 'row-fields' },
      field(
        'In command next',
        h(
          'select',
          { name: 'successor' },
          ...commanders.map((m) =>
            h('option', { value: m.memberId, selected: m.memberId === memberId }, `${m.callsign} (${m.role.toUpperCase()})`),
          ),
        ),
      ),
    );
  const legRow = (leg?: NonNullable<Plan['schedule']>[number]) =>
    h(
      'div',
      { class: 'row-fields' },
      field('Leg', input('leg-name', leg?.leg ?? '', { maxlength: 80, required: true })),
      field('Planned at', input('leg-at', leg ? localInputValue(leg.plannedAt) : '', { type: 'datetime-local', required: true })),
    );

  const routes = rowList('Routes', '+ Add route', () => routeRow(), plan.routes.map(routeRow));
  const chokePoints = rowList(
    'Choke points',
    '+ Add choke point',
    () => placeRow('Choke point')(),
    (plan.chokePoints ?? []).map(placeRow('Choke point')),
  );
  const safeHavens = rowList(
    'Safe havens',
    '+ Add safe haven',
    () => placeRow('Safe haven')(),
    (plan.safeHavens ?? []).map(placeRow('Safe haven')),
  );
  const hospitals = rowList('Hospitals', '+ Add hospital', () => placeRow('Hospital')(), (plan.hospitals ?? []).map(placeRow('Hospital')));
  const succession = rowList(
    'Succession of command',
    '+ Add to the succession',
    () => successorRow(),
    (plan.successionOfCommand ?? []).filter((id) => commanders.some((m) => m.memberId === id)).map(successorRow),
  );
  const schedule = rowList('Schedule', '+ Add leg', () => legRow(), (plan.schedule ?? []).map(legRow));
  if (commanders.length === 0)
    succession.section.append(h('p', { class: 'muted' }, 'Add the lead and vehicle CPOs to the crew to choose among them.'));

  const value = (row: HTMLElement, name: string) =>
    (row.querySelector(`[name="${name}"]`) as HTMLInputElement | HTMLSelectElement).value.trim();

  const readPlaces = (list: ReturnType<typeof rowList>, noun: string): Place[] | string => {
    const rows = list.items();
    const ids = uniqueIds(rows.map((row) => row.dataset.id || slugOf(value(row, 'place-name'))));
    const places: Place[] = [];
    for (const [i, row] of rows.entries()) {
      const name = value(row, 'place-name');
      if (!name) return `${noun} ${i + 1} needs a name`;
      const at = parseLatLon(value(row, 'place-at'));
      if (at === 'bad') return `${noun} “${name}”: the position must be “lat, lon”`;
      places.push({ id: ids[i] ?? slugOf(name), name, ...(at ? { at } : {}) });
    }
    return places;
  };

  const read: PlanEditor['read'] = () => {
    const routeRows = routes.items();
    const routeIds = uniqueIds(routeRows.map((row) => row.dataset.id || slugOf(value(row, 'route-name'))));
    const planRoutes: PlanInput['routes'] = [];
    for (const [i, row] of routeRows.entries()) {
      const name = value(row, 'route-name');
      if (!name) return { ok: false, problem: `Route ${i + 1} needs a name` };
      const waypointText = value(row, 'route-waypoints');
      const waypoints = waypointText ? waypointText.split(';').map(parseLatLon) : [];
      if (waypoints.some((w) => w === 'bad' || w === undefined))
        return { ok: false, problem: `Route “${name}”: waypoints are “lat, lon” pairs separated by “;”` };
      planRoutes.push({
        id: routeIds[i] ?? slugOf(name),
        name,
        kind: value(row, 'route-kind') === 'alternate' ? 'alternate' : 'primary',
        ...(waypoints.length ? { waypoints: waypoints as [number, number][] } : {}),
      });
    }
    const places = {
      chokePoints: readPlaces(chokePoints, 'Choke point'),
      safeHavens: readPlaces(safeHavens, 'Safe haven'),
      hospitals: readPlaces(hospitals, 'Hospital'),
    };
    for (const list of Object.values(places)) if (typeof list === 'string') return { ok: false, problem: list };
    const successors = succession.items().map((row) => value(row, 'successor'));
    if (new Set(successors).size !== successors.length) return { ok: false, problem: 'Someone is twice in the succession of command' };
    const legs: NonNullable<PlanInput['schedule']> = [];
    for (const [i, row] of schedule.items().entries()) {
      const leg = value(row, 'leg-name');
      const at = new Date(value(row, 'leg-at')).getTime();
      if (!leg) return { ok: false, problem: `Leg ${i + 1} needs a name` };
      if (!Number.isFinite(at)) return { ok: false, problem: `Leg “${leg}” needs its planned time` };
      if (legs.some((l) => l.leg === leg)) return { ok: false, problem: `Two legs are called “${leg}”` };
      legs.push({ leg, plannedAt: at });
    }
    return {
      ok: true,
      plan: {
        routes: planRoutes,
        chokePoints: places.chokePoints as Place[],
        safeHavens: places.safeHavens as Place[],
        hospitals: places.hospitals as Place[],
        successionOfCommand: successors,
        schedule: legs,
      },
    };
  };

  const element = h(
    'div',
    { class: 'plan-editor' },
    routes.section,
    h('div', { class: 'plan-places' }, chokePoints.section, safeHavens.section, hospitals.section),
    h('div', { class: 'plan-places' }, succession.section, schedule.section),
  );
  return { element, read };
}

/** The plan tab: the editor, saving as the next version, and who acked which version. */
export function planTab(page: MissionPage): MissionTabView {
  const m = page.mission;
  const acks = h('section', { class: 'acks', 'aria-label': 'Plan acknowledgements' });
  let planForm = planEditor(m.plan, m.members);
  const host = h('div', { class: 'plan-host' }, planForm.element);
  const save = busyButton(m.plan.version ? `Save as v${m.plan.version + 1}` : 'Save as v1', { class: 'primary' }, async () => {
    const read = planForm.read();
    if (!read.ok) return page.ctx.say(read.problem, 'error');
    const saved = await page.ctx.api.putPlan(page.mission.id, read.plan);
    if (!saved.ok) return sayError(page.ctx, 'Plan not saved', saved.error);
    page.ctx.say(`Plan saved as version ${saved.value.version}: every member acknowledges it on their screen.`);
    await page.refresh();
    // Rebuilt from the version in force, so new rows keep the ids they were given.
    planForm = planEditor(page.mission.plan, page.mission.members);
    host.replaceChildren(planForm.element);
    save.textContent = `Save as v${page.mission.plan.version + 1}`;
  });
  const element = h(
    'div',
    { class: 'plan-tab' },
    h(
      'div',
      { class: 'plan-main' },
      host,
      h(
        'div',
        { class: 'actions sticky' },
        m.status === 'ended' ? h('p', { class: 'muted' }, 'The mission has ended: the plan is final.') : save,
      ),
    ),
    acks,
  );

  function renderAcks() {
    const m = page.mission;
    const members = m.members.filter(isCurrent);
    acks.replaceChildren(
      h('h2', {}, m.plan.version ? `Who acked v${m.plan.version}` : 'No plan yet'),
      m.plan.version
        ? h(
            'ul',
            { class: 'ack-list' },
            ...members.map((x) =>
              h(
                'li',
                { 'data-member': x.memberId },
                h('b', {}, x.callsign),
                ` ${x.role}${x.vehicleId ? ` · ${vehicleOf(m, x.vehicleId)}` : ''} `,
                ackWord(m, x),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'Save the plan: each member’s screen shows it until they acknowledge it.'),
    );
  }

  return { element, render: renderAcks };
}
