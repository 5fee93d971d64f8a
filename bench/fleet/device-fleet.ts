import { randomUUID } from 'node:crypto';
import type { TriggerCue } from '@lockstep/shared';
import { serve } from '../ipc.ts';
import { selfStats } from '../process-stats.ts';
import { connectAll, connected, type Device, deviceNow, deviceSocket, MAX_ERROR_SAMPLES, sleep, withDeadline } from './device.ts';
import type { CanaryReport, ConnectReport, ConnectRequest, Endpoint, FireReport, FireRequest, FleetRpc, MissionDevices } from './plan.ts';

/**
 * Simulated devices, in a process of their own so the load generator does not share an event
 * loop with the server it measures. A mission's lead and its drivers always live in the same
 * fleet: the issue time and the cue's arrival are read from this one process's
 * `performance.now()`, so latency needs no clock sync across processes.
 */

interface FleetMission {
  spec: MissionDevices;
  lead: Device;
}

interface IssuedTrigger {
  at: number;
  drivers: number;
  received: Set<number>;
  refused: boolean;
}

/** What a measurement window counts; errors outside a fire window still land in the current one. */
function newWindow(): FireReport {
  return {
    relayUs: [],
    answerUs: [],
    issued: 0,
    issueRefused: 0,
    expectedCues: 0,
    receivedCues: 0,
    duplicateCues: 0,
    answered: 0,
    answerRefused: 0,
    errors: 0,
    errorSamples: [],
  };
}

const DRAIN_POLL_MS = 20;

const micros = (ms: number) => Math.max(1, Math.round(ms * 1000));

class Fleet {
  readonly #missions = new Map<string, FleetMission>();
  readonly #devices: Device[] = [];
  readonly #issued = new Map<string, IssuedTrigger>();
  #window = newWindow();
  #closing = false;
  #ackTimeoutMs = 10_000;
  #snapshots = false;

  #error(message: string) {
    this.#window.errors += 1;
    if (this.#window.errorSamples.length < MAX_ERROR_SAMPLES) this.#window.errorSamples.push(message);
  }

  async connect({ missions, concurrency, timeoutMs, snapshots }: ConnectRequest): Promise<ConnectReport> {
    this.#snapshots = snapshots;
    const leads = new Map<string, Device>();
    const report = await connectAll(
      missions.flatMap((spec) => [
        () => this.#open(spec.lead, timeoutMs).then((lead) => void leads.set(spec.key, lead)),
        () => this.#open(spec.ops, timeoutMs).then(() => undefined),
        ...spec.drivers.map((driver, index) => () => this.#open(driver, timeoutMs).then((socket) => this.#driver(socket, index))),
      ]),
      concurrency,
    );
    for (const spec of missions) {
      const lead = leads.get(spec.key);
      if (lead) this.#missions.set(spec.key, { spec, lead });
    }
    return report;
  }

  async #open(endpoint: Endpoint, timeoutMs: number): Promise<Device> {
    const socket = deviceSocket(endpoint.url, { token: endpoint.token }, timeoutMs, this.#snapshots);
    this.#devices.push(socket);
    await connected(socket);
    socket.on('disconnect', (reason) => {
      if (!this.#closing) this.#error(`device disconnected: ${reason}`);
    });
    return socket;
  }

  #driver(socket: Device, index: number) {
    socket.on('trigger', (cue, receipt) => this.#onCue(socket, index, cue, receipt));
  }

  /** The cue is drawn at once: receipt, then the one-tap answer, as the driver tablet does. */
  #onCue(socket: Device, driverIndex: number, cue: TriggerCue, receipt: (receipt: { shownAt: number }) => void) {
    const arrivedAt = performance.now();
    const shownAt = performance.timeOrigin + arrivedAt;
    receipt({ shownAt });
    const trigger = this.#issued.get(cue.id);
    // A cue issued before this window (a canary) is not counted in it.
    if (!trigger) return;
    if (trigger.received.has(driverIndex)) {
      this.#window.duplicateCues += 1;
      return;
    }
    trigger.received.add(driverIndex);
    this.#window.receivedCues += 1;
    this.#window.relayUs.push(micros(arrivedAt - trigger.at));
    const answer = { triggerId: cue.id, response: 'ack', shownAt, respondedAt: deviceNow() } as const;
    socket.emit(
      'trigger:respond',
      answer,
      withDeadline(this.#ackTimeoutMs, (reply) => {
        if (!reply) return this.#error(`answer to ${cue.id} not acknowledged within ${this.#ackTimeoutMs} ms`);
        if (!reply.ok) {
          this.#window.answerRefused += 1;
          return this.#error(`answer refused: ${reply.error.code} ${reply.error.message}`);
        }
        this.#window.answered += 1;
        this.#window.answerUs.push(micros(performance.now() - trigger.at));
      }),
    );
  }

