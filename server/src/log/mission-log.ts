import type { ErrorCode, LogEntry } from '@lockstep/shared';
import type { LogDraft } from '../store/store.ts';

/** A refusal as the mission log records it: what was asked, by whom, and why not. Never the payload itself. */
export function refusalDraft(
  at: number,
  memberId: string | undefined,
  request: string,
  code: ErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
): LogDraft {
  return { at, kind: 'refused', memberId, data: { request, code, message, ...extra } };
}

const CSV_COLUMNS = ['seq', 'at', 'kind', 'memberId', 'triggerId', 'data'] as const;

/** RFC 4180 quoting of one field. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** PROTOCOL.md §6: `seq,at,kind,memberId,triggerId,data`, data as JSON, RFC 4180 quoting. */
export function logAsCsv(entries: readonly LogEntry[]): string {
  const rows = entries.map((e) =>
    [String(e.seq), String(e.at), e.kind, e.memberId ?? '', e.triggerId ?? '', JSON.stringify(e.data)].map(csvField).join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}
