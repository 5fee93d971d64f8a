import type { Mission, ScheduleLeg, ScheduleMark } from '@lockstep/shared';
import { accept, refuse, type Result } from '../refusal.ts';

/** `scheduleDriftMs`'s default (docs/PROTOCOL.md §3). */
export const SCHEDULE_DRIFT_MS = 60_000;

/**
 * docs/PROTOCOL.md §10: a marked leg's drift is `actualAt − plannedAt`; an unmarked leg inherits
 * the drift of the latest marked leg before it (0 when none), so one late pickup shifts every
 * later leg.
 */
export function projectSchedule(
  planned: readonly { leg: string; plannedAt: number }[],
  actualAt: (leg: string) => number | undefined,
): ScheduleLeg[] {
  let drift = 0;
  return planned.map(({ leg, plannedAt }) => {
    const actual = actualAt(leg);
    if (actual === undefined) return { leg, plannedAt, projectedAt: plannedAt + drift, driftMs: drift };
    drift = actual - plannedAt;
    return { leg, plannedAt, actualAt: actual, projectedAt: actual, driftMs: drift };
  });
}

/** The schedule of a plan, keeping the marks of legs that keep their names (a new briefing changes the plan, not the past). */
export function scheduleOf(mission: Pick<Mission, 'plan' | 'schedule'>): ScheduleLeg[] {
  const marked = new Map((mission.schedule ?? []).flatMap((l) => (l.actualAt === undefined ? [] : [[l.leg, l.actualAt] as const])));
  return projectSchedule(mission.plan.schedule ?? [], (leg) => marked.get(leg));
}

/**
 * `schedule:mark`, after the role and payload checks: the leg exists (not_found), the mission is
 * active (mission_not_active), the leg is not marked yet (conflict), and `at` is neither in the
 * future nor before the start (invalid_payload: it needs the mission's times to judge).
 */
export function markLeg(mission: Mission, mark: ScheduleMark, now: number): Result<{ schedule: ScheduleLeg[]; marked: ScheduleLeg }> {
  const current = scheduleOf(mission);
  const leg = current.find((l) => l.leg === mark.leg);
  if (!leg) return refuse('not_found', `no leg "${mark.leg}" in the plan's schedule`);
  if (mission.status !== 'active')
    return refuse('mission_not_active', `the mission is ${mission.status}; legs are marked only while it is active`);
  if (leg.actualAt !== undefined) return refuse('conflict', `leg "${mark.leg}" was already marked`);
  const at = mark.at ?? now;
  if (at > now || at < (mission.startedAt ?? now)) {
    return refuse('invalid_payload', 'a leg is marked no later than now and no earlier than the start', {
      issues: [{ code: 'custom', path: ['at'], message: 'not in the future, not before the start' }],
    });
  }
  const schedule = projectSchedule(current, (name) => (name === mark.leg ? at : current.find((l) => l.leg === name)?.actualAt));
  const marked = schedule.find((l) => l.leg === mark.leg) ?? { ...leg, actualAt: at };
  return accept({ schedule, marked });
}

/** §10: a leg marked later than planned by more than the setting raises `schedule-drift`. */
export const driftsTooFar = (mission: Pick<Mission, 'settings'>, marked: ScheduleLeg): boolean =>
  marked.driftMs > (mission.settings.scheduleDriftMs ?? SCHEDULE_DRIFT_MS);
