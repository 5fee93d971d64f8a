import type { Member, Presence, PresenceState } from '@lockstep/shared';
import { ROLE_AUTHORITY } from '@lockstep/shared';
import type { Logger } from 'pino';
import { alertId, type Alerts } from '../alerts.ts';
import type { Clock } from '../clock.ts';
import type { Fanout } from '../fanout.ts';
import { percentile, round1 } from '../rules/latency.ts';
import type { Store } from '../store/store.ts';

export interface PresenceTiming {
  /** PROTOCOL.md §5: every 3 s. */
  probeIntervalMs: number;
  /** PROTOCOL.md §5: `offline` after 10 s without an answer. */
  offlineAfterMs: number;
}

export const PROTOCOL_PRESENCE: PresenceTiming = { probeIntervalMs: 3000, offlineAfterMs: 10_000 };

/** Probes in a row a device may miss before its member is `stale`. */
const MISSED_FOR_STALE = 2;

/** One connected device as presence sees it; the socket layer supplies `probe`. */
export interface ProbedDevice {
  id: string;
  /** Sends `probe` and resolves with the answer's round trip in ms, or undefined when none came within `timeoutMs`. */
  probe(timeoutMs: number): Promise<number | undefined>;
}

interface DeviceWatch {
  device: ProbedDevice;
  missed: number;
  lastAnswerAt: number;
  timer: NodeJS.Timeout;
}

interface MemberWatch {
  member: Member;
  missionId: string;
  devices: Map<string, DeviceWatch>;
  presence: Presence;
  offlineTimer?: NodeJS.Timeout | undefined;
}

/** The state of a member from its devices (PROTOCOL.md §5). Pure. */
export function presenceState(devices: readonly Pick<DeviceWatch, 'missed' | 'lastAnswerAt'>[], now: number, timing: PresenceTiming): PresenceState {
  if (devices.length === 0) return 'offline';
  if (devices.some((d) => d.missed < MISSED_FOR_STALE)) return 'online';
  const lastAnswer = Math.max(...devices.map((d) => d.lastAnswerAt));
  return now - lastAnswer >= timing.offlineAfterMs ? 'offline' : 'stale';
}

/**
 * Presence and latency of every device: probes each one every few seconds, keeps the
 * member's RTT (latest and rolling p95) in the store, and tells lead, cpo and ops.
 */
export class PresenceTracker {
  /** Every member seen on this node; kept after disconnect so a reconnect resumes its RTT window and cancels its offline alert. */
  readonly #members = new Map<string, MemberWatch>();

  constructor(
    private readonly store: Store,
    private readonly fanout: Fanout,
    private readonly alerts: Alerts,
    private readonly clock: Clock,
    private readonly timing: PresenceTiming,
    private readonly logger: Logger,
  ) {}

  /** The latest RTT of the member's device that answered last. */
  rttOf(memberId: string): number | undefined {
    return this.#members.get(memberId)?.presence.rttMs;
  }

  attach(member: Member, missionId: string, device: ProbedDevice): void {
    const now = this.clock.now();
    const watch = this.#members.get(member.memberId) ?? {
      member,
      missionId,
      devices: new Map(),
      presence: { memberId: member.memberId, callsign: member.callsign, role: member.role, ...(member.vehicleId ? { vehicleId: member.vehicleId } : {}), state: 'offline', lastSeenAt: now },
    };
    this.#members.set(member.memberId, watch);
    const timer = setInterval(() => this.#probe(watch, device.id), this.timing.probeIntervalMs);
    timer.unref();
    watch.devices.set(device.id, { device, missed: 0, lastAnswerAt: now, timer });
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

  close(): void {
    for (const watch of this.#members.values()) {
      for (const device of watch.devices.values()) clearInterval(device.timer);
      clearTimeout(watch.offlineTimer);
    }
    this.#members.clear();
  }

  #probe(watch: MemberWatch, deviceId: string) {
    const device = watch.devices.get(deviceId);
    if (!device) return;
    device.device
      .probe(this.timing.probeIntervalMs)
      .then(async (rttMs) => {
        if (!watch.devices.has(deviceId)) return;
        const now = this.clock.now();
        if (rttMs === undefined) {
          device.missed += 1;
          this.#update(watch, {});
          return;
        }
        device.missed = 0;
        device.lastAnswerAt = now;
        const window = await this.store.recordRtt(watch.member.memberId, rttMs);
        this.#update(watch, { rttMs: round1(rttMs), rttP95Ms: round1(percentile(window, 95) ?? rttMs), lastSeenAt: now }, true);
      })
      .catch((error: unknown) => this.logger.warn({ err: error, memberId: watch.member.memberId }, 'probe failed'));
  }

  /** Recomputes the member's state; saves and announces it on a change of state, or with a fresh RTT. */
  #update(watch: MemberWatch, fresh: Partial<Presence>, freshRtt = false) {
    const now = this.clock.now();
    const state = presenceState([...watch.devices.values()], now, this.timing);
    const previous = watch.presence.state;
    watch.presence = { ...watch.presence, ...fresh, state };
    if (state === previous && !freshRtt) return;
    const changed = state !== previous;
    const log = changed ? [{ at: now, kind: 'presence' as const, memberId: watch.member.memberId, data: { state, previous, rttMs: watch.presence.rttMs } }] : [];
    this.store
      .savePresence(watch.missionId, watch.presence, log)
      .catch((error: unknown) => this.logger.warn({ err: error, memberId: watch.member.memberId }, 'presence not saved'));
    this.fanout.toWatchers(watch.missionId, 'presence', watch.presence);
    if (changed) this.#offlineAlert(watch, state, now);
  }

  /** A driver's device gone for `offlineGraceMs` in an active mission raises `offline` once per absence. */
  #offlineAlert(watch: MemberWatch, state: PresenceState, since: number) {
    if (!ROLE_AUTHORITY[watch.member.role].receivesCues) return;
    if (state !== 'offline') {
      clearTimeout(watch.offlineTimer);
      watch.offlineTimer = undefined;
      return;
    }
    if (watch.offlineTimer) return;
    void this.store.getMission(watch.missionId).then((mission) => {
      if (!mission || mission.status !== 'active') return;
      watch.offlineTimer = setTimeout(() => {
        watch.offlineTimer = undefined;
        if (watch.presence.state !== 'offline') return;
        void this.alerts
          .raise(alertId('offline', watch.member.memberId, String(since)), {
            kind: 'offline',
            missionId: watch.missionId,
            memberId: watch.member.memberId,
            vehicleId: watch.member.vehicleId,
            valueMs: mission.settings.offlineGraceMs,
          })
          .catch((error: unknown) => this.logger.warn({ err: error }, 'offline alert not raised'));
      }, mission.settings.offlineGraceMs);
      watch.offlineTimer.unref();
    });
  }
}
