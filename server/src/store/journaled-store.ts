import type { Alert, Mission, MissionStatus, Person } from '@lockstep/shared';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Result } from '../refusal.ts';
import type { CueLoad } from '../rules/overload.ts';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import type { MemoryStore } from './memory-store.ts';
import { type MissionView, type MissionViewLimits, viewFromReads } from './mission-view.ts';
import type { OutageJournal } from './outage-journal.ts';
import { OutageMirror } from './outage-mirror.ts';
import { OutageSwitch } from './outage-switch.ts';
import type { RedisStore } from './redis-store.ts';
import type { Change, CredentialRef, DeadlineChanges, IssueOutcome, LogDraft, PresenceSave, Store, StoredObservation } from './store.ts';

export interface JournaledStoreDeps {
  redis: Redis;
  store: RedisStore;
  journal: OutageJournal;
  clock: Clock;
  logger: Logger;
  onDepth: (depth: number) => void;
  /** The mirror's memory store; a test hands one in to seed it with what a node read before an outage. */
  memory?: MemoryStore;
}

/** A trigger change that remembers the deadlines of the write Redis took, for the mirror to keep too. */
function capturingDeadlines(change: Change<TriggerRecord>) {
  let captured: DeadlineChanges = {};
  const capturing: Change<TriggerRecord> = (current) => {
    const outcome = change(current);
    captured = outcome.ok && outcome.value.next !== current ? (outcome.value.deadlines ?? {}) : {};
    return outcome;
  };
  return { capturing, deadlines: () => captured };
}

/**
 * Redis, with an outage journal. While Redis answers, every call is the Redis store's, and the
 * mirror keeps what this node needs to go on alone. When Redis stops answering, the mirror serves
 * and journals every write on disk before it is acknowledged (write-before-emit still holds);
 * `ping` says degraded. When Redis is back the journal is replayed to it in order, and the node
 * is the Redis store again. What cannot wait is refused (StoreUnavailable): creating missions and
 * members, changing plans, observations, judging overload, reading the log. A new Store method is a `redisOnly`
 * around the Redis store's, or an `either` with the mirror's answer and what it keeps of Redis's.
 */
export class JournaledStore implements Store {
  readonly kind = 'redis';
  readonly #redis: RedisStore;
  readonly #mirror: OutageMirror;
  readonly #switch: OutageSwitch;

  // What waits for Redis, refused in an outage: none of it is needed to relay a cue (people, listings, the log).
  readonly listMissions = (query: { status?: MissionStatus | undefined; limit: number }) =>
    this.#switch.redisOnly('listing missions', () => this.#redis.listMissions(query));
  readonly createPerson = (person: Person) => this.#switch.redisOnly('adding a person', () => this.#redis.createPerson(person));
  readonly getPerson = (personId: string) => this.#switch.redisOnly('reading a person', () => this.#redis.getPerson(personId));
  readonly listPeople = () => this.#switch.redisOnly('listing people', () => this.#redis.listPeople());
  readonly notePersonInMission = (personId: string, missionId: string) =>
    this.#switch.redisOnly('adding a person to a mission', () => this.#redis.notePersonInMission(personId, missionId));
  readonly personMissions = (personId: string) => this.#switch.redisOnly('reading a person', () => this.#redis.personMissions(personId));
  readonly missionTriggers = (missionId: string) =>
    this.#switch.redisOnly('reading the triggers', () => this.#redis.missionTriggers(missionId));
  // Overload is judged across nodes or not at all: in an outage the cue goes without the judgement.
  readonly changeCueLoad = (missionId: string, change: Change<CueLoad>) =>
    this.#switch.redisOnly('judging overload', () => this.#redis.changeCueLoad(missionId, change));
  readonly postObservation = (observation: StoredObservation, log: LogDraft) =>
    this.#switch.redisOnly('posting an observation', () => this.#redis.postObservation(observation, log));

