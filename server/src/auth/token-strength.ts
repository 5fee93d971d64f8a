/** docs/PROTOCOL.md §1 asks ≥ 128 bits of every token; the admin token can mint any member's. */
export const MIN_TOKEN_BITS = 128;

export const MAKE_A_TOKEN = 'make one with `openssl rand -hex 32`';

/** The smallest of the usual token alphabets that holds every character, by its size. */
function alphabetSize(token: string): number {
  if (/^[0-9]*$/.test(token)) return 10;
  if (/^[0-9a-f]*$/.test(token) || /^[0-9A-F]*$/.test(token)) return 16;
  if (/^[a-z]*$/.test(token) || /^[A-Z]*$/.test(token)) return 26;
  if (/^[0-9a-z]*$/.test(token) || /^[0-9A-Z]*$/.test(token)) return 36;
  if (/^[0-9A-Za-z]*$/.test(token)) return 62;
  if (/^[0-9A-Za-z_\-+/=]*$/.test(token)) return 64;
  return 95;
}

/** The shortest unit the token repeats (`abcabcabc` → 3), by the prefix function. */
function period(token: string): number {
  const prefix = new Array<number>(token.length).fill(0);
  for (let i = 1; i < token.length; i++) {
    let k = prefix[i - 1]!;
    while (k > 0 && token[i] !== token[k]) k = prefix[k - 1]!;
    if (token[i] === token[k]) k += 1;
    prefix[i] = k;
  }
  const p = token.length - (prefix.at(-1) ?? 0);
  return token.length % p === 0 ? p : token.length;
}

/** Shannon entropy of the token's characters, in bits per character. */
function bitsPerCharacter(token: string): number {
  const counts = new Map<string, number>();
  for (const c of token) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / token.length) * Math.log2(n / token.length);
  return bits;
}

/**
 * A reasonable estimate of a token's randomness, in bits: its length times its alphabet's bits
 * per character, when its characters are spread as a random token's would be; else only what
 * their spread shows (`aaaa…` is worth nothing, however long). A token that repeats a unit is
 * worth the unit. It cannot tell a random token from a well-chosen phrase: it refuses the
 * obviously weak.
 */
export function estimatedBits(token: string): number {
  const unit = token.slice(0, period(token));
  if (unit.length === 0) return 0;
  const spread = bitsPerCharacter(unit);
  // A random token's spread is close to the most its length and alphabet allow; three quarters of it is far below any real one.
  const mostSpread = Math.log2(Math.min(alphabetSize(unit), unit.length));
  const perCharacter = spread >= 0.75 * mostSpread ? Math.log2(alphabetSize(unit)) : spread;
  return Math.floor(unit.length * perCharacter);
}
