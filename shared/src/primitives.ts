import { z } from 'zod';

/** Ids of vehicles, routes and plan places: short, lowercase, URL-safe (docs/PROTOCOL.md §1). */
export const SlugId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and dashes, 1–32 characters');
export const VehicleId = SlugId;
export const MemberId = z.string().min(1).max(64);
export const Callsign = z.string().trim().min(1).max(32);
/** Server times are integer epoch milliseconds. */
export const ServerTime = z.number().int().nonnegative();
/** Device times may be fractional (performance.timeOrigin + performance.now()). */
export const DeviceTime = z.number().nonnegative();
export const ShortText = z.string().max(280);

export const ms = (min: number, max: number) => z.number().int().min(min).max(max);
