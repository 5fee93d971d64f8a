import { randomUUID } from 'node:crypto';
import {
  ROLE_AUTHORITY,
  type AddMemberBody,
  type AddMemberReply,
  type CreateMission,
  type Member,
  type Mission,
  type MissionSettings,
  type MissionStatus,
  type MissionSummary,
  type Person,
  type SwapDriverBody,
  type SwapDriverReply,
  type Observation,
  type ObservationPost,
  type PlanInput,
  type ScheduleLeg,
  type ScheduleMark,
  type Snapshot,
} from '@lockstep/shared';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { PlanAckWatch } from '../coordination/plan-acks.ts';
import type { SilenceWatch } from '../coordination/silence.ts';
import type { Succession } from '../coordination/succession.ts';
import { deadlineKey } from '../deadline-keys.ts';
import type { Fanout } from '../fanout.ts';
import { hashToken, newToken } from '../auth/tokens.ts';
import type { Relay } from '../relay/relay.ts';
import { accept, mapResult, refuse, type Result } from '../refusal.ts';
import { type PlanAckDue, planAckDeadlines, unackedDrivers } from '../rules/plan-acks.ts';
import { driftsTooFar, markLeg, scheduleOf } from '../rules/schedule.ts';
import { isOpen } from '../rules/timing.ts';
import { alertId, type Alerts } from '../alerts.ts';
import { triggerState } from '../rules/triggers.ts';
import type { Change, Store } from '../store/store.ts';
import { logLine } from '../log/log-lines.ts';
import { SharedReads } from './shared-reads.ts';

/** How many closed triggers a snapshot carries besides the open ones (docs/PROTOCOL.md §5). */
const CLOSED_IN_SNAPSHOT = 50;
/** How far back a snapshot looks for triggers and observations. */
const SNAPSHOT_WINDOW = 500;
const OBSERVATIONS_IN_SNAPSHOT = 100;
/** How long one snapshot read serves every request for the same view (a flood of snapshots costs one read per window). */
export const SNAPSHOT_SHARING_MS = 250;

/** The vehicle's driver in office: at most one that is not replaced (§1). */
export function currentDriver(mission: Pick<Mission, 'members'>, vehicleId: string): Member | undefined {
  return mission.members.find((m) => m.role === 'driver' && m.vehicleId === vehicleId && m.replacedAt === undefined);
}

/** A person is in a mission at most once (bar a driver swapped out, who is no longer in office). */
function personInMission(mission: Mission, personId: string | undefined) {
  if (personId === undefined) return undefined;
  return mission.members.some((m) => m.personId === personId && m.replacedAt === undefined)
    ? refuse('conflict', 'this person is already a member of this mission')
    : undefined;
}

export interface MissionsDeps {
  store: Store;
  fanout: Fanout;
  relay: Relay;
  alerts: Alerts;
  clock: Clock;
  logger: Logger;
  planAcks: PlanAckWatch;
  silence: SilenceWatch;
  succession: Succession;
}

/** Missions, their roster, plan and lifecycle, and what a member sees on connect. */
export class Missions {
  private readonly store: Store;
  private readonly fanout: Fanout;
  private readonly relay: Relay;
  private readonly alerts: Alerts;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly planAcks: PlanAckWatch;
  private readonly silence: SilenceWatch;
  private readonly succession: Succession;
  readonly #snapshots: SharedReads<Result<Omit<Snapshot, 'self'>>>;

  constructor(deps: MissionsDeps) {
    ({
      store: this.store,
      fanout: this.fanout,
      relay: this.relay,
      alerts: this.alerts,
      clock: this.clock,
      logger: this.logger,
      planAcks: this.planAcks,
      silence: this.silence,
      succession: this.succession,
    } = deps);
    this.#snapshots = new SharedReads(deps.clock, SNAPSHOT_SHARING_MS);
  }

