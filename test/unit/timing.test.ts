import { timing, type TriggerRecord } from '@lockstep/server';
import { describe, expect, it } from 'vitest';

const {
  responseGap,
  liveDeadline,
  uplinkAllowance,
  triggerStatus,
  canMove,
  recordReceipt,
  recordAnswer,
  markHesitation,
  markUndelivered,
  expire,
} = timing;

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
  // The cue was emitted at t=1000 (issuedAt).
  const emittedAt = 1000;
  it('is measured on the device clock when both device times are plausible', () => {
    // The device clock runs an hour ahead: no offset enters the gap.
    const hourAhead = 3_600_000;
    expect(responseGap({ shownAt: hourAhead + 100, respondedAt: hourAhead + 900, emittedAt, deliveredAt: 5000, answeredAt: 5810 })).toEqual(
      {
        gapMs: 800,
        gapSource: 'device',
      },
    );
  });

  it('falls back to the server clock when a device time is missing', () => {
    expect(responseGap({ shownAt: undefined, respondedAt: 900, emittedAt, deliveredAt: 5000, answeredAt: 5750 })).toEqual({
      gapMs: 750,
      gapSource: 'server',
    });
  });

  it('falls back when the device gap is negative', () => {
    expect(responseGap({ shownAt: 900, respondedAt: 100, emittedAt, deliveredAt: 5000, answeredAt: 5750 })).toEqual({
      gapMs: 750,
      gapSource: 'server',
    });
  });

  it('keeps the device gap when the receipt came with the answer: plausibility is measured from the emission', () => {
    // An uplink stall: the receipt and the answer arrived together, 3.2 s after the emission.
    expect(responseGap({ shownAt: 0, respondedAt: 3000, emittedAt, deliveredAt: 4200, answeredAt: 4200 })).toEqual({
      gapMs: 3000,
      gapSource: 'device',
    });
  });

  it('falls back when the device gap exceeds emission-to-answer by more than 50 ms', () => {
    // Emitted at 1000, answered at 5750: at most 4800 ms is plausible.
    expect(responseGap({ shownAt: 0, respondedAt: 4800, emittedAt, deliveredAt: 5000, answeredAt: 5750 }).gapSource).toBe('device');
    expect(responseGap({ shownAt: 0, respondedAt: 4801, emittedAt, deliveredAt: 5000, answeredAt: 5750 })).toEqual({
      gapMs: 750,
      gapSource: 'server',
    });
  });
});

describe('live hesitation deadline (docs/PROTOCOL.md §3)', () => {
  const issued = { issuedAt: 1000, thresholdMs: 2000 };
  it('is the device drawing the cue, in server time, plus the threshold and half the p95 RTT', () => {
    // The device clock is 7.3 s fast; it drew the cue at server time 1100; the receipt took 300 ms back.
    const link = { clock: { offsetMs: 7300, errorMs: 10 }, rttP95Ms: 400 };
    expect(liveDeadline(issued, 8400, 1400, link)).toEqual({ drawnAt: 1100, dueAt: 1100 + 2000 + 200 });
    // And 7.3 s slow: the same moment.
    expect(liveDeadline(issued, 1100 - 7300, 1400, { ...link, clock: { offsetMs: -7300, errorMs: 10 } }).dueAt).toBe(3300);
  });

  it('caps the uplink allowance at 1 s', () => {
    expect(uplinkAllowance(600)).toBe(300);
    expect(uplinkAllowance(5000)).toBe(1000);
    expect(uplinkAllowance(undefined)).toBe(0);
  });

  it('keeps the moment drawn between the emission and the receipt, whatever a stale offset says', () => {
    const link = { clock: { offsetMs: 0, errorMs: 5 }, rttP95Ms: 0 };
    expect(liveDeadline(issued, 200, 1400, link).drawnAt).toBe(1000);
    expect(liveDeadline(issued, 9000, 1400, link).drawnAt).toBe(1400);
  });

  it('without shownAt or without a clock offset, is the receipt plus the threshold', () => {
    expect(liveDeadline(issued, undefined, 1400, { clock: { offsetMs: 0, errorMs: 5 }, rttP95Ms: 400 })).toEqual({
      drawnAt: undefined,
      dueAt: 3400,
    });
    expect(liveDeadline(issued, 1100, 1400, { rttP95Ms: 400 }).dueAt).toBe(3400);
  });

  it('is what markHesitation waits for', () => {
    const link = { clock: { offsetMs: 0, errorMs: 5 }, rttP95Ms: 400 };
    // Drawn at 1100, the receipt 500 ms later: due at 1100 + 2000 + 200, not at 1600 + 2000.
    const delivered = recordReceipt(trigger(), 'd1', 1100, 5, 1600, link).trigger;
    expect(delivered.recipients[0]).toMatchObject({ drawnAt: 1100, hesitationDueAt: 3300 });
    expect(markHesitation(delivered, 'd1', 3299).changed).toHaveLength(0);
    expect(markHesitation(delivered, 'd1', 3300).changed).toHaveLength(1);
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
    const answered = recordAnswer(delivered, 'd1', answer(300, 0), 1800);
    if (!answered.ok) throw new Error(answered.refusal.message);
    expect(expire(answered.value.trigger, 30_999).changed).toHaveLength(0);
    const expired = expire(answered.value.trigger, 31_000);
    expect(expired.changed.map((r) => r.memberId)).toEqual(['d2']);
    expect(expired.trigger.recipients.map((r) => r.state)).toEqual(['answered', 'expired']);
  });
});

