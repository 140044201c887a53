import { checkedRange, decodeRange, streamDamage, type CheckedRange } from "../checkStreamRead.js";
import { toSafeInteger, type EventRow } from "../eventRow.js";
import type { ReadStreamOptions, ReadStreamResult, ReadStreamsOptions } from "../eventStore.js";
import { readStreamRange, readStreamsArguments } from "../readOptions.js";
import { isStoreError, type StoreError } from "../storeError.js";
import type { SqlQueryable, SqlRow } from "./sqlExecutor.js";

/** The columns every event read selects, in the shape {@link decodeEventRow} takes. */
export const eventColumns = "stream_id, version, position, transaction_id::text AS transaction_id, type, data, metadata, recorded_at";

/** Distinct streams per `readStreams` statement: bounds the parameter array and the rows held at once. */
const readStreamsChunk = 500;

/** What a read tells the store's version cache about a stream. */
export interface ObservedStream {
  readonly version: number;
  readonly final: boolean;
}

/** What {@link createSqlStreamReads} needs from its store. */
export interface SqlStreamReadsOptions {
  readonly executor: SqlQueryable;
  /** The quoted schema. */
  readonly schema: string;
  /** Prefix of prepared-statement names (unique per schema). */
  readonly statementPrefix: string;
  /** Told the stream row of every whole stream read, so the writer's next append takes the fast path. */
  readonly observe: (streamId: string, stream: ObservedStream) => void;
}

/** The stream reads of the SQL store, each checked as it is read (see `checkStreamRead`). */
export interface SqlStreamReads {
  readStream(streamId: string, options?: ReadStreamOptions): Promise<ReadStreamResult>;
  readStreams(streamIds: readonly string[], options?: ReadStreamsOptions): Promise<readonly ReadStreamResult[]>;
  /**
   * Of these streams, the ones whose events reach past their stream row (or have none): the damage
   * an append runs into as a unique-key violation, which a race never leaves behind once it is over.
   */
  collisions(queryable: SqlQueryable, streamIds: readonly string[]): Promise<ReadonlyMap<string, StoreError>>;
}

/** One stream's rows of a read, before decoding. */
interface StreamRows {
  readonly rowVersion: number | undefined;
  readonly final: boolean;
  readonly lastVersion: number | undefined;
  /** Whether the statement fetched `last_version` (a whole read does without: its last row is the last). */
  readonly withLast: boolean;
  readonly rows: SqlRow[];
}

/**
 * Reads whole or partial streams in one statement each (one per 500 streams for `readStreams`):
 * the stream row, the version of the stream's last event (one index probe) and the events asked
 * for with one more on each side, all from one snapshot, then decodes and checks them in one pass.
 *
 * @example
 * ```ts
 * const reads = createSqlStreamReads({ executor, schema: '"cloudsession"', statementPrefix: "cs", observe: () => undefined });
 * const { events } = await reads.readStream("s-1");
 * ```
 */
