import { z } from 'zod';
import { Callsign, VehicleId } from './primitives.ts';
import { MissionSettings, Vehicle } from './mission.ts';
import { Role } from './roles.ts';

/** docs/PROTOCOL.md §6: request bodies. */
export const CreateMissionBody = z
  .strictObject({
    name: z.string().trim().min(1).max(80),
    vehicles: z.array(Vehicle).min(1).max(32),
    settings: MissionSettings,
  })
  .refine((body) => new Set(body.vehicles.map((v) => v.id)).size === body.vehicles.length, {
    message: 'vehicle ids must be unique',
    path: ['vehicles'],
  });
export type CreateMissionBody = z.input<typeof CreateMissionBody>;
export type CreateMission = z.output<typeof CreateMissionBody>;

/** v1.1: a member may name a person; the callsign then defaults to the person's. */
export const AddMemberBody = z
  .strictObject({
    callsign: Callsign.optional(),
    role: Role,
    vehicleId: VehicleId.optional(),
    personId: z.string().min(1).max(64).optional(),
  })
  .refine((body) => body.callsign !== undefined || body.personId !== undefined, {
    message: 'a callsign is needed unless a personId names one',
    path: ['callsign'],
  });
export type AddMemberBody = z.infer<typeof AddMemberBody>;

export const AddMemberReply = z.object({ memberId: z.string(), token: z.string() });
export type AddMemberReply = z.infer<typeof AddMemberReply>;

export const StartMissionBody = z.strictObject({ force: z.boolean().optional() }).prefault({});

export const HealthReply = z.object({ status: z.enum(['ok', 'degraded']), store: z.enum(['redis', 'memory']) });
export type HealthReply = z.infer<typeof HealthReply>;
