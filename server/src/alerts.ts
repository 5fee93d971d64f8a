import type { Alert, AlertResolve, Member } from '@lockstep/shared';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import type { Fanout } from './fanout.ts';
import type { Metrics } from './metrics.ts';
import { accept, refuse, type Result } from './refusal.ts';
import type { Store } from './store/store.ts';
import { logLine } from './log/log-lines.ts';

export type AlertDraft = Omit<Alert, 'id' | 'at'> & { at?: number };

/**
 * One alert per subject: the id says what it is about (`hesitation:<trigger>:<member>`),
 * so whichever node or timer raises it first wins and every later attempt is a no-op.
 */
export function alertId(kind: Alert['kind'], ...subject: string[]): string {
  return [kind, ...subject].join(':');
}

export interface AlertsDeps {
  store: Store;
  fanout: Fanout;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
}

export class Alerts {
  private readonly store: Store;
  private readonly fanout: Fanout;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly logger: Logger;

  constructor(deps: AlertsDeps) {
    ({ store: this.store, fanout: this.fanout, clock: this.clock, metrics: this.metrics, logger: this.logger } = deps);
  }

  /** Raises the alert unless it was raised before; tells lead, cpo and ops at once. */
  async raise(id: string, draft: AlertDraft): Promise<Alert | undefined> {
    const alert: Alert = { ...draft, id, at: draft.at ?? this.clock.now() };
    const raised = await this.store.raiseAlert(alert, logLine.alertRaised(alert));
    if (!raised) return undefined;
    this.metrics.alerts.inc({ kind: alert.kind });
    this.logger.info({ missionId: alert.missionId, alertId: id, kind: alert.kind }, 'alert raised');
    this.fanout.toWatchers(alert.missionId, 'alert', alert);
    return alert;
  }

  /** `alert:resolve` (lead, ops): an alert stays open until someone with authority closes it. */
  async resolve(missionId: string, by: Member, request: AlertResolve): Promise<Result<Alert>> {
    const now = this.clock.now();
    const resolved = await this.store.changeAlert(request.alertId, (alert) => {
      if (alert.missionId !== missionId) return refuse('not_found', 'no such alert');
      if (alert.resolvedAt !== undefined) return refuse('conflict', 'this alert is already resolved');
      const next: Alert = { ...alert, resolvedAt: now, resolvedBy: by.memberId, ...(request.note ? { note: request.note } : {}) };
      return accept({
        next,
        log: [logLine.alertResolved(now, alert, by.memberId, request.note)],
      });
    });
    if (resolved.ok) this.fanout.toWatchers(missionId, 'alert', resolved.value);
    return resolved;
  }
}
