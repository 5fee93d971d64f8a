import { ROLE_AUTHORITY, ROLES, type Role } from '@lockstep/shared/constants';
import { button, frameScheduler, h } from './dom.ts';
import { formatGap } from './format.ts';
import { type MissionReport, type PersonWithStats, type RosterMember, type RosterMission, describeError } from './ops-api.ts';
import { copyText, heldToken, holdToken, linkBase, memberLink, qrCode, setLinkBase, unreachableFromTablets } from './ops-links.ts';
import { type PlanEditor, planEditor } from './ops-plan.ts';
import { type ConsoleContext, type View, busyButton, confirmAction, dateTime, field, openDialog, sayError } from './ops-ui.ts';
import { type Connection, openConnection } from './lockstep-client.ts';
import { MissionWatch } from './watch.ts';

/**
 * One mission: its crew with each device's link, its plan and who acked it, and its run (start,
 * the live board, a driver swap, the end, the report). The mission is read again every few
 * seconds so acks and swaps made elsewhere show up; regions are rebuilt only when it changed,
 * and forms being filled in are never rebuilt.
 */

export type MissionTab = 'crew' | 'plan' | 'report';

/** How often the mission is read again; a live `mission` event reads it at once. */
const REFRESH_MS = 2000;
const CARD_QR_PX = 168;
const LARGE_QR_PX = 520;

const isCurrent = (m: RosterMember) => m.replacedAt === undefined;
const callsignOf = (mission: RosterMission, memberId: string) => mission.members.find((m) => m.memberId === memberId)?.callsign ?? memberId;
const vehicleOf = (mission: RosterMission, vehicleId: string | undefined) =>
  mission.vehicles.find((v) => v.id === vehicleId)?.callsign ?? vehicleId ?? '';

/** Drivers of the vehicles now who have not acked the plan in force; what makes a start refused. */
const unackedDrivers = (mission: RosterMission) =>
  mission.plan.version < 1
    ? []
    : mission.members.filter((m) => m.role === 'driver' && isCurrent(m) && mission.planAcks[m.memberId] !== mission.plan.version);

