import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { logLine } from './log/log-lines.ts';
import type { Metrics } from './metrics.ts';
import type { Refusal } from './refusal.ts';
import type { Store } from './store/store.ts';

export interface RefusalDeps {
  store: Pick<Store, 'appendLog'>;
  clock: Clock;
  metrics: Metrics;
  logger: Pick<Logger, 'warn'>;
}

export interface RefusedRequest {
  /** The mission whose log records the refusal; undefined: it is counted only. */
  missionId: string | undefined;
  memberId: string | undefined;
  /** What was asked: the event name, or the HTTP method and route. */
  request: string;
  refusal: Refusal;
  /** For a line that stands for several rate-limited refusals: how many. */
  refused?: number;
}

/**
 * docs/PROTOCOL.md §4 and §6, for sockets and HTTP alike: every refusal is counted in `/metrics` and
 * written to its mission's log as a `refused` line (never the payload). It never rejects: a
 * refusal that could not be logged is still answered.
 */
export async function recordRefusal(deps: RefusalDeps, refused: RefusedRequest): Promise<void> {
  const { code, message } = refused.refusal;
  deps.metrics.refusals.inc({ code });
  if (refused.missionId === undefined) return;
  const extra = refused.refused === undefined ? {} : { refused: refused.refused };
  try {
    await deps.store.appendLog(refused.missionId, [
      logLine.refused(deps.clock.now(), refused.memberId, { request: refused.request, code, message, ...extra }),
    ]);
  } catch (error) {
    deps.logger.warn({ err: error, missionId: refused.missionId }, 'refusal not logged');
  }
}
