import { alertId, type Alerts } from '../alerts.ts';
import type { Deadline } from '../deadline-keys.ts';
import type { Deadlines } from '../deadlines.ts';
import { stillUnacked } from '../rules/plan-acks.ts';
import type { Store } from '../store/store.ts';

export interface PlanAckDeps {
  store: Store;
  deadlines: Deadlines;
  alerts: Alerts;
}

/** The id of a driver's `plan-unacked` for one plan version. */
export const planUnackedId = (memberId: string, version: number) => alertId('plan-unacked', memberId, String(version));

/**
 * `plan-unacked` (docs/PROTOCOL.md §3): raised when a driver's deadline for a plan version
 * passes unacked, resolved by the server the moment that driver acks.
 */
export class PlanAckWatch {
  constructor(private readonly deps: PlanAckDeps) {}

  async fire(due: Extract<Deadline, { kind: 'plan-unacked' }>): Promise<void> {
    const mission = await this.deps.store.getMission(due.missionId);
    const driver = mission && stillUnacked(mission, due.memberId, due.version);
    if (!driver) return;
    const id = planUnackedId(due.memberId, due.version);
    await this.deps.alerts.raiseDue(id, {
      kind: 'plan-unacked',
      missionId: due.missionId,
      memberId: due.memberId,
      vehicleId: driver.vehicleId,
      planVersion: due.version,
    });
    // The ack may have landed while the alert was being raised, too late for it to see the alert: look once more.
    const after = await this.deps.store.getMission(due.missionId);
    if (after && !stillUnacked(after, due.memberId, due.version)) await this.deps.alerts.resolveAsSystem(id);
  }

  /** The driver acked `version`: their open `plan-unacked` of that version and of any before it are over. */
  async acked(missionId: string, memberId: string, version: number): Promise<void> {
    const alerts = await this.deps.store.missionAlerts(missionId);
    const over = alerts.filter(
      (a) => a.kind === 'plan-unacked' && a.memberId === memberId && a.resolvedAt === undefined && (a.planVersion ?? 0) <= version,
    );
    for (const alert of over) await this.deps.alerts.resolveAsSystem(alert.id);
  }

  /** Fires on time here the deadlines a mission change just wrote. */
  expect(due: { deadline: Deadline; at: number }[]): void {
    for (const { deadline, at } of due) this.deps.deadlines.expect(deadline, at);
  }
}