  #issue(mission: FleetMission) {
    const id = randomUUID();
    const trigger: IssuedTrigger = { at: performance.now(), drivers: mission.spec.drivers.length, received: new Set(), refused: false };
    this.#issued.set(id, trigger);
    this.#window.issued += 1;
    mission.lead.emit(
      'trigger:issue',
      { id, type: 'box-in', target: { convoy: true } },
      withDeadline(this.#ackTimeoutMs, (reply) => {
        if (!reply) return this.#error(`issue ${id} not acknowledged within ${this.#ackTimeoutMs} ms`);
        if (!reply.ok) {
          trigger.refused = true;
          this.#window.issueRefused += 1;
          this.#error(`issue refused: ${reply.error.code} ${reply.error.message}`);
        }
      }),
    );
  }

  /** A new window of counts; errors seen since the devices connected (a dropped device) carry into it. */
  #startWindow() {
    const { errors, errorSamples } = this.#window;
    this.#window = { ...newWindow(), errors, errorSamples };
    this.#issued.clear();
  }

  /** Cues not refused × their drivers: what should have arrived. */
  #expectedCues(): number {
    let expected = 0;
    for (const trigger of this.#issued.values()) if (!trigger.refused) expected += trigger.drivers;
    return expected;
  }

  #settled(): boolean {
    const expected = this.#expectedCues();
    return this.#window.receivedCues >= expected && this.#window.answered + this.#window.answerRefused >= this.#window.receivedCues;
  }

  async #drain(drainMs: number) {
    const deadline = performance.now() + drainMs;
    while (!this.#settled() && performance.now() < deadline) await sleep(DRAIN_POLL_MS);
  }

  /** One trigger from the first mission: does a cue reach its drivers at all (e.g. across nodes)? */
  async canary({ waitMs }: { waitMs: number }): Promise<CanaryReport> {
    this.#startWindow();
    const [first] = this.#missions.values();
    if (!first) return { expected: 0, received: 0 };
    this.#issue(first);
    await this.#drain(waitMs);
    const report = { expected: first.spec.drivers.length, received: this.#window.receivedCues };
    this.#issued.clear();
    return report;
  }

  /** Fires every firing mission's lead every `periodMs` from its offset, for `durationMs`, then drains. */
  async fire({ firing, periodMs, durationMs, drainMs, ackTimeoutMs }: FireRequest): Promise<FireReport> {
    this.#startWindow();
    this.#ackTimeoutMs = ackTimeoutMs;
    const start = performance.now();
    const timers = new Set<NodeJS.Timeout>();
    const schedule = (mission: FleetMission, offsetMs: number, round: number) => {
      const dueMs = offsetMs + round * periodMs;
      if (dueMs >= durationMs) return;
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          this.#issue(mission);
          schedule(mission, offsetMs, round + 1);
        },
        Math.max(0, start + dueMs - performance.now()),
      );
      timers.add(timer);
    };
    for (const { key, offsetMs } of firing) {
      const mission = this.#missions.get(key);
      if (mission) schedule(mission, offsetMs, 0);
      else this.#error(`mission ${key} has no connected lead`);
    }
    await sleep(durationMs);
    for (const timer of timers) clearTimeout(timer);
    await this.#drain(drainMs);
    const report = { ...this.#window, expectedCues: this.#expectedCues() };
    this.#window = newWindow();
    this.#issued.clear();
    return report;
  }

  disconnect(): { closed: number } {
    this.#closing = true;
    for (const device of this.#devices) device.close();
    const closed = this.#devices.length;
    this.#devices.length = 0;
    this.#missions.clear();
    this.#window = newWindow();
    this.#issued.clear();
    this.#closing = false;
    return { closed };
  }
}

const fleet = new Fleet();
serve<FleetRpc>(
  {
    stats: selfStats(),
    connect: (request) => fleet.connect(request),
    canary: (request) => fleet.canary(request),
    fire: (request) => fleet.fire(request),
    disconnect: () => fleet.disconnect(),
  },
  { ready: true },
);
