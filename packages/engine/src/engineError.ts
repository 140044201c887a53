/** Stable codes for everything the engine refuses or cannot do. */
export type EngineErrorCode =
  | "INVALID_REPOSITORY"
  | "INVALID_ARGUMENT"
  | "SESSION_ENDED"
  | "SESSION_NOT_FOUND"
  | "ENGINE_CLOSED"
  /** A session's stored log is damaged (a gap, a stream row out of step, a bad first event…): never acted on. */
  | "CORRUPTED_LOG"
  /** Cluster mode: another instance holds the session's lease. */
  | "SESSION_OWNED_ELSEWHERE"
  /** The session already holds its limit of queued prompts (`limits.maxQueuedPrompts`); retry later. */
  | "QUEUE_FULL"
  /** A prompt is larger than `limits.maxPromptBytes` (UTF-8 bytes). */
  | "PROMPT_TOO_LARGE"
  /** Too many sessions already wait for a runtime slot (`limits.maxWaitingSessions`); retry later. */
  | "ENGINE_BUSY"
  /** The store did not confirm the append: the request is not known to be recorded. */
  | "STORE_UNAVAILABLE";

/**
 * The engine's one error class. Expected outcomes (blocked, timed out, failed) are final states of
 * a session, not exceptions: this is for misuse and for logs that cannot be read.
 */
export class EngineError extends Error {
  readonly code: EngineErrorCode;
  /** For refusals that pass (`QUEUE_FULL`, `ENGINE_BUSY`, `STORE_UNAVAILABLE`): a sensible wait before retrying, in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EngineError";
    this.code = code;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export function isEngineError(error: unknown, code?: EngineErrorCode): error is EngineError {
  return error instanceof EngineError && (code === undefined || error.code === code);
}
