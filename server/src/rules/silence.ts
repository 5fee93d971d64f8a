import type { TriggerRecord } from './trigger-record.ts';

/**
 * docs/PROTOCOL.md §3, `silence`: a `threat` observation that drew no trigger within `silenceMs`
 * of its arrival; each side waited on the other. Only a lead or cpo can issue a trigger at all
 * (an acting lead is one of them), so any trigger of the mission in that time answers it.
 */
export function threatAnswered(threat: { at: number }, triggers: readonly Pick<TriggerRecord, 'issuedAt'>[], silenceMs: number): boolean {
  return triggers.some((t) => t.issuedAt >= threat.at && t.issuedAt <= threat.at + silenceMs);
}
