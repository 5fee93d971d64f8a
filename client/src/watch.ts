import type { Alert, Member, Mission, Observation, Presence, Recipient, RecipientState, TriggerState } from '@lockstep/shared';
import { RECIPIENT_PROGRESS } from '@lockstep/shared/constants';
import { mergeObservations } from './coordination.ts';
import type { Connection } from './lockstep-client.ts';

/**
 * What the CPO handset and the board both follow: the mission's triggers, alerts, presence and
 * observations, from the snapshot on every connect and the live events in between.
 */

/** A recipient whose state moved, seen live (never for what a snapshot brings). */
export interface RecipientChange {
  trigger: TriggerState;
  recipient: Recipient;
  from: RecipientState | undefined;
}

export interface WatchListeners {
  /** Anything changed: re-render. */
  changed(): void;
  recipientChanged?(change: RecipientChange): void;
  alertRaised?(alert: Alert): void;
  /** An observation posted while this screen was live (never for what a snapshot brings). */
  observed?(observation: Observation): void;
  /** A live hesitation the answer disproved (docs/PROTOCOL.md §3). */
  alertWithdrawn?(alert: Alert): void;
}

const RTT_HISTORY = 40;

/** How far a trigger has come: states only move forward, so of two copies the further one is the newer. */
const progressOf = (t: TriggerState) =>
  t.recipients.reduce((sum, r) => sum + RECIPIENT_PROGRESS[r.state] + (r.gapMs === undefined ? 0 : 1), 0);

export class MissionWatch {
  mission: Mission | undefined;
  self: Member | undefined;
  readonly triggers = new Map<string, TriggerState>();
  readonly alerts = new Map<string, Alert>();
  readonly presence = new Map<string, Presence>();
  /** memberId → recent RTTs, oldest first, for the sparklines. */
  readonly rttHistory = new Map<string, number[]>();
  observations: Observation[] = [];

  constructor(connection: Connection, listeners: WatchListeners) {
    const { socket } = connection;
    socket.on('mission', (mission) => {
      this.mission = mission;
      listeners.changed();
    });
    socket.on('trigger:state', (next) => {
      const previous = this.triggers.get(next.id);
      if (previous && progressOf(previous) > progressOf(next)) return;
      this.triggers.set(next.id, next);
      for (const recipient of next.recipients) {
        const from = previous?.recipients.find((r) => r.memberId === recipient.memberId)?.state;
        if (from !== recipient.state) listeners.recipientChanged?.({ trigger: next, recipient, from });
      }
      listeners.changed();
    });
    socket.on('alert', (alert) => {
      const known = this.alerts.get(alert.id);
      this.alerts.set(alert.id, alert);
      if (!known && alert.resolvedAt === undefined) listeners.alertRaised?.(alert);
      if (known && known.withdrawnAt === undefined && alert.withdrawnAt !== undefined) listeners.alertWithdrawn?.(alert);
      listeners.changed();
    });
    socket.on('presence', (presence) => {
      this.#presence(presence);
      listeners.changed();
    });
    socket.on('observation', (observation) => {
      const known = this.observations.some((o) => o.id === observation.id);
      this.observations = mergeObservations(this.observations, [observation]);
      if (!known) listeners.observed?.(observation);
      listeners.changed();
    });
    connection.onSnapshot((snapshot, { self }) => {
      this.mission = snapshot.mission;
      this.self = self ?? this.self;
      for (const item of snapshot.triggers) {
        if (!('recipients' in item)) continue;
        const known = this.triggers.get(item.id);
        // An event that crossed the snapshot on the wire may already be newer than it.
        if (!known || progressOf(item) >= progressOf(known)) this.triggers.set(item.id, item);
      }
      // The snapshot lists open alerts only: one missing from it was resolved while this screen was away.
      const open = new Set(snapshot.alerts.map((a) => a.id));
      for (const [id, alert] of this.alerts) if (alert.resolvedAt === undefined && !open.has(id)) this.alerts.delete(id);
      for (const alert of snapshot.alerts) if (!this.alerts.get(alert.id)?.resolvedAt) this.alerts.set(alert.id, alert);
      for (const presence of snapshot.presence) this.#presence(presence);
      this.observations = mergeObservations(this.observations, snapshot.observations);
      listeners.changed();
    });
  }

  /** Triggers, newest first. */
  triggersByRecency(): TriggerState[] {
    return [...this.triggers.values()].sort((a, b) => b.issuedAt - a.issuedAt);
  }

  openAlerts(): Alert[] {
    return [...this.alerts.values()].filter((a) => a.resolvedAt === undefined).sort((a, b) => b.at - a.at);
  }

  /** The latest withdrawn alerts seen here, newest first: shown struck through, never as open. */
  withdrawnAlerts(limit = 5): Alert[] {
    return [...this.alerts.values()]
      .filter((a) => a.withdrawnAt !== undefined)
      .sort((a, b) => (b.withdrawnAt ?? 0) - (a.withdrawnAt ?? 0))
      .slice(0, limit);
  }

  #presence(presence: Presence) {
    const known = this.presence.get(presence.memberId);
    if (known && known.lastSeenAt > presence.lastSeenAt) return;
    this.presence.set(presence.memberId, presence);
    if (presence.rttMs !== undefined) {
      const history = this.rttHistory.get(presence.memberId) ?? [];
      this.rttHistory.set(presence.memberId, [...history, presence.rttMs].slice(-RTT_HISTORY));
    }
  }
}
