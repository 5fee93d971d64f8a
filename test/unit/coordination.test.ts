import { alertWords, briefingOf, overloadWarning, planAckRows, recentThreats, spokenSpan } from '@lockstep/client/coordination';
import { type Alert, type Mission, MissionSettings, type Observation, type TriggerState } from '@lockstep/shared';
import { describe, expect, it } from 'vitest';

/** What the screens say about the shared picture, without a screen. */

const mission = (fields: Partial<Mission> = {}): Mission => ({
  id: 'm1',
  name: 'Hotel to venue',
  status: 'active',
  vehicles: [
    { id: 'v1', callsign: 'ALPHA' },
    { id: 'v2', callsign: 'BRAVO' },
  ],
  members: [
    { memberId: 'lead', callsign: 'LEAD', role: 'lead' },
    { memberId: 'cpo-2', callsign: 'BRAVO-CPO', role: 'cpo', vehicleId: 'v2' },
    { memberId: 'drv-2', callsign: 'BRAVO-D', role: 'driver', vehicleId: 'v2' },
    { memberId: 'drv-1', callsign: 'ALPHA-D', role: 'driver', vehicleId: 'v1' },
  ],
  plan: { version: 3, routes: [] },
  planAcks: { 'drv-1': 3, 'drv-2': 2 },
  settings: MissionSettings.parse({}),
  createdAt: 0,
  ...fields,
});

const alert = (fields: Partial<Alert> & Pick<Alert, 'kind'>): Alert => ({ id: 'a1', missionId: 'm1', at: 1000, ...fields });

const observation = (fields: Partial<Observation> = {}): Observation => ({
  id: crypto.randomUUID(),
  memberId: 'cpo-2',
  callsign: 'BRAVO-CPO',
  category: 'vehicle',
  severity: 'threat',
  at: 1000,
  ...fields,
});

let issued = 0;
const cue = (at: number, target: TriggerState['target']): TriggerState => ({
  id: `t${++issued}`,
  type: 'hold',
  params: {},
  target,
  issuedBy: { memberId: 'lead', callsign: 'LEAD' },
  issuedAt: at,
  staleAt: at + 30_000,
  thresholdMs: 2000,
  status: 'delivered',
  recipients: [],
});

const noContext = {
  triggerLabel: (_id: string): string | undefined => undefined,
  observation: (_id: string): Observation | undefined => undefined,
};

describe('the words the operations room reads', () => {
  it('says each coordination alert the way the issue words it', () => {
    const m = mission();
    const line = (a: Alert, context = noContext) => {
      const words = alertWords(a, { mission: m, ...context });
      return `${words.kind} ${words.text}`;
    };
    expect(line(alert({ kind: 'overload', vehicleId: 'v1', count: 5, valueMs: 8200, thresholdMs: 10_000 }))).toBe(
      'OVERLOAD ALPHA 5 cues / 10 s',
    );
    const closing = observation({ text: 'vehicle closing' });
    expect(
      line(alert({ kind: 'silence', memberId: 'cpo-2', observationId: closing.id, valueMs: 5000 }), {
        ...noContext,
        observation: (id: string) => (id === closing.id ? closing : undefined),
      }),
    ).toBe('SILENCE after THREAT: vehicle closing');
    expect(line(alert({ kind: 'plan-unacked', memberId: 'drv-1', vehicleId: 'v1', planVersion: 3 }))).toBe('PLAN v3 NOT ACKED — ALPHA');
    expect(line(alert({ kind: 'command-handover', memberId: 'cpo-2', fromMemberId: 'lead' }))).toBe('COMMAND → BRAVO-CPO');
    expect(
      alertWords(alert({ kind: 'command-handover', memberId: 'cpo-2', fromMemberId: 'lead' }), { mission: m, ...noContext }).detail,
    ).toBe('from LEAD');
  });

  it('names what a silence followed even when the observation carried no words', () => {
    const seen = observation({ category: 'surveillance' });
    const words = alertWords(alert({ kind: 'silence', memberId: 'cpo-2', observationId: seen.id, valueMs: 5000 }), {
      mission: mission(),
      triggerLabel: () => undefined,
      observation: () => seen,
    });
    expect(`${words.kind} ${words.text}`).toBe('SILENCE after THREAT: SURVEILLANCE');
    expect(words.detail).toBe('BRAVO-CPO · no trigger in 5 s');
  });

  it('keeps the cue and the gap on the per-cue alerts', () => {
    const words = alertWords(
      alert({ kind: 'hesitation', vehicleId: 'v2', memberId: 'drv-2', triggerId: crypto.randomUUID(), valueMs: 2300 }),
      {
        mission: mission(),
        triggerLabel: () => 'EXTRACT NOW',
        observation: () => undefined,
      },
    );
    expect(words).toEqual({ kind: 'HESITATION', text: 'BRAVO 2.3 s', detail: 'EXTRACT NOW' });
  });

  it('says spans the way a room reads them', () => {
    expect([spokenSpan(10_000), spokenSpan(2500), spokenSpan(90_000), spokenSpan(240_000)]).toEqual(['10 s', '2.5 s', '90 s', '4 min']);
  });
});

