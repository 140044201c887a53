/** Stable codes of the dashboard's own refusals (the engine's refusals keep their `EngineError` codes). */
export type DashboardErrorCode =
  | "NOT_FOUND"
  | "SESSION_NOT_FOUND"
  /** The session is not run by the engine behind this dashboard (or there is none): no actions. */
  | "SESSION_NOT_RUNNING"
  | "INVALID_REQUEST"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "BODY_TOO_LARGE"
  /** A write from another site (CSRF) or through a name this server does not answer to (DNS rebinding). */
  | "FORBIDDEN"
  /** The log cannot be read (a row that does not decode, a log without its request). */
  | "CORRUPTED_LOG"
  | "DASHBOARD_CLOSED";

/**
 * The dashboard's error: an HTTP status and a stable code, answered as `{ code, message }`.
 *
 * @example
 * throw new DashboardError("SESSION_NOT_FOUND", 404, `no session ${id}`);
 */
export class DashboardError extends Error {
  readonly code: DashboardErrorCode;
  readonly status: number;

  constructor(code: DashboardErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DashboardError";
    this.code = code;
    this.status = status;
  }
}

export function isDashboardError(error: unknown, code?: DashboardErrorCode): error is DashboardError {
  return error instanceof DashboardError && (code === undefined || error.code === code);
}
