import type { Alert, Recipient, TriggerIssueInput, TriggerState, TriggerTarget } from '@lockstep/shared';
import { TRIGGER_CATALOGUE, TRIGGER_TYPES, cueLabel, type TriggerType } from '@lockstep/shared/constants';
import './styles/base.css';
import './styles/cpo.css';
import { appRoot, button, frameScheduler, h, patchChildren } from './dom.ts';
import { armAudioOnFirstGesture, speak, vibrate, VIBRATION } from './feedback.ts';
import { ALARM_STATES, formatGap, routeName, spokenGap, URGENCY, vehicleCallsign, withdrawnText } from './format.ts';
import { openConnection, type ConnectionState } from './lockstep-client.ts';
import { isOutboxEntries, Outbox, type Settled } from './outbox.ts';
import { loadJson, saveJson, shelf } from './storage.ts';
import { MissionWatch, type RecipientChange } from './watch.ts';

/**
 * The CPO's handset: one tap fires a trigger at the chosen target, and each fired cue's life
 * (delivered, answered with its gap, or HESITATION / UNDELIVERED) shows and speaks at once.
 */

const FIRED_SHOWN = 4;
const NOTICE_MS = 8000;
const RETRY_EVERY_MS = 1000;

// ---------------------------------------------------------------- earpiece bindings

/** Triggers an earpiece or a key can fire: ALT ROUTE needs a route chosen on screen. */
type Bindable = Exclude<TriggerType, 'alt-route'>;
const isBindable = (value: unknown): value is Bindable => value !== 'alt-route' && TRIGGER_TYPES.some((type) => type === value);
const MEDIA_ACTIONS = ['play', 'pause', 'nexttrack', 'previoustrack'] as const;

/** Kept in localStorage under `lockstep.cpo.earpiece`, so each officer binds the few triggers they drill with. */
interface EarpieceBindings {
  media: Partial<Record<(typeof MEDIA_ACTIONS)[number], Bindable>>;
  keys: Record<string, Bindable>;
}

const EARPIECE_KEY = 'lockstep.cpo.earpiece';
const DEFAULT_BINDINGS: EarpieceBindings = {
  media: { play: 'hold', pause: 'hold', nexttrack: 'go', previoustrack: 'box-in' },
  keys: { '1': 'hold', '2': 'go', '3': 'box-in', '4': 'extract', '5': 'abort', '6': 'all-clear' },
};

const bindsTriggers = (value: unknown) => typeof value === 'object' && value !== null && Object.values(value).every(isBindable);
const isBindings = (value: unknown): value is EarpieceBindings =>
  typeof value === 'object' &&
  value !== null &&
  'media' in value &&
  bindsTriggers(value.media) &&
  'keys' in value &&
  bindsTriggers(value.keys);

function loadBindings(): EarpieceBindings {
  const stored = loadJson(localStorage, EARPIECE_KEY, isBindings);
  if (stored) return stored;
  saveJson(localStorage, EARPIECE_KEY, DEFAULT_BINDINGS);
  return DEFAULT_BINDINGS;
}

// ---------------------------------------------------------------- state

type TargetChoice = { convoy: true } | { vehicleId: string };

const root = appRoot();
const conn = openConnection();
const bindings = loadBindings();
let connection: ConnectionState = 'connecting';
let target: TargetChoice | undefined;
let choosingRoute = false;
/** What the server refused or what could not be sent in time, shown for a few seconds; `struck`: an alarm taken back. */
let notices: { text: string; until: number; struck?: string }[] = [];

const scheduleRender = frameScheduler(() => render());
const watch = conn
  ? new MissionWatch(conn, {
      changed: scheduleRender,
      recipientChanged: announce,
      alertRaised: alarm,
      alertWithdrawn: withdrawn,
    })
  : undefined;
