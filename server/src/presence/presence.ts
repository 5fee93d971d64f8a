import type { Member, Presence, PresenceState } from '@lockstep/shared';
import { ROLE_AUTHORITY } from '@lockstep/shared';
import type { Logger } from 'pino';
import { alertId, type Alerts } from '../alerts.ts';
import type { Clock } from '../clock.ts';
import type { Deadlines } from '../deadlines.ts';
import type { Fanout } from '../fanout.ts';
import { RTT_WINDOW, clockEstimate, clockOffset, percentile, round1, type ClockSample } from '../rules/latency.ts';
import type { DeviceLink } from '../rules/timing.ts';
import type { LogDraft, Store } from '../store/store.ts';
import { logLine } from '../log/log-lines.ts';

export interface PresenceTiming {
  /** docs/PROTOCOL.md §5: every 3 s. */
  probeIntervalMs: number;
  /** docs/PROTOCOL.md §5: `offline` after 10 s without an answer. */
  offlineAfterMs: number;
}

export const PROTOCOL_PRESENCE: PresenceTiming = { probeIntervalMs: 3000, offlineAfterMs: 10_000 };

/** Probes in a row a device may miss before its member is `stale`. */
const MISSED_FOR_STALE = 2;

/** What one probe brought back: the round trip, and the device's clock when it answered. */
export interface ProbeResult {
  rttMs: number;
  serverAt: number;
  deviceAt: number | undefined;
}

/** One connected device as presence sees it; the socket layer supplies `probe`. */
export interface ProbedDevice {
  id: string;
  /** Sends `probe` and resolves with what came back, or undefined when no answer came within `timeoutMs`. */
  probe(timeoutMs: number): Promise<ProbeResult | undefined>;
}

/**
 * A fresh RTT alone is saved and announced once a period of this length, unless it moved by more
 * than RTT_MOVE: one write and one broadcast per member per probe would be the hub's largest cost
 * at thousands of devices, and a watcher gains nothing from a figure that did not change.
 * At 10,000 devices the periodic announcement alone was two watcher writes per member per 10 s,
 * more than the probes themselves; a change of state and an RTT that moved are still told at once.
 */
export const RTT_REPORT_MS = 30_000;
const RTT_MOVE = { ms: 10, ratio: 0.25 };

/** What the watchers were last told of a member's RTT, and when its periodic report falls. */
export interface RttTold {
  rttMs: number | undefined;
  at: number;
  /** Where in each RTT_REPORT_MS the member's periodic report falls (see reportPhase). */
  phaseMs: number;
}

/**
 * Each member's periodic report falls at its own point of the period, from its id: members that
 * connected together (a restart, a reconnect storm) would otherwise fall due together every 30 s
 * for as long as their connect took: at 10,000 devices that wave doubled the node's work for
 * seconds at a time.
 */
