import type { Alert, Mission, Presence } from '@lockstep/shared';
import { cueLabel, ROLE_AUTHORITY, triggerOpen } from '@lockstep/shared/constants';
import './styles/base.css';
import './styles/board.css';
import { PlanAcker, PlanOverlay, renderPlanAcks } from './briefing.ts';
import { CommandStatus } from './command.ts';
import { alertWords } from './coordination.ts';
import { appRoot, button, frameScheduler, h, patchChildren, svg } from './dom.ts';
import { ALARM_STATES, clockTime, formatGap, routeName, vehicleCallsign, withdrawnText } from './format.ts';
import { openConnection, takeToken, type ConnectionState } from './lockstep-client.ts';
import { feedRows, ObservationPicker, ObservationSender } from './observations.ts';
import { OpsApi } from './ops-api.ts';
import { isOutboxEntries } from './outbox.ts';
import { mayMarkSchedule, ScheduleMarker } from './schedule.ts';
import { BoardSchedule } from './schedule-views.ts';
import { moveToOwnScreen } from './screens.ts';
import { shelf } from './storage.ts';
import { orderAlerts, VEHICLE_DENSITIES, type VehicleDensity, vehicleDensity } from './triage.ts';
import { MissionWatch } from './watch.ts';
import { markRefusalNotice } from './wording.ts';

/**
 * The operations board, for a wall screen: the schedule's legs and their drift, every vehicle's
 * driver and link, every trigger and each recipient's answer, the open alerts, observations and
 * the response gaps over the mission.
 * Every vehicle is always on screen (the layout gets denser with the convoy); a list longer
 * than its panel shows what fits and a "+N MORE" button that opens the whole list.
 */

/** The most an opened list holds; the mission log has the rest. */
const LIST_KEPT = 50;

const root = appRoot();
const token = takeToken();
const conn = openConnection({ token });
let connection: ConnectionState = 'connecting';
const scheduleRender = frameScheduler(() => render());
const watch = conn ? new MissionWatch(conn, { changed: scheduleRender }) : undefined;
conn?.onState((state) => {
  connection = state;
  scheduleRender();
});

const serverNow = () => conn?.serverNow() ?? Date.now();

/** Open triggers count up in tenths without re-rendering the board. */
setInterval(() => {
  for (const timer of root.querySelectorAll<HTMLElement>('[data-since]'))
    timer.textContent = formatGap(Math.max(0, serverNow() - Number(timer.dataset.since)));
  clock.textContent = clockTime(Date.now());
}, 100);
/** The gap chart's time axis runs on with the mission. */
setInterval(scheduleRender, 5000);
/** What fits in each list depends on the screen's size. */
window.addEventListener('resize', scheduleRender);

const mayResolve = () => (watch?.self ? ROLE_AUTHORITY[watch.self.role].resolvesAlerts : true);

function resolve(alert: Alert) {
  // The server's `alert` event redraws the feed; a refusal (not a lead or ops) leaves the alert open, as it should.
  conn?.request('alert:resolve', { alertId: alert.id }).catch(() => undefined);
}

// ---------------------------------------------------------------- screen

/** Built once; each render refills the regions, and a row with a button is kept while it shows the same. */
const title = h('div', { class: 'title' });
const missionStatus = h('div', {});
const threshold = h('div', { class: 'muted' });
const link = h('div', { role: 'status' });
const clock = h('div', { class: 'clock' });
/**
 * Once the mission has ended: its after-action report, fetched with the board's token (an ops
 * member's, which may read it) the way the console fetches its downloads: a plain link could not
 * carry the bearer. Fetched ahead, so the tap opens it at once.
 */
const reportApi = token ? new OpsApi(token) : undefined;
const reportLink = h('a', { class: 'report-link', target: '_blank', rel: 'noopener', hidden: true }, 'AFTER-ACTION REPORT');
let reportFor: string | undefined;
const header = h('header', { class: 'top' }, title, missionStatus, threshold, reportLink, h('div', { class: 'spacer' }), link, clock);
const vehicles = h('div', { class: 'vehicles' });
const team = h('div', { class: 'team' });
const triggers = h('div', { class: 'triggers list' });
const alerts = h('div', { class: 'alerts list' });
const observations = h('div', { class: 'observations list' });
/** A refusal of an observation posted from the board, shown over the feed until the next post. */
const postFailure = h('div', { class: 'post-failure', role: 'alert', hidden: true });
const sender =
  conn &&
  new ObservationSender(conn, {
    screen: 'board',
    changed: scheduleRender,
    failed: (text) => {
      postFailure.hidden = false;
      postFailure.textContent = text;
    },
  });
