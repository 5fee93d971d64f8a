import type { ObservationPost } from '@lockstep/shared';
import { alertId, type Alerts } from '../alerts.ts';
import type { Deadline } from '../deadline-keys.ts';
import type { Deadlines } from '../deadlines.ts';
import { threatAnswered } from '../rules/silence.ts';
import type { Store } from '../store/store.ts';

/** How far back the checks look: a mission posts and issues far fewer than this within `silenceMs`. */
const RECENT = 500;

export interface SilenceDeps {
  store: Store;
  deadlines: Deadlines;
  alerts: Alerts;
}

/** A `threat` observation is watched for `silenceMs`: a trigger in that time answers it, none raises `silence`. */
export class SilenceWatch {
  constructor(private readonly deps: SilenceDeps) {}

  /**
   * Sets the deadline of a threat about to be stored with arrival `at`, before it is: a node that
   * dies between the two leaves a deadline that finds the observation, or finds none and does
   * nothing. A retried post moves the same deadline later (one key; the stored arrival is the
   * first), and the check gives the same answer however often and however late it runs.
   */
  async watch(missionId: string, post: ObservationPost, at: number, silenceMs: number): Promise<void> {
    if (post.severity !== 'threat') return;
    await this.deps.deadlines.schedule({ kind: 'silence', missionId, observationId: post.id }, at + silenceMs);
  }

  async fire(due: Extract<Deadline, { kind: 'silence' }>): Promise<void> {
    const [mission, observations] = await Promise.all([
      this.deps.store.getMission(due.missionId),
      this.deps.store.recentObservations(due.missionId, RECENT),
    ]);
    const threat = observations.find((o) => o.id === due.observationId);
    if (!mission || threat?.severity !== 'threat') return;
    const silenceMs = mission.settings.silenceMs;
    const triggers = await this.deps.store.recentTriggers(due.missionId, RECENT);
    if (threatAnswered(threat, triggers, silenceMs)) return;
    await this.deps.alerts.raiseDue(alertId('silence', threat.id), {
      kind: 'silence',
      missionId: due.missionId,
      memberId: threat.memberId,
      observationId: threat.id,
      valueMs: silenceMs,
    });
  }
}
