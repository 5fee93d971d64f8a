import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_MEMBERS, closeAllSockets, connect, createMission, deviceNow, newId, nextEvent, request, startHub, type Hub } from './support/hub.ts';

let hub: Hub;
beforeAll(async () => {
  hub = await startHub();
});
afterAll(() => hub.close());
afterEach(() => closeAllSockets());

describe('relay', () => {
  it('relays a cue to one vehicle and records the answer with the device gap', async () => {
    const mission = await createMission(hub, { members: STANDARD_MEMBERS });
    const lead = await connect(hub, mission.members.LEAD!.token);
    const driver1 = await connect(hub, mission.members['DRV-1']!.token);
    const cue = nextEvent(driver1, 'trigger');
    const id = newId();
    const issued = await request(lead, 'trigger:issue', { id, type: 'box-in', target: { vehicleIds: ['v1'] } });
    expect(issued.ok).toBe(true);
    expect(issued.trigger.recipients).toHaveLength(1);
    const [received, receipt] = await cue;
    expect(received).toMatchObject({ id, type: 'box-in', label: 'BOX-IN — OPEN GAP', vehicleId: 'v1', seq: 1, expired: false });
    const shownAt = deviceNow();
    const delivered = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.status === 'delivered');
    receipt({ shownAt });
    await delivered;
    const answered = nextEvent(lead, 'trigger:state', (s) => s.id === id && s.status === 'answered');
    const reply = await request(driver1, 'trigger:respond', { triggerId: id, response: 'ack', shownAt, respondedAt: shownAt + 800 });
    expect(reply).toMatchObject({ ok: true, gapSource: 'server', hesitation: false });
    const [state] = await answered;
    expect(state.recipients[0]).toMatchObject({ state: 'answered', response: 'ack', hesitation: false });
  });
});