const picker = new ObservationPicker({
  withText: true,
  post: (draft) => {
    postFailure.hidden = true;
    sender?.post(draft);
  },
});
const command = new CommandStatus();
const planAcks = conn && new PlanAcker(conn, { screen: 'board', acked: () => undefined, changed: scheduleRender });
const planOverlay = new PlanOverlay({ ack: (version) => planAcks?.ack(version) });
const openPlan = planOverlay.opener();
const planAckRoll = h('div', { class: 'plan-acks' });
const chart = h('div', { class: 'chart-host' });
/** The schedule at the foot of the wall; MARK <LEG> DONE sends the tap's moment, kept until the server has it. */
const schedule = new BoardSchedule({
  mark: (leg) => {
    marker?.mark(leg, serverNow());
    render();
  },
  changed: scheduleRender,
});
const marker =
  conn &&
  new ScheduleMarker({
    connection: conn,
    shelf: shelf(sessionStorage, 'lockstep.board.schedule-marks', isOutboxEntries<'schedule:mark', undefined>),
    mission: () => watch?.mission,
    settled: (result) => {
      if (result.outcome === 'refused') schedule.refused(markRefusalNotice(result.leg, result.code), result.code === 'conflict');
      scheduleRender();
    },
    retryEveryMs: 1000,
  });

type ListName = 'Triggers' | 'Alerts' | 'Observations';
/** The list opened in full over the board, if any. */
let opened: ListName | undefined;
const moreButtons = new Map<ListName, HTMLButtonElement>();
const moreButton = (name: ListName) => {
  const more = button('', { class: 'more' }, () => {
    opened = name;
    render();
  });
  more.hidden = true;
  moreButtons.set(name, more);
  return more;
};
const fullTitle = h('h2', {});
const fullList = h('div', { class: 'full-list' });
const fullView = h(
  'section',
  { class: 'full-view', role: 'dialog' },
  h(
    'div',
    { class: 'full-head' },
    fullTitle,
    button('CLOSE', { class: 'close' }, () => {
      opened = undefined;
      render();
    }),
  ),
  fullList,
);
fullView.hidden = true;

if (conn)
  root.replaceChildren(
    header,
    h(
      'div',
      { class: 'board' },
      h(
        'div',
        { class: 'stack' },
        panel('Vehicles', vehicles, team),
        panel('Plan and command', h('div', { class: 'panel-tools' }, command.line, openPlan), planAckRoll),
      ),
      panel('Triggers', triggers, moreButton('Triggers')),
      h(
        'div',
        { class: 'side' },
        panel('Alerts', alerts, moreButton('Alerts')),
        panel('Observations', h('div', { class: 'panel-tools' }, picker.opener()), postFailure, observations, moreButton('Observations')),
      ),
      h('div', { class: 'foot' }, schedule.element, panel('Response gaps', chart)),
    ),
    fullView,
    picker.element,
    planOverlay.element,
  );
else root.replaceChildren(h('div', { class: 'banner banner-unauthorized' }, 'NO TOKEN — OPEN THE BOARD LINK YOU WERE GIVEN'));

function render() {
  if (!conn || !watch) return;
  // A member who may not watch (a driver, a field member) sees nothing here: their own screen shows what they need.
  if (watch.self && !ROLE_AUTHORITY[watch.self.role].watches && moveToOwnScreen(watch.self.role, token)) return;
  const mission = watch.mission;
  renderHeader(mission);
  schedule.update({ mission, pending: marker?.pending() ?? new Set(), mayMark: mayMarkSchedule(watch.self), now: serverNow() });
  renderVehicles(mission);
  fill('Triggers', triggers, triggerRows(mission), 'No trigger fired yet');
  fill('Alerts', alerts, alertRows(mission), 'No open alert');
  fill('Observations', observations, observationRows(), 'None');
  renderFullView(mission);
  command.update(mission, undefined);
  planOverlay.update(mission, watch.self?.memberId, planAcks?.pending(mission?.plan.version ?? 0) ?? false, openPlan);
  renderPlanAcks(planAckRoll, mission);
  // Drawn at the size it is shown, one SVG unit per pixel, so text and dots stay legible on any wall.
  chart.replaceChildren(gapChart(mission, chart.clientWidth, chart.clientHeight));
}

