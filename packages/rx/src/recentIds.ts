/**
 * Remembers the last `capacity` ids it was shown: `firstSight(id)` is true the first time an id
 * is seen and false while it is remembered. The set is allocated on the first id, so a memory
 * that is never used costs one closure.
 *
 * @example
 * const firstSight = createRecentIds(2);
 * [firstSight("a"), firstSight("a"), firstSight("b"), firstSight("c"), firstSight("a")]; // [true, false, true, true, true]
 */
export function createRecentIds(capacity: number): (id: string) => boolean {
  let seen: Set<string> | undefined;
  return (id) => {
    seen ??= new Set();
    if (seen.has(id)) return false;
    seen.add(id);
    if (seen.size > capacity) {
      const oldest = seen.values().next().value;
      if (oldest !== undefined) seen.delete(oldest);
    }
    return true;
  };
}
