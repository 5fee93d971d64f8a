import type { Mission } from '@lockstep/shared';
import type { Logger } from 'pino';
import { alertId, type Alerts } from '../alerts.ts';
import type { Clock } from '../clock.ts';
import { type Deadline, deadlineKey } from '../deadline-keys.ts';
import type { Deadlines } from '../deadlines.ts';
import { accept } from '../refusal.ts';
import { judgeCue } from '../rules/overload.ts';
import { targetVehicleIds, type TriggerRecord } from '../rules/trigger-record.ts';
import type { Store } from '../store/store.ts';

export interface OverloadDeps {
  store: Store;
  deadlines: Deadlines;
  alerts: Alerts;
  clock: Clock;
  logger: Logger;
}

/**
 * Counts the cues to each vehicle in the store (so every node counts every cue) and raises one
 * `overload` per burst. The alert is a deadline due at once, written with the count that opened
 * the burst: whichever node is up raises it, once.
 */
export class OverloadWatch {
  constructor(private readonly deps: OverloadDeps) {}

  /** Counts a trigger just issued; true when it leaves a vehicle overloaded (the reply warns). Never blocks the cue. */
  async count(trigger: TriggerRecord, mission: Mission): Promise<boolean> {
    const limits = mission.settings.overload;
    const vehicleIds = targetVehicleIds(mission, trigger);
    const bursts: Deadline[] = [];
    let overloaded = false;
    try {
      const changed = await this.deps.store.changeCueLoad(mission.id, (load) => {
        bursts.length = 0;
        overloaded = false;
        const vehicles = { ...load.vehicles };
        for (const vehicleId of vehicleIds) {
          const judged = judgeCue(vehicles[vehicleId], { triggerId: trigger.id, at: trigger.issuedAt }, limits);
          vehicles[vehicleId] = judged.load;
          overloaded ||= judged.overloaded;
          if (judged.burst) bursts.push({ kind: 'overload', missionId: mission.id, vehicleId, triggerId: trigger.id, ...judged.burst });
        }
        const now = this.deps.clock.now();
        return accept({
          next: { ...load, vehicles },
          log: [],
          deadlines: { schedule: bursts.map((d) => ({ key: deadlineKey(d), at: now })) },
        });
      });
      if (!changed.ok) throw new Error(changed.refusal.message);
    } catch (error) {
      // A warning, not a gate: in a Redis outage the cue goes without it.
      this.deps.logger.warn({ err: error, missionId: mission.id, triggerId: trigger.id }, 'overload not judged');
      return false;
    }
    for (const burst of bursts) this.deps.deadlines.expect(burst, this.deps.clock.now());
    return overloaded;
  }

  async fire(burst: Extract<Deadline, { kind: 'overload' }>): Promise<void> {
    const mission = await this.deps.store.getMission(burst.missionId);
    await this.deps.alerts.raiseDue(alertId('overload', burst.triggerId, burst.vehicleId), {
      kind: 'overload',
      missionId: burst.missionId,
      vehicleId: burst.vehicleId,
      triggerId: burst.triggerId,
      count: burst.count,
      valueMs: burst.valueMs,
      thresholdMs: mission?.settings.overload.windowMs,
    });
  }
}
