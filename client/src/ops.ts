import './styles/base.css';
import './styles/ops.css';
import { appRoot, button, h } from './dom.ts';
import { OpsApi } from './ops-api.ts';
import { forgetTokens } from './ops-links.ts';
import { missionView, type MissionTab } from './ops-mission.ts';
import { createMissionView, missionsView } from './ops-missions.ts';
import { peopleView } from './ops-people.ts';
import { type ConsoleContext, type View, field } from './ops-ui.ts';

/**
 * The operations console: sign in with the admin token, then missions, people, and one mission's
 * crew, plan and run, each a view behind the address's #hash so the browser's back button works.
 */

const ADMIN_KEY = 'lockstep.ops.admin';

/** `/ops?token=` like the other screens: kept in session storage, taken off the address bar and out of the history. */
function takeAdminToken(): string | undefined {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(ADMIN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
    return fromUrl;
  }
  return sessionStorage.getItem(ADMIN_KEY) ?? undefined;
}

const root = appRoot();
root.classList.add('ops');
let current: View | undefined;

function signIn(problem?: string) {
  current?.dispose?.();
  current = undefined;
  const tokenInput = h('input', { type: 'password', name: 'admin-token', autocomplete: 'current-password', required: true });
  const form = h(
    'form',
    { class: 'sign-in', 'aria-label': 'Sign in' },
    h('h1', {}, 'Lockstep operations'),
    h('p', {}, 'Sign in with the admin token the server printed at start (LOCKSTEP_ADMIN_TOKEN).'),
    field('Admin token', tokenInput),
    problem ? h('p', { class: 'error', role: 'alert' }, problem) : null,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void tryToken(tokenInput.value.trim());
  });
  root.replaceChildren(form);
  tokenInput.focus();
}

/** The admin token is checked against the API before the console opens, so a typo is named at once. */
async function tryToken(token: string) {
  if (!token) return signIn('Type the admin token.');
  const api = new OpsApi(token);
  const probe = await api.checkToken();
  if (!probe.ok) {
    sessionStorage.removeItem(ADMIN_KEY);
    return signIn(probe.error.status === 401 ? 'That token was refused. Check it and try again.' : probe.error.message);
  }
  sessionStorage.setItem(ADMIN_KEY, token);
  openConsole(api);
}

function openConsole(api: OpsApi) {
  const message = h('div', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const body = h('div', { class: 'ops-body' });
  const nav = h('nav', { class: 'ops-nav', 'aria-label': 'Console' });
  let messageTimer: ReturnType<typeof setTimeout> | undefined;
  /** The view a message was said for: one said while moving to a view ("created, add the crew") outlives the move. */
  let messageFor = '';
  const ctx: ConsoleContext = {
    api,
    navigate: (hash) => {
      if (location.hash === hash) route();
      else location.hash = hash;
    },
    say: (text, tone = 'done') => {
      messageFor = location.hash;
      message.textContent = text;
      message.className = `message message-${tone}`;
      message.setAttribute('role', tone === 'error' ? 'alert' : 'status');
      clearTimeout(messageTimer);
      // An error stays until the next message; a confirmation clears itself.
      if (tone === 'done') messageTimer = setTimeout(() => (message.textContent = ''), 8000);
    },
  };
  const link = (label: string, hash: string, active: boolean) =>
    h('a', { href: hash, class: active ? 'active' : '', 'aria-current': active ? 'page' : undefined }, label);

  function route() {
    current?.dispose?.();
    const [section = 'missions', id, tab] = location.hash.replace(/^#\/?/, '').split('/');
    nav.replaceChildren(
      h('span', { class: 'brand' }, 'Lockstep ops'),
      link('Missions', '#/missions', section === 'missions'),
      link('People', '#/people', section === 'people'),
      h('span', { class: 'spacer' }),
      button('Sign out', { class: 'secondary' }, () => {
        sessionStorage.removeItem(ADMIN_KEY);
        forgetTokens();
        location.hash = '';
        signIn();
      }),
    );
    if (section === 'people') current = peopleView(ctx);
    else if (section === 'missions' && id === 'new') current = createMissionView(ctx);
    else if (section === 'missions' && id) current = missionView(ctx, decodeURIComponent(id), (tab ?? 'crew') as MissionTab);
    else current = missionsView(ctx);
    body.replaceChildren(current.element);
    if (messageFor !== location.hash) ctx.say('');
    window.scrollTo(0, 0);
  }

  window.onhashchange = route;
  root.replaceChildren(h('header', { class: 'ops-top' }, nav, message), body);
  route();
}

const token = takeAdminToken();
if (token) void tryToken(token);
else signIn();
