import { parseJournal } from '@lockstep/server';
import { describe, expect, it } from 'vitest';

const log = (missionId: string) => JSON.stringify({ op: 'log', missionId, log: [{ at: 1, kind: 'presence', data: { state: 'offline' } }] });

describe('the outage journal read back after a crash', () => {
  it('keeps every whole entry and drops a last line torn in mid-write', () => {
    const torn = `${log('m1')}\n${log('m2')}\n{"op":"log","missi`;
    expect(parseJournal(torn, 'j').map((e) => e.op === 'log' && e.missionId)).toEqual(['m1', 'm2']);
  });

  it('refuses a journal with a line that is not JSON before its end, rather than lose the writes after it', () => {
    expect(() => parseJournal(`${log('m1')}\nnot json\n${log('m2')}\n`, 'j')).toThrow(/line 2: not JSON/);
  });

  it('refuses an entry of the wrong shape instead of replaying it', () => {
    expect(() => parseJournal(`${JSON.stringify({ op: 'deadline', key: 'k', at: 'soon' })}\n`, 'j')).toThrow(/line 1/);
    expect(() => parseJournal(`${JSON.stringify({ op: 'truncate' })}\n`, 'j')).toThrow(/line 1/);
  });
});
