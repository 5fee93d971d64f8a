import type { Member, Mission, ReplyBody, TriggerCue, TriggerIssue } from '@lockstep/shared';
import type { Logger } from 'pino';
import { alertId, type Alerts } from '../alerts.ts';
import type { Clock } from '../clock.ts';
import type { OverloadWatch } from '../coordination/overload.ts';
import type { Fanout } from '../fanout.ts';
import { issueDeadlines, type ResponseGapTracker } from '../gaps/response-gaps.ts';
import type { Metrics } from '../metrics.ts';
import { accept, refuse, type Result } from '../refusal.ts';
import { checkRoute, checkTarget } from '../rules/authority.ts';
import { issueFingerprint, targetVehicleIds, type TriggerRecord } from '../rules/trigger-record.ts';
import { cuesToRedeliver, newTriggerRecord, triggerCue, triggerState } from '../rules/triggers.ts';
import type { Store } from '../store/store.ts';
import { logLine } from '../log/log-lines.ts';

export interface RelayDeps {
  store: Store;
  fanout: Fanout;
  gaps: ResponseGapTracker;
  alerts: Alerts;
  overload: OverloadWatch;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
}

/** What `trigger:issue` answers: the trigger's state, and `warnings: ["overload"]` for a cue sent in a burst. */
export type IssueReply = ReplyBody<'trigger:issue'>;

/**
 * The relay: authorise → validate (done at the socket boundary) → log → emit to the target
 * drivers → the receipt and the answer go to the response-gap tracker.
 */
export class Relay {
  private readonly store: Store;
  private readonly fanout: Fanout;
  private readonly gaps: ResponseGapTracker;
  private readonly alerts: Alerts;
  private readonly overload: OverloadWatch;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly logger: Logger;

  constructor(deps: RelayDeps) {
    ({
      store: this.store,
      fanout: this.fanout,
      gaps: this.gaps,
      alerts: this.alerts,
      overload: this.overload,
      clock: this.clock,
      metrics: this.metrics,
      logger: this.logger,
    } = deps);
  }

  /** `trigger:issue`, after the role and payload checks: authority, existence, state, then the durable write and the emit. */
  async issue(issuer: Member, missionId: string, issue: TriggerIssue, receivedAt: number): Promise<Result<IssueReply>> {
    const mission = await this.store.getMission(missionId);
    if (!mission) return refuse('not_found', 'no such mission');
    const target = checkTarget(issuer, mission, issue);
    if (!target.ok) return target;

    const fingerprint = issueFingerprint(issuer.memberId, missionId, issue);
    const route = checkRoute(mission, issue);
    if (mission.status !== 'active' || !route.ok) {
      // A retry of a trigger accepted earlier still gets its state; anything new is refused.
      const existing = await this.store.getTrigger(issue.id);
      if (existing) return this.#retried(existing, fingerprint, missionId);
      if (mission.status !== 'active')
        return refuse('mission_not_active', `the mission is ${mission.status}; triggers are accepted only while it is active`);
      if (!route.ok) return route;
    }

    const now = this.clock.now();
    const record = newTriggerRecord(mission, issuer, issue, now);
    const { created, trigger } = await this.store.issueTrigger(record, logLine.triggerIssued(now, record), issueDeadlines(record));
    // The issue script dedupes by id: an existing trigger comes back untouched.
    if (!created) return this.#retried(trigger, fingerprint, missionId);

    for (const r of trigger.recipients) this.fanout.deliverCue(r.memberId, triggerCue(trigger, r, now));
    this.fanout.toWatchers(missionId, 'trigger:state', triggerState(trigger));
    this.metrics.relaySeconds.observe((this.clock.monotonic() - receivedAt) / 1000);
    this.gaps.track(trigger);
    const [overloaded] = await Promise.all([this.overload.count(trigger, mission), this.#noDriver(trigger, mission)]);
    this.logger.debug({ missionId, triggerId: trigger.id, type: trigger.type }, 'trigger relayed');
    return accept({ trigger: triggerState(trigger), ...(overloaded ? { warnings: ['overload' as const] } : {}) });
  }

  /**
   * The cues a device must get on connect (docs/PROTOCOL.md §5): after `lastSeq`, in seq order,
   * stale ones flagged; without `lastSeq`, every cue still open. Answered cues never come back.
   */
  async cuesToReplay(memberId: string, lastSeq: number | undefined): Promise<TriggerCue[]> {
    const now = this.clock.now();
    const records = await this.store.cuesAfter(memberId, lastSeq ?? 0);
    return records
      .flatMap((trigger) => {
        const recipient = trigger.recipients.find((r) => r.memberId === memberId);
        if (!recipient || recipient.state === 'answered') return [];
        const cue = triggerCue(trigger, recipient, now);
        return lastSeq === undefined && cue.expired ? [] : [cue];
      })
      .sort((a, b) => a.seq - b.seq);
  }

  /**
   * §9: every open cue of a swapped-out driver goes on to the new driver, with its own seq,
   * at once if the new tablet is connected and on its connect otherwise.
   */
  async handOverCues(fromMemberId: string, to: Member): Promise<number> {
    let handed = 0;
    for (const trigger of await this.store.cuesAfter(fromMemberId, 0)) {
      const next = await this.gaps.handOver(trigger.id, fromMemberId, to);
      const recipient = next?.recipients.find((r) => r.memberId === to.memberId);
      if (!next || !recipient) continue;
      handed++;
      this.fanout.deliverCue(to.memberId, triggerCue(next, recipient, this.clock.now()));
    }
    return handed;
  }

  /**
   * The same id again: the same request gets the trigger's current state, anything else is a
   * conflict. A retry usually means the reply was lost, and perhaps the node that wrote the
   * trigger died before emitting it: the cue goes again to every driver who has not received it.
   */
  #retried(existing: TriggerRecord, fingerprint: string, missionId: string): Result<IssueReply> {
    if (existing.fingerprint !== fingerprint || existing.missionId !== missionId)
      return refuse('conflict', 'this trigger id was already used for another request');
    for (const again of cuesToRedeliver(existing, this.clock.now())) this.fanout.deliverCue(again.memberId, again.cue);
    return accept({ trigger: triggerState(existing) });
  }

  /** A targeted vehicle without a driver cannot receive the cue: the CPO must know at once to use voice. */
  async #noDriver(trigger: TriggerRecord, mission: Mission) {
    const reached = new Set(trigger.recipients.map((r) => r.vehicleId));
    for (const vehicleId of targetVehicleIds(mission, trigger).filter((id) => !reached.has(id))) {
      await this.alerts.raise(alertId('undelivered', trigger.id, vehicleId), {
        kind: 'undelivered',
        missionId: mission.id,
        vehicleId,
        triggerId: trigger.id,
        valueMs: 0,
        thresholdMs: trigger.thresholdMs,
      });
    }
  }
}
