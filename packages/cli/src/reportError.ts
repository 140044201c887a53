import { isEngineError } from "@cloudsession/engine";
import { CliError, isCliError } from "./cliError.js";
import { ExitCode } from "./exitCodes.js";
import { writeRecord } from "./output/ndjson.js";
import type { Terminal } from "./output/terminal.js";

/** Engine refusals the user caused, as CLI errors with a hint; anything else stays unexpected. */
export function toCliError(error: unknown): CliError | undefined {
  if (isCliError(error)) return error;
  if (isEngineError(error, "INVALID_REPOSITORY")) {
    return new CliError("INVALID_REPOSITORY", error.message, { hint: "pass --repo owner/name or owner/name@branch", cause: error });
  }
  if (isEngineError(error, "SESSION_NOT_FOUND")) {
    return new CliError("SESSION_NOT_FOUND", error.message, { hint: "`cloudsession ls` lists the sessions in this store; --store picks another store", cause: error });
  }
  if (isEngineError(error, "INVALID_ARGUMENT") || isEngineError(error, "SESSION_ENDED")) {
    return new CliError("USAGE", error.message, { cause: error });
  }
  return undefined;
}

/**
 * Reports an error as one clear line plus a hint (or one NDJSON `error` record) and returns the
 * exit code. Stack traces only with `CLOUDSESSION_DEBUG=1`: they help us, not the user.
 */
export function reportError(error: unknown, terminal: Terminal, json: boolean, env: NodeJS.ProcessEnv): number {
  const known = toCliError(error);
  const message = known?.message ?? (error instanceof Error ? error.message : String(error));
  const code = known?.code ?? "UNEXPECTED";
  const hint = known?.hint ?? (known ? undefined : "this looks like a bug; run again with CLOUDSESSION_DEBUG=1 for details");
  const exitCode = known?.exitCode ?? ExitCode.unexpected;
  if (json) {
    writeRecord(terminal.stdout, { type: "error", code, message, ...(hint === undefined ? {} : { hint }), exitCode });
  } else {
    const c = terminal.colors;
    terminal.note(`${c.red("error:")} ${message}`);
    if (hint !== undefined) terminal.note(`${c.yellow("hint:")} ${hint}`);
  }
  if (env["CLOUDSESSION_DEBUG"] === "1" && error instanceof Error) terminal.note(error.stack ?? "");
  return exitCode;
}
