import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { LatencySummary } from './latency.ts';
import { framesAndKb } from './process-stats.ts';
import { SYSTEM_LABELS, type BenchSettings, type ScenarioResult } from './scenario.ts';
import { STORM_SETTINGS, stormMethod } from './storm.ts';

export type RunMode = 'full' | 'quick';

/** A scenario that threw: its row says so instead of numbers. */
export interface FailedScenario {
  label: string;
  devices: number;
  error: string;
}

export type Row = ScenarioResult | FailedScenario;

export const isFailed = (row: Row): row is FailedScenario => 'error' in row;

/** Other processes busier than this (share of one core, fire window) make a row's latency not comparable. */
const CONTENDED_SHARE = 0.25;
export const CONTENDED_MARK = '†';
export const contended = (row: ScenarioResult) => (row.cpu?.other ?? 0) > CONTENDED_SHARE;
const labelOf = (row: ScenarioResult) => `${SYSTEM_LABELS[row.system]}${contended(row) ? ` ${CONTENDED_MARK}` : ''}`;

/** A note for the report when some rows ran on a busy machine. */
export function contentionNote(rows: readonly Row[]): string | undefined {
  const busy = rows.filter((row): row is ScenarioResult => !isFailed(row) && contended(row));
  if (busy.length === 0) return undefined;
  return `${CONTENDED_MARK} Other processes on the machine used more than ${CONTENDED_SHARE * 100} % of a core during ${busy.length} of ${rows.length} fire windows ("rest of the machine" in the CPU table): those rows' latency and loop delay measure contention as much as the server.`;
}

const count = (value: number) => value.toLocaleString('en-US');
export const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const percent = (share: number | undefined) => (share === undefined ? 'n/a' : `${Math.round(share * 100)} %`);
export const latency = (summary: LatencySummary | undefined) =>
  summary ? `${ms(summary.p50)} / ${ms(summary.p90)} / ${ms(summary.p99)} / ${ms(summary.p999)} / ${ms(summary.max)}` : '—';

export function machine(): string {
  const cores = cpus();
  return `${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 1024 ** 3)} GB, Node ${process.version}, ${process.platform}`;
}

/** Which server was measured: the commit, and whether server/ or shared/ had uncommitted changes. */
export function serverRevision(repoRoot: string): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repoRoot, ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    const commit = git('log', '-1', '--format=%h %s', '--', 'server', 'shared');
    return git('status', '--porcelain', '--', 'server', 'shared') ? `${commit} (plus uncommitted changes in server/ or shared/)` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export function resultsTable(rows: readonly Row[]): string {
  const lines = [
    '| system | devices | cues received / sent | relay ms (p50 / p90 / p99 / p99.9 / max) | answer recorded ms (p50 / p90 / p99 / p99.9 / max) | connect s | frames / kB sent per device at connect | server RSS MB | RSS MB per 1k devices | heap MB per 1k devices | idle server CPU | loop delay p99 / max ms | server CPU s | errors |',
    '|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    if (isFailed(row)) {
      lines.push(
        `| ${row.label} | ${count(row.devices)} | failed: ${row.error.replaceAll('|', '/').slice(0, 200)} | — | — | — | — | — | — | — | — | — | — | — |`,
      );
      continue;
    }
    const memory = `${row.timings.connectS.toFixed(1)} | ${framesAndKb(row.sentAtConnect)} | ${row.memory.rssMb.toFixed(0)} | ${row.memory.rssPerThousandMb.toFixed(1)} | ${row.memory.heapPerThousandMb.toFixed(1)} | ${percent(row.idleServerCpu)}`;
    if (row.unsupported) {
      lines.push(`| ${labelOf(row)} | ${count(row.devices)} | ${row.unsupported} | — | — | ${memory} | — | — | ${row.errors} |`);
      continue;
    }
    const cues = `${count(row.receivedCues)} / ${count(row.expectedCues)}${row.duplicateCues ? ` (+${row.duplicateCues} dup)` : ''}`;
    const server = row.server
      ? `${ms(row.server.loopDelayP99Ms)} / ${ms(row.server.loopDelayMaxMs)} | ${row.server.cpuSeconds.toFixed(1)}`
      : '— | —';
    lines.push(
      `| ${labelOf(row)} | ${count(row.devices)} | ${cues} | ${latency(row.relay)} | ${latency(row.answer)} | ${memory} | ${server} | ${row.errors} |`,
    );
  }
  return lines.join('\n');
}

