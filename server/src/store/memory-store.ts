import type { Alert, LogEntry, Mission, MissionStatus, Person, Presence } from '@lockstep/shared';
import { refuse, accept, type Result } from '../refusal.ts';
import type { CueLoad } from '../rules/overload.ts';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import { deepFreeze } from './deep-freeze.ts';
import { viewFromReads, type MissionViewLimits } from './mission-view.ts';
import type { Change, CredentialRef, DeadlineChanges, IssueOutcome, LogDraft, PresenceSave, Store, StoredObservation } from './store.ts';

interface MissionSlot {
  mission: Mission;
  log: LogEntry[];
  triggerIds: string[];
  alertIds: string[];
  observationIds: string[];
  presence: Map<string, Presence>;
}

/** Copies of the records with these ids, in this order. */
function copiesOf<T>(records: ReadonlyMap<string, T>, ids: readonly string[]): T[] {
  return ids.flatMap((id) => {
    const record = records.get(id);
    return record === undefined ? [] : [structuredClone(record)];
  });
}

export interface MemoryStoreOptions {
  /** False for a store kept as a cache (the outage mirror): its log lives elsewhere, and kept here it would only grow. */
  keepLog?: boolean;
}

/**
 * The embedded store: one process, nothing survives a restart. Every value crosses
 * the boundary as a copy, as it would through Redis, so callers cannot alias state.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly #keepLog: boolean;
  readonly #missions = new Map<string, MissionSlot>();
  readonly #credentials = new Map<string, CredentialRef>();
  readonly #tokenOfMember = new Map<string, string>();
  readonly #triggers = new Map<string, TriggerRecord>();
  readonly #cues = new Map<string, { seq: number; held: { seq: number; triggerId: string }[] }>();
  readonly #alerts = new Map<string, Alert>();
  readonly #observations = new Map<string, StoredObservation>();
  readonly #presenceOwner = new Map<string, string>();
  readonly #deadlines = new Map<string, number>();
  readonly #cueLoads = new Map<string, CueLoad>();
  readonly #people = new Map<string, Person>();
  readonly #personMissions = new Map<string, Set<string>>();

  constructor(options: MemoryStoreOptions = {}) {
    this.#keepLog = options.keepLog ?? true;
  }

  async ping() {
    return true;
  }

  async close() {}

  #slot(missionId: string): MissionSlot | undefined {
    return this.#missions.get(missionId);
  }

  #log(missionId: string, drafts: LogDraft[]) {
    const slot = this.#slot(missionId);
    if (!slot || !this.#keepLog) return;
    for (const draft of drafts) slot.log.push({ seq: slot.log.length + 1, ...structuredClone(draft) });
  }

  #change<T>(current: T | undefined, what: string, change: Change<T>, write: (next: T, log: LogDraft[]) => void): Result<T> {
    if (current === undefined) return refuse('not_found', `no such ${what}`);
    const copy = structuredClone(current);
    const outcome = change(copy);
    if (!outcome.ok) return outcome;
    if (outcome.value.next !== copy) {
      write(outcome.value.next, outcome.value.log);
      this.#applyDeadlines(outcome.value.deadlines);
    }
    return accept(structuredClone(outcome.value.next));
  }

  async createMission(mission: Mission, log: LogDraft[]) {
    this.#holdNew(structuredClone(mission));
    this.#log(mission.id, log);
  }

  /** A mission this store has not held before, with nothing filed under it yet. */
  #holdNew(mission: Mission): void {
    this.#missions.set(mission.id, { mission, log: [], triggerIds: [], alertIds: [], observationIds: [], presence: new Map() });
  }

  async getMission(missionId: string) {
    const slot = this.#slot(missionId);
    return slot && structuredClone(slot.mission);
  }

  /**
   * Holds the mission as given, replacing what was held, with no log line: what an outage mirror
   * keeps of each mission Redis answered. The record itself, frozen (the mission cache hands out
   * frozen copies already), as `holdTrigger` does: a copy per read was a thousand clones in a
   * reconnect storm.
   */
  holdMission(mission: Mission): void {
    const held = deepFreeze(mission);
    const slot = this.#slot(mission.id);
    if (slot) slot.mission = held;
    else this.#holdNew(held);
  }

  async changeMission(missionId: string, change: Change<Mission>) {
    const slot = this.#slot(missionId);
    return this.#change(slot?.mission, 'mission', change, (next, log) => {
      if (slot) slot.mission = structuredClone(next);
      this.#log(missionId, log);
    });
  }

  async listMissions(query: { status?: MissionStatus | undefined; limit: number }) {
    return [...this.#missions.values()]
      .map((slot) => slot.mission)
      .filter((m) => query.status === undefined || m.status === query.status)
      .reverse()
      .slice(0, query.limit)
      .map((m) => structuredClone(m));
  }

  async createPerson(person: Person) {
    this.#people.set(person.personId, structuredClone(person));
  }

  async getPerson(personId: string) {
    const person = this.#people.get(personId);
    return person && structuredClone(person);
  }

  async changePerson(personId: string, change: (current: Person) => Result<Person>) {
    const current = this.#people.get(personId);
    if (!current) return refuse('not_found', 'no such person');
    const outcome = change(structuredClone(current));
    if (outcome.ok) this.#people.set(personId, structuredClone(outcome.value));
    return outcome.ok ? accept(structuredClone(outcome.value)) : outcome;
  }

  async listPeople() {
    return [...this.#people.values()].map((p) => structuredClone(p));
  }

  async notePersonInMission(personId: string, missionId: string) {
    const missions = this.#personMissions.get(personId) ?? new Set();
    this.#personMissions.set(personId, missions.add(missionId));
  }

  async personMissions(personId: string) {
    return [...(this.#personMissions.get(personId) ?? [])];
  }

  async saveCredential(tokenHash: string, ref: CredentialRef) {
    this.#credentials.set(tokenHash, { ...ref });
    this.#tokenOfMember.set(ref.memberId, tokenHash);
  }

  async findCredential(tokenHash: string) {
    const ref = this.#credentials.get(tokenHash);
    return ref && { ...ref };
  }

  async revokeCredential(memberId: string) {
    const tokenHash = this.#tokenOfMember.get(memberId);
    if (tokenHash) this.#credentials.delete(tokenHash);
    this.#tokenOfMember.delete(memberId);
  }

  #applyDeadlines(changes: DeadlineChanges | undefined) {
    for (const { key, at } of changes?.schedule ?? []) this.#deadlines.set(key, at);
    for (const key of changes?.complete ?? []) this.#deadlines.delete(key);
  }

  async issueTrigger(trigger: TriggerRecord, log: LogDraft, deadlines: { key: string; at: number }[]): Promise<IssueOutcome> {
    const existing = this.#triggers.get(trigger.id);
    if (existing) return { created: false, trigger: structuredClone(existing) };
    const stored = this.#admit(trigger);
    this.#log(trigger.missionId, [log]);
    this.#applyDeadlines({ schedule: deadlines });
    return { created: true, trigger: structuredClone(stored) };
  }

  /**
   * Holds the trigger as given, replacing what was held, with the deadlines its write set or
   * cleared and no log line: what an outage mirror keeps of each trigger Redis wrote. The record
   * itself is held, frozen, not a copy: the rules make a new record for every change, and a copy
   * per receipt, answer and replayed cue was the mirror's largest cost in a reconnect storm.
   */
  holdTrigger(trigger: TriggerRecord, deadlines: DeadlineChanges): void {
    const held = deepFreeze(trigger);
    if (!this.#triggers.has(trigger.id)) this.#index(held);
    this.#triggers.set(trigger.id, held);
    this.#applyDeadlines(deadlines);
  }

  /** A new trigger: its recipients' seqs (a seq already given, > 0, is kept) and the indexes that find it. */
  #admit(trigger: TriggerRecord): TriggerRecord {
    const stored = structuredClone(trigger);
    for (const recipient of stored.recipients) {
      if (recipient.seq <= 0) recipient.seq = (this.#cues.get(recipient.memberId)?.seq ?? 0) + 1;
    }
    this.#index(stored);
    this.#triggers.set(trigger.id, stored);
    return stored;
  }

  /** Files a new trigger under each recipient's cues, by the seq it carries, and under its mission. */
  #index(trigger: TriggerRecord): void {
    for (const recipient of trigger.recipients) {
      const cues = this.#cues.get(recipient.memberId) ?? { seq: 0, held: [] };
      cues.seq = Math.max(cues.seq, recipient.seq);
      cues.held.push({ seq: recipient.seq, triggerId: trigger.id });
      this.#cues.set(recipient.memberId, cues);
    }
    this.#slot(trigger.missionId)?.triggerIds.push(trigger.id);
  }

  async getTrigger(triggerId: string) {
    const trigger = this.#triggers.get(triggerId);
    return trigger && structuredClone(trigger);
  }

  async changeTrigger(triggerId: string, change: Change<TriggerRecord>) {
    const current = this.#triggers.get(triggerId);
    return this.#change(current, 'trigger', change, (next, log) => {
      this.#triggers.set(triggerId, structuredClone(next));
      if (current) this.#log(current.missionId, log);
    });
  }

  async handOverCue(triggerId: string, change: Change<TriggerRecord>) {
    const current = this.#triggers.get(triggerId);
    const known = new Set(current?.recipients.map((r) => r.memberId));
    return this.#change(current, 'trigger', change, (next, log) => {
      for (const recipient of next.recipients) {
        if (known.has(recipient.memberId)) continue;
        const cues = this.#cues.get(recipient.memberId) ?? { seq: 0, held: [] };
        recipient.seq = ++cues.seq;
        cues.held.push({ seq: recipient.seq, triggerId });
        this.#cues.set(recipient.memberId, cues);
      }
      this.#triggers.set(triggerId, structuredClone(next));
      this.#log(next.missionId, log);
    });
  }

  async cuesAfter(memberId: string, afterSeq: number) {
    const held = this.#cues.get(memberId)?.held ?? [];
    const after = held.filter((cue) => cue.seq > afterSeq).sort((a, b) => a.seq - b.seq);
    return copiesOf(
      this.#triggers,
      after.map((cue) => cue.triggerId),
    );
  }

  async recentTriggers(missionId: string, limit: number) {
    return copiesOf(this.#triggers, this.#slot(missionId)?.triggerIds.slice(-limit) ?? []);
  }

  async changeCueLoad(missionId: string, change: Change<CueLoad>) {
    const current = this.#cueLoads.get(missionId) ?? { missionId, vehicles: {} };
    return this.#change(current, 'cue load', change, (next, log) => {
      this.#cueLoads.set(missionId, structuredClone(next));
      this.#log(missionId, log);
    });
  }

  async missionTriggers(missionId: string) {
    return copiesOf(this.#triggers, this.#slot(missionId)?.triggerIds ?? []);
  }

  async missionView(missionId: string, limits: MissionViewLimits) {
    return viewFromReads(this, missionId, limits);
  }

  async raiseAlert(alert: Alert, log: LogDraft) {
    if (this.#alerts.has(alert.id)) return false;
    this.#alerts.set(alert.id, structuredClone(alert));
    this.#slot(alert.missionId)?.alertIds.push(alert.id);
    this.#log(alert.missionId, [log]);
    return true;
  }

  /** Holds the alert as given, raised or replaced, with no log line: what an outage mirror keeps of each alert Redis wrote. */
  holdAlert(alert: Alert): void {
    if (!this.#alerts.has(alert.id)) this.#slot(alert.missionId)?.alertIds.push(alert.id);
    this.#alerts.set(alert.id, structuredClone(alert));
  }

  async changeAlert(alertId: string, change: Change<Alert>) {
    const current = this.#alerts.get(alertId);
    return this.#change(current, 'alert', change, (next, log) => {
      this.#alerts.set(alertId, structuredClone(next));
      this.#log(next.missionId, log);
    });
  }

  async missionAlerts(missionId: string) {
    return copiesOf(this.#alerts, this.#slot(missionId)?.alertIds ?? []);
  }

  async postObservation(observation: StoredObservation, log: LogDraft) {
    const existing = this.#observations.get(observation.id);
    if (existing) return { created: false, observation: structuredClone(existing) };
    this.#observations.set(observation.id, structuredClone(observation));
    this.#slot(observation.missionId)?.observationIds.push(observation.id);
    this.#log(observation.missionId, [log]);
    return { created: true, observation: structuredClone(observation) };
  }

  async recentObservations(missionId: string, limit: number) {
    return copiesOf(this.#observations, this.#slot(missionId)?.observationIds.slice(-limit) ?? []);
  }

  async savePresences(saves: readonly PresenceSave[]) {
    return saves.map(({ missionId, presence, log, device }) => {
      const owner = this.#presenceOwner.get(presence.memberId);
      if (device.onlyIfOwner && owner !== undefined && owner !== device.id) return false;
      this.#presenceOwner.set(presence.memberId, device.id);
      this.#slot(missionId)?.presence.set(presence.memberId, structuredClone(presence));
      this.#log(missionId, log);
      return true;
    });
  }

  async getPresence(missionId: string, memberId: string) {
    const presence = this.#slot(missionId)?.presence.get(memberId);
    return presence && structuredClone(presence);
  }

  async missionPresence(missionId: string) {
    return [...(this.#slot(missionId)?.presence.values() ?? [])].map((p) => structuredClone(p));
  }

  async scheduleDeadline(key: string, at: number) {
    this.#deadlines.set(key, at);
  }

  async claimDeadlines(now: number, leaseMs: number, limit: number) {
    const due = [...this.#deadlines]
      .filter(([, at]) => at <= now)
      .sort(([, a], [, b]) => a - b)
      .slice(0, limit)
      .map(([key]) => key);
    for (const key of due) this.#deadlines.set(key, now + leaseMs);
    return due;
  }

  async completeDeadline(key: string) {
    this.#deadlines.delete(key);
  }

  /** Drops triggers stale before `at` and deadlines due before it: what a cache no longer needs. */
  forgetBefore(at: number): void {
    for (const [id, trigger] of this.#triggers) if (trigger.staleAt < at) this.#triggers.delete(id);
    for (const cues of this.#cues.values()) cues.held = cues.held.filter((cue) => this.#triggers.has(cue.triggerId));
    for (const slot of this.#missions.values()) slot.triggerIds = slot.triggerIds.filter((id) => this.#triggers.has(id));
    for (const [key, due] of this.#deadlines) if (due < at) this.#deadlines.delete(key);
  }

  async appendLog(missionId: string, log: LogDraft[]) {
    this.#log(missionId, log);
  }

  async readLog(missionId: string) {
    return structuredClone(this.#slot(missionId)?.log ?? []);
  }
}
