import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { Server } from 'socket.io';

/** What one measured process says about itself. CPU is cumulative; the bench takes differences. */
export interface ProcessStats {
  rssBytes: number;
  heapUsedBytes: number;
  cpuSeconds: number;
  /** Event-loop delay since the last reset. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** The garbage collector's pauses, cumulative. */
  gc: GcPauses;
  /** The longest collector pause since the last reset. */
  gcLongestMs: number;
  /** What a server process has written to its devices, cumulative; undefined for a process that serves none. */
  sent: SentCount | undefined;
}

/** Engine.io packets written to devices: each is one WebSocket frame, and a write to its socket. */
export interface SentCount {
  frames: number;
  /** The packets' payloads, in characters (every payload here is ASCII JSON): the frames' size without their headers. */
  bytes: number;
}

/**
 * Young-generation scavenges apart from everything else the collector stops the process for
 * (mark-compact, incremental marking steps, weak callbacks): a latency percentile that lands in
 * a pause is set by how often the process stops and for how long, not by the code path measured.
 */
export interface GcPauses {
  scavenges: number;
  scavengeMs: number;
  others: number;
  otherMs: number;
}

export interface StatsRequest {
  /** Collect garbage first, so memory reads as what is live (needs --expose-gc). */
  gc: boolean;
  /** Start a new window for the event-loop delay and the longest collector pause after this reading. */
  resetLoopDelay: boolean;
}

export type StatsRpc = { stats: { request: StatsRequest; reply: ProcessStats } };

const LOOP_SAMPLING_MS = 10;

/** The histogram holds whole intervals between samples (Node 20): the delay is what exceeds the sampling period. */
const lateness = (intervalNs: number) => Math.max(0, intervalNs / 1e6 - LOOP_SAMPLING_MS);

/** A table cell: frames and kB of payload, as both the main run and the storm print them. */
export const framesAndKb = (sent: SentCount | undefined) =>
  sent ? `${sent.frames.toFixed(1)} / ${(sent.bytes / 1000).toFixed(1)}` : 'n/a';

/** How much a cumulative figure, summed over processes, grew between two readings of each. */
function grew(before: readonly ProcessStats[], after: readonly ProcessStats[], figure: (stats: ProcessStats) => number): number {
  const total = (readings: readonly ProcessStats[]) => readings.reduce((sum, stats) => sum + figure(stats), 0);
  return total(after) - total(before);
}

/** What servers sent between two readings of each, per device; undefined unless every one of them counts it. */
export function sentPerDevice(before: readonly ProcessStats[], after: readonly ProcessStats[], devices: number): SentCount | undefined {
  if (devices === 0 || [...before, ...after].some((stats) => stats.sent === undefined)) return undefined;
  return {
    frames: grew(before, after, (stats) => stats.sent?.frames ?? 0) / devices,
    bytes: grew(before, after, (stats) => stats.sent?.bytes ?? 0) / devices,
  };
}

/** The collector's pauses of every server between two readings of each. */
export function pausesBetween(before: readonly ProcessStats[], after: readonly ProcessStats[]): GcPauses {
  return {
    scavenges: grew(before, after, (stats) => stats.gc.scavenges),
    scavengeMs: grew(before, after, (stats) => stats.gc.scavengeMs),
    others: grew(before, after, (stats) => stats.gc.others),
    otherMs: grew(before, after, (stats) => stats.gc.otherMs),
  };
}

/**
 * Counts every packet the server hands to its devices' transports from now on, pings and
 * acknowledgements included (not engine.io's own `open`, sent before the connection is
 * announced). Each is a write to a socket whatever its size, so the count says how much work a
 * protocol asks of a connect, in figures both servers report the same way.
 */
function countSent(io: Server): SentCount {
  const sent: SentCount = { frames: 0, bytes: 0 };
  io.engine.on('connection', (conn: Server['engine']['clients'][string]) =>
    conn.on('packetCreate', (packet: { data?: unknown }) => {
      sent.frames += 1;
      if (typeof packet.data === 'string') sent.bytes += packet.data.length;
    }),
  );
  return sent;
}

/** Adds up the collector's pauses from now on, and the longest one until the caller resets it. */
function watchPauses(): { pauses: GcPauses; longest: { ms: number } } {
  const pauses: GcPauses = { scavenges: 0, scavengeMs: 0, others: 0, otherMs: 0 };
  const longest = { ms: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        pauses.scavenges += 1;
        pauses.scavengeMs += entry.duration;
      } else {
        pauses.others += 1;
        pauses.otherMs += entry.duration;
      }
      longest.ms = Math.max(longest.ms, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  return { pauses, longest };
}

/**
 * Watches this process's event loop and collector pauses from start; `read` reports and optionally starts a new window.
 * Given the process's socket.io server, it also counts what the server sends.
 */
export function selfStats(io?: Server): (request: StatsRequest) => ProcessStats {
  const sent = io && countSent(io);
  // 10 ms sampling is fine-grained enough for a 20 ms target and cheap.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLING_MS });
  loopDelay.enable();
  const { pauses, longest } = watchPauses();
  const collectGarbage = (globalThis as { gc?: () => void }).gc;
  return ({ gc, resetLoopDelay }) => {
    if (gc) collectGarbage?.();
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const stats: ProcessStats = {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      loopDelayP99Ms: loopDelay.count > 0 ? lateness(loopDelay.percentile(99)) : 0,
      loopDelayMaxMs: loopDelay.count > 0 ? lateness(loopDelay.max) : 0,
      gc: { ...pauses },
      gcLongestMs: longest.ms,
      sent: sent && { ...sent },
    };
    if (resetLoopDelay) {
      loopDelay.reset();
      longest.ms = 0;
    }
    return stats;
  };
}