/** The fire window's collector pauses, as the CPU table prints them: "9, 283 / 2, 15 · 63.6". */
function pauses(server: ScenarioResult['server']): string {
  if (!server) return 'n/a';
  const { gc } = server;
  return `${gc.scavenges}, ${gc.scavengeMs.toFixed(0)} / ${gc.others}, ${gc.otherMs.toFixed(0)} · ${ms(server.gcLongestMs)}`;
}

export function cpuTable(rows: readonly Row[], fleets: number): string {
  const lines = [
    `| system | devices | fire window s | server(s) | server collector pauses: scavenges / others (count, ms), longest ms | redis | ${fleets} device fleets | bench orchestrator | rest of the machine | device fleet loop delay p99 ms |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    if (isFailed(row) || !row.cpu) continue;
    const { cpu } = row;
    lines.push(
      `| ${labelOf(row)} | ${count(row.devices)} | ${cpu.windowS.toFixed(1)} | ${percent(cpu.server)} | ${pauses(row.server)} | ${percent(cpu.redis)} | ${percent(cpu.fleets)} | ${percent(cpu.bench)} | ${percent(cpu.other)} | ${ms(cpu.fleetLoopDelayP99Ms)} |`,
    );
  }
  return lines.join('\n');
}

const measured = (rows: readonly Row[], system: ScenarioResult['system'], devices: number) =>
  rows.find((row): row is ScenarioResult => !isFailed(row) && row.system === system && row.devices === devices && !row.unsupported);

/** Relay p99 of `system` over that of its `base`, at `devices`; undefined unless both were measured. */
function relayP99Ratio(
  rows: readonly Row[],
  system: ScenarioResult['system'],
  base: ScenarioResult['system'],
  devices: number,
): number | undefined {
  const over = measured(rows, system, devices)?.relay;
  const under = measured(rows, base, devices)?.relay;
  return over && under ? over.p99 / under.p99 : undefined;
}

const verdict = (met: boolean) => (met ? 'met' : 'MISSED');

/**
 * The targets of issue #5, measured at `devices`, and issue #12's two-node relay target at the run's `largest` size:
 * stated, never asserted.
 */
export function targets(rows: readonly Row[], devices: number, largest: number): string[] {
  const twoNodes = relayP99Ratio(rows, 'lockstep-2', 'bare-2', largest);
  const aboveWrite = relayP99Ratio(rows, 'lockstep-2', 'bare-2-write', largest);
  const twoNodeLine = `- two nodes at ${count(largest)} devices: relay p99 lockstep-2 / bare-2 ≤ 1.5× (issue #12): ${twoNodes === undefined ? 'n/a' : `${twoNodes.toFixed(2)}× — ${verdict(twoNodes <= 1.5)}`}${aboveWrite === undefined ? '' : ` (lockstep-2 / bare-2 + a Redis write: ${aboveWrite.toFixed(2)}×)`}`;
  const bare = measured(rows, 'bare', devices);
  const lockstep = measured(rows, 'lockstep', devices);
  if (!bare || !lockstep) return [`targets at ${count(devices)} devices: not measured`, twoNodeLine];
  const relayRatio = relayP99Ratio(rows, 'lockstep', 'bare', devices);
  const memoryRatio = lockstep.memory.rssPerThousandMb / bare.memory.rssPerThousandMb;
  const lost = lockstep.expectedCues - lockstep.receivedCues;
  const loop = lockstep.server?.loopDelayP99Ms;
  return [
    `Targets at ${count(devices)} devices (measured, not asserted):`,
    `- relay p99 ≤ 2.0× bare: ${relayRatio === undefined ? 'n/a' : `${relayRatio.toFixed(2)}× — ${verdict(relayRatio <= 2)}`}`,
    `- server RSS per idle device ≤ 1.5× bare: ${memoryRatio.toFixed(2)}× (${lockstep.memory.rssPerThousandMb.toFixed(1)} vs ${bare.memory.rssPerThousandMb.toFixed(1)} MB per 1k) — ${verdict(memoryRatio <= 1.5)}`,
    `- no error, no lost cue: ${lockstep.errors} errors, ${lost} lost — ${verdict(lockstep.errors === 0 && lost === 0)}`,
    `- event-loop delay p99 ≤ 20 ms: ${loop === undefined ? 'n/a' : `${ms(loop)} ms — ${verdict(loop <= 20)}`}`,
    twoNodeLine,
  ];
}

export function ratioLine(rows: readonly Row[], devices: number): string {
  const ratio = relayP99Ratio(rows, 'lockstep', 'bare', devices);
  const floor = relayP99Ratio(rows, 'bare-write', 'bare', devices);
  const above = relayP99Ratio(rows, 'lockstep', 'bare-write', devices);
  const shown = (value: number | undefined) => (value === undefined ? 'n/a' : value.toFixed(2));
  return `relay p99 ratio (lockstep / bare socket.io) at ${count(devices)} devices: ${shown(ratio)}; bare + a Redis write / bare: ${shown(floor)}; lockstep / bare + a Redis write: ${shown(above)}`;
}

export function method(settings: BenchSettings): string {
  return [
    `Each system runs in its own server process, fresh for every size; device-fleet processes hold the simulated devices (a mission's lead and drivers always in the same fleet); Redis is a spawned redis-server (AOF, fsync every second); everything on 127.0.0.1.`,
    `A mission is one lead, one ops board and three drivers. Leads of at most ${Math.floor((settings.maxCuesPerSecond * settings.periodMs) / 1000 / 3)} missions fire a convoy-wide \`box-in\` every ${settings.periodMs / 1000} s, spread evenly (≤ ${settings.maxCuesPerSecond} cues/s), over a fire window; every device answers every probe (3 s), and a Lockstep device asks for its mission's snapshot once connected, as every Lockstep screen does.`,
    "**relay** = lead emits `trigger:issue` → driver receives `trigger`; **answer recorded** = same start → the reply to the driver's `trigger:respond` (sent at once on receipt). Both ends are read from the one `performance.now()` of the fleet process holding the lead and its drivers, so no clock offset enters; the fleet's own event-loop delay (CPU table) bounds the measuring error. HDR histograms, 3 significant digits; with about 1,000 cues a row (fewer in --quick), p99.9 is the largest sample or next to it.",
    `Missions and members are created through the HTTP API of a separate setup node on the same Redis and key prefix, which exits before the measured node(s) see a device: their baseline holds no setup garbage, like the bare relay's.`,
    `Memory: server RSS and heap after a forced GC, with every device connected and idle for a while, minus the same before any device connected, per 1,000 devices. **Idle server CPU** is over that idle time (liveness probes only). **Frames / kB sent per device at connect**: every engine.io packet the server(s) handed a device while the devices connected (the socket's connect, probes, replies such as the snapshot, every event), per device; kB are the packets' payloads. Each frame is a write to a socket whatever its size. Loop delay (perf_hooks, 10 ms sampling, the sampling period subtracted), CPU and the **collector pauses** (perf_hooks \`gc\` entries: young-generation scavenges apart from mark-compact and its incremental steps, with the longest single pause) are over the fire window. A relay percentile that lands in a pause is set by how often the server stops and for how long, which is why the p99 of about 1,000 cues moves so much between runs of the same code. Two nodes: lead on node A, everyone else on node B, one Redis, one key prefix; memory and CPU are the sum of both, loop delay the worse.`,
    "The bare relay is socket.io with rooms and the same 3 s probe, forwarding the issue to the drivers' room with a receipt ack and answering ok: no validation, no authority, no store.",
    "**bare socket.io + a Redis write** (bare-write) is the same relay writing each issue and each answer to the bench's Redis (one SET) before it relays or answers it: the least any relay pays that records a cue before showing it, as Lockstep must (a cue's seq comes from the store). Lockstep / bare-write is what Lockstep costs on top of that write.",
    "**bare socket.io, 2 nodes** (bare-2) is two such relays joined by @socket.io/redis-adapter on the bench's Redis, with the package version, Redis client settings and adapter key Lockstep's nodes use, under a fresh key prefix per scenario. It is placed like lockstep-2 (lead on relay A, everyone else on relay B, so every cue crosses the adapter), runs wherever lockstep-2 does, and is the base of issue #12's two-node target (relay p99 ≤ 1.5×, read at the run's largest size). **bare socket.io, 2 nodes + a Redis write** (bare-2-write) is that pair writing each issue (relay A) and each answer (relay B) first, as bare-write does.",
    stormMethod(STORM_SETTINGS),
  ].join('\n\n');
}

export interface RunRecord {
  mode: RunMode;
  revision: string;
  date: Date;
  fleets: number;
  settings: BenchSettings;
  rows: readonly Row[];
  largest: number;
  /** Where the issue's targets are read: 5,000 devices when the run has them. */
  targetSize: number;
  notes: readonly string[];
}

export function section(run: RunRecord): string {
  return [
    `## ${run.mode === 'full' ? 'Full run' : 'Quick run (`--quick`)'} — ${run.date.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${machine()}. Server: ${run.revision}.`,
    '',
    `Fire window ${run.settings.fireMs / 1000} s per row; devices idle ${run.settings.settleMs / 1000} s before memory is read; ${run.fleets} device fleets.`,
    '',
    resultsTable(run.rows),
    '',
    `CPU split over the fire window (% of one core; the machine has ${cpus().length} cores):`,
    '',
    cpuTable(run.rows, run.fleets),
    '',
    ...(run.notes.length ? [...run.notes.map((note) => `- ${note}`), ''] : []),
    ...targets(run.rows, run.targetSize, run.largest),
    '',
    ratioLine(run.rows, run.largest),
  ].join('\n');
}

const HEADER = `# Lockstep benchmarks

Written by \`npm run bench\` (bench/run.ts). A full run replaces the full-run section, \`npm run bench -- --quick\` the quick-run section; git history keeps earlier results. Compare runs only on the same machine line.`;

/** Replaces this mode's section of BENCHMARKS.md, keeping the other mode's. */
export function writeBenchmarks(path: string, run: RunRecord): void {
  const begin = (mode: RunMode) => `<!-- bench:${mode} -->`;
  const end = (mode: RunMode) => `<!-- /bench:${mode} -->`;
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const kept = (mode: RunMode) => {
    const from = previous.indexOf(begin(mode));
    const to = previous.indexOf(end(mode));
    return from >= 0 && to > from
      ? previous.slice(from + begin(mode).length, to).trim()
      : `## ${mode === 'full' ? 'Full run' : 'Quick run'}\n\nNot run yet.`;
  };
  const body = (mode: RunMode) => (mode === run.mode ? section(run) : kept(mode));
  // Sections written by hand after the generated ones (the gap bench's, before and after) are kept as they are.
  const quickEnd = previous.indexOf(end('quick'));
  const byHand = quickEnd >= 0 ? previous.slice(quickEnd + end('quick').length).trim() : '';
  const text = [
    HEADER,
    '## Method',
    method(run.settings),
    ...(['full', 'quick'] as const).map((mode) => `${begin(mode)}\n${body(mode)}\n${end(mode)}`),
    ...(byHand ? [byHand] : []),
  ].join('\n\n');
  writeFileSync(path, `${text}\n`);
}
