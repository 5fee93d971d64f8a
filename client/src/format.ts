import type { Alert, GapSource, Mission, RecipientState, TriggerType } from '@lockstep/shared';

/**
 * A response gap as the detail reads it: seconds with one decimal, `0.8 s`; `≈ 0.8 s` when it
 * came from the server's clock, which two uplinks' difference can be off by (docs/PROTOCOL.md §3).
 */
export const formatGap = (gapMs: number, source?: GapSource): string => `${source === 'server' ? '≈ ' : ''}${(gapMs / 1000).toFixed(1)} s`;

/** What a withdrawn hesitation says in place of the alarm: the answer that disproved it. */
export const withdrawnText = (alert: Pick<Alert, 'valueMs'>): string =>
  alert.valueMs === undefined ? 'withdrawn: answered in time' : `withdrawn: answered in ${formatGap(alert.valueMs)}`;

/** A span in whole units, rounded down (of its size: the sign is the caller's): never more than it is. */
export function wholeSpan(ms: number): { hours: number; minutes: number; seconds: number } {
  const seconds = Math.floor(Math.abs(ms) / 1000);
  return { hours: Math.floor(seconds / 3600), minutes: Math.floor((seconds % 3600) / 60), seconds: seconds % 60 };
}

/**
 * How far off the schedule a leg is: `45 s`, `7 min`, `1 h 05`. The strip, the handset and the
 * LATE alert all write it so: one drift never reads as two numbers on one wall.
 */
export function driftAmount(ms: number): string {
  const { hours, minutes, seconds } = wholeSpan(ms);
  return hours ? `${hours} h ${String(minutes).padStart(2, '0')}` : minutes ? `${minutes} min` : `${seconds} s`;
}

/** The same gap spoken into an earpiece: "zero point eight". */
export function spokenGap(gapMs: number): string {
  const digits = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  const [whole = '0', tenth = '0'] = (gapMs / 1000).toFixed(1).split('.');
  const wholeWords = whole.length === 1 ? (digits[Number(whole)] ?? whole) : whole;
  return `${wholeWords} point ${digits[Number(tenth)] ?? tenth}`;
}

export const clockTime = (at: number): string => new Date(at).toLocaleTimeString('en-GB', { hour12: false });

/** A time of the plan, as a schedule is written: `14:05`. */
export const hourMinute = (at: number): string =>
  new Date(at).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false });

export const vehicleCallsign = (mission: Mission | undefined, vehicleId: string): string =>
  mission?.vehicles.find((v) => v.id === vehicleId)?.callsign ?? vehicleId;

export const routeName = (mission: Mission | undefined, routeId: string | undefined): string | undefined =>
  routeId === undefined ? undefined : (mission?.plan.routes.find((r) => r.id === routeId)?.name ?? routeId);

/** How a cue reads to the driver: red for danger, amber for a change of plan, green for routine moves. */
export type Urgency = 'alarm' | 'caution' | 'routine';

export const URGENCY: Readonly<Record<TriggerType, Urgency>> = {
  extract: 'alarm',
  contact: 'alarm',
  'box-in': 'alarm',
  abort: 'alarm',
  medical: 'alarm',
  hold: 'caution',
  'alt-route': 'caution',
  breakdown: 'caution',
  go: 'routine',
  pickup: 'routine',
  'drop-off': 'routine',
  'all-clear': 'routine',
};

export const URGENCY_RANK: Readonly<Record<Urgency, number>> = { alarm: 2, caution: 1, routine: 0 };

/** Recipient states that call for the CPO's attention at once. */
export const ALARM_STATES: ReadonlySet<RecipientState> = new Set(['hesitation', 'undelivered']);
