import { StoreError } from "./storeError.js";

declare const checkpointBrand: unique symbol;

/**
 * A resumable position in the global event order: opaque to callers (persist it as a string, hand
 * it back to `readAll`/`subscribe`), ordered by {@link compareCheckpoints}.
 *
 * It encodes the pair `(transactionId, position)` because global order is "by committing
 * transaction, then by sequence" — see docs/adr/0003-global-order-watermark.md. A bare position
 * would not do: a lower position can commit after a higher one.
 */
export type Checkpoint = string & { readonly [checkpointBrand]: true };

/** The checkpoint before every event: reading `after: START` reads from the beginning. */
export const START = "0/0" as Checkpoint;

/** The decoded parts of a {@link Checkpoint}; for adapters, not for callers. */
export interface CheckpointParts {
  /** Transaction id (PostgreSQL `xid8`, or a batch counter in memory), as a decimal bigint. */
  readonly transactionId: bigint;
  /** The event's global position within the store. */
  readonly position: number;
}

const pattern = /^(\d{1,20})\/(\d{1,16})$/;

/**
 * Builds a checkpoint from its parts. Adapters call this; callers treat the result as opaque.
 *
 * @example
 * ```ts
 * const checkpoint = checkpointOf({ transactionId: 812n, position: 41 }); // "812/41"
 * ```
 */
export function checkpointOf(parts: CheckpointParts): Checkpoint {
  return `${parts.transactionId.toString()}/${parts.position}` as Checkpoint;
}

/**
 * Parses and validates a checkpoint, e.g. one read back from a projection's table.
 *
 * @throws StoreError `INVALID_ARGUMENT` when the string is not a checkpoint.
 * @example
 * ```ts
 * const { transactionId, position } = parseCheckpoint(saved);
 * ```
 */
export function parseCheckpoint(value: string): CheckpointParts {
  const match = pattern.exec(value);
  if (match?.[1] === undefined || match[2] === undefined) {
    throw new StoreError("INVALID_ARGUMENT", `not a checkpoint: ${JSON.stringify(value)}`);
  }
  const position = Number(match[2]);
  if (!Number.isSafeInteger(position)) throw new StoreError("INVALID_ARGUMENT", `checkpoint position out of range: ${value}`);
  return { transactionId: BigInt(match[1]), position };
}

/** True when `value` is a syntactically valid {@link Checkpoint}. */
export function isCheckpoint(value: unknown): value is Checkpoint {
  return typeof value === "string" && pattern.test(value) && Number.isSafeInteger(Number(value.split("/")[1]));
}

/**
 * Orders two checkpoints: negative when `a` comes first, 0 when equal, positive otherwise.
 *
 * @example
 * ```ts
 * compareCheckpoints(START, event.checkpoint) < 0; // true for every stored event
 * ```
 */
export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  const left = parseCheckpoint(a);
  const right = parseCheckpoint(b);
  if (left.transactionId !== right.transactionId) return left.transactionId < right.transactionId ? -1 : 1;
  return left.position - right.position;
}
