import { newId } from '@lockstep/client/ids';
import { SpeechQueue } from '@lockstep/client/speech';
import { orderAlerts } from '@lockstep/client/triage';
import { answerWords, refusalWords, spokenCallsign, spokenCue } from '@lockstep/client/wording';
import type { Alert } from '@lockstep/shared';
import { describe, expect, it } from 'vitest';

/** A voice the test drives: it records each line and finishes it when told. */
function voice() {
  const said: string[] = [];
  const pending: (() => void)[] = [];
  return {
    said,
    finish: () => pending.shift()?.(),
    voice: {
      say(text: string, done: () => void) {
        said.push(text);
        pending.push(done);
      },
    },
  };
}

describe('the handset speech queue', () => {
  it('says one line at a time and drops none, even two answers 233 ms apart', () => {
    const v = voice();
    const queue = new SpeechQueue(v.voice);
    queue.say('Alpha acknowledged hold, zero point seven');
    queue.say('Bravo acknowledged hold, zero point nine');
    expect(v.said).toEqual(['Alpha acknowledged hold, zero point seven']);
    v.finish();
    expect(v.said).toEqual(['Alpha acknowledged hold, zero point seven', 'Bravo acknowledged hold, zero point nine']);
    v.finish();
    expect(queue.waiting).toEqual([]);
  });

  it('puts an alarm before every waiting line but after alarms already waiting, never cutting the line being said', () => {
    const v = voice();
    const queue = new SpeechQueue(v.voice);
    queue.say('Alpha acknowledged go, zero point five');
    queue.say('Bravo acknowledged go, zero point six');
    queue.say('Charlie hesitation', 'alarm');
    queue.say('link lost, taps are kept', 'alarm');
    expect(queue.waiting).toEqual(['Charlie hesitation', 'link lost, taps are kept', 'Bravo acknowledged go, zero point six']);
    for (let i = 0; i < 4; i += 1) v.finish();
    expect(v.said).toEqual([
      'Alpha acknowledged go, zero point five',
      'Charlie hesitation',
      'link lost, taps are kept',
      'Bravo acknowledged go, zero point six',
    ]);
  });

  it('ignores a voice that reports the same line done twice', () => {
    const said: string[] = [];
    const queue = new SpeechQueue({
      say(text, done) {
        said.push(text);
        if (said.length === 1) {
          done();
          done();
        }
      },
    });
    queue.say('one');
    queue.say('two');
    queue.say('three');
    expect(said).toEqual(['one', 'two']);
  });
});

describe('the handset wording', () => {
  it('names the vehicle, the answer, the cue and the gap', () => {
    const hold = { callsign: 'ALPHA', cueLabel: 'HOLD', response: 'ack' as const, gapMs: 700, hesitation: false };
    expect(answerWords(hold)).toBe('Alpha acknowledged hold, zero point seven');
    expect(
      answerWords({
        callsign: 'BRAVO',
        cueLabel: 'BOX-IN — OPEN GAP',
        response: 'unable',
        reason: 'blocked',
        gapMs: 2400,
        hesitation: true,
      }),
    ).toBe('Bravo unable box in, blocked, two point four, late');
    expect(answerWords({ ...hold, callsign: 'CHARLIE-2', cueLabel: 'ALT ROUTE River', gapMs: 12_300 })).toBe(
      'Charlie 2 acknowledged alt route river, 12 point three',
    );
  });

  it('says a refusal as its reason, never as a code', () => {
    expect(refusalWords('HOLD', 'mission_not_active')).toBe('hold refused, the mission is not running');
    expect(refusalWords('EXTRACT NOW', 'forbidden')).toBe('extract now refused, you may not send that');
    expect(refusalWords('HOLD', undefined)).not.toMatch(/_/);
  });

  it('speaks callsigns and cues as words', () => {
    expect(spokenCallsign('ALPHA')).toBe('Alpha');
    expect(spokenCue('VEHICLE DOWN — CROSS-DECK')).toBe('vehicle down');
    expect(spokenCue('ALL CLEAR')).toBe('all clear');
  });
});

describe('ids without a secure context', () => {
  it('makes a uuid v4 from getRandomValues when randomUUID is missing', () => {
    const insecure: Pick<Crypto, 'getRandomValues'> = { getRandomValues: (array) => crypto.getRandomValues(array) };
    const ids = new Set(Array.from({ length: 100 }, () => newId(insecure)));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('the board alert order', () => {
  it('lists the most severe first and, within a severity, the oldest first', () => {
    const alert = (id: string, kind: Alert['kind'], at: number) => ({ id, kind, at }) as Alert;
    const ordered = orderAlerts([
      alert('a', 'plan-unacked', 1),
      alert('b', 'hesitation', 5),
      alert('c', 'undelivered', 9),
      alert('d', 'hesitation', 2),
      alert('e', 'offline', 7),
    ]);
    expect(ordered.map((a) => a.id)).toEqual(['c', 'e', 'd', 'b', 'a']);
  });
});