describe('answers', () => {
  it('makes the final hesitation exactly gap > threshold, and withdraws a live one the answer disproves', () => {
    const delivered = recordReceipt(trigger(), 'd1', 0, 5, 1500).trigger;
    const hesitating = markHesitation(delivered, 'd1', 3500).trigger;
    // Tapped at 1.9 s; the answer's uplink was slow.
    const answered = recordAnswer(hesitating, 'd1', answer(1900, 0), 3600);
    expect(answered.ok && answered.value.recipient).toMatchObject({ state: 'answered', gapMs: 1900, hesitation: false });
    expect(answered.ok && answered.value.hesitationWithdrawn).toBe(true);
    expect(answered.ok && answered.value.hesitationFirstSeen).toBe(false);
  });

  it('counts a gap of exactly the threshold as no hesitation', () => {
    const delivered = recordReceipt(trigger(), 'd1', 0, 5, 1500).trigger;
    const answered = recordAnswer(delivered, 'd1', answer(2000, 0), 3600);
    expect(answered.ok && answered.value.recipient.hesitation).toBe(false);
  });

  it('keeps a device gap when the answer came before any receipt', () => {
    const answered = recordAnswer(trigger(), 'd1', answer(3000, 0), 4300);
    expect(answered.ok && answered.value.recipient).toMatchObject({
      deliveredAt: 4300,
      gapMs: 3000,
      gapSource: 'device',
      hesitation: true,
    });
    expect(answered.ok && answered.value.hesitationFirstSeen).toBe(true);
  });

  it('keeps hesitation: true and adds the final gap when the answer comes after a live hesitation', () => {
    const delivered = recordReceipt(trigger(), 'd1', 0, 5, 1500).trigger;
    const hesitating = markHesitation(delivered, 'd1', 3500).trigger;
    const answered = recordAnswer(hesitating, 'd1', answer(2600, 0), 4100);
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
    const answered = recordAnswer(delivered, 'd1', answer(0), 3700);
    expect(answered.ok && answered.value.recipient).toMatchObject({ gapMs: 2200, gapSource: 'server', hesitation: true });
    expect(answered.ok && answered.value.hesitationFirstSeen).toBe(true);
  });

  it('refuses a second answer with conflict; the first stands', () => {
    const first = recordAnswer(trigger(), 'd1', answer(100, 0), 1500);
    if (!first.ok) throw new Error('first answer refused');
    const second = recordAnswer(first.value.trigger, 'd1', { ...answer(100, 0), response: 'unable', reason: 'blocked' }, 1600);
    expect(!second.ok && second.refusal.code).toBe('conflict');
  });

  it('refuses an answer at or after staleAt with expired', () => {
    const late = recordAnswer(trigger(), 'd1', answer(100, 0), 31_000);
    expect(!late.ok && late.refusal.code).toBe('expired');
  });

  it('refuses an answer from a member the cue was not sent to with not_found', () => {
    const stranger = recordAnswer(trigger(), 'd9', answer(100, 0), 1500);
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
