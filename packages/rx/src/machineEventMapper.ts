import type { SessionEvent } from "@cloudsession/machine";
import { mapSdkEvent } from "./mapSdkEvent.js";
import type { RawSessionEvent } from "./rawSessionEvent.js";
import { createRecentIds } from "./recentIds.js";

export interface ToMachineEventsOptions {
  /** The engine's clock, stamped on each machine event as `at`. */
  readonly now: () => number;
  /** How many event ids to remember for de-duplication. */
  readonly dedupeCapacity?: number;
}

/**
 * What {@link toMachineEvents} does to each event, as a plain function for a caller that pushes
 * events itself: duplicates (same event id) and events the lifecycle does not use give
 * `undefined`, the rest are mapped by `mapSdkEvent`, stamped with `now()`. It remembers the ids it
 * saw, so use one per session. An engine holding thousands of idle sessions keeps one closure per
 * session this way instead of a Subject and an operator chain.
 *
 * @example
 * const toMachineEvent = createMachineEventMapper({ now: Date.now });
 * session.on((event) => {
 *   const machineEvent = toMachineEvent(event);
 *   if (machineEvent) actor.send(machineEvent);
 * });
 */
export function createMachineEventMapper(options: ToMachineEventsOptions): (event: RawSessionEvent) => SessionEvent | undefined {
  const firstSight = createRecentIds(options.dedupeCapacity ?? 1024);
  return (event) => (event.id === undefined || firstSight(event.id) ? mapSdkEvent(event, options.now()) : undefined);
}
