import { closeSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Alert, LogKind, Recipient, TriggerState } from '@lockstep/shared';
import { z } from 'zod';
import { accept } from '../refusal.ts';
import { mergeTriggers } from '../rules/timing.ts';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import type { RedisStore } from './redis-store.ts';
import type { DeadlineChanges, LogDraft } from './store.ts';

const LogDraftSchema: z.ZodType<LogDraft> = z.object({
  at: z.number(),
  kind: LogKind,
  memberId: z.string().optional(),
  triggerId: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
});

const TriggerRecordSchema: z.ZodType<TriggerRecord> = TriggerState.omit({ status: true, recipients: true }).extend({
  missionId: z.string(),
  label: z.string(),
  fingerprint: z.string(),
  recipients: z.array(Recipient.extend({ seq: z.number().int().nonnegative(), shownAt: z.number().optional() })),
});

const Scheduled = z.array(z.object({ key: z.string(), at: z.number() }));

/** What a node wrote while Redis was away, in order, to be written to Redis when it returns: one domain call each. */
export const JournalEntry = z.discriminatedUnion('op', [
  z.object({ op: z.literal('issue'), trigger: TriggerRecordSchema, log: LogDraftSchema, deadlines: Scheduled }),
  z.object({
    op: z.literal('trigger'),
    trigger: TriggerRecordSchema,
    log: z.array(LogDraftSchema),
    schedule: Scheduled,
    complete: z.array(z.string()),
  }),
  z.object({ op: z.literal('alert'), alert: Alert, log: LogDraftSchema }),
  z.object({ op: z.literal('alert-change'), alert: Alert, log: z.array(LogDraftSchema) }),
  z.object({ op: z.literal('log'), missionId: z.string(), log: z.array(LogDraftSchema) }),
  z.object({ op: z.literal('deadline'), key: z.string(), at: z.number() }),
  z.object({ op: z.literal('deadline-done'), key: z.string() }),
]);
export type JournalEntry = z.infer<typeof JournalEntry>;

/**
 * Reads a journal back. The last line may be torn by a crash in mid-write: it was never
 * acknowledged (the sync comes after the write), so it is dropped. Any other line that does
 * not parse is corruption, and the node refuses to start rather than lose or invent writes.
 */
export function parseJournal(text: string, path: string): JournalEntry[] {
  const lines = text.split('\n').filter((line) => line.trim());
  return lines.flatMap((line, index) => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      if (index === lines.length - 1 && !text.endsWith('\n')) return [];
      throw new Error(`outage journal ${path}, line ${index + 1}: not JSON`, { cause: error });
    }
    const entry = JournalEntry.safeParse(json);
    if (!entry.success) throw new Error(`outage journal ${path}, line ${index + 1}: ${z.prettifyError(entry.error)}`);
    return [entry.data];
  });
}

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
    const bytes = readFileSync(path);
    this.#entries = parseJournal(bytes.toString('utf8'), path);
    // A torn last line goes, so the next entry starts a line of its own.
    if (bytes.length > 0 && bytes.at(-1) !== 0x0a) ftruncateSync(this.#fd, bytes.lastIndexOf(0x0a) + 1);
  }

  get depth(): number {
    return this.#entries.length;
  }

  get full(): boolean {
    return this.#entries.length >= this.capacity;
  }

  /** The entries not yet written to Redis, oldest first. */
  get entries(): readonly JournalEntry[] {
    return this.#entries;
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

/** Writes one journaled call to Redis. Trigger states merge monotonically: a recipient keeps whichever state is further along. */
export async function replayEntry(redis: RedisStore, entry: JournalEntry): Promise<void> {
  switch (entry.op) {
    case 'issue': {
      const { created } = await redis.issueTrigger(entry.trigger, entry.log, entry.deadlines);
      if (!created) await mergeTrigger(redis, entry.trigger, [], {});
      return;
    }
    case 'trigger':
      return mergeTrigger(redis, entry.trigger, entry.log, { schedule: entry.schedule, complete: entry.complete });
    case 'alert':
      await redis.raiseAlert(entry.alert, entry.log);
      return;
    case 'alert-change': {
      const changed = await redis.changeAlert(entry.alert.id, (stored) =>
        accept({ next: stored.resolvedAt === undefined && entry.alert.resolvedAt !== undefined ? entry.alert : stored, log: [] }),
      );
      if (changed.ok) await redis.appendLog(entry.alert.missionId, entry.log);
      return;
    }
    case 'log':
      return redis.appendLog(entry.missionId, entry.log);
    case 'deadline':
      return redis.scheduleDeadline(entry.key, entry.at);
    case 'deadline-done':
      return redis.completeDeadline(entry.key);
    default:
      return entry satisfies never;
  }
}

/** The log lines and deadlines go in whether or not the stored state moved. */
async function mergeTrigger(redis: RedisStore, journaled: TriggerRecord, log: LogDraft[], deadlines: DeadlineChanges) {
  let merged = false;
  await redis.changeTrigger(journaled.id, (stored) => {
    const next = mergeTriggers(stored, journaled);
    merged = next !== stored;
    return accept({ next, log, deadlines });
  });
  if (!merged) {
    await redis.appendLog(journaled.missionId, log);
    for (const { key, at } of deadlines.schedule ?? []) await redis.scheduleDeadline(key, at);
    for (const key of deadlines.complete ?? []) await redis.completeDeadline(key);
  }
}