function renderHeader(mission: Mission | undefined) {
  const words: Record<ConnectionState, string> = {
    connecting: 'CONNECTING…',
    online: 'LIVE',
    offline: 'OFFLINE — RECONNECTING',
    unauthorized: 'LINK REFUSED',
  };
  title.textContent = mission?.name ?? 'Lockstep';
  missionStatus.hidden = !mission;
  missionStatus.className = `mission-status status-${mission?.status ?? ''}`;
  missionStatus.textContent = mission?.status.toUpperCase() ?? '';
  threshold.hidden = !mission;
  threshold.textContent = mission ? `threshold ${formatGap(mission.settings.thresholds.default)}` : '';
  if (mission?.status === 'ended' && reportFor !== mission.id) linkReport(mission.id);
  link.className = `link link-${connection}`;
  link.textContent = words[connection];
  clock.textContent = clockTime(Date.now());
}

function linkReport(missionId: string) {
  if (!reportApi) return;
  reportFor = missionId;
  // Not reached, or cut off mid-body: the next render asks again. A refusal stands (this board may not read reports).
  const again = () => {
    reportFor = undefined;
  };
  reportApi
    .download(`/api/missions/${encodeURIComponent(missionId)}/report?format=html`)
    .then((got) => {
      if (got.ok) {
        reportLink.setAttribute('href', URL.createObjectURL(got.value));
        reportLink.hidden = false;
      } else if (got.error.status === 0) again();
    })
    .catch(again);
}

function panel(title: string, ...children: Node[]): HTMLElement {
  return h('section', { class: 'panel', 'aria-label': title }, h('h2', {}, title), ...children);
}

/**
 * Fills a list with its rows, then hides those that do not fit in its panel and says how many:
 * "+3 MORE" opens the whole list. Rows are measured unhidden first, so a kept row reads the same
 * to patchChildren and its button stays under the finger.
 */
function fill(name: ListName, list: HTMLElement, rows: HTMLElement[], empty: string) {
  for (const row of list.children) (row as HTMLElement).hidden = false;
  patchChildren(list, rows.length ? rows : [h('div', { class: 'muted' }, empty)]);
  const more = moreButtons.get(name);
  if (!more) return;
  const rowsOf = () => Array.from(list.children) as HTMLElement[];
  const overflows = (row: HTMLElement) => row.offsetTop + row.offsetHeight > list.clientHeight;
  // The button takes room from the list when it shows: measure again with it in place.
  more.textContent = '+0 MORE';
  more.hidden = !rowsOf().some(overflows);
  let hidden = 0;
  for (const row of rowsOf()) {
    row.hidden = hidden > 0 || overflows(row);
    if (row.hidden) hidden += 1;
  }
  more.hidden = hidden === 0;
  more.textContent = `+${hidden} MORE`;
  more.setAttribute('aria-label', `${hidden} more ${name.toLowerCase()}: show all`);
}

function renderFullView(mission: Mission | undefined) {
  fullView.hidden = opened === undefined;
  if (!opened) return;
  fullView.setAttribute('aria-label', `All ${opened.toLowerCase()}`);
  const rows = opened === 'Alerts' ? alertRows(mission) : opened === 'Triggers' ? triggerRows(mission) : observationRows();
  fullTitle.textContent = `${opened} (${rows.length})`;
  patchChildren(fullList, rows.length ? rows : [h('div', { class: 'muted' }, 'Nothing left')]);
}

