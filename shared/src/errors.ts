import { z } from 'zod';

export const ERROR_CODES = [
  'unauthorized',
  'forbidden',
  'invalid_payload',
  'not_found',
  'conflict',
  'mission_not_active',
  'expired',
  'unknown_route',
  'rate_limited',
  'plan_not_acknowledged',
  'internal',
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** A zod issue as it travels: enough for a client to point at the bad field. */
export const PayloadIssue = z.object({
  code: z.string(),
  path: z.array(z.union([z.string(), z.number()])),
  message: z.string(),
});
export type PayloadIssue = z.infer<typeof PayloadIssue>;

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  issues: z.array(PayloadIssue).optional(),
  /** `plan_not_acknowledged`: the drivers who have not acked the current plan. */
  missing: z.array(z.string()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** HTTP status of each error code (docs/PROTOCOL.md §6). */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  unauthorized: 401,
  forbidden: 403,
  invalid_payload: 400,
  not_found: 404,
  conflict: 409,
  mission_not_active: 409,
  expired: 409,
  unknown_route: 400,
  rate_limited: 429,
  plan_not_acknowledged: 409,
  internal: 500,
};
