import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { cpuSecondsOfPid, machineBusySeconds } from './cpu.ts';
import type { FireReport, FiringMission, FleetRpc, MissionDevices } from './fleet/plan.ts';
import { BenchChild } from './ipc.ts';
import { summarise, type LatencySummary } from './latency.ts';
import { bareMissions, createLockstepMissions, DEVICES_PER_MISSION, type Placement } from './missions.ts';
import { pausesBetween, sentPerDevice, type GcPauses, type ProcessStats, type SentCount, type StatsRpc } from './process-stats.ts';
import type { RedisServer } from '@lockstep/test/support/redis-server';
import type { LockstepNodeRpc } from './servers/lockstep-node.ts';
import { SERVER_NODE_FLAGS } from './servers/node-flags.ts';

export const SYSTEMS = ['bare', 'bare-write', 'lockstep', 'bare-2', 'bare-2-write', 'lockstep-2'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const SYSTEM_LABELS: Record<SystemName, string> = {
  bare: 'bare socket.io',
  'bare-write': 'bare socket.io + a Redis write',
  lockstep: 'lockstep',
  'bare-2': 'bare socket.io, 2 nodes',
  'bare-2-write': 'bare socket.io, 2 nodes + a Redis write',
  'lockstep-2': 'lockstep, 2 nodes',
};

/** Two server processes on one Redis, the lead on A and everyone else on B: each cue crosses the adapter. */
export const isTwoNodes = (system: SystemName) => system === 'bare-2' || system === 'bare-2-write' || system === 'lockstep-2';

export const UNSUPPORTED_MULTI_NODE = 'not yet supported (issue #4)';

export interface BenchSettings {
  periodMs: number;
  /** Cap on cues per second across the run: missions beyond it stay connected but idle. */
  maxCuesPerSecond: number;
  fireMs: number;
  drainMs: number;
  /** Idle time after the last connect before memory is read (the first probes are answered by then). */
  settleMs: number;
  /** How long the two-node canary waits for its cues before calling the relay unsupported (or, for a bare pair, broken). */
  canaryMs: number;
  ackTimeoutMs: number;
  connectConcurrency: number;
  setupConcurrency: number;
  /** Where to write a CPU profile of the Lockstep node's fire window; none when undefined. */
  profilePath: string | undefined;
}

export interface RunContext {
  redis: RedisServer;
  fleets: readonly BenchChild<FleetRpc>[];
  settings: BenchSettings;
  progress: (line: string) => void;
}

/** Share of one core each party used over the fire window. */
export interface CpuSplit {
  windowS: number;
  server: number;
  redis: number | undefined;
  fleets: number;
  bench: number;
  /** Everything else on the machine (other users' tests, the OS): the bench does not control it. */
  other: number | undefined;
  fleetLoopDelayP99Ms: number;
}

export interface ScenarioResult {
  system: SystemName;
  devices: number;
  /** Set when the system cannot relay yet (two nodes before issue #4): no latency then. */
  unsupported: string | undefined;
  relay: LatencySummary | undefined;
  answer: LatencySummary | undefined;
  /** The samples behind `relay` and `answer`, µs, so runs of one row can be pooled (--repeat). */
  samples: { relayUs: number[]; answerUs: number[] };
  triggers: number;
  expectedCues: number;
  receivedCues: number;
  duplicateCues: number;
  errors: number;
  errorSamples: string[];
  memory: { rssMb: number; rssPerThousandMb: number; heapPerThousandMb: number };
  /** Server CPU, % of one core, while every device was connected and idle: what liveness alone costs. */
  idleServerCpu: number;
  /** Over the fire window; undefined when there was none. */
  server: { loopDelayP99Ms: number; loopDelayMaxMs: number; cpuSeconds: number; gc: GcPauses; gcLongestMs: number } | undefined;
  cpu: CpuSplit | undefined;
  timings: { setupS: number; connectS: number };
  /** What the server(s) wrote to devices while they connected, per device (see SentCount). */
  sentAtConnect: SentCount | undefined;
}

const MB = 1024 * 1024;
const START_TIMEOUT_MS = 30_000;
const RPC_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (fromMs: number) => (performance.now() - fromMs) / 1000;
const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

function statsOfAll(children: readonly BenchChild<StatsRpc>[], gc: boolean, resetLoopDelay: boolean): Promise<ProcessStats[]> {
  return Promise.all(children.map((child) => child.call('stats', { gc, resetLoopDelay }, RPC_TIMEOUT_MS)));
}

/** Missions that fire, spread evenly over the list, with their first issue spread evenly over one period. */
export function firingPlan(missions: readonly MissionDevices[], settings: BenchSettings): FiringMission[] {
  const driversPerMission = DEVICES_PER_MISSION - 2;
  const cap = Math.floor((settings.maxCuesPerSecond * settings.periodMs) / 1000 / driversPerMission);
  const firing = Math.max(1, Math.min(missions.length, cap));
  return Array.from({ length: firing }, (_, k) => ({
    key: missions[Math.floor((k * missions.length) / firing)]?.key ?? '',
    offsetMs: (k * settings.periodMs) / firing,
  }));
}

interface Deployment {
  /** The processes measured: one or two bare relays, or one or two Lockstep nodes. */
  servers: BenchChild<StatsRpc>[];
  profiled: BenchChild<LockstepNodeRpc> | undefined;
  missions: MissionDevices[];
  setupS: number;
}

/** A fresh key prefix per scenario: nothing of an earlier scenario is read, counted or relayed. */
const freshPrefix = () => `bench:${randomUUID()}:`;

/** Where bare relays meet: relays on one Redis url and key prefix are one hub through @socket.io/redis-adapter. */
export interface BareHub {
  url: string;
  prefix: string;
}

/** Where a bare relay goes: joined to other relays through `hub`, and writing what it relays to `writeUrl`; alone and storeless without either. */
export interface BareRelayOptions {
  hub?: BareHub;
  writeUrl?: string;
}

/** One bare relay process, and where it listens. */
export async function startBareRelay(
  name: string,
  { hub, writeUrl }: BareRelayOptions = {},
): Promise<{ relay: BenchChild<StatsRpc>; url: string }> {
  const relay = await BenchChild.start<StatsRpc>(name, './servers/bare-relay.ts', {
    nodeFlags: SERVER_NODE_FLAGS,
    env: {
      ...(hub ? { BENCH_REDIS_URL: hub.url, BENCH_REDIS_PREFIX: hub.prefix } : {}),
      ...(writeUrl ? { BENCH_WRITE_URL: writeUrl } : {}),
    },
    startTimeoutMs: START_TIMEOUT_MS,
  });
  if (!relay.url) {
    await relay.stop(STOP_GRACE_MS);
    throw new Error(`${name} did not say where it listens`);
  }
  return { relay, url: relay.url };
}

/**
 * Lockstep nodes named `names`, on one Redis and one fresh key prefix (one hub), with `missionCount`
 * missions placed by `place` from the nodes' urls. The missions are made through the HTTP API of a
 * separate setup node on the same Redis and prefix, which then exits: the measured nodes start as
 * fresh as the bare relay, with no setup garbage in their baseline.
 */
export async function deployLockstep(
  names: readonly string[],
  missionCount: number,
  place: (urls: readonly string[]) => Placement,
  redis: RedisServer,
  setupConcurrency: number,
): Promise<{ nodes: BenchChild<LockstepNodeRpc>[]; missions: MissionDevices[] }> {
  const adminToken = `bench-admin-${randomUUID()}`;
  const env = { BENCH_REDIS_URL: redis.url, BENCH_REDIS_PREFIX: freshPrefix(), BENCH_ADMIN_TOKEN: adminToken };
  const start = (name: string, nodeFlags: string[]) =>
    BenchChild.start<LockstepNodeRpc>(name, './servers/lockstep-node.ts', {
      nodeFlags,
      env: { ...env, BENCH_JOURNAL_PATH: join(redis.dir, `journal-${randomUUID()}.jsonl`) },
      startTimeoutMs: START_TIMEOUT_MS,
    });
  const started = await Promise.allSettled([start('lockstep setup node', []), ...names.map((name) => start(name, SERVER_NODE_FLAGS))]);
  const all = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failure = started.find((outcome) => outcome.status === 'rejected');
  if (failure) {
    await Promise.all(all.map((node) => node.stop(STOP_GRACE_MS)));
    throw failure.reason;
  }
  const [setup, ...nodes] = all;
  try {
    const urls = nodes.flatMap((node) => (node.url ? [node.url] : []));
    if (!setup?.url || urls.length !== names.length) throw new Error('a Lockstep node did not say where it listens');
    const missions = await createLockstepMissions(setup.url, adminToken, missionCount, place(urls), setupConcurrency);
    await setup.stop(STOP_GRACE_MS);
    return { nodes, missions };
  } catch (error) {
    await Promise.all(all.map((node) => node.stop(STOP_GRACE_MS)));
    throw error;
  }
}

/**
 * Two bare relays on one Redis and a fresh key prefix, the lead on A and everyone else on B, as for lockstep-2;
 * with `writes`, each writes what it relays or answers to that Redis first.
 */
async function deployBarePair(
  missionCount: number,
  redis: RedisServer,
  writes: boolean,
): Promise<{ servers: BenchChild<StatsRpc>[]; missions: MissionDevices[] }> {
  const options = { hub: { url: redis.url, prefix: freshPrefix() }, ...(writes ? { writeUrl: redis.url } : {}) };
  const started = await Promise.allSettled([startBareRelay('bare relay A', options), startBareRelay('bare relay B', options)]);
  const relays = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failure = started.find((outcome) => outcome.status === 'rejected');
  const [a, b] = relays;
  if (failure || !a || !b) {
    await Promise.all(relays.map(({ relay }) => relay.stop(STOP_GRACE_MS)));
    throw failure?.reason ?? new Error('a bare relay did not start');
  }
  return { servers: [a.relay, b.relay], missions: bareMissions({ leadUrl: a.url, othersUrl: b.url }, missionCount) };
}

/** Starts the measured server(s) and creates the missions: one node, or two with the lead on A and everyone else on B. */
async function deploy(system: SystemName, missionCount: number, context: RunContext): Promise<Deployment> {
  const setupStart = performance.now();
  if (system === 'bare' || system === 'bare-write') {
    const writes = system === 'bare-write';
    const { relay, url } = await startBareRelay(
      writes ? 'bare relay writing to Redis' : 'bare relay',
      writes ? { writeUrl: context.redis.url } : {},
    );
    const missions = bareMissions({ leadUrl: url, othersUrl: url }, missionCount);
    return { servers: [relay], profiled: undefined, missions, setupS: seconds(setupStart) };
  }
  if (system === 'bare-2' || system === 'bare-2-write') {
    const { servers, missions } = await deployBarePair(missionCount, context.redis, system === 'bare-2-write');
    return { servers, profiled: undefined, missions, setupS: seconds(setupStart) };
  }
  const names = system === 'lockstep' ? ['lockstep node'] : ['lockstep node A', 'lockstep node B'];
  const place = ([first = '', second = first]: readonly string[]): Placement => ({ leadUrl: first, othersUrl: second });
  const { nodes, missions } = await deployLockstep(names, missionCount, place, context.redis, context.settings.setupConcurrency);
  return { servers: nodes, profiled: system === 'lockstep' ? nodes[0] : undefined, missions, setupS: seconds(setupStart) };
}

/** A result with nothing measured in a fire window. */
function unmeasured(system: SystemName, devices: number): Omit<ScenarioResult, 'memory' | 'idleServerCpu' | 'timings' | 'sentAtConnect'> {
  return {
    system,
    devices,
    unsupported: undefined,
    relay: undefined,
    answer: undefined,
    samples: { relayUs: [], answerUs: [] },
    triggers: 0,
    expectedCues: 0,
    receivedCues: 0,
    duplicateCues: 0,
    errors: 0,
    errorSamples: [],
    server: undefined,
    cpu: undefined,
  };
}

function mergeFireReports(reports: readonly FireReport[]): FireReport {
  return {
    relayUs: reports.flatMap((r) => r.relayUs),
    answerUs: reports.flatMap((r) => r.answerUs),
    issued: sum(reports.map((r) => r.issued)),
    issueRefused: sum(reports.map((r) => r.issueRefused)),
    expectedCues: sum(reports.map((r) => r.expectedCues)),
    receivedCues: sum(reports.map((r) => r.receivedCues)),
    duplicateCues: sum(reports.map((r) => r.duplicateCues)),
    answered: sum(reports.map((r) => r.answered)),
    answerRefused: sum(reports.map((r) => r.answerRefused)),
    errors: sum(reports.map((r) => r.errors)),
    errorSamples: reports.flatMap((r) => r.errorSamples),
  };
}

/**
 * One system at one size: fresh server process(es), missions, N connected devices, an idle
 * reading of memory, then a fire window measured for latency, loss, CPU and event-loop delay.
 */
export async function runScenario(system: SystemName, devices: number, context: RunContext): Promise<ScenarioResult> {
  const { settings, fleets, redis } = context;
  const scenarioStart = performance.now();
  const { servers, profiled, missions, setupS } = await deploy(system, Math.ceil(devices / DEVICES_PER_MISSION), context);
  try {
    const before = await statsOfAll(servers, true, false);

    const connectStart = performance.now();
    const shares = fleets.map((_, f) => missions.filter((_, i) => i % fleets.length === f));
    const connected = await Promise.all(
      fleets.map((fleet, f) =>
        fleet.call(
          'connect',
          {
            missions: shares[f] ?? [],
            concurrency: settings.connectConcurrency,
            timeoutMs: RPC_TIMEOUT_MS,
            snapshots: system === 'lockstep' || system === 'lockstep-2',
          },
          RPC_TIMEOUT_MS * 4,
        ),
      ),
    );
    const connectS = seconds(connectStart);
    const sentAtConnect = sentPerDevice(before, await statsOfAll(servers, false, false), devices);
    const connectErrors = connected.flatMap((c) => c.errors);
    const failedConnects = sum(connected.map((c) => c.failed));
    context.progress(
      `${SYSTEM_LABELS[system]} N=${devices}: setup ${setupS.toFixed(1)} s, ${sum(connected.map((c) => c.connected))} devices connected in ${connectS.toFixed(1)} s${failedConnects ? `, ${failedConnects} failed (${connectErrors[0]})` : ''}`,
    );

    const settleStart = performance.now();
    const settled = await statsOfAll(servers, false, false);
    await sleep(settings.settleMs);
    const idle = await statsOfAll(servers, true, false);
    const idleServerCpu = (sum(idle.map((s) => s.cpuSeconds)) - sum(settled.map((s) => s.cpuSeconds))) / seconds(settleStart);
    const memory = {
      rssMb: sum(idle.map((s) => s.rssBytes)) / MB,
      rssPerThousandMb: ((sum(idle.map((s) => s.rssBytes)) - sum(before.map((s) => s.rssBytes))) / MB / devices) * 1000,
      heapPerThousandMb: ((sum(idle.map((s) => s.heapUsedBytes)) - sum(before.map((s) => s.heapUsedBytes))) / MB / devices) * 1000,
    };

    if (isTwoNodes(system)) {
      // Fleet 0 holds mission 0 (lead on node A, drivers on node B): does one cue cross nodes at all?
      const canary = await fleets[0]?.call('canary', { waitMs: settings.canaryMs }, RPC_TIMEOUT_MS);
      if (!canary || canary.received === 0) {
        // The adapter is socket.io's own: bare relays that do not relay across it are a broken bench, not a missing feature.
        if (system !== 'lockstep-2') throw new Error(`the canary cue did not reach relay B from relay A within ${settings.canaryMs} ms`);
        return {
          ...unmeasured(system, devices),
          unsupported: UNSUPPORTED_MULTI_NODE,
          memory,
          idleServerCpu,
          timings: { setupS, connectS },
          sentAtConnect,
          errors: failedConnects,
          errorSamples: connectErrors,
        };
      }
    }

    const firing = firingPlan(missions, settings);
    const fleetOf = new Map(missions.map((m, i) => [m.key, i % fleets.length]));
    const profilePath = profiled ? settings.profilePath : undefined;
    if (profiled && profilePath) await profiled.call('profile:start', { samplingIntervalUs: 1000 }, RPC_TIMEOUT_MS);

    const windowStart = performance.now();
    const serverStart = await statsOfAll(servers, false, true);
    const fleetStart = await statsOfAll(fleets, false, true);
    const redisStart = cpuSecondsOfPid(redis.pid);
    const machineStart = machineBusySeconds();
    const benchStart = process.cpuUsage();
    const fired = await Promise.all(
      fleets.map((fleet, f) =>
        fleet.call(
          'fire',
          {
            firing: firing.filter((m) => fleetOf.get(m.key) === f),
            periodMs: settings.periodMs,
            durationMs: settings.fireMs,
            drainMs: settings.drainMs,
            ackTimeoutMs: settings.ackTimeoutMs,
          },
          settings.fireMs + settings.drainMs + RPC_TIMEOUT_MS,
        ),
      ),
    );
    const benchCpu = process.cpuUsage(benchStart);
    const machineEnd = machineBusySeconds();
    const redisEnd = cpuSecondsOfPid(redis.pid);
    const fleetEnd = await statsOfAll(fleets, false, false);
    const serverEnd = await statsOfAll(servers, false, false);
    const windowS = seconds(windowStart);
    if (profiled && profilePath) await profiled.call('profile:stop', { path: profilePath }, RPC_TIMEOUT_MS);

    const report = mergeFireReports(fired);
    const serverCpu = sum(serverEnd.map((s) => s.cpuSeconds)) - sum(serverStart.map((s) => s.cpuSeconds));
    const fleetCpu = sum(fleetEnd.map((s) => s.cpuSeconds)) - sum(fleetStart.map((s) => s.cpuSeconds));
    const redisCpu = redisStart === undefined || redisEnd === undefined ? undefined : redisEnd - redisStart;
    const benchCpuS = (benchCpu.user + benchCpu.system) / 1e6;
    const machineCpu = machineStart === undefined || machineEnd === undefined ? undefined : machineEnd - machineStart;
    return {
      system,
      devices,
      unsupported: undefined,
      relay: summarise(report.relayUs),
      answer: summarise(report.answerUs),
      samples: { relayUs: report.relayUs, answerUs: report.answerUs },
      triggers: report.issued,
      expectedCues: report.expectedCues,
      receivedCues: report.receivedCues,
      duplicateCues: report.duplicateCues,
      errors: report.errors + failedConnects,
      errorSamples: [...connectErrors, ...report.errorSamples].slice(0, 5),
      memory,
      idleServerCpu,
      server: {
        loopDelayP99Ms: Math.max(...serverEnd.map((s) => s.loopDelayP99Ms)),
        loopDelayMaxMs: Math.max(...serverEnd.map((s) => s.loopDelayMaxMs)),
        cpuSeconds: serverCpu,
        gc: pausesBetween(serverStart, serverEnd),
        gcLongestMs: Math.max(...serverEnd.map((s) => s.gcLongestMs)),
      },
      cpu: {
        windowS,
        server: serverCpu / windowS,
        redis: redisCpu === undefined ? undefined : redisCpu / windowS,
        fleets: fleetCpu / windowS,
        bench: benchCpuS / windowS,
        other:
          machineCpu === undefined ? undefined : Math.max(0, machineCpu - serverCpu - fleetCpu - benchCpuS - (redisCpu ?? 0)) / windowS,
        fleetLoopDelayP99Ms: Math.max(...fleetEnd.map((s) => s.loopDelayP99Ms)),
      },
      timings: { setupS, connectS },
      sentAtConnect,
    };
  } finally {
    await Promise.all(fleets.map((fleet) => fleet.call('disconnect', {}, RPC_TIMEOUT_MS).catch(() => undefined)));
    await Promise.all(servers.map((server) => server.stop(STOP_GRACE_MS)));
    context.progress(`${SYSTEM_LABELS[system]} N=${devices}: done in ${seconds(scenarioStart).toFixed(1)} s`);
  }
}