describe('the overload warning on the handset', () => {
  it('names the vehicle a burst overloads, with the cues in the window', () => {
    const m = mission();
    const burst = [0, 1000, 2000, 3000, 4000].map((at) => cue(at, { vehicleIds: ['v1'] }));
    const last = burst.at(-1)!;
    expect(overloadWarning(last, burst, m)).toBe('OVERLOAD ALPHA 5 cues / 10 s');
  });

  it('of a convoy cue, names only the vehicles over the count', () => {
    const m = mission();
    const toAlpha = [0, 1000, 2000, 3000].map((at) => cue(at, { vehicleIds: ['v1'] }));
    const convoy = cue(4000, { convoy: true });
    expect(overloadWarning(convoy, [...toAlpha, convoy], m)).toBe('OVERLOAD ALPHA 5 cues / 10 s');
  });

  it('does not count cues older than the window', () => {
    const m = mission();
    const old = cue(0, { vehicleIds: ['v2'] });
    const recent = [11_000, 12_000, 13_000, 14_000, 15_000].map((at) => cue(at, { vehicleIds: ['v2'] }));
    expect(overloadWarning(recent.at(-1)!, [old, ...recent], m)).toBe('OVERLOAD BRAVO 5 cues / 10 s');
  });

  it('still names the target when this handset has not seen the whole burst', () => {
    const only = cue(5000, { vehicleIds: ['v2'] });
    expect(overloadWarning(only, [only], mission())).toBe('OVERLOAD BRAVO');
  });
});

describe('the briefing and who acked it', () => {
  it('lists the primary route first, then the alternates in the plan order, and the schedule by time', () => {
    const briefing = briefingOf({
      version: 2,
      routes: [
        { id: 'river', name: 'River', kind: 'alternate' },
        { id: 'main', name: 'Main', kind: 'primary' },
        { id: 'ring', name: 'Ring', kind: 'alternate' },
      ],
      schedule: [
        { leg: 'arrive', plannedAt: 2000 },
        { leg: 'depart', plannedAt: 1000 },
      ],
    });
    expect(briefing.routes.map((r) => r.name)).toEqual(['Main', 'River', 'Ring']);
    expect(briefing.schedule.map((s) => s.leg)).toEqual(['depart', 'arrive']);
    expect(briefing.safeHavens).toEqual([]);
  });

  it('rolls every member with the version they acked, drivers first in convoy order', () => {
    const rows = planAckRows(mission());
    expect(rows.map((r) => [r.callsign, r.vehicle, r.acked, r.current])).toEqual([
      ['ALPHA-D', 'ALPHA', 3, true],
      ['BRAVO-D', 'BRAVO', 2, false],
      ['LEAD', undefined, 0, false],
      ['BRAVO-CPO', undefined, 0, false],
    ]);
  });
});

describe('the threat line on the tablet', () => {
  it('shows recent threats only, newest first', () => {
    const old = observation({ at: 0 });
    const caution = observation({ at: 9000, severity: 'caution' });
    const newer = observation({ at: 8000 });
    const newest = observation({ at: 9500 });
    expect(recentThreats([old, caution, newer, newest], 10_000, 5000).map((o) => o.id)).toEqual([newest.id, newer.id]);
  });
});
