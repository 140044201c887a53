import { isEngineError } from "@cloudsession/engine";
import { isStoreError } from "@cloudsession/store";
import { CliError } from "./cliError.js";

/** What is wrong with a damaged log, as the store or the engine reported it. */
export interface Damage {
  /** `CORRUPTED_EVENT`: a row does not decode; `CORRUPTED_LOG`: the rows do not add up (a gap, a stream row out of step, a bad first event…). */
  readonly code: "CORRUPTED_EVENT" | "CORRUPTED_LOG";
  readonly message: string;
}

/**
 * The damage `error` reports, or undefined when it is about something else. Three errors mean
 * "damaged": StoreError `CORRUPTED_EVENT` and `CORRUPTED_LOG`, and EngineError `CORRUPTED_LOG`.
 *
 * @example
 * damageOf(new EngineError("CORRUPTED_LOG", "session s: versions 5 and 7 missing")) // { code: "CORRUPTED_LOG", message: "session s: …" }
 */
export function damageOf(error: unknown): Damage | undefined {
  if (isStoreError(error, "CORRUPTED_EVENT")) return { code: "CORRUPTED_EVENT", message: error.message };
  if (isStoreError(error, "CORRUPTED_LOG") || isEngineError(error, "CORRUPTED_LOG")) return { code: "CORRUPTED_LOG", message: error.message };
  return undefined;
}

/** The one-line error (exit 6) for a command that met a damaged log (of session `id`, when known). */
export function damagedLogError(id: string | undefined, damage: Damage, cause?: unknown): CliError {
  const whose = id === undefined ? "a session's log" : `the log of session ${id}`;
  return new CliError("DAMAGED_LOG", `${whose} is damaged (${damage.code}): ${damage.message}`, {
    hint: "nothing acts on a damaged log: it is never resumed or written to, and the other sessions are not affected. Restore the store from a backup if you need this session; docs/troubleshooting.md (\"A damaged log\") says more.",
    damage,
    cause,
  });
}
