import { type LatencySummary, summarise } from './latency.ts';
import { CONTENDED_MARK, contended, latency, ms } from './report.ts';
import { SYSTEM_LABELS, type ScenarioResult, type SystemName } from './scenario.ts';

/**
 * One row's runs pooled (`--repeat N`). A run's p99 is about its 10th-slowest cue of ~1,000,
 * and at thousands of devices both servers pause ~20 ms for a young-generation collection about
 * once a second, so one run's p99 moves 2–3× with how many cues happen to land in a pause.
 * Pooled over N runs (interleaved with the other systems, so a drifting machine touches all
 * alike) the percentiles stand on N times the samples; the other figures are the runs' median.
 */
export interface PooledRow {
  system: SystemName;
  devices: number;
  runs: number;
  contendedRuns: number;
  relay: LatencySummary | undefined;
  answer: LatencySummary | undefined;
  /** Each run's own relay p99, to show the spread the pool smooths. */
  relayP99s: number[];
  connectS: number;
  loopDelayP99Ms: number | undefined;
  serverCpu: number | undefined;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const medianOf = (values: readonly (number | undefined)[]) => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? median(known) : undefined;
};

export function poolRows(results: readonly ScenarioResult[]): PooledRow[] {
  const groups = new Map<string, ScenarioResult[]>();
  for (const result of results) {
    const key = `${result.devices} ${result.system}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  return [...groups.values()].map((runs) => ({
    system: runs[0]!.system,
    devices: runs[0]!.devices,
    runs: runs.length,
    contendedRuns: runs.filter(contended).length,
    relay: summarise(runs.flatMap((r) => r.samples.relayUs)),
    answer: summarise(runs.flatMap((r) => r.samples.answerUs)),
    relayP99s: runs.flatMap((r) => (r.relay ? [r.relay.p99] : [])),
    connectS: median(runs.map((r) => r.timings.connectS)),
    loopDelayP99Ms: medianOf(runs.map((r) => r.server?.loopDelayP99Ms)),
    serverCpu: medianOf(runs.map((r) => r.cpu?.server)),
  }));
}

export function pooledTable(rows: readonly PooledRow[]): string {
  const lines = [
    '| system | devices | runs | cues | relay ms, pooled (p50 / p90 / p99 / p99.9 / max) | each run’s relay p99 ms | answer recorded ms, pooled (p50 / p90 / p99 / p99.9 / max) | connect s (median) | loop delay p99 ms (median) | server CPU (median) |',
    '|---|---:|---:|---:|---|---|---|---:|---:|---:|',
  ];
  for (const row of rows) {
    const label = `${SYSTEM_LABELS[row.system]}${row.contendedRuns ? ` ${CONTENDED_MARK}${row.contendedRuns}` : ''}`;
    lines.push(
      `| ${label} | ${row.devices.toLocaleString('en-US')} | ${row.runs} | ${row.relay?.count ?? 0} | ${latency(row.relay)} | ${row.relayP99s.map(ms).join(', ')} | ${latency(row.answer)} | ${row.connectS.toFixed(1)} | ${row.loopDelayP99Ms === undefined ? '—' : ms(row.loopDelayP99Ms)} | ${row.serverCpu === undefined ? '—' : `${Math.round(row.serverCpu * 100)} %`} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Issue #12's ratios on the pooled figures: relay p99 against bare at each size, one node and two;
 * and, beside them, one node and two, what one Redis write before each relay costs bare
 * (bare + write / bare) and what Lockstep costs on top of that write (lockstep / bare + write).
 */
export function pooledRatios(rows: readonly PooledRow[]): string[] {
  const find = (system: SystemName, devices: number) => rows.find((r) => r.system === system && r.devices === devices);
  const lines: string[] = [];
  for (const devices of [...new Set(rows.map((r) => r.devices))]) {
    for (const [system, base, target] of [
      ['lockstep', 'bare', true],
      ['bare-write', 'bare', false],
      ['lockstep', 'bare-write', false],
      ['lockstep-2', 'bare-2', true],
      ['bare-2-write', 'bare-2', false],
      ['lockstep-2', 'bare-2-write', false],
    ] as const) {
      const ours = find(system, devices);
      const theirs = find(base, devices);
      if (!ours?.relay || !theirs?.relay) continue;
      lines.push(
        `- ${devices.toLocaleString('en-US')} devices, ${SYSTEM_LABELS[system]} / ${SYSTEM_LABELS[base]}: relay p50 ${(ours.relay.p50 / theirs.relay.p50).toFixed(2)}×, relay p99 ${ms(ours.relay.p99)} / ${ms(theirs.relay.p99)} ms = ${(ours.relay.p99 / theirs.relay.p99).toFixed(2)}×, connect ${(ours.connectS / theirs.connectS).toFixed(2)}×${target ? ' (target ≤ 1.5× each)' : ''}; answer recorded p99 ${ms(ours.answer?.p99 ?? 0)} ms.`,
      );
    }
  }
  return lines;
}
