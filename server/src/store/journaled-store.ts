import type { Alert, Mission, MissionStatus, Person, Presence } from '@lockstep/shared';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Result } from '../refusal.ts';
import type { CueLoad } from '../rules/overload.ts';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import type { MemoryStore } from './memory-store.ts';
import { type MissionView, type MissionViewLimits, viewFromReads } from './mission-view.ts';
import { type OutageJournal, replayEntry } from './outage-journal.ts';
import { OutageMirror, StoreUnavailable } from './outage-mirror.ts';
import { isRedisAway, type RedisStore } from './redis-store.ts';
import type { Change, CredentialRef, DeadlineChanges, IssueOutcome, LogDraft, Store, StoredObservation } from './store.ts';

/** How often a node in an outage checks whether Redis is back. */
const RECOVERY_CHECK_MS = 500;

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

/**
 * Redis, with an outage journal. While Redis answers, every call is the Redis store's, and the
 * mirror keeps what this node needs to go on alone. When Redis stops answering, the mirror serves
 * and journals every write on disk before it is acknowledged (write-before-emit still holds);
 * `ping` says degraded. When Redis is back the journal is replayed to it in order, and the node
 * is the Redis store again. What cannot wait is refused (StoreUnavailable): creating missions and
 * members, changing plans, observations, judging overload, reading the log. A new Store method is `#redisOnly`
 * around the Redis store's, or `#either` with the mirror's answer and what it keeps of Redis's.
 */
export class JournaledStore implements Store {
  readonly kind = 'redis';
  #outage = false;
  #recovery: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  readonly #redis: RedisStore;
  readonly #mirror: OutageMirror;

