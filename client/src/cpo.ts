import type { Alert, Observation, Recipient, TriggerIssueInput, TriggerState, TriggerTarget } from '@lockstep/shared';
import { TRIGGER_CATALOGUE, TRIGGER_TYPES, cueLabel, type TriggerType } from '@lockstep/shared/constants';
import './styles/base.css';
import './styles/cpo.css';
import { PlanAcker, PlanOverlay } from './briefing.ts';
import { CommandStatus, commandWentTo, triggerReach } from './command.ts';
import { observationLine, overloadWarning } from './coordination.ts';
import { appRoot, armLater, button, frameScheduler, h, patchChildren } from './dom.ts';
import { armAudioOnFirstGesture, HANDSET_BUZZ, VIBRATION, vibrate } from './feedback.ts';
import { ALARM_STATES, formatGap, routeName, URGENCY, vehicleCallsign, withdrawnText } from './format.ts';
import { newId } from './ids.ts';
import { openConnection, takeToken, type ConnectionState } from './lockstep-client.ts';
import { ObservationPicker, ObservationSender, renderFeed } from './observations.ts';
import { isOutboxEntries, Outbox, type Settled } from './outbox.ts';
import { driftLevel, type MarkResult, mayMarkSchedule, ScheduleMarker, spokenDrift } from './schedule.ts';
import { NextLegPanel } from './schedule-views.ts';
import { moveToOwnScreen } from './screens.ts';
import { browserVoice, SpeechQueue } from './speech.ts';
import { loadJson, saveJson, shelf } from './storage.ts';
import {
  answerWords,
  LINK_WORDS,
  markRefusalNotice,
  markRefusalWords,
  refusalNotice,
  refusalWords,
  spokenCallsign,
  tooLateWords,
} from './wording.ts';
import { MissionWatch, type RecipientChange } from './watch.ts';

/**
 * The CPO's handset: one tap fires a trigger at the chosen target, and each fired cue's life
 * (delivered, answered with its gap, or HESITATION / UNDELIVERED) shows and speaks at once. One
 * more tap marks the schedule's next leg done.
 */

const FIRED_SHOWN = 4;
const OBSERVATIONS_SHOWN = 3;
const NOTICE_MS = 8000;
const RETRY_EVERY_MS = 1000;

// ---------------------------------------------------------------- earpiece bindings

/** Triggers an earpiece or a key can fire: ALT ROUTE needs a route chosen on screen. */
type Bindable = Exclude<TriggerType, 'alt-route'>;
const isBindable = (value: unknown): value is Bindable => value !== 'alt-route' && TRIGGER_TYPES.some((type) => type === value);
const MEDIA_ACTIONS = ['play', 'pause', 'nexttrack', 'previoustrack'] as const;
const MEDIA_NAMES: Readonly<Record<(typeof MEDIA_ACTIONS)[number], string>> = {
  play: 'Earpiece play',
  pause: 'Earpiece pause',
  nexttrack: 'Earpiece next',
  previoustrack: 'Earpiece previous',
};
/** The number keys of a keypad or a Bluetooth remote that may carry a trigger. */
const KEY_SLOTS = ['1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

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
  return structuredClone(DEFAULT_BINDINGS);
}

// ---------------------------------------------------------------- state

type TargetChoice = { convoy: true } | { vehicleId: string };

/** The chosen target survives a reload (localStorage), so the next tap after one still goes where the CPO aimed it. */
const TARGET_KEY = 'lockstep.cpo.target';
const isTargetChoice = (value: unknown): value is TargetChoice =>
  typeof value === 'object' &&
  value !== null &&
  (('convoy' in value && value.convoy === true) || ('vehicleId' in value && typeof value.vehicleId === 'string'));

const root = appRoot();
const token = takeToken();
const conn = openConnection({ token });
const bindings = loadBindings();
const voice = new SpeechQueue(browserVoice());
let connection: ConnectionState = 'connecting';
let target: TargetChoice | undefined = loadJson(localStorage, TARGET_KEY, isTargetChoice);
let choosingRoute = false;
let editingKeys = false;
/** What the server refused or what could not be sent in time, shown for a few seconds; `struck`: an alarm taken back; `caution`: a warning, not a refusal. */
let notices: { text: string; until: number; struck?: string; caution?: boolean }[] = [];

