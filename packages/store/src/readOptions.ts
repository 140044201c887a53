import { isStorableText } from "./appendRequest.js";
import type { ReadStreamOptions, ReadStreamsOptions, StreamStatus } from "./eventStore.js";
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

/**
 * Validates `readStreams` arguments. Ids are not held to the append rules (an empty or overlong id
 * simply does not exist, as with `readStream`), but one PostgreSQL cannot compare unchanged (NUL,
 * an unpaired surrogate) is refused rather than failing or matching another stream.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * readStreamsArguments(["s-1", "s-2"], { maxCount: 10 }); // { maxCount: 10 }
 * ```
 */
export function readStreamsArguments(streamIds: unknown, options: ReadStreamsOptions = {}): { maxCount: number | undefined } {
  if (!Array.isArray(streamIds)) throw new StoreError("INVALID_ARGUMENT", "streamIds must be an array of stream ids");
  for (const [index, streamId] of (streamIds as unknown[]).entries()) {
    if (typeof streamId !== "string" || !isStorableText(streamId)) {
      throw new StoreError("INVALID_ARGUMENT", `streamIds[${index}] must be a string without NUL or unpaired surrogates`);
    }
  }
  return { maxCount: readStreamRange({ maxCount: options.maxCount }).maxCount };
}

/** Validates a `listStreams` status; defaults to `"open"`. */
export function streamStatusOf(status: unknown): StreamStatus {
  const value = status ?? "open";
  if (value !== "open" && value !== "final" && value !== "all") throw new StoreError("INVALID_ARGUMENT", `status must be open, final or all, got ${JSON.stringify(value)}`);
  return value;
}
