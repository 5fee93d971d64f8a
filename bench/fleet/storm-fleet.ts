import { randomUUID } from 'node:crypto';
import type { TriggerCue } from '@lockstep/shared';
import { serve } from '../ipc.ts';
import { selfStats, type StatsRpc } from '../process-stats.ts';
import { connectAll, connected, type Device, deviceNow, deviceSocket, inTurns, MAX_ERROR_SAMPLES, sleep, withDeadline } from './device.ts';
import type { ConnectReport, ConnectRequest, Endpoint, MissionDevices } from './plan.ts';

/**
 * The devices of the reconnect storm (issue #12, bench/storm.ts), in a process of their own like
 * the main fleet. Every device but the leads sits on the node that will be killed; once armed, a
 * device that loses its socket comes back to the survivor on the reconnection schedule of a real
 * client, with `lastSeq` the highest seq it has seen. Drivers never answer, so their cues stay
 * open; a cue id a device already holds is counted as shown twice.
 */

/** socket.io-client's reconnection backoff: attempt k waits min·2^k, ± jitter·that, capped at max. */
export interface ReconnectPacing {
  minMs: number;
  maxMs: number;
  jitter: number;
  /** One attempt's connect timeout (socket.io-client's `timeout`). */
  attemptTimeoutMs: number;
}

export interface PrimeRequest {
  cuesPerLead: number;
  /** How long the drivers get to hold every primed cue. */
  waitMs: number;
  ackTimeoutMs: number;
}

export interface PrimeReport {
  issued: number;
  refused: number;
  owed: number;
  received: number;
  duplicates: number;
}

export interface ArmRequest {
  /** Devices connected here are the storm's: they come back to `survivorUrl`. */
  killedUrl: string;
  survivorUrl: string;
  pacing: ReconnectPacing;
}

export interface StormRequest {
  /** When the node was killed, epoch ms: every time of the report counts from it. */
  killAt: number;
  /** Each lead fires one cue to its convoy at once (Lockstep only: the bare relay has no replay to test). */
  fire: boolean;
  /** Nothing is waited for past killAt + boundMs: a device not back by then is not back, a cue not held is lost. */
  boundMs: number;
  ackTimeoutMs: number;
}

export interface StormReport {
  /** Devices that were on the killed node. */
  reconnecting: number;
  /** Per device back on the survivor within the bound: kill → its socket's connect, ms. */
  backMs: number[];
  /** Per device back: kill → back and holding every cue it is owed, ms (back, when it is owed none). */
  doneMs: number[];
  /** One per driver per outage cue the survivor accepted. */
  owed: number;
  received: number;
  /** Owed cues whose issue was acknowledged before the driver was back: they could reach it by replay only. */
  issuedBeforeBack: number;
  /** A cue id a device already held, from the kill on. */
  duplicates: number;
  /** Of them, cues primed before the kill (which the replay after `lastSeq` must not send again). */
  primedDuplicates: number;
  /** Reconnect attempts that failed and were retried. */
  failedAttempts: number;
  errors: number;
  errorSamples: string[];
}

export type StormFleetRpc = StatsRpc & {
  connect: { request: ConnectRequest; reply: ConnectReport };
  prime: { request: PrimeRequest; reply: PrimeReport };
  arm: { request: ArmRequest; reply: { armed: number } };
  storm: { request: StormRequest; reply: Record<string, never> };
  report: { request: Record<string, never>; reply: StormReport };
  disconnect: { request: Record<string, never>; reply: { closed: number } };
};

interface StormDevice {
  endpoint: Endpoint;
  driver: boolean;
  socket: Device | undefined;
  lastSeq: number | undefined;
  /** Cue id → when it first arrived, epoch ms. */
  held: Map<string, number>;
  /** On the node to be killed once armed. */
  reconnecting: boolean;
  /** Epoch ms of the last connect to the survivor. */
  backAt: number | undefined;
  /** Set when the device stopped trying (refused, or the bound passed). */
  gaveUp: boolean;
}

