import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What `/metrics` exposes. One registry per app, so several apps in one process (tests, bench) stay apart. */
export class Metrics {
  readonly registry = new Registry();

  readonly relaySeconds = new Histogram({
    name: 'lockstep_relay_seconds',
    help: 'From a trigger:issue arriving to its cues being handed to the sockets (validation, authority, durable write).',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly deliverySeconds = new Histogram({
    name: 'lockstep_cue_delivery_seconds',
    help: 'From issuedAt to the receipt arriving: the network and the device together.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  });

  readonly responseGapSeconds = new Histogram({
    name: 'lockstep_response_gap_seconds',
    help: 'The human response gap, cue shown to answer.',
    labelNames: ['gap_source'] as const,
    buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    registers: [this.registry],
  });

  readonly connectedDevices = new Gauge({
    name: 'lockstep_connected_devices',
    help: 'Sockets connected to this node, by role.',
    labelNames: ['role'] as const,
    registers: [this.registry],
  });

  readonly alerts = new Counter({
    name: 'lockstep_alerts_total',
    help: 'Alerts raised by this node, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly refusals = new Counter({
    name: 'lockstep_refusals_total',
    help: 'Refused client events and HTTP calls, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly unknownEvents = new Counter({
    name: 'lockstep_unknown_events_total',
    help: 'Client events with a name the contract does not know (each also counted as an invalid_payload refusal).',
    registers: [this.registry],
  });

  readonly slowConsumersDropped = new Counter({
    name: 'lockstep_slow_consumers_dropped_total',
    help: 'Sockets dropped because they left more than the outbound limit unread (they reconnect and replay).',
    registers: [this.registry],
  });

  readonly outageJournalDepth = new Gauge({
    name: 'lockstep_outage_journal_depth',
    help: "Writes held in this node's outage journal, waiting for Redis to return (0 when Redis answers).",
    registers: [this.registry],
  });

  readonly nodes = new Gauge({
    name: 'lockstep_nodes',
    help: "Lockstep nodes on this node's Redis, itself included, at its last count (each second).",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'lockstep_process_' });
  }
}
