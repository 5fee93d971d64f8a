import type { Mission, TriggerCue, UnableReason } from '@lockstep/shared';
import './styles/base.css';
import './styles/driver.css';
import { DriverBriefing, PlanAcker } from './briefing.ts';
import { ackedVersion } from './coordination.ts';
import { type AnswerNote, DriverCues, isDriverMemory } from './cues.ts';
import { ARM_DELAY_MS, appRoot, button, frameScheduler, h } from './dom.ts';
import { armAudioOnFirstGesture, audioArmed, keepAwake, tone, VIBRATION, vibrate } from './feedback.ts';
import { clockTime, routeName, URGENCY, vehicleCallsign } from './format.ts';
import { type ConnectionState, deviceNow, openConnection, takeToken } from './lockstep-client.ts';
import { ObservationLog, ObservationPad, ThreatLine } from './observations.ts';
import { isOutboxEntries, Outbox, type Settled } from './outbox.ts';
import { moveToOwnScreen } from './screens.ts';
import { shelf } from './storage.ts';

/**
 * The driver's tablet. A cue takes the whole screen the moment it arrives and its receipt
 * leaves after the frame that draws it; the driver answers with one tap; nothing else takes input.
 */

/** When one cue replaces another on screen, its buttons wait this long, so a tap aimed at the old cue cannot answer the new one. */
const RETARGET_GUARD_MS = 400;
/** When the screen changes (a cue answered, a new briefing), the buttons that appear wait this long: a double tap must not reach them. */
const SCREEN_GUARD_MS = 600;
const RETRY_EVERY_MS = 1000;

const REASON_LABELS: Readonly<Record<UnableReason, string>> = {
  blocked: 'BLOCKED',
  mechanical: 'MECHANICAL',
  unsafe: 'UNSAFE',
  'say-again': 'SAY AGAIN',
};

/** The device time of the next frame: the one that carries the DOM just changed, so the cue is on screen. */
const nextFrame = () => new Promise<number>((resolve) => requestAnimationFrame(() => resolve(deviceNow())));

/**
 * A tablet is one vehicle's for the whole mission: its token, cues and unsent answers live in
 * localStorage, so a closed tab or a restarted browser comes back on the same mission with
 * nothing lost. A new link drops what belonged to the old one.
 */
const CUES_KEY = 'lockstep.driver';
const ANSWERS_KEY = 'lockstep.driver.answers';
const REPLACED_KEY = 'lockstep.driver.replaced';
const token = takeToken(localStorage, [CUES_KEY, ANSWERS_KEY, REPLACED_KEY]);
const cues = new DriverCues({ shelf: shelf(localStorage, CUES_KEY, isDriverMemory), now: deviceNow, nextFrame });

let mission: Mission | undefined;
let vehicleId: string | undefined;
let selfId: string | undefined;
/** The driver reopened a briefing they had acked, to read it again. */
let briefingOpen = false;
/** §9: this tablet's driver was swapped out (the vehicle's callsign); its token is dead. Kept, so a reload says so too, not "link not valid". */
const swappedOut = shelf(localStorage, REPLACED_KEY, (v): v is string => typeof v === 'string');
let replacedFrom: string | undefined = swappedOut.load();
let connection: ConnectionState = 'connecting';
let reasonsOpen = false;
let onScreenId: string | undefined;
/** Device time until which the answer buttons stay disabled. */
let guardedUntil = 0;
/** Whether the screen is kept awake: without a wake lock (plain http, a refusing browser) the tablet may sleep. */
let awake = true;

const root = appRoot();
const scheduleRender = frameScheduler(() => render());
const conn = openConnection({ token, lastSeq: () => cues.lastSeq });
const answers =
  conn &&
  new Outbox<'trigger:respond', AnswerNote>({
    event: 'trigger:respond',
    connection: conn,
    shelf: shelf(localStorage, ANSWERS_KEY, isOutboxEntries<'trigger:respond', AnswerNote>),
    idOf: (answer) => answer.triggerId,
    settled: answerSettled,
    retryEveryMs: RETRY_EVERY_MS,
  });
const planAcks =
  conn &&
  new PlanAcker(conn, {
    screen: 'driver',
    acked: (version) => cues.planAcked(version),
    changed: () => scheduleRender(),
  });
const observations = conn && new ObservationLog(conn, () => scheduleRender());