export function reportPhase(memberId: string): number {
  // FNV-1a: member ids are random, so any hash that mixes every character spreads them evenly.
  let hash = 0x811c9dc5;
  for (let i = 0; i < memberId.length; i++) hash = Math.imul(hash ^ memberId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % RTT_REPORT_MS;
}

/** Which of a member's report periods `at` falls in. */
const reportPeriod = (at: number, phaseMs: number) => Math.floor((at - phaseMs) / RTT_REPORT_MS);

/** Whether a fresh RTT is worth telling the watchers now: the first, the first of a new period, or one that moved. */
export function rttWorthReporting(told: RttTold, fresh: number, now: number): boolean {
  if (told.rttMs === undefined || reportPeriod(now, told.phaseMs) > reportPeriod(told.at, told.phaseMs)) return true;
  const moved = Math.abs(fresh - told.rttMs);
  return moved > RTT_MOVE.ms && moved > told.rttMs * RTT_MOVE.ratio;
}

interface DeviceWatch {
  device: ProbedDevice;
  member: MemberWatch;
  missed: number;
  lastAnswerAt: number;
  /** The tick of the probe round on which this device is probed. */
  slot: number;
  /** This device's recent probes, in no order (the estimate takes the lowest RTT): each device has its own clock. */
  clock: ClockSample[];
  /** Where the next sample goes once the window is full. */
  clockNext: number;
}

interface MemberWatch {
  member: Member;
  missionId: string;
  devices: Map<string, DeviceWatch>;
  /** The member's state as this node sees it now; what was last saved may be a flush behind. */
  state: PresenceState;
  offlineSince: number | undefined;
  lastSeenAt: number;
  /** The device whose word the stored presence carries. */
  speakingDevice: string;
  /** The member's recent round trips, newest first: the rolling p95 is taken over these. */
  rtts: number[];
  /** When, and with which RTT, the presence was last saved and announced. */
  told: RttTold;
}

/**
 * The member's presence as it is told: built only when it is saved and announced, not on every
 * probe answer, which at thousands of devices is where the garbage came from.
 */
function presenceOf(watch: MemberWatch): Presence {
  const { member } = watch;
  const rttMs = watch.rtts[0];
  const clock = clockEstimate(watch.devices.get(watch.speakingDevice)?.clock ?? []);
  return {
    memberId: member.memberId,
    callsign: member.callsign,
    role: member.role,
    ...(member.vehicleId ? { vehicleId: member.vehicleId } : {}),
    state: watch.state,
    ...(rttMs === undefined ? {} : { rttMs: round1(rttMs), rttP95Ms: round1(percentile(watch.rtts, 95) ?? rttMs) }),
    lastSeenAt: watch.lastSeenAt,
    ...(clock === undefined ? {} : { clockOffsetMs: Math.round(clock.offsetMs), clockErrorMs: round1(clock.errorMs) }),
    ...(watch.offlineSince === undefined ? {} : { offlineSince: watch.offlineSince }),
  };
}

/** A member's presence waiting for the next flush, and what it changed since the last one. */
interface PendingSave {
  watch: MemberWatch;
  /** The state the last flush saved. */
  saved: PresenceState;
  /** Each change of state since, in order: every one is announced, however close together. */
  changes: Presence[];
  log: LogDraft[];
  /** A fresh RTT came after the last change of state. */
  refreshed: boolean;
}

/**
 * How long a presence change waits to be saved and announced with the others: one store call and
 * one message between nodes carry a whole flush, where one per probe answer was the hub's largest
 * cost at thousands of devices; a watcher sees a change of state this much later at most.
 */
export const PRESENCE_FLUSH_MS = 50;

/**
 * Probes go out on ticks this far apart, each device on its own tick of the round, so a node's
 * probes are spread evenly: at 10,000 devices a tick sends about 33, a millisecond of work a cue
 * may wait behind, where a timer per device fired in bursts aligned with the connect storm.
 */
const PROBE_TICK_MS = 10;

/** The state of a member from its devices (docs/PROTOCOL.md §5). Pure. */
export function presenceState(
  devices: Iterable<Pick<DeviceWatch, 'missed' | 'lastAnswerAt'>>,
  now: number,
  timing: PresenceTiming,
): PresenceState {
  let lastAnswer: number | undefined;
  for (const device of devices) {
    if (device.missed < MISSED_FOR_STALE) return 'online';
    lastAnswer = Math.max(lastAnswer ?? device.lastAnswerAt, device.lastAnswerAt);
  }
  if (lastAnswer === undefined) return 'offline';
  return now - lastAnswer >= timing.offlineAfterMs ? 'offline' : 'stale';
}

/**
 * Told of every change of a member's presence state: `changing` before it is saved, so what must
 * follow it (a deadline) is in the store even if this node dies the moment after; `changed` once
 * it is saved. Succession of command watches the leads and their line this way.
 */
export interface PresenceWatcher {
  changing(missionId: string, presence: Presence, previous: PresenceState): Promise<void>;
  changed(missionId: string, presence: Presence, previous: PresenceState): Promise<void>;
}

export interface PresenceDeps {
  store: Store;
  deadlines: Deadlines;
  fanout: Fanout;
  alerts: Alerts;
  clock: Clock;
  timing: PresenceTiming;
  logger: Logger;
  watcher: PresenceWatcher;
}

/**
 * Presence and latency of every device: probes each one every few seconds, keeps the
 * member's RTT (latest and rolling p95) and clock offset in the store, and tells lead, cpo
 * and ops: at once on a change of state, with a fresh RTT when it moved or once every 30 s (each
 * member at its own point of the period).
 * A node speaks only for its own sockets: it may not mark offline a member whose
 * presence another node's socket has spoken for since.
 */
export class PresenceTracker {
  /** Every member seen on this node; kept after disconnect so a reconnect resumes its RTT window. */
  readonly #members = new Map<string, MemberWatch>();
  /** Devices by the tick of the probe round they are probed on. */
  readonly #round: Set<DeviceWatch>[];
  #tick = 0;
  #nextSlot = 0;
  readonly #ticker: NodeJS.Timeout;
  readonly #pending = new Map<string, PendingSave>();
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  private readonly store: Store;
  private readonly deadlines: Deadlines;
  private readonly fanout: Fanout;
  private readonly alerts: Alerts;
  private readonly clock: Clock;
  private readonly timing: PresenceTiming;
  private readonly logger: Logger;
  private readonly watcher: PresenceWatcher;

  constructor(deps: PresenceDeps) {
    ({
      store: this.store,
      deadlines: this.deadlines,
      fanout: this.fanout,
      alerts: this.alerts,
      clock: this.clock,
      timing: this.timing,
      logger: this.logger,
      watcher: this.watcher,
    } = deps);
    const ticks = Math.max(1, Math.round(this.timing.probeIntervalMs / PROBE_TICK_MS));
    this.#round = Array.from({ length: ticks }, () => new Set());
    this.#ticker = setInterval(() => {
      this.#tick = (this.#tick + 1) % ticks;
      for (const device of this.#round[this.#tick] ?? []) this.#probe(device);
    }, this.timing.probeIntervalMs / ticks);
    this.#ticker.unref();
  }

  /** The latest RTT of the member's device that answered last. */
  rttOf(memberId: string): number | undefined {
    return this.#members.get(memberId)?.rtts[0];
  }

  /** What the live deadline needs of one device's link: its clock offset and the member's p95 RTT. */
  linkOf(memberId: string, deviceId: string): DeviceLink {
    const watch = this.#members.get(memberId);
    return { clock: clockEstimate(watch?.devices.get(deviceId)?.clock ?? []), rttP95Ms: percentile(watch?.rtts ?? [], 95) };
  }

  attach(member: Member, missionId: string, device: ProbedDevice): void {
    const now = this.clock.now();
    const watch: MemberWatch = this.#members.get(member.memberId) ?? {
      member,
      missionId,
      devices: new Map(),
      state: 'offline',
      offlineSince: undefined,
      lastSeenAt: now,
      speakingDevice: device.id,
      rtts: [],
      told: { rttMs: undefined, at: 0, phaseMs: reportPhase(member.memberId) },
    };
    this.#members.set(member.memberId, watch);
    // Round robin over the ticks: a connect storm's devices are probed evenly over the round, not all at once.
    const slot = this.#nextSlot;
    this.#nextSlot = (slot + 1) % this.#round.length;
    const deviceWatch: DeviceWatch = { device, member: watch, missed: 0, lastAnswerAt: now, slot, clock: [], clockNext: 0 };
    this.#round[slot]?.add(deviceWatch);
    watch.devices.set(device.id, deviceWatch);
    watch.speakingDevice = device.id;
    watch.lastSeenAt = now;
    this.#probe(deviceWatch);
    this.#update(watch);
  }

  detach(memberId: string, deviceId: string): void {
    const watch = this.#members.get(memberId);
    const device = watch?.devices.get(deviceId);
    if (!watch || !device) return;
    this.#round[device.slot]?.delete(device);
    watch.devices.delete(deviceId);
    this.#update(watch);
  }

  /** The driver is still gone after the grace. */
  async fireOffline({ missionId, memberId, since }: { missionId: string; memberId: string; since: number }): Promise<void> {
    const [presence, mission] = await Promise.all([this.store.getPresence(missionId, memberId), this.store.getMission(missionId)]);
    // Seen again since, from any node: this absence is over.
    if (presence?.state !== 'offline' || presence.lastSeenAt > since) return;
    if (mission?.status !== 'active') return;
    await this.alerts.raiseDue(alertId('offline', memberId, String(since)), {
      kind: 'offline',
      missionId,
      memberId,
      vehicleId: presence.vehicleId,
      valueMs: mission.settings.offlineGraceMs,
    });
  }

  close(): void {
    clearInterval(this.#ticker);
    clearTimeout(this.#flushTimer);
    for (const slot of this.#round) slot.clear();
    this.#members.clear();
    this.#pending.clear();
  }

  #probe(device: DeviceWatch) {
    const watch = device.member;
    device.device
      .probe(this.timing.probeIntervalMs)
      .then((answer) => {
        if (watch.devices.get(device.device.id) !== device) return;
        const now = this.clock.now();
        if (answer === undefined) {
          device.missed += 1;
          this.#update(watch);
          return;
        }
        device.missed = 0;
        device.lastAnswerAt = now;
        watch.lastSeenAt = now;
        watch.speakingDevice = device.device.id;
        keepNewest(watch.rtts, answer.rttMs);
        if (answer.deviceAt !== undefined)
          keepClockSample(device, answer.rttMs, clockOffset(answer.serverAt, answer.rttMs, answer.deviceAt));
        this.#update(watch, rttWorthReporting(watch.told, answer.rttMs, now));
      })
      .catch((error: unknown) => this.logger.warn({ err: error, memberId: watch.member.memberId }, 'probe failed'));
  }

  /** Recomputes the member's state; on a change of state, or with a fresh RTT, queues it to be saved and announced. */
  #update(watch: MemberWatch, freshRtt = false) {
    const now = this.clock.now();
    const state = presenceState(watch.devices.values(), now, this.timing);
    const previous = watch.state;
    if (state === previous && !freshRtt) return;
    watch.state = state;
    watch.offlineSince = state !== 'offline' ? undefined : previous === 'offline' ? watch.offlineSince : now;
    watch.told.at = now;
    watch.told.rttMs = watch.rtts[0];
    const pending = this.#pending.get(watch.member.memberId) ?? { watch, saved: previous, changes: [], log: [], refreshed: false };
    if (state !== previous) {
      const presence = presenceOf(watch);
      pending.changes.push(presence);
      pending.log.push(logLine.presence(now, watch.member.memberId, state, previous, presence.rttMs));
    }
    pending.refreshed = state === previous;
    this.#pending.set(watch.member.memberId, pending);
    this.#flushSoon();
  }

  #flushSoon() {
    if (this.#flushTimer || this.#flushing) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flushing = this.#flush()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'presence not saved'))
        .finally(() => {
          this.#flushing = undefined;
          if (this.#pending.size > 0) this.#flushSoon();
        });
    }, PRESENCE_FLUSH_MS);
    this.#flushTimer.unref();
  }

  /**
   * Saves and announces everything queued, one flush at a time, so each member's changes reach
   * the store and the watchers in order. What must follow a change of state is written first
   * (`changing`), and what reacts to it comes after it is saved (`changed`, the offline deadline).
   */
  async #flush() {
    const queued = [...this.#pending.values()].map((pending) => ({ ...pending, presence: latest(pending) }));
    this.#pending.clear();
    // A change whose follow-up could not be written first is not saved either, as if it had not been seen.
    const ready = await Promise.all(
      queued.map(({ watch, presence, saved }) =>
        presence.state === saved
          ? true
          : this.watcher.changing(watch.missionId, presence, saved).then(
              () => true,
              (error: unknown) => {
                this.logger.warn({ err: error, memberId: watch.member.memberId }, 'presence not saved');
                return false;
              },
            ),
      ),
    );
    const batch = queued.filter((_, i) => ready[i]);
    const saved = await this.store.savePresences(
      batch.map(({ watch, presence, log }) => ({
        missionId: watch.missionId,
        presence,
        log,
        device: { id: watch.speakingDevice, onlyIfOwner: presence.state === 'offline' },
      })),
    );
    const done = batch.filter((_, i) => saved[i]);
    this.fanout.presenceToWatchers(
      done.flatMap(({ watch, presence, changes }) => told(changes, presence).map((p) => ({ missionId: watch.missionId, presence: p }))),
    );
    await Promise.all(done.filter(({ presence, saved }) => presence.state !== saved).map((save) => this.#afterChange(save)));
  }

  async #afterChange({ watch, presence, saved }: PendingSave & { presence: Presence }) {
    try {
      await this.watcher.changed(watch.missionId, presence, saved);
      if (presence.state !== 'offline' || saved === 'offline' || !ROLE_AUTHORITY[watch.member.role].receivesCues) return;
      const mission = await this.store.getMission(watch.missionId);
      const since = presence.offlineSince ?? presence.lastSeenAt;
      if (mission?.status === 'active')
        await this.deadlines.schedule(
          { kind: 'offline', missionId: watch.missionId, memberId: watch.member.memberId, since },
          since + mission.settings.offlineGraceMs,
        );
    } catch (error) {
      this.logger.warn({ err: error, memberId: watch.member.memberId }, 'presence change not followed up');
    }
  }
}

