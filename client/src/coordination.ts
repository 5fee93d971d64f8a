import type { Alert, Member, Mission, Observation, Plan, TriggerState } from '@lockstep/shared';
import { driftAmount, formatGap } from './format.ts';

/**
 * The shared picture the three screens draw, without the DOM: the briefing in reading order, who
 * has acked which plan version, the threat observations worth a driver's glance, the vehicles a
 * burst of cues overloads, and each alert in the words the operations room reads aloud.
 */

export type ObservationCategory = Observation['category'];
export type Severity = Observation['severity'];

export const CATEGORY_LABELS: Readonly<Record<ObservationCategory, string>> = {
  vehicle: 'VEHICLE',
  person: 'PERSON',
  surveillance: 'SURVEILLANCE',
  crowd: 'CROWD',
  route: 'ROUTE',
  other: 'OTHER',
};
export const CATEGORIES = Object.keys(CATEGORY_LABELS) as ObservationCategory[];

export const SEVERITY_LABELS: Readonly<Record<Severity, string>> = { info: 'INFO', caution: 'CAUTION', threat: 'THREAT' };
export const SEVERITIES = Object.keys(SEVERITY_LABELS) as Severity[];

export interface ObservationPreset {
  label: string;
  category: ObservationCategory;
  severity: Severity;
  text: string;
}

/**
 * The driver's one-tap reports. Being followed is a threat: it is how a box-in or an ambush
 * begins, so it starts the `silence` clock for the CPOs. A blocked route or a crowd is a caution:
 * often traffic or a queue, for the CPO to judge.
 */
export const DRIVER_OBSERVATIONS: readonly ObservationPreset[] = [
  { label: 'FOLLOWED', category: 'surveillance', severity: 'threat', text: 'followed' },
  { label: 'ROUTE BLOCKED', category: 'route', severity: 'caution', text: 'route blocked' },
  { label: 'CROWD', category: 'crowd', severity: 'caution', text: 'crowd' },
];

/** One observation as a line: `THREAT VEHICLE — BRAVO-CPO: vehicle closing`. */
export function observationLine(o: Pick<Observation, 'category' | 'severity' | 'callsign' | 'text'>): string {
  return `${SEVERITY_LABELS[o.severity]} ${CATEGORY_LABELS[o.category]} — ${o.callsign}${o.text ? `: ${o.text}` : ''}`;
}

/** Observations kept by a screen: enough for a feed and for the `silence` alerts that cite one. */
export const OBSERVATIONS_KEPT = 50;

/** Adds observations (a snapshot's or one live event) to those held, once per id, oldest first. */
export function mergeObservations(held: readonly Observation[], incoming: readonly Observation[]): Observation[] {
  const fresh = new Set(incoming.map((o) => o.id));
  return [...held.filter((o) => !fresh.has(o.id)), ...incoming].sort((a, b) => a.at - b.at).slice(-OBSERVATIONS_KEPT);
}

/** Threat observations newer than `keepMs`, newest first: what the driver's idle screen shows. */
export function recentThreats(observations: readonly Observation[], now: number, keepMs: number): Observation[] {
  return observations.filter((o) => o.severity === 'threat' && o.at >= now - keepMs).sort((a, b) => b.at - a.at);
}

// ---------------------------------------------------------------- the plan

export interface PlaceRow {
  id: string;
  name: string;
}

export interface Briefing {
  version: number;
  /** Primary routes first, then the alternates, each in the plan's order. */
  routes: { id: string; name: string; primary: boolean }[];
  chokePoints: PlaceRow[];
  safeHavens: PlaceRow[];
  hospitals: PlaceRow[];
  /** In planned order. */
  schedule: { leg: string; plannedAt: number }[];
}