/** Takes a cue in; answers with the promise of the frame that shows it, for the receipt. */
function receive(cue: TriggerCue): Promise<number> | undefined {
  vehicleId ??= cue.vehicleId;
  const intake = cues.receive(cue);
  if (intake.outcome === 'shown' || intake.outcome === 'missed') render();
  if (intake.outcome === 'shown') {
    const urgency = URGENCY[cue.type];
    tone(urgency);
    vibrate(VIBRATION[urgency]);
  }
  return intake.shown;
}

function answer(response: 'ack' | 'unable', reason?: UnableReason) {
  const id = cueScreen.dataset.cueId;
  const given = id === undefined ? undefined : cues.answer(id, response, reason);
  if (!given) return;
  answers?.send(given.payload, given.note);
  render();
}

function answerSettled(settled: Settled<'trigger:respond', AnswerNote>) {
  // The cue expired before the answer arrived: the driver must see and hear that it did not count.
  if (settled.outcome === 'refused' && settled.code === 'expired') {
    cues.addMissed({ id: settled.entry.payload.triggerId, ...settled.entry.note });
    tone('caution');
  }
  scheduleRender();
}

// ---------------------------------------------------------------- wiring

if (conn) {
  conn.socket.on('trigger', (cue, receipt) => {
    const shown = receive(cue);
    if (shown) void shown.then((shownAt) => receipt({ shownAt }));
    else receipt({});
  });
  conn.socket.on('trigger:expired', ({ id }) => {
    if (!cues.expire(id)) return;
    // The order is withdrawn from the screen: a sound says so, since the driver's eyes are on the road.
    tone('caution');
    vibrate(VIBRATION.caution);
    render();
  });
  conn.socket.on('mission', (next) => {
    mission = next;
    noteReplacement();
    scheduleRender();
  });
  conn.onState((state) => {
    connection = state;
    scheduleRender();
  });
  conn.onSnapshot((snapshot, { self, requestedAt }) => {
    mission = snapshot.mission;
    if (self?.vehicleId) vehicleId = self.vehicleId;
    if (self && self.role !== 'driver' && moveToOwnScreen(self.role, token)) return;
    selfId = self?.memberId ?? selfId;
    noteReplacement();
    const open = new Set<string>();
    for (const item of snapshot.triggers) {
      if (!('seq' in item)) continue;
      open.add(item.id);
      receive(item);
    }
    cues.reconcile(open, requestedAt);
    scheduleRender();
  });
}
/** The mission says this member was replaced: the tablet says so plainly, instead of an error when the socket closes. */
function noteReplacement() {
  const self = mission?.members.find((m) => m.memberId === selfId);
  if (self?.replacedAt === undefined || !vehicleId) return;
  replacedFrom = vehicleCallsign(mission, vehicleId);
  swappedOut.save(replacedFrom);
}

armAudioOnFirstGesture(() => scheduleRender());
keepAwake((held) => {
  awake = held;
  scheduleRender();
});
setInterval(() => {
  clock.textContent = clockTime(Date.now());
}, 1000);
/** A threat line leaves the idle screen once it is old. */
setInterval(() => scheduleRender(), 5000);

/** The version this driver acked: the server's record, or this tablet's own while the mission event is on its way. */
const planAcked = () => Math.max(cues.memory.planAcked ?? 0, mission && selfId ? ackedVersion(mission, selfId) : 0);
const briefingDue = () => Boolean(mission && mission.plan.version > 0 && (briefingOpen || planAcked() < mission.plan.version));

// ---------------------------------------------------------------- screen

/**
 * Built once; each render updates text and attributes in place, so a finger's down and up always
 * land on the same button (a redraw between them would lose the tap).
 */
const banner = h('div', { class: 'banner', role: 'status' });

