import type { MissionReport, Person, PersonReport } from '@lockstep/shared';
import type { Store } from '../store/store.ts';
import { cueOutcomes, gapPoints } from './figures.ts';
import { missionReport, type MissionRecords } from './mission-report.ts';
import { personReport } from './person-report.ts';
import { driversAsCsv } from './report-csv.ts';
import { reportHtml } from './report-html.ts';

export type ReportFormat = 'json' | 'csv' | 'html';

/** Reads what the store keeps and hands it to the pure report functions. */
export class Reports {
  constructor(private readonly store: Store) {}

  async #records(missionId: string): Promise<MissionRecords | undefined> {
    const mission = await this.store.getMission(missionId);
    if (!mission) return undefined;
    const [triggers, alerts] = await Promise.all([this.store.missionTriggers(missionId), this.store.missionAlerts(missionId)]);
    return { mission, triggers, alerts };
  }

  /** The mission's report in the format asked for; undefined for an unknown mission. */
  async mission(missionId: string, format: ReportFormat): Promise<{ type: string; body: MissionReport | string } | undefined> {
    const [records, log] = await Promise.all([this.#records(missionId), this.store.readLog(missionId)]);
    if (!records) return undefined;
    const report = missionReport(records, log);
    switch (format) {
      case 'json':
        return { type: 'application/json; charset=utf-8', body: report };
      case 'csv':
        return { type: 'text/csv; charset=utf-8', body: driversAsCsv(report) };
      case 'html': {
        const points = gapPoints(cueOutcomes(records.triggers, records.alerts));
        return { type: 'text/html; charset=utf-8', body: reportHtml(report, points, records.mission.settings.thresholds.default) };
      }
    }
  }

  /** Each person's report; missions shared by several people are read once. */
  async people(people: readonly Person[]): Promise<PersonReport[]> {
    const read = new Map<string, Promise<MissionRecords | undefined>>();
    const recordsOf = (missionId: string) => {
      const records = read.get(missionId) ?? this.#records(missionId);
      read.set(missionId, records);
      return records;
    };
    return Promise.all(
      people.map(async (person) => {
        const missionIds = await this.store.personMissions(person.personId);
        const missions = (await Promise.all(missionIds.map(recordsOf))).filter((r): r is MissionRecords => r !== undefined);
        return personReport(person, missions);
      }),
    );
  }
}
