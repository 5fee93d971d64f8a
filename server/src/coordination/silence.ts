import type { Observation } from '@lockstep/shared';
import { alertId, type Alerts } from '../alerts.ts';
import type { Deadline } from '../deadline-keys.ts';
import type { Deadlines } from '../deadlines.ts';
import { threatAnswered } from '../rules/silence.ts';
import type { Store } from '../store/store.ts';

/** How far back the check looks for a trigger after the threat: a mission issues far fewer in `silenceMs`. */
const TRIGGERS_LOOKED_AT = 500;

export interface SilenceDeps {
  store: Store;
  deadlines: Deadlines;
  alerts: Alerts;
}

/** A `threat` observation is watched for `silenceMs`: a trigger in that time answers it, none raises `silence`. */
export class SilenceWatch {
  constructor(private readonly deps: SilenceDeps) {}

  /**
   * Sets the observation's deadline in the store. Called again for a retried post: the same key
   * is one deadline, and the check at the end gives the same answer however often it runs.
   */
  async watch(missionId: string, observation: Observation, silenceMs: number): Promise<void> {
    if (observation.severity !== 'threat') return;
    const deadline: Deadline = {
      kind: 'silence',
      missionId,
      observationId: observation.id,
      memberId: observation.memberId,
      at: observation.at,
    };
    await this.deps.deadlines.schedule(deadline, observation.at + silenceMs);
  }

  async fire(threat: Extract<Deadline, { kind: 'silence' }>): Promise<void> {
    const mission = await this.deps.store.getMission(threat.missionId);
    if (!mission) return;
    const silenceMs = mission.settings.silenceMs;
    const triggers = await this.deps.store.recentTriggers(threat.missionId, TRIGGERS_LOOKED_AT);
    if (threatAnswered(threat, triggers, silenceMs)) return;
    await this.deps.alerts.raise(alertId('silence', threat.observationId), {
      kind: 'silence',
      missionId: threat.missionId,
      memberId: threat.memberId,
      observationId: threat.observationId,
      valueMs: silenceMs,
    });
  }
}