const outbox =
  conn &&
  new Outbox<'trigger:issue', undefined>({
    event: 'trigger:issue',
    connection: conn,
    shelf: shelf(sessionStorage, 'lockstep.cpo.outbox', isOutboxEntries<'trigger:issue', undefined>),
    idOf: (issue) => issue.id,
    staleMs: (issue) => {
      const staleMs = watch?.mission?.settings.staleMs;
      return staleMs?.[issue.type] ?? staleMs?.default ?? 30_000;
    },
    settled,
    retryEveryMs: RETRY_EVERY_MS,
  });

const myVehicle = () => (watch?.self?.role === 'cpo' ? watch.self.vehicleId : undefined);

/** A lead (or a handset that does not know its role yet) targets the convoy by default; a vehicle CPO their own vehicle. */
function currentTarget(): TargetChoice {
  const own = myVehicle();
  if (own) return { vehicleId: own };
  return target ?? { convoy: true };
}

const wireTarget = (choice: TargetChoice): TriggerTarget => ('convoy' in choice ? { convoy: true } : { vehicleIds: [choice.vehicleId] });

/** One tap, one trigger: a fresh id (the server's idempotency key) and the target chosen now. */
function fire(issue: (id: string, target: TriggerTarget) => TriggerIssueInput) {
  if (!outbox) return;
  choosingRoute = false;
  outbox.send(issue(crypto.randomUUID(), wireTarget(currentTarget())), undefined);
  vibrate([40]);
  render();
}

function fireType(type: TriggerType) {
  if (type === 'alt-route') {
    choosingRoute = true;
    render();
  } else fire((id, target) => ({ id, target, type }));
}

function settled(result: Settled<'trigger:issue', undefined>) {
  if (result.outcome === 'accepted') {
    const { trigger } = result.reply;
    if (watch && !watch.triggers.has(trigger.id)) watch.triggers.set(trigger.id, trigger);
  } else {
    const label = TRIGGER_CATALOGUE[result.entry.payload.type].label.replace(' {route}', '');
    const text = result.outcome === 'too-late' ? `${label} NOT SENT IN TIME — USE VOICE` : `${label} REFUSED (${result.code ?? 'error'})`;
    notices = [...notices, { text, until: Date.now() + NOTICE_MS }];
    vibrate(VIBRATION.alarm);
    speak(text.toLowerCase());
  }
  scheduleRender();
}

function callsignOf(vehicleId: string | undefined, memberId?: string): string {
  if (vehicleId) return vehicleCallsign(watch?.mission, vehicleId);
  return watch?.mission?.members.find((m) => m.memberId === memberId)?.callsign ?? 'unknown';
}

/** Speaks each answer into the earpiece: "ALPHA acknowledged, zero point eight". */
function announce({ recipient }: RecipientChange) {
  if (recipient.state !== 'answered' || recipient.gapMs === undefined) return;
  const who = callsignOf(recipient.vehicleId);
  const what = recipient.response === 'unable' ? `unable, ${(recipient.reason ?? '').replace('-', ' ')}` : 'acknowledged';
  speak(`${who} ${what}, ${recipient.gapSource === 'server' ? 'about ' : ''}${spokenGap(recipient.gapMs)}`);
}

const ALERT_WORDS: Readonly<Record<Alert['kind'], string>> = {
  hesitation: 'hesitation',
  undelivered: 'not delivered, use voice',
  expired: 'cue expired',
  offline: 'offline',
  overload: 'overloaded',
  silence: 'threat reported, no trigger',
  'plan-unacked': 'has not acknowledged the plan',
};

function alarm(alert: Alert) {
  vibrate(VIBRATION.alarm);
  speak(`${callsignOf(alert.vehicleId, alert.memberId)} ${ALERT_WORDS[alert.kind]}`);
}

/** The answer disproved a hesitation already announced: the CPO hears and sees it taken back. */
function withdrawn(alert: Alert) {
  const who = callsignOf(alert.vehicleId, alert.memberId);
  speak(`${who} ${ALERT_WORDS[alert.kind]} withdrawn`);
  notices = [...notices, { struck: `${who} ${ALERT_WORDS[alert.kind]}`, text: ` ${withdrawnText(alert)}`, until: Date.now() + NOTICE_MS }];
  scheduleRender();
}

