import type { Lease } from "./coordination.js";
import type { AppendOptions, NewEvent } from "./eventStore.js";
import { ANY, isExpectedVersion, type ExpectedVersion } from "./expectedVersion.js";
import { StoreError } from "./storeError.js";

/** An event whose JSON is already serialized, ready for any backend. */
export interface EncodedEvent {
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/** A validated append: what every adapter (and the group committer) works with. */
export interface AppendRequest {
  readonly streamId: string;
  readonly events: readonly EncodedEvent[];
  readonly expectedVersion: ExpectedVersion;
  readonly markFinal: boolean;
  /** Serialized JSON object, or undefined when the append sets no stream metadata. */
  readonly streamMetadata: string | undefined;
  /** The lease the append must still hold to commit; undefined for an unfenced append. */
  readonly fence: Fence | undefined;
}

/** An append's fence: the owner and token it must still hold. */
export type Fence = Pick<Lease, "owner" | "token">;

const maxStreamIdLength = 512;
/**
 * NUL and unpaired surrogates cannot be stored in PostgreSQL `text` (the first is an error, the
 * second silently becomes U+FFFD). Refusing them here keeps one bad id from failing a whole
 * group-commit batch or changing identity on the way to disk. JSON payloads are safe: JSON.stringify
 * escapes both.
 */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;
const unstorable = (text: string): boolean => text.includes("\u0000") || loneSurrogate.test(text);

/**
 * Whether PostgreSQL `text` can hold the string unchanged (no NUL, no unpaired surrogate).
 *
 * @example
 * ```ts
 * isStorableText("session-1"); // true
 * ```
 */
export const isStorableText = (text: string): boolean => !unstorable(text);

/**
 * Validates an append's arguments and serializes its JSON once, up front, so a bad argument fails
 * only its own call (never a group-commit batch) and adapters store exactly what was checked.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * const request = toAppendRequest("s-1", [{ type: "Created", data: {} }], { expectedVersion: NO_STREAM });
 * ```
 */
export function toAppendRequest(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): AppendRequest {
  assertStreamId(streamId);
  if (events.length === 0) {
    throw new StoreError("INVALID_ARGUMENT", `append to ${streamId} needs at least one event`, { details: { streamId } });
  }
  const expectedVersion = options.expectedVersion ?? ANY;
  if (!isExpectedVersion(expectedVersion)) {
    throw new StoreError("INVALID_ARGUMENT", `invalid expectedVersion ${String(expectedVersion)} for ${streamId}`, { details: { streamId } });
  }
  const encoded = events.map((event, index) => {
    if (typeof event.type !== "string" || event.type.length === 0 || unstorable(event.type)) {
      throw new StoreError("INVALID_ARGUMENT", `event ${index} of ${streamId} needs a non-empty string type without NUL or unpaired surrogates`, { details: { streamId } });
    }
    // The descriptions are only built for an error: this runs for every event appended.
    return {
      type: event.type,
      data: encodeJson(event.data, () => `data of event ${index} (${event.type}) of ${streamId}`, streamId),
      metadata: event.metadata === undefined ? "{}" : encodeJsonObject(event.metadata, () => `metadata of event ${index} (${event.type}) of ${streamId}`, streamId),
    };
  });
  const fence = options.fence === undefined ? undefined : toFence(options.fence, streamId);
  return {
    streamId,
    fence,
    events: encoded,
    expectedVersion,
    markFinal: options.markFinal === true,
    streamMetadata: options.streamMetadata === undefined ? undefined : encodeJsonObject(options.streamMetadata, () => `streamMetadata of ${streamId}`, streamId),
  };
}

/**
 * Checks a stream id as every adapter can store it: 1–512 characters, no NUL, no unpaired surrogate.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * assertStreamId("session-1");
 * ```
 */
export function assertStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== "string" || streamId.length === 0 || streamId.length > maxStreamIdLength || unstorable(streamId)) {
    throw new StoreError("INVALID_ARGUMENT", `streamId must be a non-empty string of at most ${maxStreamIdLength} characters, without NUL or unpaired surrogates`);
  }
}

/**
 * Checks a lease owner (an instance id): a non-empty storable string.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * assertOwner("instance-a");
 * ```
 */
export function assertOwner(owner: unknown, streamId?: string): asserts owner is string {
  if (typeof owner !== "string" || owner.length === 0 || owner.length > maxStreamIdLength || unstorable(owner)) {
    throw new StoreError("INVALID_ARGUMENT", `an owner must be a non-empty string of at most ${maxStreamIdLength} characters, without NUL or unpaired surrogates`, {
      details: streamId === undefined ? {} : { streamId },
    });
  }
}

/** Copies a fence, so a caller mutating its lease object later cannot change what was checked. */
function toFence(fence: Fence, streamId: string): Fence {
  if (typeof fence !== "object" || (fence as unknown) === null) throw new StoreError("INVALID_ARGUMENT", `fence of ${streamId} must be a lease`, { details: { streamId } });
  assertOwner(fence.owner, streamId);
  if (!Number.isSafeInteger(fence.token) || fence.token < 1) {
    throw new StoreError("INVALID_ARGUMENT", `fence token of ${streamId} must be a positive integer`, { details: { streamId } });
  }
  return { owner: fence.owner, token: fence.token };
}

/**
 * Serializes a JSON value once, for any backend (events, commands). `what` names the value in an
 * error; a function is only called for one.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * encodeJson({ text: "hi" }, "data of command c-1", "s-1"); // '{"text":"hi"}'
 * ```
 */
export function encodeJson(value: unknown, what: string | (() => string), streamId: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new StoreError("INVALID_ARGUMENT", `${describe(what)} is not JSON-serializable`, { cause, details: { streamId } });
  }
  // JSON.stringify returns undefined for undefined, functions and symbols: refuse rather than store nothing.
  if (typeof text !== "string") throw new StoreError("INVALID_ARGUMENT", `${describe(what)} is not a JSON value`, { details: { streamId } });
  return text;
}

function encodeJsonObject(value: unknown, what: string | (() => string), streamId: string): string {
  if (value === undefined) return "{}";
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StoreError("INVALID_ARGUMENT", `${describe(what)} must be a JSON object`, { details: { streamId } });
  }
  return encodeJson(value, what, streamId);
}

function describe(what: string | (() => string)): string {
  return typeof what === "string" ? what : what();
}
