/**
 * A sweep of entries stamped with when they were kept: drops those older than `maxAgeMs`, and
 * walks the map at most once per that age, so a map that is only read and written stays bounded.
 */
export function ageSweep<K>(entries: Map<K, { at: number }>, maxAgeMs: number, now: () => number): () => void {
  let sweptAt = now();
  return () => {
    const at = now();
    if (at - sweptAt < maxAgeMs) return;
    sweptAt = at;
    for (const [key, entry] of entries) if (at - entry.at > maxAgeMs) entries.delete(key);
  };
}
