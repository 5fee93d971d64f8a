import { loadavg } from 'node:os';
import type { RedisServer } from '@lockstep/test/support/redis-server';
import { cpuSecondsOfPid, machineBusySeconds } from './cpu.ts';
import type { MissionDevices } from './fleet/plan.ts';
import type { PrimeReport, ReconnectPacing, StormFleetRpc, StormReport } from './fleet/storm-fleet.ts';
import type { BenchChild } from './ipc.ts';
import { summarise } from './latency.ts';
import { bareMissions, DEVICES_PER_MISSION } from './missions.ts';
import { framesAndKb, sentPerDevice, type ProcessStats, type SentCount, type StatsRpc } from './process-stats.ts';
import type { LockstepNodeRpc } from './servers/lockstep-node.ts';
import { deployLockstep, startBareRelay, type SystemName } from './scenario.ts';

/**
 * `npm run bench -- --storm [--storm-devices N]`: issue #12's reconnect storm. Two server processes
 * (two bare relays, or two Lockstep nodes on one Redis and key prefix); every device on node A but
 * the leads, which are on node B. Drivers receive a few cues and answer none (they stay open). Then
 * node A is SIGKILLed; at once each lead, still on B, fires one more cue to its convoy, which can
 * reach its drivers only through the replay of docs/PROTOCOL.md §5 when they come back. A's devices
 * come back to B (a load balancer's job in a deployment; here the fleet points them at B) on a real
 * client's reconnection schedule, with `lastSeq` the highest seq they saw. Measured from the kill:
 * until every one of A's devices is connected to B, and until every driver also holds the cue it is
 * owed; a cue id a device already held counts as shown twice, an owed cue not held within the bound
 * as lost. The bare relay has no store and no replay: it is the time to reconnect alone.
 *
 * Why the leads sit on the survivor: a cue fired during the outage must be accepted while its
 * drivers are gone, so that replay is the only way to them; a lead on the killed node would be
 * reconnecting too, and its cue would race its drivers' return and mostly arrive live. Some still
 * do (a driver may be back before its lead's issue is acknowledged): the table says how many owed
 * cues were accepted before their driver was back, i.e. went by replay for certain.
 *
 * Why the kill waits `primeSettleMs` after the drivers hold their primed cues: a cue whose receipt
 * node A took but had not yet written when it died is still `pending` in the store, and at its
 * undelivered deadline (issue + threshold) the survivor sends it again to the driver's new socket,
 * though the driver holds it and said so with `lastSeq`. That is a real effect of a node's death, but
 * how many cues it touches depends only on how close before the kill the bench fired, not on the
 * reconnect or the replay; so by default the primed cues are past that deadline when A dies, and
 * `--storm-in-flight` kills at once instead, to measure the cues in flight.
 */

export const STORM_SYSTEMS = ['bare', 'lockstep-2'] as const satisfies readonly SystemName[];
export type StormSystem = (typeof STORM_SYSTEMS)[number];

const STORM_LABELS: Record<StormSystem, string> = { bare: 'bare socket.io, 2 relays', 'lockstep-2': 'lockstep, 2 nodes' };

export interface StormSettings {
  /** Cues each lead fires before the kill, held open by its drivers: the replay must not send them again. */
  primeCuesPerLead: number;
  primeWaitMs: number;
  /** From the drivers holding every primed cue to the kill: past the cues' undelivered deadline (issue + 2 s threshold), or 0. */
  primeSettleMs: number;
  /** Idle after the devices connect, so the first probes are answered before anything is measured. */
  settleMs: number;
  /** From the kill: a device not back, or an owed cue not held, by then is not back, or lost. */
  boundMs: number;
  /** After the storm, how long a cue sent a second time still counts as shown twice. */
  tailMs: number;
  pacing: ReconnectPacing;
  /** Devices opened at once before the storm (as the main bench): the storm itself has no cap. */
  connectConcurrency: number;
  setupConcurrency: number;
  ackTimeoutMs: number;
  /** Where to write a CPU profile of the Lockstep survivor from the kill until the storm settled; none when undefined. */
  profilePath?: string | undefined;
}

/**
 * The reconnection schedule of the Lockstep client (client/src/lockstep-client.ts: reconnectionDelay
 * 250, reconnectionDelayMax 2000, randomizationFactor 0.3, socket.io's 20 s connect timeout), for
 * both systems: the first attempt comes 175–325 ms after the device sees its socket close.
 */