// ---------------------------------------------------------------- inputs

window.addEventListener('keydown', (event) => {
  if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
  const type = bindings.keys[event.key];
  if (type) fireType(type);
});

/** Earpiece buttons reach the page as media keys only while it plays media: a silent loop keeps the session. */
function bindEarpiece() {
  if (!('mediaSession' in navigator)) return;
  const silence = new Audio(silentWavUrl());
  silence.loop = true;
  armAudioOnFirstGesture(() => {
    silence.play().catch(() => undefined);
  });
  for (const action of MEDIA_ACTIONS) {
    const type = bindings.media[action];
    if (!type) continue;
    navigator.mediaSession.setActionHandler(action, () => fireType(type));
  }
}

/** Ten seconds of 8 kHz 8-bit silence: long enough for mobile browsers to offer a media session. */
function silentWavUrl(): string {
  const samples = 80_000;
  const view = new DataView(new ArrayBuffer(44 + samples));
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + samples, true);
  ascii(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, 8000, true);
  view.setUint32(28, 8000, true);
  view.setUint16(32, 1, true);
  view.setUint16(34, 8, true);
  ascii(36, 'data');
  view.setUint32(40, samples, true);
  for (let i = 0; i < samples; i += 1) view.setUint8(44 + i, 128);
  return URL.createObjectURL(new Blob([view], { type: 'audio/wav' }));
}

bindEarpiece();
conn?.onState((state) => {
  connection = state;
  scheduleRender();
});
setInterval(() => {
  if (notices.some((n) => n.until <= Date.now())) {
    notices = notices.filter((n) => n.until > Date.now());
    scheduleRender();
  }
}, 1000);

// ---------------------------------------------------------------- screen

const keyOf = (type: TriggerType) => Object.entries(bindings.keys).find(([, bound]) => bound === type)?.[0];

/** The pad's buttons do not change with events, and a target or route button is kept while it reads the same, so a tap never lands on a button being redrawn. */
const triggerPad = h(
  'div',
  { class: 'pad' },
  ...TRIGGER_TYPES.map((type) => {
    const label = type === 'alt-route' ? 'ALT ROUTE' : TRIGGER_CATALOGUE[type].label;
    const key = keyOf(type);
    return button(
      h('span', {}, label),
      { class: `fire fire-${URGENCY[type]}`, 'aria-label': label, 'aria-keyshortcuts': key, 'data-type': type },
      () => fireType(type),
    );
  }),
);
const banner = h('div', { role: 'status' });
const targets = h('div', { class: 'targets', role: 'group', 'aria-label': 'Target' });
const header = h('div', { class: 'header' }, banner, targets);
const live = h('div', { class: 'live', 'aria-live': 'polite' });
const overlay = h('div', { class: 'overlay' });
if (conn) root.replaceChildren(header, live, triggerPad, overlay);
else root.replaceChildren(h('div', { class: 'banner banner-unauthorized' }, 'NO TOKEN — OPEN THE LINK YOU WERE GIVEN'));

function render() {
  renderHeader();
  renderLive();
  renderOverlay();
}

