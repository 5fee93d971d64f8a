import { cueOutcomes, gapSummary, missionReport, scheduleFigures, tally, timing, type TriggerRecord } from '@lockstep/server';
import { type Alert, type Mission, MissionSettings, type RecipientState } from '@lockstep/shared';
import { describe, expect, it } from 'vitest';

const mission: Mission = {
  id: 'm1',
  name: 'Unit',
  status: 'active',
  vehicles: [{ id: 'v1', callsign: 'ALPHA' }],
  members: [{ memberId: 'd1', callsign: 'ALPHA-D', role: 'driver', vehicleId: 'v1' }],
  plan: { version: 1, routes: [] },
  planAcks: {},
  settings: MissionSettings.parse({}),
  createdAt: 0,
  startedAt: 0,
};

/** One cue to d1 issued at `issuedAt`, ending as given. */
function cue(
  issuedAt: number,
  end: { state: RecipientState; gapMs?: number; hesitation?: boolean; reason?: 'say-again' | 'blocked' },
): TriggerRecord {
  return {
    id: `t-${issuedAt}`,
    missionId: 'm1',
    type: 'hold',
    label: 'HOLD',
    params: {},
    target: { convoy: true },
    issuedBy: { memberId: 'lead', callsign: 'LEAD' },
    issuedAt,
    staleAt: issuedAt + 30_000,
    thresholdMs: 2000,
    fingerprint: 'f',
    recipients: [
      {
        memberId: 'd1',
        callsign: 'ALPHA-D',
        vehicleId: 'v1',
        state: end.state,
        seq: 1,
        hesitation: end.hesitation ?? (end.gapMs ?? 0) > 2000,
        ...(end.gapMs === undefined ? {} : { gapMs: end.gapMs, response: end.reason ? 'unable' : 'ack' }),
        ...(end.reason ? { reason: end.reason } : {}),
      },
    ],
  };
}

describe('report figures (docs/PROTOCOL.md §8)', () => {
  it('takes nearest-rank percentiles: the ⌈q·n⌉-th smallest gap', () => {
    const thirty = Array.from({ length: 30 }, (_, i) => (30 - i) * 100);
    // ⌈0.9 · 30⌉ = 27 exactly (0.9 · 30 in floating point is 27.000000000000004).
    expect(gapSummary(thirty)).toEqual({ median: 1500, p90: 2700, max: 3000 });
    expect(gapSummary([700])).toEqual({ median: 700, p90: 700, max: 700 });
    expect(gapSummary([])).toBeUndefined();
  });

  it('counts answers by kind, hesitations, undelivered ever, expired and replaced; lostMs over the answered', () => {
    const triggers = [
      cue(1000, { state: 'answered', gapMs: 500 }),
      cue(2000, { state: 'answered', gapMs: 3500 }),
      cue(3000, { state: 'answered', gapMs: 900, reason: 'say-again' }),
      cue(4000, { state: 'answered', gapMs: 2100, reason: 'blocked' }),
      cue(5000, { state: 'expired', hesitation: true }),
      cue(6000, { state: 'replaced' }),
    ];
    const alerts: Alert[] = [{ id: 'u', kind: 'undelivered', missionId: 'm1', memberId: 'd1', triggerId: 't-2000', at: 2000 }];
    const { gaps, ...counts } = tally(cueOutcomes(triggers, alerts));
    expect(counts).toEqual({
      cues: 6,
      answered: 4,
      ack: 2,
      unable: 1,
      sayAgain: 1,
      hesitations: 3,
      undelivered: 1,
      expired: 1,
      replaced: 1,
      lostMs: 1500 + 100,
    });
    expect(gaps).toEqual([500, 3500, 900, 2100]);
  });

  it('gives each leg the hesitations and seconds lost of cues issued since the previous mark; the leg under way takes the rest', () => {
    const outcomes = cueOutcomes(
      [
        cue(1000, { state: 'answered', gapMs: 2500 }),
        cue(9000, { state: 'answered', gapMs: 4000 }),
        cue(10_000, { state: 'answered', gapMs: 3000 }),
        cue(12_000, { state: 'answered', gapMs: 2200 }),
      ],
      [],
    );
    const legs = [
      { leg: 'pickup', plannedAt: 0, actualAt: 10_000 },
      { leg: 'depart', plannedAt: 5000, actualAt: 11_000 },
      { leg: 'venue', plannedAt: 20_000 },
      { leg: 'home', plannedAt: 30_000 },
    ];
    expect(scheduleFigures(legs, outcomes)).toEqual([
      { leg: 'pickup', plannedAt: 0, actualAt: 10_000, driftMs: 10_000, hesitations: 3, lostMs: 500 + 2000 + 1000 },
      { leg: 'depart', plannedAt: 5000, actualAt: 11_000, driftMs: 6000, hesitations: 0, lostMs: 0 },
      { leg: 'venue', plannedAt: 20_000, hesitations: 1, lostMs: 200 },
      { leg: 'home', plannedAt: 30_000, hesitations: 0, lostMs: 0 },
    ]);
  });

  it('keeps a swapped-out driver and the new one apart, and tells the timeline as sentences', () => {
    const swapped: Mission = {
      ...mission,
      vehicles: [{ id: 'v1', callsign: 'ALPHA' }],
      members: [
        { memberId: 'lead', callsign: 'LEAD', role: 'lead' },
        { ...mission.members[0]!, replacedAt: 7000, replacedBy: 'd2' },
        { memberId: 'd2', callsign: 'ALPHA-D2', role: 'driver', vehicleId: 'v1', personId: 'p2' },
      ],
    };
    const handed = cue(6000, { state: 'replaced' });
    handed.recipients.push({
      memberId: 'd2',
      callsign: 'ALPHA-D2',
      vehicleId: 'v1',
      state: 'answered',
      seq: 1,
      hesitation: false,
      gapMs: 800,
      response: 'ack',
    });
    const report = missionReport({ mission: swapped, triggers: [handed], alerts: [] }, [
      {
        seq: 1,
        at: 6000,
        kind: 'trigger.issued',
        memberId: 'lead',
        triggerId: handed.id,
        data: { type: 'hold', target: { vehicleIds: ['v1'] } },
      },
      { seq: 2, at: 7000, kind: 'member.replaced', memberId: 'd1', data: { vehicleId: 'v1', replacedBy: 'd2' } },
      { seq: 3, at: 7500, kind: 'trigger.answered', memberId: 'd2', triggerId: handed.id, data: { response: 'ack', gapMs: 800 } },
    ]);
    expect(report.drivers.map((d) => [d.memberId, d.replacedAt, d.cues, d.replaced, d.answered, d.personId])).toEqual([
      ['d1', 7000, 1, 1, 0, undefined],
      ['d2', undefined, 1, 0, 1, 'p2'],
    ]);
    expect(report.timeline.map((e) => e.text)).toEqual([
      'LEAD fired HOLD to ALPHA',
      'ALPHA-D was replaced as driver of ALPHA by ALPHA-D2',
      'ALPHA-D2 answered ACK in 0.8 s',
    ]);
  });
});

