import type { Member, Mission } from '@lockstep/shared';
import type { Deadline } from '../deadline-keys.ts';

/** Drivers who have not acked the plan in force (none while there is no plan). */
export function unackedDrivers(mission: Pick<Mission, 'members' | 'plan' | 'planAcks'>): Member[] {
  if (mission.plan.version < 1) return [];
  // A driver swapped out (§9) no longer drives: their ack no longer matters.
  return mission.members.filter(
    (m) => m.role === 'driver' && m.replacedAt === undefined && mission.planAcks[m.memberId] !== mission.plan.version,
  );
}

/**
 * docs/PROTOCOL.md §3, `plan-unacked`: when each driver who has not acked the plan in force is
 * due an alert — `at` (now on a forced start, now + `planAckGraceMs` after a change while active).
 * Written with the mission change that makes them due, so a node that dies after it loses none.
 */
export type PlanAckDue = { deadline: Deadline; at: number }[];

export function planAckDeadlines(mission: Mission, at: number): PlanAckDue {
  if (mission.status !== 'active') return [];
  return unackedDrivers(mission).map((driver) => ({
    deadline: { kind: 'plan-unacked', missionId: mission.id, memberId: driver.memberId, version: mission.plan.version },
    at,
  }));
}

/** The driver, when the alert is still due: the mission active, that version still in force, and not acked. */
export function stillUnacked(mission: Mission, memberId: string, version: number): Member | undefined {
  if (mission.status !== 'active' || mission.plan.version !== version) return undefined;
  return unackedDrivers(mission).find((m) => m.memberId === memberId);
}