const callsign = h('div', { class: 'callsign' });
const clock = h('div', { class: 'clock' });
const route = h('span', {});
const missionName = h('div', { class: 'muted' });
const missedLines = h('div', { class: 'missed' });
/** The tablet's own state, always in view while standing by: can it sound a cue, will it stay awake. */
const sound = h('div', { class: 'device-state', role: 'status', 'aria-label': 'Cue sound' });
const sleepWarning = h('div', { class: 'device-state device-warning' }, 'SCREEN MAY SLEEP — SET THE DISPLAY TO STAY ON');
const unsent = h('div', { class: 'unsent' });
const reread = button('BRIEFING', { class: 'brief-open' }, () => {
  briefingOpen = true;
  render();
});
const briefing = new DriverBriefing({
  ack: (version) => {
    // Acked, the briefing gives the screen back, even when the driver had opened it to reread.
    briefingOpen = false;
    planAcks?.ack(version);
  },
  close: () => {
    briefingOpen = false;
    render();
  },
  now: deviceNow,
  changed: () => scheduleRender(),
});
const threatLine = new ThreatLine();
const pad = new ObservationPad({ connection: conn, now: deviceNow, changed: () => scheduleRender() });
const idleScreen = h(
  'section',
  { class: 'idle', 'aria-label': 'Standing by' },
  callsign,
  clock,
  h('div', { class: 'route' }, h('span', { class: 'muted' }, 'ROUTE '), route),
  missionName,
  unsent,
  missedLines,
  reread,
  h('div', { class: 'device-states' }, sound, sleepWarning),
);
/** A plain, large answer when the tablet cannot work: no link, a revoked link, an ended mission. */
const verdictTitle = h('div', { class: 'verdict-title' });
const verdictText = h('div', { class: 'verdict-text' });
const verdict = h('section', { class: 'verdict', role: 'alert' }, verdictTitle, verdictText);

const cueLabelEl = h('div', { class: 'cue-label' });
const cueMeta = h('div', { class: 'cue-meta' });
const ack = button('ACK', { class: 'ack' }, () => answer('ack'));
const unable = button('UNABLE', { class: 'unable' }, () => {
  reasonsOpen = true;
  // The reasons appear under the finger: a double tap on UNABLE must not send SAY AGAIN.
  guardedUntil = Math.max(guardedUntil, deviceNow() + ARM_DELAY_MS);
  setTimeout(render, ARM_DELAY_MS);
  render();
});
const reasons = Object.entries(REASON_LABELS).map(([reason, label]) =>
  button(label, { class: 'reason' }, () => answer('unable', reason as UnableReason)),
);
const firstChoices = h('div', { class: 'answers' }, ack, unable);
const back = button('BACK', { class: 'back' }, () => {
  reasonsOpen = false;
  guardedUntil = Math.max(guardedUntil, deviceNow() + ARM_DELAY_MS);
  setTimeout(render, ARM_DELAY_MS);
  render();
});
const reasonChoices = h('div', { class: 'answers reasons' }, ...reasons, back);
const queued = h('div', { class: 'queued' });
const cueScreen = h('section', { role: 'alertdialog' }, cueLabelEl, cueMeta, firstChoices, reasonChoices, queued);

if (!conn) root.replaceChildren(banner);

type Verdict = { title: string; text: string };

function verdictNow(): Verdict | undefined {
  if (!conn) return { title: 'NO LINK', text: 'Open the driver link ops gave you for this tablet.' };
  if (replacedFrom !== undefined)
    return {
      title: `YOU ARE NO LONGER DRIVING ${replacedFrom}`,
      text: 'Another driver has taken over this vehicle. Cues no longer come to this tablet.',
    };
  if (connection === 'unauthorized')
    return { title: 'LINK NOT VALID', text: 'This tablet was removed from the mission or its link expired. Ask ops for a new link.' };
  if (mission?.status === 'ended')
    return { title: 'MISSION ENDED', text: `${mission.name} is over. No more cues will come to this tablet.` };
  return undefined;
}

function render() {
  const answer = verdictNow();
  if (answer) {
    verdictTitle.textContent = answer.title;
    verdictText.textContent = answer.text;
    renderBanner();
    // Swapped out, the dead link is expected: no red "link refused" over the statement.
    const shown = replacedFrom === undefined ? [banner, verdict] : [verdict];
    if (root.lastElementChild !== verdict || root.childElementCount !== shown.length) root.replaceChildren(...shown);
    return;
  }
  const onScreen = cues.onScreen();
  if (onScreen?.cue.id !== onScreenId) {
    if (onScreen && onScreenId !== undefined) {
      guardedUntil = deviceNow() + RETARGET_GUARD_MS;
      setTimeout(render, RETARGET_GUARD_MS);
    }
    onScreenId = onScreen?.cue.id;
    reasonsOpen = false;
  }
  renderBanner();
  if (!conn) return;
  const screen = onScreen ? cueScreen : briefingDue() ? briefing.element : idleScreen;
  // The threat line and the report pad stand beside the briefing and the idle screen, never beside a cue.
  const children = onScreen ? [banner, screen] : [banner, threatLine.element, screen, pad.element];
  if (children.some((child, i) => root.children[i] !== child) || root.children.length !== children.length) {
    if (root.children.length > 0 && !onScreen) {
      pad.holdOff(SCREEN_GUARD_MS);
      briefing.holdOff(SCREEN_GUARD_MS);
    }
    root.replaceChildren(...children);
  }
  if (onScreen) renderCue(onScreen.cue);
  else {
    threatLine.update(observations?.observations ?? [], conn.serverNow(), selfId);
    pad.update(connection === 'online');
    if (screen === briefing.element && mission) renderBriefing(mission);
    else renderIdle();
  }
}

