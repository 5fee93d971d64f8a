import type { Member, Presence, PresenceState } from '@lockstep/shared';
import { ROLE_AUTHORITY } from '@lockstep/shared';
import type { Logger } from 'pino';
import { alertId, type Alerts } from '../alerts.ts';
import type { Clock } from '../clock.ts';
import type { Deadlines } from '../deadlines.ts';
import type { Fanout } from '../fanout.ts';
import { RTT_WINDOW, clockEstimate, clockOffset, percentile, round1, type ClockSample } from '../rules/latency.ts';
import type { DeviceLink } from '../rules/timing.ts';
import type { Store } from '../store/store.ts';
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
 * A fresh RTT alone is saved and announced at most this often, unless it moved by more than
 * RTT_MOVE: one write and one broadcast per member per probe would be the hub's largest cost
 * at thousands of devices, and a watcher gains nothing from a figure that did not change.
 */
const RTT_REPORT_MS = 10_000;
const RTT_MOVE = { ms: 10, ratio: 0.25 };

/** Whether a new RTT is worth telling the watchers now. */
export function rttWorthReporting(reported: number | undefined, fresh: number, sinceReportMs: number): boolean {
  if (reported === undefined || sinceReportMs >= RTT_REPORT_MS) return true;
  const moved = Math.abs(fresh - reported);
  return moved > RTT_MOVE.ms && moved > reported * RTT_MOVE.ratio;
}

interface DeviceWatch {
  device: ProbedDevice;
  missed: number;
  lastAnswerAt: number;
  timer: NodeJS.Timeout;
  /** This device's recent probes, newest first: each device has its own clock. */
  clock: ClockSample[];
}

interface MemberWatch {
  member: Member;
  missionId: string;
  devices: Map<string, DeviceWatch>;
  presence: Presence;
  /** The device whose word the stored presence carries. */
  speakingDevice: string;
  /** Presence updates of one member are saved one after another, in order. */
  saving: Promise<void>;
  /** The member's recent round trips, newest first: the rolling p95 is taken over these. */
  rtts: number[];
  /** When, and with which RTT, the presence was last saved and announced. */
  reportedAt: number;
  reportedRtt: number | undefined;
}

