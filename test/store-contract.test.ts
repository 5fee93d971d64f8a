import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JournaledStore,
  type JournalEntry,
  MemoryStore,
  OutageJournal,
  RedisStore,
  connectRedis,
  type Store,
  type TriggerRecord,
} from '@lockstep/server';
import type { Alert, LogKind, Mission, Person } from '@lockstep/shared';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { missionRecord } from './support/mission-record.ts';
import { freePort } from './support/redis-server.ts';

/**
 * A store in an outage serves only some calls, and its log is its journal until Redis is back:
 * what it knew before the outage is seeded into its mirror, and its log lines are read there.
 */
interface Outage {
  /** Resolves once the store knows Redis is away. */
  down: Promise<void>;
  mirror: MemoryStore;
  journal: OutageJournal;
}

const missionOf = (entry: JournalEntry) =>
  'trigger' in entry ? entry.trigger.missionId : 'alert' in entry ? entry.alert.missionId : 'missionId' in entry ? entry.missionId : '';

/** One behavioural contract; every Store implementation must pass all of it (in an outage, all it serves then). */
function storeContract(name: string, open: () => { store: Store; outage?: Outage }) {
  describe(`store contract: ${name}`, () => {
    const { store, outage } = open();
    beforeAll(() => outage?.down);
    afterAll(() => store.close());
    /** What an outage store refuses until Redis is back: there, the same calls must be refused, not half-applied. */
    const notServedInOutage = (title: string, body: () => Promise<void>) =>
      outage
        ? it(`refuses while Redis is away: ${title}`, async () => {
            await expect(body()).rejects.toThrow(/the store is unreachable/);
          })
        : it(title, body);

    /** A mission the store holds: created, or in an outage, read before it began. */
    const given = (m: Mission) => (outage ? outage.mirror.createMission(m, []) : store.createMission(m, []));
    const logKinds = async (missionId: string): Promise<LogKind[]> => {
      if (!outage) return (await store.readLog(missionId)).map((e) => e.kind);
      const logged = outage.journal.entries.filter((e) => missionOf(e) === missionId).flatMap((e) => ('log' in e ? [e.log].flat() : []));
      return logged.map((draft) => draft.kind);
    };

    const socketA = { id: 'socket-a', onlyIfOwner: false };
    const ownSocketA = { id: 'socket-a', onlyIfOwner: true };

    const mission = () => missionRecord('planning');

    const trigger = (missionId: string, recipients: string[]): TriggerRecord => ({
      id: randomUUID(),
      missionId,
      type: 'hold',
      label: 'HOLD',
      params: {},
      target: { convoy: true },
      issuedBy: { memberId: 'lead', callsign: 'LEAD' },
      issuedAt: 10,
      staleAt: 30_010,
      thresholdMs: 2000,
      fingerprint: 'fp',
      recipients: recipients.map((memberId) => ({
        memberId,
        callsign: memberId,
        vehicleId: 'v1',
        state: 'pending',
        hesitation: false,
        seq: 0,
      })),
    });

    notServedInOutage('keeps a mission and writes each change together with its log lines, in order', async () => {
      const m = mission();
      await store.createMission(m, [{ at: 1, kind: 'mission.created', data: {} }]);
      expect(await store.getMission(m.id)).toEqual(m);
      const started = await store.changeMission(m.id, (current) => ({
        ok: true,
        value: { next: { ...current, status: 'active' }, log: [{ at: 2, kind: 'mission.started', data: { force: true } }] },
      }));
      expect(started.ok && started.value.status).toBe('active');
      expect((await store.getMission(m.id))?.status).toBe('active');
      const log = await store.readLog(m.id);
      expect(log.map((e) => [e.seq, e.kind])).toEqual([
        [1, 'mission.created'],
        [2, 'mission.started'],
      ]);
    });

    notServedInOutage('changes nothing when the change refuses, and answers not_found for a missing record', async () => {
      const m = mission();
      await given(m);
      const refused = await store.changeMission(m.id, () => ({ ok: false, refusal: { code: 'conflict', message: 'no' } }));
      expect(!refused.ok && refused.refusal.code).toBe('conflict');
      expect(await store.getMission(m.id)).toEqual(m);
      expect(await store.readLog(m.id)).toEqual([]);
      const missing = await store.changeMission(randomUUID(), (current) => ({ ok: true, value: { next: current, log: [] } }));
      expect(!missing.ok && missing.refusal.code).toBe('not_found');
    });

    notServedInOutage(
      'applies concurrent changes to one record without losing any, a twenty-car convoy acking at once and more',
      async () => {
        const m = mission();
        await given(m);
        const changed = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            store.changeMission(m.id, (current) => ({
              ok: true,
              value: {
                next: { ...current, planAcks: { ...current.planAcks, [`member-${i}`]: 1 } },
                log: [{ at: 3, kind: 'plan.acked', data: { i } }],
              },
            })),
          ),
        );
        expect(changed.filter((c) => !c.ok)).toEqual([]);
        expect(Object.keys((await store.getMission(m.id))?.planAcks ?? {})).toHaveLength(30);
        expect(await store.readLog(m.id)).toHaveLength(30);
      },
    );

    notServedInOutage(
      'starts a mission cue load empty and counts every cue of concurrent changes, with the deadlines they set',
      async () => {
        const m = mission();
        await given(m);
        const count = (i: number) =>
          store.changeCueLoad(m.id, (load) => {
            const v1 = load.vehicles.v1 ?? { cues: [] };
            const next = { ...load, vehicles: { ...load.vehicles, v1: { cues: [...v1.cues, { triggerId: `t${i}`, at: i }] } } };
            return { ok: true, value: { next, log: [], deadlines: { schedule: [{ key: `cue-load-${m.id}-${i}`, at: 0 }] } } };
          });
        await Promise.all(Array.from({ length: 8 }, (_, i) => count(i)));
        const kept = await store.changeCueLoad(m.id, (load) => ({ ok: true, value: { next: load, log: [] } }));
        expect(kept.ok && kept.value.missionId).toBe(m.id);
        expect(kept.ok && kept.value.vehicles.v1?.cues.map((c) => c.triggerId).sort()).toEqual(
          Array.from({ length: 8 }, (_, i) => `t${i}`),
        );
        const due = await store.claimDeadlines(1, 1000, 1000);
        expect(due.filter((key) => key.startsWith(`cue-load-${m.id}`))).toHaveLength(8);
        for (const key of due) await store.completeDeadline(key);
      },
    );

    notServedInOutage('keeps people apart from missions: create, read, change by compare-and-set, list in creation order', async () => {
      const first: Person = { personId: randomUUID(), name: 'Ann', callsign: 'ANN', roles: ['driver'], standby: true };
      const second: Person = { personId: randomUUID(), name: 'Ben', callsign: 'BEN', roles: ['cpo', 'driver'], standby: false, notes: 'n' };
      await store.createPerson(first);
      await store.createPerson(second);
      expect(await store.getPerson(first.personId)).toEqual(first);
      expect(await store.getPerson(randomUUID())).toBeUndefined();
      const listed = (await store.listPeople()).filter((p) => p.personId === first.personId || p.personId === second.personId);
      expect(listed).toEqual([first, second]);

      await Promise.all(
        ['a', 'b', 'c'].map((note) =>
          store.changePerson(first.personId, (current) => ({ ok: true, value: { ...current, notes: `${current.notes ?? ''}${note}` } })),
        ),
      );
      expect([...((await store.getPerson(first.personId))?.notes ?? '')].sort()).toEqual(['a', 'b', 'c']);
      const refused = await store.changePerson(first.personId, () => ({ ok: false, refusal: { code: 'conflict', message: 'no' } }));
      expect(!refused.ok && refused.refusal.code).toBe('conflict');
      const missing = await store.changePerson(randomUUID(), (current) => ({ ok: true, value: current }));
      expect(!missing.ok && missing.refusal.code).toBe('not_found');
    });

    notServedInOutage("notes a person's missions once each, in the order noted", async () => {
      const personId = randomUUID();
      expect(await store.personMissions(personId)).toEqual([]);
      await store.notePersonInMission(personId, 'm1');
      await store.notePersonInMission(personId, 'm2');
      await store.notePersonInMission(personId, 'm1');
      expect(await store.personMissions(personId)).toEqual(['m1', 'm2']);
    });

    notServedInOutage('lists missions newest first, filtered by status before the limit', async () => {
      const ids: string[] = [];
      for (const status of ['ended', 'active', 'ended', 'planning'] as const) {
        const m = { ...mission(), status };
        await store.createMission(m, []);
        ids.push(m.id);
      }
      const newest = await store.listMissions({ limit: 3 });
      expect(newest.map((m) => m.id)).toEqual([ids[3], ids[2], ids[1]]);
      const ended = (await store.listMissions({ status: 'ended', limit: 1000 })).map((m) => m.id);
      expect(ended.filter((id) => ids.includes(id))).toEqual([ids[2], ids[0]]);
      expect(await store.listMissions({ status: 'ended', limit: 1 })).toHaveLength(1);
    });

    notServedInOutage(
      'hands a cue over: an added recipient gets its next cue seq and is replayed by it, with the log and deadlines',
      async () => {
        const m = mission();
        await store.createMission(m, []);
        const [oldDriver, newDriver] = [randomUUID(), randomUUID()];
        const earlier = await store.issueTrigger(trigger(m.id, [newDriver]), { at: 10, kind: 'trigger.issued', data: {} }, []);
        const { trigger: open } = await store.issueTrigger(trigger(m.id, [oldDriver]), { at: 11, kind: 'trigger.issued', data: {} }, []);
        const key = `undelivered|${open.id}|${newDriver}`;
        const handed = await store.handOverCue(open.id, (t) => ({
          ok: true,
          value: {
            next: {
              ...t,
              recipients: [
                ...t.recipients.map((r) => ({ ...r, state: 'replaced' as const })),
                { memberId: newDriver, callsign: 'NEW', vehicleId: 'v1', state: 'pending', hesitation: false, seq: 0 },
              ],
            },
            log: [{ at: 12, kind: 'member.replaced', memberId: oldDriver, data: {} }],
            deadlines: { schedule: [{ key, at: 100 }] },
          },
        }));
        expect(handed.ok && handed.value.recipients.map((r) => [r.memberId, r.state, r.seq])).toEqual([
          [oldDriver, 'replaced', 1],
          [newDriver, 'pending', 2],
        ]);
        expect(await store.getTrigger(open.id)).toEqual(handed.ok && handed.value);
        expect((await store.cuesAfter(newDriver, 0)).map((t) => t.id)).toEqual([earlier.trigger.id, open.id]);
        expect((await store.cuesAfter(newDriver, 1)).map((t) => t.id)).toEqual([open.id]);
        expect((await store.missionTriggers(m.id)).map((t) => t.id)).toEqual([earlier.trigger.id, open.id]);
        expect((await store.readLog(m.id)).map((e) => e.kind)).toEqual(['trigger.issued', 'trigger.issued', 'member.replaced']);
        expect(await store.claimDeadlines(100, 100, 1000)).toContain(key);
        await store.completeDeadline(key);
        const refused = await store.handOverCue(open.id, () => ({ ok: false, refusal: { code: 'conflict', message: 'no' } }));
        expect(!refused.ok && refused.refusal.code).toBe('conflict');
        expect((await store.handOverCue(randomUUID(), (t) => ({ ok: true, value: { next: t, log: [] } }))).ok).toBe(false);
      },
    );

    notServedInOutage('finds a credential by its hash and forgets it on revocation', async () => {
      const memberId = randomUUID();
      await store.saveCredential(`hash-${memberId}`, { missionId: 'm', memberId });
      expect(await store.findCredential(`hash-${memberId}`)).toEqual({ missionId: 'm', memberId });
      await store.revokeCredential(memberId);
      expect(await store.findCredential(`hash-${memberId}`)).toBeUndefined();
    });

    it('gives each recipient its next cue seq, dedupes by id, and replays by seq', async () => {
      const m = mission();
      await given(m);
      const [d1, d2] = [randomUUID(), randomUUID()];
      const first = await store.issueTrigger(trigger(m.id, [d1]), { at: 10, kind: 'trigger.issued', data: {} }, []);
      const second = await store.issueTrigger(trigger(m.id, [d1, d2]), { at: 11, kind: 'trigger.issued', data: {} }, []);
      expect(first.created && second.created).toBe(true);
      expect(first.trigger.recipients.map((r) => r.seq)).toEqual([1]);
      expect(second.trigger.recipients.map((r) => r.seq)).toEqual([2, 1]);

      const retry = await store.issueTrigger({ ...first.trigger, label: 'changed' }, { at: 12, kind: 'trigger.issued', data: {} }, []);
      expect(retry.created).toBe(false);
      expect(retry.trigger).toEqual(first.trigger);

      expect((await store.cuesAfter(d1, 0)).map((t) => t.id)).toEqual([first.trigger.id, second.trigger.id]);
      expect((await store.cuesAfter(d1, 1)).map((t) => t.id)).toEqual([second.trigger.id]);
      expect(await store.cuesAfter(d1, 2)).toEqual([]);
      expect((await store.recentTriggers(m.id, 1)).map((t) => t.id)).toEqual([second.trigger.id]);
      expect(await logKinds(m.id)).toEqual(['trigger.issued', 'trigger.issued']);
    });

    it('keeps a cue seq already given (a journaled trigger) and counts on from the highest', async () => {
      const m = mission();
      await given(m);
      const d1 = randomUUID();
      const journaled = trigger(m.id, [d1]);
      journaled.recipients[0]!.seq = 7;
      expect((await store.issueTrigger(journaled, { at: 10, kind: 'trigger.issued', data: {} }, [])).trigger.recipients[0]?.seq).toBe(7);
      const next = await store.issueTrigger(trigger(m.id, [d1]), { at: 11, kind: 'trigger.issued', data: {} }, []);
      expect(next.trigger.recipients[0]?.seq).toBe(8);
      expect((await store.cuesAfter(d1, 6)).map((t) => t.id)).toEqual([journaled.id, next.trigger.id]);
    });

    it('keeps cue seqs through later changes of the trigger', async () => {
      const m = mission();
      await given(m);
      const d1 = randomUUID();
      const { trigger: issued } = await store.issueTrigger(trigger(m.id, [d1]), { at: 10, kind: 'trigger.issued', data: {} }, []);
      const changed = await store.changeTrigger(issued.id, (t) => ({
        ok: true,
        value: {
          next: { ...t, recipients: t.recipients.map((r) => ({ ...r, state: 'delivered' as const, deliveredAt: 20 })) },
          log: [{ at: 20, kind: 'trigger.receipt', triggerId: t.id, data: {} }],
        },
      }));
      expect(changed.ok).toBe(true);
      expect((await store.getTrigger(issued.id))?.recipients[0]).toMatchObject({ state: 'delivered', deliveredAt: 20, seq: 1 });
    });

    it('raises an alert once, and resolves it', async () => {
      const m = mission();
      await given(m);
      const alert: Alert = { id: `hesitation:${randomUUID()}:d1`, kind: 'hesitation', missionId: m.id, memberId: 'd1', at: 5 };
      expect(await store.raiseAlert(alert, { at: 5, kind: 'alert.raised', data: {} })).toBe(true);
      expect(await store.raiseAlert({ ...alert, at: 6 }, { at: 6, kind: 'alert.raised', data: {} })).toBe(false);
      expect(await store.missionAlerts(m.id)).toEqual([alert]);
      const resolved = await store.changeAlert(alert.id, (a) => ({
        ok: true,
        value: { next: { ...a, resolvedAt: 9, resolvedBy: 'ops' }, log: [{ at: 9, kind: 'alert.resolved', data: {} }] },
      }));
      expect(resolved.ok && resolved.value.resolvedAt).toBe(9);
      expect(await logKinds(m.id)).toEqual(['alert.raised', 'alert.resolved']);
    });

    notServedInOutage('posts an observation once by id', async () => {
      const m = mission();
      await given(m);
      const observation = {
        id: randomUUID(),
        category: 'vehicle' as const,
        severity: 'threat' as const,
        memberId: 'a',
        callsign: 'ADV',
        at: 5,
        missionId: m.id,
        fingerprint: 'x',
      };
      expect((await store.postObservation(observation, { at: 5, kind: 'observation', data: {} })).created).toBe(true);
      const again = await store.postObservation({ ...observation, fingerprint: 'y' }, { at: 6, kind: 'observation', data: {} });
      expect(again).toEqual({ created: false, observation });
      expect(await store.recentObservations(m.id, 10)).toEqual([observation]);
      expect(await store.readLog(m.id)).toHaveLength(1);
    });

    it('keeps the latest presence per member, with its RTT figures and clock offset', async () => {
      const m = mission();
      await given(m);
      const memberId = randomUUID();
      const presence = {
        memberId,
        callsign: 'DRV',
        role: 'driver' as const,
        state: 'online' as const,
        rttMs: 25,
        rttP95Ms: 31,
        clockOffsetMs: -420,
        lastSeenAt: 7,
      };
      expect(
        await store.savePresences([
          { missionId: m.id, presence, log: [{ at: 7, kind: 'presence', memberId, data: { state: 'online' } }], device: socketA },
        ]),
      ).toEqual([true]);
      expect(
        await store.savePresences([{ missionId: m.id, presence: { ...presence, state: 'stale' }, log: [], device: ownSocketA }]),
      ).toEqual([true]);
      expect(await store.missionPresence(m.id)).toEqual([{ ...presence, state: 'stale' }]);
      expect(await store.getPresence(m.id, memberId)).toEqual({ ...presence, state: 'stale' });
      expect(await logKinds(m.id)).toHaveLength(1);
    });

    it('does not let a device that no longer speaks for a member mark it offline', async () => {
      const m = mission();
      await given(m);
      const memberId = randomUUID();
      const online = { memberId, callsign: 'DRV', role: 'driver' as const, state: 'online' as const, lastSeenAt: 7 };
      await store.savePresences([{ missionId: m.id, presence: online, log: [], device: { id: 'old-socket', onlyIfOwner: false } }]);
      // The tablet reconnected to another node before this node noticed the old socket die.
      await store.savePresences([
        { missionId: m.id, presence: { ...online, lastSeenAt: 8 }, log: [], device: { id: 'new-socket', onlyIfOwner: false } },
      ]);
      expect(
        await store.savePresences([
          {
            missionId: m.id,
            presence: { ...online, state: 'offline' },
            log: [{ at: 9, kind: 'presence', data: {} }],
            device: { id: 'old-socket', onlyIfOwner: true },
          },
        ]),
      ).toEqual([false]);
      expect(await store.getPresence(m.id, memberId)).toMatchObject({ state: 'online', lastSeenAt: 8 });
      expect(await logKinds(m.id)).toEqual([]);
    });

    it('saves a batch of presences across missions in one call, each entry judged on its own, logging only what it saved', async () => {
      const [first, second] = [mission(), mission()];
      await Promise.all([given(first), given(second)]);
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const seen = (memberId: string, state: 'online' | 'offline', lastSeenAt: number) => ({
        memberId,
        callsign: memberId.slice(0, 4),
        role: 'driver' as const,
        state,
        lastSeenAt,
      });
      await store.savePresences([
        { missionId: second.id, presence: seen(c, 'online', 1), log: [], device: { id: 'c-new', onlyIfOwner: false } },
      ]);
      const line = (memberId: string, at: number) => ({ at, kind: 'presence' as const, memberId, data: {} });
      const saved = await store.savePresences([
        { missionId: first.id, presence: seen(a, 'online', 2), log: [line(a, 2)], device: { id: 'a', onlyIfOwner: false } },
        { missionId: second.id, presence: seen(c, 'offline', 3), log: [line(c, 3)], device: { id: 'c-old', onlyIfOwner: true } },
        { missionId: first.id, presence: seen(b, 'online', 4), log: [line(b, 4), line(b, 5)], device: { id: 'b', onlyIfOwner: false } },
      ]);
      expect(saved).toEqual([true, false, true]);
      expect(new Set(await store.missionPresence(first.id))).toEqual(new Set([seen(a, 'online', 2), seen(b, 'online', 4)]));
      expect(await store.getPresence(second.id, c)).toEqual(seen(c, 'online', 1));
      expect(await logKinds(first.id)).toEqual(['presence', 'presence', 'presence']);
      expect(await logKinds(second.id)).toEqual([]);
    });

    it('reads a mission view: the recent triggers with their seqs, and for a watcher its alerts and presence', async () => {
      const m = mission();
      await given(m);
      const d1 = randomUUID();
      const issued = [];
      for (let i = 0; i < 3; i++)
        issued.push((await store.issueTrigger(trigger(m.id, [d1]), { at: 10, kind: 'trigger.issued', data: {} }, [])).trigger);
      const alert: Alert = { id: `offline:${d1}:1`, kind: 'offline', missionId: m.id, memberId: d1, at: 5 };
      await store.raiseAlert(alert, { at: 5, kind: 'alert.raised', data: {} });
      const presence = { memberId: d1, callsign: 'DRV', role: 'driver' as const, state: 'online' as const, lastSeenAt: 7 };
      await store.savePresences([{ missionId: m.id, presence, log: [], device: socketA }]);

      const watched = await store.missionView(m.id, { triggers: 2, observations: 5, alertsAndPresence: true });
      expect(watched).toEqual({ mission: m, triggers: issued.slice(1), alerts: [alert], presence: [presence], observations: [] });
      expect(watched?.triggers.map((t) => t.recipients[0]?.seq)).toEqual([2, 3]);
      expect(await store.missionView(m.id, { triggers: 0, observations: 5, alertsAndPresence: false })).toEqual({
        mission: m,
        triggers: [],
        alerts: [],
        presence: [],
        observations: [],
      });
    });

    notServedInOutage('reads a mission view with its recent observations, and none of a mission it does not hold', async () => {
      const m = mission();
      await given(m);
      const observations = [];
      for (let i = 0; i < 3; i++) {
        const observation = {
          id: randomUUID(),
          category: 'crowd' as const,
          severity: 'info' as const,
          memberId: 'a',
          callsign: 'ADV',
          at: i,
          missionId: m.id,
          fingerprint: String(i),
        };
        await store.postObservation(observation, { at: i, kind: 'observation', data: {} });
        observations.push(observation);
      }
      const view = await store.missionView(m.id, { triggers: 5, observations: 2, alertsAndPresence: false });
      expect(view?.observations).toEqual(observations.slice(1));
      expect(await store.missionView(randomUUID(), { triggers: 5, observations: 5, alertsAndPresence: true })).toBeUndefined();
    });

    it('leases due deadlines to one claimer at a time and gives an uncompleted one back after its lease', async () => {
      const key = (name: string) => `test|${randomUUID()}|${name}`;
      const [early, late, never] = [key('early'), key('late'), key('never')];
      await store.scheduleDeadline(late, 2000);
      await store.scheduleDeadline(early, 1000);
      await store.scheduleDeadline(never, 9_000_000_000_000);
      const claimed = (await store.claimDeadlines(2000, 500, 1000)).filter((k) => [early, late, never].includes(k));
      expect(claimed).toEqual([early, late]);
      expect((await store.claimDeadlines(2100, 500, 1000)).filter((k) => [early, late].includes(k))).toEqual([]);
      await store.completeDeadline(early);
      // The claimer of `late` died: after its lease another claimer gets it, once.
      expect((await store.claimDeadlines(2500, 500, 1000)).filter((k) => [early, late].includes(k))).toEqual([late]);
      await store.completeDeadline(late);
    });

    it('sets and clears deadlines in the same step as the write that makes them due', async () => {
      const m = mission();
      await given(m);
      const d1 = randomUUID();
      const issuedKey = `undelivered|${randomUUID()}|${d1}`;
      const { trigger: issued } = await store.issueTrigger(trigger(m.id, [d1]), { at: 10, kind: 'trigger.issued', data: {} }, [
        { key: issuedKey, at: 500 },
      ]);
      const hesitationKey = `hesitation|${issued.id}|${d1}`;
      await store.changeTrigger(issued.id, (t) => ({
        ok: true,
        value: {
          next: { ...t, thresholdMs: 1999 },
          log: [],
          deadlines: { schedule: [{ key: hesitationKey, at: 600 }], complete: [issuedKey] },
        },
      }));
      const due = await store.claimDeadlines(700, 100, 1000);
      expect(due).toContain(hesitationKey);
      expect(due).not.toContain(issuedKey);
      await store.completeDeadline(hesitationKey);
    });

    it('claims due deadlines earliest first, whatever the order they were set in', async () => {
      const key = (name: string) => `test|${randomUUID()}|${name}`;
      const [second, first, third] = [key('second'), key('first'), key('third')];
      // Due before anything else any test sets, so the limit is the whole story.
      await store.scheduleDeadline(second, -2);
      await store.scheduleDeadline(third, -1);
      await store.scheduleDeadline(first, -3);
      expect(await store.claimDeadlines(-1, 10, 2)).toEqual([first, second]);
      expect(await store.claimDeadlines(-1, 10, 2)).toEqual([third]);
      for (const k of [first, second, third]) await store.completeDeadline(k);
    });

    it('applies changes to one trigger made at once in order: each sees the one before, a refusal between them changes nothing', async () => {
      const m = mission();
      await given(m);
      const { trigger: issued } = await store.issueTrigger(trigger(m.id, ['d1']), { at: 10, kind: 'trigger.issued', data: {} }, []);
      const hesitation = `test|${randomUUID()}|hesitation`;
      const withState = (t: TriggerRecord, state: 'delivered' | 'answered') => ({
        ...t,
        recipients: t.recipients.map((r) => ({ ...r, state })),
      });
      // A receipt that sets a deadline, a change that refuses, and the answer that clears the deadline, sent together.
      const [receipt, refused, answer] = await Promise.all([
        store.changeTrigger(issued.id, (t) => ({
          ok: true,
          value: {
            next: withState(t, 'delivered'),
            log: [{ at: 11, kind: 'trigger.receipt', data: {} }],
            deadlines: { schedule: [{ key: hesitation, at: -5 }] },
          },
        })),
        store.changeTrigger(issued.id, () => ({ ok: false, refusal: { code: 'conflict', message: 'no' } })),
        store.changeTrigger(issued.id, (t) => {
          if (t.recipients[0]?.state !== 'delivered')
            return { ok: false, refusal: { code: 'conflict', message: 'answered before receipt' } };
          return {
            ok: true,
            value: {
              next: withState(t, 'answered'),
              log: [{ at: 12, kind: 'trigger.answered', data: {} }],
              deadlines: { complete: [hesitation] },
            },
          };
        }),
      ]);
      expect(receipt.ok && receipt.value.recipients[0]?.state).toBe('delivered');
      expect(!refused.ok && refused.refusal.code).toBe('conflict');
      expect(answer.ok && answer.value.recipients[0]?.state).toBe('answered');
      expect((await store.getTrigger(issued.id))?.recipients[0]?.state).toBe('answered');
      expect(await logKinds(m.id)).toEqual(['trigger.issued', 'trigger.receipt', 'trigger.answered']);
      expect(await store.claimDeadlines(-5, 10, 1000)).not.toContain(hesitation);
    });

    it('writes nothing for a change that keeps the record: no log line, no deadline', async () => {
      const m = mission();
      await given(m);
      const alert: Alert = { id: `offline:${randomUUID()}:d1`, kind: 'offline', missionId: m.id, memberId: 'd1', at: 5 };
      await store.raiseAlert(alert, { at: 5, kind: 'alert.raised', data: {} });
      const kept = await store.changeAlert(alert.id, (a) => ({
        ok: true,
        value: { next: a, log: [{ at: 6, kind: 'alert.resolved', data: {} }] },
      }));
      expect(kept.ok && kept.value).toEqual(alert);
      const { trigger: issued } = await store.issueTrigger(trigger(m.id, [randomUUID()]), { at: 10, kind: 'trigger.issued', data: {} }, []);
      const unwanted = `test|${randomUUID()}|unwanted`;
      await store.changeTrigger(issued.id, (t) => ({
        ok: true,
        value: { next: t, log: [{ at: 11, kind: 'trigger.receipt', data: {} }], deadlines: { schedule: [{ key: unwanted, at: -5 }] } },
      }));
      expect(await store.getTrigger(issued.id)).toEqual(issued);
      expect(await logKinds(m.id)).toEqual(['alert.raised', 'trigger.issued']);
      expect(await store.claimDeadlines(-5, 10, 1000)).not.toContain(unwanted);
    });
  });
}

