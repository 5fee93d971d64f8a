import { ROLES, type Role } from '@lockstep/shared/constants';
import { button, h } from './dom.ts';
import { formatGap } from './format.ts';
import { type Person, type PersonInput, type PersonWithStats, describeError } from './ops-api.ts';
import { type ConsoleContext, type View, field } from './ops-ui.ts';

/**
 * The people directory (PROTOCOL.md v1.1 §9): who the company can put into missions, their
 * qualifications and the standby pool, ordered by friction so the team sees who hesitates most.
 */

export function peopleView(ctx: ConsoleContext): View {
  const list = h('div', { class: 'people-list' }, h('p', { class: 'muted' }, 'Loading the directory…'));
  const load = async () => {
    const listed = await ctx.api.people({ sort: 'friction' });
    if (!listed.ok) {
      list.replaceChildren(
        h(
          'p',
          { class: 'error' },
          listed.error.status === 404 ? 'This server has no people directory (PROTOCOL.md v1.1).' : describeError(listed.error),
        ),
      );
      return;
    }
    list.replaceChildren(peopleTable(ctx, listed.value.people, load));
  };
  const element = h(
    'section',
    { class: 'view', 'aria-label': 'People' },
    h(
      'div',
      { class: 'view-head' },
      h('h1', {}, 'People'),
      h('span', { class: 'muted' }, 'highest friction first: hesitation rate, then p90 gap'),
    ),
    list,
    personForm(ctx, undefined, load),
  );
  void load();
  return { element };
}

function peopleTable(ctx: ConsoleContext, people: PersonWithStats[], reload: () => Promise<void>): HTMLElement {
  if (people.length === 0) return h('p', { class: 'muted' }, 'Nobody in the directory yet.');
  const body = h('tbody', {});
  for (const p of people) {
    const row = h(
      'tr',
      { 'data-person': p.personId },
      h('td', { class: 'name' }, p.name),
      h('td', {}, p.callsign),
      h('td', {}, p.roles.map((r) => r.toUpperCase()).join(', ')),
      h('td', {}, p.standby ? h('span', { class: 'ack ack-done' }, 'STANDBY') : '—'),
      h('td', { class: 'num' }, p.stats.missions),
      h('td', { class: 'num' }, p.stats.cues),
      h('td', { class: 'num' }, p.stats.hesitations),
      h('td', { class: 'num' }, `${Math.round(p.stats.hesitationRate * 100)}%`),
      h('td', { class: 'num' }, p.stats.gapP90Ms === undefined ? '—' : formatGap(p.stats.gapP90Ms)),
      h(
        'td',
        {},
        button('Edit', { class: 'secondary small', 'aria-label': `Edit ${p.name}` }, () => {
          if (row.nextElementSibling?.classList.contains('editing')) return;
          const editor: HTMLTableRowElement = h(
            'tr',
            { class: 'editing' },
            h(
              'td',
              { colspan: 10 },
              personForm(ctx, p, reload, () => editor.remove()),
            ),
          );
          row.after(editor);
        }),
      ),
    );
    body.append(row);
  }
  return h(
    'table',
    { class: 'grid' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Name', 'Callsign', 'Qualified as', 'Standby', 'Missions', 'Cues', 'Hesitations', 'Rate', 'Gap p90', ''].map((t) =>
          h('th', {}, t),
        ),
      ),
    ),
    body,
  );
}

/** Creates a person, or edits one: name, callsign, qualifications, standby, notes. */
function personForm(ctx: ConsoleContext, person: Person | undefined, saved: () => Promise<void>, cancel?: () => void): HTMLElement {
  const name = h('input', { name: 'person-name', value: person?.name ?? '', maxlength: 80, required: true, autocomplete: 'off' });
  const callsign = h('input', {
    name: 'person-callsign',
    value: person?.callsign ?? '',
    maxlength: 32,
    required: true,
    autocomplete: 'off',
  });
  const notes = h('input', { name: 'person-notes', value: person?.notes ?? '', maxlength: 280, autocomplete: 'off' });
  const standby = h('input', { type: 'checkbox', name: 'standby', checked: person?.standby ?? false });
  const roles = ROLES.map((r) => ({
    role: r,
    box: h('input', { type: 'checkbox', name: `role-${r}`, checked: person ? person.roles.includes(r) : r === 'driver' }),
  }));
  const form = h(
    'form',
    { class: 'person-form', 'aria-label': person ? `Edit ${person.name}` : 'New person' },
    h('h2', {}, person ? `Edit ${person.name}` : 'New person'),
    h('div', { class: 'form-row' }, field('Name', name), field('Callsign', callsign), field('Notes', notes)),
    h(
      'fieldset',
      { class: 'checks' },
      h('legend', {}, 'Qualified as'),
      ...roles.map(({ role, box }) => h('label', { class: 'check' }, box, ` ${role.toUpperCase()}`)),
      h('label', { class: 'check standby' }, standby, ' On standby (ready to replace a driver)'),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, person ? 'Save' : 'Add person'),
      cancel ? button('Cancel', { class: 'secondary' }, cancel) : null,
    ),
  );
  let saving = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (saving) return;
    const chosen: Role[] = roles.filter((r) => r.box.checked).map((r) => r.role);
    if (chosen.length === 0) return ctx.say('Tick at least one qualification.', 'error');
    const input: PersonInput = {
      name: name.value.trim(),
      callsign: callsign.value.trim(),
      roles: chosen,
      standby: standby.checked,
      ...(notes.value.trim() ? { notes: notes.value.trim() } : {}),
    };
    saving = true;
    const request = person ? ctx.api.updatePerson(person.personId, input) : ctx.api.createPerson(input);
    void request
      .then(async (done) => {
        if (!done.ok) return ctx.say(`Not saved: ${describeError(done.error)}`, 'error');
        ctx.say(`${done.value.name} ${person ? 'saved' : 'added to the directory'}.`);
        if (!person) form.reset();
        await saved();
      })
      .finally(() => {
        saving = false;
      });
  });
  return form;
}
