import type { Mission } from '@lockstep/shared';
import { ageSweep } from './age-sweep.ts';
import { deepFreeze } from './deep-freeze.ts';

/**
 * How long a cached mission is served without a fresh read. Announcements keep the cache right;
 * this only bounds how long one lost announcement (a subscriber link dropping unnoticed) can
 * leave a node behind.
 */
export const MISSION_CACHE_MAX_AGE_MS = 5000;

/**
 * A copy this old that is still being served is read again in the background, so a mission in
 * use is never read on a cue's path: at 10,000 devices one cue in three waited for the read of a
 * copy that had just passed its maximum age.
 */
const REFRESH_AFTER_MS = MISSION_CACHE_MAX_AGE_MS / 2;

/** One read or write of a mission under way, as the cache knows it. */
export interface MissionTicket {
  missionId: string;
  generation: number;
}

interface Entry {
  /** The newest revision this node knows of: read, written, or announced by another node. */
  rev: number;
  /** That revision's document; absent when the revision was announced but not read yet. */
  mission?: Mission;
  at: number;
}

/**
 * The missions this node has read, so that a cue, a handshake or an alert does not read and parse
 * the mission document from Redis each time. Every write of a mission announces its new revision
 * (published by the same script that writes it); an announcement drops any older copy here,
 * including one whose read was on its way when the announcement came. Serves nothing while the
 * announcements are not being heard (`live` false): then every read goes to Redis.
 */
export class MissionCache {
  readonly #entries = new Map<string, Entry>();
  /** Missions with a read on its way: an announcement for them is remembered even with nothing cached yet. */
  readonly #reading = new Map<string, number>();
  /** Reads on their way that another caller may join, until they settle or the mission is announced. */
  readonly #shared = new Map<string, Promise<Mission | undefined>>();
  #live = false;
  /** Counts the times announcements stopped: a read begun before a stop may have missed one. */
  #generation = 0;
  /** Drops copies too old to serve, so missions long over do not stay in memory. */
  readonly #sweep: () => void;

  constructor(private readonly now: () => number) {
    this.#sweep = ageSweep(this.#entries, MISSION_CACHE_MAX_AGE_MS, now);
  }

  /** The cached mission, when announcements are heard and the copy is recent and current. */
  get(missionId: string): Mission | undefined {
    const entry = this.#entries.get(missionId);
    if (!this.#live || !entry?.mission) return undefined;
    if (this.now() - entry.at > MISSION_CACHE_MAX_AGE_MS) return undefined;
    return entry.mission;
  }

  /** Whether the served copy is old enough to read again, with no read of it on its way. */
  refreshDue(missionId: string): boolean {
    const entry = this.#entries.get(missionId);
    return this.#live && entry?.mission !== undefined && this.now() - entry.at > REFRESH_AFTER_MS && !this.#shared.has(missionId);
  }

  /**
   * A read or write of the mission is starting; `keep` or `abandon` ends it. An announcement that
   * arrives meanwhile is remembered, so an older answer is not kept.
   */
  begin(missionId: string): MissionTicket {
    this.#reading.set(missionId, (this.#reading.get(missionId) ?? 0) + 1);
    return { missionId, generation: this.#generation };
  }

  /**
   * A read of the mission on its way, for a caller that would read the same document: five
   * devices of one detail connecting together read it once. None once an announcement for the
   * mission came after the read began, or while announcements may be missed.
   */
  readUnderWay(missionId: string): Promise<Mission | undefined> | undefined {
    return this.#live ? this.#shared.get(missionId) : undefined;
  }

  /** Lets other callers join this read (see `readUnderWay`) until it settles. */
  share(missionId: string, read: Promise<Mission | undefined>): void {
    if (!this.#live) return;
    this.#shared.set(missionId, read);
    const settled = () => {
      if (this.#shared.get(missionId) === read) this.#shared.delete(missionId);
    };
    read.then(settled, settled);
  }

  /** The read or write failed, or brought nothing to keep. */
  abandon(ticket: MissionTicket): void {
    const left = (this.#reading.get(ticket.missionId) ?? 1) - 1;
    if (left > 0) this.#reading.set(ticket.missionId, left);
    else this.#reading.delete(ticket.missionId);
  }

  /**
   * The mission as Redis held it at `rev`: kept unless a newer revision is known, or
   * announcements stopped since the read began (one may have been missed). Frozen whether kept or
   * not, since the callers that joined the read (`share`) hold the one copy.
   */
  keep(ticket: MissionTicket, rev: number, mission: Mission): Mission {
    this.abandon(ticket);
    const shared = deepFreeze(mission);
    const known = this.#entries.get(ticket.missionId);
    if (!this.#live || ticket.generation !== this.#generation || (known && known.rev > rev)) return shared;
    this.#sweep();
    this.#entries.set(ticket.missionId, { rev, mission: shared, at: this.now() });
    return shared;
  }

  /** Another write reached Redis: an older copy is stale from now on. */
  announced(missionId: string, rev: number): void {
    this.#shared.delete(missionId);
    const known = this.#entries.get(missionId);
    if (known ? known.rev >= rev : !this.#reading.has(missionId)) return;
    this.#entries.set(missionId, { rev, at: this.now() });
  }

  /** Announcements are heard again; what was cached before they stopped is gone already. */
  goLive(): void {
    this.#live = true;
  }

  /** Announcements may be missed from now on: forget everything and serve nothing until `goLive`. */
  stop(): void {
    this.#live = false;
    this.#generation++;
    this.#entries.clear();
    this.#shared.clear();
  }
}