export function createSqlStreamReads(options: SqlStreamReadsOptions): SqlStreamReads {
  const { executor, schema: s, statementPrefix, observe } = options;

  /** Decodes and checks one stream's rows; throws CORRUPTED_EVENT or CORRUPTED_LOG. */
  function toResult(streamId: string, found: StreamRows, range: CheckedRange): ReadStreamResult {
    // A stream without events (in range) comes back as one row of nulls from the outer join.
    const rows = found.rows.length === 1 && found.rows[0]?.position === null ? [] : found.rows;
    const { placements, asked } = decodeRange(rows as unknown as EventRow[], range);
    // Without `last_version` (a whole read) the last event read is the stream's last.
    const lastVersion = found.lastVersion ?? (found.withLast ? undefined : placements.at(-1)?.version);
    const damage = streamDamage({ streamId, rowVersion: found.rowVersion, lastVersion, fromVersion: range.from, events: placements });
    if (damage !== undefined) throw damage;
    if (found.rowVersion === undefined) return { streamId, exists: false, version: 0, final: false, events: [] };
    // Writers read before they append: priming the cache lets that append take the fast path.
    observe(streamId, { version: found.rowVersion, final: found.final });
    return { streamId, exists: true, version: found.rowVersion, final: found.final, events: asked };
  }

  async function readStream(streamId: string, readOptions?: ReadStreamOptions): Promise<ReadStreamResult> {
    const { fromVersion, maxCount } = readStreamRange(readOptions);
    const range = checkedRange(fromVersion, maxCount);
    // One statement, one snapshot: the stream row, the last event's version and the events agree.
    // The events are joined on the stream row's id, not on $1: planned with the constant's
    // statistics, a stream that is a large share of a small table got a sequential scan and a sort
    // (a third slower on 5,000 events). Events without a stream row show in `last_version` alone.
    const rows = await executor.query(
      `SELECT st.version AS stream_version, st.final AS stream_final, l.last_version, e.*
       FROM (SELECT max(version) AS last_version FROM ${s}.events WHERE stream_id = $1) AS l
       LEFT JOIN ${s}.streams st ON st.stream_id = $1
       LEFT JOIN LATERAL (
         SELECT ${eventColumns} FROM ${s}.events
         WHERE stream_id = st.stream_id AND version >= $2
         ORDER BY version LIMIT $3
       ) e ON true`,
      [streamId, range.from, range.count ?? null],
    );
    const head = rows[0];
    return toResult(streamId, { rowVersion: toSafeInteger(head?.stream_version), final: head?.stream_final === true, lastVersion: toSafeInteger(head?.last_version), withLast: true, rows: [...rows] }, range);
  }

  /** One statement, one snapshot, for up to {@link readStreamsChunk} distinct ids; throws the first damage in `ids` order. */
  async function readChunk(ids: readonly string[], range: CheckedRange, into: Map<string, ReadStreamResult>): Promise<void> {
    // A whole read (no maxCount) ends at the stream's last event: the probe for it, and the column
    // on every row (a sixth of the client's work on 10,000 rows), are only needed for a limited one.
    const withLast = range.count !== undefined;
    const rows = await executor.query(
      `SELECT q.stream_id AS read_stream_id, st.version AS stream_version, st.final AS stream_final${withLast ? ", l.last_version" : ""}, e.*
       FROM unnest($1::text[]) AS q(stream_id)
       LEFT JOIN ${s}.streams st ON st.stream_id = q.stream_id
       ${withLast ? `CROSS JOIN LATERAL (SELECT max(version) AS last_version FROM ${s}.events WHERE stream_id = q.stream_id) AS l` : ""}
       LEFT JOIN LATERAL (
         SELECT ${eventColumns} FROM ${s}.events
         WHERE stream_id = q.stream_id
         ORDER BY version LIMIT $2
       ) e ON true
       ORDER BY q.stream_id, e.version`,
      [ids, range.count ?? null],
      `${statementPrefix}_read_streams_${withLast ? "limited" : "whole"}`,
    );
    const grouped = new Map<string, StreamRows>();
    for (const row of rows) {
      const streamId = String(row.read_stream_id);
      let found = grouped.get(streamId);
      if (found === undefined) {
        found = { rowVersion: toSafeInteger(row.stream_version), final: row.stream_final === true, lastVersion: toSafeInteger(row.last_version), withLast, rows: [] };
        grouped.set(streamId, found);
      }
      found.rows.push(row);
    }
    const failures = new Map<string, unknown>();
    for (const [streamId, found] of grouped) {
      try {
        into.set(streamId, toResult(streamId, found, range));
      } catch (error) {
        failures.set(streamId, error);
      }
    }
    // Deterministic: of several damaged streams, the one asked for first is reported.
    for (const id of ids) if (failures.has(id)) throw failures.get(id);
  }

  return {
    readStream,

    async readStreams(streamIds: readonly string[], readOptions?: ReadStreamsOptions): Promise<readonly ReadStreamResult[]> {
      const { maxCount } = readStreamsArguments(streamIds, readOptions);
      const range = checkedRange(1, maxCount);
      const distinct = [...new Set(streamIds)];
      const found = new Map<string, ReadStreamResult>();
      for (let start = 0; start < distinct.length; start += readStreamsChunk) {
        await readChunk(distinct.slice(start, start + readStreamsChunk), range, found);
      }
      return streamIds.map((streamId) => found.get(streamId) ?? { streamId, exists: false, version: 0, final: false, events: [] });
    },

    async collisions(queryable: SqlQueryable, streamIds: readonly string[]): Promise<ReadonlyMap<string, StoreError>> {
      const rows = await queryable.query(
        `SELECT q.stream_id, st.version AS stream_version, l.last_version
         FROM unnest($1::text[]) AS q(stream_id)
         LEFT JOIN ${s}.streams st ON st.stream_id = q.stream_id
         CROSS JOIN LATERAL (SELECT max(version) AS last_version FROM ${s}.events WHERE stream_id = q.stream_id) AS l
         WHERE l.last_version IS NOT NULL AND (st.version IS NULL OR l.last_version > st.version)`,
        [[...new Set(streamIds)]],
      );
      const damaged = new Map<string, StoreError>();
      for (const row of rows) {
        const streamId = String(row.stream_id);
        const lastVersion = toSafeInteger(row.last_version) ?? 0;
        const damage = streamDamage({ streamId, rowVersion: toSafeInteger(row.stream_version), lastVersion, fromVersion: lastVersion + 1, events: [] });
        if (isStoreError(damage)) damaged.set(streamId, damage);
      }
      return damaged;
    },
  };
}
