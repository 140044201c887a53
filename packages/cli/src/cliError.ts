import { ExitCode } from "./exitCodes.js";

/** Stable codes of the errors the CLI reports itself (session outcomes are not errors). */
export type CliErrorCode =
  | "USAGE"
  | "MISSING_REPOSITORY"
  | "INVALID_REPOSITORY"
  | "MISSING_PROMPT"
  | "SESSION_NOT_FOUND"
  | "UNKNOWN_SCENARIO"
  | "STORE_UNAVAILABLE"
  | "RUNTIME_UNAVAILABLE";

/**
 * An error the CLI explains in one line plus a hint. `exitCode` is what the process exits with.
 *
 * @example
 * throw new CliError("MISSING_REPOSITORY", "no repository given", { hint: "pass --repo owner/name" });
 */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;

  constructor(code: CliErrorCode, message: string, options: { hint?: string; exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? (code === "STORE_UNAVAILABLE" || code === "RUNTIME_UNAVAILABLE" ? ExitCode.unexpected : ExitCode.usage);
  }
}

export function isCliError(error: unknown, code?: CliErrorCode): error is CliError {
  return error instanceof CliError && (code === undefined || error.code === code);
}