export function missionView(ctx: ConsoleContext, missionId: string, tab: MissionTab): View {
  let mission: RosterMission | undefined;
  /** The directory, or undefined on a server without it (PROTOCOL.md v1.1). */
  let people: PersonWithStats[] | undefined;
  let shown = '';
  let planForm: PlanEditor | undefined;
  /** The drivers the server named when it refused the start, until the mission starts. */
  let startRefusedFor: string[] | undefined;
  /**
   * The mission's events as its BOARD member sees them, once this tab holds that member's link:
   * who is connected (so the operator sees a tablet come online after scanning) and every change at once.
   */
  let live: { connection: Connection; watch: MissionWatch } | undefined;
  const schedulePresence = frameScheduler(() => renderPresence());

  const head = h('div', { class: 'mission-head' });
  const notice = h('div', { class: 'start-notice' });
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Mission' });
  const body = h('div', { class: 'tab-body' }, h('p', { class: 'muted' }, 'Loading the mission…'));
  const roster = h('div', { class: 'roster' });
  const acks = h('section', { class: 'acks', 'aria-label': 'Plan acknowledgements' });
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
    if (first) await buildTab();
    else renderTabRegions();
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
    if (live) return;
    const board = m.members.find((x) => x.role === 'ops' && isCurrent(x) && heldToken(m.id, x.memberId));
    const connection = board && openConnection({ token: heldToken(m.id, board.memberId) ?? '' });
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
          ? `started ${dateTime(m.startedAt)}`
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
    const board = m.members.find((x) => x.role === 'ops' && isCurrent(x) && heldToken(m.id, x.memberId));
    const token = board && heldToken(m.id, board.memberId);
    if (board && token)
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
    if (!mission || !startRefusedFor?.length) return notice.replaceChildren();
    const m = mission;
    const missing = startRefusedFor.map((id) => m.members.find((x) => x.memberId === id));
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
        h('p', {}, 'Ask them to press ACK PLAN on their tablet, or start anyway.'),
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

  async function buildTab() {
    if (!mission) return;
    if (tab === 'crew') {
      await loadPeople();
      body.replaceChildren(addMemberForm(mission), linkBaseBar(), roster);
    } else if (tab === 'plan') {
      body.replaceChildren(planTab(mission));
    } else {
      body.replaceChildren(await reportTab(mission));
    }
    renderTabRegions();
  }

  function renderTabRegions() {
    if (tab === 'crew') renderRoster();
    if (tab === 'plan') renderAcks();
  }

  // ------------------------------------------------------------ crew and links

  function linkBaseBar(): HTMLElement {
    const base = h('input', { name: 'link-base', value: linkBase(), autocomplete: 'off', class: 'wide' });
    const warning = h(
      'p',
      { class: 'warning', hidden: !unreachableFromTablets(linkBase()) },
      'Tablets cannot reach “localhost”: put the address they use (e.g. http://192.168.1.20:8080) here before scanning.',
    );
    const form = h(
      'form',
      { class: 'inline-form link-base', 'aria-label': 'Where the links point' },
      field('Links point to', base),
      h('button', { type: 'submit', class: 'secondary' }, 'Use this address'),
      warning,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      setLinkBase(base.value);
      base.value = linkBase();
      warning.hidden = !unreachableFromTablets(linkBase());
      renderRoster();
    });
    return form;
  }

  function renderRoster() {
    if (!mission) return;
    const m = mission;
    const byVehicle = m.vehicles.map((vehicle, i) => {
      const crew = m.members.filter((x) => x.vehicleId === vehicle.id);
      const driver = crew.find((x) => x.role === 'driver' && isCurrent(x));
      return h(
        'section',
        { class: 'vehicle-crew', 'aria-label': `Vehicle ${vehicle.callsign}` },
        h(
          'h2',
          {},
          h('span', { class: 'order' }, i + 1),
          ` ${vehicle.callsign}`,
          m.status === 'ended'
            ? null
            : busyButton(
                driver ? 'Swap driver' : 'Add driver',
                { class: 'secondary small', 'aria-label': `${driver ? 'Swap' : 'Add'} the driver of ${vehicle.callsign}` },
                () => swapDriver(vehicle.id),
              ),
        ),
        driver ? null : h('p', { class: 'warning' }, 'No driver: cues to this vehicle reach nobody.'),
        ...crew
          .sort((a, b) => Number(a.role !== 'driver') - Number(b.role !== 'driver') || Number(!isCurrent(a)) - Number(!isCurrent(b)))
          .map(memberCard),
      );
    });
    const others = m.members.filter((x) => !x.vehicleId);
    roster.replaceChildren(
      h('div', { class: 'vehicles-crew' }, ...byVehicle),
      h(
        'section',
        { class: 'others', 'aria-label': 'Command and support' },
        h('h2', {}, 'Command and support'),
        h(
          'div',
          { class: 'cards' },
          ...others.map(memberCard),
          others.length ? null : h('p', { class: 'muted' }, 'No lead yet: add the lead CPO below.'),
        ),
      ),
    );
    renderPresence();
  }

  /** Presence is drawn into the cards in place: it changes every few seconds, and a rebuilt card could swallow a tap. */
  function renderPresence() {
    for (const badge of roster.querySelectorAll<HTMLElement>('[data-presence-of]')) {
      const presence = live?.watch.presence.get(badge.dataset.presenceOf ?? '');
      badge.className = `presence presence-${presence?.state ?? 'none'}`;
      badge.textContent = !live
        ? ''
        : !presence
          ? 'NOT CONNECTED YET'
          : presence.state === 'online'
            ? `● ONLINE${presence.rttMs === undefined ? '' : ` ${Math.round(presence.rttMs)} ms`}`
            : presence.state.toUpperCase();
    }
  }

  function ackWord(member: RosterMember): HTMLElement | null {
    if (!mission || mission.plan.version === 0 || !isCurrent(member)) return null;
    const acked = mission.planAcks[member.memberId];
    if (acked === mission.plan.version) return h('span', { class: 'ack ack-done' }, `Plan v${acked} acked`);
    return h(
      'span',
      { class: 'ack ack-missing' },
      acked ? `Acked v${acked}, not v${mission.plan.version}` : `Plan v${mission.plan.version} not acked`,
    );
  }

  function memberCard(member: RosterMember): HTMLElement {
    const m = mission as RosterMission;
    const token = heldToken(m.id, member.memberId);
    const person = member.personId ? people?.find((p) => p.personId === member.personId) : undefined;
    const link = token ? memberLink(member.role, token) : undefined;
    const label = `${member.callsign} ${member.role}`;
    let linkBlock: HTMLElement;
    if (!isCurrent(member)) {
      linkBlock = h(
        'p',
        { class: 'muted' },
        `Replaced ${dateTime(member.replacedAt)}${member.replacedBy ? ` by ${callsignOf(m, member.replacedBy)}` : ''}; link revoked.`,
      );
    } else if (link) {
      const copy = busyButton('Copy link', { class: 'secondary' }, async () => {
        copy.textContent = (await copyText(link)) ? 'Copied ✓' : 'Copy failed';
      });
      linkBlock = h(
        'div',
        { class: 'link-block' },
        button(
          qrCode(link, `QR code of the link of ${member.callsign}`, CARD_QR_PX),
          { class: 'qr-button', 'aria-label': `Show the QR code of ${member.callsign} large` },
          () =>
            openDialog(
              `${member.callsign} — scan with the ${member.role === 'driver' ? 'tablet' : 'device'}`,
              h('div', { class: 'qr-large' }, qrCode(link, `Large QR code of the link of ${member.callsign}`, LARGE_QR_PX)),
            ),
        ),
        h('div', { class: 'link-actions' }, copy, m.status === 'ended' ? null : newLinkButton(member, true)),
      );
    } else {
      linkBlock = h(
        'div',
        { class: 'link-block' },
        h('p', { class: 'muted' }, 'This tab does not hold this link (it is shown once, where it was made).'),
        m.status === 'ended' ? null : newLinkButton(member, false),
      );
    }
    return h(
      'article',
      { class: `member role-${member.role}${isCurrent(member) ? '' : ' replaced'}`, 'aria-label': label, 'data-member': member.memberId },
      h(
        'div',
        { class: 'member-head' },
        h('b', { class: 'callsign' }, member.callsign),
        h('span', { class: 'role' }, member.role.toUpperCase()),
        person ? h('span', { class: 'muted' }, person.name) : null,
        isCurrent(member) ? h('span', { class: 'presence', 'data-presence-of': member.memberId }) : null,
      ),
      ackWord(member),
      linkBlock,
    );
  }

  function newLinkButton(member: RosterMember, cutsOff: boolean): HTMLButtonElement {
    return busyButton('New link', { class: 'secondary', 'aria-label': `New link for ${member.callsign}` }, async () => {
      if (!mission) return;
      if (cutsOff) {
        const sure = await confirmAction(
          `New link for ${member.callsign}?`,
          'The old link stops working at once: a device still using it is disconnected and must scan the new one.',
          'Make a new link',
        );
        if (!sure) return;
      }
      const issued = await ctx.api.reissueToken(mission.id, member.memberId);
      if (!issued.ok) return sayError(ctx, 'No new link', issued.error);
      ctx.say(`New link for ${member.callsign}: the old one no longer works.`);
      if (member.role === 'ops') {
        // The console may have been watching through that very link: watch again through the new one.
        live?.connection.close();
        live = undefined;
      }
      await hold(issued.value);
    });
  }

  function addMemberForm(m: RosterMission): HTMLElement {
    const role = h('select', { name: 'role' }, ...ROLES.map((r) => h('option', { value: r, selected: r === 'driver' }, r.toUpperCase())));
    const vehicle = h('select', { name: 'vehicle' }, ...m.vehicles.map((v) => h('option', { value: v.id }, v.callsign)));
    const person = h('select', { name: 'person' });
    const callsign = h('input', { name: 'callsign', maxlength: 32, autocomplete: 'off', placeholder: 'e.g. ALPHA-D' });
    const vehicleField = field('Vehicle', vehicle);
    const personField = field('From the directory', person);
    const fillPeople = () => {
      const r = role.value as Role;
      vehicleField.hidden = !ROLE_AUTHORITY[r].needsVehicle;
      personField.hidden = people === undefined;
      callsign.placeholder = 'e.g. ALPHA-D';
      const inMission = new Set(mission?.members.map((x) => x.personId));
      person.replaceChildren(
        h('option', { value: '' }, '— by callsign only —'),
        ...(people ?? [])
          .filter((p) => p.roles.includes(r) && !inMission.has(p.personId))
          .map((p) =>
            h('option', { value: p.personId, 'data-callsign': p.callsign }, `${p.name} (${p.callsign})${p.standby ? ' · standby' : ''}`),
          ),
      );
    };
    person.addEventListener('change', () => {
      callsign.placeholder = person.value ? `${person.selectedOptions[0]?.dataset.callsign ?? ''} (theirs)` : 'e.g. ALPHA-D';
    });
    role.addEventListener('change', fillPeople);
    fillPeople();
    const form = h(
      'form',
      { class: 'add-member', 'aria-label': 'Add a member' },
      h('h2', {}, 'Add a member'),
      h(
        'div',
        { class: 'form-row' },
        field('Role', role),
        vehicleField,
        personField,
        field('Callsign', callsign),
        h('button', { type: 'submit', class: 'primary' }, 'Add member'),
      ),
    );
    let adding = false;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (adding || !mission) return;
      const r = role.value as Role;
      if (!person.value && !callsign.value.trim()) return ctx.say('Type a callsign or choose a person.', 'error');
      adding = true;
      const missionNow = mission;
      void ctx.api
        .addMember(missionNow.id, {
          role: r,
          ...(callsign.value.trim() ? { callsign: callsign.value.trim() } : {}),
          ...(ROLE_AUTHORITY[r].needsVehicle ? { vehicleId: vehicle.value } : {}),
          ...(person.value ? { personId: person.value } : {}),
        })
        .then(async (added) => {
          if (!added.ok) return sayError(ctx, 'Not added', added.error);
          ctx.say(
            `${callsign.value.trim() || person.selectedOptions[0]?.textContent || 'Member'} added: scan their QR code with their device.`,
          );
          callsign.value = '';
          await hold(added.value);
          fillPeople();
        })
        .finally(() => {
          adding = false;
        });
    });
    return form;
  }

  async function swapDriver(vehicleId: string) {
    if (!mission) return;
    const m = mission;
    const vehicle = vehicleOf(m, vehicleId);
    const current = m.members.find((x) => x.role === 'driver' && x.vehicleId === vehicleId && isCurrent(x));
    const pool = await ctx.api.people({ standby: true, role: 'driver', sort: 'friction' });
    const inMission = new Set(m.members.map((x) => x.personId));
    const choose = async (by: { personId: string } | { callsign: string }) => {
      const swapped = current
        ? await ctx.api.swapDriver(m.id, vehicleId, by)
        : await ctx.api.addMember(m.id, { role: 'driver', vehicleId, ...by });
      if (!swapped.ok) return sayError(ctx, current ? 'Not swapped' : 'Not added', swapped.error);
      dialog.close();
      ctx.say(
        current
          ? `${vehicle}: new driver in; ${current.callsign}’s link is revoked. Hand over the new QR code.`
          : `${vehicle}: driver added.`,
      );
      await hold(swapped.value);
    };
    const callsign = h('input', { name: 'swap-callsign', maxlength: 32, autocomplete: 'off' });
    const byCallsign = h(
      'form',
      { class: 'inline-form', 'aria-label': 'By callsign' },
      field('Callsign', callsign),
      h('button', { type: 'submit', class: 'primary' }, current ? 'Swap in' : 'Add'),
    );
    byCallsign.addEventListener('submit', (event) => {
      event.preventDefault();
      if (callsign.value.trim()) void choose({ callsign: callsign.value.trim() });
    });
    const standby = pool.ok ? pool.value.people.filter((p) => !inMission.has(p.personId)) : [];
    const dialog = openDialog(
      current ? `Swap the driver of ${vehicle} (now ${current.callsign})` : `A driver for ${vehicle}`,
      h('h3', {}, 'From the standby pool'),
      pool.ok
        ? standby.length
          ? h(
              'div',
              { class: 'pool' },
              ...standby.map((p) =>
                busyButton(
                  `${p.name} (${p.callsign}) · ${Math.round(p.stats.hesitationRate * 100)}% hesitations`,
                  { class: 'secondary pool-choice' },
                  () => choose({ personId: p.personId }),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'Nobody on standby is free.')
        : h('p', { class: 'muted' }, 'No people directory on this server.'),
      h('h3', {}, 'Or by callsign'),
      byCallsign,
    );
    callsign.focus();
  }

  // ------------------------------------------------------------ plan

  function planTab(m: RosterMission): HTMLElement {
    planForm = planEditor(m.plan, m.members);
    const host = h('div', { class: 'plan-host' }, planForm.element);
    const save = busyButton(m.plan.version ? `Save as v${m.plan.version + 1}` : 'Save as v1', { class: 'primary' }, async () => {
      if (!mission || !planForm) return;
      const read = planForm.read();
      if (!read.ok) return ctx.say(read.problem, 'error');
      const saved = await ctx.api.putPlan(mission.id, read.plan);
      if (!saved.ok) return sayError(ctx, 'Plan not saved', saved.error);
      ctx.say(`Plan saved as version ${saved.value.version}: every member acknowledges it on their screen.`);
      await refresh();
      // Rebuilt from the version in force, so new rows keep the ids they were given.
      if (mission) {
        planForm = planEditor(mission.plan, mission.members);
        host.replaceChildren(planForm.element);
        save.textContent = `Save as v${mission.plan.version + 1}`;
      }
    });
    return h(
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
  }

  function renderAcks() {
    if (!mission) return;
    const m = mission;
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
                ackWord(x),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'Save the plan: each member’s screen shows it until they acknowledge it.'),
    );
  }

  // ------------------------------------------------------------ report

  async function reportTab(m: RosterMission): Promise<HTMLElement> {
    if (m.status !== 'ended') return h('p', { class: 'muted' }, 'The report is ready once the mission has ended.');
    const report = await ctx.api.report(m.id);
    const downloads = h(
      'div',
      { class: 'actions' },
      busyButton('Printable report', { class: 'primary' }, () => openDownload(`/api/missions/${m.id}/report?format=html`, undefined)),
      busyButton('Per-driver table (CSV)', { class: 'secondary' }, () =>
        openDownload(`/api/missions/${m.id}/report?format=csv`, `report-${m.id}.csv`),
      ),
      busyButton('Mission log (CSV)', { class: 'secondary' }, () =>
        openDownload(`/api/missions/${m.id}/log?format=csv`, `log-${m.id}.csv`),
      ),
    );
    if (!report.ok)
      return h('div', { class: 'report' }, h('p', { class: 'error' }, `No report: ${describeError(report.error)}`), downloads);
    return h('div', { class: 'report' }, downloads, reportBody(m, report.value));
  }

  async function openDownload(path: string, filename: string | undefined) {
    const got = await ctx.api.download(path);
    if (!got.ok) return sayError(ctx, 'Not available', got.error);
    const url = URL.createObjectURL(got.value);
    const anchor = h('a', { href: url, target: '_blank', rel: 'noopener', ...(filename ? { download: filename } : {}) });
    anchor.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
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

const seconds = (ms: number | undefined) => (ms === undefined ? '—' : formatGap(ms));

function reportBody(m: RosterMission, report: MissionReport): HTMLElement {
  const figure = (label: string, value: string | number) => h('div', { class: 'figure' }, h('b', {}, value), h('span', {}, label));
  return h(
    'div',
    {},
    h(
      'div',
      { class: 'figures' },
      figure('triggers', report.triggers.total),
      figure(
        'hesitations',
        report.drivers.reduce((n, d) => n + d.hesitations, 0),
      ),
      figure('seconds lost to hesitation', (report.drivers.reduce((n, d) => n + d.lostMs, 0) / 1000).toFixed(1)),
      figure('alerts', report.alerts.total),
      figure('alerts still open', report.alerts.open),
    ),
    h('h2', {}, 'Drivers'),
    h(
      'table',
      { class: 'grid' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Driver', 'Vehicle', 'Cues', 'Answered', 'Hesitations', 'Undelivered', 'Expired', 'Lost', 'Median', 'p90', 'Max'].map((t) =>
            h('th', {}, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...report.drivers.map((d) =>
          h(
            'tr',
            {},
            h('td', { class: 'name' }, d.callsign, d.replacedAt ? h('span', { class: 'muted' }, ' (replaced)') : null),
            h('td', {}, vehicleOf(m, d.vehicleId)),
            ...[d.cues, d.answered, d.hesitations, d.undelivered, d.expired].map((n) => h('td', { class: 'num' }, n)),
            ...[d.lostMs, d.gapMs?.median, d.gapMs?.p90, d.gapMs?.max].map((ms) => h('td', { class: 'num' }, seconds(ms))),
          ),
        ),
      ),
    ),
    report.schedule.length
      ? h(
          'div',
          {},
          h('h2', {}, 'Schedule'),
          h(
            'table',
            { class: 'grid' },
            h('thead', {}, h('tr', {}, ...['Leg', 'Planned', 'Actual', 'Drift', 'Hesitations', 'Lost'].map((t) => h('th', {}, t)))),
            h(
              'tbody',
              {},
              ...report.schedule.map((s) =>
                h(
                  'tr',
                  {},
                  h('td', { class: 'name' }, s.leg),
                  h('td', {}, dateTime(s.plannedAt)),
                  h('td', {}, dateTime(s.actualAt)),
                  h('td', { class: 'num' }, seconds(s.driftMs)),
                  h('td', { class: 'num' }, s.hesitations),
                  h('td', { class: 'num' }, seconds(s.lostMs)),
                ),
              ),
            ),
          ),
        )
      : null,
    h('h2', {}, 'Timeline'),
    h(
      'ol',
      { class: 'timeline' },
      ...report.timeline.map((t) =>
        h('li', {}, h('span', { class: 'muted' }, new Date(t.at).toLocaleTimeString('en-GB', { hour12: false })), ` ${t.text}`),
      ),
    ),
  );
}
