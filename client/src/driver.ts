import type { Mission, TriggerCue, UnableReason } from '@lockstep/shared';
import './styles/base.css';
import './styles/driver.css';
import { appRoot, button, frameScheduler, h } from './dom.ts';
import { armAudioOnFirstGesture, audioArmed, keepAwake, tone, vibrate, VIBRATION } from './feedback.ts';
import { clockTime, routeName, URGENCY, URGENCY_RANK, vehicleCallsign } from './format.ts';
import { RETRYABLE_CODES, deviceNow, openConnection, type ConnectionState, type PayloadOf } from './lockstep-client.ts';
import { loadJson, saveJson } from './storage.ts';

/**
 * The driver's tablet. A cue takes the whole screen the moment it arrives and its receipt
 * leaves after the frame that draws it; the driver answers with one tap; nothing else takes input.
 */

type Answer = PayloadOf<'trigger:respond'>;

interface HeldCue {
  cue: TriggerCue;
  /** Resolves with the device time of the frame that first drew the cue. */
  shown: Promise<number>;
  shownAt?: number;
  /** Device time it reached this page, to tell it apart from what a snapshot may not know yet. */
  arrivedAt: number;
}

/** A cue that expired before it was answered: listed as MISSED, never shown as an order. */
interface MissedCue {
  id: string;
  label: string;
  issuedAt: number;
}

/** An answer on its way, with what the screen needs if the server refuses it as too late. */
interface SentAnswer {
  payload: Answer;
  label: string;
  issuedAt: number;
}

/** What survives a reload of the tab: the handshake's lastSeq, the open cues, answers not yet acknowledged. */
interface DriverMemory {
  lastSeq: number;
  open: { cue: TriggerCue; shownAt: number }[];
  answers: SentAnswer[];
  /** Ids answered or missed, so that a replay of one is dropped. */
  closed: string[];
  missed: MissedCue[];
  routeId?: string;
  /** The plan version this tablet acked: the protocol tells a device who it is nowhere, so it keeps its own. */
  planAcked?: number;
}

const MEMORY_KEY = 'lockstep.driver';
const CLOSED_KEPT = 100;
const MISSED_SHOWN = 3;
/** When one cue replaces another on screen, its buttons wait this long, so a tap aimed at the old cue cannot answer the new one. */
const RETARGET_GUARD_MS = 400;

const REASON_LABELS: Readonly<Record<UnableReason, string>> = {
  blocked: 'BLOCKED',
  mechanical: 'MECHANICAL',
  unsafe: 'UNSAFE',
  'say-again': 'SAY AGAIN',
};

const isMemory = (value: unknown): value is DriverMemory =>
  typeof value === 'object' &&
  value !== null &&
  'lastSeq' in value &&
  typeof value.lastSeq === 'number' &&
  ['open', 'answers', 'closed', 'missed'].every((key) => Array.isArray((value as Record<string, unknown>)[key]));

const memory: DriverMemory = loadJson(sessionStorage, MEMORY_KEY, isMemory) ?? {
  lastSeq: 0,
  open: [],
  answers: [],
  closed: [],
  missed: [],
};
const held = new Map<string, HeldCue>();
for (const { cue, shownAt } of memory.open) held.set(cue.id, { cue, shown: Promise.resolve(shownAt), shownAt, arrivedAt: 0 });

let mission: Mission | undefined;
let vehicleId: string | undefined;
let connection: ConnectionState = 'connecting';
let reasonsOpen = false;
let onScreenId: string | undefined;
/** Device time until which the answer buttons stay disabled. */
let guardedUntil = 0;

const root = appRoot();
const scheduleRender = frameScheduler(() => render());
const conn = openConnection({ lastSeq: () => (memory.lastSeq > 0 ? memory.lastSeq : undefined) });

function remember() {
  memory.open = [...held.values()].flatMap((c) => (c.shownAt === undefined ? [] : [{ cue: c.cue, shownAt: c.shownAt }]));
  saveJson(sessionStorage, MEMORY_KEY, memory);
}

/** The cue that holds the screen: the most urgent, then the newest. */
function cueOnScreen(): HeldCue | undefined {
  let best: HeldCue | undefined;
  for (const c of held.values()) {
    const rank = best ? URGENCY_RANK[URGENCY[c.cue.type]] - URGENCY_RANK[URGENCY[best.cue.type]] : 1;
    if (!best || rank > 0 || (rank === 0 && c.cue.seq > best.cue.seq)) best = c;
  }
  return best;
}

/** The device time of the next frame: the one that carries the DOM just changed, so the cue is on screen. */
const nextFrame = () => new Promise<number>((resolve) => requestAnimationFrame(() => resolve(deviceNow())));