interface OutageCue {
  id: string;
  /** undefined while the issue is unanswered. */
  accepted: boolean | undefined;
  ackedAt: number | undefined;
}

interface StormMission {
  lead: StormDevice;
  drivers: StormDevice[];
  primed: string[];
  outage: OutageCue | undefined;
}

/**
 * socket.io-client's own backoff (its `contrib/backo2.js`, used by the Manager between reconnection
 * attempts), so each simulated device waits as a real client does.
 */
class Backoff {
  #attempts = 0;
  constructor(private readonly pacing: ReconnectPacing) {}

  duration(): number {
    const ms = this.pacing.minMs * 2 ** this.#attempts++;
    const rand = Math.random();
    const deviation = Math.floor(rand * this.pacing.jitter * ms);
    return Math.min((Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation, this.pacing.maxMs) | 0;
  }
}

const POLL_MS = 20;
const PRIME_CONCURRENCY = 50;

class StormFleet {
  readonly #missions: StormMission[] = [];
  readonly #devices: StormDevice[] = [];
  readonly #sockets = new Set<Device>();
  /** Bumped by `disconnect`: a reconnect loop of an earlier generation stops. */
  #generation = 0;
  #armed: ArmRequest | undefined;
  #killAt = 0;
  #boundMs = 0;
  #duplicates = 0;
  #primedDuplicates = 0;
  /** Every cue fired before the kill. */
  readonly #primed = new Set<string>();
  #failedAttempts = 0;
  #errors = 0;
  #errorSamples: string[] = [];
  /** Whether each device asks for its mission's snapshot on every connect (ConnectRequest). */
  #snapshots = false;

  #error(message: string) {
    this.#errors += 1;
    if (this.#errorSamples.length < MAX_ERROR_SAMPLES) this.#errorSamples.push(message);
  }

