import type { Alert, GapSource, Mission, RecipientState, TriggerType } from '@lockstep/shared';

/**
 * A response gap as the detail reads it: seconds with one decimal, `0.8 s`; `≈ 0.8 s` when it
 * came from the server's clock, which two uplinks' difference can be off by (docs/PROTOCOL.md §3).
 */
export const formatGap = (gapMs: number, source?: GapSource): string => `${source === 'server' ? '≈ ' : ''}${(gapMs / 1000).toFixed(1)} s`;

/** What a withdrawn hesitation says in place of the alarm: the answer that disproved it. */
export const withdrawnText = (alert: Pick<Alert, 'valueMs'>): string =>
  alert.valueMs === undefined ? 'withdrawn: answered in time' : `withdrawn: answered in ${formatGap(alert.valueMs)}`;

/** The same gap spoken into an earpiece: "zero point eight". */
export function spokenGap(gapMs: number): string {
  const digits = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  const [whole = '0', tenth = '0'] = (gapMs / 1000).toFixed(1).split('.');
  const wholeWords = whole.length === 1 ? (digits[Number(whole)] ?? whole) : whole;
  return `${wholeWords} point ${digits[Number(tenth)] ?? tenth}`;
}

export const clockTime = (at: number): string => new Date(at).toLocaleTimeString('en-GB', { hour12: false });

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
