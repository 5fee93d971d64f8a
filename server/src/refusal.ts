import type { ErrorBody, ErrorCode, PayloadIssue } from '@lockstep/shared';
import type { z } from 'zod';

/** A refused request as a value: the code and message of docs/PROTOCOL.md §4, never a thrown exception. */
export type Refusal = ErrorBody;

export type Result<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export const accept = <T>(value: T): Result<T> => ({ ok: true, value });

/** The accepted value reshaped (e.g. into an event's reply); a refusal passes through. */
export const mapResult = <T, U>(result: Result<T>, shape: (value: T) => U): Result<U> => (result.ok ? accept(shape(result.value)) : result);

export const refuse = (
  code: ErrorCode,
  message: string,
  extra: Pick<ErrorBody, 'issues' | 'missing'> = {},
): { ok: false; refusal: Refusal } => ({
  ok: false,
  refusal: { code, message, ...extra },
});

/** zod issues trimmed to what a client needs to point at the bad field (no echo of the input). */
export function payloadIssues(error: z.ZodError): PayloadIssue[] {
  return error.issues.slice(0, 20).map((issue) => ({
    code: issue.code,
    path: issue.path.filter((key): key is string | number => typeof key !== 'symbol'),
    message: issue.message,
  }));
}

export const invalidPayload = (error: z.ZodError) =>
  refuse('invalid_payload', 'the payload does not match the protocol', { issues: payloadIssues(error) });
