import { z } from 'zod';
import { TRIGGER_TYPES } from './constants.ts';
import { SlugId, VehicleId } from './primitives.ts';

export { TRIGGER_CATALOGUE, TRIGGER_TYPES, cueLabel, type CatalogueEntry } from './constants.ts';

export const TriggerType = z.enum(TRIGGER_TYPES);
export type TriggerType = z.infer<typeof TriggerType>;

const NoParams = z.strictObject({});
export const AltRouteParams = z.strictObject({ routeId: SlugId });
export const MedicalParams = z.strictObject({ destinationId: SlugId.optional() });
export const BreakdownParams = z.strictObject({ toVehicleId: VehicleId.optional() });

/** Each type's params as the client sends them; `params` absent means `{}`. */
export const TRIGGER_PARAMS = {
  go: NoParams.prefault({}),
  hold: NoParams.prefault({}),
  'box-in': NoParams.prefault({}),
  extract: NoParams.prefault({}),
  'alt-route': AltRouteParams,
  pickup: NoParams.prefault({}),
  'drop-off': NoParams.prefault({}),
  contact: NoParams.prefault({}),
  medical: MedicalParams.prefault({}),
  breakdown: BreakdownParams.prefault({}),
  abort: NoParams.prefault({}),
  'all-clear': NoParams.prefault({}),
} as const satisfies Record<TriggerType, z.ZodType>;

/** The params of any trigger as they travel outward (cues and states). */
export const TriggerParams = z.strictObject({
  routeId: SlugId.optional(),
  destinationId: SlugId.optional(),
  toVehicleId: VehicleId.optional(),
});
export type TriggerParams = z.infer<typeof TriggerParams>;
