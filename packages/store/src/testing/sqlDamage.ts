import { quoteSchema } from "../sql/migrations.js";
import { streamDamageKinds, type StoredEventRow, type StreamDamage, type StreamDamager } from "./streamDamage.js";

/**
 * Anything that runs one SQL statement and returns its rows: a `PGlite` instance, a `pg.Pool` or a
 * `pg.Client` all fit as they are. Each helper sends plain statements in autocommit (no
 * transaction: a pool may run each on another connection).
 */
export interface SqlDamageTarget {
  query(sql: string, params?: unknown[]): Promise<{ readonly rows: readonly unknown[] }>;
}

/** Where a stream lives: the database, the store's schema and the stream's id. */
export interface StoredStream {
  readonly db: SqlDamageTarget;
  /** The store's schema (`schema` of the adapter; `cloudsession` by default). */
  readonly schema: string;
  readonly streamId: string;
}

/**
 * Deletes event rows of a stream.
 *
 * @example
 * ```ts
 * await deleteEvents({ db: pglite, schema: "cloudsession", streamId: "s-1" }, [5, 7]);
 * ```
 */
export async function deleteEvents(where: StoredStream, versions: readonly number[]): Promise<void> {
  await where.db.query(`DELETE FROM ${quoteSchema(where.schema)}.events WHERE stream_id = $1 AND version = ANY($2::bigint[])`, [where.streamId, [...versions]]);
}

/**
 * Stores one event of a stream a second time, as a new row written after every other (new
 * position). The schema's unique key on `(stream_id, version)` forbids that, so this first drops
 * it from the schema, as a restore without constraints would leave it: use a throwaway schema.
 *
 * @example
 * ```ts
 * await duplicateEvent({ db: pool, schema, streamId: "s-1" }, 4);
 * ```
 */
export async function duplicateEvent(where: StoredStream, version: number): Promise<void> {
  const s = quoteSchema(where.schema);
  const { rows } = await where.db.query(`SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'u'`, [`${s}.events`]);
  for (const row of rows) await where.db.query(`ALTER TABLE ${s}.events DROP CONSTRAINT "${String((row as { conname: unknown }).conname)}"`);
  await where.db.query(
    `INSERT INTO ${s}.events (stream_id, version, type, data, metadata, recorded_at)
     SELECT stream_id, version, type, data, metadata, recorded_at FROM ${s}.events
     WHERE stream_id = $1 AND version = $2 ORDER BY position LIMIT 1`,
    [where.streamId, version],
  );
}

/**
 * Swaps two events of a stream: each row takes the other's version (and keeps its position), so
 * the one written later now comes first. Three statements (the unique key on `(stream_id, version)`
 * is checked row by row, so no single statement can swap): the first row is parked past the
 * stream's last version meanwhile.
 *
 * @example
 * ```ts
 * await swapEvents({ db: pglite, schema, streamId: "s-1" }, 3, 5);
 * ```
 */
export async function swapEvents(where: StoredStream, first: number, second: number): Promise<void> {
  const s = quoteSchema(where.schema);
  const move = (from: string, to: string, params: unknown[]): Promise<unknown> =>
    where.db.query(`UPDATE ${s}.events SET version = ${to} WHERE stream_id = $1 AND version = ${from}`, [where.streamId, ...params]);
  await move("$2", `(SELECT max(version) + 1 FROM ${s}.events WHERE stream_id = $1)`, [first]);
  await move("$2", "$3", [second, first]);
  await move(`(SELECT max(version) FROM ${s}.events WHERE stream_id = $1)`, "$2", [second]);
}

/**
 * Keeps only a stream's first `keep` events. With `moveStreamRow`, the stream row is moved back to
 * match (deleted when `keep` is 0): the result looks exactly like a shorter log.
 *
 * @example
 * ```ts
 * await truncateTail({ db: pglite, schema, streamId: "s-1" }, 6);
 * ```
 */
export async function truncateTail(where: StoredStream, keep: number, options: { readonly moveStreamRow?: boolean } = {}): Promise<void> {
  const s = quoteSchema(where.schema);
  await where.db.query(`DELETE FROM ${s}.events WHERE stream_id = $1 AND version > $2`, [where.streamId, keep]);
  if (options.moveStreamRow !== true) return;
  if (keep === 0) await deleteStreamRow(where);
  else await where.db.query(`UPDATE ${s}.streams SET version = $2 WHERE stream_id = $1`, [where.streamId, keep]);
}

