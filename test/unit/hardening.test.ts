import { randomBytes } from 'node:crypto';
import {
  MEMBER_LIMIT,
  MemberSockets,
  SNAPSHOT_COST,
  SOCKET_LIMIT,
  SharedReads,
  estimatedBits,
  fullBucket,
  loadConfig,
  loggablePath,
  takeFromAll,
} from '@lockstep/server';
import { describe, expect, it } from 'vitest';

describe("a member's budget across its sockets", () => {
  it('weighs a snapshot, and an event refused by one limit spends neither', () => {
    const member = fullBucket(0, MEMBER_LIMIT);
    const sockets = [fullBucket(0), fullBucket(0)];
    const snapshot = (socket: number, now = 0) =>
      takeFromAll(
        [
          { bucket: sockets[socket]!, limit: SOCKET_LIMIT, cost: 1 },
          { bucket: member, limit: MEMBER_LIMIT, cost: SNAPSHOT_COST },
        ],
        now,
      );
    const admitted = Array.from({ length: 40 }, (_, i) => snapshot(i % 2)).filter(Boolean).length;
    expect(admitted).toBe(MEMBER_LIMIT.burst / SNAPSHOT_COST);
    // Each socket spent only what the member admitted: one token per admitted snapshot.
    expect(sockets.map((s) => s.tokens)).toEqual([SOCKET_LIMIT.burst - admitted / 2, SOCKET_LIMIT.burst - admitted / 2]);
    // A quarter of a second refills 10 units: two more snapshots.
    expect([snapshot(0, 250), snapshot(1, 250), snapshot(0, 250)]).toEqual([true, true, false]);
  });
});

describe('sockets per member', () => {
  it('evicts the oldest beyond the cap, and keeps the budget across a reconnect', () => {
    const members = new MemberSockets<string>(2);
    expect(members.add('m', 'a', 0)).toEqual([]);
    expect(members.add('m', 'b', 0)).toEqual([]);
    expect(members.add('m', 'c', 0)).toEqual(['a']);
    members.bucketOf('m', 0).tokens = 0;
    for (const socket of ['b', 'c']) members.remove('m', socket);
    members.add('m', 'd', 0);
    expect(members.bucketOf('m', 0).tokens).toBe(0);
  });
});

describe('shared snapshot reads', () => {
  const clock = { now: () => 0, monotonic: () => time };
  let time = 0;

  it('shares one read within the window with sockets that joined before it began, and reads again after', async () => {
    const shared = new SharedReads<number>(clock, 250);
    let reads = 0;
    const read = async () => ++reads;
    time = 1000;
    expect(await Promise.all([shared.get('m|watch', 900, read), shared.get('m|watch', 900, read)])).toEqual([1, 1]);
    time = 1200;
    expect(await shared.get('m|watch', 900, read)).toBe(1);
    // A socket that joined after the read began could have missed a change made in between: it reads afresh.
    expect(await shared.get('m|watch', 1100, read)).toBe(2);
    expect(await shared.get('m|public', 900, read)).toBe(3);
    time = 1500;
    expect(await shared.get('m|watch', 900, read)).toBe(4);
  });
});

describe('admin token strength (≥ 128 bits)', () => {
  it('accepts random tokens of 128 bits and more, and refuses the weak however long', () => {
    expect(estimatedBits(randomBytes(32).toString('hex'))).toBeGreaterThanOrEqual(128);
    expect(estimatedBits(randomBytes(32).toString('base64url'))).toBeGreaterThanOrEqual(128);
    for (const weak of ['aaaaaaaaaaaaaaaa', 'a'.repeat(200), 'abcd'.repeat(40), '0123456789abcdef'.repeat(4), 'hunter2hunter2']) {
      expect(estimatedBits(weak)).toBeLessThan(128);
    }
  });

  it('stops the start with a message that says how to make one', () => {
    const loaded = loadConfig({ LOCKSTEP_ADMIN_TOKEN: 'aaaaaaaaaaaaaaaa' });
    expect(loaded.ok ? [] : loaded.problems).toEqual([
      'LOCKSTEP_ADMIN_TOKEN: is too weak: about 4 bits of randomness, at least 128 needed; make one with `openssl rand -hex 32`',
    ]);
    expect(loadConfig({ LOCKSTEP_ADMIN_TOKEN: randomBytes(32).toString('hex') }).ok).toBe(true);
  });
});

describe('public origin', () => {
  it('comes from LOCKSTEP_PUBLIC_URL as an origin, and refuses anything but an http(s) URL', () => {
    const loaded = loadConfig({ LOCKSTEP_PUBLIC_URL: 'https://lockstep.example/ops/' });
    expect(loaded.ok && loaded.config.publicOrigin).toBe('https://lockstep.example');
    expect(loadConfig({ LOCKSTEP_PUBLIC_URL: 'lockstep.example' }).ok).toBe(false);
    expect(loadConfig({}).ok && loadConfig({}).ok).toBe(true);
  });
});

describe('request lines', () => {
  it('keep the path only', () => {
    expect(loggablePath('/driver?%74oken=secret')).toBe('/driver');
    expect(loggablePath('/api/missions/x#frag')).toBe('/api/missions/x');
  });
});
