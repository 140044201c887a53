import { assertOwner, assertStreamId, encodeJson } from "./appendRequest.js";
import type { AnnounceOptions, ClaimOptions, Lease, NewCommand } from "./coordination.js";
import { StoreError } from "./storeError.js";

/** A year: long enough for any real lease, short enough that every backend's time arithmetic holds. */
const maxTtlMs = 366 * 24 * 60 * 60 * 1000;

/** A lease as {@link Coordination.renew} and {@link Coordination.release} need it: which one, not until when. */
export type LeaseKey = Pick<Lease, "streamId" | "owner" | "token">;

/** A validated command whose data is serialized once, like an event's. */
export interface EncodedCommand {
  readonly commandId: string;
  readonly streamId: string;
  readonly type: string;
  readonly data: string;
}

/**
 * Checks a time to live: a positive, finite number of milliseconds, at most a year.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * assertTtl(15_000);
 * ```
 */
export function assertTtl(ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > maxTtlMs) {
    throw new StoreError("INVALID_ARGUMENT", `ttlMs must be a positive number of milliseconds up to ${maxTtlMs}, got ${String(ttlMs)}`);
  }
}

/**
 * Checks {@link ClaimOptions}.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * assertClaimOptions({ owner: "instance-a", ttlMs: 15_000, limit: 10 });
 * ```
 */
export function assertClaimOptions(options: ClaimOptions): void {
  assertOwner(options.owner);
  assertTtl(options.ttlMs);
  if (!Number.isSafeInteger(options.limit) || options.limit < 1) throw new StoreError("INVALID_ARGUMENT", `limit must be a positive integer, got ${String(options.limit)}`);
  assertOptionalType(options.firstEventType);
  if (options.exclude !== undefined) {
    if (!Array.isArray(options.exclude)) throw new StoreError("INVALID_ARGUMENT", "exclude must be an array of stream ids when given");
    for (const streamId of options.exclude) assertStreamId(streamId);
  }
}

/**
 * Checks an instance id and {@link AnnounceOptions}.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * assertAnnounce("instance-a", { ttlMs: 15_000 });
 * ```
 */
export function assertAnnounce(instanceId: string, options: AnnounceOptions): void {
  assertOwner(instanceId);
  assertTtl(options.ttlMs);
  assertOptionalType(options.firstEventType);
}

function assertOptionalType(type: unknown): void {
  if (type !== undefined && (typeof type !== "string" || type.length === 0)) throw new StoreError("INVALID_ARGUMENT", "firstEventType must be a non-empty string when given");
}

/**
 * Validates and copies the leases passed to renew or release, so later mutation of the caller's
 * objects changes nothing.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * const keys = toLeaseKeys([lease]);
 * ```
 */
export function toLeaseKeys(leases: readonly LeaseKey[]): readonly LeaseKey[] {
  if (!Array.isArray(leases)) throw new StoreError("INVALID_ARGUMENT", "leases must be an array");
  return leases.map((lease: LeaseKey) => {
    if (typeof lease !== "object" || (lease as unknown) === null) throw new StoreError("INVALID_ARGUMENT", "a lease must be an object");
    assertStreamId(lease.streamId);
    assertOwner(lease.owner, lease.streamId);
    if (!Number.isSafeInteger(lease.token) || lease.token < 1) throw new StoreError("INVALID_ARGUMENT", `lease token of ${lease.streamId} must be a positive integer`, { details: { streamId: lease.streamId } });
    return { streamId: lease.streamId, owner: lease.owner, token: lease.token };
  });
}

/**
 * Validates a command and serializes its data.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * const encoded = encodeCommand({ commandId: "c-1", streamId: "s-1", type: "prompt.submit", data: { text: "hi" } });
 * ```
 */
export function encodeCommand(command: NewCommand): EncodedCommand {
  if (typeof command !== "object" || (command as unknown) === null) throw new StoreError("INVALID_ARGUMENT", "a command must be an object");
  assertStreamId(command.streamId);
  assertText(command.commandId, "commandId", command.streamId);
  assertText(command.type, "command type", command.streamId);
  return { commandId: command.commandId, streamId: command.streamId, type: command.type, data: encodeJson(command.data, `data of command ${command.commandId}`, command.streamId) };
}

/**
 * Validates a list of ids (stream ids for `pending`, command ids for `complete`).
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * assertTexts(["c-1", "c-2"], "commandIds");
 * ```
 */
export function assertTexts(values: readonly string[], what: string): void {
  if (!Array.isArray(values)) throw new StoreError("INVALID_ARGUMENT", `${what} must be an array`);
  for (const value of values) assertText(value, what);
}

function assertText(value: unknown, what: string, streamId?: string): asserts value is string {
  // The same storable-text rule as stream ids: these values travel through PostgreSQL `text`.
  try {
    assertStreamId(value);
  } catch {
    throw new StoreError("INVALID_ARGUMENT", `${what} must be a non-empty string without NUL or unpaired surrogates`, { details: streamId === undefined ? {} : { streamId } });
  }
}
