import { z } from 'zod';
import { TRIGGER_TYPES } from './catalogue.ts';
import { Callsign, MemberId, SlugId, ServerTime, VehicleId, ms } from './primitives.ts';
import { Role } from './roles.ts';

export const MissionStatus = z.enum(['planning', 'active', 'ended']);
export type MissionStatus = z.infer<typeof MissionStatus>;

export const Vehicle = z.strictObject({ id: VehicleId, callsign: Callsign });
export type Vehicle = z.infer<typeof Vehicle>;

export const Member = z.strictObject({
  memberId: MemberId,
  callsign: Callsign,
  role: Role,
  vehicleId: VehicleId.optional(),
  /** The person (§1, v1.1) this member is, when the roster names one. */
  personId: z.string().optional(),
  /** Set once a driver has been swapped out (§9): the member stays on the roster, its token is dead. */
  replacedAt: ServerTime.optional(),
  replacedBy: MemberId.optional(),
});
export type Member = z.infer<typeof Member>;

/** A per-trigger-type millisecond setting: `{ default, extract?, ... }`, defaults filled. */
const perTriggerType = (min: number, max: number, fallback: number) =>
  z
    .partialRecord(z.enum(['default', ...TRIGGER_TYPES]), ms(min, max))
    .prefault({})
    .transform((given) => ({ default: fallback, ...given }));

/** docs/PROTOCOL.md §3: every setting optional at creation, defaults filled on parse. */
export const MissionSettings = z
  .strictObject({
    thresholds: perTriggerType(500, 10_000, 2000),
    staleMs: perTriggerType(5000, 600_000, 30_000),
    offlineGraceMs: ms(0, 60_000).default(3000),
    overload: z
      .strictObject({ count: z.number().int().min(1).max(100), windowMs: ms(1000, 600_000) })
      .default({ count: 4, windowMs: 10_000 }),
    silenceMs: ms(1000, 60_000).default(5000),
    planAckGraceMs: ms(0, 600_000).default(30_000),
    scheduleDriftMs: ms(10_000, 3_600_000).default(60_000),
  })
  .prefault({});
export type MissionSettings = z.output<typeof MissionSettings>;
export type MissionSettingsInput = z.input<typeof MissionSettings>;

const LatLon = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]);
const Place = z.strictObject({ id: SlugId, name: z.string().min(1).max(80), at: LatLon.optional() });

/** docs/PROTOCOL.md §7: the briefing, as sent by `PUT /api/missions/:id/plan`. */
export const PlanInput = z.strictObject({
  routes: z
    .array(
      z.strictObject({
        id: SlugId,
        name: z.string().min(1).max(40),
        kind: z.enum(['primary', 'alternate']),
        waypoints: z.array(LatLon).max(2000).optional(),
      }),
    )
    .max(32),
  chokePoints: z.array(Place).max(100).optional(),
  safeHavens: z.array(Place).max(100).optional(),
  hospitals: z.array(Place).max(100).optional(),
  successionOfCommand: z.array(MemberId).max(32).optional(),
  schedule: z
    .array(z.strictObject({ leg: z.string().min(1).max(80), plannedAt: ServerTime }))
    .max(200)
    .optional(),
});
export type PlanInput = z.infer<typeof PlanInput>;

/** The plan in force; version 0 and no routes when none was briefed. */
export const Plan = PlanInput.extend({ version: z.number().int().nonnegative() });
export type Plan = z.infer<typeof Plan>;

/** §10: a leg of the schedule as the mission carries it. */
export const ScheduleLeg = z.object({
  leg: z.string(),
  plannedAt: ServerTime,
  actualAt: ServerTime.optional(),
  projectedAt: ServerTime,
  driftMs: z.number().int(),
});
export type ScheduleLeg = z.infer<typeof ScheduleLeg>;

/** `schedule:mark`: `at` defaults to the arrival. */
export const ScheduleMark = z.strictObject({ leg: z.string().min(1).max(80), at: ServerTime.optional() });
export type ScheduleMark = z.infer<typeof ScheduleMark>;

const PerTypeMs = z.object({ default: z.number().int() }).catchall(z.number().int());

/** The mission's public state: what `GET /api/missions/:id` answers and the `mission` event carries. */
export const Mission = z.strictObject({
  id: z.string(),
  name: z.string(),
  status: MissionStatus,
  vehicles: z.array(Vehicle),
  members: z.array(Member),
  plan: Plan,
  /** memberId → the plan version that member last acked. */
  planAcks: z.record(z.string(), z.number().int()),
  settings: z.strictObject({
    thresholds: PerTypeMs,
    staleMs: PerTypeMs,
    offlineGraceMs: z.number().int(),
    overload: z.strictObject({ count: z.number().int(), windowMs: z.number().int() }),
    silenceMs: z.number().int(),
    planAckGraceMs: z.number().int(),
    scheduleDriftMs: z.number().int(),
  }),
  /** v1.1 (§11): the member holding the lead's authority while no lead is online. */
  actingLeadId: MemberId.optional(),
  /** §10: the plan's legs, when each actually happened once marked, and the drift cascading to the later ones. */
  schedule: z.array(ScheduleLeg).optional(),
  createdAt: ServerTime,
  startedAt: ServerTime.optional(),
  endedAt: ServerTime.optional(),
});
export type Mission = z.infer<typeof Mission>;
