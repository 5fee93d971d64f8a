import type { Member, Receipt, TriggerRespond } from '@lockstep/shared';
import type { Logger } from 'pino';
import { alertId, type Alerts } from '../alerts.ts';
import type { Clock } from '../clock.ts';
import type { Fanout } from '../fanout.ts';
import type { Metrics } from '../metrics.ts';
import { accept, refuse, type Result } from '../refusal.ts';
import { expire, markHesitation, markUndelivered, recordAnswer, recordReceipt, type AnswerOutcome, type Transition } from '../rules/timing.ts';
import type { RecipientRecord, TriggerRecord } from '../rules/trigger-record.ts';
import { triggerState } from '../rules/triggers.ts';
import type { LogDraft, Store } from '../store/store.ts';

export interface AnswerReply {
  gapMs: number;
  gapSource: 'device' | 'server';
  hesitation: boolean;
}

/**
 * Watches every open cue against its deadlines (PROTOCOL.md §3): undelivered at
 * `issuedAt + threshold`, hesitation at `deliveredAt + threshold`, expired at `staleAt`.
 * Alerts are raised when the deadline passes, not when the answer comes.
 */
export class ResponseGapTracker {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: Store,
    private readonly fanout: Fanout,
    private readonly alerts: Alerts,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    /** The member's latest round trip, for `networkMs` and the device-gap plausibility check. */
    private readonly rttOf: (memberId: string) => number | undefined,
  ) {}

  /** Starts the clocks of a freshly issued trigger. */
  track(trigger: TriggerRecord): void {
    for (const r of trigger.recipients) {
      this.#at(`undelivered:${trigger.id}:${r.memberId}`, trigger.issuedAt + trigger.thresholdMs, () => this.#undelivered(trigger.id, r.memberId));
    }
    this.#at(`expired:${trigger.id}`, trigger.staleAt, () => this.#expire(trigger.id));
  }

  /** The receipt of a cue: the device drew it at `shownAt` (its own clock). */
  async receipt(triggerId: string, memberId: string, receipt: Receipt): Promise<void> {
    const now = this.clock.now();
    const rtt = this.rttOf(memberId);
    const networkMs = rtt === undefined ? undefined : Math.round((rtt / 2) * 10) / 10;
    const changed = await this.#apply(triggerId, (t) => recordReceipt(t, memberId, receipt.shownAt, networkMs, now), (t, recipients) =>
      recipients.map((r) => ({ at: now, kind: 'trigger.receipt', memberId: r.memberId, triggerId: t.id, data: { shownAt: receipt.shownAt, networkMs } })),
    );
    if (!changed) return;
    this.#cancel(`undelivered:${triggerId}:${memberId}`);
    this.metrics.deliverySeconds.observe((now - changed.trigger.issuedAt) / 1000);
    this.#at(`hesitation:${triggerId}:${memberId}`, now + changed.trigger.thresholdMs, () => this.#hesitation(triggerId, memberId));
  }

  /** `trigger:respond`: checks of §4 after the role and payload, then the gap. */
  async answer(driver: Member, missionId: string, answer: TriggerRespond): Promise<Result<AnswerReply>> {
    const now = this.clock.now();
    const current = await this.store.getTrigger(answer.triggerId);
    // A cue for another vehicle or mission is not_found: a driver must not learn it exists.
    if (!current || current.missionId !== missionId || !current.recipients.some((r) => r.memberId === driver.memberId)) {
      return refuse('not_found', 'no such cue for this device');
    }
    let outcome: AnswerOutcome | undefined;
    const result = await this.store.changeTrigger(answer.triggerId, (trigger) => {
      const answered = recordAnswer(trigger, driver.memberId, answer, this.rttOf(driver.memberId), now);
      if (!answered.ok) return answered;
      outcome = answered.value;
      const r = answered.value.recipient;
      return accept({
        next: answered.value.trigger,
        log: [{ at: now, kind: 'trigger.answered', memberId: r.memberId, triggerId: trigger.id, data: { response: r.response, reason: r.reason, gapMs: r.gapMs, gapSource: r.gapSource, hesitation: r.hesitation } }],
      });
    });
    if (!result.ok) {
      // The cue went stale before its timer fired here: expire it now so everyone sees it.
      if (result.refusal.code === 'expired') await this.#expire(answer.triggerId);
      return result;
    }
    if (!outcome) return refuse('internal', 'the answer was not recorded');
    const { recipient, hesitationFirstSeen } = outcome;
    this.#cancel(`hesitation:${answer.triggerId}:${driver.memberId}`, `undelivered:${answer.triggerId}:${driver.memberId}`);
    this.fanout.toWatchers(missionId, 'trigger:state', triggerState(result.value));
    this.metrics.responseGapSeconds.observe({ gap_source: recipient.gapSource ?? 'server' }, (recipient.gapMs ?? 0) / 1000);
    if (hesitationFirstSeen) await this.#raiseHesitation(result.value, recipient, recipient.gapMs);
    return accept({ gapMs: recipient.gapMs ?? 0, gapSource: recipient.gapSource ?? 'server', hesitation: recipient.hesitation });
  }

  /** Stops every timer (node shutdown). */
  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  async #undelivered(triggerId: string, memberId: string) {
    const now = this.clock.now();
    const changed = await this.#apply(triggerId, (t) => markUndelivered(t, memberId, now), () => []);
    for (const r of changed?.recipients ?? []) {
      await this.alerts.raise(alertId('undelivered', triggerId, r.memberId), {
        kind: 'undelivered',
        missionId: changed!.trigger.missionId,
        memberId: r.memberId,
        vehicleId: r.vehicleId,
        triggerId,
        valueMs: now - changed!.trigger.issuedAt,
        thresholdMs: changed!.trigger.thresholdMs,
      });
    }
  }

  async #hesitation(triggerId: string, memberId: string) {
    const now = this.clock.now();
    const changed = await this.#apply(triggerId, (t) => markHesitation(t, memberId, now), () => []);
    for (const r of changed?.recipients ?? []) await this.#raiseHesitation(changed!.trigger, r, now - (r.deliveredAt ?? now));
  }

  async #expire(triggerId: string) {
    const now = this.clock.now();
    const changed = await this.#apply(triggerId, (t) => expire(t, now), (t, recipients) =>
      recipients.map((r) => ({ at: now, kind: 'trigger.expired', memberId: r.memberId, triggerId: t.id, data: { staleAt: t.staleAt } })),
    );
    if (!changed) return;
    this.#cancel(...changed.recipients.flatMap((r) => [`hesitation:${triggerId}:${r.memberId}`, `undelivered:${triggerId}:${r.memberId}`]));
    for (const r of changed.recipients) {
      this.fanout.toMember(r.memberId, 'trigger:expired', { id: triggerId });
      await this.alerts.raise(alertId('expired', triggerId, r.memberId), {
        kind: 'expired',
        missionId: changed.trigger.missionId,
        memberId: r.memberId,
        vehicleId: r.vehicleId,
        triggerId,
        valueMs: now - changed.trigger.issuedAt,
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

  /** Applies a timing transition through the store; on a change, logs it and tells the watchers. */
  async #apply(
    triggerId: string,
    transition: (trigger: TriggerRecord) => Transition,
    logOf: (trigger: TriggerRecord, changed: RecipientRecord[]) => LogDraft[],
  ): Promise<{ trigger: TriggerRecord; recipients: RecipientRecord[] } | undefined> {
    let changed: RecipientRecord[] = [];
    const result = await this.store.changeTrigger(triggerId, (trigger) => {
      const moved = transition(trigger);
      changed = moved.changed;
      return accept({ next: moved.trigger, log: moved.changed.length ? logOf(moved.trigger, moved.changed) : [] });
    });
    if (!result.ok || changed.length === 0) return undefined;
    this.fanout.toWatchers(result.value.missionId, 'trigger:state', triggerState(result.value));
    return { trigger: result.value, recipients: changed };
  }

  #at(key: string, at: number, fire: () => Promise<void>) {
    clearTimeout(this.#timers.get(key));
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      fire().catch((error: unknown) => this.logger.error({ err: error, deadline: key }, 'deadline handling failed'));
    }, Math.max(0, at - this.clock.now()));
    timer.unref();
    this.#timers.set(key, timer);
  }

  #cancel(...keys: string[]) {
    for (const key of keys) {
      clearTimeout(this.#timers.get(key));
      this.#timers.delete(key);
    }
  }
}
