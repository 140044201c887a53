import type { SessionLogEvent } from "@cloudsession/machine";
import type { EventStore, ReadStreamResult } from "@cloudsession/store";
import { EngineError } from "./engineError.js";
import { decodeEvent } from "./eventCodec.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import { SessionRunner } from "./sessionRunner.js";

/** A session's log as read from the store, and the stream version it was read at. */
export interface SessionLog {
  readonly log: SessionLogEvent[];
  readonly version: number;
}

/** The domain events of a stream read from the store. */
export function sessionLogOf(stream: ReadStreamResult): SessionLog {
  if (!stream.exists) throw new EngineError("SESSION_NOT_FOUND", `no session ${stream.streamId} in the store`);
  return { log: stream.events.map((row) => decodeEvent(row, row)), version: stream.version };
}

/** Reads a session's whole log. */
export async function readSessionLog(store: EventStore, id: string): Promise<SessionLog> {
  return sessionLogOf(await store.readStream(id));
}

/** A runner restored from the session's log, and the log. */
export async function loadRunner(env: RunnerEnvironment, id: string): Promise<{ runner: SessionRunner; log: SessionLogEvent[] }> {
  const { log, version } = await readSessionLog(env.store, id);
  return { runner: SessionRunner.restore(env, id, log, version), log };
}