export const STORM_SETTINGS: StormSettings = {
  primeCuesPerLead: 2,
  primeWaitMs: 30_000,
  primeSettleMs: 3000,
  settleMs: 3000,
  boundMs: 60_000,
  tailMs: 2000,
  pacing: { minMs: 250, maxMs: 2000, jitter: 0.3, attemptTimeoutMs: 20_000 },
  connectConcurrency: 50,
  setupConcurrency: 16,
  ackTimeoutMs: 10_000,
};

interface StormRow {
  system: StormSystem;
  devices: number;
  prime: PrimeReport | undefined;
  report: StormReport;
  /** Kill → the storm settled (or the bound): the window of the CPU figures. */
  windowS: number;
  survivor: { cpu: number; loopDelayP99Ms: number; loopDelayMaxMs: number };
  /** What the survivor wrote to devices from the kill until the storm settled, per device that came back. */
  sentPerDeviceBack: SentCount | undefined;
  redisCpu: number | undefined;
  fleets: { cpu: number; loopDelayP99Ms: number };
  /** Everything else on the machine (other users, the OS, the bench itself): the bench does not control it. */
  otherCpu: number | undefined;
  load: { before: number; after: number };
}

interface FailedStorm {
  system: StormSystem;
  devices: number;
  error: string;
}

const RPC_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
/** Epoch ms from the monotonic clock: the fleets count from the kill on the same scale. */
const wallNow = () => performance.timeOrigin + performance.now();
const loadNow = () => loadavg()[0] ?? 0;

function stats(children: readonly BenchChild<StatsRpc>[], resetLoopDelay: boolean): Promise<ProcessStats[]> {
  return Promise.all(children.map((child) => child.call('stats', { gc: false, resetLoopDelay }, RPC_TIMEOUT_MS)));
}

function merge(reports: readonly StormReport[]): StormReport {
  return {
    reconnecting: sum(reports.map((r) => r.reconnecting)),
    backMs: reports.flatMap((r) => r.backMs),
    doneMs: reports.flatMap((r) => r.doneMs),
    owed: sum(reports.map((r) => r.owed)),
    received: sum(reports.map((r) => r.received)),
    issuedBeforeBack: sum(reports.map((r) => r.issuedBeforeBack)),
    duplicates: sum(reports.map((r) => r.duplicates)),
    primedDuplicates: sum(reports.map((r) => r.primedDuplicates)),
    failedAttempts: sum(reports.map((r) => r.failedAttempts)),
    errors: sum(reports.map((r) => r.errors)),
    errorSamples: reports.flatMap((r) => r.errorSamples).slice(0, 5),
  };
}

function mergePrimes(reports: readonly PrimeReport[]): PrimeReport {
  return {
    issued: sum(reports.map((r) => r.issued)),
    refused: sum(reports.map((r) => r.refused)),
    owed: sum(reports.map((r) => r.owed)),
    received: sum(reports.map((r) => r.received)),
    duplicates: sum(reports.map((r) => r.duplicates)),
  };
}

interface Pair {
  killed: BenchChild<StatsRpc>;
  survivor: BenchChild<StatsRpc>;
  /** The survivor when it is a Lockstep node, which can be CPU-profiled. */
  profiled?: BenchChild<LockstepNodeRpc>;
  killedUrl: string;
  survivorUrl: string;
  missions: MissionDevices[];
}

/** Node A (to be killed) holds every device but the leads, which are on node B (the survivor). */
async function deployPair(system: StormSystem, missionCount: number, redis: RedisServer, settings: StormSettings): Promise<Pair> {
  if (system === 'lockstep-2') {
    const names = ['lockstep node A (killed)', 'lockstep node B (survivor)'];
    const { nodes, missions } = await deployLockstep(
      names,
      missionCount,
      ([killedUrl = '', survivorUrl = '']) => ({ leadUrl: survivorUrl, othersUrl: killedUrl }),
      redis,
      settings.setupConcurrency,
    );
    const [killed, survivor] = nodes;
    if (!killed?.url || !survivor?.url) throw new Error('a Lockstep node did not say where it listens');
    return { killed, survivor, profiled: survivor, killedUrl: killed.url, survivorUrl: survivor.url, missions };
  }
  const started = await Promise.allSettled([startBareRelay('bare relay A (killed)'), startBareRelay('bare relay B (survivor)')]);
  const [a, b] = started.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : undefined));
  if (!a || !b) {
    await Promise.all([a, b].map((started) => started?.relay.stop(STOP_GRACE_MS)));
    const failure = started.find((outcome) => outcome.status === 'rejected');
    throw failure?.reason ?? new Error('a bare relay did not start');
  }
  const missions = bareMissions({ leadUrl: b.url, othersUrl: a.url }, missionCount);
  return { killed: a.relay, survivor: b.relay, killedUrl: a.url, survivorUrl: b.url, missions };
}

