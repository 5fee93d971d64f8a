import { z } from 'zod';

/**
 * Everything a node may have to do later, kept in the store so any node can do it. One member
 * per kind; a new deadline (a schedule leg, say) is a member here, a
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
  | { kind: 'offline'; missionId: string; memberId: string; since: number }
  /** A `threat` observation: silent unless a trigger followed within the mission's `silenceMs` of its arrival. */
  | { kind: 'silence'; missionId: string; observationId: string }
  /** A driver who had not acked plan `version`: at once on a forced start, after the grace on a change while active. */
  | { kind: 'plan-unacked'; missionId: string; memberId: string; version: number }
  /** A burst of cues to one vehicle, judged in the write that counted `triggerId`: its alert, due at once. */
  | { kind: 'overload'; missionId: string; vehicleId: string; triggerId: string; count: number; valueMs: number }
  /** Who holds command may have changed by the passing of time alone (§11): look again. */
  | { kind: 'command'; missionId: string; at: number }
  /** Authority passed to an acting lead in the write that named them: its alert, due at once. */
  | { kind: 'command-handover'; missionId: string; memberId: string; fromMemberId: string | null; at: number };

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
    case 'silence':
      return JSON.stringify([deadline.kind, deadline.missionId, deadline.observationId]);
    case 'plan-unacked':
      return JSON.stringify([deadline.kind, deadline.missionId, deadline.memberId, deadline.version]);
    case 'overload':
      return JSON.stringify([deadline.kind, deadline.missionId, deadline.vehicleId, deadline.triggerId, deadline.count, deadline.valueMs]);
    case 'command':
      return JSON.stringify([deadline.kind, deadline.missionId, deadline.at]);
    case 'command-handover':
      return JSON.stringify([deadline.kind, deadline.missionId, deadline.memberId, deadline.fromMemberId, deadline.at]);
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
  z
    .tuple([z.literal('silence'), z.string(), z.string()])
    .transform(([kind, missionId, observationId]) => ({ kind, missionId, observationId })),
  z
    .tuple([z.literal('plan-unacked'), z.string(), z.string(), z.number()])
    .transform(([kind, missionId, memberId, version]) => ({ kind, missionId, memberId, version })),
  z
    .tuple([z.literal('overload'), z.string(), z.string(), z.string(), z.number(), z.number()])
    .transform(([kind, missionId, vehicleId, triggerId, count, valueMs]) => ({ kind, missionId, vehicleId, triggerId, count, valueMs })),
  z.tuple([z.literal('command'), z.string(), z.number()]).transform(([kind, missionId, at]) => ({ kind, missionId, at })),
  z
    .tuple([z.literal('command-handover'), z.string(), z.string(), z.string().nullable(), z.number()])
    .transform(([kind, missionId, memberId, fromMemberId, at]) => ({ kind, missionId, memberId, fromMemberId, at })),
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
