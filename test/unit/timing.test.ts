import { timing, type TriggerRecord } from '@lockstep/server';
import { describe, expect, it } from 'vitest';

const { responseGap, triggerStatus, canMove, recordReceipt, recordAnswer, markHesitation, markUndelivered, expire } = timing;

/** A trigger issued at t=1000 to two drivers, threshold 2 s, stale at t=31000. */
function trigger(): TriggerRecord {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    missionId: 'm1',
    type: 'box-in',
    label: 'BOX-IN — OPEN GAP',
    params: {},
    target: { convoy: true },
    issuedBy: { memberId: 'lead', callsign: 'LEAD' },
    issuedAt: 1000,
    staleAt: 31_000,
    thresholdMs: 2000,
    fingerprint: 'f',
    recipients: [
      { memberId: 'd1', callsign: 'DRV-1', vehicleId: 'v1', state: 'pending', hesitation: false, seq: 1 },
      { memberId: 'd2', callsign: 'DRV-2', vehicleId: 'v2', state: 'pending', hesitation: false, seq: 1 },
    ],
  };
}

const answer = (respondedAt: number, shownAt?: number) => ({
  triggerId: trigger().id,
  response: 'ack' as const,
  respondedAt,
  ...(shownAt === undefined ? {} : { shownAt }),
});

describe('response gap (docs/PROTOCOL.md §3)', () => {
  it('is measured on the device clock when both device times are plausible', () => {
    // The device clock runs an hour ahead: no offset enters the gap.
    const hourAhead = 3_600_000;
    expect(responseGap({ shownAt: hourAhead + 100, respondedAt: hourAhead + 900, deliveredAt: 5000, answeredAt: 5810, rttMs: 20 })).toEqual(
      { gapMs: 800, gapSource: 'device' },
    );
  });

  it('falls back to the server clock when a device time is missing', () => {
    expect(responseGap({ shownAt: undefined, respondedAt: 900, deliveredAt: 5000, answeredAt: 5750, rttMs: 20 })).toEqual({
      gapMs: 750,
      gapSource: 'server',
    });
  });

  it('falls back when the device gap is negative', () => {
    expect(responseGap({ shownAt: 900, respondedAt: 100, deliveredAt: 5000, answeredAt: 5750, rttMs: 20 })).toEqual({
      gapMs: 750,
      gapSource: 'server',
    });
  });

  it('falls back when the device gap exceeds what the server saw by more than RTT + 50 ms', () => {
    // Server saw 750 ms; RTT 20 → at most 820 ms is plausible.
    expect(responseGap({ shownAt: 0, respondedAt: 820, deliveredAt: 5000, answeredAt: 5750, rttMs: 20 }).gapSource).toBe('device');
    expect(responseGap({ shownAt: 0, respondedAt: 821, deliveredAt: 5000, answeredAt: 5750, rttMs: 20 })).toEqual({
      gapMs: 750,
      gapSource: 'server',
    });
  });
});

describe('recipient state order', () => {
  it('only moves forward, and to expired from anything but answered', () => {
    expect(canMove('pending', 'delivered')).toBe(true);
    expect(canMove('undelivered', 'delivered')).toBe(true);
    expect(canMove('hesitation', 'delivered')).toBe(false);
    expect(canMove('answered', 'hesitation')).toBe(false);
    expect(canMove('hesitation', 'expired')).toBe(true);
    expect(canMove('answered', 'expired')).toBe(false);
    expect(canMove('expired', 'answered')).toBe(false);
  });

  it('ignores a late or repeated receipt', () => {
    const delivered = recordReceipt(trigger(), 'd1', 10, 5, 1500).trigger;
    const again = recordReceipt(delivered, 'd1', 99, 5, 1600);
    expect(again.changed).toHaveLength(0);
    expect(again.trigger.recipients[0]).toMatchObject({ state: 'delivered', deliveredAt: 1500, shownAt: 10 });
  });

  it('lets a receipt after the undelivered deadline deliver the cue', () => {
    const undelivered = markUndelivered(trigger(), 'd1', 3000).trigger;
    expect(undelivered.recipients[0]?.state).toBe('undelivered');
    expect(recordReceipt(undelivered, 'd1', undefined, undefined, 3500).trigger.recipients[0]?.state).toBe('delivered');
  });
});