  constructor(private readonly deps: JournaledStoreDeps) {
    this.#redis = deps.store;
    this.#mirror = new OutageMirror(deps.journal, deps.clock, deps.onDepth, deps.memory);
    this.#switch = new OutageSwitch(deps);
    // A journal left by a crash during an outage: go on from it, and write it once Redis answers.
    if (deps.journal.depth > 0) this.#switch.enter();
    // At the first sign, not after a write has waited out the client's retries.
    deps.redis.on('close', () => this.#switch.enter());
  }

  async ping() {
    return !this.#switch.inOutage && (await this.#redis.ping());
  }

  async close() {
    await this.#switch.close();
    this.deps.journal.close();
    await this.#redis.close();
  }

  async createMission(mission: Mission, log: LogDraft[]) {
    await this.#switch.redisOnly('creating a mission', () => this.#redis.createMission(mission, log));
    await this.#mirror.keepMission(mission);
  }

  getMission(missionId: string) {
    const keep = (m: Mission | undefined) => m && this.#mirror.keepMission(m);
    return this.#switch.either({ redis: () => this.#redis.getMission(missionId), outage: () => this.#mirror.getMission(missionId), keep });
  }

  async changeMission(missionId: string, change: Change<Mission>) {
    const changed = await this.#switch.redisOnly('changing a mission', () => this.#redis.changeMission(missionId, change));
    if (changed.ok) await this.#mirror.keepMission(changed.value);
    return changed;
  }

  changePerson(personId: string, change: (current: Person) => Result<Person>) {
    return this.#switch.redisOnly('changing a person', () => this.#redis.changePerson(personId, change));
  }

  async saveCredential(tokenHash: string, ref: CredentialRef) {
    await this.#switch.redisOnly('issuing a token', () => this.#redis.saveCredential(tokenHash, ref));
    await this.#mirror.keepCredential(tokenHash, ref);
  }

  findCredential(tokenHash: string) {
    const keep = (ref: CredentialRef | undefined) => this.#mirror.keepCredential(tokenHash, ref);
    return this.#switch.either({
      redis: () => this.#redis.findCredential(tokenHash),
      outage: () => this.#mirror.findCredential(tokenHash),
      keep,
    });
  }

  async revokeCredential(memberId: string) {
    await this.#switch.redisOnly('revoking a token', () => this.#redis.revokeCredential(memberId));
    await this.#mirror.forgetMember(memberId);
  }

  issueTrigger(trigger: TriggerRecord, log: LogDraft, deadlines: { key: string; at: number }[]) {
    const keep = (o: IssueOutcome) => this.#mirror.keepTrigger(o.trigger, o.created ? { schedule: deadlines } : {});
    const outage = () => this.#mirror.issueTrigger(trigger, log, deadlines);
    return this.#switch.either({ redis: () => this.#redis.issueTrigger(trigger, log, deadlines), outage, keep });
  }

  getTrigger(triggerId: string) {
    const keep = (t: TriggerRecord | undefined) => t && this.#mirror.keepTrigger(t);
    return this.#switch.either({ redis: () => this.#redis.getTrigger(triggerId), outage: () => this.#mirror.getTrigger(triggerId), keep });
  }

  changeTrigger(triggerId: string, change: Change<TriggerRecord>) {
    const { capturing, deadlines } = capturingDeadlines(change);
    const keep = (changed: Result<TriggerRecord>) => changed.ok && this.#mirror.keepTrigger(changed.value, deadlines());
    const outage = () => this.#mirror.changeTrigger(triggerId, change);
    return this.#switch.either({ redis: () => this.#redis.changeTrigger(triggerId, capturing), outage, keep });
  }

  /** A swap (§9) is made over HTTP and waits for Redis like every other roster change. */
  async handOverCue(triggerId: string, change: Change<TriggerRecord>) {
    const { capturing, deadlines } = capturingDeadlines(change);
    const changed = await this.#switch.redisOnly('handing a cue over', () => this.#redis.handOverCue(triggerId, capturing));
    // Mirrored with its deadlines, so the new driver's cue goes on through an outage that starts later.
    if (changed.ok) await this.#mirror.keepTrigger(changed.value, deadlines());
    return changed;
  }

  cuesAfter(memberId: string, afterSeq: number) {
    const keep = async (triggers: TriggerRecord[]) => {
      this.#mirror.keepCueSeq(memberId, afterSeq);
      for (const trigger of triggers) await this.#mirror.keepTrigger(trigger);
    };
    const outage = () => this.#mirror.cuesAfter(memberId, afterSeq);
    return this.#switch.either({ redis: () => this.#redis.cuesAfter(memberId, afterSeq), outage, keep });
  }

  recentTriggers(missionId: string, limit: number) {
    const outage = () => this.#mirror.recentTriggers(missionId, limit);
    return this.#switch.either({ redis: () => this.#redis.recentTriggers(missionId, limit), outage });
  }

  /** In an outage the view is assembled from the mirror's single reads (no round trip to save there). */
  missionView(missionId: string, limits: MissionViewLimits) {
    const keep = (view: MissionView | undefined) => view && this.#mirror.keepMission(view.mission);
    const outage = () => viewFromReads(this, missionId, limits);
    return this.#switch.either({ redis: () => this.#redis.missionView(missionId, limits), outage, keep });
  }

  raiseAlert(alert: Alert, log: LogDraft) {
    const keep = () => this.#mirror.keepAlert(alert);
    return this.#switch.either({
      redis: () => this.#redis.raiseAlert(alert, log),
      outage: () => this.#mirror.raiseAlert(alert, log),
      keep,
    });
  }

  changeAlert(alertId: string, change: Change<Alert>) {
    const keep = (changed: Result<Alert>) => changed.ok && this.#mirror.keepAlert(changed.value);
    const outage = () => this.#mirror.changeAlert(alertId, change);
    return this.#switch.either({ redis: () => this.#redis.changeAlert(alertId, change), outage, keep });
  }

  missionAlerts(missionId: string) {
    return this.#switch.either({ redis: () => this.#redis.missionAlerts(missionId), outage: () => this.#mirror.missionAlerts(missionId) });
  }

  recentObservations(missionId: string, limit: number) {
    return this.#switch.either({ redis: () => this.#redis.recentObservations(missionId, limit), outage: async () => [] });
  }

  savePresences(saves: readonly PresenceSave[]) {
    const outage = () => this.#mirror.savePresences(saves);
    return this.#switch.either({ redis: () => this.#redis.savePresences(saves), outage });
  }

  getPresence(missionId: string, memberId: string) {
    const outage = () => this.#mirror.getPresence(missionId, memberId);
    return this.#switch.either({ redis: () => this.#redis.getPresence(missionId, memberId), outage });
  }

  missionPresence(missionId: string) {
    return this.#switch.either({
      redis: () => this.#redis.missionPresence(missionId),
      outage: () => this.#mirror.missionPresence(missionId),
    });
  }

  scheduleDeadline(key: string, at: number) {
    const keep = () => this.#mirror.keepDeadline(key, at);
    return this.#switch.either({
      redis: () => this.#redis.scheduleDeadline(key, at),
      outage: () => this.#mirror.scheduleDeadline(key, at),
      keep,
    });
  }

  claimDeadlines(now: number, leaseMs: number, limit: number) {
    const outage = () => this.#mirror.claimDeadlines(now, leaseMs, limit);
    return this.#switch.either({ redis: () => this.#redis.claimDeadlines(now, leaseMs, limit), outage });
  }

  completeDeadline(key: string) {
    const keep = () => this.#mirror.keepDeadline(key, undefined);
    return this.#switch.either({ redis: () => this.#redis.completeDeadline(key), outage: () => this.#mirror.completeDeadline(key), keep });
  }

  async appendLog(missionId: string, log: LogDraft[]) {
    const outage = () => this.#mirror.appendLog(missionId, log);
    if (log.length) await this.#switch.either({ redis: () => this.#redis.appendLog(missionId, log), outage });
  }

  readLog(missionId: string) {
    return this.#switch.redisOnly('reading the log', () => this.#redis.readLog(missionId));
  }
}
