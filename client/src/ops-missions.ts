import { button, h } from './dom.ts';
import { describeError, type MissionSummary } from './ops-api.ts';
import { holdToken } from './ops-links.ts';
import { slugOf, uniqueIds } from './ops-plan.ts';
import { type ConsoleContext, type View, dateTime, field } from './ops-ui.ts';

/** The missions list (newest first) and the form that creates one. */

const LIST_REFRESH_MS = 5000;

/** PROTOCOL.md §3: the defaults the server fills, shown to the operator in the units they think in. */
const DEFAULTS = { thresholdS: 2, staleS: 30, offlineGraceS: 3, planAckGraceS: 30, scheduleDriftS: 60 };

export function missionsView(ctx: ConsoleContext): View {
  const table = h('div', { class: 'missions-table' }, h('p', { class: 'muted' }, 'Loading the missions…'));
  const element = h(
    'section',
    { class: 'view', 'aria-label': 'Missions' },
    h(
      'div',
      { class: 'view-head' },
      h('h1', {}, 'Missions'),
      button('+ New mission', { class: 'primary' }, () => ctx.navigate('#/missions/new')),
    ),
    table,
    openById(ctx),
  );
  let shown = '';
  const load = async () => {
    const listed = await ctx.api.missions();
    if (!listed.ok) {
      table.replaceChildren(
        h(
          'p',
          { class: 'error' },
          listed.error.status === 404
            ? 'This server does not list missions (PROTOCOL.md v1.1). Open one by its id below.'
            : describeError(listed.error),
        ),
      );
      return;
    }
    const signature = JSON.stringify(listed.value.missions);
    if (signature === shown) return;
    shown = signature;
    table.replaceChildren(missionsTable(ctx, listed.value.missions));
  };
  void load();
  const timer = setInterval(load, LIST_REFRESH_MS);
  return { element, dispose: () => clearInterval(timer) };
}

function missionsTable(ctx: ConsoleContext, missions: MissionSummary[]): HTMLElement {
  if (missions.length === 0) return h('p', { class: 'muted' }, 'No mission yet. Create the first one.');
  return h(
    'table',
    { class: 'grid' },
    h(
      'thead',
      {},
      h('tr', {}, ...['Mission', 'Status', 'Vehicles', 'Members', 'Created', 'Started', 'Ended', ''].map((t) => h('th', {}, t))),
    ),
    h(
      'tbody',
      {},
      ...missions.map((m) =>
        h(
          'tr',
          { 'data-mission': m.id },
          h('td', { class: 'name' }, m.name),
          h('td', {}, h('span', { class: `status status-${m.status}` }, m.status.toUpperCase())),
          h('td', { class: 'num' }, m.vehicles),
          h('td', { class: 'num' }, m.members),
          h('td', {}, dateTime(m.createdAt)),
          h('td', {}, dateTime(m.startedAt)),
          h('td', {}, dateTime(m.endedAt)),
          h(
            'td',
            {},
            button('Open', { class: 'secondary', 'aria-label': `Open ${m.name}` }, () => ctx.navigate(`#/missions/${m.id}`)),
          ),
        ),
      ),
    ),
  );
}

function openById(ctx: ConsoleContext): HTMLElement {
  const id = h('input', { name: 'mission-id', autocomplete: 'off' });
  const form = h(
    'form',
    { class: 'inline-form', 'aria-label': 'Open a mission by id' },
    field('Mission id', id),
    h('button', { type: 'submit', class: 'secondary' }, 'Open'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (id.value.trim()) ctx.navigate(`#/missions/${encodeURIComponent(id.value.trim())}`);
  });
  return h('details', { class: 'by-id' }, h('summary', {}, 'Open a mission by its id'), form);
}

