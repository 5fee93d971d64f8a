import type { Alert, AlertResolve, Member } from '@lockstep/shared';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import type { Fanout } from './fanout.ts';
import type { Metrics } from './metrics.ts';
import { accept, refuse, type Result } from './refusal.ts';
import type { Store } from './store/store.ts';
import { logLine } from './log/log-lines.ts';
import { mayResolveAlerts } from './rules/authority.ts';

/** `resolvedBy` of what the server resolves itself (docs/PROTOCOL.md §3). */
export const SYSTEM = 'system';

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

  /**
   * Raises the alert a deadline calls for. A deadline is still due only while no node finished
   * firing it, so an alert that was raised already here means the node that raised it died before
   * telling anyone (its lease on the deadline ran out): it is told again. Screens take an alert
   * by id, so a watcher that had it sees no change.
   */
  async raiseDue(id: string, draft: AlertDraft): Promise<void> {
    if (await this.raise(id, draft)) return;
    const raised = await this.store.changeAlert(id, (alert) => accept({ next: alert, log: [] }));
    if (raised.ok) this.fanout.toWatchers(raised.value.missionId, 'alert', raised.value);
  }

  /** The server closes an open alert whose condition it saw end (a driver acked the plan); one already closed stays as it is. */
  async resolveAsSystem(alertId: string): Promise<void> {
    const now = this.clock.now();
    let closedHere = false;
    const resolved = await this.store.changeAlert(alertId, (alert) => {
      closedHere = alert.resolvedAt === undefined;
      if (!closedHere) return accept({ next: alert, log: [] });
      return accept({
        next: { ...alert, resolvedAt: now, resolvedBy: SYSTEM },
        log: [logLine.alertResolved(now, alert, SYSTEM, undefined)],
      });
    });
    if (resolved.ok && closedHere) this.fanout.toWatchers(resolved.value.missionId, 'alert', resolved.value);
  }

  /**
   * A live hesitation the answer disproved (docs/PROTOCOL.md §3): the alert comes again with
   * `withdrawnAt`, resolved by the system unless someone resolved it already, and `valueMs`
   * the answered gap, so a screen can say "withdrawn: answered in 1.9 s".
   */
  async withdraw(id: string, draft: AlertDraft): Promise<Alert | undefined> {
    const now = this.clock.now();
    const withdrawn = { withdrawnAt: now, valueMs: draft.valueMs };
    // The live raise may still be on its way from another timer or node: raised here already
    // withdrawn, the alert makes that raise a no-op instead of a hesitation that sticks.
    const raised = await this.raise(id, { ...draft, ...withdrawn, resolvedAt: now, resolvedBy: SYSTEM });
    if (raised) return raised;
    const changed = await this.store.changeAlert(id, (alert) => {
      if (alert.withdrawnAt !== undefined) return refuse('conflict', 'this alert is already withdrawn');
      const next: Alert = { ...alert, ...withdrawn, ...(alert.resolvedAt === undefined ? { resolvedAt: now, resolvedBy: SYSTEM } : {}) };
      return accept({ next, log: [logLine.alertWithdrawn(now, alert, draft.valueMs)] });
    });
    if (!changed.ok) {
      if (changed.refusal.code !== 'conflict') this.logger.warn({ alertId: id, code: changed.refusal.code }, 'alert not withdrawn');
      return undefined;
    }
    this.fanout.toWatchers(changed.value.missionId, 'alert', changed.value);
    return changed.value;
  }

  /** `alert:resolve` (lead, ops, acting lead): an alert stays open until someone with authority closes it. */
  async resolve(missionId: string, by: Member, request: AlertResolve): Promise<Result<Alert>> {
    // An acting lead's right lasts only while they hold command (docs/PROTOCOL.md §11): checked against the mission now.
    const mission = await this.store.getMission(missionId);
    if (!mission) return refuse('not_found', 'no such mission');
    if (!mayResolveAlerts(by, mission)) return refuse('forbidden', `a ${by.role} may resolve alerts only as acting lead`);
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
