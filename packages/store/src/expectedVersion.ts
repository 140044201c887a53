/**
 * Expected-version constants for optimistic concurrency, after emmett's design: an append states
 * what it believes the stream looks like, and the store rejects it when that belief is stale.
 *
 * - `NO_STREAM`: the stream must not exist yet (create-only).
 * - `STREAM_EXISTS`: the stream must already have at least one event.
 * - `ANY`: no check at all (last writer wins; use for idempotent or single-writer streams).
 * - a number `n >= 0`: the stream's current version must be exactly `n` (`0` means "no events").
 *
 * @example
 * ```ts
 * await store.append("session-1", [{ type: "SessionCreated", data: {} }], { expectedVersion: NO_STREAM });
 * await store.append("session-1", [{ type: "PromptSent", data: {} }], { expectedVersion: 1 });
 * ```
 */
export const NO_STREAM = "no_stream";
/** The stream must already exist. See {@link NO_STREAM}. */
export const STREAM_EXISTS = "stream_exists";
/** No concurrency check. See {@link NO_STREAM}. */
export const ANY = "any";

/** What an append expects of its stream; see {@link NO_STREAM}. */
export type ExpectedVersion = typeof NO_STREAM | typeof STREAM_EXISTS | typeof ANY | number;

/**
 * Whether a stream currently at `currentVersion` (0 when it does not exist) satisfies `expected`.
 *
 * @example
 * ```ts
 * matchesExpectedVersion(0, NO_STREAM); // true
 * matchesExpectedVersion(3, 2); // false
 * ```
 */
export function matchesExpectedVersion(currentVersion: number, expected: ExpectedVersion): boolean {
  switch (expected) {
    case ANY:
      return true;
    case NO_STREAM:
      return currentVersion === 0;
    case STREAM_EXISTS:
      return currentVersion > 0;
    default:
      return currentVersion === expected;
  }
}

/** True when `value` is a valid {@link ExpectedVersion}; used to reject bad input early. */
export function isExpectedVersion(value: unknown): value is ExpectedVersion {
  return (
    value === ANY ||
    value === NO_STREAM ||
    value === STREAM_EXISTS ||
    (typeof value === "number" && Number.isSafeInteger(value) && value >= 0)
  );
}
