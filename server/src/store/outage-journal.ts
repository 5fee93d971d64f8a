import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, writeSync, ftruncateSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Alert } from '@lockstep/shared';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import type { LogDraft } from './store.ts';

/** What a node wrote while Redis was away, in order, to be written to Redis when it returns. */
export type JournalEntry =
  | { op: 'issue'; trigger: TriggerRecord; log: LogDraft; deadlines: { key: string; at: number }[] }
  | { op: 'trigger'; trigger: TriggerRecord; log: LogDraft[]; schedule: { key: string; at: number }[]; complete: string[] }
  | { op: 'alert'; alert: Alert; log: LogDraft }
  | { op: 'alert-change'; alert: Alert; log: LogDraft[] }
  | { op: 'log'; missionId: string; log: LogDraft[] }
  | { op: 'deadline'; key: string; at: number }
  | { op: 'deadline-done'; key: string };

/**
 * An append-only file of journal entries, one JSON line each, flushed to disk before the
 * write is acknowledged: a node that crashes during an outage loses nothing it relayed.
 */
export class OutageJournal {
  readonly #fd: number;
  readonly #entries: JournalEntry[];

  constructor(
    readonly path: string,
    /** How many entries it holds at most; past that, writes are refused rather than risk memory and disk. */
    readonly capacity: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'a+');
    // Left by a node that crashed during an outage: replayed like any other.
    this.#entries = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as JournalEntry);
  }

  get depth(): number {
    return this.#entries.length;
  }

  get full(): boolean {
    return this.#entries.length >= this.capacity;
  }

  append(entry: JournalEntry): void {
    writeSync(this.#fd, `${JSON.stringify(entry)}\n`);
    fdatasyncSync(this.#fd);
    this.#entries.push(entry);
  }

  peek(): JournalEntry | undefined {
    return this.#entries[0];
  }

  /** Drops the oldest entry once it is in Redis; the file is emptied with the last one. */
  shift(): void {
    this.#entries.shift();
    if (this.#entries.length === 0) ftruncateSync(this.#fd, 0);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
