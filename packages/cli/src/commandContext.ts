import type { Terminal } from "./output/terminal.js";

/** What every command receives: where to write, the environment, and the global flags. */
export interface CommandContext {
  readonly terminal: Terminal;
  readonly env: NodeJS.ProcessEnv;
  /** `--json`: NDJSON on stdout for scripts. */
  readonly json: boolean;
  /** Standard input (`--prompt-file -`). */
  readonly stdin: NodeJS.ReadableStream;
  /** `--store`, when given. */
  readonly store: string | undefined;
  /** How the user calls the CLI, for hints and next steps: `./cloudsession` from a clone, `cloudsession` installed. */
  readonly command: string;
}

/**
 * How hints spell the command: `CLOUDSESSION_COMMAND` (the clone's `./cloudsession` launcher sets
 * it), else `cloudsession`, the installed bin.
 *
 * @example
 * commandName({ CLOUDSESSION_COMMAND: "./cloudsession" }) // "./cloudsession"
 */
export function commandName(env: NodeJS.ProcessEnv): string {
  const given = env["CLOUDSESSION_COMMAND"]?.trim();
  return given === undefined || given === "" ? "cloudsession" : given;
}
