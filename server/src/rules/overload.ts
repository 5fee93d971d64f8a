/**
 * docs/PROTOCOL.md §3, `overload`: more than `count` cues to one vehicle within `windowMs`. A
 * driver given a stream of orders becomes a pair of hands; the cue still goes, the CPO is warned.
 */

/** What the store keeps of the cues to one vehicle: enough to judge the next one. */
export interface VehicleCueLoad {
  /** The cues of the last window, oldest first. */
  cues: { triggerId: string; at: number }[];
  /** The latest cue that left more than `count` in its window; its burst lasts a whole window past it. */
  lastOverAt?: number;
}

/** The cue load of every vehicle of one mission, kept as one record so a cue to the convoy is one write. */
export interface CueLoad {
  missionId: string;
  vehicles: Record<string, VehicleCueLoad>;
}

export interface OverloadLimits {
  count: number;
  windowMs: number;
}

export interface CueJudgement {
  load: VehicleCueLoad;
  /** The window holds more than `count` cues with this one: the reply warns. */
  overloaded: boolean;
  /** This cue opens a burst: the one alert of the burst, with its figures. */
  burst?: { count: number; valueMs: number };
}

/**
 * Counts one more cue to a vehicle. A burst opens with the cue that puts more than `count` in
 * the window, and goes on while cues keep it over; only once a whole window has passed since
 * the last such cue (so that window held at most `count`) may the next one open a new burst.
 */
export function judgeCue(load: VehicleCueLoad | undefined, cue: { triggerId: string; at: number }, limits: OverloadLimits): CueJudgement {
  const cues = [...(load?.cues ?? []).filter((c) => c.at > cue.at - limits.windowMs), cue];
  const overloaded = cues.length > limits.count;
  const previousOver = load?.lastOverAt !== undefined && cue.at - load.lastOverAt < limits.windowMs ? load.lastOverAt : undefined;
  const lastOverAt = overloaded ? cue.at : previousOver;
  const next: VehicleCueLoad = { cues, ...(lastOverAt === undefined ? {} : { lastOverAt }) };
  const first = cues[0]?.at ?? cue.at;
  if (!overloaded) return { load: next, overloaded };
  if (previousOver !== undefined) return { load: next, overloaded };
  return { load: next, overloaded, burst: { count: cues.length, valueMs: cue.at - first } };
}
