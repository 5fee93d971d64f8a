import type { Alert, Mission, Presence } from '@lockstep/shared';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { accept, refuse, type Result } from '../refusal.ts';
import { mergeTriggers } from '../rules/timing.ts';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import type { OutageJournal } from './outage-journal.ts';
import type { RedisStore } from './redis-store.ts';
import { viewFromReads, type MissionViewLimits } from './mission-view.ts';
import type { Change, CredentialRef, DeadlineChanges, IssueOutcome, LogDraft, Store, StoredObservation } from './store.ts';

/** How often a node in an outage checks whether Redis is back. */
const RECOVERY_CHECK_MS = 500;
/** Open triggers are kept here this long past their staleAt, for answers and expiry during an outage. */
const KEEP_PAST_STALE_MS = 60_000;

/** A failure that means Redis is not there, as opposed to a bug or a refused write. */
function isOutage(redis: Redis, error: unknown): boolean {
  if (redis.status !== 'ready') return true;
  return (
    error instanceof Error && /Connection is closed|max retries|timed out|ECONNREFUSED|ECONNRESET|EPIPE|writeable/i.test(error.message)
  );
}

export class StoreUnavailable extends Error {
  constructor(what: string) {
    super(`the store is unreachable: ${what} must wait for it`);
  }
}

/**
 * Redis, with an outage journal. While Redis answers, it is the Redis store, and it remembers
 * what this node would need to go on alone: missions, credentials, open triggers and their
 * cue seqs, alerts, the deadlines it set. When Redis stops answering, the node keeps relaying
 * between the devices connected to it: every write goes to a journal on disk before it is
 * acknowledged (write-before-emit still holds), reads come from memory, and `ping` says
 * degraded. When Redis answers again the journal is written to it in order, merging trigger
 * states monotonically, and the node is the Redis store again.
 *
 * What cannot wait is refused (`internal`): creating missions and members, changing plans,
 * observations, reading the log. Presence during the outage is local to the node.
 */
export class JournaledStore implements Store {
  readonly kind = 'redis';
  #outage = false;
  #recovery: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  readonly #missions = new Map<string, Mission>();
  readonly #credentials = new Map<string, CredentialRef>();
  readonly #triggers = new Map<string, TriggerRecord>();
  /** The highest cue seq this node knows for each member, so cues it journals keep counting from there. */
  readonly #cueSeqs = new Map<string, number>();
  readonly #alerts = new Map<string, Alert>();
  readonly #deadlines = new Map<string, number>();
  #sweptAt = Date.now();

  constructor(
    private readonly redis: Redis,
    private readonly store: RedisStore,
    private readonly journal: OutageJournal,
    private readonly logger: Logger,
    private readonly onDepth: (depth: number) => void,
  ) {
    this.onDepth(journal.depth);
    // A journal left by a crash during an outage: go on from it, and write it once Redis answers.
    if (journal.depth > 0) this.#enterOutage();
    // At the first sign, not after a write has waited out the client's retries.
    redis.on('close', () => this.#enterOutage());
  }

  get inOutage(): boolean {
    return this.#outage;
  }

  async ping() {
    return !this.#outage && (await this.store.ping());
  }

  async close() {
    clearInterval(this.#recovery);
    await this.#flushing;
    this.journal.close();
    await this.store.close();
  }

  // ---------------------------------------------------------------- missions and credentials

  async createMission(mission: Mission, log: LogDraft[]) {
    await this.#redisOnly('creating a mission', () => this.store.createMission(mission, log));
    this.#missions.set(mission.id, mission);
  }

  async getMission(missionId: string) {
    return this.#either(
      async () => {
        const mission = await this.store.getMission(missionId);
        if (mission) this.#missions.set(missionId, mission);
        return mission;
      },
      async () => this.#missions.get(missionId) ?? this.#unknownDuringOutage('this mission'),
    );
  }

  async changeMission(missionId: string, change: Change<Mission>) {
    const changed = await this.#redisOnly('changing a mission', () => this.store.changeMission(missionId, change));
    if (changed.ok) this.#missions.set(missionId, changed.value);
    return changed;
  }

  async saveCredential(tokenHash: string, ref: CredentialRef) {
    await this.#redisOnly('issuing a token', () => this.store.saveCredential(tokenHash, ref));
    this.#credentials.set(tokenHash, ref);
  }

  async findCredential(tokenHash: string) {
    return this.#either(
      async () => {
        const ref = await this.store.findCredential(tokenHash);
        if (ref) this.#credentials.set(tokenHash, ref);
        else this.#credentials.delete(tokenHash);
        return ref;
      },
      // A device this node has not seen must try again later, not be told its token is bad.
      async () => this.#credentials.get(tokenHash) ?? this.#unknownDuringOutage('this device'),
    );
  }