export function briefingOf(plan: Plan): Briefing {
  const route = (r: Plan['routes'][number]) => ({ id: r.id, name: r.name, primary: r.kind === 'primary' });
  const place = (p: PlaceRow) => ({ id: p.id, name: p.name });
  return {
    version: plan.version,
    routes: [...plan.routes.filter((r) => r.kind === 'primary'), ...plan.routes.filter((r) => r.kind !== 'primary')].map(route),
    chokePoints: (plan.chokePoints ?? []).map(place),
    safeHavens: (plan.safeHavens ?? []).map(place),
    hospitals: (plan.hospitals ?? []).map(place),
    schedule: [...(plan.schedule ?? [])].sort((a, b) => a.plannedAt - b.plannedAt),
  };
}

/** The plan version this member has acked, 0 for none. */
export const ackedVersion = (mission: Mission, memberId: string): number => mission.planAcks[memberId] ?? 0;

export interface PlanAckRow {
  memberId: string;
  callsign: string;
  role: Member['role'];
  /** The vehicle's callsign, for a driver. */
  vehicle?: string;
  acked: number;
  current: boolean;
}

/** Every member with the version they acked: drivers first in convoy order, then the rest of the detail. */
export function planAckRows(mission: Mission): PlanAckRow[] {
  const order = (m: Member) => {
    const vehicle = mission.vehicles.findIndex((v) => v.id === m.vehicleId);
    return m.role === 'driver' ? vehicle : mission.vehicles.length + 1;
  };
  return [...mission.members]
    .sort((a, b) => order(a) - order(b))
    .map((m) => {
      const acked = ackedVersion(mission, m.memberId);
      const vehicle = m.role === 'driver' ? mission.vehicles.find((v) => v.id === m.vehicleId)?.callsign : undefined;
      return {
        memberId: m.memberId,
        callsign: m.callsign,
        role: m.role,
        ...(vehicle ? { vehicle } : {}),
        acked,
        current: acked >= mission.plan.version,
      };
    });
}

// ---------------------------------------------------------------- overload

const vehiclesOf = (trigger: Pick<TriggerState, 'target'>, mission: Mission): string[] =>
  'convoy' in trigger.target ? mission.vehicles.map((v) => v.id) : trigger.target.vehicleIds;

export interface Overloaded {
  vehicleId: string;
  /** Cues to it in the window ending with this one, as far as this screen has seen them. */
  count: number;
}

/**
 * The vehicles the server's `warnings: ["overload"]` is about: of this cue's targets, those with
 * more than `overload.count` cues in the window ending with it. When this screen has not seen
 * enough cues to tell (it reconnected mid-burst), every target is named, without a count.
 */
export function overloadedVehicles(trigger: TriggerState, triggers: Iterable<TriggerState>, mission: Mission): Overloaded[] {
  const { count, windowMs } = mission.settings.overload;
  const seen = [...triggers];
  if (!seen.some((t) => t.id === trigger.id)) seen.push(trigger);
  const inWindow = seen.filter((t) => t.issuedAt <= trigger.issuedAt && t.issuedAt > trigger.issuedAt - windowMs);
  const counted = vehiclesOf(trigger, mission).map((vehicleId) => ({
    vehicleId,
    count: inWindow.filter((t) => vehiclesOf(t, mission).includes(vehicleId)).length,
  }));
  const over = counted.filter((v) => v.count > count);
  return over.length ? over : counted.map(({ vehicleId }) => ({ vehicleId, count: 0 }));
}

/** The handset's warning for a cue the server relayed with `warnings: ["overload"]`: `OVERLOAD ALPHA 5 cues / 10 s`. */
export function overloadWarning(trigger: TriggerState, triggers: Iterable<TriggerState>, mission: Mission): string {
  const over = overloadedVehicles(trigger, triggers, mission);
  const window = spokenSpan(mission.settings.overload.windowMs);
  const named = over.map(({ vehicleId, count }) => {
    const callsign = callsignOfVehicle(mission, vehicleId) ?? vehicleId;
    return count ? `${callsign} ${count} cues / ${window}` : callsign;
  });
  return `OVERLOAD ${named.join(', ')}`;
}

// ---------------------------------------------------------------- words

