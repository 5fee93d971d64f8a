import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** An opaque member or admin token: 256 random bits, URL-safe. */
export const newToken = () => randomBytes(32).toString('base64url');

/** Only this hash is stored, so a leaked store grants no access and deleting it revokes the token. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(hashToken(given));
  const b = Buffer.from(hashToken(expected));
  return timingSafeEqual(a, b);
}

/** The bearer token of an `Authorization` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

/**
 * A request URL as logs may show it: the path alone. A query string can carry a token under any
 * spelling the client decodes (`?%74oken=`), so no part of one is logged.
 */
export function loggablePath(url: string): string {
  return url.split(/[?#]/, 1)[0] ?? '';
}