  async connect({ missions, concurrency, timeoutMs, snapshots }: ConnectRequest): Promise<ConnectReport> {
    this.#snapshots = snapshots;
    const device = (endpoint: Endpoint, driver: boolean): StormDevice => {
      const made: StormDevice = {
        endpoint,
        driver,
        socket: undefined,
        lastSeq: undefined,
        held: new Map(),
        reconnecting: false,
        backAt: undefined,
        gaveUp: false,
      };
      this.#devices.push(made);
      return made;
    };
    const made = missions.map((spec: MissionDevices) => ({
      lead: device(spec.lead, false),
      ops: device(spec.ops, false),
      drivers: spec.drivers.map((driver) => device(driver, true)),
    }));
    const report = await connectAll(
      made.flatMap(({ lead, ops, drivers }) => [lead, ops, ...drivers].map((d) => () => this.#open(d, d.endpoint.url, timeoutMs))),
      concurrency,
    );
    for (const { lead, drivers } of made) this.#missions.push({ lead, drivers, primed: [], outage: undefined });
    return report;
  }

  /** One socket of the device to `url`; it replaces the device's socket once connected. */
  async #open(device: StormDevice, url: string, timeoutMs: number): Promise<void> {
    const auth =
      device.lastSeq === undefined ? { token: device.endpoint.token } : { token: device.endpoint.token, lastSeq: device.lastSeq };
    const socket = deviceSocket(url, auth, timeoutMs, this.#snapshots);
    this.#sockets.add(socket);
    // Before the connect: a replay comes right behind it.
    if (device.driver) socket.on('trigger', (cue, receipt) => this.#onCue(device, cue, receipt));
    try {
      await connected(socket);
    } catch (error) {
      this.#sockets.delete(socket);
      throw error;
    }
    device.socket = socket;
    const generation = this.#generation;
    socket.on('disconnect', (reason) => {
      this.#sockets.delete(socket);
      if (generation === this.#generation) this.#onDisconnect(device, reason);
    });
  }

  /** Drawn at once, never answered: the cue stays open. The device keeps the highest seq it saw. */
  #onCue(device: StormDevice, cue: TriggerCue, receipt: (receipt: { shownAt: number }) => void) {
    const now = deviceNow();
    receipt({ shownAt: now });
    if (device.held.has(cue.id)) {
      this.#duplicates += 1;
      if (this.#primed.has(cue.id)) this.#primedDuplicates += 1;
      return;
    }
    device.held.set(cue.id, now);
    device.lastSeq = Math.max(device.lastSeq ?? 0, cue.seq);
  }

  #onDisconnect(device: StormDevice, reason: string) {
    const armed = this.#armed;
    if (!armed) return this.#error(`device disconnected before the kill: ${reason}`);
    // The killed node's devices are expected to go, once; anything else is a drop a real client would also come back from.
    if (!device.reconnecting || device.backAt !== undefined)
      this.#error(`${device.reconnecting ? 'device dropped again after coming back' : 'device on the survivor dropped'}: ${reason}`);
    device.reconnecting = true;
    device.backAt = undefined;
    void this.#comeBack(device, armed);
  }

  /** socket.io-client's reconnection loop, pointed at the survivor (a load balancer's job in a deployment). */
  async #comeBack(device: StormDevice, { survivorUrl, pacing }: ArmRequest) {
    const generation = this.#generation;
    const backoff = new Backoff(pacing);
    while (generation === this.#generation) {
      await sleep(backoff.duration());
      if (generation !== this.#generation) return;
      if (this.#killAt > 0 && deviceNow() > this.#killAt + this.#boundMs) break;
      try {
        await this.#open(device, survivorUrl, pacing.attemptTimeoutMs);
        if (generation === this.#generation) device.backAt = deviceNow();
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // A refusal by the server's middleware is final, as for a real client; a transport error is retried.
        if (message.endsWith('unauthorized')) {
          this.#error(`reconnect refused: ${message}`);
          break;
        }
        this.#failedAttempts += 1;
      }
    }
    device.gaveUp = true;
  }

  /** The lead's convoy-wide cue; resolves with whether the server accepted it, and when the answer came. */
  #issue(mission: StormMission, ackTimeoutMs: number): Promise<OutageCue> {
    const cue: OutageCue = { id: randomUUID(), accepted: undefined, ackedAt: undefined };
    return new Promise((resolve) => {
      const lead = mission.lead.socket;
      if (!lead?.connected) {
        this.#error('a lead is not connected');
        cue.accepted = false;
        return resolve(cue);
      }
      lead.emit(
        'trigger:issue',
        { id: cue.id, type: 'box-in', target: { convoy: true } },
        withDeadline(ackTimeoutMs, (reply) => {
          cue.ackedAt = deviceNow();
          cue.accepted = reply?.ok === true;
          if (!reply) this.#error(`issue ${cue.id} not acknowledged within ${ackTimeoutMs} ms`);
          else if (!reply.ok) this.#error(`issue refused: ${reply.error.code} ${reply.error.message}`);
          resolve(cue);
        }),
      );
    });
  }

  /** Cues the drivers will hold when the node dies, and whose highest seq each driver reconnects with. */
  async prime({ cuesPerLead, waitMs, ackTimeoutMs }: PrimeRequest): Promise<PrimeReport> {
    const report: PrimeReport = { issued: 0, refused: 0, owed: 0, received: 0, duplicates: 0 };
    await inTurns(this.#missions, PRIME_CONCURRENCY, async (mission) => {
      for (let k = 0; k < cuesPerLead; k++) {
        const cue = await this.#issue(mission, ackTimeoutMs);
        report.issued += 1;
        this.#primed.add(cue.id);
        if (cue.accepted) mission.primed.push(cue.id);
        else report.refused += 1;
      }
    });
    const owedPairs = this.#missions.flatMap((m) => m.drivers.flatMap((d) => m.primed.map((id) => ({ d, id }))));
    const deadline = performance.now() + waitMs;
    while (owedPairs.some(({ d, id }) => !d.held.has(id)) && performance.now() < deadline) await sleep(POLL_MS);
    report.owed = owedPairs.length;
    report.received = owedPairs.filter(({ d, id }) => d.held.has(id)).length;
    report.duplicates = this.#duplicates;
    return report;
  }

  arm(request: ArmRequest): { armed: number } {
    this.#armed = request;
    let armed = 0;
    for (const device of this.#devices) {
      device.reconnecting = device.endpoint.url === request.killedUrl;
      if (device.reconnecting) armed += 1;
    }
    return { armed };
  }

  /** Right after the kill: the leads fire, then wait until every device is back and holds what it is owed, or the bound. */
  async storm({ killAt, fire, boundMs, ackTimeoutMs }: StormRequest): Promise<Record<string, never>> {
    this.#killAt = killAt;
    this.#boundMs = boundMs;
    this.#duplicates = 0;
    this.#primedDuplicates = 0;
    if (fire)
      for (const mission of this.#missions)
        void this.#issue(mission, ackTimeoutMs).then((cue) => {
          mission.outage = cue;
        });
    while (!this.#settled(fire) && deviceNow() < killAt + boundMs) await sleep(POLL_MS);
    return {};
  }

  #settled(fire: boolean): boolean {
    const back = (d: StormDevice) => d.gaveUp || d.backAt !== undefined;
    if (!this.#devices.every((d) => !d.reconnecting || back(d))) return false;
    if (!fire) return true;
    return this.#missions.every(
      ({ outage, drivers }) => outage !== undefined && (!outage.accepted || drivers.every((d) => d.gaveUp || d.held.has(outage.id))),
    );
  }

  report(): StormReport {
    const within = (at: number | undefined) => at !== undefined && at - this.#killAt <= this.#boundMs;
    const report: StormReport = {
      reconnecting: 0,
      backMs: [],
      doneMs: [],
      owed: 0,
      received: 0,
      issuedBeforeBack: 0,
      duplicates: this.#duplicates,
      primedDuplicates: this.#primedDuplicates,
      failedAttempts: this.#failedAttempts,
      errors: this.#errors,
      errorSamples: this.#errorSamples,
    };
    const owedOf = new Map<StormDevice, OutageCue>();
    for (const mission of this.#missions)
      if (mission.outage?.accepted) for (const driver of mission.drivers) owedOf.set(driver, mission.outage);
    for (const device of this.#devices) {
      const owed = owedOf.get(device);
      const heldAt = owed ? device.held.get(owed.id) : undefined;
      if (owed) {
        report.owed += 1;
        if (within(heldAt)) report.received += 1;
        if (owed.ackedAt !== undefined && device.backAt !== undefined && owed.ackedAt < device.backAt) report.issuedBeforeBack += 1;
      }
      if (!device.reconnecting) continue;
      report.reconnecting += 1;
      if (device.backAt === undefined || !within(device.backAt)) continue;
      report.backMs.push(device.backAt - this.#killAt);
      if (!owed) report.doneMs.push(device.backAt - this.#killAt);
      else if (heldAt !== undefined && within(heldAt)) report.doneMs.push(Math.max(device.backAt, heldAt) - this.#killAt);
    }
    return report;
  }

  disconnect(): { closed: number } {
    this.#generation += 1;
    const closed = this.#sockets.size;
    for (const socket of this.#sockets) socket.close();
    this.#sockets.clear();
    this.#missions.length = 0;
    this.#devices.length = 0;
    this.#armed = undefined;
    this.#killAt = 0;
    this.#duplicates = 0;
    this.#primedDuplicates = 0;
    this.#primed.clear();
    this.#failedAttempts = 0;
    this.#errors = 0;
    this.#errorSamples = [];
    return { closed };
  }
}

const fleet = new StormFleet();
serve<StormFleetRpc>(
  {
    stats: selfStats(),
    connect: (request) => fleet.connect(request),
    prime: (request) => fleet.prime(request),
    arm: (request) => fleet.arm(request),
    storm: (request) => fleet.storm(request),
    report: () => fleet.report(),
    disconnect: () => fleet.disconnect(),
  },
  { ready: true },
);
