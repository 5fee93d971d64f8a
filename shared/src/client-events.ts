import { z } from 'zod';
import type { ErrorBody } from './errors.ts';
import {
  Alert,
  AlertResolve,
  GapSource,
  Observation,
  ObservationPost,
  PlanAck,
  Snapshot,
  SnapshotRequest,
  TriggerIssue,
  TriggerRespond,
  TriggerState,
} from './events.ts';
import { ScheduleLeg, ScheduleMark } from './mission.ts';

/** The success reply of §4: `ok: true` and the event's own fields. */
const ok = <S extends z.core.$ZodShape>(shape: S) => z.object({ ok: z.literal(true), ...shape });

/**
 * Every client→server event of docs/PROTOCOL.md §5, declared once: the payload the server parses
 * and its `{ ok: true, ... }` reply. `ClientToServerEvents`, the client's `request()`, the test
 * helpers and the server's handler map are all derived from this table, so an event added here
 * (`'schedule:mark': { payload: ScheduleMark, reply: ok({ schedule: Schedule }) }`) does not
 * compile until the server handles it and the authority rule names it.
 */
export const CLIENT_EVENTS = {
  'trigger:issue': {
    payload: TriggerIssue,
    reply: ok({ trigger: TriggerState, warnings: z.array(z.literal('overload')).optional() }),
  },
  'trigger:respond': {
    payload: TriggerRespond,
    reply: ok({ gapMs: z.number().int().nonnegative(), gapSource: GapSource, hesitation: z.boolean() }),
  },
  'observation:post': { payload: ObservationPost, reply: ok({ observation: Observation }) },
  'alert:resolve': { payload: AlertResolve, reply: ok({ alert: Alert }) },
  'plan:ack': { payload: PlanAck, reply: ok({}) },
  'mission:snapshot': { payload: SnapshotRequest, reply: ok(Snapshot.shape) },
  'schedule:mark': { payload: ScheduleMark, reply: ok({ schedule: z.array(ScheduleLeg) }) },
} as const satisfies Record<string, { payload: z.ZodType; reply: z.ZodObject<{ ok: z.ZodLiteral<true> }> }>;

type ClientEvents = typeof CLIENT_EVENTS;
export type ClientEventName = keyof ClientEvents;
export const CLIENT_EVENT_NAMES = Object.keys(CLIENT_EVENTS) as ClientEventName[];

/** What a client may send: the schema's input (defaults not yet applied). */
export type ClientPayload<E extends ClientEventName> = z.input<ClientEvents[E]['payload']>;
/** What the server's handler receives once the payload has parsed. */
export type ParsedPayload<E extends ClientEventName> = z.output<ClientEvents[E]['payload']>;

/** §4: the one refusal shape, common to every event. */
export interface ErrorReply {
  ok: false;
  error: ErrorBody;
}
export type SuccessReply<E extends ClientEventName> = z.output<ClientEvents[E]['reply']>;
export type ClientReply<E extends ClientEventName> = SuccessReply<E> | ErrorReply;
/** What a handler answers with on success: the reply without its `ok`. */
export type ReplyBody<E extends ClientEventName> = Omit<SuccessReply<E>, 'ok'>;

export type ClientToServerEvents = {
  [E in ClientEventName]: (payload: ClientPayload<E>, answer: (reply: ClientReply<E>) => void) => void;
};