async function stormOnce(
  system: StormSystem,
  missionCount: number,
  redis: RedisServer,
  fleets: readonly BenchChild<StormFleetRpc>[],
  settings: StormSettings,
  progress: (line: string) => void,
): Promise<StormRow> {
  const label = STORM_LABELS[system];
  const devices = missionCount * DEVICES_PER_MISSION;
  const setupStart = performance.now();
  const { killed, survivor, profiled, killedUrl, survivorUrl, missions } = await deployPair(system, missionCount, redis, settings);
  const profilePath = profiled && settings.profilePath;
  try {
    const connectStart = performance.now();
    const connected = await Promise.all(
      fleets.map((fleet, f) =>
        fleet.call(
          'connect',
          {
            missions: missions.filter((_, i) => i % fleets.length === f),
            concurrency: settings.connectConcurrency,
            timeoutMs: RPC_TIMEOUT_MS,
            snapshots: system === 'lockstep-2',
          },
          RPC_TIMEOUT_MS * 4,
        ),
      ),
    );
    const failed = sum(connected.map((c) => c.failed));
    if (failed > 0) throw new Error(`${failed} devices did not connect (${connected.flatMap((c) => c.errors)[0]})`);
    progress(
      `storm ${label} N=${devices}: setup ${((connectStart - setupStart) / 1000).toFixed(1)} s, connected in ${((performance.now() - connectStart) / 1000).toFixed(1)} s`,
    );
    await sleep(settings.settleMs);

    const fire = system === 'lockstep-2';
    const prime = fire
      ? mergePrimes(
          await Promise.all(
            fleets.map((fleet) =>
              fleet.call(
                'prime',
                { cuesPerLead: settings.primeCuesPerLead, waitMs: settings.primeWaitMs, ackTimeoutMs: settings.ackTimeoutMs },
                settings.primeWaitMs + settings.ackTimeoutMs * settings.primeCuesPerLead + RPC_TIMEOUT_MS,
              ),
            ),
          ),
        )
      : undefined;
    if (prime) {
      progress(`storm ${label} N=${devices}: primed, ${prime.received} of ${prime.owed} open cues held by the drivers`);
      await sleep(settings.primeSettleMs);
    }
    const armed = await Promise.all(
      fleets.map((fleet) => fleet.call('arm', { killedUrl, survivorUrl, pacing: settings.pacing }, RPC_TIMEOUT_MS)),
    );

    const loadBefore = loadNow();
    const survivorBefore = await survivor.call('stats', { gc: false, resetLoopDelay: true }, RPC_TIMEOUT_MS);
    const fleetsBefore = await stats(fleets, true);
    const redisBefore = cpuSecondsOfPid(redis.pid);
    const machineBefore = machineBusySeconds();
    progress(`storm ${label} N=${devices}: SIGKILL to node A, ${sum(armed.map((a) => a.armed))} devices to come back to node B`);
    if (profilePath) await profiled.call('profile:start', { samplingIntervalUs: 1000 }, RPC_TIMEOUT_MS);
    const killAt = wallNow();
    killed.process.kill('SIGKILL');
    await Promise.all(
      fleets.map((fleet) =>
        fleet.call(
          'storm',
          { killAt, fire, boundMs: settings.boundMs, ackTimeoutMs: settings.ackTimeoutMs },
          settings.boundMs + RPC_TIMEOUT_MS,
        ),
      ),
    );
    const windowS = (wallNow() - killAt) / 1000;
    if (profilePath) await profiled.call('profile:stop', { path: profilePath }, RPC_TIMEOUT_MS);
    const redisAfter = cpuSecondsOfPid(redis.pid);
    const machineAfter = machineBusySeconds();
    const survivorAfter = await survivor.call('stats', { gc: false, resetLoopDelay: false }, RPC_TIMEOUT_MS);
    const fleetsAfter = await stats(fleets, false);
    const loadAfter = loadNow();

    await sleep(settings.tailMs);
    const report = merge(await Promise.all(fleets.map((fleet) => fleet.call('report', {}, RPC_TIMEOUT_MS))));
    progress(
      `storm ${label} N=${devices}: ${report.backMs.length} of ${report.reconnecting} back, settled ${windowS.toFixed(1)} s after the kill`,
    );
    const survivorCpu = survivorAfter.cpuSeconds - survivorBefore.cpuSeconds;
    const fleetsCpu = sum(fleetsAfter.map((s) => s.cpuSeconds)) - sum(fleetsBefore.map((s) => s.cpuSeconds));
    const redisCpu = redisBefore === undefined || redisAfter === undefined ? undefined : redisAfter - redisBefore;
    const machineCpu = machineBefore === undefined || machineAfter === undefined ? undefined : machineAfter - machineBefore;
    return {
      system,
      devices,
      prime,
      report,
      windowS,
      survivor: { cpu: survivorCpu / windowS, loopDelayP99Ms: survivorAfter.loopDelayP99Ms, loopDelayMaxMs: survivorAfter.loopDelayMaxMs },
      sentPerDeviceBack: sentPerDevice([survivorBefore], [survivorAfter], report.reconnecting),
      redisCpu: redisCpu === undefined ? undefined : redisCpu / windowS,
      fleets: { cpu: fleetsCpu / windowS, loopDelayP99Ms: Math.max(...fleetsAfter.map((s) => s.loopDelayP99Ms)) },
      otherCpu: machineCpu === undefined ? undefined : Math.max(0, machineCpu - survivorCpu - fleetsCpu - (redisCpu ?? 0)) / windowS,
      load: { before: loadBefore, after: loadAfter },
    };
  } finally {
    await Promise.all(fleets.map((fleet) => fleet.call('disconnect', {}, RPC_TIMEOUT_MS).catch(() => undefined)));
    await Promise.all([killed, survivor].map((server) => server.stop(STOP_GRACE_MS)));
  }
}

