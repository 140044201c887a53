import { isEngineError } from "@cloudsession/engine";
import { CliError, isCliError } from "./cliError.js";
import { damageOf, damagedLogError } from "./damage.js";
import { ExitCode } from "./exitCodes.js";
import { writeRecord } from "./output/ndjson.js";
import type { Terminal } from "./output/terminal.js";

/**
 * Engine refusals and store damage, as CLI errors with a hint naming the cause and the next step;
 * anything else stays unexpected. `command` is how the user calls the CLI.
 */
export function toCliError(error: unknown, command = "cloudsession"): CliError | undefined {
  if (isCliError(error)) return error;
  const damage = damageOf(error);
  if (damage !== undefined) return damagedLogError(undefined, damage, error);
  if (isEngineError(error, "INVALID_REPOSITORY")) {
    return new CliError("INVALID_REPOSITORY", error.message, { hint: "pass --repo owner/name or owner/name@branch", cause: error });
  }
  if (isEngineError(error, "SESSION_NOT_FOUND")) {
    return new CliError("SESSION_NOT_FOUND", error.message, { hint: `\`${command} ls\` lists the sessions in this store; --store picks another store`, cause: error });
  }
  if (isEngineError(error, "PROMPT_TOO_LARGE")) {
    return new CliError("PROMPT_TOO_LARGE", error.message, { hint: "shorten the prompt, or split it into several prompts", cause: error });
  }
  // A start with more prompts than a queue holds: no wait helps (the engine gives none), fewer prompts do.
  if (isEngineError(error, "QUEUE_FULL") && error.retryAfterMs === undefined) {
    return new CliError("TOO_MANY_PROMPTS", error.message, { hint: "a session starts with at most that many prompts: split them over several runs", cause: error });
  }
  if (isEngineError(error, "QUEUE_FULL") || isEngineError(error, "ENGINE_BUSY")) {
    const wait = error.retryAfterMs === undefined ? "" : ` (in about ${Math.ceil(error.retryAfterMs / 1000)} s)`;
    return new CliError("BUSY", error.message, { hint: `the engine refused for now; try again later${wait}`, cause: error });
  }
  if (isEngineError(error, "STORE_UNAVAILABLE")) {
    return new CliError("STORE_UNAVAILABLE", error.message, { hint: "the store did not confirm the write: check that it is reachable, then try again", cause: error });
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
export function reportError(error: unknown, terminal: Terminal, json: boolean, env: NodeJS.ProcessEnv, command = "cloudsession"): number {
  const known = toCliError(error, command);
  const message = known?.message ?? (error instanceof Error ? error.message : String(error));
  const code = known?.code ?? "UNEXPECTED";
  const hint = known?.hint ?? (known ? undefined : "this looks like a bug; run again with CLOUDSESSION_DEBUG=1 for details");
  const exitCode = known?.exitCode ?? ExitCode.unexpected;
  const damage = known?.damage;
  if (json) {
    writeRecord(terminal.stdout, { type: "error", code, message, ...(hint === undefined ? {} : { hint }), ...(damage === undefined ? {} : { damage }), exitCode });
  } else {
    const c = terminal.colors;
    terminal.note(`${c.red("error:")} ${message}`);
    if (hint !== undefined) terminal.note(`${c.yellow("hint:")} ${hint}`);
  }
  if (env["CLOUDSESSION_DEBUG"] === "1" && error instanceof Error) terminal.note(error.stack ?? "");
  return exitCode;
}