const silent = pino({ level: 'silent' });
/** The clock of the journaled store only paces its sweep of old triggers: held still, it never sweeps the tests' records. */
const stillClock = { now: () => 0, monotonic: () => 0 };
const newJournal = () => new OutageJournal(join(mkdtempSync(join(tmpdir(), 'lockstep-contract-')), 'journal.jsonl'), 10_000);

function journaled(url: string, memory?: MemoryStore) {
  const redis = connectRedis(url, () => {});
  const journal = newJournal();
  const down = new Promise<void>((resolve) => redis.once('close', () => resolve()));
  const store = new JournaledStore({
    redis,
    store: new RedisStore(redis, `contract:${randomUUID()}:`),
    journal,
    clock: stillClock,
    logger: silent,
    onDepth: () => {},
    memory,
  });
  return { store, journal, down };
}

storeContract('memory', () => ({ store: new MemoryStore() }));
storeContract('redis', () => ({
  store: new RedisStore(
    connectRedis(inject('redisUrl'), () => {}),
    `contract:${randomUUID()}:`,
  ),
}));
storeContract('journaled, Redis up', () => ({ store: journaled(inject('redisUrl')).store }));
// Nothing listens on the port: the store learns at its first connection attempt that Redis is away.
const nobody = await freePort();
storeContract('journaled, Redis down', () => {
  const mirror = new MemoryStore({ keepLog: false });
  const { store, journal, down } = journaled(`redis://127.0.0.1:${nobody}`, mirror);
  return { store, outage: { down, mirror, journal } };
});

