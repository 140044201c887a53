import { Observable, filter, type MonoTypeOperatorFunction } from "rxjs";
import type { RawSessionEvent } from "./rawSessionEvent.js";
import { createRecentIds } from "./recentIds.js";

/**
 * Drops SDK events whose `id` was already seen (a runtime can deliver an event twice, e.g. live
 * and again from history after a reconnect). Remembers the last `capacity` ids; events without
 * an id pass through.
 *
 * ```
 * source:  -a-b-a-c-b-|
 * result:  -a-b---c---|
 * ```
 */
export function distinctEvents<E extends RawSessionEvent>(capacity = 1024): MonoTypeOperatorFunction<E> {
  return (source) => {
    // Per subscription, so two subscribers do not share memory of what they saw.
    return new Observable<E>((subscriber) => {
      const firstSight = createRecentIds(capacity);
      return source.pipe(filter((event) => event.id === undefined || firstSight(event.id))).subscribe(subscriber);
    });
  };
}
