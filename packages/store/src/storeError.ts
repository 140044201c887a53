/** Stable machine-readable failure codes of the event store. */
export type StoreErrorCode =
  /** The stream's version did not match the append's expected version. */
  | "VERSION_CONFLICT"
  /** The stream was marked final; it accepts no more events. */
  | "STREAM_FINAL"
  /** A stored row could not be decoded (bad JSON, bad column values). */
  | "CORRUPTED_EVENT"
  /** A stream's rows disagree with each other: a version gap or repeat, rows out of order, a stream row ahead of or behind its events (or missing, or without events). */
  | "CORRUPTED_LOG"
  /** The store was closed before or while the call ran. */
  | "STORE_CLOSED"
  /** The caller passed something the contract does not allow. */
  | "INVALID_ARGUMENT"
  /** An append's `fence` no longer holds: the lease lapsed or another owner took the stream. */
  | "LEASE_LOST";

/** Extra, code-specific facts attached to a {@link StoreError}; all optional. */
export interface StoreErrorDetails {
  readonly streamId?: string;
  readonly version?: number;
  readonly position?: number;
  readonly expectedVersion?: string | number;
  readonly actualVersion?: number;
}

/**
 * The one error class of the store. Branch on `code`, never on the message.
 *
 * @example
 * ```ts
 * try {
 *   await store.append("s", events, { expectedVersion: 3 });
 * } catch (error) {
 *   if (isStoreError(error, "VERSION_CONFLICT")) reloadAndRetry(error.details.actualVersion);
 *   else throw error;
 * }
 * ```
 */
export class StoreError extends Error {
  override readonly name = "StoreError";
  readonly code: StoreErrorCode;
  readonly details: StoreErrorDetails;

  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown; details?: StoreErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

/**
 * Type guard for {@link StoreError}, optionally narrowed to one code. Checks the brand fields rather
 * than `instanceof` alone so errors survive duplicated module copies (e.g. two installs in a tree).
 */
export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  if (error instanceof StoreError) return code === undefined || error.code === code;
  if (typeof error !== "object" || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown };
  return candidate.name === "StoreError" && typeof candidate.code === "string" && (code === undefined || candidate.code === code);
}
