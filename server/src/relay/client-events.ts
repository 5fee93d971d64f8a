import type { ClientEventName, Member, ParsedPayload, ReplyBody } from '@lockstep/shared';
import type { Alerts } from '../alerts.ts';
import type { ResponseGapTracker } from '../gaps/response-gaps.ts';
import type { Missions } from '../missions/missions.ts';
import { mapResult, type Result } from '../refusal.ts';
import type { Relay } from './relay.ts';

/** Who sent an event, as the handshake established it, and when it arrived (monotonic). */
export interface Sender {
  member: Member;
  missionId: string;
  receivedAt: number;
  /** When the sender's socket joined its rooms (monotonic): every change after it reaches the socket live. */
  connectedAt: number;
}

/** What the server does with one client event once it passed the rate limit, the role check and its schema. */
export type ClientEventHandler<E extends ClientEventName> = (payload: ParsedPayload<E>, sender: Sender) => Promise<Result<ReplyBody<E>>>;

/** One handler per event of `CLIENT_EVENTS`; a missing one, or a reply of another shape, does not compile. */
export type ClientEventHandlers = { [E in ClientEventName]: ClientEventHandler<E> };

export interface ClientEventDeps {
  relay: Relay;
  gaps: ResponseGapTracker;
  missions: Missions;
  alerts: Alerts;
}

/** docs/PROTOCOL.md §5, client → server: each event handed to the domain service that owns it. */
export function clientEventHandlers(deps: ClientEventDeps) {
  return {
    'trigger:issue': (issue, { member, missionId, receivedAt }) => deps.relay.issue(member, missionId, issue, receivedAt),
    'trigger:respond': (answer, { member, missionId }) => deps.gaps.answer(member, missionId, answer),
    'observation:post': async (post, { member, missionId }) =>
      mapResult(await deps.missions.postObservation(member, missionId, post), (observation) => ({ observation })),
    'alert:resolve': async (request, { member, missionId }) =>
      mapResult(await deps.alerts.resolve(missionId, member, request), (alert) => ({ alert })),
    'plan:ack': async (ack, { member, missionId }) => mapResult(await deps.missions.ackPlan(member, missionId, ack.version), () => ({})),
    'mission:snapshot': (_request, { member, missionId, connectedAt }) => deps.missions.snapshot(member, missionId, connectedAt),
    'schedule:mark': async (mark, { member, missionId }) =>
      mapResult(await deps.missions.markSchedule(member, missionId, mark), (schedule) => ({ schedule })),
  } satisfies ClientEventHandlers;
}