function sparkline(history: readonly number[]): SVGSVGElement {
  const width = 120;
  const height = 32;
  const max = Math.max(50, ...history);
  // One sample draws as a flat line, so the row never looks empty while history builds.
  const samples = history.length === 1 ? [history[0] ?? 0, history[0] ?? 0] : history;
  const points = samples
    .map((rtt, i) => `${(i / Math.max(1, samples.length - 1)) * width},${height - (rtt / max) * (height - 2) - 1}`)
    .join(' ');
  return svg(
    'svg',
    { class: 'spark', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    svg('polyline', { points, fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke' }),
  );
}

function renderVehicles(mission: Mission | undefined) {
  const rows = (mission?.vehicles ?? []).map((vehicle) => {
    const driver = mission?.members.find((m) => m.role === 'driver' && m.vehicleId === vehicle.id && m.replacedAt === undefined);
    const presence: Presence | undefined = driver && watch?.presence.get(driver.memberId);
    const state = presence?.state ?? 'offline';
    // A stale or offline device's last RTT is old news: show none rather than a number that looks live.
    const rtt = state === 'online' && presence?.rttMs !== undefined ? `${Math.round(presence.rttMs)} ms` : '— ms';
    const planAcked =
      !mission || mission.plan.version === 0 || (driver && (mission.planAcks[driver.memberId] ?? 0) >= mission.plan.version);
    return h(
      'div',
      { class: `vehicle presence-${state}`, 'data-vehicle': vehicle.id },
      h('div', { class: 'vehicle-callsign' }, vehicle.callsign),
      h(
        'div',
        { class: 'driver' },
        driver ? driver.callsign : 'NO DRIVER',
        planAcked ? null : h('span', { class: 'plan-missing' }, ' PLAN NOT ACKED'),
      ),
      h('div', { class: 'presence-word' }, state),
      h('div', { class: 'rtt' }, rtt),
      driver ? sparkline(watch?.rttHistory.get(driver.memberId) ?? []) : null,
    );
  });
  vehicles.replaceChildren(...rows);
  team.replaceChildren(
    ...(mission?.members ?? [])
      .filter((m) => m.role !== 'driver')
      .map((m) => h('span', { class: `member presence-${watch?.presence.get(m.memberId)?.state ?? 'offline'}` }, m.callsign)),
  );
  fitVehicles(vehicleDensity(rows.length));
}

/**
 * The layout the convoy's size calls for, or a denser one while it does not fit: a long plan
 * roll takes height from the vehicles, and every vehicle stays on the wall.
 */
function fitVehicles(density: VehicleDensity) {
  vehicles.dataset.density = density;
  const panel = vehicles.parentElement;
  const denser = VEHICLE_DENSITIES[VEHICLE_DENSITIES.indexOf(density) + 1];
  if (panel && denser && panel.scrollHeight > panel.clientHeight + 1) fitVehicles(denser);
}

function triggerRows(mission: Mission | undefined): HTMLElement[] {
  return (watch?.triggersByRecency() ?? []).slice(0, LIST_KEPT).map((t) =>
    h(
      'div',
      { class: `trigger status-${t.status}`, 'data-trigger': t.id },
      h(
        'div',
        { class: 'trigger-head' },
        h('span', { class: 'trigger-label' }, cueLabel(t.type, t.params, routeName(mission, t.params.routeId))),
        h('span', { class: 'muted' }, ` ${t.issuedBy.callsign} ${clockTime(t.issuedAt)}`),
        triggerOpen(t) ? h('span', { class: 'timer', 'data-since': t.issuedAt }, formatGap(serverNow() - t.issuedAt)) : null,
      ),
      h(
        'div',
        { class: 'recipients' },
        ...t.recipients.map((r) =>
          h(
            'span',
            {
              class: `recipient state-${r.state}${ALARM_STATES.has(r.state) || r.hesitation ? ' alarmed' : ''}`,
              'data-vehicle': r.vehicleId,
            },
            h('b', {}, vehicleCallsign(mission, r.vehicleId)),
            ` ${r.state}`,
            r.response === 'unable' ? ` unable ${r.reason ?? ''}` : '',
            r.gapMs === undefined ? '' : ` ${formatGap(r.gapMs, r.gapSource)}`,
          ),
        ),
        t.recipients.length === 0 ? h('span', { class: 'recipient alarmed' }, 'no driver reached') : null,
      ),
    ),
  );
}

/** What the room needs to read an alert: the cue it is about, the observation a silence follows. */
const alertContext = (mission: Mission | undefined) => ({
  mission,
  triggerLabel: (id: string) => {
    const trigger = watch?.triggers.get(id);
    return trigger && cueLabel(trigger.type, trigger.params, routeName(mission, trigger.params.routeId));
  },
  observation: (id: string) => watch?.observations.find((o) => o.id === id),
});

const whoOf = (mission: Mission | undefined, alert: Alert) =>
  alert.vehicleId
    ? vehicleCallsign(mission, alert.vehicleId)
    : (mission?.members.find((m) => m.memberId === alert.memberId)?.callsign ?? '');

/** An offline alert stays open until someone resolves it; once the device is back it says so. */
function cameBack(alert: Alert): boolean {
  return alert.kind === 'offline' && alert.memberId !== undefined && watch?.presence.get(alert.memberId)?.state === 'online';
}

function alertRows(mission: Mission | undefined): HTMLElement[] {
  const context = alertContext(mission);
  const rows = orderAlerts(watch?.openAlerts() ?? []).map((alert) => {
    const words = alertWords(alert, context);
    return h(
      'div',
      { class: `alert alert-${alert.kind}`, 'data-alert': alert.id },
      h('span', { class: 'alert-kind' }, words.kind),
      ` ${words.text}`,
      words.detail ? h('span', { class: 'muted' }, ` ${words.detail}`) : null,
      h('span', { class: 'muted' }, ` ${clockTime(alert.at)}`),
      cameBack(alert) ? h('span', { class: 'back-online' }, 'BACK ONLINE') : null,
      mayResolve()
        ? button('RESOLVE', { class: 'resolve', 'aria-label': `Resolve ${words.kind} ${words.text}` }, () => resolve(alert))
        : null,
    );
  });
  // A hesitation the answer disproved stays in sight, struck through, below the open ones.
  const withdrawn = (watch?.withdrawnAlerts() ?? []).map((alert) =>
    h(
      'div',
      { class: 'alert alert-withdrawn', 'data-alert': alert.id },
      h('s', {}, h('span', { class: 'alert-kind' }, alertWords(alert, context).kind), ` ${whoOf(mission, alert)}`),
      ` ${withdrawnText(alert)}`,
      h('span', { class: 'muted' }, ` ${clockTime(alert.at)}`),
    ),
  );
  // Nothing at all: the list's own empty line says "No open alert".
  return [...(rows.length || !withdrawn.length ? rows : [h('div', { class: 'muted' }, 'No open alert')]), ...withdrawn];
}

/** Newest first, with the board's own posts still on their way. */
function observationRows(): HTMLElement[] {
  return feedRows(watch?.observations ?? [], sender?.unsent ?? [], LIST_KEPT);
}

/** Every answered gap over the mission, against the threshold line; hesitations in red. */
function gapChart(mission: Mission | undefined, width: number, height: number): SVGSVGElement {
  // Margins in the board's rem, so the axis labels fit on a 4K wall as on a 1080p one.
  const rem = Number.parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const pad = { left: 3.6 * rem, right: 2 * rem, top: rem, bottom: 1.8 * rem };
  const threshold = mission?.settings.thresholds.default ?? 2000;
  const points = [...(watch?.triggers.values() ?? [])].flatMap((t) =>
    t.recipients.flatMap((r) =>
      r.gapMs === undefined
        ? []
        : [
            {
              at: t.issuedAt,
              gapMs: r.gapMs,
              gapSource: r.gapSource,
              hesitation: r.hesitation,
              who: vehicleCallsign(mission, r.vehicleId),
            },
          ],
    ),
  );
  const start = mission?.startedAt ?? Math.min(serverNow(), ...points.map((p) => p.at));
  const end = Math.max(serverNow(), start + 60_000);
  const maxGap = Math.max(threshold * 1.5, ...points.map((p) => p.gapMs * 1.1));
  const x = (at: number) => pad.left + ((at - start) / (end - start)) * (width - pad.left - pad.right);
  const y = (gapMs: number) => height - pad.bottom - (gapMs / maxGap) * (height - pad.top - pad.bottom);
  const minutes = Math.floor((end - start) / 60_000);
  const tickEvery = Math.max(1, Math.ceil(minutes / 10));
  const ticks = Array.from({ length: Math.floor(minutes / tickEvery) + 1 }, (_, i) => i * tickEvery);
  return svg(
    'svg',
    {
      class: 'chart',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `Response gaps; threshold ${formatGap(threshold)}`,
    },
    svg('line', { class: 'axis', x1: pad.left, y1: height - pad.bottom, x2: width - pad.right, y2: height - pad.bottom }),
    svg('line', { class: 'axis', x1: pad.left, y1: pad.top, x2: pad.left, y2: height - pad.bottom }),
    ...ticks.map((m) =>
      svg('text', { class: 'tick', x: x(start + m * 60_000), y: height - 0.4 * rem, 'text-anchor': 'middle' }, `${m} min`),
    ),
    svg('text', { class: 'tick', x: pad.left - 0.4 * rem, y: y(0), 'text-anchor': 'end' }, '0 s'),
    svg('text', { class: 'tick', x: pad.left - 0.4 * rem, y: y(maxGap) + 0.8 * rem, 'text-anchor': 'end' }, formatGap(maxGap)),
    svg('line', { class: 'threshold', x1: pad.left, y1: y(threshold), x2: width - pad.right, y2: y(threshold) }),
    svg(
      'text',
      { class: 'threshold-label', x: width - pad.right - 4, y: y(threshold) - 6, 'text-anchor': 'end' },
      `threshold ${formatGap(threshold)}`,
    ),
    ...points.map((p) =>
      svg(
        'circle',
        { class: p.hesitation ? 'gap hesitation' : 'gap', cx: x(p.at), cy: y(p.gapMs), r: 8 },
        svg('title', {}, `${p.who} ${formatGap(p.gapMs, p.gapSource)}`),
      ),
    ),
  );
}

render();
