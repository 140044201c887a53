/** Why the service cannot start. */
export type ServiceErrorCode =
  /** An option or environment variable is malformed (a token too short, an origin that is not one…). */
  | "INVALID_CONFIG"
  /** The service would listen beyond loopback without an API token. */
  | "AUTH_REQUIRED"
  /** The store could not be opened. */
  | "STORE_UNAVAILABLE";

/**
 * Thrown by `readConfig` and `startService` before anything listens; the message is safe to print
 * (connection strings in it are masked).
 */
export class ServiceError extends Error {
  override readonly name = "ServiceError";
  readonly code: ServiceErrorCode;

  constructor(code: ServiceErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isServiceError(error: unknown, code?: ServiceErrorCode): error is ServiceError {
  return error instanceof ServiceError && (code === undefined || error.code === code);
}
