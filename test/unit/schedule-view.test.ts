import { alertWords } from '@lockstep/client/coordination';
import { driftLevel, driftText, nextLeg, overdue, ScheduleMarker, spokenDrift } from '@lockstep/client/schedule';
import type { MarkEntry, MarkResult } from '@lockstep/client/schedule';
import type { ErrorCode, Mission, ScheduleLeg } from '@lockstep/shared';
import { describe, expect, it } from 'vitest';

/** How the board and the handset read the schedule's cascade (PROTOCOL.md §10), without a screen. */

const MIN = 60_000;

const leg = (name: string, plannedAt: number, actualAt?: number, drift = 0): ScheduleLeg =>
  actualAt === undefined
    ? { leg: name, plannedAt, projectedAt: plannedAt + drift, driftMs: drift }
    : { leg: name, plannedAt, actualAt, projectedAt: actualAt, driftMs: actualAt - plannedAt };

describe('the drift of a leg', () => {
  it('is on time under a second, amber up to the allowance, red beyond it (where the server raises schedule-drift)', () => {
    expect(driftLevel(-5 * MIN, MIN)).toBe('on-time');
    expect(driftLevel(999, MIN)).toBe('on-time');
    expect(driftLevel(1000, MIN)).toBe('late');
    expect(driftLevel(MIN, MIN)).toBe('late');
    expect(driftLevel(MIN + 1, MIN)).toBe('too-late');
  });

  it('reads in whole units, never larger than it is', () => {
    expect(driftText(0)).toBe('on time');
    expect(driftText(-400)).toBe('on time');
    expect(driftText(45_900)).toBe('+45 s late');
    expect(driftText(15 * MIN + 59_000)).toBe('+15 min late');
    expect(driftText(-2 * MIN - 10_000)).toBe('2 min early');
    expect(driftText(65 * MIN)).toBe('+1 h 05 late');
  });

  it('reads the same in the LATE alert as on the strip', () => {
    const alert = {
      id: 'a',
      kind: 'schedule-drift',
      missionId: 'm',
      at: 0,
      leg: 'pickup',
      valueMs: 15 * MIN + 40_000,
      thresholdMs: MIN,
    } as const;
    const words = alertWords(alert, { mission: undefined, triggerLabel: () => undefined, observation: () => undefined });
    expect(words).toEqual({ kind: 'LATE', text: 'pickup +15 min', detail: 'allowed 60 s' });
    expect(driftText(alert.valueMs)).toBe('+15 min late');
  });

  it('is spoken in words a voice does not misread', () => {
    expect(spokenDrift(0)).toBe('on time');
    expect(spokenDrift(7 * MIN + 30_000)).toBe('7 minutes late');
    expect(spokenDrift(MIN)).toBe('1 minute late');
    expect(spokenDrift(-45_000)).toBe('45 seconds early');
    expect(spokenDrift(60 * MIN)).toBe('1 hour late');
    expect(spokenDrift(125 * MIN)).toBe('2 hours 5 minutes late');
  });
});

describe('the next leg', () => {
  const legs = [leg('pickup', 0, 15 * MIN), leg('venue', 30 * MIN, undefined, 15 * MIN), leg('dinner', 60 * MIN, undefined, 15 * MIN)];

  it('follows the latest leg marked, or being marked from this screen', () => {
    expect(nextLeg(legs)?.leg).toBe('venue');
    expect(nextLeg(legs, new Set(['venue']))?.leg).toBe('dinner');
    expect(nextLeg(legs, new Set(['dinner']))).toBeUndefined();
    expect(nextLeg([])).toBeUndefined();
  });

  it('skips a leg left unmarked before one marked: the detail has moved past it', () => {
    expect(nextLeg([leg('pickup', 0), leg('venue', 30 * MIN, 31 * MIN), leg('dinner', 60 * MIN, undefined, MIN)])?.leg).toBe('dinner');
  });

  it('is overdue once its planned and projected times have both passed unmarked', () => {
    const venue = legs[1]!;
    expect(overdue(venue, 40 * MIN)).toBe(false);
    expect(overdue(venue, 45 * MIN + 1)).toBe(true);
    expect(overdue(legs[0]!, 99 * MIN)).toBe(false);
    // Projected early: still due until its planned time.
    expect(overdue(leg('venue', 30 * MIN, undefined, -10 * MIN), 25 * MIN)).toBe(false);
  });
});

describe('marking a leg', () => {
  function marker(mission: () => Mission | undefined) {
    const sent: { payload: unknown; answer: (reply: unknown) => void }[] = [];
    let stored: MarkEntry[] | undefined;
    const results: MarkResult[] = [];
    const connection = {
      state: 'online' as const,
      onState: (listener: (state: 'online') => void) => listener('online'),
      request: (_event: string, payload: unknown) => new Promise((resolve) => sent.push({ payload, answer: resolve })),
    };
    const box = new ScheduleMarker({
      connection: connection as never,
      shelf: { load: () => stored, save: (entries) => (stored = entries) },
      mission,
      settled: (result) => results.push(result),
    });
    return { box, sent, results };
  }
  const replies = () => new Promise<void>((resolve) => setImmediate(resolve));
  const refusal = (code: ErrorCode) => ({ ok: false, error: { code, message: code } });
  const withLeg = (l: ScheduleLeg) => ({ schedule: [l] }) as Mission;

  it('sends the moment of the tap once, however often the leg is tapped while it is on its way', async () => {
    const { box, sent, results } = marker(() => undefined);
    box.mark('venue', 1_234.7);
    box.mark('venue', 1_300);
    expect(sent.map((s) => s.payload)).toEqual([{ leg: 'venue', at: 1_234 }]);
    expect(box.pending()).toEqual(new Set(['venue']));
    sent[0]?.answer({ ok: true, schedule: [leg('venue', 1_000, 1_234)] });
    await replies();
    expect(results).toEqual([{ leg: 'venue', outcome: 'marked', marked: leg('venue', 1_000, 1_234) }]);
    expect(box.pending().size).toBe(0);
  });

  it('takes a conflict for its own mark when the leg carries its time (the first reply was lost), and for a refusal otherwise', async () => {
    let mission = withLeg(leg('venue', 1_000, 1_234));
    const { box, sent, results } = marker(() => mission);
    box.mark('venue', 1_234);
    sent[0]?.answer(refusal('conflict'));
    await replies();
    mission = withLeg(leg('dinner', 1_000, 9_999));
    box.mark('dinner', 2_000);
    sent[1]?.answer(refusal('conflict'));
    await replies();
    expect(results).toEqual([
      { leg: 'venue', outcome: 'marked', marked: leg('venue', 1_000, 1_234) },
      { leg: 'dinner', outcome: 'refused', code: 'conflict' },
    ]);
  });
});
