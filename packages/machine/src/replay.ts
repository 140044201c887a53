import { createActor, type SnapshotFrom } from "xstate";
import type { SessionLogEvent, SessionRequested } from "./events.js";
import { sessionMachine, type SessionInput } from "./sessionMachine.js";

export type SessionSnapshot = SnapshotFrom<typeof sessionMachine>;

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
 * Pure: no I/O, no clock. An XState actor is used as the fold because `actor.send` is several
 * times faster than the pure `transition()` function (see docs/adr/0001-machine-design.md).
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
  const actor = createActor(sessionMachine, { input: inputFromRequest(first) });
  actor.start();
  for (const [index, event] of rest.entries()) {
    if (actor.getSnapshot().status !== "active") break; // final states absorb the rest
    if (event.type === "session.requested") throw new InvalidLogError("session.requested may only be the first event of a log");
    // A sign of life only moves the stall deadline, and the next one moves it again: in a run of
    // them (a log with durable deltas is mostly that) only the last can change the snapshot.
    if (isSignOfLife(event) && isSignOfLife(rest[index + 1])) continue;
    actor.send(event);
  }
  const snapshot = actor.getSnapshot();
  actor.stop();
  return snapshot;
}

function isSignOfLife(event: SessionLogEvent | undefined): boolean {
  return event?.type === "assistant.delta" || event?.type === "turn.progressed";
}
