/**
 * `readAll` orders by transaction id as a number. Its rows carry the id as text, and an ORDER BY on
 * the bare name sorted by that text: once transaction ids crossed a power of ten ("999" → "1000"),
 * pages came back out of order, so a reader repeated or skipped events. Found when a PGlite test
 * file crossed xid 1,000 in CI. Rows are written here with chosen transaction ids on both sides of
 * such boundaries (older than any running transaction, so the watermark lets them through).
 */
import { PGlite } from "@electric-sql/pglite";
import { START, openPgliteStore, openPostgresStore, type EventStore, type StoredEvent } from "@cloudsession/store";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { findPostgres, randomSchema } from "./support/postgres.js";

/**
 * Transaction ids in the order they must be read, written with descending positions. A fresh
 * PGlite has not reached transaction 999 yet (the watermark would hide such rows), so it gets the
 * lower boundaries only.
 */
const serverIds = [9, 10, 99, 100, 999, 1000];
const pgliteIds = [9, 10, 99, 100];

async function readPaged(store: EventStore, limit: number): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let after = START;
  for (;;) {
    const page = await store.readAll({ after, limit });
    events.push(...page.events);
    after = page.checkpoint;
    if (page.events.length === 0) return events;
  }
}

/** Inserts two events per transaction id, the largest id first, so positions run against the ids. */
async function seed(insert: (sql: string, params: unknown[]) => Promise<unknown>, schema: string, transactionIds: readonly number[]): Promise<void> {
  for (const xid of [...transactionIds].reverse()) {
    for (const version of [1, 2]) {
      await insert(`INSERT INTO "${schema}".events (stream_id, version, type, data, recorded_at, transaction_id) VALUES ($1, $2, 'T', '{}', 0, $3::text::xid8)`, [`x-${xid}`, version, String(xid)]);
    }
  }
}

function expectNumericOrder(events: readonly StoredEvent[], transactionIds: readonly number[]): void {
  expect(events.map((event) => `${event.streamId}/${event.version}`)).toEqual(transactionIds.flatMap((xid) => [`x-${xid}/1`, `x-${xid}/2`]));
}

const url = await findPostgres("readAllOrder.test.ts");
const pool = url === undefined ? undefined : new pg.Pool({ connectionString: url, max: 2 });
const schema = randomSchema("cs_order");

describe("readAll orders by transaction id as a number, across powers of ten", () => {
  it("PGlite: one page, and pages of one, both in numeric order without repeats", async () => {
    const db = await PGlite.create("memory://");
    try {
      const store = await openPgliteStore({ pglite: db, schema: "ordered" });
      await seed((sql, params) => db.query(sql, params), "ordered", pgliteIds);
      expectNumericOrder(await readPaged(store, 1000), pgliteIds);
      expectNumericOrder(await readPaged(store, 1), pgliteIds);
      await store.close();
    } finally {
      await db.close();
    }
  });

  afterAll(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it.skipIf(pool === undefined)("PostgreSQL: one page, and pages of one, both in numeric order without repeats", async () => {
    if (pool === undefined) return;
    const store = await openPostgresStore({ pool, schema });
    try {
      await seed((sql, params) => pool.query(sql, params), schema, serverIds);
      expectNumericOrder(await readPaged(store, 1000), serverIds);
      expectNumericOrder(await readPaged(store, 1), serverIds);
    } finally {
      await store.close();
    }
  });
});
