import { ExitCode } from "./exitCodes.js";

/** What is wrong with a damaged log, as the store or the engine reported it. */
export interface Damage {
  /** `CORRUPTED_EVENT`: a row does not decode; `CORRUPTED_LOG`: the rows do not add up (a gap, a stream row out of step, a bad first event…). */
  readonly code: "CORRUPTED_EVENT" | "CORRUPTED_LOG";
  readonly message: string;
}

/** Stable codes of the errors the CLI reports itself (session outcomes are not errors). */
export type CliErrorCode =
  | "USAGE"
  | "MISSING_REPOSITORY"
  | "INVALID_REPOSITORY"
  | "MISSING_PROMPT"
  /** A `--prompt-file` that cannot be read: missing, a directory, not permitted, not UTF-8. */
  | "PROMPT_FILE_UNREADABLE"
  /** A prompt over the engine's `maxPromptBytes` (UTF-8 bytes). */
  | "PROMPT_TOO_LARGE"
  /** More prompts than a session starts with (the engine's `maxQueuedPrompts`): waiting does not help. */
  | "TOO_MANY_PROMPTS"
  | "SESSION_NOT_FOUND"
  /** The session is open, but nothing can continue it (its runtime is gone for good). */
  | "SESSION_NOT_RESUMABLE"
  | "UNKNOWN_SCENARIO"
  /** A port given on the command line is taken by another process. */
  | "PORT_IN_USE"
  /** The session's stored log is damaged: `damage` says how. */
  | "DAMAGED_LOG"
  | "STORE_UNAVAILABLE"
  | "RUNTIME_UNAVAILABLE"
  /** The engine refused for now (a session's full queue, too many sessions waiting): try again later. */
  | "BUSY"
  /** Ctrl-C: the command stops (exit 130). */
  | "INTERRUPTED";

const defaultExitCodes: Partial<Record<CliErrorCode, ExitCode>> = {
  STORE_UNAVAILABLE: ExitCode.unexpected,
  RUNTIME_UNAVAILABLE: ExitCode.unexpected,
  BUSY: ExitCode.unexpected,
  DAMAGED_LOG: ExitCode.damaged,
};

/**
 * An error the CLI explains in one line plus a hint. `exitCode` is what the process exits with:
 * 2 (usage) unless the code says otherwise.
 *
 * @example
 * throw new CliError("MISSING_REPOSITORY", "no repository given", { hint: "pass --repo owner/name" });
 */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  /** For `DAMAGED_LOG`: the store's or engine's code and message. */
  readonly damage: Damage | undefined;

  constructor(code: CliErrorCode, message: string, options: { hint?: string; exitCode?: ExitCode; damage?: Damage; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.code = code;
    this.hint = options.hint;
    this.damage = options.damage;
    this.exitCode = options.exitCode ?? defaultExitCodes[code] ?? ExitCode.usage;
  }
}

export function isCliError(error: unknown, code?: CliErrorCode): error is CliError {
  return error instanceof CliError && (code === undefined || error.code === code);
}
