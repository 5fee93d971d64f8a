import type { Alert, LogEntry, Mission, MissionStatus, Person, Presence } from '@lockstep/shared';
import { Redis } from 'ioredis';
import { accept, refuse, type Result } from '../refusal.ts';
import type { CueLoad } from '../rules/overload.ts';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import { KnownRevisions } from './known-revisions.ts';
import { MissionCache } from './mission-cache.ts';
import type { MissionView, MissionViewLimits } from './mission-view.ts';
import {
  APPEND,
  CLAIM_DEADLINES,
  COMPARE_AND_SET,
  CREATE,
  CREATE_IF_ABSENT,
  CREATE_UNLOGGED,
  HAND_OVER_CUE,
  ISSUE_TRIGGER,
  READ_MISSION_INDEX,
  READ_RECORDS,
  SAVE_PRESENCES,
  SET_IF_REV,
  Script,
} from './redis-scripts.ts';
import type { Change, CredentialRef, DeadlineChanges, IssueOutcome, LogDraft, PresenceSave, Store, StoredObservation } from './store.ts';

const scripts = {
  create: new Script(CREATE),
  createIfAbsent: new Script(CREATE_IF_ABSENT),
  compareAndSet: new Script(COMPARE_AND_SET),
  issueTrigger: new Script(ISSUE_TRIGGER),
  append: new Script(APPEND),
  savePresences: new Script(SAVE_PRESENCES),
  claimDeadlines: new Script(CLAIM_DEADLINES),
  handOverCue: new Script(HAND_OVER_CUE),
  setIfRev: new Script(SET_IF_REV),
  createUnlogged: new Script(CREATE_UNLOGGED),
  readMissionIndex: new Script(READ_MISSION_INDEX),
  readRecords: new Script(READ_RECORDS),
};

/** A Redis hash as HGETALL answers it inside a script: field, value, field, value... */
function fieldsOf(pairs: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i]!] = pairs[i + 1]!;
  return fields;
}

/** Log lines per read of a long list (a tenth as many triggers, which are larger). */
const READ_PAGE = 1000;

/** Presence saves per script call. */
const PRESENCE_CHUNK = 500;

/** How often a change is tried when other writers (other nodes, or a whole convoy at once) changed the record first. */
const MAX_CHANGE_ATTEMPTS = 32;

/** Connects to Redis with the settings Lockstep relies on. RESP2 is pinned: every reply shape here was written and tested against it. */
export function connectRedis(url: string, onError: (error: Error) => void): Redis {
  // A command fails after 2 s rather than hang a handler for the whole of an outage; clients retry by id.
  // Auto-pipelining sends the commands of a turn of the event loop in one write: at a connect of
  // 10,000 devices, a write per command (a credential and a replay read each) was a fifth of the
  // node's time. A command may wait for the pipeline ahead of it; measured: connect 8.0 → 7.0 s,
  // relay unchanged, answer recorded p50 +0.2 ms.
  const redis = new Redis(url, { protocol: 2, maxRetriesPerRequest: 2, commandTimeout: 2000, enableAutoPipelining: true });
  redis.on('error', onError);
  return redis;
}

/** Closes a connection: politely when Redis is there, at once when it is not (QUIT would wait on a dead link and reject). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}

/** A failure that means Redis is not there, as opposed to a bug or a refused write. */
export function isRedisAway(redis: Redis, error: unknown): boolean {
  if (redis.status !== 'ready') return true;
  return (
    error instanceof Error && /Connection is closed|max retries|timed out|ECONNREFUSED|ECONNRESET|EPIPE|writeable/i.test(error.message)
  );
}

/** A change waiting for the write to its record that is on its way. */
interface QueuedChange<T> {
  change: Change<T>;
  resolve: (result: Result<T>) => void;
  reject: (error: unknown) => void;
}

/** A change that threw rather than answered: its caller gets the error, the others go on. */
class Thrown {
  constructor(readonly error: unknown) {}
}

