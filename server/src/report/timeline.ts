import { TRIGGER_CATALOGUE, type LogEntry, type LogKind, type Mission, type TimelineEntry, type TriggerType } from '@lockstep/shared';
import type { TriggerRecord } from '../rules/trigger-record.ts';

/** As the screens write it: a gap the server's clock measured (the device's was implausible) reads "≈ 1.2 s". */
const seconds = (ms: unknown, source?: unknown) =>
  typeof ms === 'number' ? `${source === 'server' ? '≈ ' : ''}${(ms / 1000).toFixed(1)} s` : 'an unknown time';
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Who and what the sentences name: callsigns of members (also those since revoked), vehicles and cues. */
class Names {
  readonly #members = new Map<string, string>();
  readonly #vehicles: Map<string, string>;
  readonly #labels: Map<string, string>;

  constructor(mission: Mission, triggers: readonly TriggerRecord[], log: readonly LogEntry[]) {
    for (const entry of log) {
      const callsign = str(entry.data.callsign);
      if (entry.kind === 'member.added' && entry.memberId && callsign) this.#members.set(entry.memberId, callsign);
    }
    for (const m of mission.members) this.#members.set(m.memberId, m.callsign);
    this.#vehicles = new Map(mission.vehicles.map((v) => [v.id, v.callsign]));
    this.#labels = new Map(triggers.map((t) => [t.id, t.label]));
  }

  member(memberId: string | undefined): string {
    // Lines without a member are the server's own (a withdrawal, a plan-unacked alert resolved by the ack).
    if (memberId === undefined) return 'The system';
    if (memberId === 'admin') return 'An administrator';
    return this.#members.get(memberId) ?? 'A former member';
  }

  vehicle(vehicleId: unknown): string {
    return (typeof vehicleId === 'string' && this.#vehicles.get(vehicleId)) || String(vehicleId);
  }

  cue(entry: LogEntry): string {
    const type = str(entry.data.type) as TriggerType | undefined;
    return (entry.triggerId && this.#labels.get(entry.triggerId)) || (type && TRIGGER_CATALOGUE[type]?.label) || 'a cue';
  }

  target(target: unknown): string {
    if (typeof target !== 'object' || target === null) return 'its target';
    if ('convoy' in target) return 'the convoy';
    const ids = 'vehicleIds' in target && Array.isArray(target.vehicleIds) ? target.vehicleIds : [];
    return ids.map((id) => this.vehicle(id)).join(', ');
  }
}

/** One sentence a person reads, per kind of log entry (docs/PROTOCOL.md §8). */
function sentence(entry: LogEntry, names: Names, mission: Mission): string {
  const who = names.member(entry.memberId);
  const d = entry.data;
  const kind: LogKind = entry.kind;
  switch (kind) {
    case 'mission.created':
      return `Mission "${mission.name}" created with ${Array.isArray(d.vehicles) ? d.vehicles.length : mission.vehicles.length} vehicles`;
    case 'member.added':
      return `${who} joined as ${String(d.role)}${d.vehicleId ? ` in ${names.vehicle(d.vehicleId)}` : ''}`;
    case 'member.revoked':
      return `${who} was taken off the mission`;
    case 'member.replaced':
      return `${who} was replaced as driver of ${names.vehicle(d.vehicleId)} by ${names.member(str(d.replacedBy))}`;
    case 'member.token-renewed':
      return `${who} was given a new link; the old one no longer opens anything`;
    case 'plan.changed':
      return `${who} briefed plan version ${String(d.version)}`;
    case 'plan.acked':
      return `${who} acknowledged plan version ${String(d.version)}`;
    case 'mission.started':
      return `${who} started the mission${d.force && Array.isArray(d.unacked) && d.unacked.length ? ` with ${d.unacked.length} drivers not yet on the current plan` : ''}`;
    case 'mission.ended':
      return `${who} ended the mission`;
    case 'schedule.marked': {
      const drift = typeof d.driftMs === 'number' ? Math.round(d.driftMs / 1000) : 0;
      return `${who} marked leg "${String(d.leg)}" done, ${drift === 0 ? 'on time' : `${Math.abs(drift)} s ${drift > 0 ? 'late' : 'early'}`}`;
    }
    case 'trigger.issued':
      return `${who} fired ${names.cue(entry)} to ${names.target(d.target)}`;
    case 'trigger.receipt':
      return `${names.cue(entry)} appeared on ${who}'s tablet`;
    case 'trigger.answered': {
      const late = d.hesitation === true ? ' — a hesitation' : '';
      if (d.reason === 'say-again') return `${who} asked to say again ${names.cue(entry)} after ${seconds(d.gapMs, d.gapSource)}${late}`;
      if (d.response === 'unable')
        return `${who} answered UNABLE (${String(d.reason)}) to ${names.cue(entry)} in ${seconds(d.gapMs, d.gapSource)}${late}`;
      return `${who} answered ACK in ${seconds(d.gapMs, d.gapSource)}${late}`;
    }
    case 'trigger.expired':
      return `${names.cue(entry)} went stale before ${who} answered it`;
    case 'alert.raised': {
      const about = entry.memberId ? ` for ${who}` : d.vehicleId ? ` for ${names.vehicle(d.vehicleId)}` : '';
      const value = typeof d.valueMs === 'number' && d.valueMs > 0 ? ` (${seconds(d.valueMs)})` : '';
      return `Alert: ${String(d.kind)}${about}${value}`;
    }
    case 'alert.resolved':
      if (d.withdrawn === true) return `The ${String(d.kind)} alert was withdrawn: the answer came within the threshold`;
      return `${who} resolved the ${String(d.kind)} alert${typeof d.note === 'string' && d.note ? `: "${d.note}"` : ''}`;
    case 'presence':
      return `${who} went ${String(d.state)}`;
    case 'observation':
      return `${who} reported a ${String(d.severity)} (${String(d.category)})${typeof d.text === 'string' && d.text ? `: "${d.text}"` : ''}`;
    case 'command.handover':
      return `${who} took command as acting lead${typeof d.from === 'string' ? ` from ${names.member(d.from)}` : ''}`;
    case 'command.resumed':
      return `${who} is back: command returns to the lead${typeof d.from === 'string' ? ` from ${names.member(d.from)}` : ''}`;
    case 'refused':
      return `${who} was refused ${String(d.request)}: ${String(d.code)}`;
  }
}

/** Every log event in order, each told as a sentence; in slices, so a long mission's can be told a part at a time. */
export class Timeline {
  readonly #names: Names;

  constructor(
    private readonly mission: Mission,
    triggers: readonly TriggerRecord[],
    private readonly log: readonly LogEntry[],
  ) {
    this.#names = new Names(mission, triggers, log);
  }

  get length(): number {
    return this.log.length;
  }

  entries(from = 0, to = this.log.length): TimelineEntry[] {
    return this.log.slice(from, to).map((entry) => ({
      at: entry.at,
      kind: entry.kind,
      text: sentence(entry, this.#names, this.mission),
      ...(entry.memberId === undefined ? {} : { memberId: entry.memberId }),
      ...(entry.triggerId === undefined ? {} : { triggerId: entry.triggerId }),
    }));
  }
}
