import type { Mission, Observation, ObservationPost } from '@lockstep/shared';
import './styles/base.css';
import './styles/field.css';
import { appRoot, button, frameScheduler, h, patchChildren } from './dom.ts';
import { clockTime } from './format.ts';
import { newId } from './ids.ts';
import { type ConnectionState, openConnection, takeToken } from './lockstep-client.ts';
import { isOutboxEntries, Outbox, type Settled } from './outbox.ts';
import { moveToOwnScreen } from './screens.ts';
import { shelf } from './storage.ts';
import { refusalNotice } from './wording.ts';

/**
 * The screen of a member who fires no trigger and drives no car (advance, surveillance,
 * liaison): the threat picture the team has reported, a two-tap way to report what they see,
 * and the plan they work to.
 */

const CATEGORIES = [
  'vehicle',
  'person',
  'surveillance',
  'crowd',
  'route',
  'other',
] as const satisfies readonly ObservationPost['category'][];
const SEVERITIES = ['threat', 'caution', 'info'] as const satisfies readonly ObservationPost['severity'][];
const SEVERITY_RANK: Readonly<Record<ObservationPost['severity'], number>> = { threat: 2, caution: 1, info: 0 };
const PICTURE_SHOWN = 30;
const NOTICE_MS = 8000;
const FIELD_ROLES = new Set(['advance', 'surveillance', 'liaison']);

const root = appRoot();
const token = takeToken();
const conn = openConnection({ token });
let connection: ConnectionState = 'connecting';
let mission: Mission | undefined;
let observations: Observation[] = [];
let category: ObservationPost['category'] = 'vehicle';
let severity: ObservationPost['severity'] = 'caution';
let notice: { text: string; until: number } | undefined;
const scheduleRender = frameScheduler(() => render());

const reports =
  conn &&
  new Outbox<'observation:post', undefined>({
    event: 'observation:post',
    connection: conn,
    shelf: shelf(sessionStorage, 'lockstep.field.outbox', isOutboxEntries<'observation:post', undefined>),
    idOf: (post) => post.id,
    settled: reported,
    retryEveryMs: 1000,
  });

function reported(result: Settled<'observation:post', undefined>) {
  if (result.outcome === 'accepted') keep(result.reply.observation);
  else
    notice = {
      text: result.outcome === 'refused' ? refusalNotice('REPORT', result.code) : 'REPORT NOT SENT IN TIME — USE THE RADIO',
      until: Date.now() + NOTICE_MS,
    };
  scheduleRender();
}

function keep(observation: Observation) {
  observations = [...observations.filter((o) => o.id !== observation.id), observation].slice(-PICTURE_SHOWN * 2);
}

function report() {
  if (!reports) return;
  const text = note.value.trim();
  reports.send({ id: newId(), category, severity, ...(text ? { text } : {}) }, undefined);
  note.value = '';
  render();
}

if (conn) {
  conn.onState((state) => {
    connection = state;
    scheduleRender();
  });
  conn.socket.on('mission', (next) => {
    mission = next;
    scheduleRender();
  });
  conn.socket.on('observation', (observation) => {
    keep(observation);
    scheduleRender();
  });
  conn.onSnapshot((snapshot, { self }) => {
    if (self && !FIELD_ROLES.has(self.role) && moveToOwnScreen(self.role, token)) return;
    mission = snapshot.mission;
    for (const observation of snapshot.observations) keep(observation);
    scheduleRender();
  });
}
setInterval(() => {
  if (notice && notice.until <= Date.now()) {
    notice = undefined;
    scheduleRender();
  }
}, 1000);

// ---------------------------------------------------------------- screen

const banner = h('div', { class: 'banner', role: 'status' });
const title = h('h1', { class: 'field-title' });
const picture = h('ol', { class: 'picture' });
const pictureCount = h('span', { class: 'count' });
const categoryButtons = CATEGORIES.map((c) =>
  button(c.toUpperCase(), { class: 'choice', 'data-category': c }, () => {
    category = c;
    render();
  }),
);
const severityButtons = SEVERITIES.map((s) =>
  button(s.toUpperCase(), { class: `choice severity-${s}`, 'data-severity': s }, () => {
    severity = s;
    render();
  }),
);
const note = h('input', {
  id: 'report-note',
  class: 'note',
  type: 'text',
  maxlength: 280,
  autocomplete: 'off',
  placeholder: 'What, where (optional)',
});
const sending = h('div', { class: 'sending', 'aria-live': 'polite' });
const noticeLine = h('div', { class: 'notice', role: 'alert' });
const plan = h('div', { class: 'plan-body' });
const section = (label: string, ...children: Node[]) =>
  h(
    'section',
    { class: 'field-section', 'aria-label': label },
    h('h2', {}, label, ...(label === 'Threat picture' ? [pictureCount] : [])),
    ...children,
  );

