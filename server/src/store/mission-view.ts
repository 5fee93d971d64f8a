import type { Alert, Mission, Presence } from '@lockstep/shared';
import type { TriggerRecord } from '../rules/trigger-record.ts';
import type { Store, StoredObservation } from './store.ts';

/** How much of a mission one read brings. */
export interface MissionViewLimits {
  /** The mission's most recent triggers (0: none). */
  triggers: number;
  /** The mission's most recent observations (0: none). */
  observations: number;
  /** Its alerts and presence too: what a watcher's snapshot needs. */
  alertsAndPresence: boolean;
}

/** A mission's records as a snapshot is built from, read in a bounded number of store round trips. */
export interface MissionView {
  mission: Mission;
  /** Oldest first. */
  triggers: TriggerRecord[];
  alerts: Alert[];
  presence: Presence[];
  /** Oldest first. */
  observations: StoredObservation[];
}

/** The view from the single reads, for a store whose reads are all local (no round trip to save). */
export async function viewFromReads(
  store: Pick<Store, 'getMission' | 'recentTriggers' | 'missionAlerts' | 'missionPresence' | 'recentObservations'>,
  missionId: string,
  limits: MissionViewLimits,
): Promise<MissionView | undefined> {
  const mission = await store.getMission(missionId);
  if (!mission) return undefined;
  const [triggers, alerts, presence, observations] = await Promise.all([
    limits.triggers > 0 ? store.recentTriggers(missionId, limits.triggers) : [],
    limits.alertsAndPresence ? store.missionAlerts(missionId) : [],
    limits.alertsAndPresence ? store.missionPresence(missionId) : [],
    limits.observations > 0 ? store.recentObservations(missionId, limits.observations) : [],
  ]);
  return { mission, triggers, alerts, presence, observations };
}
