import { z } from 'zod';

/**
 * Everything a node may have to do later, kept in the store so any node can do it. One member
 * per kind; a new deadline (silence, plan-unacked, succession, schedule) is a member here, a
 * case in `deadlineKey` and the schema, and a case in the app's dispatch, which the compiler
 * then demands.
 */
export type Deadline =
  /** A cue with no receipt at `issuedAt + threshold`. */
  | { kind: 'undelivered'; triggerId: string; memberId: string }
  /** A delivered cue with no answer at `deliveredAt + threshold`. */
  | { kind: 'hesitation'; triggerId: string; memberId: string }
  /** A trigger past its `staleAt`. */
  | { kind: 'expired'; triggerId: string }
  /** A driver gone since `since`, still gone after the mission's offline grace. */
  | { kind: 'offline'; missionId: string; memberId: string; since: number };

export type DeadlineKind = Deadline['kind'];

/**
 * The store's key for a deadline: a JSON array, kind first, fields in a fixed order, so the same
 * deadline always has the same key (scheduling it twice keeps one) and no id can break it.
 */
export function deadlineKey(deadline: Deadline): string {
  switch (deadline.kind) {
    case 'undelivered':
    case 'hesitation':
      return JSON.stringify([deadline.kind, deadline.triggerId, deadline.memberId]);
    case 'expired':
      return JSON.stringify([deadline.kind, deadline.triggerId]);
    case 'offline':
      return JSON.stringify([deadline.kind, deadline.missionId, deadline.memberId, deadline.since]);
    default:
      return deadline satisfies never;
  }
}

const DeadlineKey: z.ZodType<Deadline> = z.union([
  z
    .tuple([z.enum(['undelivered', 'hesitation']), z.string(), z.string()])
    .transform(([kind, triggerId, memberId]) => ({ kind, triggerId, memberId })),
  z.tuple([z.literal('expired'), z.string()]).transform(([kind, triggerId]) => ({ kind, triggerId })),
  z
    .tuple([z.literal('offline'), z.string(), z.string(), z.number()])
    .transform(([kind, missionId, memberId, since]) => ({ kind, missionId, memberId, since })),
]);

/** The deadline a key names; undefined for a key this node does not know (written by another version, or corrupt). */
export function parseDeadlineKey(key: string): Deadline | undefined {
  let json: unknown;
  try {
    json = JSON.parse(key);
  } catch {
    return undefined;
  }
  const parsed = DeadlineKey.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
