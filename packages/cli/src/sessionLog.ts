import { decodeEvent } from "@cloudsession/engine";
import type { SessionLogEvent } from "@cloudsession/machine";
import type { EventStore, StoredEvent } from "@cloudsession/store";
import { CliError } from "./cliError.js";

/** A session's log as stored, decoded. */
export interface SessionLog {
  readonly id: string;
  readonly events: readonly SessionLogEvent[];
  readonly rows: readonly StoredEvent[];
  readonly final: boolean;
}

/**
 * Reads and decodes one session's log, straight from the store: `show`, `replay` and `ls` need
 * no engine and no runtime.
 */
export async function readSessionLog(store: EventStore, id: string): Promise<SessionLog> {
  const stream = await store.readStream(id);
  if (!stream.exists) {
    throw new CliError("SESSION_NOT_FOUND", `no session ${id} in this store`, {
      hint: "`cloudsession ls` lists the sessions in this store; --store picks another store",
    });
  }
  return { id, rows: stream.events, events: stream.events.map((row) => decodeEvent(row, row)), final: stream.final };
}
