import type { Member, Receipt, ReplyBody, TriggerRespond } from '@lockstep/shared';
import type { Logger } from 'pino';
import { alertId, type Alerts } from '../alerts.ts';
import type { Clock } from '../clock.ts';
import type { Deadlines } from '../deadlines.ts';
import type { Fanout } from '../fanout.ts';
import type { Metrics } from '../metrics.ts';
import { accept, refuse, type Result } from '../refusal.ts';
import {
  expire,
  handOverCue,
  markHesitation,
  markUndelivered,
  recordAnswer,
  recordReceipt,
  type AnswerOutcome,
  type Transition,
} from '../rules/timing.ts';
import type { RecipientRecord, TriggerRecord } from '../rules/trigger-record.ts';
import { triggerState } from '../rules/triggers.ts';
import type { DeadlineChanges, LogDraft, Store } from '../store/store.ts';

/** Deadline keys: what is due, and for whom. */
export const deadlineKey = {
  undelivered: (triggerId: string, memberId: string) => `undelivered|${triggerId}|${memberId}`,
  hesitation: (triggerId: string, memberId: string) => `hesitation|${triggerId}|${memberId}`,
  expired: (triggerId: string) => `expired|${triggerId}`,
};

/** The deadlines a new trigger starts with, stored in the same step as the trigger. */
export function issueDeadlines(trigger: TriggerRecord): { key: string; at: number }[] {
  return [
    ...trigger.recipients.map((r) => ({
      key: deadlineKey.undelivered(trigger.id, r.memberId),
      at: trigger.issuedAt + trigger.thresholdMs,
    })),
    { key: deadlineKey.expired(trigger.id), at: trigger.staleAt },
  ];
}

interface Applied {
  trigger: TriggerRecord;
  recipients: RecipientRecord[];
}

/**
 * Watches every open cue against its deadlines (PROTOCOL.md §3): undelivered at
 * `issuedAt + threshold`, hesitation at `deliveredAt + threshold`, expired at `staleAt`.
 * Alerts are raised when the deadline passes, not when the answer comes, by whichever
 * node claims the deadline: the one that set it may be gone.
 */
export class ResponseGapTracker {
  constructor(
    private readonly store: Store,
    private readonly deadlines: Deadlines,
    private readonly fanout: Fanout,
    private readonly alerts: Alerts,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    /** The member's latest round trip, for `networkMs` and the device-gap plausibility check. */
    private readonly rttOf: (memberId: string) => number | undefined,
    /** Sends a cue again to a driver who has not sent its receipt. */
    private readonly redeliver: (trigger: TriggerRecord, memberId: string) => void,
  ) {}

  /** Arms the local timers of a freshly issued trigger, whose deadlines the store already holds. */
  track(trigger: TriggerRecord): void {
    for (const { key, at } of issueDeadlines(trigger)) this.deadlines.expect(key, at);
  }

  /** Fires one of this tracker's deadlines; false when the key is not one of them. */
  async fire(key: string): Promise<boolean> {
    const [kind, triggerId, memberId] = key.split('|');
    if (!triggerId) return false;
    if (kind === 'undelivered' && memberId) await this.#undelivered(triggerId, memberId);
    else if (kind === 'hesitation' && memberId) await this.#hesitation(triggerId, memberId);
    else if (kind === 'expired') await this.#expire(triggerId);
    else return false;
    return true;
  }

