/** Stable codes for everything the engine refuses or cannot do. */
export type EngineErrorCode =
  | "INVALID_REPOSITORY"
  | "INVALID_ARGUMENT"
  | "SESSION_ENDED"
  | "SESSION_NOT_FOUND"
  | "ENGINE_CLOSED"
  | "CORRUPTED_LOG"
  /** Cluster mode: another instance holds the session's lease. */
  | "SESSION_OWNED_ELSEWHERE";

/**
 * The engine's one error class. Expected outcomes (blocked, timed out, failed) are final states of
 * a session, not exceptions: this is for misuse and for logs that cannot be read.
 */
export class EngineError extends Error {
  readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EngineError";
    this.code = code;
  }
}

export function isEngineError(error: unknown, code?: EngineErrorCode): error is EngineError {
  return error instanceof EngineError && (code === undefined || error.code === code);
}
