import { checkpointOf } from "./checkpoint.js";
import type { JsonObject, JsonValue, StoredEvent } from "./eventStore.js";
import { StoreError } from "./storeError.js";

/**
 * An event as a backend returns it, before decoding. Numbers may arrive as strings (node-postgres
 * returns `bigint` columns as text) and JSON as text: the decoder owns every conversion.
 */
export interface EventRow {
  readonly stream_id: unknown;
  readonly version: unknown;
  readonly position: unknown;
  readonly transaction_id: unknown;
  readonly type: unknown;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly recorded_at: unknown;
}

/**
 * Decodes one stored row; a row that does not decode becomes a `CORRUPTED_EVENT` error naming the
 * stream, version and position instead of a crash deep inside a consumer.
 *
 * @throws StoreError `CORRUPTED_EVENT`
 * @example
 * ```ts
 * const events = rows.map(decodeEventRow);
 * ```
 */
export function decodeEventRow(row: EventRow): StoredEvent {
  const streamId = typeof row.stream_id === "string" ? row.stream_id : String(row.stream_id);
  const version = toSafeInteger(row.version);
  const position = toSafeInteger(row.position);
  const where = `event ${streamId}@${version ?? String(row.version)} (position ${position ?? String(row.position)})`;
  const fail = (problem: string, cause?: unknown): StoreError =>
    new StoreError("CORRUPTED_EVENT", `corrupted ${where}: ${problem}`, {
      cause,
      details: { streamId, ...(version === undefined ? {} : { version }), ...(position === undefined ? {} : { position }) },
    });
  if (typeof row.stream_id !== "string") throw fail("stream id is not text");
  if (version === undefined || version < 1) throw fail("version is not a positive integer");
  if (position === undefined || position < 1) throw fail("position is not a positive integer");
  const recordedAt = toSafeInteger(row.recorded_at);
  if (recordedAt === undefined) throw fail("recorded_at is not an integer");
  if (typeof row.type !== "string" || row.type.length === 0) throw fail("type is not a non-empty string");
  let transactionId: bigint;
  try {
    transactionId = BigInt(row.transaction_id as string | number | bigint);
  } catch (cause) {
    throw fail("transaction id is not an integer", cause);
  }
  const data = parseJson(row.data, "data", fail);
  const metadata = parseJson(row.metadata, "metadata", fail);
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) throw fail("metadata is not a JSON object");
  return {
    streamId,
    version,
    position,
    checkpoint: checkpointOf({ transactionId, position }),
    type: row.type,
    data,
    metadata: metadata as JsonObject,
    recordedAt,
  };
}

/** Where an event sits: all a log check needs of a row. */
export type EventPlacement = Pick<StoredEvent, "version" | "position">;

/**
 * A row's version and position without decoding its JSON: for rows a read fetches only to check
 * the edges of its range. A row whose numbers do not decode is decoded in full, which throws.
 *
 * @throws StoreError `CORRUPTED_EVENT`
 * @example
 * ```ts
 * placementOf(row); // { version: 4, position: 17 }
 * ```
 */
export function placementOf(row: EventRow): EventPlacement {
  const version = toSafeInteger(row.version);
  const position = toSafeInteger(row.position);
  return version === undefined || position === undefined ? decodeEventRow(row) : { version, position };
}

function parseJson(value: unknown, column: string, fail: (problem: string, cause?: unknown) => StoreError): JsonValue {
  if (typeof value !== "string") throw fail(`${column} is not JSON text`);
  try {
    return JSON.parse(value) as JsonValue;
  } catch (cause) {
    throw fail(`${column} is not valid JSON`, cause);
  }
}

/** Accepts number, bigint or decimal text (drivers differ); undefined when not a safe integer. */
export function toSafeInteger(value: unknown): number | undefined {
  const number = typeof value === "number" ? value : typeof value === "bigint" || (typeof value === "string" && /^-?\d+$/.test(value)) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(number) ? number : undefined;
}
