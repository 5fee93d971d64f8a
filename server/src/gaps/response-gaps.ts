import type { Member, Receipt, ReplyBody, TriggerRespond } from '@lockstep/shared';
import type { Logger } from 'pino';
import { alertId, type AlertDraft, type Alerts } from '../alerts.ts';
import type { Clock } from '../clock.ts';
import { type Deadline, deadlineKey } from '../deadline-keys.ts';
import type { Deadlines } from '../deadlines.ts';
import type { Fanout } from '../fanout.ts';
import type { Metrics } from '../metrics.ts';
import { accept, refuse, type Result } from '../refusal.ts';
import {
  expire,
  handOverCue,
  hesitationDueAt,
  markHesitation,
  markUndelivered,
  recordAnswer,
  recordReceipt,
  type AnswerOutcome,
  type DeviceLink,
  type Transition,
} from '../rules/timing.ts';
import type { RecipientRecord, TriggerRecord } from '../rules/trigger-record.ts';
import { cuesToRedeliver, triggerState } from '../rules/triggers.ts';
import type { DeadlineChanges, LogDraft, Store } from '../store/store.ts';
import { logLine } from '../log/log-lines.ts';

/** This tracker's deadlines: what is due, and for whom. */
const due = {
  undelivered: (triggerId: string, memberId: string): Deadline => ({ kind: 'undelivered', triggerId, memberId }),
  hesitation: (triggerId: string, memberId: string): Deadline => ({ kind: 'hesitation', triggerId, memberId }),
  expired: (triggerId: string): Deadline => ({ kind: 'expired', triggerId }),
};
const keys = (...deadlines: Deadline[]) => deadlines.map(deadlineKey);

/** The deadlines a new trigger starts with. */
function startingDeadlines(trigger: TriggerRecord): { deadline: Deadline; at: number }[] {
  return [
    ...trigger.recipients.map((r) => ({ deadline: due.undelivered(trigger.id, r.memberId), at: trigger.issuedAt + trigger.thresholdMs })),
    { deadline: due.expired(trigger.id), at: trigger.staleAt },
  ];
}

/** The deadlines a new trigger starts with, as the store keeps them: in the same step as the trigger. */
export function issueDeadlines(trigger: TriggerRecord): { key: string; at: number }[] {
  return startingDeadlines(trigger).map(({ deadline, at }) => ({ key: deadlineKey(deadline), at }));
}

export interface ResponseGapDeps {
  store: Store;
  deadlines: Deadlines;
  fanout: Fanout;
  alerts: Alerts;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** The member's latest round trip, for `networkMs`. */
  rttOf: (memberId: string) => number | undefined;
  /** The clock offset and p95 RTT of the device that sent a receipt, for the live deadline. */
  linkOf: (memberId: string, deviceId: string) => DeviceLink;
}

interface Applied {
  trigger: TriggerRecord;
  recipients: RecipientRecord[];
}

/**
 * Watches every open cue against its deadlines (docs/PROTOCOL.md §3): undelivered at
 * `issuedAt + threshold`, hesitation at the live deadline (the device's `shownAt` in server
 * time + threshold + uplink allowance), expired at `staleAt`. An answer that disproves a live
 * hesitation withdraws its alert.
 * Alerts are raised when the deadline passes, not when the answer comes, by whichever
 * node claims the deadline: the one that set it may be gone.
 */
export class ResponseGapTracker {
  private readonly store: Store;
  private readonly deadlines: Deadlines;
  private readonly fanout: Fanout;
  private readonly alerts: Alerts;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly rttOf: (memberId: string) => number | undefined;
  private readonly linkOf: (memberId: string, deviceId: string) => DeviceLink;

  constructor(deps: ResponseGapDeps) {
    ({
      store: this.store,
      deadlines: this.deadlines,
      fanout: this.fanout,
      alerts: this.alerts,
      clock: this.clock,
      metrics: this.metrics,
      logger: this.logger,
      rttOf: this.rttOf,
      linkOf: this.linkOf,
    } = deps);
  }

