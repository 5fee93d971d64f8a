import type { Alert, Mission } from '@lockstep/shared';
import type { Clock } from '../clock.ts';
import { accept } from '../refusal.ts';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import { MemoryStore } from './memory-store.ts';
import type { JournalEntry, OutageJournal } from './outage-journal.ts';
import type { Change, CredentialRef, DeadlineChanges, IssueOutcome, LogDraft, PresenceSave } from './store.ts';

/** Open triggers are kept here this long past their staleAt, for answers and expiry during an outage. */
const KEEP_PAST_STALE_MS = 60_000;

export class StoreUnavailable extends Error {
  constructor(what: string) {
    super(`the store is unreachable: ${what} must wait for it`);
  }
}

function unknownDuringOutage(what: string): never {
  throw new StoreUnavailable(`${what}, unknown to this node,`);
}

/**
 * What a node needs to go on alone through a Redis outage: a memory store (the store contract's
 * own semantics) kept in step with Redis while it answers, and serving during an outage with
 * every write journaled, as the domain call it is, before the memory store takes it.
 */
export class OutageMirror {
  readonly #memory: MemoryStore;
  /** The highest cue seq this node knows for each member, so cues it journals keep counting from there. */
  readonly #cueSeqs = new Map<string, number>();
  /** The mission object each hold was made from, to skip holding the same one again. */
  readonly #lastMissionKept = new Map<string, Mission>();
  #sweptAt: number;

  constructor(
    private readonly journal: OutageJournal,
    private readonly clock: Clock,
    private readonly onDepth: (depth: number) => void,
    /** A test hands one in to seed it with what a node read before an outage. */
    memory = new MemoryStore({ keepLog: false }),
  ) {
    this.#memory = memory;
    this.#sweptAt = clock.now();
    onDepth(journal.depth);
  }

  // ---------------------------------------------------------------- kept while Redis answers

