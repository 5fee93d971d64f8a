import { ROLE_AUTHORITY, ROLES, type Role } from '@lockstep/shared/constants';
import { button, h } from './dom.ts';
import type { RosterMember } from './ops-api.ts';
import { copyText, heldToken, linkBase, memberLink, qrCode, setLinkBase, unreachableFromTablets } from './ops-links.ts';
import { type MissionPage, type MissionTabView, ackWord, callsignOf, isCurrent, vehicleOf } from './ops-roster.ts';
import { busyButton, confirmAction, dateTime, field, openDialog, sayError } from './ops-ui.ts';

/**
 * The crew tab: add members (from the directory or by callsign), and for each member the link
 * its device opens, as a QR code to scan and a copy button; a new link for a lost tablet; a
 * driver swapped from the standby pool; who is connected.
 */

const CARD_QR_PX = 168;
const LARGE_QR_PX = 520;

export function crewTab(page: MissionPage): MissionTabView {
  const roster = h('div', { class: 'roster' });

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
    const m = page.mission;
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
                { class: 'secondary small', 'aria-label': `${driver ? 'Swap driver' : 'Add driver'}: ${vehicle.callsign}` },
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
          others.length ? null : h('p', { class: 'muted' }, 'No lead yet: add the lead CPO above.'),
        ),
      ),
    );
    renderPresence();
  }

  /** Presence is drawn into the cards in place: it changes every few seconds, and a rebuilt card could swallow a tap. */
  function renderPresence() {
    for (const badge of roster.querySelectorAll<HTMLElement>('[data-presence-of]')) {
      const presence = page.presence(badge.dataset.presenceOf ?? '');
      const state = presence === 'unwatched' ? 'none' : (presence?.state ?? 'none');
      badge.className = `presence presence-${state}`;
      badge.textContent =
        presence === 'unwatched'
          ? ''
          : !presence
            ? 'NOT CONNECTED YET'
            : presence.state === 'online'
              ? `● ONLINE${presence.rttMs === undefined ? '' : ` ${Math.round(presence.rttMs)} ms`}`
              : presence.state.toUpperCase();
    }
  }

  function memberCard(member: RosterMember): HTMLElement {
    const m = page.mission;
    const token = heldToken(m.id, member.memberId);
    const person = member.personId ? page.people?.find((p) => p.personId === member.personId) : undefined;
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
      ackWord(m, member),
      linkBlock,
    );
  }

  function newLinkButton(member: RosterMember, cutsOff: boolean): HTMLButtonElement {
    return busyButton('New link', { class: 'secondary', 'aria-label': `New link for ${member.callsign}` }, async () => {
      if (cutsOff) {
        const sure = await confirmAction(
          `New link for ${member.callsign}?`,
          'The old link stops working at once: a device still using it is disconnected and must scan the new one.',
          'Make a new link',
        );
        if (!sure) return;
      }
      const issued = await page.ctx.api.reissueToken(page.mission.id, member.memberId);
      if (!issued.ok) return sayError(page.ctx, 'No new link', issued.error);
      page.ctx.say(`New link for ${member.callsign}: the old one no longer works.`);
      // The console may have been following the mission through that very link.
      if (member.role === 'ops') page.rewatch();
      await page.hold(issued.value);
    });
  }

  function addMemberForm(): HTMLElement {
    const m = page.mission;
    const role = h('select', { name: 'role' }, ...ROLES.map((r) => h('option', { value: r, selected: r === 'driver' }, r.toUpperCase())));
    const vehicle = h('select', { name: 'vehicle' }, ...m.vehicles.map((v) => h('option', { value: v.id }, v.callsign)));
    const person = h('select', { name: 'person' });
    const callsign = h('input', { name: 'callsign', maxlength: 32, autocomplete: 'off', placeholder: 'e.g. ALPHA-D' });
    const vehicleField = field('Vehicle', vehicle);
    const personField = field('From the directory', person);
    const fillPeople = () => {
      const r = role.value as Role;
      vehicleField.hidden = !ROLE_AUTHORITY[r].needsVehicle;
      personField.hidden = page.people === undefined;
      callsign.placeholder = 'e.g. ALPHA-D';
      const inMission = new Set(page.mission.members.map((x) => x.personId));
      person.replaceChildren(
        h('option', { value: '' }, '— by callsign only —'),
        ...(page.people ?? [])
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
      if (adding) return;
      const r = role.value as Role;
      if (!person.value && !callsign.value.trim()) return page.ctx.say('Type a callsign or choose a person.', 'error');
      adding = true;
      const missionNow = page.mission;
      void page.ctx.api
        .addMember(missionNow.id, {
          role: r,
          ...(callsign.value.trim() ? { callsign: callsign.value.trim() } : {}),
          ...(ROLE_AUTHORITY[r].needsVehicle ? { vehicleId: vehicle.value } : {}),
          ...(person.value ? { personId: person.value } : {}),
        })
        .then(async (added) => {
          if (!added.ok) return sayError(page.ctx, 'Not added', added.error);
          page.ctx.say(
            `${callsign.value.trim() || person.selectedOptions[0]?.textContent || 'Member'} added: scan their QR code with their device.`,
          );
          callsign.value = '';
          await page.hold(added.value);
          fillPeople();
        })
        .finally(() => {
          adding = false;
        });
    });
    return form;
  }

  async function swapDriver(vehicleId: string) {
    const m = page.mission;
    const vehicle = vehicleOf(m, vehicleId);
    const current = m.members.find((x) => x.role === 'driver' && x.vehicleId === vehicleId && isCurrent(x));
    const pool = await page.ctx.api.people({ standby: true, role: 'driver', sort: 'friction' });
    const inMission = new Set(m.members.map((x) => x.personId));
    const choose = async (by: { personId: string } | { callsign: string }) => {
      const swapped = current
        ? await page.ctx.api.swapDriver(m.id, vehicleId, by)
        : await page.ctx.api.addMember(m.id, { role: 'driver', vehicleId, ...by });
      if (!swapped.ok) return sayError(page.ctx, current ? 'Not swapped' : 'Not added', swapped.error);
      dialog.close();
      page.ctx.say(
        current
          ? `${vehicle}: new driver in; ${current.callsign}’s link is revoked. Hand over the new QR code.`
          : `${vehicle}: driver added.`,
      );
      await page.hold(swapped.value);
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

  return {
    element: h('div', { class: 'crew' }, addMemberForm(), linkBaseBar(), roster),
    render: renderRoster,
    renderPresence,
  };
}
