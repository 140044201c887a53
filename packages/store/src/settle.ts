/**
 * Runs synchronous store logic with promise semantics: a throw becomes a rejection, never a sync
 * throw, so in-memory adapters fail exactly like the asynchronous SQL ones.
 *
 * @example
 * ```ts
 * const result = await settle(() => compute());
 * ```
 */
export function settle<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
