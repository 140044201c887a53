import type { SessionEvent } from "@cloudsession/machine";
import { defer, filter, map, type OperatorFunction } from "rxjs";
import { createMachineEventMapper, type ToMachineEventsOptions } from "./machineEventMapper.js";
import type { RawSessionEvent } from "./rawSessionEvent.js";

export type { ToMachineEventsOptions } from "./machineEventMapper.js";

/**
 * Turns raw SDK session events into lifecycle machine events: duplicates (same event id) are
 * dropped, events the lifecycle does not use are skipped, the rest are mapped by `mapSdkEvent`.
 * Events after a final state are harmless: the machine absorbs them. Each subscription remembers
 * its own ids (see `createMachineEventMapper`, the same steps as a plain function).
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
  return (source) =>
    defer(() =>
      source.pipe(
        map(createMachineEventMapper(options)),
        filter((event): event is SessionEvent => event !== undefined),
      ),
    );
}