  async revokeCredential(memberId: string) {
    await this.#redisOnly('revoking a token', () => this.store.revokeCredential(memberId));
    for (const [hash, ref] of this.#credentials) if (ref.memberId === memberId) this.#credentials.delete(hash);
  }

  // ---------------------------------------------------------------- triggers

  async issueTrigger(trigger: TriggerRecord, log: LogDraft, deadlines: { key: string; at: number }[]): Promise<IssueOutcome> {
    return this.#either(
      async () => {
        const outcome = await this.store.issueTrigger(trigger, log, deadlines);
        this.#remember(outcome.trigger);
        if (outcome.created) this.#mirrorDeadlines({ schedule: deadlines });
        return outcome;
      },
      async () => {
        const existing = this.#triggers.get(trigger.id);
        if (existing) return { created: false, trigger: existing };
        this.#writable();
        const issued: TriggerRecord = {
          ...trigger,
          recipients: trigger.recipients.map((r) => ({ ...r, seq: (this.#cueSeqs.get(r.memberId) ?? 0) + 1 })),
        };
        this.journal.append({ op: 'issue', trigger: issued, log, deadlines });
        this.#remember(issued);
        this.#mirrorDeadlines({ schedule: deadlines });
        this.onDepth(this.journal.depth);
        return { created: true, trigger: issued };
      },
    );
  }

  async getTrigger(triggerId: string) {
    return this.#either(
      async () => {
        const trigger = await this.store.getTrigger(triggerId);
        if (trigger) this.#remember(trigger);
        return trigger;
      },
      async () => this.#triggers.get(triggerId),
    );
  }

  async changeTrigger(triggerId: string, change: Change<TriggerRecord>) {
    let deadlines: DeadlineChanges | undefined;
    const capturing: Change<TriggerRecord> = (current) => {
      const outcome = change(current);
      deadlines = outcome.ok && outcome.value.next !== current ? outcome.value.deadlines : undefined;
      return outcome;
    };
    return this.#either(
      async () => {
        const changed = await this.store.changeTrigger(triggerId, capturing);
        if (changed.ok) {
          this.#remember(changed.value);
          this.#mirrorDeadlines(deadlines);
        }
        return changed;
      },
      async (): Promise<Result<TriggerRecord>> => {
        const current = this.#triggers.get(triggerId);
        if (!current) return refuse('not_found', 'no such trigger');
        const copy = structuredClone(current);
        const outcome = change(copy);
        if (!outcome.ok) return outcome;
        const { next, log, deadlines: changes } = outcome.value;
        if (next === copy) return accept(current);
        this.#writable();
        this.journal.append({ op: 'trigger', trigger: next, log, schedule: changes?.schedule ?? [], complete: changes?.complete ?? [] });
        this.#remember(next);
        this.#mirrorDeadlines(changes);
        this.onDepth(this.journal.depth);
        return accept(next);
      },
    );
  }

  async cuesAfter(memberId: string, afterSeq: number) {
    return this.#either(
      async () => {
        const triggers = await this.store.cuesAfter(memberId, afterSeq);
        this.#cueSeqs.set(memberId, Math.max(this.#cueSeqs.get(memberId) ?? 0, afterSeq));
        for (const trigger of triggers) this.#remember(trigger);
        return triggers;
      },
      async () => {
        const seqOf = (t: TriggerRecord) => t.recipients.find((r) => r.memberId === memberId)?.seq ?? 0;
        return [...this.#triggers.values()].filter((t) => seqOf(t) > afterSeq).sort((a, b) => seqOf(a) - seqOf(b));
      },
    );
  }

  async recentTriggers(missionId: string, limit: number) {
    return this.#either(
      () => this.store.recentTriggers(missionId, limit),
      async () =>
        [...this.#triggers.values()]
          .filter((t) => t.missionId === missionId)
          .sort((a, b) => a.issuedAt - b.issuedAt)
          .slice(-limit),
    );
  }

  async missionView(missionId: string, limits: MissionViewLimits) {
    return this.#either(
      async () => {
        const view = await this.store.missionView(missionId, limits);
        if (view) this.#missions.set(missionId, view.mission);
        return view;
      },
      () => viewFromReads(this, missionId, limits),
    );
  }

  // ---------------------------------------------------------------- alerts and observations

  async raiseAlert(alert: Alert, log: LogDraft) {
    return this.#either(
      async () => {
        const raised = await this.store.raiseAlert(alert, log);
        this.#alerts.set(alert.id, alert);
        return raised;
      },
      async () => {
        if (this.#alerts.has(alert.id)) return false;
        this.#writable();
        this.journal.append({ op: 'alert', alert, log });
        this.#alerts.set(alert.id, alert);
        this.onDepth(this.journal.depth);
        return true;
      },
    );
  }

  async changeAlert(alertId: string, change: Change<Alert>) {
    return this.#either(
      async () => {
        const changed = await this.store.changeAlert(alertId, change);
        if (changed.ok) this.#alerts.set(alertId, changed.value);
        return changed;
      },
      async (): Promise<Result<Alert>> => {
        const current = this.#alerts.get(alertId);
        if (!current) return refuse('not_found', 'no such alert');
        const outcome = change(structuredClone(current));
        if (!outcome.ok) return outcome;
        this.#writable();
        this.journal.append({ op: 'alert-change', alert: outcome.value.next, log: outcome.value.log });
        this.#alerts.set(alertId, outcome.value.next);
        this.onDepth(this.journal.depth);
        return accept(outcome.value.next);
      },
    );
  }

