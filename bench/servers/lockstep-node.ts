import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { buildApp } from '@lockstep/server';
import { pino } from 'pino';
import { serve } from '../ipc.ts';
import { selfStats, type StatsRpc } from '../process-stats.ts';

/**
 * One Lockstep node with the Redis store, in a process of its own so its memory, CPU and
 * event loop are measured apart from the load. Two of these on the same Redis url and key
 * prefix are one hub (multi-node relay, issue #4).
 */
export type LockstepNodeRpc = StatsRpc & {
  /** CPU profile of the measured window only (setup and connects would drown it with --cpu-prof). */
  'profile:start': { request: { samplingIntervalUs: number }; reply: Record<string, never> };
  'profile:stop': { request: { path: string }; reply: Record<string, never> };
};

const redisUrl = process.env.BENCH_REDIS_URL;
const prefix = process.env.BENCH_REDIS_PREFIX;
const adminToken = process.env.BENCH_ADMIN_TOKEN;
/** The outage journal goes in the bench's temporary directory, removed with it. */
const journalPath = process.env.BENCH_JOURNAL_PATH;
if (!redisUrl || !prefix || !adminToken || !journalPath)
  throw new Error('BENCH_REDIS_URL, BENCH_REDIS_PREFIX, BENCH_ADMIN_TOKEN and BENCH_JOURNAL_PATH are required');

const app = await buildApp({ store: { kind: 'redis', url: redisUrl, prefix, journalPath }, adminToken, logger: pino({ level: 'warn' }) });
const url = await app.listen(0, '127.0.0.1');

const inspector = new Session();
inspector.connect();

serve<LockstepNodeRpc>(
  {
    stats: selfStats(app.io),
    'profile:start': async ({ samplingIntervalUs }) => {
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
      await inspector.post('Profiler.start');
      return {};
    },
    'profile:stop': async ({ path }) => {
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      return {};
    },
  },
  { ready: true, url },
);
