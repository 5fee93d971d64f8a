/**
 * Type tests for the one table of client events (shared/src/client-events.ts), as socket.io's
 * test/socket.io.test-d.ts does: `tsc -p test` fails when a line marked `@ts-expect-error`
 * compiles. Nothing here runs.
 */
import { accept, refuse, type ClientEventHandlers } from '@lockstep/server';
import type { ClientReply, Observation, Snapshot, TriggerState } from '@lockstep/shared';
import { requestOk, type Client } from '../support/hub.ts';

declare const trigger: TriggerState;
declare const observation: Observation;
declare const snapshot: Snapshot;

/** A handler for every event, each answering its own reply: this compiles. */
const complete = {
  'trigger:issue': async () => accept({ trigger }),
  'trigger:respond': async (answer) => accept({ gapMs: 0, gapSource: 'device', hesitation: answer.response === 'unable' }),
  'observation:post': async () => accept({ observation }),
  'alert:resolve': async (request) => refuse('not_found', `no alert ${request.alertId}`),
  'plan:ack': async () => accept({}),
  'mission:snapshot': async () => accept(snapshot),
  'schedule:mark': async () => accept({ schedule: [] }),
} satisfies ClientEventHandlers;

export const wrongReplyShape = {
  ...complete,
  // @ts-expect-error the reply of trigger:issue is `{ trigger }`, not the bare TriggerState
  'trigger:issue': async () => accept(trigger),
} satisfies ClientEventHandlers;

export const wrongReplyField = {
  ...complete,
  // @ts-expect-error gapSource is 'device' or 'server'
  'trigger:respond': async () => accept({ gapMs: 0, gapSource: 'tablet', hesitation: false }),
} satisfies ClientEventHandlers;

export const wrongPayload = {
  ...complete,
  // @ts-expect-error an alert:resolve payload has no `version`
  'alert:resolve': async (request) => accept({ alert: request.version }),
} satisfies ClientEventHandlers;

const { 'plan:ack': _planAck, ...withoutPlanAck } = complete;
// @ts-expect-error plan:ack has no handler
export const missingHandler = withoutPlanAck satisfies ClientEventHandlers;

export const unknownEvent = {
  ...complete,
  // @ts-expect-error no such client event in the table
  'trigger:cancel': async () => accept({}),
} satisfies ClientEventHandlers;

/** The client side: the socket's event map and the replies come from the same table. */
export function clientSide(socket: Client): void {
  socket.emit('trigger:respond', { triggerId: trigger.id, response: 'ack', respondedAt: 1 }, (reply) => {
    if (reply.ok) reply.gapMs satisfies number;
    else reply.error.code satisfies string;
  });
  // @ts-expect-error 'maybe' is not a response
  socket.emit('trigger:respond', { triggerId: trigger.id, response: 'maybe', respondedAt: 1 }, () => undefined);
  socket.emit('plan:ack', { version: 1 }, (reply: ClientReply<'plan:ack'>) => {
    // @ts-expect-error a refusal has to be ruled out before the reply's fields are read
    reply.error.code satisfies string;
  });
}

export async function testHelpers(socket: Client): Promise<void> {
  const issued = await requestOk(socket, 'trigger:issue', {});
  issued.trigger.recipients satisfies unknown[];
  // @ts-expect-error a trigger:issue reply carries no gapMs
  issued.gapMs satisfies number;
}