  /** The receipt of a cue: the device drew it at `shownAt` (its own clock). */
  async receipt(triggerId: string, memberId: string, receipt: Receipt): Promise<void> {
    const now = this.clock.now();
    const rtt = this.rttOf(memberId);
    const networkMs = rtt === undefined ? undefined : Math.round((rtt / 2) * 10) / 10;
    const hesitationAt = (t: TriggerRecord) => now + t.thresholdMs;
    const applied = await this.#apply(
      triggerId,
      (t) => recordReceipt(t, memberId, receipt.shownAt, networkMs, now),
      (t, recipients) =>
        recipients.map((r) => ({
          at: now,
          kind: 'trigger.receipt',
          memberId: r.memberId,
          triggerId: t.id,
          data: { shownAt: receipt.shownAt, networkMs },
        })),
      (t) => ({
        schedule: [{ key: deadlineKey.hesitation(t.id, memberId), at: hesitationAt(t) }],
        complete: [deadlineKey.undelivered(t.id, memberId)],
      }),
    );
    if (!applied) return;
    this.metrics.deliverySeconds.observe((now - applied.trigger.issuedAt) / 1000);
    this.deadlines.forget(deadlineKey.undelivered(triggerId, memberId));
    this.deadlines.expect(deadlineKey.hesitation(triggerId, memberId), hesitationAt(applied.trigger));
  }

  /** `trigger:respond`: checks of §4 after the role and payload, then the gap. */
  async answer(driver: Member, missionId: string, answer: TriggerRespond): Promise<Result<ReplyBody<'trigger:respond'>>> {
    const now = this.clock.now();
    const current = await this.store.getTrigger(answer.triggerId);
    // A cue for another vehicle or mission is not_found: a driver must not learn it exists.
    if (!current || current.missionId !== missionId || !current.recipients.some((r) => r.memberId === driver.memberId)) {
      return refuse('not_found', 'no such cue for this device');
    }
    const settled = [deadlineKey.hesitation(answer.triggerId, driver.memberId), deadlineKey.undelivered(answer.triggerId, driver.memberId)];
    let outcome: AnswerOutcome | undefined;
    const result = await this.store.changeTrigger(answer.triggerId, (trigger) => {
      const answered = recordAnswer(trigger, driver.memberId, answer, this.rttOf(driver.memberId), now);
      if (!answered.ok) return answered;
      outcome = answered.value;
      const r = answered.value.recipient;
      return accept({
        next: answered.value.trigger,
        log: [
          {
            at: now,
            kind: 'trigger.answered',
            memberId: r.memberId,
            triggerId: trigger.id,
            data: { response: r.response, reason: r.reason, gapMs: r.gapMs, gapSource: r.gapSource, hesitation: r.hesitation },
          },
        ],
        deadlines: { complete: settled },
      });
    });
    if (!result.ok) {
      // The cue went stale before its deadline fired anywhere: expire it now so everyone sees it.
      if (result.refusal.code === 'expired') await this.#expire(answer.triggerId);
      return result;
    }
    if (!outcome) return refuse('internal', 'the answer was not recorded');
    const { recipient, hesitationFirstSeen } = outcome;
    this.deadlines.forget(...settled);
    this.fanout.toWatchers(missionId, 'trigger:state', triggerState(result.value));
    this.metrics.responseGapSeconds.observe({ gap_source: recipient.gapSource ?? 'server' }, (recipient.gapMs ?? 0) / 1000);
    if (hesitationFirstSeen) await this.#raiseHesitation(result.value, recipient, recipient.gapMs);
    return accept({ gapMs: recipient.gapMs ?? 0, gapSource: recipient.gapSource ?? 'server', hesitation: recipient.hesitation });
  }

  /**
   * §9: the cue passes to a new driver. The old recipient's deadlines are cleared; the new one's
   * undelivered deadline runs from now, as for a cue just issued.
   */
  async handOver(triggerId: string, fromMemberId: string, to: Member): Promise<TriggerRecord | undefined> {
    const now = this.clock.now();
    const settled = [deadlineKey.hesitation(triggerId, fromMemberId), deadlineKey.undelivered(triggerId, fromMemberId)];
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
        deadlines: { schedule: [{ key: deadlineKey.undelivered(triggerId, to.memberId), at: undeliveredAt(trigger) }], complete: settled },
      });
    });
    if (!result.ok || !moved) return undefined;
    this.deadlines.forget(...settled);
    this.deadlines.expect(deadlineKey.undelivered(triggerId, to.memberId), undeliveredAt(result.value));
    this.fanout.toWatchers(result.value.missionId, 'trigger:state', triggerState(result.value));
    return result.value;
  }

  async #undelivered(triggerId: string, memberId: string) {
    const now = this.clock.now();
    const applied = await this.#apply(triggerId, (t) => markUndelivered(t, memberId, now));
    // The cue may have died with a node or a socket on its way: send it again, alongside the alert.
    if (applied) this.redeliver(applied.trigger, memberId);
    for (const r of applied?.recipients ?? []) {
      await this.alerts.raise(alertId('undelivered', triggerId, r.memberId), {
        kind: 'undelivered',
        missionId: applied!.trigger.missionId,
        memberId: r.memberId,
        vehicleId: r.vehicleId,
        triggerId,
        valueMs: now - applied!.trigger.issuedAt,
        thresholdMs: applied!.trigger.thresholdMs,
      });
    }
  }

  async #hesitation(triggerId: string, memberId: string) {
    const now = this.clock.now();
    const applied = await this.#apply(triggerId, (t) => markHesitation(t, memberId, now));
    for (const r of applied?.recipients ?? []) await this.#raiseHesitation(applied!.trigger, r, now - (r.deliveredAt ?? now));
  }

  async #expire(triggerId: string) {
    const now = this.clock.now();
    const settledFor = (recipients: RecipientRecord[]) =>
      recipients.flatMap((r) => [deadlineKey.hesitation(triggerId, r.memberId), deadlineKey.undelivered(triggerId, r.memberId)]);
    const applied = await this.#apply(
      triggerId,
      (t) => expire(t, now),
      (t, recipients) =>
        recipients.map((r) => ({ at: now, kind: 'trigger.expired', memberId: r.memberId, triggerId: t.id, data: { staleAt: t.staleAt } })),
      (_t, recipients) => ({ complete: settledFor(recipients) }),
    );
    if (!applied) return;
    this.deadlines.forget(...settledFor(applied.recipients));
    for (const r of applied.recipients) {
      this.fanout.toMember(r.memberId, 'trigger:expired', { id: triggerId });
      await this.alerts.raise(alertId('expired', triggerId, r.memberId), {
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
    await this.alerts.raise(alertId('hesitation', trigger.id, r.memberId), {
      kind: 'hesitation',
      missionId: trigger.missionId,
      memberId: r.memberId,
      vehicleId: r.vehicleId,
      triggerId: trigger.id,
      valueMs,
      thresholdMs: trigger.thresholdMs,
    });
  }

  /** Applies a timing transition through the store, with its log lines and deadlines; on a change, tells the watchers. */
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
    if (changed.length === 0) return undefined;
    this.fanout.toWatchers(result.value.missionId, 'trigger:state', triggerState(result.value));
    return { trigger: result.value, recipients: changed };
  }
}
