/**
 * JSON in web storage, for state this page wrote itself (cue seqs, the outbox, earpiece bindings).
 * Unreadable content (another version, a hand edit) counts as absent rather than breaking the page.
 */
export function loadJson<T>(storage: Storage, key: string, isValid: (value: unknown) => value is T): T | undefined {
  const text = storage.getItem(key);
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isValid(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function saveJson(storage: Storage, key: string, value: unknown): void {
  storage.setItem(key, JSON.stringify(value));
}

/** One value kept under one key: what a DOM-free module is given instead of web storage. */
export interface Shelf<T> {
  load(): T | undefined;
  save(value: T): void;
}

export const shelf = <T>(storage: Storage, key: string, isValid: (value: unknown) => value is T): Shelf<T> => ({
  load: () => loadJson(storage, key, isValid),
  save: (value) => saveJson(storage, key, value),
});
