import { createSessionActor, inputFromRequest, type SessionActor, type SessionLogEvent, type SessionRequested } from "@cloudsession/machine";
import { isStoreError, type EventStore, type ReadStreamResult } from "@cloudsession/store";
import { EngineError } from "./engineError.js";
import { decodeEvent } from "./eventCodec.js";

/** A session's log as read from the store: its events, the stream version, and whether the stream is marked final. */
export interface SessionLog {
  readonly log: SessionLogEvent[];
  readonly version: number;
  readonly final: boolean;
}

/**
 * The domain events of a stream read from the store, checked as far as a read can: each event
 * decodes, and the first is the session's request.
 *
 * @throws EngineError `SESSION_NOT_FOUND`, `CORRUPTED_LOG`
 */
export function sessionLogOf(stream: ReadStreamResult): SessionLog {
  if (!stream.exists) throw new EngineError("SESSION_NOT_FOUND", `no session ${stream.streamId} in the store`);
  const log = stream.events.map((row) => decodeEvent(row, row));
  requestOf(stream.streamId, log);
  return { log, version: stream.version, final: stream.final };
}

/**
 * Reads a session's whole log: the store checks its rows (versions, the stream row), this checks
 * the events, and the log is replayed through the machine to check its end (see {@link replayLog}).
 *
 * @throws EngineError `SESSION_NOT_FOUND`, `CORRUPTED_LOG`
 */
export async function readSessionLog(store: EventStore, id: string): Promise<SessionLog> {
  let read: SessionLog;
  try {
    read = sessionLogOf(await store.readStream(id));
  } catch (error) {
    throw asCorruptedLog(error, id);
  }
  const [request, ...rest] = read.log;
  replayLog(createSessionActor(inputFromRequest(request as SessionRequested)), id, rest, read.final);
  return read;
}

/** The first event of a session's log, checked. */
export function requestOf(id: string, log: readonly SessionLogEvent[]): SessionRequested {
  const [request] = log;
  if (request?.type !== "session.requested") throw new EngineError("CORRUPTED_LOG", `session ${id} is damaged: its log does not start with session.requested (it starts with ${request?.type ?? "nothing"})`);
  return request;
}

/**
 * Feeds a log's events after the request to `actor` (replay equals live) and checks how it ends:
 * nothing after the final state, and the stream marked final exactly when the log ends in one (a
 * final append marks the stream in the same write). `onEvent` hears each event fed.
 *
 * @throws EngineError `CORRUPTED_LOG`
 */
export function replayLog(actor: SessionActor, id: string, rest: readonly SessionLogEvent[], markedFinal: boolean | undefined, onEvent?: (event: SessionLogEvent) => void): void {
  for (const [index, event] of rest.entries()) {
    if (event.type === "session.requested") throw new EngineError("CORRUPTED_LOG", `session ${id} is damaged: a second session.requested at version ${index + 2}`);
    if (actor.getSnapshot().status !== "active") {
      throw new EngineError("CORRUPTED_LOG", `session ${id} is damaged: ${rest.length - index} events follow its final state (from version ${index + 2}, ${event.type})`);
    }
    // In a run of signs of life only the last can change the snapshot (the stall deadline).
    if (isSignOfLife(event) && isSignOfLife(rest[index + 1])) continue;
    actor.send(event);
    onEvent?.(event);
  }
  const ended = actor.getSnapshot().status !== "active";
  if (markedFinal === true && !ended) throw new EngineError("CORRUPTED_LOG", `session ${id} is damaged: its stream is marked final but its log ends in a running state (${describe(actor)}); events are missing from its end`);
  if (markedFinal === false && ended) throw new EngineError("CORRUPTED_LOG", `session ${id} is damaged: its log ends in the final state ${describe(actor)} but its stream is not marked final`);
}

/** A damaged read (the store's `CORRUPTED_LOG` or `CORRUPTED_EVENT`) as the engine's `CORRUPTED_LOG`; anything else as it is. */
export function asCorruptedLog(error: unknown, id: string): unknown {
  if (isStoreError(error, "CORRUPTED_LOG") || isStoreError(error, "CORRUPTED_EVENT")) return new EngineError("CORRUPTED_LOG", `session ${id} is damaged: ${error.message}`, { cause: error });
  return error;
}

function describe(actor: SessionActor): string {
  const value: unknown = actor.getSnapshot().value;
  return typeof value === "string" ? value : JSON.stringify(value);
}

function isSignOfLife(event: SessionLogEvent | undefined): boolean {
  return event?.type === "assistant.delta" || event?.type === "turn.progressed";
}