if (conn)
  root.replaceChildren(
    banner,
    h(
      'div',
      { class: 'field' },
      title,
      section(
        'Report',
        h('div', { class: 'choices', role: 'group', 'aria-label': 'What' }, ...categoryButtons),
        h('div', { class: 'choices', role: 'group', 'aria-label': 'How serious' }, ...severityButtons),
        h('label', { class: 'note-label', for: 'report-note' }, 'Details'),
        note,
        button('SEND REPORT', { class: 'send' }, report),
        sending,
        noticeLine,
      ),
      section('Threat picture', picture),
      section('Plan', plan),
    ),
  );
else root.replaceChildren(h('div', { class: 'banner banner-unauthorized' }, 'NO TOKEN — OPEN THE LINK YOU WERE GIVEN'));

function render() {
  if (!conn) return;
  const words: Record<ConnectionState, string> = {
    connecting: 'CONNECTING…',
    online: 'ONLINE',
    offline: 'OFFLINE — REPORTS ARE KEPT',
    unauthorized: 'LINK REFUSED — ASK OPS FOR A NEW LINK',
  };
  banner.className = `banner banner-${connection}`;
  banner.textContent = words[connection];
  title.textContent = mission
    ? `${mission.name}${mission.status === 'active' ? '' : ` — ${mission.status.toUpperCase()}`}`
    : 'Loading the mission…';
  for (const b of categoryButtons) b.setAttribute('aria-pressed', String(b.dataset.category === category));
  for (const b of severityButtons) b.setAttribute('aria-pressed', String(b.dataset.severity === severity));
  const waiting = reports?.entries.length ?? 0;
  sending.hidden = waiting === 0;
  sending.textContent = waiting
    ? `${waiting} REPORT${waiting > 1 ? 'S' : ''} ${connection === 'online' ? 'SENDING…' : 'WAITING FOR LINK'}`
    : '';
  noticeLine.hidden = !notice;
  noticeLine.textContent = notice?.text ?? '';
  renderPicture();
  renderPlan();
}

/** Threats first, then cautions, then the rest; newest first within each. */
function renderPicture() {
  const ordered = [...observations]
    .sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.at - a.at)
    .slice(0, PICTURE_SHOWN);
  const threats = observations.filter((o) => o.severity === 'threat').length;
  pictureCount.textContent = ` ${threats} threat${threats === 1 ? '' : 's'} · ${observations.length} reports`;
  patchChildren(
    picture,
    ordered.length
      ? ordered.map((o) =>
          h(
            'li',
            { class: `report severity-${o.severity}` },
            h('b', {}, `${o.severity.toUpperCase()} ${o.category}`),
            ` ${o.text ?? ''} `,
            h('span', { class: 'muted' }, `${o.callsign} ${clockTime(o.at)}`),
          ),
        )
      : [h('li', { class: 'muted' }, 'Nothing reported yet')],
  );
}

function renderPlan() {
  const briefed = mission?.plan;
  if (!briefed || briefed.version === 0) {
    patchChildren(plan, [h('div', { class: 'muted' }, 'No plan briefed yet')]);
    return;
  }
  const list = (label: string, items: string[]) =>
    items.length ? [h('div', { class: 'plan-row' }, h('b', {}, label), ` ${items.join(' · ')}`)] : [];
  patchChildren(plan, [
    h('div', { class: 'muted' }, `Version ${briefed.version}`),
    ...list(
      'Routes',
      briefed.routes.map((r) => `${r.name}${r.kind === 'primary' ? ' (primary)' : ''}`),
    ),
    ...list(
      'Choke points',
      (briefed.chokePoints ?? []).map((p) => p.name),
    ),
    ...list(
      'Safe havens',
      (briefed.safeHavens ?? []).map((p) => p.name),
    ),
    ...list(
      'Hospitals',
      (briefed.hospitals ?? []).map((p) => p.name),
    ),
    ...list(
      'Schedule',
      (briefed.schedule ?? []).map((s) => `${clockTime(s.plannedAt)} ${s.leg}`),
    ),
  ]);
}

render();