/**
 * Overwrites one event's `data` (or `metadata`) with text that is not JSON.
 *
 * @example
 * ```ts
 * await corruptEvent({ db: pglite, schema, streamId: "s-1" }, 2);
 * ```
 */
export async function corruptEvent(where: StoredStream, version: number, column: "data" | "metadata" = "data"): Promise<void> {
  await where.db.query(`UPDATE ${quoteSchema(where.schema)}.events SET ${column === "data" ? "data" : "metadata"} = '{not json' WHERE stream_id = $1 AND version = $2`, [where.streamId, version]);
}

/**
 * Moves the stream row's version `by` ahead (positive) or behind (negative) of its events. The
 * schema keeps it above 0.
 *
 * @example
 * ```ts
 * await moveStreamRow({ db: pglite, schema, streamId: "s-1" }, -2);
 * ```
 */
export async function moveStreamRow(where: StoredStream, by: number): Promise<void> {
  await where.db.query(`UPDATE ${quoteSchema(where.schema)}.streams SET version = version + $2 WHERE stream_id = $1`, [where.streamId, by]);
}

/**
 * Deletes the stream row, leaving its events.
 *
 * @example
 * ```ts
 * await deleteStreamRow({ db: pglite, schema, streamId: "s-1" });
 * ```
 */
export async function deleteStreamRow(where: StoredStream): Promise<void> {
  await where.db.query(`DELETE FROM ${quoteSchema(where.schema)}.streams WHERE stream_id = $1`, [where.streamId]);
}

/**
 * Applies one {@link StreamDamage} through SQL.
 *
 * @example
 * ```ts
 * await damageSqlStream({ db: pglite, schema, streamId: "s-1" }, { kind: "moveStreamRow", by: 2 });
 * ```
 */
export async function damageSqlStream(where: StoredStream, damage: StreamDamage): Promise<void> {
  switch (damage.kind) {
    case "deleteEvents":
      return deleteEvents(where, damage.versions);
    case "duplicateEvent":
      return duplicateEvent(where, damage.version);
    case "swapEvents":
      return swapEvents(where, ...damage.versions);
    case "truncateTail":
      return truncateTail(where, damage.keep, { moveStreamRow: damage.moveStreamRow === true });
    case "corruptEvent":
      return corruptEvent(where, damage.version, damage.column);
    case "moveStreamRow":
      return moveStreamRow(where, damage.by);
    case "deleteStreamRow":
      return deleteStreamRow(where);
  }
}

/**
 * A stream's event rows exactly as stored, in position order.
 *
 * @example
 * ```ts
 * const before = await storedEventRows({ db: pglite, schema, streamId: "s-1" });
 * ```
 */
export async function storedEventRows(where: StoredStream): Promise<readonly StoredEventRow[]> {
  const { rows } = await where.db.query(
    // Ordered by the column, not by its text alias ("10" sorts before "2").
    `SELECT e.position::text AS position, e.version::text AS version, e.type, e.data, e.metadata FROM ${quoteSchema(where.schema)}.events AS e WHERE e.stream_id = $1 ORDER BY e.position`,
    [where.streamId],
  );
  return rows.map((row) => {
    const { position, version, type, data, metadata } = row as Record<string, unknown>;
    return { position: Number(position), version: Number(version), type: String(type), data: String(data), metadata: String(metadata) };
  });
}

/**
 * The damager of a SQL store's conformance fixture: every kind, through SQL on `db` in `schema`.
 *
 * @example
 * ```ts
 * describeEventStoreConformance("PGlite", async () => ({ store, cleanup, damage: sqlStreamDamager(pglite, schema) }));
 * ```
 */
export function sqlStreamDamager(db: SqlDamageTarget, schema: string): StreamDamager {
  return {
    kinds: streamDamageKinds,
    apply: (streamId, damage) => damageSqlStream({ db, schema, streamId }, damage),
    storedRows: (streamId) => storedEventRows({ db, schema, streamId }),
  };
}