  async create(body: CreateMission): Promise<Mission> {
    const now = this.clock.now();
    const mission: Mission = {
      id: randomUUID(),
      name: body.name,
      status: 'planning',
      vehicles: body.vehicles,
      members: [],
      plan: { version: 0, routes: [] },
      planAcks: {},
      settings: body.settings satisfies MissionSettings,
      schedule: [],
      createdAt: now,
    };
    await this.store.createMission(mission, [logLine.missionCreated(now, mission)]);
    this.logger.info({ missionId: mission.id }, 'mission created');
    return mission;
  }

  get(missionId: string): Promise<Mission | undefined> {
    return this.store.getMission(missionId);
  }

  /** Adds a member and issues its token; the token is returned once and only its hash is kept. */
  async addMember(missionId: string, body: AddMemberBody): Promise<Result<AddMemberReply>> {
    if (ROLE_AUTHORITY[body.role].needsVehicle && !body.vehicleId) {
      return refuse('invalid_payload', `a ${body.role} needs a vehicleId`, {
        issues: [{ code: 'custom', path: ['vehicleId'], message: `required for ${body.role}` }],
      });
    }
    const person = body.personId === undefined ? undefined : await this.#person(missionId, body.personId);
    if (person && !person.ok) return person;
    const callsign = body.callsign ?? person?.value.callsign;
    if (callsign === undefined) return refuse('invalid_payload', 'a callsign is needed');
    const member: Member = {
      memberId: randomUUID(),
      callsign,
      role: body.role,
      ...(body.vehicleId ? { vehicleId: body.vehicleId } : {}),
      ...(body.personId ? { personId: body.personId } : {}),
    };
    const changed = await this.#change(missionId, (mission, now) => {
      if (member.vehicleId && !mission.vehicles.some((v) => v.id === member.vehicleId))
        return refuse('not_found', `no vehicle ${member.vehicleId} in this mission`);
      if (member.role === 'driver' && currentDriver(mission, member.vehicleId ?? '')) {
        return refuse('conflict', `vehicle ${member.vehicleId} already has a driver`);
      }
      const inMission = personInMission(mission, member.personId);
      if (inMission) return inMission;
      return accept({
        next: { ...mission, members: [...mission.members, member] },
        log: [logLine.memberAdded(now, member)],
      });
    });
    if (!changed.ok) return changed;
    return accept({ memberId: member.memberId, token: await this.#issueToken(missionId, member.memberId) });
  }

  /**
   * §9: a new driver for the vehicle, in planning or mid-mission. The old driver stays on the
   * roster, replaced; its token dies and its sockets close; every open cue of the vehicle goes
   * on to the new driver with its own seq.
   */
  async swapDriver(missionId: string, vehicleId: string, body: SwapDriverBody, by: string): Promise<Result<SwapDriverReply>> {
    const personId = 'personId' in body ? body.personId : undefined;
    const person = personId === undefined ? undefined : await this.#person(missionId, personId);
    if (person && !person.ok) return person;
    if (person && !person.value.roles.includes('driver')) return refuse('conflict', `${person.value.callsign} is not qualified to drive`);
    const member: Member = {
      memberId: randomUUID(),
      callsign: 'callsign' in body ? body.callsign : (person?.value.callsign ?? ''),
      role: 'driver',
      vehicleId,
      ...(personId ? { personId } : {}),
    };
    let replaced: Member | undefined;
    const changed = await this.#change(missionId, (mission, now) => {
      if (mission.status === 'ended') return refuse('conflict', 'the mission has ended');
      if (!mission.vehicles.some((v) => v.id === vehicleId)) return refuse('not_found', `no vehicle ${vehicleId} in this mission`);
      const inMission = personInMission(mission, personId);
      if (inMission) return inMission;
      replaced = currentDriver(mission, vehicleId);
      const old = replaced;
      const members = mission.members.map((m) => (m === old ? { ...m, replacedAt: now, replacedBy: member.memberId } : m));
      return accept({
        next: { ...mission, members: [...members, member] },
        log: [
          logLine.memberAdded(now, member),
          ...(old ? [logLine.memberReplaced(now, old.memberId, { vehicleId, replacedBy: member.memberId, by })] : []),
        ],
      });
    });
    if (!changed.ok) return changed;
    const token = await this.#issueToken(missionId, member.memberId);
    if (replaced) {
      await this.store.revokeCredential(replaced.memberId);
      this.fanout.disconnectMember(replaced.memberId);
      await this.relay.handOverCues(replaced.memberId, member);
    }
    this.logger.info({ missionId, vehicleId, memberId: member.memberId, replaced: replaced?.memberId }, 'driver swapped');
    return accept({ memberId: member.memberId, token, ...(replaced ? { replaced: replaced.memberId } : {}) });
  }

  /** A lost or broken tablet: a new token for the member; the old one dies and its sockets close. */
  async renewToken(missionId: string, memberId: string, by: string): Promise<Result<AddMemberReply>> {
    const mission = await this.store.getMission(missionId);
    if (!mission) return refuse('not_found', 'no such mission');
    const member = mission.members.find((m) => m.memberId === memberId);
    if (!member) return refuse('not_found', 'no such member in this mission');
    if (member.replacedAt !== undefined) return refuse('conflict', 'this driver has been replaced');
    await this.store.revokeCredential(memberId);
    this.fanout.disconnectMember(memberId);
    const token = await this.#issueToken(missionId, memberId);
    await this.store.appendLog(missionId, [logLine.tokenRenewed(this.clock.now(), memberId, by)]);
    return accept({ memberId, token });
  }

  /** `GET /api/missions`: newest first, with counts. */
  async list(query: { status?: MissionStatus | undefined; limit: number }): Promise<MissionSummary[]> {
    const missions = await this.store.listMissions(query);
    return missions.map((m) => ({
      id: m.id,
      name: m.name,
      status: m.status,
      createdAt: m.createdAt,
      ...(m.startedAt === undefined ? {} : { startedAt: m.startedAt }),
      ...(m.endedAt === undefined ? {} : { endedAt: m.endedAt }),
      vehicles: m.vehicles.length,
      members: m.members.length,
    }));
  }

  /** The person a roster entry names, noted in the mission before the member is written (see `notePersonInMission`). */
  async #person(missionId: string, personId: string): Promise<Result<Person>> {
    const person = await this.store.getPerson(personId);
    if (!person) return refuse('not_found', 'no such person');
    await this.store.notePersonInMission(personId, missionId);
    return accept(person);
  }

  async #issueToken(missionId: string, memberId: string): Promise<string> {
    const token = newToken();
    await this.store.saveCredential(hashToken(token), { missionId, memberId });
    return token;
  }

  /** Revokes the member's token, takes it off the roster and closes its sockets. */
  async revokeMember(missionId: string, memberId: string, by: string): Promise<Result<Mission>> {
    const changed = await this.#change(missionId, (mission, now) => {
      if (!mission.members.some((m) => m.memberId === memberId)) return refuse('not_found', 'no such member in this mission');
      return accept({
        next: { ...mission, members: mission.members.filter((m) => m.memberId !== memberId) },
        log: [logLine.memberRevoked(now, memberId, by)],
      });
    });
    if (!changed.ok) return changed;
    await this.store.revokeCredential(memberId);
    this.fanout.disconnectMember(memberId);
    return changed;
  }

  /**
   * A new briefing: bumps the version; every member must ack it again. While active, each
   * driver's `plan-unacked` deadline is written with it, and the new line of succession applies.
   */
  async putPlan(missionId: string, plan: PlanInput, by: string): Promise<Result<Mission>> {
    let due: PlanAckDue = [];
    const changed = await this.#change(missionId, (mission, now) => {
      if (mission.status === 'ended') return refuse('conflict', 'the mission has ended');
      const version = mission.plan.version + 1;
      const briefed = { ...plan, version };
      // Marks already made stay: a new briefing re-plans the legs, not what has happened.
      const next = { ...mission, plan: briefed, schedule: scheduleOf({ plan: briefed, schedule: mission.schedule }) };
      due = planAckDeadlines(next, now + mission.settings.planAckGraceMs);
      return accept({
        next,
        log: [
          logLine.planChanged(
            now,
            by,
            version,
            plan.routes.map((r) => r.id),
          ),
        ],
        deadlines: { schedule: due.map(({ deadline, at }) => ({ key: deadlineKey(deadline), at })) },
      });
    });
    if (changed.ok) await this.#planInForce(missionId, due);
    return changed;
  }

  /** `plan:ack`: version 0 is a no-op; any version but the current one is a conflict. A driver's ack closes their `plan-unacked`. */
  async ackPlan(member: Member, missionId: string, version: number): Promise<Result<Mission | undefined>> {
    if (version === 0) return accept(undefined);
    const acked = await this.#change(missionId, (mission, now) => {
      if (version !== mission.plan.version) return refuse('conflict', `the current plan is version ${mission.plan.version}`);
      if (mission.planAcks[member.memberId] === version) return accept({ next: mission, log: [] });
      return accept({
        next: { ...mission, planAcks: { ...mission.planAcks, [member.memberId]: version } },
        log: [logLine.planAcked(now, member.memberId, version)],
      });
    });
    if (acked.ok && member.role === 'driver') await this.planAcks.acked(missionId, member.memberId, version);
    return acked;
  }

  /**
   * `schedule:mark` (§10): when a leg actually happened. The drift cascades to the later legs on
   * the mission (a `mission` event); a leg later than `scheduleDriftMs` raises `schedule-drift`, once.
   */
  async markSchedule(member: Member, missionId: string, mark: ScheduleMark): Promise<Result<ScheduleLeg[]>> {
    let marked: ScheduleLeg | undefined;
    const changed = await this.#change(missionId, (mission, now) => {
      const outcome = markLeg(mission, mark, now);
      if (!outcome.ok) return outcome;
      marked = outcome.value.marked;
      return accept({
        next: { ...mission, schedule: outcome.value.schedule },
        log: [logLine.scheduleMarked(now, member.memberId, { leg: marked.leg, at: marked.actualAt ?? now, driftMs: marked.driftMs })],
      });
    });
    if (!changed.ok) return changed;
    if (marked && driftsTooFar(changed.value, marked)) {
      await this.alerts.raise(alertId('schedule-drift', missionId, marked.leg), {
        kind: 'schedule-drift',
        missionId,
        leg: marked.leg,
        valueMs: marked.driftMs,
        thresholdMs: changed.value.settings.scheduleDriftMs,
      });
    }
    return accept(changed.value.schedule ?? []);
  }

  /** Starts the mission; a forced start over unacked drivers writes their `plan-unacked` deadlines, due at once. */
  async start(missionId: string, force: boolean, by: string): Promise<Result<Mission>> {
    let due: PlanAckDue = [];
    const started = await this.#change(missionId, (mission, now) => {
      if (mission.status !== 'planning') return refuse('conflict', `the mission is ${mission.status}`);
      const missing = unackedDrivers(mission).map((m) => m.memberId);
      if (missing.length && !force)
        return refuse('plan_not_acknowledged', 'some drivers have not acknowledged the current plan', { missing });
      const next: Mission = { ...mission, status: 'active', startedAt: now };
      due = planAckDeadlines(next, now);
      return accept({
        next,
        log: [logLine.missionStarted(now, by, force, missing)],
        deadlines: { schedule: due.map(({ deadline, at }) => ({ key: deadlineKey(deadline), at })) },
      });
    });
    if (started.ok) await this.#planInForce(missionId, due);
    return started;
  }

  /** After a start or a new plan: the plan-unacked deadlines just written fire here on time, and command is looked at again. */
  async #planInForce(missionId: string, due: PlanAckDue) {
    this.planAcks.expect(due);
    await this.succession.review(missionId);
  }

  async end(missionId: string, by: string): Promise<Result<Mission>> {
    return this.#change(missionId, (mission, now) => {
      if (mission.status === 'ended') return refuse('conflict', 'the mission has already ended');
      return accept({
        next: { ...mission, status: 'ended', endedAt: now },
        log: [logLine.missionEnded(now, by)],
      });
    });
  }

  /** `observation:post`: idempotent by id; the same id with another content is a conflict. */
  async postObservation(member: Member, missionId: string, post: ObservationPost): Promise<Result<Observation>> {
    const mission = await this.store.getMission(missionId);
    if (!mission) return refuse('not_found', 'no such mission');
    if (mission.status === 'ended') return refuse('mission_not_active', 'the mission has ended');
    const now = this.clock.now();
    if (mission.status === 'active') await this.silence.watch(missionId, post, now, mission.settings.silenceMs);
    const fingerprint = JSON.stringify([missionId, member.memberId, post.category, post.severity, post.text ?? null]);
    const observation = { ...post, memberId: member.memberId, callsign: member.callsign, at: now, missionId, fingerprint };
    const posted = await this.store.postObservation(observation, logLine.observation(now, member.memberId, post));
    if (posted.observation.fingerprint !== fingerprint)
      return refuse('conflict', 'this observation id was already used for another observation');
    const { missionId: _missionId, fingerprint: _fingerprint, ...published } = posted.observation;
    if (posted.created) this.fanout.toMission(missionId, 'observation', published);
    return accept(published);
  }

  /**
   * `mission:snapshot`: watchers see everything; a driver its own open cues and the public state.
   * Built from one bounded store read, shared by every request for the same view within
   * SNAPSHOT_SHARING_MS whose socket joined before that read began (`connectedAt`, monotonic).
   */
  async snapshot(member: Member, missionId: string, connectedAt: number): Promise<Result<Snapshot>> {
    const { watches, receivesCues } = ROLE_AUTHORITY[member.role];
    const view = watches ? 'watch' : receivesCues ? `cues:${member.memberId}` : 'public';
    const shared = await this.#snapshots.get(`${missionId}|${view}`, connectedAt, () =>
      this.#readSnapshot(missionId, watches, receivesCues ? member.memberId : undefined),
    );
    return mapResult(shared, (snapshot) => ({ ...snapshot, self: member }));
  }

  async #readSnapshot(missionId: string, watches: boolean, cuesOf: string | undefined): Promise<Result<Omit<Snapshot, 'self'>>> {
    const view = await this.store.missionView(missionId, {
      triggers: watches ? SNAPSHOT_WINDOW : 0,
      observations: OBSERVATIONS_IN_SNAPSHOT,
      alertsAndPresence: watches,
    });
    if (!view) return refuse('not_found', 'no such mission');
    const { mission } = view;
    const observations = view.observations.map(({ missionId: _m, fingerprint: _f, ...o }) => o);
    if (!watches) {
      const triggers = cuesOf ? await this.relay.cuesToReplay(cuesOf, undefined) : [];
      return accept({ mission, triggers, presence: [], alerts: [], observations });
    }
    const open = view.triggers.filter((t) => t.recipients.some((r) => isOpen(r.state)));
    const closed = view.triggers.filter((t) => !t.recipients.some((r) => isOpen(r.state))).slice(-CLOSED_IN_SNAPSHOT);
    const triggers = [...closed, ...open].sort((a, b) => a.issuedAt - b.issuedAt).map(triggerState);
    const alerts = view.alerts.filter((a) => a.resolvedAt === undefined);
    return accept({ mission, triggers, presence: view.presence, alerts, observations });
  }

  /** Changes the mission through the store and announces the new public state to every member. */
  async #change(missionId: string, change: (mission: Mission, now: number) => ReturnType<Change<Mission>>): Promise<Result<Mission>> {
    const now = this.clock.now();
    const changed = await this.store.changeMission(missionId, (mission) => change(mission, now));
    if (changed.ok) this.fanout.toMission(missionId, 'mission', changed.value);
    return changed;
  }
}
