import type { Presence, PresenceState } from '@lockstep/shared';
import type { Logger } from 'pino';
import { alertId, type Alerts } from '../alerts.ts';
import type { Clock } from '../clock.ts';
import { type Deadline, deadlineKey } from '../deadline-keys.ts';
import type { Deadlines } from '../deadlines.ts';
import type { Fanout } from '../fanout.ts';
import { logLine } from '../log/log-lines.ts';
import { accept } from '../refusal.ts';
import type { PresenceWatcher } from '../presence/presence.ts';
import { mayActAsLead } from '../rules/authority.ts';
import { commandAfter, isOnline } from '../rules/succession.ts';
import type { Store } from '../store/store.ts';

export interface SuccessionDeps {
  store: Store;
  deadlines: Deadlines;
  fanout: Fanout;
  alerts: Alerts;
  clock: Clock;
  logger: Logger;
}

/**
 * Succession of command (docs/PROTOCOL.md §11): looks at who holds command whenever a lead or a
 * member who may act as lead comes or goes, at start, on a new plan, and when a grace runs out
 * (a deadline in the store, so any node looks). The mission record holds `actingLeadId`; a
 * handover's alert is a deadline due at once, written in the same step, so it is raised once.
 */
export class Succession implements PresenceWatcher {
  constructor(private readonly deps: SuccessionDeps) {}

  /**
   * A lead or someone in line is going offline: the look once their grace has run out is written
   * before their absence is, so a node that dies in between leaves the store knowing to look.
   */
  async changing(missionId: string, presence: Presence, _previous: PresenceState): Promise<void> {
    if (!mayActAsLead(presence.role) || presence.offlineSince === undefined) return;
    const mission = await this.deps.store.getMission(missionId);
    if (mission?.status !== 'active' || (!mission.plan.successionOfCommand?.length && mission.actingLeadId === undefined)) return;
    const at = presence.offlineSince + mission.settings.offlineGraceMs;
    await this.deps.deadlines.schedule({ kind: 'command', missionId, at }, at);
  }

  /** Only leads and those who may act as lead can change who holds command: look at once when one comes or goes. */
  async changed(missionId: string, presence: Presence, _previous: PresenceState): Promise<void> {
    if (mayActAsLead(presence.role)) await this.review(missionId);
  }

  fireReview(due: Extract<Deadline, { kind: 'command' }>): Promise<void> {
    return this.review(due.missionId);
  }

  async fireHandover(due: Extract<Deadline, { kind: 'command-handover' }>): Promise<void> {
    await this.deps.alerts.raiseDue(alertId('command-handover', due.memberId, String(due.at)), {
      kind: 'command-handover',
      missionId: due.missionId,
      memberId: due.memberId,
      ...(due.fromMemberId === null ? {} : { fromMemberId: due.fromMemberId }),
      at: due.at,
    });
  }

  /** Decides who holds command now, writes it when it changed, and sets the next look when a grace is running. */
  async review(missionId: string): Promise<void> {
    const mission = await this.deps.store.getMission(missionId);
    if (mission?.status !== 'active') return;
    if (!mission.plan.successionOfCommand?.length && mission.actingLeadId === undefined) return;
    const presence = new Map((await this.deps.store.missionPresence(missionId)).map((p) => [p.memberId, p]));
    const now = this.deps.clock.now();
    let handover: Deadline | undefined;
    let reviewAt: number | undefined;
    let handsChanged = false;
    const changed = await this.deps.store.changeMission(missionId, (current) => {
      handover = undefined;
      const decision = commandAfter(current, presence, now);
      reviewAt = decision.reviewAt;
      handsChanged = decision.actingLeadId !== current.actingLeadId;
      if (!handsChanged) return accept({ next: current, log: [] });
      const { actingLeadId: from, ...rest } = current;
      if (decision.actingLeadId === undefined) {
        const lead = current.members.find((m) => m.role === 'lead' && isOnline(presence.get(m.memberId)));
        return accept({ next: rest, log: from && lead ? [logLine.commandResumed(now, lead.memberId, from)] : [] });
      }
      handover = {
        kind: 'command-handover',
        missionId,
        memberId: decision.actingLeadId,
        fromMemberId: decision.fromMemberId ?? null,
        at: now,
      };
      return accept({
        next: { ...rest, actingLeadId: decision.actingLeadId },
        log: [logLine.commandHandover(now, decision.actingLeadId, decision.fromMemberId)],
        deadlines: { schedule: [{ key: deadlineKey(handover), at: now }] },
      });
    });
    if (!changed.ok) {
      this.deps.logger.warn({ missionId, code: changed.refusal.code }, 'command not reviewed');
      return;
    }
    if (handsChanged) {
      this.deps.fanout.toMission(missionId, 'mission', changed.value);
      this.deps.logger.info({ missionId, actingLeadId: changed.value.actingLeadId }, 'command changed hands');
    }
    if (handover) this.deps.deadlines.expect(handover, now);
    if (reviewAt !== undefined) await this.deps.deadlines.schedule({ kind: 'command', missionId, at: reviewAt }, reviewAt);
  }
}
