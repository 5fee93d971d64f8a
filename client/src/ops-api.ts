import type {
  AddMemberBody,
  AddMemberReply,
  CreateMissionBody,
  CreatePersonBody,
  ErrorBody,
  Member,
  Mission,
  MissionReport,
  MissionSummary,
  PatchPersonBody,
  PeopleReply,
  Person,
  PlanInput,
  Role,
  SwapDriverBody,
  SwapDriverReply,
} from '@lockstep/shared';

/**
 * The console's side of the HTTP API (PROTOCOL.md §6), with the admin token; the board uses its
 * `download` with an ops member's token for the report that member may read. Every call answers
 * a value or a coded error, never throws: the screens show the error's message to the operator.
 * Types only come from `@lockstep/shared`, so the console's bundle carries no zod.
 */

/** The roster as the API gives it (v1.1: a swapped-out driver keeps its row with `replacedAt`). */
export type RosterMember = Member;
export type RosterMission = Mission;
export type PersonWithStats = PeopleReply['people'][number];
export type { MissionReport, MissionSummary, Person };

/** A member's token, returned once when it is made. */
export type IssuedLink = AddMemberReply;
export type PersonInput = CreatePersonBody;

export type ApiError = ErrorBody & { status: number };
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export class OpsApi {
  constructor(private readonly token: string) {}

  /**
   * Whether the server takes this admin token. The mission list answers it (v1.1); a v1.0 server
   * without the list still authenticates a mission read first: 401 for a bad token, 404 for no such mission.
   */
  async checkToken(): Promise<ApiResult<undefined>> {
    const listed = await this.missions();
    if (listed.ok) return { ok: true, value: undefined };
    if (listed.error.status !== 404) return listed;
    const probe = await this.mission('-');
    return probe.ok || probe.error.status === 404 ? { ok: true, value: undefined } : probe;
  }
  missions(): Promise<ApiResult<{ missions: MissionSummary[] }>> {
    return this.#call('GET', '/api/missions');
  }
  mission(id: string): Promise<ApiResult<RosterMission>> {
    return this.#call('GET', `/api/missions/${enc(id)}`);
  }
  createMission(input: CreateMissionBody): Promise<ApiResult<RosterMission>> {
    return this.#call('POST', '/api/missions', input);
  }
  addMember(missionId: string, input: AddMemberBody): Promise<ApiResult<IssuedLink>> {
    return this.#call('POST', `/api/missions/${enc(missionId)}/members`, input);
  }
  removeMember(missionId: string, memberId: string): Promise<ApiResult<undefined>> {
    return this.#call('DELETE', `/api/missions/${enc(missionId)}/members/${enc(memberId)}`);
  }
  /** v1.1: the old token stops working at once. */
  reissueToken(missionId: string, memberId: string): Promise<ApiResult<IssuedLink>> {
    return this.#call('POST', `/api/missions/${enc(missionId)}/members/${enc(memberId)}/token`, {});
  }
  /** v1.1, §9. */
  swapDriver(missionId: string, vehicleId: string, by: SwapDriverBody): Promise<ApiResult<SwapDriverReply>> {
    return this.#call('POST', `/api/missions/${enc(missionId)}/vehicles/${enc(vehicleId)}/driver`, by);
  }
  putPlan(missionId: string, plan: PlanInput): Promise<ApiResult<{ version: number }>> {
    return this.#call('PUT', `/api/missions/${enc(missionId)}/plan`, plan);
  }
  start(missionId: string, force: boolean): Promise<ApiResult<RosterMission>> {
    return this.#call('POST', `/api/missions/${enc(missionId)}/start`, force ? { force: true } : {});
  }
  end(missionId: string): Promise<ApiResult<RosterMission>> {
    return this.#call('POST', `/api/missions/${enc(missionId)}/end`, {});
  }
  report(missionId: string): Promise<ApiResult<MissionReport>> {
    return this.#call('GET', `/api/missions/${enc(missionId)}/report`);
  }
  people(query: { standby?: boolean; role?: Role; sort?: 'friction' } = {}): Promise<ApiResult<{ people: PersonWithStats[] }>> {
    const search = new URLSearchParams();
    if (query.standby) search.set('standby', 'true');
    if (query.role) search.set('role', query.role);
    if (query.sort) search.set('sort', query.sort);
    return this.#call('GET', `/api/people${search.size ? `?${search}` : ''}`);
  }
  createPerson(input: PersonInput): Promise<ApiResult<Person>> {
    return this.#call('POST', '/api/people', input);
  }
  updatePerson(personId: string, change: PatchPersonBody): Promise<ApiResult<Person>> {
    return this.#call('PATCH', `/api/people/${enc(personId)}`, change);
  }

  /** A text rendition the operator opens or saves (the printable report, CSV tables): the bearer header rules out a plain link. */
  async download(path: string): Promise<ApiResult<Blob>> {
    const response = await this.#fetch('GET', path);
    if (!response.ok) return response;
    if (response.value.ok) return { ok: true, value: await response.value.blob() };
    return { ok: false, error: await errorOf(response.value) };
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const response = await this.#fetch(method, path, body);
    if (!response.ok) return response;
    if (!response.value.ok) return { ok: false, error: await errorOf(response.value) };
    const text = await response.value.text();
    return { ok: true, value: (text ? JSON.parse(text) : undefined) as T };
  }

  async #fetch(method: string, path: string, body?: unknown): Promise<ApiResult<Response>> {
    try {
      const response = await fetch(path, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { ok: true, value: response };
    } catch {
      return { ok: false, error: { status: 0, code: 'internal', message: 'the server could not be reached' } };
    }
  }
}

const enc = encodeURIComponent;

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: ErrorBody };
    if (body.error) return { ...body.error, status: response.status };
  } catch {
    // Not our error shape (a proxy's page): described by its status below.
  }
  return { status: response.status, code: 'internal', message: `the server answered ${response.status}` };
}

/** One line an operator reads: the server's message, and the fields it names. */
export function describeError(error: ApiError): string {
  const fields = (error.issues ?? []).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  return [error.message, ...fields].join(' — ');
}
