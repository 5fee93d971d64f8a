import type { Presence, ServerToClientEvents, TriggerCue } from '@lockstep/shared';

type Payload<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

/** One member's presence, for the watchers of its mission. */
export interface PresenceUpdate {
  missionId: string;
  presence: Presence;
}

/** Who hears what (docs/PROTOCOL.md §5, server → client). The rules call this; the socket layer implements it. */
export interface Fanout {
  /** lead, cpo and ops of the mission. */
  toWatchers<E extends 'trigger:state' | 'alert'>(missionId: string, event: E, payload: Payload<E>): void;
  /**
   * Each member's presence to its mission's watchers: a node announces its devices' presence in
   * batches, and nodes pass a batch on to each other as one message, not one per member.
   */
  presenceToWatchers(updates: readonly PresenceUpdate[]): void;
  /** Every member of the mission. */
  toMission<E extends 'observation' | 'mission'>(missionId: string, event: E, payload: Payload<E>): void;
  /** Every socket of one member. */
  toMember<E extends 'trigger:expired'>(memberId: string, event: E, payload: Payload<E>): void;
  /** Sends a cue to every socket of its driver, after any replay under way on that socket. */
  deliverCue(memberId: string, cue: TriggerCue): void;
  /** Closes every socket of a revoked member. */
  disconnectMember(memberId: string): void;
}
