import type { ReportSummary } from './mission-report.ts';
import { csvField } from '../log/mission-log.ts';

export const DRIVER_CSV_COLUMNS = [
  'memberId',
  'personId',
  'callsign',
  'vehicleId',
  'replacedAt',
  'cues',
  'answered',
  'ack',
  'unable',
  'sayAgain',
  'hesitations',
  'undelivered',
  'expired',
  'replaced',
  'lostMs',
  'gapMedianMs',
  'gapP90Ms',
  'gapMaxMs',
] as const;

/** `?format=csv`: the per-driver table, one row per driver, RFC 4180; an absent value is an empty field. */
export function driversAsCsv(report: Pick<ReportSummary, 'drivers'>): string {
  const rows = report.drivers.map((d) =>
    [
      d.memberId,
      d.personId,
      d.callsign,
      d.vehicleId,
      d.replacedAt,
      d.cues,
      d.answered,
      d.ack,
      d.unable,
      d.sayAgain,
      d.hesitations,
      d.undelivered,
      d.expired,
      d.replaced,
      d.lostMs,
      d.gapMs?.median,
      d.gapMs?.p90,
      d.gapMs?.max,
    ]
      .map((value) => csvField(value === undefined ? '' : String(value)))
      .join(','),
  );
  return `${[DRIVER_CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}