function renderHeader() {
  const words: Record<ConnectionState, string> = {
    connecting: 'CONNECTING…',
    online: 'ONLINE',
    offline: 'OFFLINE — TAPS ARE KEPT',
    unauthorized: 'LINK REFUSED',
  };
  const mission = watch?.mission;
  const chosen = currentTarget();
  const own = myVehicle();
  const choices: { label: string; choice: TargetChoice }[] = own
    ? [{ label: vehicleCallsign(mission, own), choice: { vehicleId: own } }]
    : [
        { label: 'CONVOY', choice: { convoy: true } },
        ...(mission?.vehicles ?? []).map((v) => ({ label: v.callsign, choice: { vehicleId: v.id } })),
      ];
  const same = (a: TargetChoice, b: TargetChoice) => ('convoy' in a ? 'convoy' in b : 'vehicleId' in b && a.vehicleId === b.vehicleId);
  banner.className = `banner banner-${connection}`;
  banner.textContent = `${words[connection]}${outbox?.entries.length ? ` · ${outbox.entries.length} UNSENT` : ''}`;
  patchChildren(
    targets,
    choices.map(({ label, choice }) =>
      button(label, { class: 'target', 'aria-pressed': same(chosen, choice) ? 'true' : 'false' }, () => {
        target = choice;
        render();
      }),
    ),
  );
}

function recipientChip(trigger: TriggerState, r: Recipient): HTMLElement {
  const who = vehicleCallsign(watch?.mission, r.vehicleId);
  const alarmed = ALARM_STATES.has(r.state) || r.hesitation;
  const word = ALARM_STATES.has(r.state) ? r.state.toUpperCase() : r.response === 'unable' ? `unable ${r.reason ?? ''}` : r.state;
  const gap = r.gapMs === undefined ? '' : ` ${formatGap(r.gapMs, r.gapSource)}`;
  return h(
    'span',
    { class: `chip state-${r.state}${alarmed ? ' alarmed' : ''}`, 'data-trigger': trigger.id, 'data-vehicle': r.vehicleId },
    h('b', {}, who),
    ` ${word}${gap}`,
    r.hesitation && r.state === 'answered' ? ' HESITATION' : '',
  );
}

function renderLive() {
  const mission = watch?.mission;
  const unsent = (outbox?.entries ?? []).map((e) =>
    h(
      'li',
      { class: 'fired unsent' },
      h('span', { class: 'fired-label' }, TRIGGER_CATALOGUE[e.payload.type].label.replace(' {route}', '')),
      h('span', { class: 'chip' }, connection !== 'online' ? 'WAITING FOR LINK' : e.attempts > 1 ? 'RETRYING…' : 'SENDING…'),
    ),
  );
  const fired = (watch?.triggersByRecency() ?? [])
    .slice(0, FIRED_SHOWN)
    .map((t) =>
      h(
        'li',
        { class: `fired status-${t.status}`, 'data-trigger': t.id },
        h('span', { class: 'fired-label' }, cueLabel(t.type, t.params, routeName(mission, t.params.routeId))),
        ...t.recipients.map((r) => recipientChip(t, r)),
        t.recipients.length === 0 ? h('span', { class: 'chip alarmed' }, 'NO DRIVER — USE VOICE') : null,
      ),
    );
  live.replaceChildren(
    ...notices.map((n) =>
      h('div', { class: n.struck ? 'notice withdrawn' : 'notice', role: 'alert' }, n.struck ? h('s', {}, n.struck) : null, n.text),
    ),
    h('ul', { class: 'fired-list' }, ...unsent, ...fired),
    ...(fired.length + unsent.length === 0 ? [h('div', { class: 'muted empty' }, mission ? mission.name : 'Loading the mission…')] : []),
  );
}

function renderOverlay() {
  overlay.hidden = !choosingRoute;
  if (!choosingRoute) return;
  const routes = watch?.mission?.plan.routes ?? [];
  patchChildren(overlay, [
    h('div', { class: 'overlay-title' }, 'ALT ROUTE'),
    ...routes.map((route) =>
      button(route.name.toUpperCase(), { class: 'route-choice', 'data-route': route.id }, () =>
        fire((id, target) => ({ id, target, type: 'alt-route', params: { routeId: route.id } })),
      ),
    ),
    ...(routes.length === 0 ? [h('div', { class: 'muted' }, 'No routes briefed in the plan')] : []),
    button('CANCEL', { class: 'cancel' }, () => {
      choosingRoute = false;
      render();
    }),
  ]);
}

render();
