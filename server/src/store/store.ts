import type { Alert, LogEntry, LogKind, Mission, MissionStatus, Observation, Person, Presence } from '@lockstep/shared';
import type { Result } from '../refusal.ts';
import type { CueLoad } from '../rules/overload.ts';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import type { MissionView, MissionViewLimits } from './mission-view.ts';

/** A mission-log entry before the store gives it its `seq`. */
export interface LogDraft {
  at: number;
  kind: LogKind;
  memberId?: string | undefined;
  triggerId?: string | undefined;
  data: Record<string, unknown>;
}

/** Deadlines a write sets or clears, in the same atomic step as the write. */
export interface DeadlineChanges {
  schedule?: { key: string; at: number }[];
  complete?: string[];
}

/**
 * A change to one stored record: the next value, what to log and which deadlines it sets
 * or clears, written together (the log can never miss an accepted change, and a crash can
 * never leave a state without its deadline). Returning `current` itself writes nothing.
 * The store may call it more than once when another writer got there first.
 */
export type Change<T> = (current: T) => Result<{ next: T; log: LogDraft[]; deadlines?: DeadlineChanges }>;

export interface CredentialRef {
  missionId: string;
  memberId: string;
}

export interface StoredObservation extends Observation {
  missionId: string;
  fingerprint: string;
}

/** One member's presence to save, as seen through one device (see `Store.savePresences`). */
export interface PresenceSave {
  missionId: string;
  presence: Presence;
  log: LogDraft[];
  device: { id: string; onlyIfOwner: boolean };
}

export interface IssueOutcome {
  /** False when a trigger with this id already existed: `trigger` is then that one, untouched. */
  created: boolean;
  trigger: TriggerRecord;
}

/**
 * Everything Lockstep keeps, in the domain's words. Two implementations, one contract
 * (test/store-contract.test.ts): Redis for real operations, memory for a single-node demo.
 */
export interface Store {
  readonly kind: 'redis' | 'memory';
  ping(): Promise<boolean>;
  close(): Promise<void>;

  createMission(mission: Mission, log: LogDraft[]): Promise<void>;
  getMission(missionId: string): Promise<Mission | undefined>;
  changeMission(missionId: string, change: Change<Mission>): Promise<Result<Mission>>;
  /** Newest first; `status` filters before `limit` counts. */
  listMissions(query: { status?: MissionStatus | undefined; limit: number }): Promise<Mission[]>;

  /** People (§1, v1.1) are kept across missions, apart from any one of them. */
  createPerson(person: Person): Promise<void>;
  getPerson(personId: string): Promise<Person | undefined>;
  /** Compare-and-set like the other changes; returning `current` itself writes nothing. */
  changePerson(personId: string, change: (current: Person) => Result<Person>): Promise<Result<Person>>;
  /** In the order they were created. */
  listPeople(): Promise<Person[]>;
  /**
   * Notes that a member of this mission names the person, so the person's report finds the
   * mission. Written before the member is: an entry whose member never came names nobody and
   * adds nothing to a report, while a member without its entry would be missed.
   */
  notePersonInMission(personId: string, missionId: string): Promise<void>;
  /** The missions noted for the person, each once, in the order noted. */
  personMissions(personId: string): Promise<string[]>;

  /** Tokens are kept only as hashes; one credential per member. */
  saveCredential(tokenHash: string, ref: CredentialRef): Promise<void>;
  findCredential(tokenHash: string): Promise<CredentialRef | undefined>;
  revokeCredential(memberId: string): Promise<void>;

  /**
   * Dedupes by id, gives every recipient its next cue `seq` (or keeps a seq already given, > 0),
   * logs and sets its deadlines: all in one step, before anything is emitted.
   */
  issueTrigger(trigger: TriggerRecord, log: LogDraft, deadlines: { key: string; at: number }[]): Promise<IssueOutcome>;
  getTrigger(triggerId: string): Promise<TriggerRecord | undefined>;
  changeTrigger(triggerId: string, change: Change<TriggerRecord>): Promise<Result<TriggerRecord>>;
  /** The triggers holding this member's cues with `seq > afterSeq`, in seq order. */
  cuesAfter(memberId: string, afterSeq: number): Promise<TriggerRecord[]>;
  /** The mission's most recent triggers, oldest first. */
  recentTriggers(missionId: string, limit: number): Promise<TriggerRecord[]>;
  /**
   * The recent cues to each vehicle of the mission (overload, docs/PROTOCOL.md §3), changed like
   * any record, so nodes issuing at once count every cue; a mission with none yet starts empty.
   */
  changeCueLoad(missionId: string, change: Change<CueLoad>): Promise<Result<CueLoad>>;
  /** Every trigger of the mission, oldest first (the after-action report reads them all). */
  missionTriggers(missionId: string): Promise<TriggerRecord[]>;
  /**
   * `changeTrigger`, where the change may add recipients (§9, a cue handed to a new driver):
   * each added recipient gets its member's next cue `seq` and joins that member's cues for
   * replay, in the same step as the write.
   */
  handOverCue(triggerId: string, change: Change<TriggerRecord>): Promise<Result<TriggerRecord>>;

  /**
   * What a snapshot is built from (the mission, its recent triggers and observations, and for a
   * watcher its alerts and presence) in a bounded number of round trips, however many records.
   */
  missionView(missionId: string, limits: MissionViewLimits): Promise<MissionView | undefined>;

  /** Raises an alert once: false when an alert with this id was raised before. */
  raiseAlert(alert: Alert, log: LogDraft): Promise<boolean>;
  changeAlert(alertId: string, change: Change<Alert>): Promise<Result<Alert>>;
  missionAlerts(missionId: string): Promise<Alert[]>;

  /** Idempotent by id: an existing observation comes back with `created: false` for the caller to compare. */
  postObservation(observation: StoredObservation, log: LogDraft): Promise<{ created: boolean; observation: StoredObservation }>;
  recentObservations(missionId: string, limit: number): Promise<StoredObservation[]>;

  /**
   * Saves members' presence, each as seen through one device, with its log lines, in one step:
   * a node saves what its devices told it in batches, not one write per probe. With `onlyIfOwner`
   * an entry is saved only if that device is still the one that spoke last: a node that lost a
   * socket must not mark offline a member who has meanwhile reconnected to another node.
   * Answers, per entry in order, whether it was saved.
   */
  savePresences(saves: readonly PresenceSave[]): Promise<boolean[]>;
  getPresence(missionId: string, memberId: string): Promise<Presence | undefined>;
  missionPresence(missionId: string): Promise<Presence[]>;

  /** Deadlines live in the store, so any node fires them when the one that set them is gone. */
  scheduleDeadline(key: string, at: number): Promise<void>;
  /** Leases up to `limit` due deadlines for `leaseMs`; one not completed within its lease is due again. */
  claimDeadlines(now: number, leaseMs: number, limit: number): Promise<string[]>;
  completeDeadline(key: string): Promise<void>;

  appendLog(missionId: string, log: LogDraft[]): Promise<void>;
  readLog(missionId: string): Promise<LogEntry[]>;
}