/** What a flush saves of a member: its last change of state, or a fresh view when a fresh RTT came after it. */
function latest({ watch, changes, refreshed }: PendingSave): Presence {
  const last = changes.at(-1);
  return last === undefined || refreshed ? presenceOf(watch) : last;
}

/**
 * What the watchers are told of a member at a flush: every change of state in order, the last of
 * them as it is now. A fresh RTT comes after the last change only in the same state, so the
 * fresher view replaces it rather than following it: a device that connects is told once, online
 * with its first RTT, not once without an RTT and again with it (at a 10,000-device connect, half
 * the presence messages).
 */
function told(changes: readonly Presence[], latest: Presence): Presence[] {
  return [...changes.slice(0, -1), latest];
}

/**
 * Keeps the device's last RTT_WINDOW clock samples, overwriting the oldest in place once full:
 * samples live a minute, long enough to reach the old heap, so one object per probe answer at
 * thousands of devices was steady work for the major collector.
 */
function keepClockSample(device: DeviceWatch, rttMs: number, offsetMs: number): void {
  const oldest = device.clock.length < RTT_WINDOW ? undefined : device.clock[device.clockNext];
  if (oldest) {
    oldest.rttMs = rttMs;
    oldest.offsetMs = offsetMs;
  } else device.clock.push({ rttMs, offsetMs });
  device.clockNext = (device.clockNext + 1) % RTT_WINDOW;
}

/** Puts a sample first in a newest-first window of RTT_WINDOW, in place: this runs on every probe answer. */
function keepNewest<T>(window: T[], sample: T): void {
  window.unshift(sample);
  if (window.length > RTT_WINDOW) window.length = RTT_WINDOW;
}
