import { decodeEvent } from "@cloudsession/engine";
import type { SessionLogEvent } from "@cloudsession/machine";
import type { EventStore, StoredEvent } from "@cloudsession/store";
import { CliError } from "./cliError.js";
import { damageOf, damagedLogError } from "./damage.js";

/** A session's log as stored, decoded. */
export interface SessionLog {
  readonly id: string;
  readonly events: readonly SessionLogEvent[];
  readonly rows: readonly StoredEvent[];
  readonly final: boolean;
}

/**
 * Reads and decodes one session's log, straight from the store: `show`, `replay` and `ls` need
 * no engine and no runtime. A damaged log is a `DAMAGED_LOG` error (exit 6) saying what is wrong.
 * `command` is how the user calls the CLI, for the hint.
 */
export async function readSessionLog(store: EventStore, id: string, command: string): Promise<SessionLog> {
  try {
    const stream = await store.readStream(id);
    if (!stream.exists) {
      throw new CliError("SESSION_NOT_FOUND", `no session ${id} in this store`, {
        hint: `\`${command} ls\` lists the sessions in this store; --store picks another store`,
      });
    }
    const events = stream.events.map((row) => decodeEvent(row, row));
    if (events[0]?.type !== "session.requested") {
      throw damagedLogError(id, { code: "CORRUPTED_LOG", message: `session ${id}: the log does not start with session.requested` });
    }
    return { id, rows: stream.events, events, final: stream.final };
  } catch (error) {
    const damage = damageOf(error);
    throw damage === undefined ? error : damagedLogError(id, damage, error);
  }
}