  keepMission(mission: Mission) {
    // The Redis store answers the same object again while its cached copy is current: held already.
    if (this.#lastMissionKept.get(mission.id) === mission) return;
    this.#lastMissionKept.set(mission.id, mission);
    this.#memory.holdMission(mission);
  }

  async keepCredential(tokenHash: string, ref: CredentialRef | undefined) {
    const known = await this.#memory.findCredential(tokenHash);
    if (ref) await this.#memory.saveCredential(tokenHash, ref);
    else if (known) await this.#memory.revokeCredential(known.memberId);
  }

  forgetMember(memberId: string) {
    return this.#memory.revokeCredential(memberId);
  }

  /** The trigger as Redis has it, with the deadlines its write set or cleared. */
  async keepTrigger(trigger: TriggerRecord, deadlines: DeadlineChanges = {}) {
    for (const r of trigger.recipients) this.keepCueSeq(r.memberId, r.seq);
    this.#memory.holdTrigger(trigger, deadlines);
    this.#forgetOld();
  }

  keepCueSeq(memberId: string, seq: number) {
    this.#cueSeqs.set(memberId, Math.max(this.#cueSeqs.get(memberId) ?? 0, seq));
  }

  keepAlert(alert: Alert) {
    this.#memory.holdAlert(alert);
  }

  async keepDeadline(key: string, at: number | undefined) {
    await (at === undefined ? this.#memory.completeDeadline(key) : this.#memory.scheduleDeadline(key, at));
  }

  // ---------------------------------------------------------------- served during an outage

  async getMission(missionId: string) {
    return (await this.#memory.getMission(missionId)) ?? unknownDuringOutage('this mission');
  }

  /** A device this node has not seen must try again later, not be told its token is bad. */
  async findCredential(tokenHash: string) {
    return (await this.#memory.findCredential(tokenHash)) ?? unknownDuringOutage('this device');
  }

  async issueTrigger(trigger: TriggerRecord, log: LogDraft, deadlines: { key: string; at: number }[]): Promise<IssueOutcome> {
    const existing = await this.#memory.getTrigger(trigger.id);
    if (existing) return { created: false, trigger: existing };
    const nextSeq = (memberId: string) => (this.#cueSeqs.get(memberId) ?? 0) + 1;
    const issued = { ...trigger, recipients: trigger.recipients.map((r) => ({ ...r, seq: r.seq > 0 ? r.seq : nextSeq(r.memberId) })) };
    this.#journal({ op: 'issue', trigger: issued, log, deadlines });
    await this.keepTrigger(issued, { schedule: deadlines });
    return { created: true, trigger: issued };
  }

  getTrigger = (triggerId: string) => this.#memory.getTrigger(triggerId);
  cuesAfter = (memberId: string, afterSeq: number) => this.#memory.cuesAfter(memberId, afterSeq);
  recentTriggers = (missionId: string, limit: number) => this.#memory.recentTriggers(missionId, limit);

  changeTrigger(triggerId: string, change: Change<TriggerRecord>) {
    return this.#memory.changeTrigger(
      triggerId,
      this.#journaling(change, ({ next, log, deadlines }) => ({
        op: 'trigger',
        trigger: next,
        log,
        schedule: deadlines?.schedule ?? [],
        complete: deadlines?.complete ?? [],
      })),
    );
  }

  async raiseAlert(alert: Alert, log: LogDraft) {
    // Asked by a change that keeps the record, which writes nothing either way.
    if ((await this.#memory.changeAlert(alert.id, (a) => accept({ next: a, log: [] }))).ok) return false;
    this.#journal({ op: 'alert', alert, log });
    return this.#memory.raiseAlert(alert, log);
  }

  changeAlert(alertId: string, change: Change<Alert>) {
    return this.#memory.changeAlert(
      alertId,
      this.#journaling(change, ({ next, log }) => ({ op: 'alert-change', alert: next, log })),
    );
  }

  missionAlerts = (missionId: string) => this.#memory.missionAlerts(missionId);

  /** Presence during an outage is this node's own view; only its log lines must reach Redis. */
  async savePresences(saves: readonly PresenceSave[]) {
    const saved = await this.#memory.savePresences(saves.map((save) => ({ ...save, log: [] })));
    for (const [i, save] of saves.entries()) if (saved[i]) await this.appendLog(save.missionId, save.log);
    return saved;
  }

  getPresence = (missionId: string, memberId: string) => this.#memory.getPresence(missionId, memberId);
  missionPresence = (missionId: string) => this.#memory.missionPresence(missionId);

  async scheduleDeadline(key: string, at: number) {
    this.#journal({ op: 'deadline', key, at });
    await this.#memory.scheduleDeadline(key, at);
  }

  claimDeadlines = (now: number, leaseMs: number, limit: number) => this.#memory.claimDeadlines(now, leaseMs, limit);

  async completeDeadline(key: string) {
    this.#journal({ op: 'deadline-done', key });
    await this.#memory.completeDeadline(key);
  }

  async appendLog(missionId: string, log: LogDraft[]) {
    if (log.length) this.#journal({ op: 'log', missionId, log });
  }

  // ----------------------------------------------------------------

  /** Appends one domain call to the journal, on disk before the caller may acknowledge it. */
  #journal(entry: JournalEntry) {
    if (this.journal.full) throw new StoreUnavailable(`the outage journal is full (${this.journal.capacity} entries); anything more`);
    this.journal.append(entry);
    this.onDepth(this.journal.depth);
  }

  /** A change that journals what it writes before the memory store writes it; one that keeps the record journals nothing. */
  #journaling<T>(
    change: Change<T>,
    entry: (outcome: { next: T; log: LogDraft[]; deadlines?: DeadlineChanges }) => JournalEntry,
  ): Change<T> {
    return (current) => {
      const outcome = change(current);
      if (outcome.ok && outcome.value.next !== current) this.#journal(entry(outcome.value));
      return outcome;
    };
  }

  /**
   * Drops triggers long past staleAt and deadlines long past due (other nodes complete some of
   * the ones this node set). A sweep walks every entry, so it runs at most once per interval.
   */
  #forgetOld() {
    const now = this.clock.now();
    if (now - this.#sweptAt < KEEP_PAST_STALE_MS) return;
    this.#sweptAt = now;
    this.#memory.forgetBefore(now - KEEP_PAST_STALE_MS);
  }
}
