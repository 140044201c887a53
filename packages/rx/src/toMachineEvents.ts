import type { SessionEvent } from "@cloudsession/machine";
import { filter, map, pipe, type OperatorFunction } from "rxjs";
import { distinctEvents } from "./distinctEvents.js";
import { mapSdkEvent } from "./mapSdkEvent.js";
import type { RawSessionEvent } from "./rawSessionEvent.js";

export interface ToMachineEventsOptions {
  /** The engine's clock, stamped on each machine event as `at`. */
  readonly now: () => number;
  /** How many event ids to remember for de-duplication. */
  readonly dedupeCapacity?: number;
}

/**
 * Turns raw SDK session events into lifecycle machine events: duplicates (same event id) are
 * dropped, events the lifecycle does not use are skipped, the rest are mapped by `mapSdkEvent`.
 * Events after a final state are harmless: the machine absorbs them.
 *
 * ```
 * sdk:      -s-i-d-d-m-x-l-|    s=session.start(copilot-agent) i=session.info(remote)
 * machine:  -A-U-D-D-M---I-|    d=delta m=assistant.message x=unknown l=session.idle
 * ```
 *
 * @example
 * fromSdkSession(session).pipe(toMachineEvents({ now: Date.now })).subscribe((event) => actor.send(event));
 */
export function toMachineEvents(options: ToMachineEventsOptions): OperatorFunction<RawSessionEvent, SessionEvent> {
  return pipe(
    distinctEvents(options.dedupeCapacity),
    map((event) => mapSdkEvent(event, options.now())),
    filter((event): event is SessionEvent => event !== undefined),
  );
}
