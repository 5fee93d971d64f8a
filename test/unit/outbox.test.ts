import { Outbox, type OutboxEntry, type OutboxEvent, type Settled } from '@lockstep/client/outbox';
import type { ErrorCode, TriggerIssueInput, TriggerRespond } from '@lockstep/shared';
import { describe, expect, it } from 'vitest';

/** The outbox against a link the test drives: it decides when the link is up and what the server answers. */

type ConnectionState = 'connecting' | 'online' | 'offline' | 'unauthorized';

interface Sent {
  event: string;
  payload: unknown;
  answer(reply: { ok: true; [key: string]: unknown } | { ok: false; error: { code: ErrorCode; message: string } }): void;
  lose(): void;
}

function link(initial: ConnectionState = 'offline') {
  const listeners: ((state: ConnectionState) => void)[] = [];
  const sent: Sent[] = [];
  const connection = {
    state: initial,
    onState(listener: (state: ConnectionState) => void) {
      listeners.push(listener);
      listener(connection.state);
    },
    request(event: string, payload: unknown) {
      return new Promise((resolve, reject) => sent.push({ event, payload, answer: resolve, lose: () => reject(new Error('timeout')) }));
    },
    goes(state: ConnectionState) {
      connection.state = state;
      for (const listener of listeners) listener(state);
    },
  };
  return { connection, sent };
}

/** Lets the replies just given run through the outbox. */
const replies = () => new Promise<void>((resolve) => setImmediate(resolve));

function outbox<E extends OutboxEvent>(
  event: E,
  connection: ReturnType<typeof link>['connection'],
  extra: { stored?: OutboxEntry<E, string>[]; staleMs?: number; now?: () => number } = {},
) {
  let stored = extra.stored;
  const settled: Settled<E, string>[] = [];
  const box = new Outbox<E, string>({
    event,
    // The fake speaks every event; the outbox asks only for the one it was given.
    connection: connection as never,
    shelf: {
      load: () => stored,
      save: (entries) => {
        stored = entries;
      },
    },
    idOf: (payload) =>
      'triggerId' in payload
        ? payload.triggerId
        : 'id' in payload
          ? payload.id
          : 'leg' in payload
            ? payload.leg
            : `plan-v${payload.version}`,
    ...(extra.staleMs === undefined ? {} : { staleMs: () => extra.staleMs ?? 0 }),
    ...(extra.now ? { now: extra.now } : {}),
    settled: (s) => settled.push(s),
  });
  return { box, settled, stored: () => stored };
}

const answer = (triggerId: string): TriggerRespond => ({ triggerId, response: 'ack', respondedAt: 1_000 });
const issue = (id: string): TriggerIssueInput => ({ id, type: 'hold', target: { convoy: true } });

describe('outbox', () => {
  it('sends answers queued while offline once each when the link returns, however often it is flushed', async () => {
    const { connection, sent } = link('offline');
    const { box, settled, stored } = outbox('trigger:respond', connection);
    box.send(answer('a'), 'HOLD');
    box.send(answer('b'), 'GO');
    expect(sent).toHaveLength(0);
    expect(stored()).toHaveLength(2);
    connection.goes('online');
    box.flush();
    connection.goes('online');
    expect(sent.map((s) => [s.event, (s.payload as TriggerRespond).triggerId])).toEqual([
      ['trigger:respond', 'a'],
      ['trigger:respond', 'b'],
    ]);
    for (const s of sent) s.answer({ ok: true });
    await replies();
    box.flush();
    expect(sent).toHaveLength(2);
    expect(settled.map((s) => [s.outcome, s.entry.note])).toEqual([
      ['accepted', 'HOLD'],
      ['accepted', 'GO'],
    ]);
    expect(box.entries).toHaveLength(0);
    expect(stored()).toEqual([]);
  });

  it('sends again with the same id what was lost in transit or refused for "not now"', async () => {
    const { connection, sent } = link('online');
    const { box, settled } = outbox('trigger:issue', connection);
    box.send(issue('i1'), 'HOLD');
    sent[0]?.lose();
    await replies();
    box.flush();
    sent[1]?.answer({ ok: false, error: { code: 'rate_limited', message: 'slow down' } });
    await replies();
    box.flush();
    expect(sent.map((s) => (s.payload as TriggerIssueInput).id)).toEqual(['i1', 'i1', 'i1']);
    expect(box.entries[0]?.attempts).toBe(3);
    expect(settled).toEqual([]);
  });

  it('gives up on a refusal a retry cannot change and reports its code', async () => {
    const { connection, sent } = link('online');
    const { box, settled } = outbox('trigger:respond', connection);
    box.send(answer('late'), 'EXTRACT');
    sent[0]?.answer({ ok: false, error: { code: 'expired', message: 'too late' } });
    await replies();
    box.flush();
    expect(sent).toHaveLength(1);
    expect(settled).toMatchObject([{ outcome: 'refused', code: 'expired', entry: { note: 'EXTRACT' } }]);
  });

  it('drops a tap that could not be sent while it still meant something, and never sends it late', () => {
    let now = 10_000;
    const { connection, sent } = link('offline');
    const { box, settled } = outbox('trigger:issue', connection, { staleMs: 5_000, now: () => now });
    box.send(issue('i1'), 'HOLD');
    now += 5_001;
    connection.goes('online');
    expect(sent).toHaveLength(0);
    expect(settled).toMatchObject([{ outcome: 'too-late', entry: { payload: { id: 'i1' } } }]);
  });

  it('sends after a reload what the previous page left unsent', () => {
    const { connection, sent } = link('offline');
    const stored: OutboxEntry<'trigger:respond', string>[] = [{ payload: answer('a'), note: 'HOLD', queuedAt: 1, attempts: 1 }];
    outbox('trigger:respond', connection, { stored });
    connection.goes('online');
    expect(sent.map((s) => (s.payload as TriggerRespond).triggerId)).toEqual(['a']);
  });
});