function renderBriefing(briefed: Mission) {
  briefing.update(
    briefed,
    vehicleId ? vehicleCallsign(briefed, vehicleId) : '',
    planAcked(),
    planAcks?.pending(briefed.plan.version) ?? false,
    connection === 'online',
  );
}

function renderBanner() {
  const words: Record<ConnectionState, string> = {
    connecting: 'CONNECTING…',
    online: 'ONLINE',
    offline: 'OFFLINE — RECONNECTING',
    unauthorized: 'LINK REFUSED — ASK OPS FOR A NEW LINK',
  };
  banner.className = `banner banner-${connection}`;
  banner.textContent = conn ? words[connection] : 'NO TOKEN — OPEN THE LINK YOU WERE GIVEN';
}

function renderIdle() {
  const primary = mission?.plan.routes.find((r) => r.kind === 'primary');
  callsign.textContent = vehicleId ? vehicleCallsign(mission, vehicleId) : '—';
  clock.textContent = clockTime(Date.now());
  route.textContent = (routeName(mission, cues.memory.routeId) ?? primary?.name ?? 'no route briefed').toUpperCase();
  missionName.hidden = !mission;
  missionName.textContent = mission?.name ?? '';
  missedLines.hidden = cues.missed.length === 0;
  missedLines.replaceChildren(
    ...cues.missed.map((c) =>
      h(
        'div',
        { class: 'missed-line' },
        h('b', {}, `MISSED ${c.label}`),
        ` ${clockTime(c.issuedAt)} — it expired before an answer reached ops. Confirm by voice.`,
      ),
    ),
  );
  const armed = audioArmed();
  sound.className = `device-state ${armed ? 'device-ok' : 'device-warning'}`;
  sound.textContent = armed ? 'SOUND ON' : 'SOUND OFF — TAP THE SCREEN TO TURN IT ON';
  sleepWarning.hidden = awake;
  const waiting = answers?.entries ?? [];
  unsent.hidden = waiting.length === 0;
  unsent.replaceChildren(
    ...waiting.map((e) =>
      h(
        'div',
        { class: 'unsent-line', 'data-trigger': e.payload.triggerId },
        `${e.payload.response === 'ack' ? 'ACK' : 'UNABLE'} ${e.note.label} — `,
        h('b', {}, connection === 'online' ? 'SENDING…' : 'WAITING TO BE SENT'),
      ),
    ),
  );
  reread.hidden = !mission || mission.plan.version === 0;
  reread.textContent = `BRIEFING v${mission?.plan.version ?? 0}`;
}

function renderCue(cue: TriggerCue) {
  const guarded = deviceNow() < guardedUntil;
  const others = cues.held.filter((c) => c.cue.id !== cue.id);
  cueScreen.className = `cue cue-${URGENCY[cue.type]}`;
  cueScreen.setAttribute('aria-label', cue.label);
  cueScreen.dataset.cueId = cue.id;
  cueLabelEl.textContent = cue.label;
  cueMeta.textContent = `${cue.issuedBy.callsign} · ${clockTime(cue.issuedAt)}`;
  ack.setAttribute('aria-label', `ACK ${cue.label}`);
  for (const choice of [ack, unable, ...reasons]) choice.disabled = guarded;
  firstChoices.hidden = reasonsOpen;
  reasonChoices.hidden = !reasonsOpen;
  queued.hidden = others.length === 0;
  queued.textContent = others.length ? `+${others.length} QUEUED: ${others.map((c) => c.cue.label).join(' · ')}` : '';
}

render();
