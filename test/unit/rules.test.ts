import {
  BURST,
  clockEstimate,
  clockOffset,
  fullBucket,
  logAsCsv,
  originAllowed,
  percentile,
  presenceState,
  reportPhase,
  RTT_REPORT_MS,
  rttWorthReporting,
  takeToken,
} from '@lockstep/server';
import { describe, expect, it } from 'vitest';

describe('rate limit (docs/PROTOCOL.md §4: 20/s sustained, bursts of 40)', () => {
  it('allows a burst of 40 and refuses the 41st at the same instant', () => {
    const bucket = fullBucket(0);
    const allowed = Array.from({ length: BURST + 1 }, () => takeToken(bucket, 0));
    expect(allowed.filter(Boolean)).toHaveLength(40);
    expect(allowed.at(-1)).toBe(false);
  });

  it('refills at 20 per second', () => {
    const bucket = fullBucket(0);
    for (let i = 0; i < BURST; i++) takeToken(bucket, 0);
    expect(takeToken(bucket, 49)).toBe(false);
    expect(takeToken(bucket, 50)).toBe(true);
    const oneSecondLater = Array.from({ length: 25 }, () => takeToken(bucket, 1050)).filter(Boolean);
    expect(oneSecondLater).toHaveLength(20);
  });
});

describe('latency statistics', () => {
  it('takes the nearest-rank p95 of the RTT window', () => {
    const window = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(window, 95)).toBe(19);
    expect(percentile([42], 95)).toBe(42);
    expect(percentile([], 95)).toBeUndefined();
  });

  it('estimates the clock offset from the lowest-RTT probe, with its RTT / 2 as the error bound', () => {
    // The device is 7.3 s fast. A probe whose legs took 50 and 250 ms is off by 100 ms; one of 20 and 20 by 0.
    const lopsided = { rttMs: 300, offsetMs: clockOffset(0, 300, 7300 + 50) };
    const even = { rttMs: 40, offsetMs: clockOffset(1000, 40, 1000 + 7300 + 20) };
    expect(lopsided.offsetMs).toBe(7300 - 100);
    expect(clockEstimate([lopsided, even])).toEqual({ offsetMs: 7300, errorMs: 20 });
    expect(clockEstimate([])).toBeUndefined();
  });
});

describe('presence state (docs/PROTOCOL.md §5)', () => {
  const timing = { probeIntervalMs: 3000, offlineAfterMs: 10_000 };
  it('is online while any device answers, stale after 2 missed probes, offline after 10 s of silence or with no device', () => {
    expect(presenceState([{ missed: 1, lastAnswerAt: 0 }], 3000, timing)).toBe('online');
    expect(
      presenceState(
        [
          { missed: 2, lastAnswerAt: 0 },
          { missed: 0, lastAnswerAt: 5000 },
        ],
        6000,
        timing,
      ),
    ).toBe('online');
    expect(presenceState([{ missed: 2, lastAnswerAt: 0 }], 6000, timing)).toBe('stale');
    expect(presenceState([{ missed: 3, lastAnswerAt: 0 }], 10_000, timing)).toBe('offline');
    expect(presenceState([], 0, timing)).toBe('offline');
  });
});

describe('when a fresh RTT is worth telling the watchers', () => {
  it('is at the first figure, once every 30 s, or when it moved by more than 10 ms and 25 %', () => {
    const phaseMs = 12_000;
    const at = 100 * RTT_REPORT_MS + phaseMs + 1000; // told just after the member's point of the period
    expect(rttWorthReporting({ rttMs: undefined, at: 0, phaseMs }, 12, at)).toBe(true);
    expect(rttWorthReporting({ rttMs: 12, at, phaseMs }, 14, at + 3000)).toBe(false);
    expect(rttWorthReporting({ rttMs: 12, at, phaseMs }, 14, at + 28_000)).toBe(false);
    expect(rttWorthReporting({ rttMs: 12, at, phaseMs }, 14, at + 29_000)).toBe(true);
    expect(rttWorthReporting({ rttMs: 12, at, phaseMs }, 40, at + 3000)).toBe(true);
    // A tunnel: 200 → 215 ms is under a quarter, not worth a broadcast yet.
    expect(rttWorthReporting({ rttMs: 200, at, phaseMs }, 215, at + 3000)).toBe(false);
  });

  it('falls due for members who connected together at points spread over the whole 30 s', () => {
    // A thousand members told at the same moment (a restart): when is each one's next report due?
    const at = 100 * RTT_REPORT_MS;
    const dueAfterS = Array.from({ length: 1000 }, (_, i) => {
      const told = { rttMs: 12, at, phaseMs: reportPhase(`member-${crypto.randomUUID()}-${i}`) };
      let s = 1;
      while (!rttWorthReporting(told, 12, at + s * 1000)) s++;
      return s;
    });
    expect(Math.max(...dueAfterS)).toBeLessThanOrEqual(30);
    // Each 3 s of the period holds about a tenth of them, never a wave.
    for (let from = 0; from < 30; from += 3) {
      const inSlice = dueAfterS.filter((s) => s > from && s <= from + 3).length;
      expect(inSlice).toBeGreaterThan(50);
      expect(inSlice).toBeLessThan(150);
    }
  });
});

describe('socket origin check', () => {
  it('accepts native clients without Origin, and browsers whose Origin is allowed', () => {
    expect(originAllowed(undefined, ['http://127.0.0.1:8080'])).toBe(true);
    expect(originAllowed('http://127.0.0.1:8080', ['http://127.0.0.1:8080'])).toBe(true);
    expect(originAllowed('http://evil.example', ['http://127.0.0.1:8080'])).toBe(false);
    expect(originAllowed('https://ops.example', ['https://ops.example'])).toBe(true);
  });
});

describe('mission log as CSV', () => {
  it('has the columns of docs/PROTOCOL.md §6 and quotes the JSON data', () => {
    const csv = logAsCsv([{ seq: 1, at: 5, kind: 'refused', memberId: 'm1', data: { code: 'forbidden', message: 'a, "b"' } }]);
    expect(csv.split('\r\n')).toEqual([
      'seq,at,kind,memberId,triggerId,data',
      '1,5,refused,m1,,"{""code"":""forbidden"",""message"":""a, \\""b\\""""}"',
      '',
    ]);
  });
});