/** The state of a member from its devices (docs/PROTOCOL.md §5). Pure. */
export function presenceState(
  devices: readonly Pick<DeviceWatch, 'missed' | 'lastAnswerAt'>[],
  now: number,
  timing: PresenceTiming,
): PresenceState {
  if (devices.length === 0) return 'offline';
  if (devices.some((d) => d.missed < MISSED_FOR_STALE)) return 'online';
  const lastAnswer = Math.max(...devices.map((d) => d.lastAnswerAt));
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
 * and ops: at once on a change of state, with a fresh RTT when it moved or every 10 s.
 * A node speaks only for its own sockets: it may not mark offline a member whose
 * presence another node's socket has spoken for since.
 */
export class PresenceTracker {
  /** Every member seen on this node; kept after disconnect so a reconnect resumes its RTT window. */
  readonly #members = new Map<string, MemberWatch>();

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
    const watch = this.#members.get(member.memberId) ?? {
      member,
      missionId,
      devices: new Map(),
      presence: {
        memberId: member.memberId,
        callsign: member.callsign,
        role: member.role,
        ...(member.vehicleId ? { vehicleId: member.vehicleId } : {}),
        state: 'offline',
        lastSeenAt: now,
      },
      speakingDevice: device.id,
      saving: Promise.resolve(),
      rtts: [],
      reportedAt: 0,
      reportedRtt: undefined,
    };
    this.#members.set(member.memberId, watch);
    const timer = setInterval(() => this.#probe(watch, device.id), this.timing.probeIntervalMs);
    timer.unref();
    watch.devices.set(device.id, { device, missed: 0, lastAnswerAt: now, timer, clock: [] });
    watch.speakingDevice = device.id;
    this.#probe(watch, device.id);
    this.#update(watch, { lastSeenAt: now });
  }

  detach(memberId: string, deviceId: string): void {
    const watch = this.#members.get(memberId);
    const device = watch?.devices.get(deviceId);
    if (!watch || !device) return;
    clearInterval(device.timer);
    watch.devices.delete(deviceId);
    this.#update(watch, {});
  }

  /** The driver is still gone after the grace. */
  async fireOffline({ missionId, memberId, since }: { missionId: string; memberId: string; since: number }): Promise<void> {
    const [presence, mission] = await Promise.all([this.store.getPresence(missionId, memberId), this.store.getMission(missionId)]);
    // Seen again since, from any node: this absence is over.
    if (presence?.state !== 'offline' || presence.lastSeenAt > since) return;
    if (mission?.status !== 'active') return;
    await this.alerts.raise(alertId('offline', memberId, String(since)), {
      kind: 'offline',
      missionId,
      memberId,
      vehicleId: presence.vehicleId,
      valueMs: mission.settings.offlineGraceMs,
    });
  }

  close(): void {
    for (const watch of this.#members.values()) {
      for (const device of watch.devices.values()) clearInterval(device.timer);
    }
    this.#members.clear();
  }

  #probe(watch: MemberWatch, deviceId: string) {
    const device = watch.devices.get(deviceId);
    if (!device) return;
    device.device
      .probe(this.timing.probeIntervalMs)
      .then((answer) => {
        if (!watch.devices.has(deviceId)) return;
        const now = this.clock.now();
        if (answer === undefined) {
          device.missed += 1;
          this.#update(watch, {});
          return;
        }
        device.missed = 0;
        device.lastAnswerAt = now;
        watch.speakingDevice = deviceId;
        watch.rtts = [answer.rttMs, ...watch.rtts].slice(0, RTT_WINDOW);
        if (answer.deviceAt !== undefined) {
          const sample = { rttMs: answer.rttMs, offsetMs: clockOffset(answer.serverAt, answer.rttMs, answer.deviceAt) };
          device.clock = [sample, ...device.clock].slice(0, RTT_WINDOW);
        }
        const clock = clockEstimate(device.clock);
        const fresh: Partial<Presence> = {
          rttMs: round1(answer.rttMs),
          rttP95Ms: round1(percentile(watch.rtts, 95) ?? answer.rttMs),
          lastSeenAt: now,
          ...(clock === undefined ? {} : { clockOffsetMs: Math.round(clock.offsetMs), clockErrorMs: round1(clock.errorMs) }),
        };
        this.#update(watch, fresh, rttWorthReporting(watch.reportedRtt, answer.rttMs, now - watch.reportedAt));
      })
      .catch((error: unknown) => this.logger.warn({ err: error, memberId: watch.member.memberId }, 'probe failed'));
  }

  /** Recomputes the member's state; saves and announces it on a change of state, or with a fresh RTT. */
  #update(watch: MemberWatch, fresh: Partial<Presence>, freshRtt = false) {
    const now = this.clock.now();
    const state = presenceState([...watch.devices.values()], now, this.timing);
    const previous = watch.presence.state;
    const { offlineSince, ...rest } = { ...watch.presence, ...fresh, state };
    const since = state !== 'offline' ? undefined : previous === 'offline' ? offlineSince : now;
    watch.presence = { ...rest, ...(since === undefined ? {} : { offlineSince: since }) };
    if (state === previous && !freshRtt) return;
    const presence = watch.presence;
    watch.reportedAt = now;
    watch.reportedRtt = presence.rttMs;
    const log = state !== previous ? [logLine.presence(now, watch.member.memberId, state, previous, presence.rttMs)] : [];
    const device = { id: watch.speakingDevice, onlyIfOwner: state === 'offline' };
    watch.saving = watch.saving
      .then(async () => {
        if (state !== previous) await this.watcher.changing(watch.missionId, presence, previous);
        if (!(await this.store.savePresence(watch.missionId, presence, log, device))) return;
        this.fanout.toWatchers(watch.missionId, 'presence', presence);
        if (state !== previous) await this.watcher.changed(watch.missionId, presence, previous);
        if (state === 'offline' && previous !== 'offline' && ROLE_AUTHORITY[watch.member.role].receivesCues) {
          const mission = await this.store.getMission(watch.missionId);
          if (mission?.status === 'active')
            await this.deadlines.schedule(
              { kind: 'offline', missionId: watch.missionId, memberId: watch.member.memberId, since: now },
              now + mission.settings.offlineGraceMs,
            );
        }
      })
      .catch((error: unknown) => this.logger.warn({ err: error, memberId: watch.member.memberId }, 'presence not saved'));
  }
}
