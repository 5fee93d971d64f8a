import type { StatsRpc } from '../process-stats.ts';

/** Where one device connects and as whom. */
export interface Endpoint {
  url: string;
  token: string;
}

/** The devices of one mission: a lead, an ops board and three drivers (docs/PROTOCOL.md §1). */
export interface MissionDevices {
  key: string;
  lead: Endpoint;
  ops: Endpoint;
  drivers: Endpoint[];
}

export interface ConnectRequest {
  missions: MissionDevices[];
  /** Connections in flight at once, so the server's accept queue is not flooded. */
  concurrency: number;
  timeoutMs: number;
  /**
   * Each device asks for its mission's snapshot on every connect, as every Lockstep screen does
   * (client/src/lockstep-client.ts), without waiting for it; the bare relays have none.
   */
  snapshots: boolean;
}

export interface ConnectReport {
  connected: number;
  failed: number;
  errors: string[];
}

export interface CanaryRequest {
  /** How long to wait for the canary's cues before calling the relay unsupported. */
  waitMs: number;
}

export interface CanaryReport {
  expected: number;
  received: number;
}

/** When each firing mission's lead issues its first trigger, relative to the start of the window. */
export interface FiringMission {
  key: string;
  offsetMs: number;
}

export interface FireRequest {
  firing: FiringMission[];
  periodMs: number;
  durationMs: number;
  /** How long to wait after the last issue for outstanding cues and answers. */
  drainMs: number;
  ackTimeoutMs: number;
}

export interface FireReport {
  /** Issue → cue on the driver's device, in microseconds, one per cue. */
  relayUs: number[];
  /** Issue → the answer's reply at the driver (answer recorded), in microseconds, one per answer. */
  answerUs: number[];
  issued: number;
  issueRefused: number;
  expectedCues: number;
  receivedCues: number;
  duplicateCues: number;
  answered: number;
  answerRefused: number;
  errors: number;
  /** The first few error messages, for the report. */
  errorSamples: string[];
}

export type FleetRpc = StatsRpc & {
  connect: { request: ConnectRequest; reply: ConnectReport };
  canary: { request: CanaryRequest; reply: CanaryReport };
  fire: { request: FireRequest; reply: FireReport };
  disconnect: { request: Record<string, never>; reply: { closed: number } };
};
