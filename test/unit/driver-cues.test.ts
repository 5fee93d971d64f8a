import { type DriverMemory, DriverCues } from '@lockstep/client/cues';
import type { TriggerCue, TriggerType } from '@lockstep/shared';
import { describe, expect, it } from 'vitest';

/** The tablet's bookkeeping without a screen: frames are drawn when the test says so. */

const FRAME_AT = 5_000;

function tablet(stored?: DriverMemory) {
  let memory = stored;
  let now = 1_000;
  const frames: (() => void)[] = [];
  const shelf = {
    load: () => memory && structuredClone(memory),
    save: (value: DriverMemory) => {
      memory = structuredClone(value);
    },
  };
  const cues = new DriverCues({
    shelf,
    now: () => now,
    nextFrame: () => new Promise<number>((resolve) => frames.push(() => resolve(FRAME_AT))),
  });
  return {
    cues,
    /** Draws the pending frames: what a receipt reports as shownAt. */
    draw: () => {
      for (const frame of frames.splice(0)) frame();
    },
    advance: (ms: number) => {
      now += ms;
    },
    /** What a reload of the tab would read back. */
    stored: () => memory,
  };
}

let seq = 0;
function cue(type: TriggerType = 'hold', fields: Partial<TriggerCue> = {}): TriggerCue {
  seq += 1;
  return {
    id: crypto.randomUUID(),
    seq,
    missionId: 'm1',
    type,
    label: type.toUpperCase(),
    params: {},
    vehicleId: 'v1',
    issuedBy: { memberId: 'lead', callsign: 'LEAD' },
    issuedAt: 10_000 + seq,
    staleAt: 40_000 + seq,
    expired: false,
    ...fields,
  };
}

describe('driver cues', () => {
  it('shows a replayed cue once, and the receipt of both copies carries the frame that drew it', async () => {
    const { cues, draw } = tablet();
    const hold = cue('hold');
    const first = cues.receive(hold);
    const replay = cues.receive({ ...hold });
    expect([first.outcome, replay.outcome]).toEqual(['shown', 'replayed']);
    expect(cues.held).toHaveLength(1);
    draw();
    await expect(first.shown).resolves.toBe(FRAME_AT);
    await expect(replay.shown).resolves.toBe(FRAME_AT);
  });

  it('drops a replay of a cue already answered, also after a reload', async () => {
    const t = tablet();
    const go = cue('go');
    t.cues.receive(go);
    t.draw();
    await Promise.resolve();
    expect(t.cues.answer(go.id, 'ack')).toBeDefined();
    expect(t.cues.receive(go).outcome).toBe('dropped');
    const reloaded = tablet(t.stored());
    expect(reloaded.cues.receive(go)).toEqual({ outcome: 'dropped' });
    expect(reloaded.cues.onScreen()).toBeUndefined();
  });

  it('lists a cue that arrives expired as MISSED and never shows it as an order', () => {
    const { cues } = tablet();
    const extract = cue('extract', { expired: true });
    expect(cues.receive(extract).outcome).toBe('missed');
    expect(cues.onScreen()).toBeUndefined();
    expect(cues.missed).toEqual([{ id: extract.id, label: 'EXTRACT', issuedAt: extract.issuedAt }]);
    expect(cues.receive({ ...extract, expired: false }).outcome).toBe('dropped');
  });

  it('stops showing a cue the server expires, lists it as MISSED and takes no answer for it', () => {
    const { cues } = tablet();
    const hold = cue('hold');
    cues.receive(hold);
    expect(cues.expire(hold.id)).toBe(true);
    expect(cues.onScreen()).toBeUndefined();
    expect(cues.missed.map((m) => m.label)).toEqual(['HOLD']);
    expect(cues.answer(hold.id, 'ack')).toBeUndefined();
    expect(cues.expire(hold.id)).toBe(false);
  });

  it('after a snapshot, misses a cue held from before it that the server no longer has open, but keeps one that arrived since', () => {
    const t = tablet();
    const old = cue('hold');
    t.cues.receive(old);
    t.advance(100);
    const requestedAt = 1_100;
    t.advance(50);
    const fresh = cue('go');
    t.cues.receive(fresh);
    t.cues.reconcile(new Set(), requestedAt);
    expect(t.cues.held.map((c) => c.cue.id)).toEqual([fresh.id]);
    expect(t.cues.missed.map((m) => m.id)).toEqual([old.id]);
  });

  it('puts the most urgent cue on screen, then the newest of the same urgency', () => {
    const { cues } = tablet();
    cues.receive(cue('go'));
    const hold = cue('hold');
    cues.receive(hold);
    expect(cues.onScreen()?.cue.id).toBe(hold.id);
    const extract = cue('extract');
    cues.receive(extract);
    cues.receive(cue('hold'));
    expect(cues.onScreen()?.cue.id).toBe(extract.id);
    const contact = cue('contact');
    cues.receive(contact);
    expect(cues.onScreen()?.cue.id).toBe(contact.id);
  });

  it('answers with the frame the cue was drawn in and the time of the tap, and remembers an acked route', async () => {
    const t = tablet();
    const alt = cue('alt-route', { params: { routeId: 'river' } });
    t.cues.receive(alt);
    t.draw();
    await Promise.resolve();
    t.advance(700);
    const given = t.cues.answer(alt.id, 'ack');
    expect(given?.payload).toEqual({ triggerId: alt.id, response: 'ack', shownAt: FRAME_AT, respondedAt: 1_700 });
    expect(given?.note).toEqual({ label: 'ALT-ROUTE', issuedAt: alt.issuedAt });
    expect(t.cues.memory.routeId).toBe('river');
    const unable = cue('hold');
    t.cues.receive(unable);
    expect(t.cues.answer(unable.id, 'unable', 'blocked')?.payload).toMatchObject({ response: 'unable', reason: 'blocked' });
  });

  it('keeps the open cues and the highest seq across a reload, for the handshake', async () => {
    const t = tablet();
    expect(t.cues.lastSeq).toBeUndefined();
    const go = cue('go');
    const hold = cue('hold');
    t.cues.receive(hold);
    t.cues.receive(go);
    t.draw();
    await Promise.resolve();
    const reloaded = tablet(t.stored());
    expect(reloaded.cues.lastSeq).toBe(hold.seq);
    expect(hold.seq).toBeGreaterThan(go.seq);
    expect(reloaded.cues.held.map((c) => c.cue.id).sort()).toEqual([go.id, hold.id].sort());
    await expect(reloaded.cues.receive(hold).shown).resolves.toBe(FRAME_AT);
  });

  it('lists only the three most recent missed cues', () => {
    const { cues } = tablet();
    const expired = [cue('go'), cue('hold'), cue('pickup'), cue('drop-off')].map((c) => ({ ...c, expired: true }));
    for (const c of expired) cues.receive(c);
    expect(cues.missed.map((m) => m.id)).toEqual(expired.slice(1).map((c) => c.id));
  });
});