/** Takes a cue in, at most once per id; answers with the promise of the frame that shows it, for the receipt. */
function receive(cue: TriggerCue): Promise<number> | undefined {
  memory.lastSeq = Math.max(memory.lastSeq, cue.seq);
  vehicleId ??= cue.vehicleId;
  const known = held.get(cue.id);
  if (known) return known.shown;
  if (memory.closed.includes(cue.id)) {
    remember();
    return undefined;
  }
  if (cue.expired) {
    close(cue.id);
    addMissed({ id: cue.id, label: cue.label, issuedAt: cue.issuedAt });
    render();
    return nextFrame();
  }
  const entry: HeldCue = { cue, shown: nextFrame(), arrivedAt: deviceNow() };
  held.set(cue.id, entry);
  void entry.shown.then((shownAt) => {
    entry.shownAt = shownAt;
    remember();
  });
  render();
  const urgency = URGENCY[cue.type];
  tone(urgency);
  vibrate(VIBRATION[urgency]);
  return entry.shown;
}

function close(id: string) {
  held.delete(id);
  memory.closed = [...memory.closed, id].slice(-CLOSED_KEPT);
}

function addMissed(missed: MissedCue) {
  memory.missed = [...memory.missed, missed].slice(-MISSED_SHOWN);
  remember();
}

function markMissed(id: string) {
  const entry = held.get(id);
  if (!entry) return;
  close(id);
  addMissed({ id, label: entry.cue.label, issuedAt: entry.cue.issuedAt });
  render();
}

function answer(entry: HeldCue, response: Answer['response'], reason?: UnableReason) {
  const { cue } = entry;
  const payload: Answer = {
    triggerId: cue.id,
    response,
    ...(reason ? { reason } : {}),
    ...(entry.shownAt === undefined ? {} : { shownAt: entry.shownAt }),
    respondedAt: deviceNow(),
  };
  if (response === 'ack' && cue.type === 'alt-route' && cue.params.routeId) memory.routeId = cue.params.routeId;
  close(cue.id);
  memory.answers.push({ payload, label: cue.label, issuedAt: cue.issuedAt });
  remember();
  render();
  sendAnswers();
}

const answersInFlight = new Set<string>();

/** Sends every answer the server has not acknowledged; a transport failure or a "not now" keeps it for the next try. */
function sendAnswers() {
  if (!conn) return;
  for (const sent of memory.answers) {
    if (answersInFlight.has(sent.payload.triggerId)) continue;
    answersInFlight.add(sent.payload.triggerId);
    conn
      .request('trigger:respond', sent.payload)
      .then((reply) => {
        if (!reply.ok && RETRYABLE_CODES.has(reply.error.code)) return;
        memory.answers = memory.answers.filter((a) => a.payload.triggerId !== sent.payload.triggerId);
        // The cue expired before the answer arrived: the driver must see that it did not count.
        if (!reply.ok && reply.error.code === 'expired')
          addMissed({ id: sent.payload.triggerId, label: sent.label, issuedAt: sent.issuedAt });
        remember();
        scheduleRender();
      })
      .catch(() => undefined)
      .finally(() => answersInFlight.delete(sent.payload.triggerId));
  }
}

// ---------------------------------------------------------------- wiring

if (conn) {
  conn.socket.on('trigger', (cue, receipt) => {
    const shown = receive(cue);
    if (shown) void shown.then((shownAt) => receipt({ shownAt }));
    else receipt({});
  });
  conn.socket.on('trigger:expired', ({ id }) => markMissed(id));
  conn.socket.on('mission', (next) => {
    mission = next;
    scheduleRender();
  });
  conn.onState((state) => {
    connection = state;
    if (state === 'online') sendAnswers();
    scheduleRender();
  });
  conn.onSnapshot((snapshot, { self, requestedAt }) => {
    mission = snapshot.mission;
    if (self?.vehicleId) vehicleId = self.vehicleId;
    const open = new Set<string>();
    for (const item of snapshot.triggers) {
      if (!('seq' in item)) continue;
      open.add(item.id);
      receive(item);
    }
    // A cue held from before the snapshot but no longer open on the server expired while this page was away.
    for (const entry of held.values()) if (entry.arrivedAt < requestedAt && !open.has(entry.cue.id)) markMissed(entry.cue.id);
    scheduleRender();
  });
}
armAudioOnFirstGesture(() => scheduleRender());
keepAwake();
setInterval(() => {
  const clock = root.querySelector('[data-clock]');
  if (clock) clock.textContent = clockTime(Date.now());
}, 1000);

// ---------------------------------------------------------------- screen

/** What the cue screen on display shows; while it is unchanged the screen is left alone. */
let cueScreenShown: string | undefined;

