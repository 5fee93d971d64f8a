import {
  AddMemberBody,
  CreateMissionBody,
  CreatePersonBody,
  HTTP_STATUS,
  MissionsQuery,
  PatchPersonBody,
  PeopleQuery,
  PlanInput,
  StartMissionBody,
  SwapDriverBody,
  type ErrorCode,
} from '@lockstep/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { memberOfToken } from '../auth/identity.ts';
import { bearerToken, loggablePath, sameToken } from '../auth/tokens.ts';
import type { Clock } from '../clock.ts';
import { logAsCsv } from '../log/mission-log.ts';
import type { Metrics } from '../metrics.ts';
import type { Missions } from '../missions/missions.ts';
import type { People } from '../people/people.ts';
import type { Reports } from '../report/reports.ts';
import { recordRefusal } from '../record-refusal.ts';
import { invalidPayload, refuse, type Refusal, type Result } from '../refusal.ts';
import { mayOnMission, type HttpActor } from '../rules/authority.ts';
import type { Store } from '../store/store.ts';

export interface ApiDeps {
  store: Store;
  missions: Missions;
  people: People;
  reports: Reports;
  clock: Clock;
  metrics: Metrics;
  adminToken: string;
}

const MissionParams = z.object({ id: z.string().min(1).max(64) });
const MemberParams = MissionParams.extend({ memberId: z.string().min(1).max(64) });
const VehicleParams = MissionParams.extend({ vehicleId: z.string().min(1).max(64) });
const PersonParams = z.object({ personId: z.string().min(1).max(64) });
const LogQuery = z.object({ format: z.enum(['json', 'csv']).default('json') });
const ReportQuery = z.object({ format: z.enum(['json', 'csv', 'html']).default('json') });

