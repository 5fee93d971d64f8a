import { z } from 'zod';
import { SlugId, VehicleId } from './primitives.ts';

/** The closed trigger catalogue of PROTOCOL.md §2, in the order a handset lays it out. */
export const TRIGGER_TYPES = [
  'go',
  'hold',
  'box-in',
  'extract',
  'alt-route',
  'pickup',
  'drop-off',
  'contact',
  'medical',
  'breakdown',
  'abort',
  'all-clear',
] as const;
export const TriggerType = z.enum(TRIGGER_TYPES);
export type TriggerType = z.infer<typeof TriggerType>;

export interface CatalogueEntry {
  /** What the tablet shows; `{route}` is filled from the plan. */
  label: string;
  /** What the driver is expected to do. */
  action: string;
}

export const TRIGGER_CATALOGUE: Readonly<Record<TriggerType, CatalogueEntry>> = {
  go: { label: 'MOVE NOW', action: 'depart' },
  hold: { label: 'HOLD', action: 'hold position' },
  'box-in': { label: 'BOX-IN — OPEN GAP', action: 'keep moving, open an escape gap' },
  extract: { label: 'EXTRACT NOW', action: 'leave by the nearest exit' },
  'alt-route': { label: 'ALT ROUTE {route}', action: 'switch to that route' },
  pickup: { label: 'PICKUP — PRINCIPAL MOVING', action: 'move to the pickup point' },
  'drop-off': { label: 'DROP-OFF', action: 'proceed to drop-off' },
  contact: { label: 'CONTACT — DRILL', action: 'execute the contact drill' },
  medical: { label: 'MEDICAL — HOSPITAL', action: 'drive to the planned hospital' },
  breakdown: { label: 'VEHICLE DOWN — CROSS-DECK', action: 'cross-deck the principal' },
  abort: { label: 'ABORT — SAFE HAVEN', action: 'return to the safe haven' },
  'all-clear': { label: 'ALL CLEAR', action: 'normal posture' },
};

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

/** The label shown on the tablet; `{route}` is the plan's route name, or the routeId without a plan. */
export function cueLabel(type: TriggerType, params: TriggerParams, routeName?: string): string {
  const label = TRIGGER_CATALOGUE[type].label;
  if (type !== 'alt-route') return label;
  return label.replace('{route}', routeName ?? params.routeId ?? '');
}
