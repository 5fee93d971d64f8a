import { monitorEventLoopDelay } from 'node:perf_hooks';

/** What one measured process says about itself. CPU is cumulative; the bench takes differences. */
export interface ProcessStats {
  rssBytes: number;
  heapUsedBytes: number;
  cpuSeconds: number;
  /** Event-loop delay since the last reset. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface StatsRequest {
  /** Collect garbage first, so memory reads as what is live (needs --expose-gc). */
  gc: boolean;
  /** Start a new event-loop delay window after this reading. */
  resetLoopDelay: boolean;
}

export type StatsRpc = { stats: { request: StatsRequest; reply: ProcessStats } };

const LOOP_SAMPLING_MS = 10;

/** The histogram holds whole intervals between samples (Node 20): the delay is what exceeds the sampling period. */
const lateness = (intervalNs: number) => Math.max(0, intervalNs / 1e6 - LOOP_SAMPLING_MS);

/** Watches this process's event loop from start; `read` reports and optionally starts a new window. */
export function selfStats(): (request: StatsRequest) => ProcessStats {
  // 10 ms sampling is fine-grained enough for a 20 ms target and cheap.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLING_MS });
  loopDelay.enable();
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
    };
    if (resetLoopDelay) loopDelay.reset();
    return stats;
  };
}