describe('two Redis stores on one key prefix (two nodes)', () => {
  const prefix = `contract:${randomUUID()}:`;
  const nodes = [0, 1].map(
    () =>
      new RedisStore(
        connectRedis(inject('redisUrl'), () => {}),
        prefix,
      ),
  );
  afterAll(() => Promise.all(nodes.map((node) => node.close())));

  it('loses no change when both nodes change one record at once, each with many writers of its own', async () => {
    const m = missionRecord('active');
    await nodes[0]!.createMission(m, []);
    const changed = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        nodes[i % 2]!.changeMission(m.id, (current) => ({
          ok: true,
          value: {
            next: { ...current, planAcks: { ...current.planAcks, [`member-${i}`]: 1 } },
            log: [{ at: 3, kind: 'plan.acked', data: { i } }],
          },
        })),
      ),
    );
    expect(changed.filter((c) => !c.ok)).toEqual([]);
    expect(Object.keys((await nodes[1]!.getMission(m.id))?.planAcks ?? {})).toHaveLength(40);
    expect(await nodes[0]!.readLog(m.id)).toHaveLength(40);
  });

  /** A change that acks the plan for `member`, with a log line; `onlyAfter`: only once that member has acked. */
  const ack =
    (member: string, onlyAfter?: string): Parameters<Store['changeMission']>[1] =>
    (current) =>
      onlyAfter !== undefined && current.planAcks[onlyAfter] === undefined
        ? { ok: true, value: { next: current, log: [] } }
        : { ok: true, value: { next: { ...current, planAcks: { ...current.planAcks, [member]: 1 } }, log: [] } };

  it('changes the newest record from a node whose own last write the other node has overtaken', async () => {
    const m = missionRecord('active');
    await nodes[0]!.createMission(m, []);
    await nodes[0]!.changeMission(m.id, ack('first'));
    await nodes[1]!.changeMission(m.id, ack('second'));
    const third = await nodes[0]!.changeMission(m.id, ack('third'));
    expect(third.ok && Object.keys(third.value.planAcks).sort()).toEqual(['first', 'second', 'third']);
  });

  it('judges a change on the newest record where this node’s older copy would leave it unchanged', async () => {
    const m = missionRecord('active');
    await nodes[0]!.createMission(m, []);
    await nodes[0]!.changeMission(m.id, ack('first'));
    await nodes[1]!.changeMission(m.id, ack('second'));
    const third = await nodes[0]!.changeMission(m.id, ack('third', 'second'));
    expect(third.ok && Object.keys(third.value.planAcks).sort()).toEqual(['first', 'second', 'third']);
  });
});
