import type { Person, PersonReport, PersonStats } from '@lockstep/shared';
import { cueOutcomes, emptyTally, figures, gapSummary, tally } from './figures.ts';
import type { MissionRecords } from './mission-report.ts';

/**
 * §8, per person: over every member that names the person in every mission given. A mission
 * where no member names them (a stale entry of the person's index) adds nothing.
 */
export function personReport(person: Person, missions: readonly MissionRecords[]): PersonReport {
  const total = emptyTally();
  const perMission: PersonReport['perMission'] = [];
  for (const { mission, triggers, alerts } of missions) {
    const memberIds = new Set(mission.members.filter((m) => m.personId === person.personId).map((m) => m.memberId));
    if (memberIds.size === 0) continue;
    const theirs = cueOutcomes(triggers, alerts).filter((o) => memberIds.has(o.recipient.memberId));
    const here = tally(theirs);
    tally(theirs, total);
    const gapMs = gapSummary(here.gaps);
    perMission.push({
      missionId: mission.id,
      name: mission.name,
      ...(mission.startedAt === undefined ? {} : { startedAt: mission.startedAt }),
      cues: here.cues,
      hesitations: here.hesitations,
      lostMs: here.lostMs,
      ...(gapMs ? { gapMs } : {}),
    });
  }
  const { replaced: _replaced, ...counts } = figures(total);
  return {
    person,
    missions: perMission.length,
    ...counts,
    hesitationRate: total.answered === 0 ? 0 : total.hesitations / total.answered,
    perMission,
  };
}

/** What `GET /api/people` shows beside each person. */
export function personStats(report: PersonReport): PersonStats {
  return {
    missions: report.missions,
    cues: report.cues,
    hesitations: report.hesitations,
    hesitationRate: report.hesitationRate,
    ...(report.gapMs ? { gapP90Ms: report.gapMs.p90 } : {}),
  };
}

/** `sort=friction`: by hesitation rate, then p90 gap, highest first; a person with no gap yet comes last of equals. */
export function byFriction(a: { stats: PersonStats }, b: { stats: PersonStats }): number {
  return b.stats.hesitationRate - a.stats.hesitationRate || (b.stats.gapP90Ms ?? -1) - (a.stats.gapP90Ms ?? -1);
}