export function createMissionView(ctx: ConsoleContext): View {
  const name = h('input', { name: 'mission-name', maxlength: 80, required: true, autocomplete: 'off' });
  const vehicles = h('ol', { class: 'rows vehicles-order' });
  const addVehicle = (callsign = '') => {
    const input = h('input', {
      name: 'vehicle-callsign',
      value: callsign,
      maxlength: 32,
      required: true,
      autocomplete: 'off',
      'aria-label': 'Vehicle callsign',
    });
    const item = h(
      'li',
      { class: 'row' },
      h('div', { class: 'row-fields' }, input),
      h(
        'div',
        { class: 'row-tools' },
        button('↑', { class: 'tool', 'aria-label': 'Move vehicle up' }, () => item.previousElementSibling?.before(item)),
        button('↓', { class: 'tool', 'aria-label': 'Move vehicle down' }, () => item.nextElementSibling?.after(item)),
        button('✕', { class: 'tool danger', 'aria-label': 'Remove vehicle' }, () => item.remove()),
      ),
    );
    vehicles.append(item);
    return input;
  };
  addVehicle();
  const seconds = (fieldName: string, value: number, min: number, max: number) =>
    h('input', { name: fieldName, type: 'number', value, min, max, step: 0.1, required: true });
  const threshold = seconds('threshold', DEFAULTS.thresholdS, 0.5, 10);
  const stale = seconds('stale', DEFAULTS.staleS, 5, 600);
  const grace = seconds('offline-grace', DEFAULTS.offlineGraceS, 0, 60);
  const ackGrace = seconds('plan-ack-grace', DEFAULTS.planAckGraceS, 0, 600);
  const drift = seconds('schedule-drift', DEFAULTS.scheduleDriftS, 10, 3600);
  const withBoard = h('input', { type: 'checkbox', name: 'with-board', checked: true });
  const problem = h('p', { class: 'error', role: 'alert', hidden: true });

  const create = async () => {
    problem.hidden = true;
    const callsigns = [...vehicles.querySelectorAll<HTMLInputElement>('input')].map((i) => i.value.trim());
    const fail = (text: string) => {
      problem.textContent = text;
      problem.hidden = false;
    };
    if (!name.value.trim()) return fail('Give the mission a name.');
    if (callsigns.length === 0 || callsigns.some((c) => !c)) return fail('Every vehicle needs a callsign.');
    if (new Set(callsigns).size !== callsigns.length) return fail('Two vehicles have the same callsign.');
    const ms = (input: HTMLInputElement) => Math.round(Number(input.value) * 1000);
    const ids = uniqueIds(callsigns.map(slugOf));
    const created = await ctx.api.createMission({
      name: name.value.trim(),
      vehicles: callsigns.map((callsign, i) => ({ id: ids[i] ?? slugOf(callsign), callsign })),
      settings: {
        thresholds: { default: ms(threshold) },
        staleMs: { default: ms(stale) },
        offlineGraceMs: ms(grace),
        planAckGraceMs: ms(ackGrace),
        scheduleDriftMs: ms(drift),
      },
    });
    if (!created.ok) return fail(`Not created: ${describeError(created.error)}`);
    const mission = created.value;
    if (withBoard.checked) {
      // The console's own ops member: its link opens the live board from the mission's page.
      const board = await ctx.api.addMember(mission.id, { callsign: 'BOARD', role: 'ops' });
      if (board.ok) holdToken(mission.id, board.value.memberId, board.value.token);
    }
    ctx.navigate(`#/missions/${mission.id}`);
    ctx.say(`Mission “${mission.name}” created. Add its crew next.`);
  };

  const form = h(
    'form',
    { class: 'view create-mission', 'aria-label': 'New mission' },
    h('div', { class: 'view-head' }, h('h1', {}, 'New mission')),
    field('Mission name', name),
    h(
      'fieldset',
      { class: 'plan-section' },
      h('legend', {}, 'Vehicles, in convoy order (first = lead vehicle)'),
      vehicles,
      button('+ Add vehicle', { class: 'secondary add' }, () => addVehicle().focus()),
    ),
    h(
      'fieldset',
      { class: 'plan-section settings' },
      h('legend', {}, 'Settings (defaults shown)'),
      field('Hesitation threshold (s)', threshold, 'an answer slower than this is a hesitation; 0.5–10 s'),
      field('Cue stale after (s)', stale, 'a cue stops being an order after this; 5–600 s'),
      field('Offline grace (s)', grace, 'how long a driver’s tablet may be gone before OFFLINE is raised; 0–60 s'),
      field('Plan ack grace (s)', ackGrace, 'how long a driver has to ack a plan changed mid-mission; 0–600 s'),
      field('Schedule drift (s)', drift, 'a leg marked later than planned by more than this raises DRIFT; 10–3600 s'),
    ),
    h('label', { class: 'check' }, withBoard, ' Add a BOARD member for the live board'),
    problem,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Create mission'),
      button('Cancel', { class: 'secondary' }, () => ctx.navigate('#/missions')),
    ),
  );
  let creating = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (creating) return;
    creating = true;
    void create().finally(() => {
      creating = false;
    });
  });
  return { element: form };
}
