import { ROLE_AUTHORITY, type ClientEventName, type Member, type Mission, type Role, type TriggerIssue } from '@lockstep/shared';
import { accept, refuse, type Result } from '../refusal.ts';

/** First check of docs/PROTOCOL.md §4: may this role send this event at all? */
export function maySend(role: Role, event: ClientEventName): boolean {
  const authority = ROLE_AUTHORITY[role];
  switch (event) {
    case 'trigger:issue':
      return authority.issues !== 'none';
    case 'trigger:respond':
      return authority.receivesCues;
    case 'alert:resolve':
      // A cpo may hold the lead's authority as acting lead (§11); whether they do is checked against the mission.
      return authority.resolvesAlerts || mayActAsLead(role);
    case 'schedule:mark':
      // lead, cpo and ops: the ones who watch the whole mission (an acting lead is one of them).
      return authority.watches;
    case 'observation:post':
    case 'plan:ack':
    case 'mission:snapshot':
      return true;
  }
}

/** Who may be named in the succession of command and so become acting lead (§11): a driver never does. */
export function mayActAsLead(role: Role): boolean {
  return role === 'cpo' || role === 'lead';
}

/**
 * Whether the member holds the lead's authority now (§11): a lead, or the acting lead the mission
 * names. Trigger any vehicle or the convoy, resolve alerts, mark the schedule, swap a driver.
 */
export function hasCommand(member: Member, mission: Pick<Mission, 'actingLeadId'>): boolean {
  return member.role === 'lead' || (mission.actingLeadId === member.memberId && mayActAsLead(member.role));
}

/** `alert:resolve`: lead and ops by role, the acting lead while they hold command. */
export function mayResolveAlerts(member: Member, mission: Pick<Mission, 'actingLeadId'>): boolean {
  return ROLE_AUTHORITY[member.role].resolvesAlerts || hasCommand(member, mission);
}

/**
 * Third and fourth checks of §4 for `trigger:issue`: the target lies within the issuer's
 * authority (a cpo only their own vehicle, unless acting lead), then every named vehicle exists.
 */
export function checkTarget(issuer: Member, mission: Pick<Mission, 'vehicles' | 'actingLeadId'>, issue: TriggerIssue): Result<void> {
  const scope = hasCommand(issuer, mission) ? 'convoy' : ROLE_AUTHORITY[issuer.role].issues;
  if (scope === 'none') return refuse('forbidden', `a ${issuer.role} may not issue triggers`);
  if (scope === 'own-vehicle') {
    const ownOnly = 'vehicleIds' in issue.target && issue.target.vehicleIds.every((id) => id === issuer.vehicleId);
    if (!ownOnly) return refuse('forbidden', 'a vehicle CPO may only cue their own vehicle');
  }
  const known = new Set(mission.vehicles.map((v) => v.id));
  if ('vehicleIds' in issue.target) {
    const unknown = issue.target.vehicleIds.filter((id) => !known.has(id));
    if (unknown.length) return refuse('not_found', `no vehicle ${unknown.join(', ')} in this mission`);
  }
  if (issue.type === 'breakdown' && issue.params.toVehicleId && !known.has(issue.params.toVehicleId)) {
    return refuse('not_found', `no vehicle ${issue.params.toVehicleId} in this mission`);
  }
  return accept(undefined);
}

/** `alt-route` must name a route of the plan when the plan has routes (§2). */
export function checkRoute(mission: Pick<Mission, 'plan'>, issue: TriggerIssue): Result<void> {
  if (issue.type !== 'alt-route' || mission.plan.routes.length === 0) return accept(undefined);
  if (mission.plan.routes.some((r) => r.id === issue.params.routeId)) return accept(undefined);
  return refuse('unknown_route', `no route ${issue.params.routeId} in plan version ${mission.plan.version}`);
}

export type HttpActor = { kind: 'admin' } | { kind: 'member'; missionId: string; member: Member };

/** HTTP rights (§6): `commands` for revocation, plan and start/end; `readsLog` for the log. */
export function mayOnMission(
  actor: HttpActor,
  missionId: string,
  right: 'commands' | 'readsLog' | 'reads' | 'holdsCommand',
  mission?: Pick<Mission, 'actingLeadId'>,
): boolean {
  if (actor.kind === 'admin') return true;
  if (actor.missionId !== missionId) return false;
  // §6/§11: swapping a driver is the lead's, and the acting lead's while they hold command.
  if (right === 'holdsCommand') return mission !== undefined && hasCommand(actor.member, mission);
  return right === 'reads' || ROLE_AUTHORITY[actor.member.role][right];
}
