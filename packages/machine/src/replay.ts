import type { SessionLogEvent, SessionRequested } from "./events.js";
import { createSessionActor } from "./sessionActor.js";
import type { SessionInput } from "./sessionMachine.js";
import type { SessionSnapshot } from "./sessionSnapshot.js";

// Its home is its own module (the actor and the compiled transitions need it too); kept here for
// the modules that name it from replay.
export type { SessionSnapshot } from "./sessionSnapshot.js";

/** The machine input recorded by a log's first event. */
export function inputFromRequest(event: SessionRequested): SessionInput {
  return { repository: event.repository, settings: event.settings, requestedAt: event.at };
}

/** Thrown when a log does not start with `session.requested`. */
export class InvalidLogError extends Error {
  readonly code = "INVALID_LOG";
  constructor(message: string) {
    super(message);
    this.name = "InvalidLogError";
  }
}

/**
 * Folds a session's log into the snapshot a live actor would have after the same events.
 * Pure: no I/O, no clock. The fold is the light session actor (the compiled transition table, XState
 * for the rest: docs/adr/0009-compiled-transitions.md), several times faster than XState's pure
 * `transition()` or an XState actor, and equal to both by property test.
 *
 * @example
 * const snapshot = replay([{ type: "session.requested", repository, settings, at: 0 }, { type: "close.requested", at: 1 }]);
 * snapshot.value // "closed"
 */
export function replay(events: readonly SessionLogEvent[]): SessionSnapshot {
  const [first, ...rest] = events;
  if (first?.type !== "session.requested") {
    throw new InvalidLogError(`a session log must start with session.requested, got ${first?.type ?? "nothing"}`);
  }
  const actor = createSessionActor(inputFromRequest(first));
  for (const [index, event] of rest.entries()) {
    if (actor.getSnapshot().status !== "active") break; // final states absorb the rest
    if (event.type === "session.requested") throw new InvalidLogError("session.requested may only be the first event of a log");
    // A sign of life only moves the stall deadline, and the next one moves it again: in a run of
    // them (a log with durable deltas is mostly that) only the last can change the snapshot.
    if (isSignOfLife(event) && isSignOfLife(rest[index + 1])) continue;
    actor.send(event);
  }
  return actor.getSnapshot();
}

function isSignOfLife(event: SessionLogEvent | undefined): boolean {
  return event?.type === "assistant.delta" || event?.type === "turn.progressed";
}
