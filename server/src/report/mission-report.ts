import type { Alert, DriverFigures, LogEntry, Mission, MissionReport, ReportLeg } from '@lockstep/shared';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import { scheduleOf } from '../rules/schedule.ts';
import { cueOutcomes, figures, lostOn, tally, type CueOutcome } from './figures.ts';
import { Timeline } from './timeline.ts';

/** What the store already keeps about a mission; the report is a pure function of it (no second source of truth). */
export interface MissionRecords {
  mission: Mission;
  triggers: TriggerRecord[];
  alerts: Alert[];
}

/** A leg of the schedule as the report reads it: planned, and when it actually happened once marked (§10). */
export interface Leg {
  leg: string;
  plannedAt: number;
  actualAt?: number | undefined;
}

/** The legs of the plan's schedule, with the marks the mission carries (§10). */
export function legsOf(mission: Mission): Leg[] {
  return scheduleOf(mission).map(({ leg, plannedAt, actualAt }) => ({ leg, plannedAt, actualAt }));
}

/** Each driver (one member: a swapped-out driver and the new one stay apart), in roster order, then any no longer on it. */
export function driverFigures(mission: Mission, outcomes: readonly CueOutcome[]): DriverFigures[] {
  const byMember = new Map<string, CueOutcome[]>();
  for (const outcome of outcomes) {
    const list = byMember.get(outcome.recipient.memberId) ?? [];
    list.push(outcome);
    byMember.set(outcome.recipient.memberId, list);
  }
  const onRoster = mission.members.filter((m) => m.role === 'driver');
  const rosterIds = new Set(onRoster.map((m) => m.memberId));
  const gone = [...byMember.keys()].filter((id) => !rosterIds.has(id));
  const drivers = [
    ...onRoster.map((m) => ({
      memberId: m.memberId,
      personId: m.personId,
      callsign: m.callsign,
      vehicleId: m.vehicleId ?? '',
      replacedAt: m.replacedAt,
    })),
    // A member revoked from the roster keeps its figures under the callsign its cues carried.
    ...gone.map((memberId) => {
      const { callsign, vehicleId } = byMember.get(memberId)?.[0]?.recipient ?? { callsign: memberId, vehicleId: '' };
      return { memberId, personId: undefined, callsign, vehicleId, replacedAt: undefined };
    }),
  ];
  return drivers.map(({ personId, replacedAt, ...who }) => ({
    ...who,
    ...(personId === undefined ? {} : { personId }),
    ...(replacedAt === undefined ? {} : { replacedAt }),
    ...figures(tally(byMember.get(who.memberId) ?? [])),
  }));
}

/**
 * §8: per leg, its drift and the hesitations and seconds lost on cues issued after the previous
 * leg was marked and until this one was. Cues since the last mark belong to the first unmarked
 * leg (the one under way); the legs after it have none yet.
 */
export function scheduleFigures(legs: readonly Leg[], outcomes: readonly CueOutcome[]): ReportLeg[] {
  let from = Number.NEGATIVE_INFINITY;
  return legs.map((leg) => {
    const until = leg.actualAt ?? Number.POSITIVE_INFINITY;
    const within = outcomes.filter((o) => o.trigger.issuedAt > from && o.trigger.issuedAt <= until);
    from = leg.actualAt ?? Number.POSITIVE_INFINITY;
    return {
      leg: leg.leg,
      plannedAt: leg.plannedAt,
      ...(leg.actualAt === undefined ? {} : { actualAt: leg.actualAt, driftMs: leg.actualAt - leg.plannedAt }),
      hesitations: within.filter((o) => o.recipient.hesitation).length,
      lostMs: within.reduce((sum, o) => sum + lostOn(o), 0),
    };
  });
}

export type ReportSummary = Omit<MissionReport, 'timeline'>;

/** docs/PROTOCOL.md §8, the after-action report of one mission but its timeline (figures so far while it is active). */
export function reportSummary(records: MissionRecords, legs: readonly Leg[] = legsOf(records.mission)): ReportSummary {
  const { mission, triggers, alerts } = records;
  const outcomes = cueOutcomes(triggers, alerts);
  const byType: Record<string, number> = {};
  for (const t of triggers) byType[t.type] = (byType[t.type] ?? 0) + 1;
  const byKind: MissionReport['alerts']['byKind'] = {};
  for (const a of alerts) byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
  return {
    mission: {
      id: mission.id,
      name: mission.name,
      status: mission.status,
      createdAt: mission.createdAt,
      ...(mission.startedAt === undefined ? {} : { startedAt: mission.startedAt }),
      ...(mission.endedAt === undefined ? {} : { endedAt: mission.endedAt }),
    },
    triggers: { total: triggers.length, byType },
    drivers: driverFigures(mission, outcomes),
    alerts: { total: alerts.length, open: alerts.filter((a) => a.resolvedAt === undefined).length, byKind },
    schedule: scheduleFigures(legs, outcomes),
  };
}

/** The whole report at once: the summary and every log event as a sentence. */
export function missionReport(
  records: MissionRecords,
  log: readonly LogEntry[],
  legs: readonly Leg[] = legsOf(records.mission),
): MissionReport {
  return { ...reportSummary(records, legs), timeline: new Timeline(records.mission, records.triggers, log).entries() };
}