/** Every system asked for, one after the other on the same fleets and Redis; the table and its notes. */
export async function runStorm(
  systems: readonly StormSystem[],
  devices: number,
  redis: RedisServer,
  fleets: readonly BenchChild<StormFleetRpc>[],
  settings: StormSettings,
  progress: (line: string) => void,
): Promise<{ lines: string[]; failed: boolean }> {
  const missionCount = Math.ceil(devices / DEVICES_PER_MISSION);
  const rows: (StormRow | FailedStorm)[] = [];
  for (const system of systems) {
    try {
      rows.push(await stormOnce(system, missionCount, redis, fleets, settings, progress));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      progress(`storm ${STORM_LABELS[system]}: failed: ${message}`);
      rows.push({ system, devices: missionCount * DEVICES_PER_MISSION, error: message });
    }
  }
  return { lines: stormTable(rows, settings, fleets.length), failed: rows.some((row) => 'error' in row) };
}

const count = (value: number) => value.toLocaleString('en-US');
const seconds = (ms: number | undefined) => (ms === undefined ? '—' : (ms / 1000).toFixed(2));
const percent = (share: number | undefined) => (share === undefined ? 'n/a' : `${Math.round(share * 100)} %`);
const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(0));

/** The slowest of every device, when every one of them made it; undefined otherwise. */
const allOf = (samplesMs: readonly number[], of: number) => (samplesMs.length === of && of > 0 ? Math.max(...samplesMs) : undefined);

function spread(samplesMs: readonly number[]): string {
  const summary = summarise(samplesMs.map((sample) => Math.max(1, Math.round(sample * 1000))));
  return summary ? `${ms(summary.p50)} / ${ms(summary.p99)} / ${ms(summary.max)}` : '—';
}

