import type { LogEntry } from '@lockstep/shared';

const CSV_COLUMNS = ['seq', 'at', 'kind', 'memberId', 'triggerId', 'data'] as const;

/** RFC 4180 quoting of one field. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** docs/PROTOCOL.md §6: `seq,at,kind,memberId,triggerId,data`, data as JSON, RFC 4180 quoting. */
export function logAsCsv(entries: readonly LogEntry[]): string {
  const rows = entries.map((e) =>
    [String(e.seq), String(e.at), e.kind, e.memberId ?? '', e.triggerId ?? '', JSON.stringify(e.data)].map(csvField).join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}
