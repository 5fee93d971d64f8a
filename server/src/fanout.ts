import type { ServerToClientEvents, TriggerCue } from '@lockstep/shared';

type Payload<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

/** Who hears what (docs/PROTOCOL.md §5, server → client). The rules call this; the socket layer implements it. */
export interface Fanout {
  /** lead, cpo and ops of the mission. */
  toWatchers<E extends 'trigger:state' | 'alert' | 'presence'>(missionId: string, event: E, payload: Payload<E>): void;
  /** Every member of the mission. */
  toMission<E extends 'observation' | 'mission'>(missionId: string, event: E, payload: Payload<E>): void;
  /** Every socket of one member. */
  toMember<E extends 'trigger:expired'>(memberId: string, event: E, payload: Payload<E>): void;
  /** Sends a cue to every socket of its driver, after any replay under way on that socket. */
  deliverCue(memberId: string, cue: TriggerCue): void;
  /** Closes every socket of a revoked member. */
  disconnectMember(memberId: string): void;
}
