import { button, frameScheduler, h } from './dom.ts';
import { type Connection, openConnection } from './lockstep-client.ts';
import { type PersonWithStats, type RosterMission, describeError } from './ops-api.ts';
import { crewTab } from './ops-crew.ts';
import { heldToken, holdToken, memberLink } from './ops-links.ts';
import { planTab } from './ops-plan.ts';
import { reportTab } from './ops-report.ts';
import { type MissionPage, type MissionTabView, callsignOf, isCurrent, unackedDrivers, vehicleOf } from './ops-roster.ts';
import { type ConsoleContext, type View, busyButton, confirmAction, dateTime, sayError } from './ops-ui.ts';
import { MissionWatch } from './watch.ts';

/**
 * One mission: its status and run (start, the live board, the end) above its tabs, crew and
 * links, plan, report. The mission is read again every few seconds, and at once on each live
 * `mission` event, so acks and swaps made elsewhere show up; regions are redrawn only when it
 * changed, and forms being filled in are never rebuilt.
 */

export type MissionTab = 'crew' | 'plan' | 'report';

/** How often the mission is read again; a live `mission` event reads it at once. */
const REFRESH_MS = 2000;

/** The link of an ops member this tab holds: the console's own eyes on the mission, and its live board. */
function boardToken(m: RosterMission): string | undefined {
  for (const member of m.members) {
    const token = member.role === 'ops' && isCurrent(member) ? heldToken(m.id, member.memberId) : undefined;
    if (token) return token;
  }
  return undefined;
}