/** docs/PROTOCOL.md §6. Every refusal answers `{ error: { code, message, issues? } }` and, within a mission, is logged. */
export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const fail = async (reply: FastifyReply, refusal: Refusal, missionId?: string, actor?: HttpActor) => {
    const { request } = reply;
    // A URL may name a mission that does not exist: such a refusal is counted, with no log to hold it.
    const logged = missionId && (await deps.store.getMission(missionId)) ? missionId : undefined;
    await recordRefusal(
      { ...deps, logger: request.log },
      {
        missionId: logged,
        memberId: actor?.kind === 'member' ? actor.member.memberId : undefined,
        request: `${request.method} ${request.routeOptions.url ?? loggablePath(request.url)}`,
        refusal,
      },
    );
    return reply.code(HTTP_STATUS[refusal.code]).send({ error: refusal });
  };

  const actorOf = async (request: FastifyRequest): Promise<HttpActor | undefined> => {
    const token = bearerToken(request.headers.authorization);
    if (!token) return undefined;
    if (sameToken(token, deps.adminToken)) return { kind: 'admin' };
    const identity = await memberOfToken(deps.store, token);
    return identity && { kind: 'member', ...identity };
  };

  /** Authenticates, parses the parameters, checks the right on the mission, parses the body. */
  const guarded =
    <P extends z.ZodType, B extends z.ZodType>(
      right: 'admin' | 'commands' | 'readsLog' | 'reads' | 'holdsCommand',
      params: P,
      body: B | undefined,
      handle: (input: {
        params: z.output<P>;
        body: z.output<B>;
        actor: HttpActor;
        request: FastifyRequest;
        reply: FastifyReply;
      }) => Promise<unknown>,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const actor = await actorOf(request);
      if (!actor) return fail(reply, refuse('unauthorized', 'a valid bearer token is required').refusal);
      // The parameters before the right: a malformed id is 400 for everyone, never a 403 that says nothing about it.
      const parsedParams = params.safeParse(request.params);
      if (!parsedParams.success) return fail(reply, invalidPayload(parsedParams.error).refusal, undefined, actor);
      const missionId = (parsedParams.data as { id?: string }).id;
      // Holding command depends on the mission now (an acting lead, §11): read it only for that right.
      const mission = right === 'holdsCommand' && actor.kind === 'member' && missionId ? await deps.missions.get(missionId) : undefined;
      const allowed =
        right === 'admin' ? actor.kind === 'admin' : missionId !== undefined && mayOnMission(actor, missionId, right, mission);
      if (!allowed)
        return fail(
          reply,
          refuse('forbidden', 'this token has no right to do that').refusal,
          actor.kind === 'member' ? actor.missionId : undefined,
          actor,
        );
      const parsedBody = body ? body.safeParse(request.body ?? {}) : { success: true as const, data: undefined };
      if (!parsedBody.success) return fail(reply, invalidPayload(parsedBody.error).refusal, missionId, actor);
      return handle({ params: parsedParams.data, body: parsedBody.data as z.output<B>, actor, request, reply });
    };

  const by = (actor: HttpActor) => (actor.kind === 'admin' ? 'admin' : actor.member.memberId);

  const answer = async <T>(
    reply: FastifyReply,
    result: Result<T>,
    missionId: string,
    actor: HttpActor,
    status = 200,
    shape: (value: T) => unknown = (v) => v,
  ) => {
    if (!result.ok) return fail(reply, result.refusal, missionId, actor);
    return reply.code(status).send(shape(result.value));
  };

  app.post(
    '/api/missions',
    guarded('admin', z.object({}), CreateMissionBody, async ({ body, reply }) => reply.code(201).send(await deps.missions.create(body))),
  );

  app.post(
    '/api/missions/:id/members',
    guarded('admin', MissionParams, AddMemberBody, async ({ params, body, actor, reply }) => {
      if (!(await deps.missions.get(params.id))) return fail(reply, refuse('not_found', 'no such mission').refusal);
      return answer(reply, await deps.missions.addMember(params.id, body), params.id, actor, 201);
    }),
  );

  app.post(
    '/api/missions/:id/members/:memberId/token',
    guarded('commands', MemberParams, undefined, async ({ params, actor, reply }) =>
      answer(reply, await deps.missions.renewToken(params.id, params.memberId, by(actor)), params.id, actor, 201),
    ),
  );

  app.post(
    '/api/missions/:id/vehicles/:vehicleId/driver',
    guarded('holdsCommand', VehicleParams, SwapDriverBody, async ({ params, body, actor, reply }) =>
      answer(reply, await deps.missions.swapDriver(params.id, params.vehicleId, body, by(actor)), params.id, actor, 201),
    ),
  );

  app.get(
    '/api/missions',
    guarded('admin', z.object({}), undefined, async ({ request, reply }) => {
      const query = MissionsQuery.safeParse(request.query);
      if (!query.success) return fail(reply, invalidPayload(query.error).refusal);
      return reply.send({ missions: await deps.missions.list(query.data) });
    }),
  );

  app.get(
    '/api/missions/:id/report',
    guarded('readsLog', MissionParams, undefined, async ({ params, request, reply }) => {
      const query = ReportQuery.safeParse(request.query);
      if (!query.success) return fail(reply, invalidPayload(query.error).refusal);
      const report = await deps.reports.mission(params.id, query.data.format);
      if (!report) return fail(reply, refuse('not_found', 'no such mission').refusal);
      return reply.type(report.type).send(report.body);
    }),
  );

  app.post(
    '/api/people',
    guarded('admin', z.object({}), CreatePersonBody, async ({ body, reply }) => reply.code(201).send(await deps.people.create(body))),
  );

  app.get(
    '/api/people',
    guarded('admin', z.object({}), undefined, async ({ request, reply }) => {
      const query = PeopleQuery.safeParse(request.query);
      if (!query.success) return fail(reply, invalidPayload(query.error).refusal);
      const { standby, role, sort } = query.data;
      return reply.send(await deps.people.list({ standby: standby === undefined ? undefined : standby === 'true', role, sort }));
    }),
  );

  app.get(
    '/api/people/:personId',
    guarded('admin', PersonParams, undefined, async ({ params, reply }) => {
      const person = await deps.people.get(params.personId);
      return person ? reply.send(person) : fail(reply, refuse('not_found', 'no such person').refusal);
    }),
  );

  app.patch(
    '/api/people/:personId',
    guarded('admin', PersonParams, PatchPersonBody, async ({ params, body, reply }) => {
      const patched = await deps.people.patch(params.personId, body);
      return patched.ok ? reply.send(patched.value) : fail(reply, patched.refusal);
    }),
  );

  app.get(
    '/api/people/:personId/report',
    guarded('admin', PersonParams, undefined, async ({ params, reply }) => {
      const report = await deps.people.report(params.personId);
      return report.ok ? reply.send(report.value) : fail(reply, report.refusal);
    }),
  );

  app.delete(
    '/api/missions/:id/members/:memberId',
    guarded('commands', MemberParams, undefined, async ({ params, actor, reply }) => {
      const revoked = await deps.missions.revokeMember(params.id, params.memberId, by(actor));
      if (!revoked.ok) return fail(reply, revoked.refusal, params.id, actor);
      return reply.code(204).send();
    }),
  );

  app.put(
    '/api/missions/:id/plan',
    guarded('commands', MissionParams, PlanInput, async ({ params, body, actor, reply }) =>
      answer(reply, await deps.missions.putPlan(params.id, body, by(actor)), params.id, actor, 200, (m) => ({
        version: m.plan.version,
      })),
    ),
  );

  app.post(
    '/api/missions/:id/start',
    guarded('commands', MissionParams, StartMissionBody, async ({ params, body, actor, reply }) =>
      answer(reply, await deps.missions.start(params.id, body.force ?? false, by(actor)), params.id, actor),
    ),
  );

  app.post(
    '/api/missions/:id/end',
    guarded('commands', MissionParams, undefined, async ({ params, actor, reply }) =>
      answer(reply, await deps.missions.end(params.id, by(actor)), params.id, actor),
    ),
  );

  app.get(
    '/api/missions/:id',
    guarded('reads', MissionParams, undefined, async ({ params, reply }) => {
      const mission = await deps.missions.get(params.id);
      return mission ? reply.send(mission) : fail(reply, refuse('not_found', 'no such mission').refusal);
    }),
  );

  app.get(
    '/api/missions/:id/log',
    guarded('readsLog', MissionParams, undefined, async ({ params, request, reply }) => {
      const query = LogQuery.safeParse(request.query);
      if (!query.success) return fail(reply, invalidPayload(query.error).refusal);
      if (!(await deps.missions.get(params.id))) return fail(reply, refuse('not_found', 'no such mission').refusal);
      const events = await deps.store.readLog(params.id);
      if (query.data.format === 'csv') return reply.type('text/csv; charset=utf-8').send(logAsCsv(events));
      return reply.send({ events });
    }),
  );
}

/** Fastify's own errors (malformed JSON, oversized body, unknown route) in the protocol's shape, never with internals. */
export function registerErrorShape(app: FastifyInstance): void {
  const body = (code: ErrorCode, message: string) => ({ error: { code, message } });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(body('not_found', 'no such route')));
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code: ErrorCode = status === 404 ? 'not_found' : status === 429 ? 'rate_limited' : 'invalid_payload';
      return reply
        .code(code === 'invalid_payload' ? 400 : status)
        .send(body(code, error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'the body is too large' : 'the request could not be read'));
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send(body('internal', 'the server could not process this request'));
  });
}