describe('the replaced state (docs/PROTOCOL.md §3, §9)', () => {
  it('is final, reachable from any state but answered and expired, and does not count in a trigger status', () => {
    for (const from of ['pending', 'undelivered', 'delivered', 'hesitation'] as const) expect(timing.canMove(from, 'replaced')).toBe(true);
    for (const from of ['answered', 'expired'] as const) expect(timing.canMove(from, 'replaced')).toBe(false);
    for (const to of ['delivered', 'hesitation', 'answered', 'expired'] as const) expect(timing.canMove('replaced', to)).toBe(false);
    expect(timing.triggerStatus([{ state: 'replaced' }, { state: 'delivered' }])).toBe('delivered');
    expect(timing.triggerStatus([{ state: 'answered' }, { state: 'replaced' }])).toBe('answered');
  });

  it('hands an open cue to the new driver, and refuses the old one an answer', () => {
    const open = cue(1000, { state: 'delivered' });
    const { trigger, changed } = timing.handOverCue(open, 'd1', { memberId: 'd2', callsign: 'ALPHA-D2', vehicleId: 'v1' }, 2000);
    expect(changed.map((r) => [r.memberId, r.state, r.seq])).toEqual([
      ['d1', 'replaced', 1],
      ['d2', 'pending', 0],
    ]);
    const late = timing.recordAnswer(trigger, 'd1', { triggerId: open.id, response: 'ack', respondedAt: 5 }, 2500);
    expect(!late.ok && late.refusal.code).toBe('not_found');
    // Not once more, not after it went stale, not once answered.
    expect(timing.handOverCue(trigger, 'd1', { memberId: 'd3', callsign: 'X', vehicleId: 'v1' }, 2000).changed).toEqual([]);
    expect(timing.handOverCue(open, 'd1', { memberId: 'd2', callsign: 'X', vehicleId: 'v1' }, open.staleAt).changed).toEqual([]);
    const answered = cue(1000, { state: 'answered', gapMs: 100 });
    expect(timing.handOverCue(answered, 'd1', { memberId: 'd2', callsign: 'X', vehicleId: 'v1' }, 2000).changed).toEqual([]);
  });
});