export function missionView(ctx: ConsoleContext, missionId: string, tab: MissionTab): View {
  let mission: RosterMission | undefined;
  /** The directory, or undefined on a server without it (PROTOCOL.md v1.1). */
  let people: PersonWithStats[] | undefined;
  let shown = '';
  let shownTab: MissionTabView | undefined;
  /** The drivers the server named when it refused the start, until the mission starts. */
  let startRefusedFor: string[] | undefined;
  /**
   * The mission's events as its BOARD member sees them, once this tab holds that member's link:
   * who is connected (so the operator sees a tablet come online after scanning) and every change at once.
   */
  let live: { connection: Connection; watch: MissionWatch } | undefined;
  const schedulePresence = frameScheduler(() => shownTab?.renderPresence?.());

  const head = h('div', { class: 'mission-head' });
  const notice = h('div', { class: 'start-notice' });
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Mission' });
  const body = h('div', { class: 'tab-body' }, h('p', { class: 'muted' }, 'Loading the mission…'));
  const element = h('section', { class: 'view mission', 'aria-label': 'Mission' }, head, notice, tabs, body);

  /** Reads may cross (a poll, a live event, an action): only the latest one asked is drawn. */
  let reads = 0;
  const refresh = async () => {
    const asked = ++reads;
    const read = await ctx.api.mission(missionId);
    if (asked !== reads) return;
    if (!read.ok) {
      if (!mission)
        body.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Cannot open this mission: ${describeError(read.error)}`));
      return;
    }
    const signature = JSON.stringify(read.value);
    if (signature === shown) return;
    const first = !mission;
    shown = signature;
    mission = read.value;
    if (mission.status !== 'planning') startRefusedFor = undefined;
    watchLive(mission);
    renderHead();
    renderNotice();
    renderTabs();
    if (first) await buildTab(mission);
    else shownTab?.render();
  };
  /**
   * Keeps a link just issued and redraws: the live `mission` event may already have drawn the
   * new member (before the HTTP answer brought its token), so an unchanged mission must redraw too.
   */
  const hold = async (link: { memberId: string; token: string }) => {
    holdToken(missionId, link.memberId, link.token);
    shown = '';
    await refresh();
  };
  const loadPeople = async () => {
    const listed = await ctx.api.people({ sort: 'friction' });
    people = listed.ok ? listed.value.people : undefined;
  };

  function watchLive(m: RosterMission) {
    const token = boardToken(m);
    const connection = !live && token ? openConnection({ token }) : undefined;
    if (!connection) return;
    live = { connection, watch: new MissionWatch(connection, { changed: schedulePresence }) };
    connection.socket.on('mission', () => void refresh());
  }

  // ------------------------------------------------------------ head: status and the run

  function renderHead() {
    if (!mission) return;
    const m = mission;
    const actions: HTMLElement[] = [];
    if (m.status === 'planning') actions.push(busyButton('Start mission', { class: 'primary' }, () => start(false)));
    if (m.status !== 'ended') actions.push(boardAction(m));
    if (m.status === 'active') actions.push(busyButton('End mission', { class: 'secondary danger' }, end));
    if (m.status === 'ended' && tab !== 'report')
      actions.push(button('Report', { class: 'primary' }, () => ctx.navigate(`#/missions/${m.id}/report`)));
    const drivers = m.members.filter((x) => x.role === 'driver' && isCurrent(x));
    const staffed = m.vehicles.filter((v) => drivers.some((d) => d.vehicleId === v.id)).length;
    const readiness =
      m.status === 'planning'
        ? [
            `${staffed} of ${m.vehicles.length} vehicles have a driver`,
            m.plan.version === 0
              ? 'no plan yet'
              : `plan v${m.plan.version} acked by ${drivers.length - unackedDrivers(m).length} of ${drivers.length} drivers`,
          ].join(' · ')
        : m.status === 'active'
          ? `started ${dateTime(m.startedAt)}${m.actingLeadId ? ` · acting lead ${callsignOf(m, m.actingLeadId)}` : ''}`
          : `started ${dateTime(m.startedAt)} · ended ${dateTime(m.endedAt)}`;
    head.replaceChildren(
      h(
        'div',
        { class: 'mission-title' },
        h('h1', {}, m.name),
        h('span', { class: `status status-${m.status}`, 'data-status': m.status }, m.status.toUpperCase()),
        h('span', { class: 'muted readiness' }, readiness),
      ),
      h('div', { class: 'actions' }, ...actions),
    );
  }

  function boardAction(m: RosterMission): HTMLElement {
    const token = boardToken(m);
    if (token)
      return h('a', { class: 'button primary', href: memberLink('ops', token), target: '_blank', rel: 'noopener' }, 'Live board ↗');
    return busyButton('Set up the live board', { class: 'secondary' }, async () => {
      const taken = new Set(m.members.map((x) => x.callsign));
      let callsign = 'BOARD';
      for (let n = 2; taken.has(callsign); n++) callsign = `BOARD-${n}`;
      const added = await ctx.api.addMember(m.id, { callsign, role: 'ops' });
      if (!added.ok) return sayError(ctx, 'No board link', added.error);
      ctx.say(`${callsign} added: “Live board” opens it.`);
      await hold(added.value);
    });
  }

  async function start(force: boolean) {
    if (!mission) return;
    const started = await ctx.api.start(mission.id, force);
    if (!started.ok) {
      if (started.error.code === 'plan_not_acknowledged') {
        startRefusedFor = started.error.missing ?? unackedDrivers(mission).map((d) => d.memberId);
        return renderNotice();
      }
      return sayError(ctx, 'Not started', started.error);
    }
    startRefusedFor = undefined;
    ctx.say(force ? 'Mission started without every acknowledgement: the board flags those drivers.' : 'Mission started.');
    await refresh();
  }

  async function forceStart() {
    if (!mission) return;
    const names = (startRefusedFor ?? []).map((id) => callsignOf(mission as RosterMission, id)).join(', ');
    const sure = await confirmAction(
      'Start without every acknowledgement?',
      `${names} ${startRefusedFor?.length === 1 ? 'has' : 'have'} not acknowledged plan v${mission.plan.version}. The mission starts at once and the board raises PLAN NOT ACKED for each of them until they do.`,
      'Force start',
    );
    if (sure) await start(true);
  }

  async function end() {
    if (!mission) return;
    const sure = await confirmAction('End the mission?', 'Triggers are refused from then on; the report becomes final.', 'End mission');
    if (!sure) return;
    const ended = await ctx.api.end(mission.id);
    if (!ended.ok) return sayError(ctx, 'Not ended', ended.error);
    ctx.say('Mission ended. The report is ready.');
    await refresh();
  }

  function renderNotice() {
    const m = mission;
    // A driver who acks (or is swapped out) while the refusal is shown leaves the list at once.
    const stillMissing =
      m && startRefusedFor?.filter((id) => m.planAcks[id] !== m.plan.version && m.members.some((x) => x.memberId === id && isCurrent(x)));
    if (!m || !stillMissing?.length) {
      if (startRefusedFor?.length) ctx.say('Every driver has acknowledged the plan now: the mission can start.');
      startRefusedFor = undefined;
      return notice.replaceChildren();
    }
    startRefusedFor = stillMissing;
    const missing = stillMissing.map((id) => m.members.find((x) => x.memberId === id));
    notice.replaceChildren(
      h(
        'div',
        { class: 'refusal', role: 'alert', 'aria-label': 'Start refused' },
        h(
          'h2',
          {},
          `Not started: ${missing.length} ${missing.length === 1 ? 'driver has' : 'drivers have'} not acknowledged plan v${m.plan.version}`,
        ),
        h(
          'ul',
          { class: 'missing-acks' },
          ...missing.map((x, i) => h('li', {}, x ? `${x.callsign} — ${vehicleOf(m, x.vehicleId)}` : (startRefusedFor?.[i] ?? ''))),
        ),
        h('p', {}, 'Ask them to read the briefing on their tablet and press ACK BRIEFING, or start anyway.'),
        h(
          'div',
          { class: 'actions' },
          busyButton('Force start…', { class: 'primary danger' }, forceStart),
          button('Wait for them', { class: 'secondary' }, () => {
            startRefusedFor = undefined;
            renderNotice();
          }),
        ),
      ),
    );
  }

  // ------------------------------------------------------------ tabs

  function renderTabs() {
    if (!mission) return;
    const entries: [MissionTab, string][] = [
      ['crew', 'Crew and links'],
      ['plan', `Plan${mission.plan.version ? ` v${mission.plan.version}` : ''}`],
    ];
    if (mission.status === 'ended') entries.push(['report', 'Report']);
    tabs.replaceChildren(
      ...entries.map(([name, label]) =>
        h(
          'a',
          {
            href: `#/missions/${mission?.id}/${name}`,
            class: name === tab ? 'active' : '',
            'aria-current': name === tab ? 'page' : undefined,
          },
          label,
        ),
      ),
    );
  }

  async function buildTab(first: RosterMission) {
    const page: MissionPage = {
      ctx,
      get mission() {
        return mission ?? first;
      },
      get people() {
        return people;
      },
      presence: (memberId) => (live ? live.watch.presence.get(memberId) : 'unwatched'),
      hold,
      refresh,
      rewatch: () => {
        live?.connection.close();
        live = undefined;
      },
    };
    if (tab === 'crew') {
      await loadPeople();
      shownTab = crewTab(page);
    } else if (tab === 'plan') {
      shownTab = planTab(page);
    } else {
      shownTab = await reportTab(page);
    }
    body.replaceChildren(shownTab.element);
    shownTab.render();
  }

  void refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return {
    element,
    dispose: () => {
      clearInterval(timer);
      live?.connection.close();
    },
  };
}