type Settled<T> = Result<T> | Thrown;

interface ChangeOptions<T> {
  /** The record as the store's callers see it, from what Redis holds. */
  decode?: (stored: Stored<T>) => T;
  /** A channel on which the write's script publishes "<new rev> <record key>". */
  announceOn?: string;
  /** Called once the write is in, with the record and its new revision. */
  written?: (doc: T, rev: number) => void;
}

interface Stored<T> {
  rev: number;
  doc: T;
  /** The record's other hash fields (a trigger's seq per recipient, its fingerprint). */
  fields: Record<string, string>;
}

/** A record as its hash holds it, or undefined when the hash holds none. */
function storedOf<T>({ doc, rev, ...fields }: Record<string, string>): Stored<T> | undefined {
  return doc && rev ? { rev: Number(rev), doc: JSON.parse(doc) as T, fields } : undefined;
}

/**
 * The Redis store. Every record is a hash {rev, doc}; changes are compare-and-set on
 * `rev` in Lua, so several nodes may write the same record and none is lost.
 */
export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #missions = new MissionCache(() => performance.now());
  readonly #revisions: Redis;
  /** Per record key, the changes waiting for the write on its way (see #change). */
  readonly #writesQueued = new Map<string, QueuedChange<unknown>[]>();
  /** What this node last read or wrote of each record it changes: a write's first guess (see #changeTogether). */
  readonly #known = new KnownRevisions<Stored<unknown>>(() => performance.now());

  /** `prefix` keeps several deployments (or test runs) apart on one Redis. */
  constructor(redis: Redis, prefix = 'lockstep:') {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#revisions = this.#hearRevisions();
    // A Redis that restarted or failed over may hold an older revision under the number guessed:
    // a write from that guess would pass its check and undo another node's.
    redis.on('close', () => this.#known.clear());
  }

  /**
   * Listens, on a connection of its own, for the revisions other nodes write (see MissionCache).
   * While that connection is down an announcement may be missed, so the cache serves nothing.
   */
  #hearRevisions(): Redis {
    const channel = this.#keys.missionRevisions();
    const revisions = this.#redis.duplicate();
    // The store's own connection reports Redis going away; this one only stops the cache.
    revisions.on('error', () => {});
    revisions.on('close', () => this.#missions.stop());
    revisions.on('ready', () => {
      revisions.subscribe(channel).then(
        () => this.#missions.goLive(),
        () => this.#missions.stop(),
      );
    });
    revisions.on('message', (_channel: string, message: string) => {
      const space = message.indexOf(' ');
      this.#missions.announced(message.slice(space + 1 + this.#keys.mission('').length), Number(message.slice(0, space)));
    });
    return revisions;
  }

  readonly #keys = {
    mission: (id: string) => `${this.#prefix}m:${id}`,
    missionIndex: () => `${this.#prefix}missions`,
    missionRevisions: () => `${this.#prefix}mission-revisions`,
    log: (id: string) => `${this.#prefix}m:${id}:log`,
    logSeq: (id: string) => `${this.#prefix}m:${id}:logseq`,
    missionTriggers: (id: string) => `${this.#prefix}m:${id}:triggers`,
    missionAlerts: (id: string) => `${this.#prefix}m:${id}:alerts`,
    missionObservations: (id: string) => `${this.#prefix}m:${id}:observations`,
    cueLoad: (id: string) => `${this.#prefix}m:${id}:cueload`,
    presence: (id: string) => `${this.#prefix}m:${id}:presence`,
    presenceOwner: (id: string) => `${this.#prefix}m:${id}:presence-owner`,
    deadlines: () => `${this.#prefix}deadlines`,
    trigger: (id: string) => `${this.#prefix}t:${id}`,
    alert: (id: string) => `${this.#prefix}a:${id}`,
    observation: (id: string) => `${this.#prefix}o:${id}`,
    cueSeq: (memberId: string) => `${this.#prefix}u:${memberId}:cueseq`,
    cues: (memberId: string) => `${this.#prefix}u:${memberId}:cues`,
    tokenOf: (memberId: string) => `${this.#prefix}u:${memberId}:token`,
    credential: (tokenHash: string) => `${this.#prefix}cred:${tokenHash}`,
    person: (id: string) => `${this.#prefix}p:${id}`,
    peopleIndex: () => `${this.#prefix}people`,
    personMissions: (id: string) => `${this.#prefix}p:${id}:missions`,
  };

  async ping() {
    try {
      return (await this.#redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close() {
    this.#missions.stop();
    await Promise.all([closeRedis(this.#redis), closeRedis(this.#revisions)]);
  }

  #drafts(log: LogDraft[]): string[] {
    return log.map((draft) => JSON.stringify(draft));
  }

  /** The deadline changes as the Lua scripts read them: a count of pairs, the (key, at) pairs, the keys to clear. */
  #deadlineArgs(changes: DeadlineChanges | undefined): (string | number)[] {
    const schedule = changes?.schedule ?? [];
    return [schedule.length, ...schedule.flatMap(({ key, at }) => [key, at]), ...(changes?.complete ?? [])];
  }

  async #read<T>(key: string): Promise<Stored<T> | undefined> {
    return storedOf<T>(await this.#redis.hgetall(key));
  }

  async #readMany<T>(keys: string[]): Promise<T[]> {
    // Plain commands under Promise.all rather than a pipeline: a pipeline's per-command promises
    // are left unhandled when the connection drops.
    const docs = await Promise.all(keys.map((key) => this.#redis.hget(key, 'doc')));
    return docs.flatMap((doc) => (doc === null ? [] : [JSON.parse(doc) as T]));
  }

  async #create(key: string, missionId: string, indexKey: string, id: string, doc: unknown, fingerprint: string, log: LogDraft[]) {
    const created = await scripts.create.run(
      this.#redis,
      [key, this.#keys.log(missionId), this.#keys.logSeq(missionId), indexKey],
      [id, JSON.stringify(doc), fingerprint, ...this.#drafts(log)],
    );
    return created === 1;
  }

  /**
   * A compare-and-set change. Changes to one record made on this node while a write to it is on
   * its way queue behind it and then go to Redis together, as one write: a convoy's receipts and
   * answers to one cue arrive together, and would otherwise lose the compare-and-set to each
   * other and read again. Only other nodes' writes can still make a write lose.
   */
  #change<T>(key: string, missionIdOf: (doc: T) => string, what: string, change: Change<T>, options: ChangeOptions<T> = {}) {
    return new Promise<Result<T>>((resolve, reject) => {
      const waiting = this.#writesQueued.get(key);
      const queued: QueuedChange<T> = { change, resolve, reject };
      if (waiting) return void waiting.push(queued as QueuedChange<unknown>);
      this.#writesQueued.set(key, [queued as QueuedChange<unknown>]);
      void this.#writeQueued(key, missionIdOf, what, options);
    });
  }

  /** Writes the queue of one record, a batch at a time, until nothing more waits. */
  async #writeQueued<T>(key: string, missionIdOf: (doc: T) => string, what: string, options: ChangeOptions<T>) {
    const queue = this.#writesQueued.get(key) as QueuedChange<T>[];
    while (queue.length > 0) {
      const batch = queue.splice(0, queue.length);
      try {
        const results = await this.#changeTogether(key, missionIdOf, what, batch, options);
        batch.forEach((queued, i) => {
          const settled = results[i]!;
          if (settled instanceof Thrown) queued.reject(settled.error);
          else queued.resolve(settled);
        });
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
    this.#writesQueued.delete(key);
  }

  /**
   * Applies the changes in order to one read of the record and writes the outcome in one
   * compare-and-set: each change sees the ones before it, and its caller gets the record as it
   * left it. A change that refuses, or throws, changes nothing and does not stop the others.
   * The first attempt starts from the revision this node last read or wrote, when it has one,
   * without reading: the compare-and-set confirms it. A guess can be behind another node's write,
   * and only a write checks it, so a batch that a guess would leave unwritten, or in which a
   * change refused or threw, is judged again on a fresh read.
   */
  async #changeTogether<T>(
    key: string,
    missionIdOf: (doc: T) => string,
    what: string,
    batch: readonly QueuedChange<T>[],
    { decode = (stored) => stored.doc, announceOn, written }: ChangeOptions<T>,
  ): Promise<Settled<T>[]> {
    let guess = this.#known.get(key) as Stored<T> | undefined;
    for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; ) {
      const stored = guess ?? (await this.#read<T>(key));
      if (!stored) return batch.map(() => refuse('not_found', `no such ${what}`));
      const current = decode(stored);
      let doc = current;
      const log: LogDraft[] = [];
      const deadlines = new Map<string, number | undefined>();
      const results = batch.map((queued): Settled<T> => {
        let outcome: ReturnType<Change<T>>;
        try {
          outcome = queued.change(doc);
        } catch (error) {
          return new Thrown(error);
        }
        if (!outcome.ok) return outcome;
        const { next } = outcome.value;
        if (next === doc) return accept(next);
        doc = next;
        log.push(...outcome.value.log);
        // A later change's deadline wins: a receipt sets a hesitation deadline the answer behind it clears.
        for (const { key: k, at } of outcome.value.deadlines?.schedule ?? []) deadlines.set(k, at);
        for (const k of outcome.value.deadlines?.complete ?? []) deadlines.set(k, undefined);
        return accept(next);
      });
      if (guess && (doc === current || results.some((r) => r instanceof Thrown || !r.ok))) {
        guess = undefined;
        continue;
      }
      if (doc === current) return results;
      const schedule = [...deadlines].flatMap(([k, at]) => (at === undefined ? [] : [{ key: k, at }]));
      const complete = [...deadlines].flatMap(([k, at]) => (at === undefined ? [k] : []));
      const rev = await scripts.compareAndSet.run(
        this.#redis,
        [
          key,
          this.#keys.log(missionIdOf(doc)),
          this.#keys.logSeq(missionIdOf(doc)),
          this.#keys.deadlines(),
          ...(announceOn ? [announceOn] : []),
        ],
        [stored.rev, JSON.stringify(doc), log.length, ...this.#drafts(log), ...this.#deadlineArgs({ schedule, complete })],
      );
      if (rev !== -1) {
        this.#known.set(key, { rev: rev as number, doc, fields: stored.fields });
        written?.(doc, rev as number);
        return results;
      }
      this.#known.forget(key);
      if (guess) {
        // Only the guess was behind: read and apply again at once.
        guess = undefined;
        continue;
      }
      // Another node wrote first: wait a random, growing while, so nodes that read together stop
      // colliding instead of retrying in lockstep, then apply the whole batch again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** Math.min(attempt, 6)));
      attempt++;
    }
    return batch.map(() => refuse('internal', `the ${what} kept changing under this write`));
  }

  async createMission(mission: Mission, log: LogDraft[]) {
    await this.#create(this.#keys.mission(mission.id), mission.id, this.#keys.missionIndex(), mission.id, mission, '', log);
  }

  async getMission(missionId: string) {
    const cached = this.#missions.get(missionId);
    if (cached) {
      // Read again for the next caller, not this one; a failed read is the next caller's to meet.
      if (this.#missions.refreshDue(missionId)) this.#sharedRead(missionId).catch(() => {});
      return cached;
    }
    return this.#missions.readUnderWay(missionId) ?? this.#sharedRead(missionId);
  }

  #sharedRead(missionId: string): Promise<Mission | undefined> {
    const read = this.#readMission(missionId);
    this.#missions.share(missionId, read);
    return read;
  }

  /** One read of the mission, kept by the cache (which freezes it: callers that joined the read share it). */
  async #readMission(missionId: string): Promise<Mission | undefined> {
    const reading = this.#missions.begin(missionId);
    try {
      const stored = await this.#read<Mission>(this.#keys.mission(missionId));
      if (stored) return this.#missions.keep(reading, stored.rev, stored.doc);
      this.#missions.abandon(reading);
      return undefined;
    } catch (error) {
      this.#missions.abandon(reading);
      throw error;
    }
  }

  async changeMission(missionId: string, change: Change<Mission>) {
    return this.#change(this.#keys.mission(missionId), (m) => m.id, 'mission', change, {
      // Published by the write's own script: no node can see the new revision before it is announced.
      announceOn: this.#keys.missionRevisions(),
      // This node's copy is stale at once, before its own announcement comes back.
      written: (mission, rev) => this.#missions.announced(mission.id, rev),
    });
  }

  async listMissions(query: { status?: MissionStatus | undefined; limit: number }) {
    const ids = (await this.#redis.lrange(this.#keys.missionIndex(), 0, -1)).reverse();
    const found: Mission[] = [];
    // Read in pages, newest first, until enough match: a status filter may skip many.
    const page = Math.max(query.limit, 50);
    for (let from = 0; from < ids.length && found.length < query.limit; from += page) {
      const missions = await this.#readMany<Mission>(ids.slice(from, from + page).map((id) => this.#keys.mission(id)));
      found.push(...missions.filter((m) => query.status === undefined || m.status === query.status));
    }
    return found.slice(0, query.limit);
  }

  async createPerson(person: Person) {
    // A script, not MULTI: a transaction's queued commands leave unhandled rejections when Redis times out.
    await scripts.createUnlogged.run(
      this.#redis,
      [this.#keys.person(person.personId), this.#keys.peopleIndex()],
      [person.personId, JSON.stringify(person)],
    );
  }

  async getPerson(personId: string) {
    return (await this.#read<Person>(this.#keys.person(personId)))?.doc;
  }

  async changePerson(personId: string, change: (current: Person) => Result<Person>) {
    const key = this.#keys.person(personId);
    for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
      const stored = await this.#read<Person>(key);
      if (!stored) return refuse('not_found', 'no such person');
      const outcome = change(stored.doc);
      if (!outcome.ok || outcome.value === stored.doc) return outcome;
      if ((await scripts.setIfRev.run(this.#redis, [key], [stored.rev, JSON.stringify(outcome.value)])) !== -1) return outcome;
    }
    return refuse('internal', 'the person kept changing under this write');
  }

  async listPeople() {
    const ids = await this.#redis.lrange(this.#keys.peopleIndex(), 0, -1);
    return this.#readMany<Person>(ids.map((id) => this.#keys.person(id)));
  }

  async notePersonInMission(personId: string, missionId: string) {
    // A sorted set scored by first note keeps each mission once, in the order noted.
    await this.#redis.zadd(this.#keys.personMissions(personId), 'NX', Date.now(), missionId);
  }

  async personMissions(personId: string) {
    return this.#redis.zrange(this.#keys.personMissions(personId), '0', '-1');
  }

  async saveCredential(tokenHash: string, ref: CredentialRef) {
    await Promise.all([
      this.#redis.set(this.#keys.credential(tokenHash), JSON.stringify(ref)),
      this.#redis.set(this.#keys.tokenOf(ref.memberId), tokenHash),
    ]);
  }

  async findCredential(tokenHash: string) {
    const ref = await this.#redis.get(this.#keys.credential(tokenHash));
    return ref ? (JSON.parse(ref) as CredentialRef) : undefined;
  }

  async revokeCredential(memberId: string) {
    const tokenHash = await this.#redis.get(this.#keys.tokenOf(memberId));
    // The credential goes first: once it is gone the token opens nothing, whatever happens next.
    if (tokenHash) await this.#redis.del(this.#keys.credential(tokenHash));
    await this.#redis.del(this.#keys.tokenOf(memberId));
  }

  /** A trigger's doc carries recipients without their seqs; each seq is its own hash field, set once by ISSUE_TRIGGER. */
  #decodeTrigger = (stored: Stored<TriggerRecord>): TriggerRecord => ({
    ...stored.doc,
    recipients: stored.doc.recipients.map((r) => ({ ...r, seq: Number(stored.fields[`seq:${r.memberId}`] ?? 0) })),
  });

  async issueTrigger(trigger: TriggerRecord, log: LogDraft, deadlines: { key: string; at: number }[]): Promise<IssueOutcome> {
    const memberIds = trigger.recipients.map((r) => r.memberId);
    const reply = (await scripts.issueTrigger.run(
      this.#redis,
      [
        this.#keys.trigger(trigger.id),
        this.#keys.log(trigger.missionId),
        this.#keys.logSeq(trigger.missionId),
        this.#keys.missionTriggers(trigger.missionId),
        this.#keys.deadlines(),
        ...memberIds.flatMap((id) => [this.#keys.cueSeq(id), this.#keys.cues(id)]),
      ],
      [
        trigger.id,
        JSON.stringify(trigger),
        trigger.fingerprint,
        JSON.stringify(log),
        memberIds.length,
        ...trigger.recipients.flatMap((r) => [r.memberId, r.seq]),
        ...this.#deadlineArgs({ schedule: deadlines }),
      ],
    )) as number[];
    if (reply[0] === 0) {
      const existing = await this.getTrigger(trigger.id);
      if (existing) return { created: false, trigger: existing };
    }
    const seqs = reply.slice(1);
    const fields = Object.fromEntries(memberIds.map((id, i) => [`seq:${id}`, String(seqs[i] ?? 0)]));
    this.#known.set(this.#keys.trigger(trigger.id), { rev: 1, doc: trigger, fields });
    return { created: true, trigger: { ...trigger, recipients: trigger.recipients.map((r, i) => ({ ...r, seq: seqs[i] ?? 0 })) } };
  }

  async getTrigger(triggerId: string) {
    const stored = await this.#read<TriggerRecord>(this.#keys.trigger(triggerId));
    return stored && this.#decodeTrigger(stored);
  }

  async changeTrigger(triggerId: string, change: Change<TriggerRecord>) {
    return this.#change(this.#keys.trigger(triggerId), (t) => t.missionId, 'trigger', change, { decode: this.#decodeTrigger });
  }

  async handOverCue(triggerId: string, change: Change<TriggerRecord>) {
    const key = this.#keys.trigger(triggerId);
    // It adds seq fields the guess does not carry.
    this.#known.forget(key);
    for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
      const stored = await this.#read<TriggerRecord>(key);
      if (!stored) return refuse('not_found', 'no such trigger');
      const current = this.#decodeTrigger(stored);
      const outcome = change(current);
      if (!outcome.ok) return outcome;
      const { next, log, deadlines } = outcome.value;
      if (next === current) return accept(next);
      const known = new Set(current.recipients.map((r) => r.memberId));
      const added = next.recipients.filter((r) => !known.has(r.memberId)).map((r) => r.memberId);
      const reply = (await scripts.handOverCue.run(
        this.#redis,
        [
          key,
          this.#keys.log(next.missionId),
          this.#keys.logSeq(next.missionId),
          this.#keys.deadlines(),
          ...added.flatMap((id) => [this.#keys.cueSeq(id), this.#keys.cues(id)]),
        ],
        [
          stored.rev,
          JSON.stringify(next),
          triggerId,
          added.length,
          ...added,
          log.length,
          ...this.#drafts(log),
          ...this.#deadlineArgs(deadlines),
        ],
      )) as number[];
      if (reply[0] === -1) continue;
      const seqs = new Map(added.map((id, i) => [id, reply[i + 1] ?? 0]));
      return accept({ ...next, recipients: next.recipients.map((r) => ({ ...r, seq: seqs.get(r.memberId) ?? r.seq })) });
    }
    return refuse('internal', 'the trigger kept changing under this write');
  }

  async missionTriggers(missionId: string) {
    const ids = await this.#redis.lrange(this.#keys.missionTriggers(missionId), 0, -1);
    // Page by page: thousands of replies parsed at once would hold this node's event loop (and its relay) for long.
    const triggers: TriggerRecord[] = [];
    for (let from = 0; from < ids.length; from += READ_PAGE / 10)
      triggers.push(...(await this.#triggersByIds(ids.slice(from, from + READ_PAGE / 10))));
    return triggers;
  }

  async #triggersByIds(ids: string[]): Promise<TriggerRecord[]> {
    const hashes = await Promise.all(ids.map((id) => this.#redis.hgetall(this.#keys.trigger(id))));
    return hashes.flatMap((hash) => storedOf<TriggerRecord>(hash) ?? []).map(this.#decodeTrigger);
  }

  async cuesAfter(memberId: string, afterSeq: number) {
    const ids = await this.#redis.zrangebyscore(this.#keys.cues(memberId), `(${afterSeq}`, '+inf');
    return this.#triggersByIds(ids);
  }

  async recentTriggers(missionId: string, limit: number) {
    const ids = await this.#redis.lrange(this.#keys.missionTriggers(missionId), -limit, -1);
    return this.#triggersByIds(ids);
  }

  async changeCueLoad(missionId: string, change: Change<CueLoad>) {
    const key = this.#keys.cueLoad(missionId);
    const changed = await this.#change(key, (load) => load.missionId, 'cue load', change);
    if (changed.ok || changed.refusal.code !== 'not_found') return changed;
    // The mission's first cue: an empty load, unless another node's first cue made one meanwhile.
    const empty: CueLoad = { missionId, vehicles: {} };
    await scripts.createIfAbsent.run(this.#redis, [key], [JSON.stringify(empty)]);
    return this.#change(key, (load) => load.missionId, 'cue load', change);
  }

  /** Two round trips whatever the mission holds: the mission and its index lists, then every record they name. */
  async missionView(missionId: string, limits: MissionViewLimits): Promise<MissionView | undefined> {
    const [doc, triggerIds, alertIds, observationIds, presence] = (await scripts.readMissionIndex.run(
      this.#redis,
      [
        this.#keys.mission(missionId),
        this.#keys.missionTriggers(missionId),
        this.#keys.missionAlerts(missionId),
        this.#keys.missionObservations(missionId),
        this.#keys.presence(missionId),
      ],
      [limits.triggers, limits.observations, limits.alertsAndPresence ? '1' : '0'],
    )) as [string | null, string[], string[], string[], string[]];
    if (doc === null) return undefined;
    const keys = [
      ...triggerIds.map((id) => this.#keys.trigger(id)),
      ...alertIds.map((id) => this.#keys.alert(id)),
      ...observationIds.map((id) => this.#keys.observation(id)),
    ];
    const hashes = keys.length ? ((await scripts.readRecords.run(this.#redis, keys, [])) as string[][]).map(fieldsOf) : [];
    const triggerHashes = hashes.slice(0, triggerIds.length);
    const alertHashes = hashes.slice(triggerIds.length, triggerIds.length + alertIds.length);
    const observationHashes = hashes.slice(triggerIds.length + alertIds.length);
    return {
      mission: JSON.parse(doc) as Mission,
      triggers: triggerHashes.flatMap((h) => storedOf<TriggerRecord>(h) ?? []).map(this.#decodeTrigger),
      alerts: alertHashes.flatMap((h) => storedOf<Alert>(h)?.doc ?? []),
      presence: Object.values(fieldsOf(presence)).map((json) => JSON.parse(json) as Presence),
      observations: observationHashes.flatMap((h) => storedOf<StoredObservation>(h)?.doc ?? []),
    };
  }

  async raiseAlert(alert: Alert, log: LogDraft) {
    return this.#create(this.#keys.alert(alert.id), alert.missionId, this.#keys.missionAlerts(alert.missionId), alert.id, alert, '', [log]);
  }

  async changeAlert(alertId: string, change: Change<Alert>) {
    return this.#change(this.#keys.alert(alertId), (a) => a.missionId, 'alert', change);
  }

  async missionAlerts(missionId: string) {
    const ids = await this.#redis.lrange(this.#keys.missionAlerts(missionId), 0, -1);
    return this.#readMany<Alert>(ids.map((id) => this.#keys.alert(id)));
  }

  async postObservation(observation: StoredObservation, log: LogDraft) {
    const key = this.#keys.observation(observation.id);
    const created = await this.#create(
      key,
      observation.missionId,
      this.#keys.missionObservations(observation.missionId),
      observation.id,
      observation,
      observation.fingerprint,
      [log],
    );
    if (created) return { created, observation };
    const existing = await this.#read<StoredObservation>(key);
    return { created: false, observation: existing?.doc ?? observation };
  }

  async recentObservations(missionId: string, limit: number) {
    const ids = await this.#redis.lrange(this.#keys.missionObservations(missionId), -limit, -1);
    return this.#readMany<StoredObservation>(ids.map((id) => this.#keys.observation(id)));
  }

  /** One script a chunk: a connect storm's thousands of saves must not hold Redis in one script for long. */
  async savePresences(saves: readonly PresenceSave[]) {
    const chunks: (readonly PresenceSave[])[] = [];
    for (let from = 0; from < saves.length; from += PRESENCE_CHUNK) chunks.push(saves.slice(from, from + PRESENCE_CHUNK));
    const replies = await Promise.all(
      chunks.map(
        (chunk) =>
          scripts.savePresences.run(
            this.#redis,
            chunk.flatMap(({ missionId }) => [
              this.#keys.presence(missionId),
              this.#keys.presenceOwner(missionId),
              this.#keys.log(missionId),
              this.#keys.logSeq(missionId),
            ]),
            chunk.flatMap(({ presence, log, device }) => [
              presence.memberId,
              JSON.stringify(presence),
              device.id,
              device.onlyIfOwner ? '1' : '0',
              log.length,
              ...this.#drafts(log),
            ]),
          ) as Promise<number[]>,
      ),
    );
    return replies.flat().map((saved) => saved === 1);
  }

  async getPresence(missionId: string, memberId: string) {
    const json = await this.#redis.hget(this.#keys.presence(missionId), memberId);
    return json ? (JSON.parse(json) as Presence) : undefined;
  }

  async missionPresence(missionId: string) {
    const all = await this.#redis.hgetall(this.#keys.presence(missionId));
    return Object.values(all).map((json) => JSON.parse(json) as Presence);
  }

  async scheduleDeadline(key: string, at: number) {
    await this.#redis.zadd(this.#keys.deadlines(), at, key);
  }

  async claimDeadlines(now: number, leaseMs: number, limit: number) {
    return (await scripts.claimDeadlines.run(this.#redis, [this.#keys.deadlines()], [now, now + leaseMs, limit])) as string[];
  }

  async completeDeadline(key: string) {
    await this.#redis.zrem(this.#keys.deadlines(), key);
  }

  async appendLog(missionId: string, log: LogDraft[]) {
    if (log.length === 0) return;
    await scripts.append.run(this.#redis, [this.#keys.log(missionId), this.#keys.logSeq(missionId)], this.#drafts(log));
  }

  async readLog(missionId: string) {
    // In pages, as for the triggers: a long mission's log is tens of thousands of lines.
    const entries: LogEntry[] = [];
    for (let from = 0; ; from += READ_PAGE) {
      const lines = await this.#redis.lrange(this.#keys.log(missionId), from, from + READ_PAGE - 1);
      for (const line of lines) entries.push(JSON.parse(line) as LogEntry);
      if (lines.length < READ_PAGE) return entries;
    }
  }
}
