/**
 * The proof behind docs/adr/0003-global-order-watermark.md on a real PostgreSQL server: readers
 * that poll `readAll` while many writers commit out of order see every event exactly once.
 */
import { START, createSqlEventStore, type EventStore, type SqlExecutor, type StoredEvent } from "@cloudsession/store";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findPostgres, randomSchema } from "./support/postgres.js";

const url = await findPostgres("postgres.watermark.test.ts");
const schema = randomSchema("cs_watermark");
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A node-postgres executor that holds every transaction open for a random while before COMMIT,
 * so transactions that took lower positions routinely commit after ones with higher positions.
 */
function delayingExecutor(pool: pg.Pool, maxDelayMs: number): SqlExecutor {
  return {
    async query(sql, params = []) {
      return (await pool.query(sql, [...params])).rows as Record<string, unknown>[];
    },
    async transaction(body) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await body({ query: async (sql, params = []) => (await client.query(sql, [...params])).rows as Record<string, unknown>[] });
        await sleep(Math.random() * maxDelayMs);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

describe.skipIf(url === undefined)("global order watermark on PostgreSQL", () => {
  const admin = new pg.Pool({ connectionString: url, max: 3 });
  let reader: EventStore;

  beforeAll(async () => {
    reader = await createSqlEventStore(delayingExecutor(new pg.Pool({ connectionString: url, max: 2 }), 0), { schema });
  });
  afterAll(async () => {
    await reader.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("a position-ordered reader skips a late commit; the watermark reader does not", async () => {
    const s = `"${schema}"`;
    const slow = await admin.connect();
    const fast = await admin.connect();
    try {
      const before = await reader.readAll({ after: START, limit: 100_000 });
      await slow.query("BEGIN");
      const low = await slow.query<{ position: string }>(
        `INSERT INTO ${s}.events (stream_id, version, type, data, recorded_at) VALUES ('slow', 1, 'Slow', '{}', 0) RETURNING position`,
      );
      await fast.query(`INSERT INTO ${s}.events (stream_id, version, type, data, recorded_at) VALUES ('fast', 1, 'Fast', '{}', 0)`);
      // Naive reader: everything with a position above its cursor, in position order.
      const naive = await admin.query<{ position: string; type: string }>(`SELECT position, type FROM ${s}.events WHERE position > $1 ORDER BY position`, [
        before.events.at(-1)?.position ?? 0,
      ]);
      expect(naive.rows.map((row) => row.type)).toEqual(["Fast"]);
      const naiveCursor = Number(naive.rows.at(-1)?.position);
      expect(naiveCursor).toBeGreaterThan(Number(low.rows[0]?.position));

      // The watermark holds "Fast" back while "Slow" (an older transaction) is still running.
      const held = await reader.readAll({ after: before.checkpoint });
      expect(held.events).toEqual([]);
      expect(held.checkpoint).toBe(before.checkpoint);

      await slow.query("COMMIT");
      const naiveAfter = await admin.query(`SELECT type FROM ${s}.events WHERE position > $1 ORDER BY position`, [naiveCursor]);
      expect(naiveAfter.rows).toEqual([]); // the naive reader lost "Slow" for good

      const released = await reader.readAll({ after: before.checkpoint });
      expect(released.events.map((e) => e.type)).toEqual(["Slow", "Fast"]);
    } finally {
      slow.release();
      fast.release();
    }
  });

  it("many concurrent writers with delayed commits: polling readers see every event exactly once, in one order", async () => {
    const writerCount = 6;
    const appendsPerWriter = 250;
    const streamsPerWriter = 20;
    const writers = await Promise.all(
      Array.from({ length: writerCount }, () =>
        createSqlEventStore(delayingExecutor(new pg.Pool({ connectionString: url, max: 3 }), 15), { schema, maxConcurrentFlushes: 3, maxBatchEvents: 40 }),
      ),
    );
    const start = await reader.readAll({ after: START, limit: 100_000 });

    let writing = true;
    const isWriting = (): boolean => writing;
    const seen: StoredEvent[] = [];
    const pollingReader = (async () => {
      let after = start.checkpoint;
      for (;;) {
        const done = !isWriting();
        const page = await reader.readAll({ after, limit: 50 });
        seen.push(...page.events);
        after = page.checkpoint;
        if (page.events.length === 0) {
          if (done) return;
          await sleep(1);
        }
      }
    })();
    // A second reader through a subscription, to check the same guarantee on the live path.
    const subscribed: StoredEvent[] = [];
    const subscription = reader.subscribe((event) => void subscribed.push(event), { after: start.checkpoint, pollIntervalMs: 5, batchSize: 64 });

    const appended: StoredEvent[] = [];
    await Promise.all(
      writers.map(async (store, writer) => {
        const inFlight: Promise<void>[] = [];
        for (let index = 0; index < appendsPerWriter; index++) {
          const streamId = `w${writer}-s${index % streamsPerWriter}`;
          const events = Array.from({ length: 1 + (index % 3) }, (_, k) => ({ type: "Written", data: { writer, index, k } }));
          inFlight.push(store.append(streamId, events).then((result) => void appended.push(...result.events)));
          if (inFlight.length >= 25) await Promise.all(inFlight.splice(0));
        }
        await Promise.all(inFlight);
      }),
    );
    writing = false;
    await pollingReader;
    await Promise.all(writers.map((store) => store.close()));

    const expectedCount = appended.length;
    const planned = Array.from({ length: appendsPerWriter }, (_, index) => 1 + (index % 3)).reduce((sum, count) => sum + count, 0);
    expect(expectedCount).toBe(writerCount * planned);
    const positions = seen.map((e) => e.position);
    expect(new Set(positions).size).toBe(positions.length); // no duplicates
    expect(seen).toHaveLength(expectedCount); // no gaps
    expect(new Set(positions)).toEqual(new Set(appended.map((e) => e.position)));

    // The order the poller saw is the store's one global order (what a fresh reader gets in one go).
    const replay = await reader.readAll({ after: start.checkpoint, limit: 100_000 });
    expect(seen.map((e) => e.checkpoint)).toEqual(replay.events.map((e) => e.checkpoint));
    // ...and that order really is out of position order: commits were interleaved.
    const inversions = replay.events.filter((e, index) => index > 0 && e.position < replay.events[index - 1]!.position).length;
    expect(inversions).toBeGreaterThan(0);

    const deadline = Date.now() + 10_000;
    while (subscribed.length < expectedCount && Date.now() < deadline) await sleep(10);
    await subscription.close();
    expect(subscribed.map((e) => e.checkpoint)).toEqual(replay.events.map((e) => e.checkpoint));
    console.info(`watermark proof: ${expectedCount} events from ${writerCount} writers; ${inversions} position inversions in global order; none skipped`);
  });
});
