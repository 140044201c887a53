import type { ReadStreamOptions, StreamStatus } from "./eventStore.js";
import { StoreError } from "./storeError.js";

/** Default and ceiling of a `readAll` page: big enough to amortize a query, small enough for memory. */
export const defaultReadAllLimit = 1000;
const maxReadAllLimit = 100_000;

/**
 * Validates a page size shared by every adapter's `readAll` and `listStreams`.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * readAllLimit(undefined); // 1000
 * ```
 */
export function readAllLimit(limit: number | undefined): number {
  if (limit === undefined) return defaultReadAllLimit;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > maxReadAllLimit) {
    throw new StoreError("INVALID_ARGUMENT", `limit must be an integer in 1..${maxReadAllLimit}, got ${limit}`);
  }
  return limit;
}

/** Validates `readStream` options into an inclusive start version and an optional count. */
export function readStreamRange(options: ReadStreamOptions = {}): { fromVersion: number; maxCount: number | undefined } {
  const fromVersion = options.fromVersion ?? 1;
  if (!Number.isSafeInteger(fromVersion) || fromVersion < 1) throw new StoreError("INVALID_ARGUMENT", `fromVersion must be an integer >= 1, got ${fromVersion}`);
  const maxCount = options.maxCount;
  if (maxCount !== undefined && (!Number.isSafeInteger(maxCount) || maxCount < 0)) throw new StoreError("INVALID_ARGUMENT", `maxCount must be an integer >= 0, got ${maxCount}`);
  return { fromVersion, maxCount };
}

/** Validates a `listStreams` status; defaults to `"open"`. */
export function streamStatusOf(status: unknown): StreamStatus {
  const value = status ?? "open";
  if (value !== "open" && value !== "final" && value !== "all") throw new StoreError("INVALID_ARGUMENT", `status must be open, final or all, got ${JSON.stringify(value)}`);
  return value;
}
