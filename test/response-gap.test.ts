import type { Alert } from '@lockstep/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { DelayedTablet, ONE_PROBE, ONE_WAY_MS, closeAllTablets, type TabletOptions } from './support/delayed-tablet.ts';
import {
  STANDARD_MEMBERS,
  closeAllSockets,
  collect,
  connect,
  createMission,
  newId,
  nextEvent,
  request,
  requestOk,
  useHub,
  type Client,
} from './support/hub.ts';

/**
 * docs/PROTOCOL.md §3 through a real, delayed link (issue #14). Each link is an order-keeping
 * proxy with a fixed delay per direction, changed between messages, so every case has one
 * outcome: threshold 1 s, 300 ms each way when the tablet is probed (RTT 600 ms: an uplink
 * allowance of 300 ms), and margins of at least 200 ms around every deadline.
 */
const THRESHOLD_MS = 1000;
const ALLOWANCE_MS = ONE_WAY_MS;

const hub = useHub({ presence: ONE_PROBE });
afterEach(async () => {
  closeAllSockets();
  await closeAllTablets();
});
const tablet = (lead: Client, token: string, memberId: string, options?: TabletOptions) =>
  DelayedTablet.connect(hub, lead, token, memberId, options);

async function detail() {
  const mission = await createMission(hub, { members: STANDARD_MEMBERS, settings: { thresholds: { default: THRESHOLD_MS } } });
  const lead = await connect(hub, mission.members.LEAD!.token);
  const driverId = mission.members['DRV-1']!.memberId;
  return { lead, driverId, driverToken: mission.members['DRV-1']!.token };
}

const hesitationsOf = (alerts: Alert[], id: string) => alerts.filter((a) => a.kind === 'hesitation' && a.triggerId === id);