  /** Arms the local timers of a freshly issued trigger, whose deadlines the store already holds. */
  track(trigger: TriggerRecord): void {
    for (const { deadline, at } of startingDeadlines(trigger)) this.deadlines.expect(deadline, at);
  }

  /** The cue had no receipt within its threshold. */
  fireUndelivered(deadline: { triggerId: string; memberId: string }): Promise<void> {
    return this.#undelivered(deadline.triggerId, deadline.memberId);
  }

  /** The delivered cue had no answer within its threshold. */
  fireHesitation(deadline: { triggerId: string; memberId: string }): Promise<void> {
    return this.#hesitation(deadline.triggerId, deadline.memberId);
  }

  /** The trigger went stale. */
  fireExpired(deadline: { triggerId: string }): Promise<void> {
    return this.#expire(deadline.triggerId, 'deadline');
  }

  /** The receipt of a cue from one device: the device drew it at `shownAt` (its own clock). */
  async receipt(triggerId: string, memberId: string, deviceId: string, receipt: Receipt): Promise<void> {
    const now = this.clock.now();
    const rtt = this.rttOf(memberId);
    const networkMs = rtt === undefined ? undefined : Math.round((rtt / 2) * 10) / 10;
    const link = this.linkOf(memberId, deviceId);
    const hesitationAt = (t: TriggerRecord) => {
      const r = t.recipients.find((x) => x.memberId === memberId);
      return (r && hesitationDueAt(t, r)) ?? now + t.thresholdMs;
    };
    const applied = await this.#apply(
      triggerId,
      (t) => recordReceipt(t, memberId, receipt.shownAt, networkMs, now, link),
      (t, recipients) =>
        recipients.map((r) => logLine.triggerReceipt(now, t.id, r.memberId, receipt.shownAt, networkMs, r, link.clock?.errorMs)),
      (t) => ({
        schedule: [{ key: deadlineKey(due.hesitation(t.id, memberId)), at: hesitationAt(t) }],
        complete: keys(due.undelivered(t.id, memberId)),
      }),
    );
    if (!applied) return;
    this.metrics.deliverySeconds.observe((now - applied.trigger.issuedAt) / 1000);
    this.deadlines.forget(due.undelivered(triggerId, memberId));
    this.deadlines.expect(due.hesitation(triggerId, memberId), hesitationAt(applied.trigger));
  }

  /** `trigger:respond`: checks of §4 after the role and payload, then the gap. */
  async answer(driver: Member, missionId: string, answer: TriggerRespond): Promise<Result<ReplyBody<'trigger:respond'>>> {
    const now = this.clock.now();
    // A cue for another vehicle or mission is not_found: a driver must not learn it exists.
    const noSuchCue = refuse('not_found', 'no such cue for this device');
    const settled = [due.hesitation(answer.triggerId, driver.memberId), due.undelivered(answer.triggerId, driver.memberId)];
    let outcome: AnswerOutcome | undefined;
    const result = await this.store.changeTrigger(answer.triggerId, (trigger) => {
      if (trigger.missionId !== missionId || !trigger.recipients.some((r) => r.memberId === driver.memberId)) return noSuchCue;
      const answered = recordAnswer(trigger, driver.memberId, answer, now);
      if (!answered.ok) return answered;
      outcome = answered.value;
      const r = answered.value.recipient;
      return accept({
        next: answered.value.trigger,
        log: [logLine.triggerAnswered(now, trigger.id, r)],
        deadlines: { complete: keys(...settled) },
      });
    });
    if (!result.ok) {
      if (result.refusal.code === 'not_found') return noSuchCue;
      // The cue went stale before its deadline fired anywhere: expire it now so everyone sees it.
      if (result.refusal.code === 'expired') await this.#expire(answer.triggerId, 'late answer');
      return result;
    }
    if (!outcome) return refuse('internal', 'the answer was not recorded');
    const { recipient, hesitationFirstSeen, hesitationWithdrawn } = outcome;
    this.deadlines.forget(...settled);
    this.fanout.toWatchers(missionId, 'trigger:state', triggerState(result.value));
    this.metrics.responseGapSeconds.observe({ gap_source: recipient.gapSource ?? 'server' }, (recipient.gapMs ?? 0) / 1000);
    if (hesitationFirstSeen) await this.#raiseHesitation(result.value, recipient, recipient.gapMs);
    if (hesitationWithdrawn)
      await this.alerts.withdraw(
        alertId('hesitation', result.value.id, recipient.memberId),
        this.#hesitationDraft(result.value, recipient, recipient.gapMs),
      );
    return accept({ gapMs: recipient.gapMs ?? 0, gapSource: recipient.gapSource ?? 'server', hesitation: recipient.hesitation });
  }

  /**
   * §9: the cue passes to a new driver. The old recipient's deadlines are cleared; the new one's
   * undelivered deadline runs from now, as for a cue just issued.
   */
  async handOver(triggerId: string, fromMemberId: string, to: Member): Promise<TriggerRecord | undefined> {
    const now = this.clock.now();
    const settled = [due.hesitation(triggerId, fromMemberId), due.undelivered(triggerId, fromMemberId)];
    const undeliveredAt = (t: TriggerRecord) => now + t.thresholdMs;
    let moved = false;
    const result = await this.store.handOverCue(triggerId, (trigger) => {
      const transition = handOverCue(
        trigger,
        fromMemberId,
        { memberId: to.memberId, callsign: to.callsign, vehicleId: to.vehicleId ?? '' },
        now,
      );
      moved = transition.changed.length > 0;
      if (!moved) return accept({ next: trigger, log: [] });
      return accept({
        next: transition.trigger,
        log: [],
        deadlines: {
          schedule: [{ key: deadlineKey(due.undelivered(triggerId, to.memberId)), at: undeliveredAt(trigger) }],
          complete: keys(...settled),
        },
      });
    });
    if (!result.ok || !moved) return undefined;
    this.deadlines.forget(...settled);
    this.deadlines.expect(due.undelivered(triggerId, to.memberId), undeliveredAt(result.value));
    this.fanout.toWatchers(result.value.missionId, 'trigger:state', triggerState(result.value));
    return result.value;
  }

  async #undelivered(triggerId: string, memberId: string) {
    const now = this.clock.now();
    const applied = await this.#apply(triggerId, (t) => markUndelivered(t, memberId, now));
    if (!applied) return;
    // The cue may have died with a node or a socket on its way: send it again, alongside the alert.
    for (const again of cuesToRedeliver(applied.trigger, now, memberId)) this.fanout.deliverCue(again.memberId, again.cue);
    for (const r of alertedIn(applied.trigger, 'undelivered', memberId)) {
      await this.alerts.raiseDue(alertId('undelivered', triggerId, r.memberId), {
        kind: 'undelivered',
        missionId: applied.trigger.missionId,
        memberId: r.memberId,
        vehicleId: r.vehicleId,
        triggerId,
        valueMs: now - applied.trigger.issuedAt,
        thresholdMs: applied.trigger.thresholdMs,
      });
    }
  }

  async #hesitation(triggerId: string, memberId: string) {
    const now = this.clock.now();
    const applied = await this.#apply(triggerId, (t) => markHesitation(t, memberId, now));
    if (!applied) return;
    // The alert's value is how long the cue has been on screen, from the device's clock where known.
    for (const r of alertedIn(applied.trigger, 'hesitation', memberId))
      await this.alerts.raiseDue(
        alertId('hesitation', applied.trigger.id, r.memberId),
        this.#hesitationDraft(applied.trigger, r, now - (r.drawnAt ?? r.deliveredAt ?? now)),
      );
  }

  /**
   * A late answer expires only what has not expired yet; the deadline also raises what a node
   * that expired the cue and died left unraised.
   */
  async #expire(triggerId: string, by: 'deadline' | 'late answer') {
    const now = this.clock.now();
    const settledFor = (recipients: RecipientRecord[]) =>
      recipients.flatMap((r) => [due.hesitation(triggerId, r.memberId), due.undelivered(triggerId, r.memberId)]);
    const applied = await this.#apply(
      triggerId,
      (t) => expire(t, now),
      (t, recipients) => recipients.map((r) => logLine.triggerExpired(now, t, r.memberId)),
      (_t, recipients) => ({ complete: keys(...settledFor(recipients)) }),
    );
    if (!applied) return;
    this.deadlines.forget(...settledFor(applied.recipients));
    for (const r of by === 'deadline' ? alertedIn(applied.trigger, 'expired') : applied.recipients) {
      this.fanout.toMember(r.memberId, 'trigger:expired', { id: triggerId });
      await this.alerts.raiseDue(alertId('expired', triggerId, r.memberId), {
        kind: 'expired',
        missionId: applied.trigger.missionId,
        memberId: r.memberId,
        vehicleId: r.vehicleId,
        triggerId,
        valueMs: now - applied.trigger.issuedAt,
      });
    }
  }

  async #raiseHesitation(trigger: TriggerRecord, r: RecipientRecord, valueMs: number | undefined) {
    await this.alerts.raise(alertId('hesitation', trigger.id, r.memberId), this.#hesitationDraft(trigger, r, valueMs));
  }

  #hesitationDraft(trigger: TriggerRecord, r: RecipientRecord, valueMs: number | undefined): AlertDraft {
    return {
      kind: 'hesitation',
      missionId: trigger.missionId,
      memberId: r.memberId,
      vehicleId: r.vehicleId,
      triggerId: trigger.id,
      valueMs,
      thresholdMs: trigger.thresholdMs,
    };
  }

  /**
   * Applies a timing transition through the store, with its log lines and deadlines; on a change,
   * tells the watchers. Answers the trigger as it now stands even when nothing moved: a node may
   * have moved it and died before raising the alert, and the deadline then fires again elsewhere.
   */
  async #apply(
    triggerId: string,
    transition: (trigger: TriggerRecord) => Transition,
    logOf: (trigger: TriggerRecord, changed: RecipientRecord[]) => LogDraft[] = () => [],
    deadlinesOf: (trigger: TriggerRecord, changed: RecipientRecord[]) => DeadlineChanges = () => ({}),
  ): Promise<Applied | undefined> {
    let changed: RecipientRecord[] = [];
    const result = await this.store.changeTrigger(triggerId, (trigger) => {
      const moved = transition(trigger);
      changed = moved.changed;
      if (!changed.length) return accept({ next: trigger, log: [] });
      return accept({ next: moved.trigger, log: logOf(moved.trigger, changed), deadlines: deadlinesOf(moved.trigger, changed) });
    });
    if (!result.ok) {
      if (result.refusal.code !== 'not_found') this.logger.warn({ triggerId, code: result.refusal.code }, 'timing transition not applied');
      return undefined;
    }
    if (changed.length > 0) this.fanout.toWatchers(result.value.missionId, 'trigger:state', triggerState(result.value));
    return { trigger: result.value, recipients: changed };
  }
}

/**
 * The recipients (of one member, or all) a deadline leaves in the state its alert reports: the
 * ones it just moved, and any a node moved before dying without raising the alert. Raised with
 * `raiseDue`, so an alert that exists already is told again rather than lost or doubled.
 */
function alertedIn(trigger: TriggerRecord, state: RecipientRecord['state'], memberId?: string): RecipientRecord[] {
  return trigger.recipients.filter((r) => r.state === state && (memberId === undefined || r.memberId === memberId));
}