  async missionAlerts(missionId: string) {
    return this.#either(
      () => this.store.missionAlerts(missionId),
      async () => [...this.#alerts.values()].filter((a) => a.missionId === missionId),
    );
  }

  async postObservation(observation: StoredObservation, log: LogDraft) {
    return this.#redisOnly('posting an observation', () => this.store.postObservation(observation, log));
  }

  async recentObservations(missionId: string, limit: number) {
    return this.#either(
      () => this.store.recentObservations(missionId, limit),
      async () => [],
    );
  }

  // ---------------------------------------------------------------- presence

  async savePresence(missionId: string, presence: Presence, log: LogDraft[], device: { id: string; onlyIfOwner: boolean }) {
    return this.#either(
      () => this.store.savePresence(missionId, presence, log, device),
      async () => {
        // Presence during an outage is this node's own view; only its log lines must reach Redis.
        if (log.length) await this.appendLog(missionId, log);
        return true;
      },
    );
  }

  async getPresence(missionId: string, memberId: string) {
    return this.#either(
      () => this.store.getPresence(missionId, memberId),
      async () => undefined,
    );
  }

  async missionPresence(missionId: string) {
    return this.#either(
      () => this.store.missionPresence(missionId),
      async () => [],
    );
  }

  // ---------------------------------------------------------------- deadlines and the log

  async scheduleDeadline(key: string, at: number) {
    await this.#either(
      () => this.store.scheduleDeadline(key, at),
      async () => {
        this.#writable();
        this.journal.append({ op: 'deadline', key, at });
        this.onDepth(this.journal.depth);
      },
    );
    this.#deadlines.set(key, at);
  }

  async claimDeadlines(now: number, leaseMs: number, limit: number) {
    return this.#either(
      () => this.store.claimDeadlines(now, leaseMs, limit),
      async () => {
        const due = [...this.#deadlines]
          .filter(([, at]) => at <= now)
          .slice(0, limit)
          .map(([key]) => key);
        for (const key of due) this.#deadlines.set(key, now + leaseMs);
        return due;
      },
    );
  }

  async completeDeadline(key: string) {
    await this.#either(
      () => this.store.completeDeadline(key),
      async () => {
        this.#writable();
        this.journal.append({ op: 'deadline-done', key });
        this.onDepth(this.journal.depth);
      },
    );
    this.#deadlines.delete(key);
  }

  async appendLog(missionId: string, log: LogDraft[]) {
    if (log.length === 0) return;
    await this.#either(
      () => this.store.appendLog(missionId, log),
      async () => {
        this.#writable();
        this.journal.append({ op: 'log', missionId, log });
        this.onDepth(this.journal.depth);
      },
    );
  }

  async readLog(missionId: string) {
    return this.#redisOnly('reading the log', () => this.store.readLog(missionId));
  }

  // ---------------------------------------------------------------- outage and recovery

  /** Redis when it answers; the journal when it does not, or while the journal still holds writes. */
  async #either<T>(direct: () => Promise<T>, journaled: () => Promise<T>): Promise<T> {
    if (this.#outage) return journaled();
    try {
      return await direct();
    } catch (error) {
      if (!isOutage(this.redis, error)) throw error;
      this.#enterOutage();
      return journaled();
    }
  }

  async #redisOnly<T>(what: string, direct: () => Promise<T>): Promise<T> {
    if (this.#outage) throw new StoreUnavailable(what);
    try {
      return await direct();
    } catch (error) {
      if (isOutage(this.redis, error)) this.#enterOutage();
      throw error;
    }
  }

  #unknownDuringOutage(what: string): never {
    throw new StoreUnavailable(`${what}, unknown to this node,`);
  }

  #writable() {
    if (this.journal.full) throw new StoreUnavailable(`the outage journal is full (${this.journal.capacity} entries); anything more`);
  }

  #enterOutage() {
    if (this.#outage) return;
    this.#outage = true;
    this.logger.warn({ journal: this.journal.path }, 'redis unreachable: relaying from this node, writing to the outage journal');
    this.#recovery = setInterval(() => {
      if (!this.#flushing && this.redis.status === 'ready') {
        this.#flushing = this.#flush()
          .catch((error: unknown) => this.logger.warn({ err: error, depth: this.journal.depth }, 'journal not yet written to redis'))
          .finally(() => (this.#flushing = undefined));
      }
    }, RECOVERY_CHECK_MS);
    this.#recovery.unref();
  }

  /** Writes the journal to Redis in order; entries added meanwhile go too; then Redis serves again. */
  async #flush() {
    if (!(await this.store.ping())) return;
    for (let entry = this.journal.peek(); entry; entry = this.journal.peek()) {
      await this.#replay(entry);
      this.journal.shift();
      this.onDepth(this.journal.depth);
    }
    clearInterval(this.#recovery);
    this.#outage = false;
    this.logger.info('redis is back: the outage journal is written');
  }

  async #replay(entry: Parameters<OutageJournal['append']>[0]) {
    switch (entry.op) {
      case 'issue': {
        const { created } = await this.store.issueTrigger(entry.trigger, entry.log, entry.deadlines);
        if (!created) await this.#mergeTrigger(entry.trigger, [], {});
        return;
      }
      case 'trigger':
        return this.#mergeTrigger(entry.trigger, entry.log, { schedule: entry.schedule, complete: entry.complete });
      case 'alert':
        await this.store.raiseAlert(entry.alert, entry.log);
        return;
      case 'alert-change': {
        const changed = await this.store.changeAlert(entry.alert.id, (stored) =>
          accept({ next: stored.resolvedAt === undefined && entry.alert.resolvedAt !== undefined ? entry.alert : stored, log: [] }),
        );
        if (changed.ok) await this.store.appendLog(entry.alert.missionId, entry.log);
        return;
      }
      case 'log':
        return this.store.appendLog(entry.missionId, entry.log);
      case 'deadline':
        return this.store.scheduleDeadline(entry.key, entry.at);
      case 'deadline-done':
        return this.store.completeDeadline(entry.key);
    }
  }

  /** A journaled trigger state into Redis: each recipient keeps whichever state is further along; the log lines go in either way. */
  async #mergeTrigger(journaled: TriggerRecord, log: LogDraft[], deadlines: DeadlineChanges) {
    let merged = false;
    await this.store.changeTrigger(journaled.id, (stored) => {
      const next = mergeTriggers(stored, journaled);
      merged = next !== stored;
      return accept({ next, log, deadlines });
    });
    if (!merged) {
      await this.store.appendLog(journaled.missionId, log);
      for (const { key, at } of deadlines.schedule ?? []) await this.store.scheduleDeadline(key, at);
      for (const key of deadlines.complete ?? []) await this.store.completeDeadline(key);
    }
  }

  #remember(trigger: TriggerRecord) {
    this.#triggers.set(trigger.id, trigger);
    for (const r of trigger.recipients) this.#cueSeqs.set(r.memberId, Math.max(this.#cueSeqs.get(r.memberId) ?? 0, r.seq));
    this.#forgetOld();
  }

  #mirrorDeadlines(changes: DeadlineChanges | undefined) {
    for (const { key, at } of changes?.schedule ?? []) this.#deadlines.set(key, at);
    for (const key of changes?.complete ?? []) this.#deadlines.delete(key);
    this.#forgetOld();
  }

  /**
   * Drops triggers long past staleAt and deadlines long past due (other nodes complete some of
   * the ones this node set). A sweep walks every entry, so it runs at most once per interval,
   * not on every write.
   */
  #forgetOld() {
    const now = Date.now();
    if (now - this.#sweptAt < KEEP_PAST_STALE_MS) return;
    this.#sweptAt = now;
    const forgetBefore = now - KEEP_PAST_STALE_MS;
    for (const [id, t] of this.#triggers) if (t.staleAt < forgetBefore) this.#triggers.delete(id);
    for (const [key, at] of this.#deadlines) if (at < forgetBefore) this.#deadlines.delete(key);
  }
}
