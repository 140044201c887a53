import { NO_STREAM, createSqlEventStore, migrate, openPostgresStore, openStore, type EventStore, type SqlExecutor, type StoredEvent } from "@cloudsession/store";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { findPostgres, randomSchema } from "./support/postgres.js";

const url = await findPostgres("postgres.int.test.ts");
const prefix = randomSchema("cs_int");
const schemas: string[] = [];
const nextSchema = (): string => {
  const schema = `${prefix}_${schemas.length}`;
  schemas.push(schema);
  return schema;
};

describe.skipIf(url === undefined)("PostgreSQL adapter", () => {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  const executor: SqlExecutor = {
    async query(sql, params = []) {
      return (await pool.query(sql, [...params])).rows as Record<string, unknown>[];
    },
    async transaction(body) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await body({ query: async (sql, params = []) => (await client.query(sql, [...params])).rows as Record<string, unknown>[] });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => Promise.resolve(),
  };

  it("migrations are versioned, idempotent and safe to run concurrently", async () => {
    const schema = nextSchema();
    const applied = await Promise.all(Array.from({ length: 4 }, () => migrate(executor, schema)));
    expect(applied.flat()).toEqual([1, 2, 3]);
    expect(await migrate(executor, schema)).toEqual([]);
    const { rows } = await pool.query(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`);
    expect(rows).toEqual([
      { version: 1, name: "events and streams" },
      { version: 2, name: "leases, instances and commands" },
      { version: 3, name: "room on stream pages for in-place version updates" },
    ]);
    const { rows: options } = await pool.query(`SELECT reloptions FROM pg_class WHERE oid = '"${schema}".streams'::regclass`);
    expect(options).toEqual([{ reloptions: ["fillfactor=50"] }]);
  });

  it("a sole writer appends in one statement; a writer with a stale view falls back and stays correct", async () => {
    const schema = nextSchema();
    const counts = { transactions: 0 };
    const counting: SqlExecutor = {
      query: (sql, params) => executor.query(sql, params),
      transaction: (body) => {
        counts.transactions += 1;
        return executor.transaction(body);
      },
      close: () => Promise.resolve(),
    };
    const a = await createSqlEventStore(counting, { schema });
    const b = await openPostgresStore({ pool, schema });
    try {
      counts.transactions = 0;
      for (let version = 0; version < 20; version++) await a.append("solo", [{ type: "E", data: { version } }], { expectedVersion: version });
      await Promise.all(Array.from({ length: 20 }, (_, index) => a.append(`burst-${index}`, [{ type: "E", data: {} }], { expectedVersion: NO_STREAM })));
      expect(counts.transactions).toBe(0);

      // Two writers take turns on one stream: each one's cached version is always stale.
      let version = 0;
      for (let turn = 0; turn < 10; turn++) {
        const writer = turn % 2 === 0 ? a : b;
        const result = await writer.append("shared", [{ type: "Turn", data: { turn } }], { expectedVersion: version });
        version = result.nextExpectedVersion;
        await expect(writer.append("shared", [{ type: "Stale", data: {} }], { expectedVersion: version - 1 })).rejects.toMatchObject({ code: "VERSION_CONFLICT" });
      }
      expect(counts.transactions).toBeGreaterThan(0);
      const shared = await b.readStream("shared");
      expect(shared.events.map((event) => event.type)).toEqual(Array.from({ length: 10 }, () => "Turn"));
      expect(shared.events.map((event) => event.version)).toEqual(Array.from({ length: 10 }, (_, index) => index + 1));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a stale stream in a batch takes the locking path alone; the rest of the batch commits in the fast statement", async () => {
    const schema = nextSchema();
    const counts = { transactions: 0 };
    const counting: SqlExecutor = {
      query: (sql, params) => executor.query(sql, params),
      transaction: (body) => {
        counts.transactions += 1;
        return executor.transaction(body);
      },
      close: () => Promise.resolve(),
    };
    const a = await createSqlEventStore(counting, { schema });
    const b = await openPostgresStore({ pool, schema });
    try {
      await a.append("shared", [{ type: "A", data: {} }], { expectedVersion: NO_STREAM });
      await Promise.all(Array.from({ length: 5 }, (_, index) => a.append(`own-${index}`, [{ type: "A", data: {} }], { expectedVersion: NO_STREAM })));
      await b.append("shared", [{ type: "B", data: {} }], { expectedVersion: 1 }); // a's cache of "shared" is now stale
      counts.transactions = 0;
      const results = await Promise.allSettled([
        a.append("shared", [{ type: "A2", data: {} }], { expectedVersion: 2 }), // right, though a's cache says 1
        ...Array.from({ length: 5 }, (_, index) => a.append(`own-${index}`, [{ type: "A2", data: {} }], { expectedVersion: 1 })),
        a.append("own-0", [{ type: "Stale", data: {} }], { expectedVersion: 1 }), // conflicts with the append just before it
        a.append("own-1", [{ type: "Final", data: {} }], { expectedVersion: 2, markFinal: true }),
        a.append("own-1", [{ type: "After", data: {} }], { expectedVersion: 3 }),
      ]);
      expect(results.map((result) => result.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled", "fulfilled", "fulfilled", "rejected", "fulfilled", "rejected"]);
      expect(results[6]).toMatchObject({ status: "rejected", reason: { code: "VERSION_CONFLICT", details: { actualVersion: 2 } } });
      expect(results[8]).toMatchObject({ status: "rejected", reason: { code: "STREAM_FINAL" } });
      // One transaction for the streams that needed it ("shared" stale, "own-0" and "own-1" to classify).
      expect(counts.transactions).toBe(1);
      expect((await b.readStream("shared")).events.map((event) => event.type)).toEqual(["A", "B", "A2"]);
      expect((await b.readStream("own-1")).events.map((event) => event.type)).toEqual(["A", "A2", "Final"]);
      expect((await b.readStream("own-0")).events.map((event) => event.type)).toEqual(["A", "A2"]);
      for (let index = 2; index < 5; index++) expect((await b.readStream(`own-${index}`)).events.map((event) => event.version)).toEqual([1, 2]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("two processes racing to create the same stream: exactly one wins", async () => {
    const schema = nextSchema();
    const a = await openPostgresStore({ connectionString: url!, schema, poolSize: 2 });
    const b = await openPostgresStore({ connectionString: url!, schema, poolSize: 2 });
    try {
      for (let round = 0; round < 10; round++) {
        const results = await Promise.allSettled([
          a.append(`race-${round}`, [{ type: "A", data: {} }], { expectedVersion: NO_STREAM }),
          b.append(`race-${round}`, [{ type: "B", data: {} }], { expectedVersion: NO_STREAM }),
          // A bystander in each batch must not be hurt by the race.
          a.append(`a-${round}`, [{ type: "A", data: {} }]),
          b.append(`b-${round}`, [{ type: "B", data: {} }]),
        ]);
        expect(results.slice(0, 2).filter((result) => result.status === "fulfilled")).toHaveLength(1);
        expect(results.slice(2).every((result) => result.status === "fulfilled")).toBe(true);
      }
      expect(await a.listStreams()).toHaveLength(30);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("processes appending to overlapping streams never deadlock or lose events", async () => {
    const schema = nextSchema();
    const stores = await Promise.all(Array.from({ length: 3 }, () => openPostgresStore({ connectionString: url!, schema, poolSize: 3, maxConcurrentFlushes: 2 })));
    try {
      await Promise.all(
        stores.map((store, index) =>
          Promise.all(Array.from({ length: 60 }, (_, k) => store.append(`shared-${(k * (index + 1)) % 7}`, [{ type: "E", data: { index, k } }]))),
        ),
      );
      const total = (await stores[0]!.listStreams()).reduce((sum, summary) => sum + summary.version, 0);
      expect(total).toBe(180);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("LISTEN/NOTIFY wakes a subscriber in another process long before its poll interval", async () => {
    const schema = nextSchema();
    const listener = await openStore(url!, { schema });
    const writer = await openStore(url!, { schema });
    try {
      const received: StoredEvent[] = [];
      let arrived: () => void = () => undefined;
      const subscription = listener.subscribe(
        (event) => {
          received.push(event);
          arrived();
        },
        { pollIntervalMs: 60_000 },
      );
      // Let the subscription do its first (empty) read and the LISTEN settle.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      const delivered = new Promise<void>((resolve) => (arrived = resolve));
      await writer.append("elsewhere", [{ type: "Written", data: {} }]);
      await delivered;
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(received.map((event) => event.type)).toEqual(["Written"]);
      await subscription.close();
    } finally {
      await listener.close();
      await writer.close();
    }
  });

  it("a long transaction elsewhere delays readAll but never reorders it", async () => {
    const schema = nextSchema();
    const store: EventStore = await openPostgresStore({ pool, schema });
    const blocker = await pool.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("SELECT pg_current_xact_id()"); // holds the watermark back
      await store.append("s", [{ type: "A", data: {} }]);
      expect((await store.readAll()).events).toEqual([]);
      expect((await store.readStream("s")).events).toHaveLength(1); // stream reads are not held back
      await blocker.query("COMMIT");
      expect((await store.readAll()).events.map((event) => event.type)).toEqual(["A"]);
    } finally {
      blocker.release();
      await store.close();
    }
  });
});