/** A span of time as the room says it: `10 s`, `2.5 s`, `4 min`. */
export function spokenSpan(ms: number): string {
  if (ms >= 120_000) return `${Math.round(ms / 60_000)} min`;
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

export interface AlertContext {
  mission: Mission | undefined;
  /** The label of a trigger this screen knows. */
  triggerLabel(triggerId: string): string | undefined;
  observation(observationId: string): Observation | undefined;
}

export interface AlertWords {
  /** What happened, in capitals: `OVERLOAD`, `PLAN v3 NOT ACKED`. */
  kind: string;
  /** To whom, and how much: `ALPHA 5 cues / 10 s`. */
  text: string;
  /** What a second look needs (the cue, the observer), muted. */
  detail?: string;
}

const callsignOfMember = (mission: Mission | undefined, memberId: string | undefined) =>
  mission?.members.find((m) => m.memberId === memberId)?.callsign;
const callsignOfVehicle = (mission: Mission | undefined, vehicleId: string | undefined) =>
  vehicleId === undefined ? undefined : (mission?.vehicles.find((v) => v.id === vehicleId)?.callsign ?? vehicleId);

/**
 * Each alert as the operations room reads it aloud: `OVERLOAD ALPHA 5 cues / 10 s`,
 * `SILENCE after THREAT: vehicle closing`, `PLAN v3 NOT ACKED — ALPHA`.
 */
export function alertWords(alert: Alert, context: AlertContext): AlertWords {
  const { mission } = context;
  const who = callsignOfVehicle(mission, alert.vehicleId) ?? callsignOfMember(mission, alert.memberId) ?? '';
  const cue = alert.triggerId ? context.triggerLabel(alert.triggerId) : undefined;
  const withCue = (kind: string, value?: string): AlertWords => ({
    kind,
    text: [who, value].filter(Boolean).join(' '),
    ...(cue ? { detail: cue } : {}),
  });
  switch (alert.kind) {
    case 'hesitation':
      return withCue('HESITATION', alert.valueMs ? formatGap(alert.valueMs) : undefined);
    case 'undelivered':
      return withCue('UNDELIVERED', alert.valueMs ? formatGap(alert.valueMs) : undefined);
    case 'expired':
      return withCue('EXPIRED');
    case 'offline':
      return { kind: 'OFFLINE', text: who, ...(alert.valueMs ? { detail: `gone ${spokenSpan(alert.valueMs)}` } : {}) };
    case 'overload': {
      const windowMs = alert.thresholdMs ?? mission?.settings.overload.windowMs;
      const rate = alert.count !== undefined && windowMs !== undefined ? ` ${alert.count} cues / ${spokenSpan(windowMs)}` : '';
      return { kind: 'OVERLOAD', text: `${who}${rate}` };
    }
    case 'silence': {
      const observed = alert.observationId ? context.observation(alert.observationId) : undefined;
      const what = observed?.text ?? (observed ? CATEGORY_LABELS[observed.category] : 'no trigger');
      const by = observed?.callsign ?? callsignOfMember(mission, alert.memberId);
      const quiet = alert.valueMs ?? mission?.settings.silenceMs;
      return {
        kind: 'SILENCE',
        text: `after THREAT: ${what}`,
        detail: [by, quiet === undefined ? undefined : `no trigger in ${spokenSpan(quiet)}`].filter(Boolean).join(' · '),
      };
    }
    case 'plan-unacked':
      return { kind: `PLAN v${alert.planVersion ?? mission?.plan.version ?? '?'} NOT ACKED`, text: `— ${who}` };
    case 'schedule-drift':
      return {
        kind: 'LATE',
        text: `${alert.leg ?? 'leg'}${alert.valueMs === undefined ? '' : ` +${driftAmount(alert.valueMs)}`}`,
        ...(alert.thresholdMs === undefined ? {} : { detail: `allowed ${spokenSpan(alert.thresholdMs)}` }),
      };
    case 'command-handover': {
      const from = callsignOfMember(mission, alert.fromMemberId);
      return {
        kind: 'COMMAND',
        text: `→ ${callsignOfMember(mission, alert.memberId) ?? '?'}`,
        ...(from ? { detail: `from ${from}` } : {}),
      };
    }
  }
}
