import type { TriggerCue } from '@lockstep/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  STANDARD_MEMBERS,
  closeAllSockets,
  collect,
  connect,
  createMission,
  deviceNow,
  newId,
  nextEvent,
  request,
  requestOk,
  useHub,
  type Client,
} from './support/hub.ts';

const hub = useHub();
afterEach(() => closeAllSockets());

/** A driver tablet that draws every cue at once and sends the receipt, as the real one does. */
function tablet(socket: Client) {
  const cues: TriggerCue[] = [];
  const shownAt = new Map<string, number>();
  socket.on('trigger', (cue, receipt) => {
    cues.push(cue);
    const at = deviceNow();
    shownAt.set(cue.id, at);
    receipt({ shownAt: at });
  });
  return { cues, shownAt };
}

async function detail(settings?: Parameters<typeof createMission>[1]['settings']) {
  const mission = await createMission(hub, { members: STANDARD_MEMBERS, ...(settings ? { settings } : {}) });
  const token = (callsign: string) => mission.members[callsign]!.token;
  return { mission, token, memberId: (callsign: string) => mission.members[callsign]!.memberId };
}

describe('relay (docs/PROTOCOL.md §5)', () => {
  it('relays a cue to one vehicle only, and measures the gap on the device clock', async () => {
    const { token } = await detail();
    const lead = await connect(hub, token('LEAD'));
    const driver1 = await connect(hub, token('DRV-1'));
    const driver2 = await connect(hub, token('DRV-2'));
    const seenByDriver2 = collect(driver2, 'trigger');
    const screen = tablet(driver1);
    const id = newId();
    const delivered = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.status === 'delivered');

    const issued = await requestOk(lead, 'trigger:issue', { id, type: 'box-in', target: { vehicleIds: ['v1'] } });
    expect(issued).toMatchObject({ ok: true, trigger: { id, status: 'pending', recipients: [{ callsign: 'DRV-1', state: 'pending' }] } });
    const [state] = await delivered;
    expect(state.recipients[0]?.deliveredAt).toBeGreaterThanOrEqual(issued.trigger.issuedAt);
    expect(screen.cues).toMatchObject([
      { id, seq: 1, type: 'box-in', label: 'BOX-IN — OPEN GAP', vehicleId: 'v1', expired: false, issuedBy: { callsign: 'LEAD' } },
    ]);

    const reply = await requestOk(driver1, 'trigger:respond', {
      triggerId: id,
      response: 'ack',
      shownAt: screen.shownAt.get(id),
      respondedAt: deviceNow(),
    });
    expect(reply).toMatchObject({ ok: true, gapSource: 'device', hesitation: false });
    expect(reply.gapMs).toBeLessThan(500);
    expect(seenByDriver2).toEqual([]);
  });

  it('relays a convoy cue to every driver and closes it when all have answered', async () => {
    const { token } = await detail();
    const lead = await connect(hub, token('LEAD'));
    const drivers = [await connect(hub, token('DRV-1')), await connect(hub, token('DRV-2'))];
    const cues = drivers.map((d) => nextEvent(d, 'trigger'));
    const id = newId();
    await request(lead, 'trigger:issue', { id, type: 'extract', target: { convoy: true } });
    const received = await Promise.all(cues);
    expect(received.map(([cue]) => cue.vehicleId)).toEqual(['v1', 'v2']);
    for (const [, receipt] of received) receipt({ shownAt: deviceNow() });
    const answered = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.status === 'answered');
    for (const driver of drivers) await request(driver, 'trigger:respond', { triggerId: id, response: 'ack', respondedAt: deviceNow() });
    const [state] = await answered;
    expect(state.recipients.map((r) => r.state)).toEqual(['answered', 'answered']);
  });

  it('falls back to the server clock when the device times are missing or absurd', async () => {
    const { token } = await detail();
    const lead = await connect(hub, token('LEAD'));
    const driver = await connect(hub, token('DRV-1'));
    const fire = async () => {
      const id = newId();
      const cue = nextEvent(driver, 'trigger');
      await request(lead, 'trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v1'] } });
      const [, receipt] = await cue;
      const delivered = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.status === 'delivered');
      receipt({});
      await delivered;
      return id;
    };
    const noDeviceTimes = await request(driver, 'trigger:respond', { triggerId: await fire(), response: 'ack', respondedAt: deviceNow() });
    expect(noDeviceTimes).toMatchObject({ ok: true, gapSource: 'server' });
    // A device claiming a 9-second gap the server never saw.
    const absurd = await requestOk(driver, 'trigger:respond', {
      triggerId: await fire(),
      response: 'ack',
      shownAt: 1000,
      respondedAt: 10_000,
    });
    expect(absurd).toMatchObject({ ok: true, gapSource: 'server' });
    expect(absurd.gapMs).toBeLessThan(1000);
  });

  it('raises the hesitation alert live at its deadline, before any answer', async () => {
    const { token, memberId } = await detail({ thresholds: { default: 500 } });
    const lead = await connect(hub, token('LEAD'));
    const ops = await connect(hub, token('OPS'));
    const driver = await connect(hub, token('DRV-1'));
    const screen = tablet(driver);
    const id = newId();
    const alertAtLead = nextEvent(lead, 'alert', (a) => a.kind === 'hesitation' && a.triggerId === id);
    const alertAtOps = nextEvent(ops, 'alert', (a) => a.kind === 'hesitation' && a.triggerId === id);
    const hesitating = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.status === 'hesitation');
    await request(lead, 'trigger:issue', { id, type: 'go', target: { vehicleIds: ['v1'] } });

    const [[alert], [state]] = await Promise.all([alertAtLead, hesitating, alertAtOps]);
    expect(alert).toMatchObject({ kind: 'hesitation', memberId: memberId('DRV-1'), vehicleId: 'v1', thresholdMs: 500 });
    expect(state.recipients[0]).toMatchObject({ state: 'hesitation', hesitation: true });
    expect(state.recipients[0]?.gapMs).toBeUndefined();

    const reply = await requestOk(driver, 'trigger:respond', {
      triggerId: id,
      response: 'ack',
      shownAt: screen.shownAt.get(id),
      respondedAt: deviceNow(),
    });
    expect(reply).toMatchObject({ ok: true, hesitation: true });
    expect(reply.gapMs).toBeGreaterThanOrEqual(500);
    const open = await requestOk(lead, 'mission:snapshot', {});
    expect(open.alerts.filter((a) => a.triggerId === id)).toHaveLength(1);
  });

  it('flags undelivered while the driver is offline, then replays in order on reconnect, with and without lastSeq', async () => {
    const { token } = await detail({ thresholds: { default: 500 } });
    const lead = await connect(hub, token('LEAD'));
    const ids = [newId(), newId(), newId()];
    const undelivered = ids.map((id) => nextEvent(lead, 'alert', (a) => a.kind === 'undelivered' && a.triggerId === id));
    for (const id of ids) await request(lead, 'trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v1'] } });
    await Promise.all(undelivered);

    let replayed: TriggerCue[] = [];
    let lastReplayed: Promise<unknown> = Promise.resolve();
    const withLastSeq = await connect(hub, token('DRV-1'), {
      lastSeq: 1,
      before: (socket) => {
        replayed = collect(socket, 'trigger');
        lastReplayed = nextEvent(socket, 'trigger', (cue) => cue.seq === 3);
      },
    });
    await lastReplayed;
    expect(replayed.map((c) => [c.id, c.seq])).toEqual([
      [ids[1], 2],
      [ids[2], 3],
    ]);
    withLastSeq.close();

    let all: TriggerCue[] = [];
    await connect(hub, token('DRV-1'), {
      before: (socket) => {
        all = collect(socket, 'trigger');
        lastReplayed = nextEvent(socket, 'trigger', (cue) => cue.seq === 3);
      },
    });
    await lastReplayed;
    expect(all.map((c) => c.seq)).toEqual([1, 2, 3]);
  });

  it('sends nothing twice to a device that reconnects with the seq it holds, and never resends an answered cue', async () => {
    const { token } = await detail();
    const lead = await connect(hub, token('LEAD'));
    const first = await connect(hub, token('DRV-1'));
    const cue = nextEvent(first, 'trigger');
    const [answeredId, openId] = [newId(), newId()];
    await request(lead, 'trigger:issue', { id: answeredId, type: 'go', target: { vehicleIds: ['v1'] } });
    await cue;
    const second = nextEvent(first, 'trigger', (c) => c.id === openId);
    await request(lead, 'trigger:issue', { id: openId, type: 'hold', target: { vehicleIds: ['v1'] } });
    await second;
    await request(first, 'trigger:respond', { triggerId: answeredId, response: 'ack', respondedAt: deviceNow() });
    first.close();

    let resent: TriggerCue[] = [];
    const upToDate = await connect(hub, token('DRV-1'), { lastSeq: 2, before: (socket) => (resent = collect(socket, 'trigger')) });
    const snapshot = await requestOk(upToDate, 'mission:snapshot', {});
    expect(resent).toEqual([]);
    expect(snapshot.triggers.map((t) => t.id)).toEqual([openId]);
    expect(snapshot.self).toMatchObject({ callsign: 'DRV-1', role: 'driver', vehicleId: 'v1' });

    let replay: Promise<[TriggerCue, unknown]> | undefined;
    await connect(hub, token('DRV-1'), { before: (socket) => (replay = nextEvent(socket, 'trigger')) });
    const [replayed] = await replay!;
    expect(replayed.id).toBe(openId);
  });

  it('expires an unanswered cue at staleAt: the tablet is told, the watchers alerted, the answer refused', async () => {
    const { token } = await detail({ staleMs: { default: 5000 } });
    const lead = await connect(hub, token('LEAD'));
    const driver = await connect(hub, token('DRV-1'));
    tablet(driver);
    const id = newId();
    const expiredOnTablet = nextEvent(driver, 'trigger:expired', (e) => e.id === id, 8000);
    const expiredAlert = nextEvent(lead, 'alert', (a) => a.kind === 'expired' && a.triggerId === id, 8000);
    const issued = await requestOk(lead, 'trigger:issue', { id, type: 'pickup', target: { vehicleIds: ['v1'] } });
    expect(issued.trigger.staleAt - issued.trigger.issuedAt).toBe(5000);
    await Promise.all([expiredOnTablet, expiredAlert]);
    const late = await request(driver, 'trigger:respond', { triggerId: id, response: 'ack', respondedAt: deviceNow() });
    expect(late).toMatchObject({ ok: false, error: { code: 'expired' } });

    let replay: Promise<[TriggerCue, unknown]> | undefined;
    await connect(hub, token('DRV-1'), { lastSeq: 0, before: (socket) => (replay = nextEvent(socket, 'trigger')) });
    const [cue] = await replay!;
    expect(cue).toMatchObject({ id, expired: true });
  }, 15_000);

  it('is idempotent: a retried trigger:issue creates one trigger; a reused id for another request is a conflict', async () => {
    const { token } = await detail();
    const lead = await connect(hub, token('LEAD'));
    const cpo = await connect(hub, token('CPO-1'));
    const driver = await connect(hub, token('DRV-1'));
    const cues = collect(driver, 'trigger');
    const id = newId();
    const first = await requestOk(lead, 'trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v1'] } });
    const retry = await request(lead, 'trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v1'] }, params: {} });
    expect(retry).toMatchObject({ ok: true, trigger: { id, issuedAt: first.trigger.issuedAt } });
    expect(await request(lead, 'trigger:issue', { id, type: 'go', target: { vehicleIds: ['v1'] } })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    expect(await request(cpo, 'trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v1'] } })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    await request(driver, 'mission:snapshot', {});
    expect(cues.map((c) => c.id)).toEqual([id]);
  });

  it('changes nothing on a duplicated receipt or answer; the first answer stands', async () => {
    const { token } = await detail();
    const lead = await connect(hub, token('LEAD'));
    const driver = await connect(hub, token('DRV-1'));
    const cue = nextEvent(driver, 'trigger');
    const id = newId();
    await request(lead, 'trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v1'] } });
    const [, receipt] = await cue;
    const delivered = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.status === 'delivered');
    receipt({ shownAt: deviceNow() });
    receipt({ shownAt: deviceNow() + 5000 });
    const [state] = await delivered;
    const first = await requestOk(driver, 'trigger:respond', { triggerId: id, response: 'ack', respondedAt: deviceNow() });
    const second = await request(driver, 'trigger:respond', {
      triggerId: id,
      response: 'unable',
      reason: 'blocked',
      respondedAt: deviceNow(),
    });
    expect(second).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const snapshot = await requestOk(lead, 'mission:snapshot', {});
    const trigger = snapshot.triggers.find((t) => t.id === id);
    const recipient = trigger && 'recipients' in trigger ? trigger.recipients[0] : undefined;
    expect(recipient).toMatchObject({
      state: 'answered',
      response: 'ack',
      gapMs: first.gapMs,
      deliveredAt: state.recipients[0]?.deliveredAt,
    });
  });

  it('writes every accepted event and every refusal to the mission log, in order', async () => {
    const { mission, token, memberId } = await detail();
    const lead = await connect(hub, token('LEAD'));
    const driver = await connect(hub, token('DRV-1'));
    const cue = nextEvent(driver, 'trigger');
    const id = newId();
    await request(lead, 'trigger:issue', { id, type: 'hold', target: { vehicleIds: ['v1'] } });
    const [, receipt] = await cue;
    const delivered = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.status === 'delivered');
    receipt({ shownAt: deviceNow() });
    await delivered;
    await request(driver, 'trigger:issue', { id: newId(), type: 'go', target: { convoy: true } });
    await request(driver, 'trigger:respond', { triggerId: id, response: 'ack', respondedAt: deviceNow() });

    const log = await hub.api('GET', `/api/missions/${mission.id}/log`);
    const events: { seq: number; kind: string; memberId?: string; data: Record<string, unknown> }[] = log.body.events;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const story = events.filter((e) => e.kind !== 'presence').map((e) => e.kind);
    expect(story.slice(0, 2)).toEqual(['mission.created', 'member.added']);
    expect(story.slice(-4)).toEqual(['trigger.issued', 'trigger.receipt', 'refused', 'trigger.answered']);
    expect(events.find((e) => e.kind === 'refused')).toMatchObject({
      memberId: memberId('DRV-1'),
      data: { code: 'forbidden', request: 'trigger:issue' },
    });

    const csv = await hub.api('GET', `/api/missions/${mission.id}/log?format=csv`);
    expect(String(csv.body).split('\r\n')[0]).toBe('seq,at,kind,memberId,triggerId,data');
    expect(String(csv.body)).toContain(`,trigger.answered,${memberId('DRV-1')},${id},`);
  });
});
