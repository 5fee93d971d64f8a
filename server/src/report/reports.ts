import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Person, PersonReport } from '@lockstep/shared';
import type { Store } from '../store/store.ts';
import { cueOutcomes, gapPoints } from './figures.ts';
import { reportSummary, type MissionRecords } from './mission-report.ts';
import { personReport } from './person-report.ts';
import { driversAsCsv } from './report-csv.ts';
import { HTML_END, htmlTimelineItems, htmlUpToTimeline } from './report-html.ts';
import { Timeline } from './timeline.ts';

export type ReportFormat = 'json' | 'csv' | 'html';

/** Log events told per turn of the event loop: a long mission's timeline never holds the relay for long. */
const TIMELINE_SLICE = 1000;

/** The timeline's slices, each on its own turn of the event loop, rendered by `render`. */
async function* slices(timeline: Timeline, render: (entries: ReturnType<Timeline['entries']>, first: boolean) => string) {
  for (let from = 0; from < timeline.length; from += TIMELINE_SLICE) {
    await nextTurn();
    yield render(timeline.entries(from, from + TIMELINE_SLICE), from === 0);
  }
}

async function* asJson(summary: object, timeline: Timeline) {
  yield `${JSON.stringify(summary).slice(0, -1)},"timeline":[`;
  yield* slices(timeline, (entries, first) => `${first ? '' : ','}${entries.map((e) => JSON.stringify(e)).join(',')}`);
  yield ']}';
}

async function* asHtml(head: string, timeline: Timeline) {
  yield head;
  yield* slices(timeline, htmlTimelineItems);
  yield HTML_END;
}

/** Reads what the store keeps and hands it to the pure report functions. */
export class Reports {
  constructor(private readonly store: Store) {}

  async #records(missionId: string): Promise<MissionRecords | undefined> {
    const mission = await this.store.getMission(missionId);
    if (!mission) return undefined;
    const [triggers, alerts] = await Promise.all([this.store.missionTriggers(missionId), this.store.missionAlerts(missionId)]);
    return { mission, triggers, alerts };
  }

  /** The mission's report in the format asked for, JSON and HTML as streams; undefined for an unknown mission. */
  async mission(missionId: string, format: ReportFormat): Promise<{ type: string; body: Readable | string } | undefined> {
    const [records, log] = await Promise.all([this.#records(missionId), this.store.readLog(missionId)]);
    if (!records) return undefined;
    await nextTurn();
    const summary = reportSummary(records);
    switch (format) {
      case 'csv':
        return { type: 'text/csv; charset=utf-8', body: driversAsCsv(summary) };
      case 'json':
        return {
          type: 'application/json; charset=utf-8',
          body: Readable.from(asJson(summary, new Timeline(records.mission, records.triggers, log))),
        };
      case 'html': {
        const points = gapPoints(cueOutcomes(records.triggers, records.alerts));
        const head = htmlUpToTimeline(summary, points, records.mission.settings.thresholds.default);
        return {
          type: 'text/html; charset=utf-8',
          body: Readable.from(asHtml(head, new Timeline(records.mission, records.triggers, log))),
        };
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