const scheduleRender = frameScheduler(() => render());
const watch = conn
  ? new MissionWatch(conn, {
      changed: scheduleRender,
      recipientChanged: announce,
      alertRaised: alarm,
      observed,
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

/** Marks keep the tap's moment on the server's clock, so one kept through a tunnel records when the leg happened. */
const marker =
  conn &&
  new ScheduleMarker({
    connection: conn,
    shelf: shelf(sessionStorage, 'lockstep.cpo.schedule-marks', isOutboxEntries<'schedule:mark', undefined>),
    mission: () => watch?.mission,
    settled: legSettled,
    retryEveryMs: RETRY_EVERY_MS,
  });

const myVehicle = () => (watch?.self && triggerReach(watch.mission, watch.self) === 'own-vehicle' ? watch.self.vehicleId : undefined);

/**
 * A vehicle CPO targets their own vehicle. A lead, or a vehicle CPO while acting lead, the target
 * they chose (kept across reloads); by default their own vehicle if they have one, else the convoy.
 * A kept choice of a vehicle this mission does not have falls back to the convoy.
 */
function currentTarget(): TargetChoice {
  const fixed = myVehicle();
  if (fixed) return { vehicleId: fixed };
  const vehicles = watch?.mission?.vehicles;
  const chosenId = target && 'vehicleId' in target ? target.vehicleId : undefined;
  if (chosenId !== undefined && vehicles && !vehicles.some((v) => v.id === chosenId)) return { convoy: true };
  const own = watch?.self?.vehicleId;
  return target ?? (own ? { vehicleId: own } : { convoy: true });
}

function chooseTarget(choice: TargetChoice) {
  target = choice;
  saveJson(localStorage, TARGET_KEY, choice);
  render();
}

const targetName = (choice: TargetChoice) => ('convoy' in choice ? 'CONVOY' : vehicleCallsign(watch?.mission, choice.vehicleId));

const wireTarget = (choice: TargetChoice): TriggerTarget => ('convoy' in choice ? { convoy: true } : { vehicleIds: [choice.vehicleId] });

const labelOf = (type: TriggerType) => TRIGGER_CATALOGUE[type].label.replace(' {route}', '');

function notify(text: string) {
  notices = [...notices, { text, until: Date.now() + NOTICE_MS }];
  scheduleRender();
}

/**
 * One tap, one trigger: a fresh id (the server's idempotency key) and the target chosen now.
 * Whatever stops it from being kept for sending is shown, buzzed and spoken: a tap is never lost in silence.
 */
function fire(issue: (id: string, target: TriggerTarget) => TriggerIssueInput) {
  if (!outbox) return;
  choosingRoute = false;
  let type: TriggerType | undefined;
  try {
    const payload = issue(newId(), wireTarget(currentTarget()));
    type = payload.type;
    outbox.send(payload, undefined);
    vibrate(HANDSET_BUZZ.sent);
  } catch (error) {
    const label = type ? labelOf(type) : 'TRIGGER';
    notify(`${label} NOT SENT — ${error instanceof Error ? error.message : 'the handset failed'} — USE VOICE`);
    vibrate(HANDSET_BUZZ.alarm);
    voice.say(`${label.toLowerCase()} not sent, use voice`, 'alarm');
  }
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
    if (result.reply.warnings?.includes('overload') && watch?.mission)
      warn(`${overloadWarning(trigger, watch.triggers.values(), watch.mission)} — cue sent`);
  } else {
    const label = labelOf(result.entry.payload.type);
    const tooLate = result.outcome === 'too-late';
    notify(tooLate ? `${label} NOT SENT IN TIME — USE VOICE` : refusalNotice(label, result.code));
    vibrate(HANDSET_BUZZ.alarm);
    voice.say(tooLate ? tooLateWords(label) : refusalWords(label, result.code), 'alarm');
  }
  scheduleRender();
}

/** One tap, the next leg: buzzed at once, confirmed in the earpiece with its drift once the server has it. */
function markLeg(leg: string) {
  if (!marker || !conn) return;
  marker.mark(leg, conn.serverNow());
  vibrate(HANDSET_BUZZ.sent);
  render();
}

function legSettled(result: MarkResult) {
  if (result.outcome === 'marked') {
    const allowedMs = watch?.mission?.settings.scheduleDriftMs;
    const tooLate = allowedMs !== undefined && driftLevel(result.marked.driftMs, allowedMs) === 'too-late';
    vibrate(tooLate ? HANDSET_BUZZ.alarm : HANDSET_BUZZ.answered);
    voice.say(`${result.leg} done, ${spokenDrift(result.marked.driftMs)}`, tooLate ? 'alarm' : 'info');
  } else if (result.code === 'conflict') {
    // Someone else marked it first: the schedule is right, so a caution, not an alarm.
    warn(markRefusalNotice(result.leg, result.code));
  } else {
    notify(markRefusalNotice(result.leg, result.code));
    vibrate(HANDSET_BUZZ.alarm);
    voice.say(markRefusalWords(result.leg, result.code), 'alarm');
  }
  scheduleRender();
}

/** The cue went, but the driver is getting more than they can act on: said on screen and in the earpiece. */
function warn(text: string) {
  notices = [...notices, { text, until: Date.now() + NOTICE_MS, caution: true }];
  vibrate(VIBRATION.caution);
  voice.say(text.toLowerCase().replace(' / ', ' in '));
}

/** A threat someone else saw is read into the earpiece; the feed shows every observation. */
function observed(observation: Observation) {
  if (observation.severity !== 'threat' || observation.memberId === watch?.self?.memberId) return;
  vibrate(HANDSET_BUZZ.alarm);
  voice.say(observationLine(observation).toLowerCase(), 'alarm');
}

function callsignOf(vehicleId: string | undefined, memberId?: string): string {
  if (vehicleId) return vehicleCallsign(watch?.mission, vehicleId);
  return watch?.mission?.members.find((m) => m.memberId === memberId)?.callsign ?? 'unknown';
}

/** Speaks each answer into the earpiece: "Alpha acknowledged hold, zero point eight". */
function announce({ trigger, recipient }: RecipientChange) {
  if (recipient.state !== 'answered' || recipient.gapMs === undefined) return;
  const unable = recipient.response === 'unable';
  vibrate(unable ? HANDSET_BUZZ.alarm : HANDSET_BUZZ.answered);
  voice.say(
    answerWords({
      callsign: callsignOf(recipient.vehicleId),
      cueLabel: cueLabel(trigger.type, trigger.params, routeName(watch?.mission, trigger.params.routeId)),
      response: unable ? 'unable' : 'ack',
      reason: recipient.reason,
      gapMs: recipient.gapMs,
      hesitation: recipient.hesitation,
      approximate: recipient.gapSource === 'server',
    }),
    unable ? 'alarm' : 'info',
  );
}

const ALERT_WORDS: Readonly<Record<Alert['kind'], string>> = {
  hesitation: 'hesitation',
  undelivered: 'not delivered, use voice',
  expired: 'cue expired',
  offline: 'offline',
  overload: 'overloaded',
  silence: 'threat reported, no trigger',
  'plan-unacked': 'has not acknowledged the plan',
  'schedule-drift': 'behind schedule',
  'command-handover': 'has command',
};

function alarm(alert: Alert) {
  // The handset that marked the leg is about to say how late it was: the same news once.
  if (alert.kind === 'schedule-drift' && alert.leg !== undefined && marker?.pending().has(alert.leg)) return;
  vibrate(HANDSET_BUZZ.alarm);
  voice.say(alarmWords(alert), 'alarm');
}

/** A late leg names the leg and how late, not a member: it has none. */
const alarmWords = (alert: Alert): string =>
  alert.kind === 'schedule-drift'
    ? `${alert.leg ?? 'a leg'} ${alert.valueMs === undefined ? ALERT_WORDS[alert.kind] : spokenDrift(alert.valueMs)}`
    : `${spokenCallsign(callsignOf(alert.vehicleId, alert.memberId))} ${ALERT_WORDS[alert.kind]}`;

/** The answer disproved a hesitation already announced: the CPO hears and sees it taken back. */
function withdrawn(alert: Alert) {
  const who = callsignOf(alert.vehicleId, alert.memberId);
  voice.say(`${spokenCallsign(who)} ${ALERT_WORDS[alert.kind]} withdrawn`);
  notices = [...notices, { struck: `${who} ${ALERT_WORDS[alert.kind]}`, text: ` ${withdrawnText(alert)}`, until: Date.now() + NOTICE_MS }];
  scheduleRender();
}

// ---------------------------------------------------------------- inputs

window.addEventListener('keydown', (event) => {
  if (editingKeys || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
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
  bindMediaKeys();
}

/** Read at each press, so a binding changed on screen takes effect at once. */
function bindMediaKeys() {
  if (!('mediaSession' in navigator)) return;
  for (const action of MEDIA_ACTIONS) {
    const type = bindings.media[action];
    navigator.mediaSession.setActionHandler(action, type ? () => fireType(type) : null);
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
  const was = connection;
  connection = state;
  // A link lost or refused is said aloud: the CPO is not looking at the screen.
  if (state === 'offline' && was === 'online') {
    vibrate(HANDSET_BUZZ.alarm);
    voice.say(LINK_WORDS.lost, 'alarm');
  } else if (state === 'unauthorized') voice.say(LINK_WORDS.refused, 'alarm');
  else if (state === 'online' && was === 'offline') voice.say(LINK_WORDS.back);
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
const keyHints = new Map<TriggerType, HTMLElement>();
const triggerPad = h(
  'div',
  { class: 'pad' },
  ...TRIGGER_TYPES.map((type) => {
    const label = type === 'alt-route' ? 'ALT ROUTE' : TRIGGER_CATALOGUE[type].label;
    const hint = h('span', { class: 'key-hint', 'aria-hidden': 'true' });
    keyHints.set(type, hint);
    // The key hint is aria-hidden, so the button's name is its label alone.
    return button(h('span', {}, label), { class: `fire fire-${URGENCY[type]}`, 'data-type': type }, () => fireType(type));
  }),
);
for (const fire of triggerPad.querySelectorAll<HTMLButtonElement>('.fire')) {
  const hint = keyHints.get(fire.dataset.type as TriggerType);
  if (hint) fire.append(hint);
}
const banner = h('div', { role: 'status' });
const keysButton = button('KEYS', { class: 'keys-open', 'aria-label': 'Keys and earpiece bindings' }, () => {
  editingKeys = true;
  render();
  armLater([...keysPanel.querySelectorAll('button')]);
});
const command = new CommandStatus();
const sender =
  conn &&
  new ObservationSender(conn, {
    screen: 'cpo',
    changed: scheduleRender,
    failed: (text) => {
      notices = [...notices, { text, until: Date.now() + NOTICE_MS }];
      scheduleRender();
    },
  });
const picker = new ObservationPicker({ withText: false, post: (draft) => sender?.post(draft) });
const planAcks = conn && new PlanAcker(conn, { screen: 'cpo', acked: () => undefined, changed: scheduleRender });
const plan = new PlanOverlay({ ack: (version) => planAcks?.ack(version) });
const openPlan = plan.opener();
const tools = h('div', { class: 'tools' }, command.line, picker.opener(), openPlan);
const header = h('div', { class: 'header' }, banner, keysButton, command.notice, tools);
const feed = h('div', { class: 'feed', 'aria-label': 'Observations' });
const live = h('div', { class: 'live', 'aria-live': 'polite' });
/** What the next tap fires at, next to the pad it fires from. */
const aimName = h('b', { class: 'aim-name' });
const aim = h('div', { class: 'aim', 'aria-live': 'polite' }, 'FIRES AT ', aimName);
const targets = h('div', { class: 'targets', role: 'group', 'aria-label': 'Target' });
const thumbRow = h('div', { class: 'thumb-row' }, aim, targets);
/** Where the schedule stands, just above the target row, with MARK <LEG> DONE under the thumb. */
const nextLeg = new NextLegPanel({ mark: markLeg, changed: scheduleRender });
const overlay = h('div', { class: 'overlay' });
const keysPanel = h('div', { class: 'overlay keys-panel', role: 'dialog', 'aria-label': 'Keys and earpiece bindings' });
if (conn) root.replaceChildren(header, live, nextLeg.element, thumbRow, triggerPad, overlay, keysPanel, picker.element, plan.element);
else root.replaceChildren(h('div', { class: 'banner banner-unauthorized' }, 'NO TOKEN — OPEN THE LINK YOU WERE GIVEN'));

function render() {
  const self = watch?.self;
  if (self && self.role !== 'lead' && self.role !== 'cpo' && moveToOwnScreen(self.role, token)) return;
  renderCommand();
  renderHeader();
  renderSchedule();
  renderLive();
  renderOverlay();
  renderKeys();
}

function renderCommand() {
  const mission = watch?.mission;
  const change = command.update(mission, watch?.self?.memberId);
  if (change === 'took') {
    vibrate(HANDSET_BUZZ.alarm);
    voice.say('you have command', 'alarm');
  }
  if (change === 'handed-back' && mission) {
    const text = `${commandWentTo(mission)} — YOUR VEHICLE ONLY`;
    notices = [...notices, { text, until: Date.now() + NOTICE_MS, caution: true }];
    voice.say(text.toLowerCase(), 'alarm');
  }
  plan.update(mission, watch?.self?.memberId, planAcks?.pending(mission?.plan.version ?? 0) ?? false, openPlan);
  renderFeed(feed, watch?.observations ?? [], sender?.unsent ?? [], OBSERVATIONS_SHOWN);
}

function renderHeader() {
  const words: Record<ConnectionState, string> = {
    connecting: 'CONNECTING…',
    online: 'ONLINE',
    offline: 'OFFLINE — TAPS ARE KEPT',
    unauthorized: 'LINK REFUSED — ASK OPS FOR A NEW LINK',
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
  // A mission that is not running refuses every tap: say so before the CPO taps.
  const notRunning = connection === 'online' && mission && mission.status !== 'active';
  banner.className = `banner banner-${notRunning ? 'unauthorized' : connection}`;
  banner.textContent = notRunning
    ? `MISSION ${mission.status === 'ended' ? 'ENDED' : 'NOT STARTED'} — TAPS ARE REFUSED`
    : `${words[connection]}${outbox?.entries.length ? ` · ${outbox.entries.length} UNSENT` : ''}`;
  aimName.textContent = targetName(chosen);
  patchChildren(
    targets,
    choices.map(({ label, choice }) =>
      button(label, { class: 'target', 'aria-pressed': same(chosen, choice) ? 'true' : 'false' }, () => chooseTarget(choice)),
    ),
  );
  for (const [type, hint] of keyHints) {
    const key = keyOf(type);
    hint.textContent = key ?? '';
    const fire = hint.parentElement;
    if (key) fire?.setAttribute('aria-keyshortcuts', key);
    else fire?.removeAttribute('aria-keyshortcuts');
  }
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
      h(
        'div',
        { class: n.struck ? 'notice withdrawn' : n.caution ? 'notice caution' : 'notice', role: 'alert' },
        n.struck ? h('s', {}, n.struck) : null,
        n.text,
      ),
    ),
    feed,
    h('ul', { class: 'fired-list' }, ...unsent, ...fired),
    ...(fired.length + unsent.length === 0 ? [h('div', { class: 'muted empty' }, mission ? mission.name : 'Loading the mission…')] : []),
  );
}

function renderSchedule() {
  nextLeg.update({
    mission: watch?.mission,
    pending: marker?.pending() ?? new Set(),
    mayMark: mayMarkSchedule(watch?.self),
    now: conn?.serverNow() ?? Date.now(),
  });
}
/** A leg's time passing unmarked changes nothing on the wire: look again now and then. */
setInterval(renderSchedule, 5000);

let routesShown = false;

function renderOverlay() {
  overlay.hidden = !choosingRoute;
  const opened = choosingRoute && !routesShown;
  routesShown = choosingRoute;
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
  // The routes appear where the pad was: a second tap on ALT ROUTE must not choose one.
  if (opened) armLater([...overlay.querySelectorAll('button')]);
}

/** Each media action and number key, with the trigger it fires; changed here, kept in localStorage. */
function renderKeys() {
  keysPanel.hidden = !editingKeys;
  if (!editingKeys || keysPanel.childElementCount > 0) return;
  const choice = (label: string, bound: Bindable | undefined, change: (type: Bindable | undefined) => void) => {
    const id = `bind-${label.replace(/\W+/g, '-').toLowerCase()}`;
    const select = h(
      'select',
      { id, class: 'binding' },
      h('option', { value: '' }, '—'),
      ...TRIGGER_TYPES.filter(isBindable).map((type) => h('option', { value: type, selected: type === bound }, labelOf(type))),
    );
    select.addEventListener('change', () => {
      change(isBindable(select.value) ? select.value : undefined);
      saveJson(localStorage, EARPIECE_KEY, bindings);
      bindMediaKeys();
      render();
    });
    return h('div', { class: 'binding-row' }, h('label', { for: id }, label), select);
  };
  keysPanel.replaceChildren(
    h('div', { class: 'overlay-title' }, 'KEYS AND EARPIECE'),
    h(
      'div',
      { class: 'bindings' },
      ...MEDIA_ACTIONS.map((action) =>
        choice(MEDIA_NAMES[action], bindings.media[action], (type) => {
          if (type) bindings.media[action] = type;
          else delete bindings.media[action];
        }),
      ),
      ...KEY_SLOTS.map((key) =>
        choice(`Key ${key}`, bindings.keys[key], (type) => {
          if (type) bindings.keys[key] = type;
          else delete bindings.keys[key];
        }),
      ),
    ),
    button('DONE', { class: 'cancel' }, () => {
      editingKeys = false;
      keysPanel.replaceChildren();
      render();
    }),
  );
}

render();