describe('response gap through a delayed link (docs/PROTOCOL.md §3, issue #14)', () => {
  it('raises no live hesitation for an answer under the threshold whose uplink was slower than the receipt', async () => {
    const { lead, driverId, driverToken } = await detail();
    // A slow link (800 ms each way, an allowance of 800 ms), so both margins below are 400 ms wide:
    // a loaded machine's late timers must not decide the outcome.
    const slowMs = 800;
    const driver = await tablet(lead, driverToken, driverId, { oneWayMs: slowMs });
    const alerts = collect(lead, 'alert');
    const id = newId();
    const drawn = driver.drawn(id);
    // The receipt flies back at once; the answer takes the full 800 ms. Before v1.1 the deadline
    // was the receipt's arrival + 1 s, and this 600 ms answer arrives 400 ms after it; now the
    // deadline is the tablet's draw + 1 s + 800 ms, 400 ms after the answer.
    driver.link.up = 0;
    const delivered = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.recipients[0]?.state === 'delivered');
    await request(lead, 'trigger:issue', { id, type: 'box-in', target: { vehicleIds: ['v1'] } });
    const { shownAt } = await drawn;
    // Only once the receipt is in may the uplink slow down again.
    await delivered;
    driver.link.up = slowMs;
    const { reply, trueGapMs } = await driver.answerAfter(id, shownAt, 600);

    expect(reply).toMatchObject({ ok: true, gapSource: 'device', hesitation: false, gapMs: Math.round(trueGapMs) });
    // The reply came back through 800 ms of downlink: an alert raised before the answer would be here by now.
    expect(hesitationsOf(alerts, id)).toEqual([]);
  });

  it('withdraws a live hesitation the answer disproves: struck, resolved by the system, the final flag false', async () => {
    const { lead, driverId, driverToken } = await detail();
    const driver = await tablet(lead, driverToken, driverId);
    const id = newId();
    const drawn = driver.drawn(id);
    const raised = nextEvent(lead, 'alert', (a) => a.kind === 'hesitation' && a.triggerId === id && a.withdrawnAt === undefined);
    const withdrawn = nextEvent(lead, 'alert', (a) => a.kind === 'hesitation' && a.triggerId === id && a.withdrawnAt !== undefined);
    const answered = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.recipients[0]?.state === 'answered');
    await request(lead, 'trigger:issue', { id, type: 'box-in', target: { vehicleIds: ['v1'] } });
    const { shownAt } = await drawn;
    // Tapped at 800 ms, but the answer spends 2 s on the uplink: past the live deadline (1 s + the allowance,
    // 300 ms here and never over 1 s, however slow a loaded machine made the probe it was measured from).
    driver.link.up = 2000;
    const { reply, trueGapMs } = await driver.answerAfter(id, shownAt, 800);

    const [[alert], [taken], [state]] = await Promise.all([raised, withdrawn, answered]);
    expect(alert.resolvedAt).toBeUndefined();
    expect(taken).toMatchObject({ id: alert.id, resolvedBy: 'system', valueMs: Math.round(trueGapMs) });
    expect(taken.resolvedAt).toBe(taken.withdrawnAt);
    expect(reply).toMatchObject({ ok: true, hesitation: false, gapSource: 'device', gapMs: Math.round(trueGapMs) });
    expect(state.status).toBe('answered');
    expect(state.recipients[0]).toMatchObject({ hesitation: false, gapMs: Math.round(trueGapMs) });
    const snapshot = await requestOk(lead, 'mission:snapshot', {});
    expect(snapshot.alerts.filter((a: Alert) => a.triggerId === id && a.kind === 'hesitation')).toEqual([]);
  });

  it('keeps the tablet’s gap when an uplink stall holds the receipt back and flushes it with the answer', async () => {
    const { lead, driverId, driverToken } = await detail();
    const driver = await tablet(lead, driverToken, driverId);
    const alerts = collect(lead, 'alert');
    const id = newId();
    const drawn = driver.drawn(id);
    driver.proxy.hold('up');
    await request(lead, 'trigger:issue', { id, type: 'box-in', target: { vehicleIds: ['v1'] } });
    const { shownAt } = await drawn;
    const answer = driver.answerAfter(id, shownAt, 1500);
    // Receipt and answer both wait in the stalled uplink; then it flushes.
    await driver.proxy.holding('up', 2);
    driver.proxy.release('up');
    const { reply, trueGapMs } = await answer;

    expect(reply).toMatchObject({ ok: true, gapSource: 'device', hesitation: true, gapMs: Math.round(trueGapMs) });
    // Raised by the deadline or by the answer, either way before the reply's 300 ms downlink ended.
    const hesitation = hesitationsOf(alerts, id);
    expect(hesitation.length).toBeGreaterThanOrEqual(1);
    expect(hesitation.every((a) => a.withdrawnAt === undefined)).toBe(true);
  });

  it('keeps the tablet’s gap when no receipt ever came: the answer proves delivery', async () => {
    const { lead, driverId, driverToken } = await detail();
    const driver = await tablet(lead, driverToken, driverId, { receipts: 'none' });
    const id = newId();
    const drawn = driver.drawn(id);
    const hesitation = nextEvent(lead, 'alert', (a) => a.kind === 'hesitation' && a.triggerId === id);
    await request(lead, 'trigger:issue', { id, type: 'box-in', target: { vehicleIds: ['v1'] } });
    const { shownAt } = await drawn;
    const { reply, trueGapMs } = await driver.answerAfter(id, shownAt, 1500);

    expect(reply).toMatchObject({ ok: true, gapSource: 'device', hesitation: true, gapMs: Math.round(trueGapMs) });
    const [alert] = await hesitation;
    expect(alert).toMatchObject({ memberId: driverId, thresholdMs: THRESHOLD_MS });
  });

  // The receipt's uplink differs from the probes' (fast: 600 ms, slow: 0), so neither the receipt's
  // arrival nor a shownAt left untranslated (kept between emission and receipt) lands on the right deadline.
  it.each([
    ['fast', 7300, 600],
    ['slow', -7300, 0],
  ])('raises the live hesitation on time from a tablet whose clock is 7.3 s %s', async (_label, skewMs, receiptUplinkMs) => {
    const { lead, driverId, driverToken } = await detail();
    const driver = await tablet(lead, driverToken, driverId, { skewMs });
    const id = newId();
    const drawn = driver.drawn(id);
    const hesitation = nextEvent(lead, 'alert', (a) => a.kind === 'hesitation' && a.triggerId === id);
    driver.link.up = receiptUplinkMs;
    await request(lead, 'trigger:issue', { id, type: 'box-in', target: { vehicleIds: ['v1'] } });
    const { shownAt } = await drawn;
    const shownAtServer = shownAt - skewMs;
    // The driver does not answer until the alert is out: it must come from the deadline, not the answer.
    const [alert] = await hesitation;
    const { reply, trueGapMs } = await driver.answerAfter(id, shownAt, 0);

    const due = shownAtServer + THRESHOLD_MS + ALLOWANCE_MS;
    expect(alert.at).toBeGreaterThanOrEqual(due - 50);
    // A timer on a loaded machine may fire late, but never by anything near the 7.3 s skew this guards against.
    expect(alert.at).toBeLessThan(due + 1000);
    expect(reply).toMatchObject({ ok: true, gapSource: 'device', hesitation: true, gapMs: Math.round(trueGapMs) });
  });
});