describe('deadlines', () => {
  it('marks undelivered only once issuedAt + threshold has passed', () => {
    expect(markUndelivered(trigger(), 'd1', 2999).changed).toHaveLength(0);
    expect(markUndelivered(trigger(), 'd1', 3000).changed).toHaveLength(1);
  });

  it('marks hesitation at deliveredAt + threshold when still unanswered', () => {
    const delivered = recordReceipt(trigger(), 'd1', 0, 5, 1500).trigger;
    expect(markHesitation(delivered, 'd1', 3499).changed).toHaveLength(0);
    const hesitating = markHesitation(delivered, 'd1', 3500).trigger;
    expect(hesitating.recipients[0]).toMatchObject({ state: 'hesitation', hesitation: true });
  });

  it('expires every unanswered recipient at staleAt and leaves the answered one', () => {
    const delivered = recordReceipt(trigger(), 'd1', 0, 5, 1500).trigger;
    const answered = recordAnswer(delivered, 'd1', answer(300, 0), 10, 1800);
    if (!answered.ok) throw new Error(answered.refusal.message);
    expect(expire(answered.value.trigger, 30_999).changed).toHaveLength(0);
    const expired = expire(answered.value.trigger, 31_000);
    expect(expired.changed.map((r) => r.memberId)).toEqual(['d2']);
    expect(expired.trigger.recipients.map((r) => r.state)).toEqual(['answered', 'expired']);
  });
});

describe('answers', () => {
  it('keeps hesitation: true and adds the final gap when the answer comes after a live hesitation', () => {
    const delivered = recordReceipt(trigger(), 'd1', 0, 5, 1500).trigger;
    const hesitating = markHesitation(delivered, 'd1', 3500).trigger;
    const answered = recordAnswer(hesitating, 'd1', answer(2600, 0), 10, 4100);
    expect(answered.ok && answered.value.recipient).toMatchObject({
      state: 'answered',
      gapMs: 2600,
      gapSource: 'device',
      hesitation: true,
    });
    expect(answered.ok && answered.value.hesitationFirstSeen).toBe(false);
  });

  it('flags a hesitation first seen at the answer when the gap exceeds the threshold', () => {
    const delivered = recordReceipt(trigger(), 'd1', undefined, 5, 1500).trigger;
    const answered = recordAnswer(delivered, 'd1', answer(0), 10, 3700);
    expect(answered.ok && answered.value.recipient).toMatchObject({ gapMs: 2200, gapSource: 'server', hesitation: true });
    expect(answered.ok && answered.value.hesitationFirstSeen).toBe(true);
  });

  it('refuses a second answer with conflict; the first stands', () => {
    const first = recordAnswer(trigger(), 'd1', answer(100, 0), 10, 1500);
    if (!first.ok) throw new Error('first answer refused');
    const second = recordAnswer(first.value.trigger, 'd1', { ...answer(100, 0), response: 'unable', reason: 'blocked' }, 10, 1600);
    expect(!second.ok && second.refusal.code).toBe('conflict');
  });

  it('refuses an answer at or after staleAt with expired', () => {
    const late = recordAnswer(trigger(), 'd1', answer(100, 0), 10, 31_000);
    expect(!late.ok && late.refusal.code).toBe('expired');
  });

  it('refuses an answer from a member the cue was not sent to with not_found', () => {
    const stranger = recordAnswer(trigger(), 'd9', answer(100, 0), 10, 1500);
    expect(!stranger.ok && stranger.refusal.code).toBe('not_found');
  });
});

describe('trigger status', () => {
  const of = (...states: Parameters<typeof triggerStatus>[0][number]['state'][]) => triggerStatus(states.map((state) => ({ state })));
  it('puts hesitation first, then undelivered, then the open states, then answered, else expired', () => {
    expect(of('answered', 'hesitation', 'undelivered')).toBe('hesitation');
    expect(of('delivered', 'undelivered')).toBe('undelivered');
    expect(of('pending', 'delivered')).toBe('pending');
    expect(of('delivered', 'answered')).toBe('delivered');
    expect(of('answered', 'answered')).toBe('answered');
    expect(of('answered', 'expired')).toBe('expired');
  });

  it('counts a trigger that reached no driver as undelivered', () => {
    expect(triggerStatus([])).toBe('undelivered');
  });
});
