import { z } from 'zod';
import { ALERT_KINDS } from './events.ts';
import { MissionStatus } from './mission.ts';
import { Callsign, MemberId, ServerTime, ShortText, VehicleId } from './primitives.ts';
import { Role } from './roles.ts';

// ---------------------------------------------------------------- people (docs/PROTOCOL.md §1, §6, v1.1)

export const PersonId = z.string().min(1).max(64);

/** Someone the company can put into missions, kept across missions. */
export const Person = z.strictObject({
  personId: PersonId,
  name: z.string().trim().min(1).max(80),
  callsign: Callsign,
  /** What the person is qualified for. */
  roles: z.array(Role).min(1).max(7),
  /** In the ready pool of replacements. */
  standby: z.boolean(),
  notes: ShortText.optional(),
});
export type Person = z.infer<typeof Person>;

export const CreatePersonBody = Person.omit({ personId: true }).extend({ standby: z.boolean().default(false) });
export type CreatePersonBody = z.input<typeof CreatePersonBody>;
export type NewPerson = z.output<typeof CreatePersonBody>;

export const PatchPersonBody = Person.omit({ personId: true }).partial();
export type PatchPersonBody = z.infer<typeof PatchPersonBody>;

export const PeopleQuery = z.object({
  standby: z.enum(['true', 'false']).optional(),
  role: Role.optional(),
  sort: z.enum(['friction']).optional(),
});

// ---------------------------------------------------------------- after-action report (§8)

/** Nearest-rank percentiles of the answered gaps; absent when nothing was answered. */
export const GapSummary = z.object({ median: z.number(), p90: z.number(), max: z.number() });
export type GapSummary = z.infer<typeof GapSummary>;

export const PersonStats = z.object({
  missions: z.number().int(),
  cues: z.number().int(),
  hesitations: z.number().int(),
  hesitationRate: z.number(),
  gapP90Ms: z.number().optional(),
});
export type PersonStats = z.infer<typeof PersonStats>;

export const PeopleReply = z.object({ people: z.array(Person.extend({ stats: PersonStats })) });
export type PeopleReply = z.infer<typeof PeopleReply>;

/** What one driver (one member) did with the cues sent to them. */
export const DriverFigures = z.object({
  memberId: MemberId,
  personId: PersonId.optional(),
  callsign: Callsign,
  vehicleId: VehicleId,
  replacedAt: ServerTime.optional(),
  cues: z.number().int(),
  answered: z.number().int(),
  ack: z.number().int(),
  unable: z.number().int(),
  sayAgain: z.number().int(),
  hesitations: z.number().int(),
  undelivered: z.number().int(),
  expired: z.number().int(),
  replaced: z.number().int(),
  lostMs: z.number(),
  gapMs: GapSummary.optional(),
});
export type DriverFigures = z.infer<typeof DriverFigures>;

export const ReportLeg = z.object({
  leg: z.string(),
  plannedAt: ServerTime,
  actualAt: ServerTime.optional(),
  driftMs: z.number().int().optional(),
  hesitations: z.number().int(),
  lostMs: z.number(),
});
export type ReportLeg = z.infer<typeof ReportLeg>;

export const TimelineEntry = z.object({
  at: ServerTime,
  kind: z.string(),
  text: z.string(),
  memberId: MemberId.optional(),
  triggerId: z.string().optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

export const MissionReport = z.object({
  mission: z.object({
    id: z.string(),
    name: z.string(),
    status: MissionStatus,
    createdAt: ServerTime,
    startedAt: ServerTime.optional(),
    endedAt: ServerTime.optional(),
  }),
  triggers: z.object({ total: z.number().int(), byType: z.record(z.string(), z.number().int()) }),
  drivers: z.array(DriverFigures),
  alerts: z.object({
    total: z.number().int(),
    open: z.number().int(),
    byKind: z.partialRecord(z.enum(ALERT_KINDS), z.number().int()),
  }),
  schedule: z.array(ReportLeg),
  timeline: z.array(TimelineEntry),
});
export type MissionReport = z.infer<typeof MissionReport>;

export const PersonReport = z.object({
  person: Person,
  missions: z.number().int(),
  cues: z.number().int(),
  answered: z.number().int(),
  ack: z.number().int(),
  unable: z.number().int(),
  sayAgain: z.number().int(),
  hesitations: z.number().int(),
  hesitationRate: z.number(),
  undelivered: z.number().int(),
  expired: z.number().int(),
  lostMs: z.number(),
  gapMs: GapSummary.optional(),
  perMission: z.array(
    z.object({
      missionId: z.string(),
      name: z.string(),
      startedAt: ServerTime.optional(),
      cues: z.number().int(),
      hesitations: z.number().int(),
      lostMs: z.number(),
      gapMs: GapSummary.optional(),
    }),
  ),
});
export type PersonReport = z.infer<typeof PersonReport>;

// ---------------------------------------------------------------- missions list, swap, token (§6, §9)

export const MissionsQuery = z.object({
  status: MissionStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const MissionSummary = z.object({
  id: z.string(),
  name: z.string(),
  status: MissionStatus,
  createdAt: ServerTime,
  startedAt: ServerTime.optional(),
  endedAt: ServerTime.optional(),
  vehicles: z.number().int(),
  members: z.number().int(),
});
export type MissionSummary = z.infer<typeof MissionSummary>;

/** `POST .../vehicles/:vehicleId/driver`: a person from the pool, or just a callsign. */
export const SwapDriverBody = z.union([z.strictObject({ personId: PersonId }), z.strictObject({ callsign: Callsign })]);
export type SwapDriverBody = z.infer<typeof SwapDriverBody>;

export const SwapDriverReply = z.object({ memberId: z.string(), token: z.string(), replaced: z.string().optional() });
export type SwapDriverReply = z.infer<typeof SwapDriverReply>;