function render() {
  const onScreen = cueOnScreen();
  if (onScreen?.cue.id !== onScreenId) {
    if (onScreen && onScreenId !== undefined) {
      guardedUntil = deviceNow() + RETARGET_GUARD_MS;
      setTimeout(render, RETARGET_GUARD_MS);
    }
    onScreenId = onScreen?.cue.id;
    reasonsOpen = false;
  }
  // Rebuilding the buttons between a finger's down and up would lose the tap (down and up land on
  // different elements): while the cue screen shows the same thing, only the banner is redrawn.
  const shows = onScreen && [onScreen.cue.id, deviceNow() < guardedUntil, reasonsOpen, ...held.keys()].join('|');
  const current = root.firstElementChild;
  if (shows && shows === cueScreenShown && current) {
    current.replaceWith(banner());
    return;
  }
  cueScreenShown = shows;
  root.replaceChildren(banner(), onScreen ? cueScreen(onScreen) : idleScreen());
}

function banner(): HTMLElement {
  const words: Record<ConnectionState, string> = {
    connecting: 'CONNECTING…',
    online: 'ONLINE',
    offline: 'OFFLINE — RECONNECTING',
    unauthorized: 'LINK REFUSED — ASK OPS FOR A NEW LINK',
  };
  return h(
    'div',
    { class: `banner banner-${connection}`, role: 'status' },
    conn ? words[connection] : 'NO TOKEN — OPEN THE LINK YOU WERE GIVEN',
  );
}

function idleScreen(): HTMLElement {
  const vehicle = vehicleId ? vehicleCallsign(mission, vehicleId) : '—';
  const primary = mission?.plan.routes.find((r) => r.kind === 'primary');
  const route = routeName(mission, memory.routeId) ?? primary?.name ?? 'no route briefed';
  const missed = memory.missed;
  return h(
    'section',
    { class: 'idle', 'aria-label': 'Standing by' },
    h('div', { class: 'callsign' }, vehicle),
    h('div', { class: 'clock', 'data-clock': true }, clockTime(Date.now())),
    h('div', { class: 'route' }, h('span', { class: 'muted' }, 'ROUTE '), route.toUpperCase()),
    mission ? h('div', { class: 'muted' }, mission.name) : null,
    ...missed.map((c) => h('div', { class: 'missed-line' }, `MISSED ${clockTime(c.issuedAt)} — ${c.label}`)),
    planToAck(),
    audioArmed() ? null : h('div', { class: 'hint' }, 'Tap anywhere to arm the cue tone'),
  );
}

/** A new briefing: the driver confirms they have it, so the mission may start and the board stops flagging them. */
function planToAck(): HTMLElement | null {
  const plan = mission?.plan;
  if (!conn || !plan || plan.version === 0 || (memory.planAcked ?? 0) >= plan.version) return null;
  const routes = plan.routes.map((r) => `${r.name}${r.kind === 'primary' ? ' (primary)' : ''}`).join(' · ');
  return h(
    'div',
    { class: 'plan' },
    h('div', {}, `NEW PLAN v${plan.version}`, h('span', { class: 'muted' }, ` ${routes}`)),
    button('ACK PLAN', { class: 'plan-ack' }, () => {
      conn
        .request('plan:ack', { version: plan.version })
        .then((reply) => {
          if (reply.ok) memory.planAcked = Math.max(memory.planAcked ?? 0, plan.version);
          remember();
          scheduleRender();
        })
        .catch(() => undefined);
    }),
  );
}

function cueScreen(entry: HeldCue): HTMLElement {
  const { cue } = entry;
  const queued = [...held.values()].filter((c) => c !== entry);
  const guarded = deviceNow() < guardedUntil;
  const choices = reasonsOpen
    ? h(
        'div',
        { class: 'answers reasons' },
        ...Object.entries(REASON_LABELS).map(([reason, label]) =>
          button(label, { class: 'reason', disabled: guarded }, () => answer(entry, 'unable', reason as UnableReason)),
        ),
        button('BACK', { class: 'back' }, () => {
          reasonsOpen = false;
          render();
        }),
      )
    : h(
        'div',
        { class: 'answers' },
        button('ACK', { class: 'ack', 'aria-label': `ACK ${cue.label}`, disabled: guarded }, () => answer(entry, 'ack')),
        button('UNABLE', { class: 'unable', disabled: guarded }, () => {
          reasonsOpen = true;
          render();
        }),
      );
  return h(
    'section',
    { class: `cue cue-${URGENCY[cue.type]}`, role: 'alertdialog', 'aria-label': cue.label, 'data-cue-id': cue.id },
    h('div', { class: 'cue-label' }, cue.label),
    h('div', { class: 'cue-meta' }, `${cue.issuedBy.callsign} · ${clockTime(cue.issuedAt)}`),
    choices,
    queued.length ? h('div', { class: 'queued' }, `+${queued.length} QUEUED: `, queued.map((c) => c.cue.label).join(' · ')) : null,
  );
}

render();