  constructor(private readonly deps: JournaledStoreDeps) {
    this.#redis = deps.store;
    this.#mirror = new OutageMirror(deps.journal, deps.clock, deps.onDepth, deps.memory);
    // A journal left by a crash during an outage: go on from it, and write it once Redis answers.
    if (deps.journal.depth > 0) this.#enterOutage();
    // At the first sign, not after a write has waited out the client's retries.
    deps.redis.on('close', () => this.#enterOutage());
  }

  async ping() {
    return !this.#outage && (await this.#redis.ping());
  }

  async close() {
    clearInterval(this.#recovery);
    await this.#flushing;
    this.deps.journal.close();
    await this.#redis.close();
  }

  async createMission(mission: Mission, log: LogDraft[]) {
    await this.#redisOnly('creating a mission', () => this.#redis.createMission(mission, log));
    await this.#mirror.keepMission(mission);
  }

  getMission(missionId: string) {
    const keep = (m: Mission | undefined) => m && this.#mirror.keepMission(m);
    return this.#either({ redis: () => this.#redis.getMission(missionId), outage: () => this.#mirror.getMission(missionId), keep });
  }

  async changeMission(missionId: string, change: Change<Mission>) {
    const changed = await this.#redisOnly('changing a mission', () => this.#redis.changeMission(missionId, change));
    if (changed.ok) await this.#mirror.keepMission(changed.value);
    return changed;
  }

  listMissions(query: { status?: MissionStatus | undefined; limit: number }) {
    return this.#redisOnly('listing missions', () => this.#redis.listMissions(query));
  }

  // People live in Redis only: none of them is needed to relay a cue through an outage.
  createPerson(person: Person) {
    return this.#redisOnly('adding a person', () => this.#redis.createPerson(person));
  }

  getPerson(personId: string) {
    return this.#redisOnly('reading a person', () => this.#redis.getPerson(personId));
  }

  changePerson(personId: string, change: (current: Person) => Result<Person>) {
    return this.#redisOnly('changing a person', () => this.#redis.changePerson(personId, change));
  }

  listPeople() {
    return this.#redisOnly('listing people', () => this.#redis.listPeople());
  }

  notePersonInMission(personId: string, missionId: string) {
    return this.#redisOnly('adding a person to a mission', () => this.#redis.notePersonInMission(personId, missionId));
  }

  personMissions(personId: string) {
    return this.#redisOnly('reading a person', () => this.#redis.personMissions(personId));
  }

  async saveCredential(tokenHash: string, ref: CredentialRef) {
    await this.#redisOnly('issuing a token', () => this.#redis.saveCredential(tokenHash, ref));
    await this.#mirror.keepCredential(tokenHash, ref);
  }

  findCredential(tokenHash: string) {
    const keep = (ref: CredentialRef | undefined) => this.#mirror.keepCredential(tokenHash, ref);
    return this.#either({ redis: () => this.#redis.findCredential(tokenHash), outage: () => this.#mirror.findCredential(tokenHash), keep });
  }

  async revokeCredential(memberId: string) {
    await this.#redisOnly('revoking a token', () => this.#redis.revokeCredential(memberId));
    await this.#mirror.forgetMember(memberId);
  }

  issueTrigger(trigger: TriggerRecord, log: LogDraft, deadlines: { key: string; at: number }[]) {
    const keep = (o: IssueOutcome) => this.#mirror.keepTrigger(o.trigger, o.created ? { schedule: deadlines } : {});
    const outage = () => this.#mirror.issueTrigger(trigger, log, deadlines);
    return this.#either({ redis: () => this.#redis.issueTrigger(trigger, log, deadlines), outage, keep });
  }

  getTrigger(triggerId: string) {
    const keep = (t: TriggerRecord | undefined) => t && this.#mirror.keepTrigger(t);
    return this.#either({ redis: () => this.#redis.getTrigger(triggerId), outage: () => this.#mirror.getTrigger(triggerId), keep });
  }

  changeTrigger(triggerId: string, change: Change<TriggerRecord>) {
    let deadlines: DeadlineChanges = {};
    const capturing: Change<TriggerRecord> = (current) => {
      const outcome = change(current);
      deadlines = outcome.ok && outcome.value.next !== current ? (outcome.value.deadlines ?? {}) : {};
      return outcome;
    };
    const keep = (changed: Result<TriggerRecord>) => changed.ok && this.#mirror.keepTrigger(changed.value, deadlines);
    const outage = () => this.#mirror.changeTrigger(triggerId, change);
    return this.#either({ redis: () => this.#redis.changeTrigger(triggerId, capturing), outage, keep });
  }

  /** A swap (§9) is made over HTTP and waits for Redis like every other roster change. */
  async handOverCue(triggerId: string, change: Change<TriggerRecord>) {
    let deadlines: DeadlineChanges = {};
    const capturing: Change<TriggerRecord> = (current) => {
      const outcome = change(current);
      deadlines = outcome.ok && outcome.value.next !== current ? (outcome.value.deadlines ?? {}) : {};
      return outcome;
    };
    const changed = await this.#redisOnly('handing a cue over', () => this.#redis.handOverCue(triggerId, capturing));
    // Mirrored with its deadlines, so the new driver's cue goes on through an outage that starts later.
    if (changed.ok) await this.#mirror.keepTrigger(changed.value, deadlines);
    return changed;
  }

  missionTriggers(missionId: string) {
    return this.#redisOnly('reading the triggers', () => this.#redis.missionTriggers(missionId));
  }

  cuesAfter(memberId: string, afterSeq: number) {
    const keep = async (triggers: TriggerRecord[]) => {
      this.#mirror.keepCueSeq(memberId, afterSeq);
      for (const trigger of triggers) await this.#mirror.keepTrigger(trigger);
    };
    const outage = () => this.#mirror.cuesAfter(memberId, afterSeq);
    return this.#either({ redis: () => this.#redis.cuesAfter(memberId, afterSeq), outage, keep });
  }

  recentTriggers(missionId: string, limit: number) {
    const outage = () => this.#mirror.recentTriggers(missionId, limit);
    return this.#either({ redis: () => this.#redis.recentTriggers(missionId, limit), outage });
  }

  /** Overload is judged across nodes or not at all: in an outage the cue goes without the judgement. */
  changeCueLoad(missionId: string, change: Change<CueLoad>) {
    return this.#redisOnly('judging overload', () => this.#redis.changeCueLoad(missionId, change));
  }

  /** In an outage the view is assembled from the mirror's single reads (no round trip to save there). */
  missionView(missionId: string, limits: MissionViewLimits) {
    const keep = (view: MissionView | undefined) => view && this.#mirror.keepMission(view.mission);
    const outage = () => viewFromReads(this, missionId, limits);
    return this.#either({ redis: () => this.#redis.missionView(missionId, limits), outage, keep });
  }

  raiseAlert(alert: Alert, log: LogDraft) {
    const keep = () => this.#mirror.keepAlert(alert);
    return this.#either({ redis: () => this.#redis.raiseAlert(alert, log), outage: () => this.#mirror.raiseAlert(alert, log), keep });
  }

  changeAlert(alertId: string, change: Change<Alert>) {
    const keep = (changed: Result<Alert>) => changed.ok && this.#mirror.keepAlert(changed.value);
    const outage = () => this.#mirror.changeAlert(alertId, change);
    return this.#either({ redis: () => this.#redis.changeAlert(alertId, change), outage, keep });
  }

  missionAlerts(missionId: string) {
    return this.#either({ redis: () => this.#redis.missionAlerts(missionId), outage: () => this.#mirror.missionAlerts(missionId) });
  }

  postObservation(observation: StoredObservation, log: LogDraft) {
    return this.#redisOnly('posting an observation', () => this.#redis.postObservation(observation, log));
  }

  recentObservations(missionId: string, limit: number) {
    return this.#either({ redis: () => this.#redis.recentObservations(missionId, limit), outage: async () => [] });
  }

  savePresence(missionId: string, presence: Presence, log: LogDraft[], device: { id: string; onlyIfOwner: boolean }) {
    const outage = () => this.#mirror.savePresence(missionId, presence, log, device);
    return this.#either({ redis: () => this.#redis.savePresence(missionId, presence, log, device), outage });
  }

  getPresence(missionId: string, memberId: string) {
    const outage = () => this.#mirror.getPresence(missionId, memberId);
    return this.#either({ redis: () => this.#redis.getPresence(missionId, memberId), outage });
  }

  missionPresence(missionId: string) {
    return this.#either({ redis: () => this.#redis.missionPresence(missionId), outage: () => this.#mirror.missionPresence(missionId) });
  }

  scheduleDeadline(key: string, at: number) {
    const keep = () => this.#mirror.keepDeadline(key, at);
    return this.#either({ redis: () => this.#redis.scheduleDeadline(key, at), outage: () => this.#mirror.scheduleDeadline(key, at), keep });
  }

  claimDeadlines(now: number, leaseMs: number, limit: number) {
    const outage = () => this.#mirror.claimDeadlines(now, leaseMs, limit);
    return this.#either({ redis: () => this.#redis.claimDeadlines(now, leaseMs, limit), outage });
  }

  completeDeadline(key: string) {
    const keep = () => this.#mirror.keepDeadline(key, undefined);
    return this.#either({ redis: () => this.#redis.completeDeadline(key), outage: () => this.#mirror.completeDeadline(key), keep });
  }

  async appendLog(missionId: string, log: LogDraft[]) {
    const outage = () => this.#mirror.appendLog(missionId, log);
    if (log.length) await this.#either({ redis: () => this.#redis.appendLog(missionId, log), outage });
  }

  readLog(missionId: string) {
    return this.#redisOnly('reading the log', () => this.#redis.readLog(missionId));
  }

  // ---------------------------------------------------------------- outage and recovery

  /** Redis, with the mirror keeping what it answered; the mirror when Redis is away or the journal still holds writes. */
  async #either<T>(call: { redis: () => Promise<T>; outage: () => Promise<T>; keep?: (value: T) => unknown }): Promise<T> {
    if (this.#outage) return call.outage();
    let value: T;
    try {
      value = await call.redis();
    } catch (error) {
      if (!isRedisAway(this.deps.redis, error)) throw error;
      this.#enterOutage();
      return call.outage();
    }
    await call.keep?.(value);
    return value;
  }

  async #redisOnly<T>(what: string, direct: () => Promise<T>): Promise<T> {
    if (this.#outage) throw new StoreUnavailable(what);
    try {
      return await direct();
    } catch (error) {
      if (isRedisAway(this.deps.redis, error)) this.#enterOutage();
      throw error;
    }
  }

  #enterOutage() {
    if (this.#outage) return;
    this.#outage = true;
    const { redis, journal, logger } = this.deps;
    logger.warn({ journal: journal.path }, 'redis unreachable: relaying from this node, writing to the outage journal');
    this.#recovery = setInterval(() => {
      if (!this.#flushing && redis.status === 'ready') {
        this.#flushing = this.#flush()
          .catch((error: unknown) => logger.warn({ err: error, depth: journal.depth }, 'journal not yet written to redis'))
          .finally(() => (this.#flushing = undefined));
      }
    }, RECOVERY_CHECK_MS);
    this.#recovery.unref();
  }

  /** Replays the journal to Redis in order; entries added meanwhile go too; then Redis serves again. */
  async #flush() {
    const { journal } = this.deps;
    if (!(await this.#redis.ping())) return;
    for (let entry = journal.peek(); entry; entry = journal.peek()) {
      await replayEntry(this.#redis, entry);
      journal.shift();
      this.deps.onDepth(journal.depth);
    }
    clearInterval(this.#recovery);
    this.#outage = false;
    this.deps.logger.info('redis is back: the outage journal is written');
  }
}