function stormTable(rows: readonly (StormRow | FailedStorm)[], settings: StormSettings, fleetCount: number): string[] {
  const { pacing } = settings;
  const lines = [
    `Reconnect storm (issue #12): SIGKILL to node A of two; every device but the leads was on A and comes back to node B. Times from the SIGKILL, ms unless said.`,
    '',
    '| system | devices | back on B | all back s | all back with cues s | back p50 / p99 / max | back with cues p50 / p99 / max | cues owed / received / lost / shown twice | owed cues accepted before their driver was back | failed attempts | errors | survivor CPU | survivor frames / kB sent per device back | redis CPU | rest of the machine | survivor loop delay p99 / max | load (1 min) before → after |',
    '|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const notes: string[] = [];
  for (const row of rows) {
    const label = STORM_LABELS[row.system];
    if ('error' in row) {
      lines.push(
        `| ${label} | ${count(row.devices)} | failed: ${row.error.replaceAll('|', '/').slice(0, 200)} | — | — | — | — | — | — | — | — | — | — | — | — | — | — |`,
      );
      continue;
    }
    const { report } = row;
    const replays = row.system === 'lockstep-2';
    const lost = report.owed - report.received;
    const cues = replays
      ? `${count(report.owed)} / ${count(report.received)} / ${count(lost)} / ${count(report.duplicates)}${report.primedDuplicates ? ` (${count(report.primedDuplicates)} held before the kill)` : ''}`
      : `no replay (${count(report.duplicates)} shown twice)`;
    const cells = [
      label,
      count(row.devices),
      `${count(report.backMs.length)} / ${count(report.reconnecting)}`,
      seconds(allOf(report.backMs, report.reconnecting)),
      replays ? seconds(allOf(report.doneMs, report.reconnecting)) : '— (= all back)',
      spread(report.backMs),
      replays ? spread(report.doneMs) : '—',
      cues,
      replays ? count(report.issuedBeforeBack) : '—',
      count(report.failedAttempts),
      count(report.errors),
      percent(row.survivor.cpu),
      framesAndKb(row.sentPerDeviceBack),
      percent(row.redisCpu),
      percent(row.otherCpu),
      `${ms(row.survivor.loopDelayP99Ms)} / ${ms(row.survivor.loopDelayMaxMs)}`,
      `${row.load.before.toFixed(2)} → ${row.load.after.toFixed(2)}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
    notes.push(
      `${label}: the storm settled ${row.windowS.toFixed(1)} s after the kill (the CPU window); ${fleetCount} device fleets used ${percent(row.fleets.cpu)} of a core, loop delay p99 ${ms(row.fleets.loopDelayP99Ms)} ms.` +
        (row.prime
          ? ` Before the kill each lead fired ${settings.primeCuesPerLead} cues: ${count(row.prime.received)} of ${count(row.prime.owed)} held by their drivers, ${row.prime.refused} refused, ${row.prime.duplicates} shown twice; A was killed ${settings.primeSettleMs / 1000} s after the drivers held them${settings.primeSettleMs === 0 ? ' (--storm-in-flight: receipts of the last ones may have died with A)' : ', past their undelivered deadline'}.`
          : '') +
        (report.errorSamples.length ? ` First errors: ${report.errorSamples.join('; ')}` : ''),
    );
  }
  return [
    ...lines,
    '',
    `- Reconnect pacing, the same for both systems: ${pacingNote(pacing)}`,
    `- **back** = the device's socket connected to node B (\`connect\` event). **back with cues** = back, and holding the cue its lead fired right after the kill (each lead is on B, so the cue is accepted while its drivers are gone; it reaches them by the replay after \`lastSeq\`, or live when the driver is back first). A cue id a device already held (including the ${settings.primeCuesPerLead} open cues from before the kill) counts as shown twice, up to ${settings.tailMs / 1000} s after the storm settled; an owed cue not held ${settings.boundMs / 1000} s after the kill is lost.`,
    '- The bare relay has no store and no replay: its devices are done when they are connected, and it fires no cues (its two relays share nothing). Its time is what reconnecting alone costs: the target compares Lockstep\'s "all back with cues" with it.',
    "- **Frames sent**: every engine.io packet the survivor wrote to a device (each a WebSocket frame and a write to its socket: pings, probes, acknowledgements such as the snapshot, and every event), from the kill until the storm settled (a longer storm also holds more probes), divided by the devices that came back; kB are the packets' payloads. A frame costs the survivor a socket write whatever its size: this is the work each protocol asks of a reconnect, apart from how well a server does it.",
    `- Survivor, Redis and the rest of the machine (other processes and the bench orchestrator; not the device fleets) in % of one core, from the kill until the storm settled: a busy rest of the machine makes a row measure contention as much as the server. Load average read just before the kill and when it settled (a 1-minute average lags a storm of seconds).`,
    ...notes.map((note) => `- ${note}`),
    '',
    ...stormTarget(rows),
  ];
}

/** How the devices come back, for the table's note and BENCHMARKS.md's method. */
function pacingNote(pacing: ReconnectPacing): string {
  const { minMs, maxMs, jitter, attemptTimeoutMs } = pacing;
  return `the Lockstep client's own (client/src/lockstep-client.ts), socket.io-client's backoff with reconnectionDelay ${minMs} ms, reconnectionDelayMax ${maxMs} ms, randomizationFactor ${jitter}: each device's first attempt ${Math.round(minMs * (1 - jitter))}–${Math.round(minMs * (1 + jitter))} ms after it sees its socket close, then ${minMs * 2}, ${minMs * 4} ms … up to ${maxMs} ms, each ± ${Math.round(jitter * 100)} %; ${attemptTimeoutMs / 1000} s connect timeout. Every device on its own timer, no cap on connects in flight.`;
}

/** The storm's paragraph of BENCHMARKS.md's method: its results are printed, not written there. */
export function stormMethod(settings: StormSettings): string {
  return [
    `**Reconnect storm** (\`npm run bench -- --storm [--storm-devices 5000]\`, issue #12; it prints its own table and does not write this file). Two server processes: two bare relays, or two Lockstep nodes on one Redis and key prefix. Every device is on node A except the leads, which are on node B. Lockstep's drivers first receive ${settings.primeCuesPerLead} cues from their lead and answer none, so they stay open; A is killed ${settings.primeSettleMs / 1000} s after they hold them, past the cues' undelivered deadline (\`--storm-in-flight\` kills at once, with receipts possibly still in flight).`,
    `Node A gets SIGKILL; at once each lead, still on B, fires one more cue to its convoy, which its drivers can get only from the replay after \`lastSeq\` (or live, when a driver is back before the issue is accepted: the table counts the owed cues accepted first). A's devices come back to B (the fleet points them at B, as a load balancer would) with \`lastSeq\` the highest seq they hold, and each asks for its mission's snapshot once back, as every Lockstep screen does. Reconnect pacing, the same for both systems: ${pacingNote(settings.pacing)}`,
    `Measured from the SIGKILL: until every device of A is connected to B (**all back**), and for Lockstep until every driver also holds the cue it is owed (**all back with cues**), with per-device p50 / p99 / max; a cue id a device already holds counts as shown twice, an owed cue not held ${settings.boundMs / 1000} s after the kill as lost; the survivor's CPU and event-loop delay, Redis's and the rest of the machine's CPU over the same window. The bare relay has no store and no replay: its time is reconnecting alone, the base of the issue's 1.5× target.`,
  ].join('\n\n');
}

/** Issue #12's target, measured, never asserted. */
function stormTarget(rows: readonly (StormRow | FailedStorm)[]): string[] {
  const measured = (system: StormSystem) => rows.find((row): row is StormRow => row.system === system && !('error' in row));
  const bare = measured('bare');
  const lockstep = measured('lockstep-2');
  if (!bare || !lockstep) return ['Target (issue #12): needs both systems measured.'];
  const bareBack = allOf(bare.report.backMs, bare.report.reconnecting);
  const lockstepDone = allOf(lockstep.report.doneMs, lockstep.report.reconnecting);
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
  const ratio = bareBack !== undefined && lockstepDone !== undefined ? lockstepDone / bareBack : undefined;
  const lost = lockstep.report.owed - lockstep.report.received;
  return [
    `Target (issue #12) at ${count(lockstep.devices)} devices, measured, not asserted:`,
    `- every device back with its cues ≤ 1.5× bare's reconnect: ${seconds(lockstepDone)} s vs ${seconds(bareBack)} s = ${ratio === undefined ? 'n/a (not every device made it)' : `${ratio.toFixed(2)}× — ${verdict(ratio <= 1.5)}`}`,
    `- 0 lost, 0 shown twice: ${lost} lost, ${lockstep.report.duplicates} shown twice — ${verdict(lost === 0 && lockstep.report.duplicates === 0)}`,
  ];
}
