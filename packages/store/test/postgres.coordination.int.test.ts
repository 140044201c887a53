import { NO_STREAM, createSqlEventStore, isStoreError, migrate, migrations, openPostgresStore, type EventStore, type Lease, type SqlExecutor, type SqlRow } from "@cloudsession/store";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { findPostgres, randomSchema } from "./support/postgres.js";

const url = await findPostgres("postgres.coordination.int.test.ts");
const prefix = randomSchema("cs_coord");
const schemas: string[] = [];
const nextSchema = (): string => {
  const schema = `${prefix}_${schemas.length}`;
  schemas.push(schema);
  return schema;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The fence detector: an AFTER INSERT trigger on `events` that, for an event carrying the token it
 * was written with in its metadata, sleeps a moment (widening the race) and then reads the lease's
 * committed token with a fresh snapshot (READ COMMITTED gives every statement in a function a new
 * one). The trigger runs inside the writing transaction, before its commit: if it sees a newer
 * token, a takeover has committed while an old-token write is still to commit, which is exactly
 * the violation. It raises, so the append fails loudly instead of committing.
 */
async function installFenceDetector(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`
    CREATE FUNCTION "${schema}".detect_fence_violation() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      written bigint := (NEW.metadata::jsonb ->> 'token')::bigint;
      committed bigint;
    BEGIN
      IF written IS NULL THEN RETURN NEW; END IF;
      PERFORM pg_sleep(0.002 + random() * 0.008);
      SELECT token INTO committed FROM "${schema}".leases WHERE stream_id = NEW.stream_id;
      IF committed IS DISTINCT FROM written THEN
        RAISE EXCEPTION 'fence violated: % written with token % after token % committed', NEW.stream_id, written, committed;
      END IF;
      RETURN NEW;
    END $$`);
  await pool.query(`CREATE TRIGGER detect_fence_violation AFTER INSERT ON "${schema}".events FOR EACH ROW EXECUTE FUNCTION "${schema}".detect_fence_violation()`);
}

const isFenceViolation = (error: unknown): boolean => error instanceof Error && error.message.includes("fence violated");

/** An executor over a pool that lets a test rewrite statements (to break the store on purpose). */
function poolExecutor(pool: pg.Pool, rewrite: (sql: string) => string = (sql) => sql, counts = { transactions: 0 }): SqlExecutor {
  return {
    async query(sql, params = []) {
      return (await pool.query<SqlRow>(rewrite(sql), [...params])).rows;
    },
    async transaction(body) {
      counts.transactions += 1;
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await body({ query: async (sql, params = []) => (await client.query<SqlRow>(rewrite(sql), [...params])).rows });
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
}

interface RaceOutcome {
  /** Detector hits and events of the old token ordered after the new owner's. */
  readonly violations: number;
  /** Old-token appends refused with LEASE_LOST. */
  readonly refused: number;
}

/**
 * One takeover race on a fresh stream: two writers of `holder` append with the first lease's fence
 * (some through the fast statement, some through the locking transaction) while `taker`, on
 * another pool, takes the stream over (re-acquired by the same owner, or acquired by another owner
 * once the lease lapsed) and appends with its new fence. Afterwards every old-token event must
 * precede every new-token event, every acknowledged append must be there and no refused one.
 */
async function race(holder: EventStore, taker: EventStore, streamId: string, iteration: number): Promise<RaceOutcome> {
  const first = await holder.coordination!.acquire(streamId, "a", 60_000);
  if (first === null) throw new Error("no lease");
  await holder.append(streamId, [{ type: "Created", data: {}, metadata: { token: first.token } }], { fence: first, expectedVersion: NO_STREAM });
  let violations = 0;
  let refused = 0;
  let stop = false;
  const acknowledged = new Set<string>();
  const writer = async (name: string): Promise<void> => {
    for (let n = 0; !stop && n < 300; n++) {
      try {
        // Stream metadata sends an append through the locking transaction; the others go through the fast statement.
        const result = await holder.append(streamId, [{ type: "Old", data: { name, n }, metadata: { token: first.token } }], {
          fence: first,
          ...(n % 3 === 2 ? { streamMetadata: { [name]: n } } : {}),
        });
        acknowledged.add(`${name}/${n}`);
        expect(result.events).toHaveLength(1);
      } catch (error) {
        if (isStoreError(error, "LEASE_LOST")) {
          refused += 1;
          return;
        }
        if (isFenceViolation(error)) {
          violations += 1;
          return;
        }
        throw error;
      }
    }
  };
  const writers = [writer("w1"), writer("w2")];
  await sleep(Math.random() * 15);
  let next: Lease | null = null;
  if (iteration % 2 === 0) {
    next = await taker.coordination!.acquire(streamId, "a", 60_000);
  } else {
    // The holder stops renewing: its lease lapses and another owner takes it at once.
    await holder.coordination!.renew([first], 5);
    while (next === null) next = await taker.coordination!.acquire(streamId, "b", 60_000);
  }
  if (next === null) throw new Error("no takeover");
  const taken = next;
  expect(taken.token).toBeGreaterThan(first.token);
  try {
    await taker.append(streamId, [{ type: "New", data: {}, metadata: { token: taken.token } }], { fence: taken });
  } catch (error) {
    if (!isFenceViolation(error)) throw error;
    violations += 1;
  }
  await sleep(5);
  stop = true;
  await Promise.all(writers);
  const { events } = await taker.readStream(streamId);
  const oldVersions = events.filter((event) => event.metadata.token === first.token).map((event) => event.version);
  const newVersions = events.filter((event) => event.metadata.token === taken.token).map((event) => event.version);
  if (newVersions.length > 0 && Math.max(...oldVersions) > Math.min(...newVersions)) violations += 1;
  // Nothing refused was written; everything acknowledged was.
  const written = events.filter((event) => event.type === "Old").map((event) => {
    const { name, n } = event.data as { name: string; n: number };
    return `${name}/${n}`;
  });
  expect(new Set(written)).toEqual(acknowledged);
  return { violations, refused };
}

describe.skipIf(url === undefined)("PostgreSQL coordination across processes", () => {
  const admin = new pg.Pool({ connectionString: url, max: 4 });
  afterAll(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("a fenced append never commits after a takeover of its stream committed", async () => {
    const schema = nextSchema();
    const holderPool = new pg.Pool({ connectionString: url, max: 4 });
    const takerPool = new pg.Pool({ connectionString: url, max: 4 });
    const holder = await openPostgresStore({ pool: holderPool, schema });
    const taker = await openPostgresStore({ pool: takerPool, schema });
    await installFenceDetector(admin, schema);
    try {
      let refused = 0;
      for (let iteration = 0; iteration < 40; iteration++) {
        const outcome = await race(holder, taker, `race-${iteration}`, iteration);
        expect(outcome.violations, `iteration ${iteration}`).toBe(0);
        refused += outcome.refused;
      }
      // The races were real: old-token writers kept running into the takeover.
      expect(refused).toBeGreaterThan(20);
    } finally {
      await holder.close();
      await taker.close();
      await holderPool.end();
      await takerPool.end();
    }
  }, 120_000);

  // The same store with the lease-row lock removed from the fence check of one path: check, then
  // write, unguarded. The race above must catch either (so it can fail).
  it.each([
    ["the fast statement", (sql: string) => (sql.includes("blocked AS") ? sql.replaceAll("FOR SHARE OF l", "") : sql)],
    ["the locking transaction", (sql: string) => (sql.includes("blocked AS") ? sql : sql.replaceAll("FOR SHARE OF l", ""))],
  ])("the race detects a fence check without the lease lock in %s", async (_path, rewrite) => {
    const schema = nextSchema();
    const holderPool = new pg.Pool({ connectionString: url, max: 4 });
    const takerPool = new pg.Pool({ connectionString: url, max: 4 });
    const broken = await createSqlEventStore(poolExecutor(holderPool, rewrite), { schema });
    const taker = await openPostgresStore({ pool: takerPool, schema });
    await installFenceDetector(admin, schema);
    try {
      let violations = 0;
      let iterations = 0;
      // Caught within 6–30 iterations on a quiet machine; a loaded CI machine once needed more than 60.
      while (iterations < 200 && violations === 0) violations += (await race(broken, taker, `broken-${iterations}`, iterations++)).violations;
      expect(violations).toBeGreaterThan(0);
      console.info(`fence race: the broken store (${_path}) was caught after ${iterations} iteration(s)`);

      // And deterministically: a write checked before a takeover, committed after it, is flagged.
      const lease = await taker.coordination!.acquire("check-then-write", "a", 60_000);
      const client = await holderPool.connect();
      try {
        await client.query("BEGIN");
        const [row] = (await client.query<{ token: string }>(`SELECT token::text AS token FROM "${schema}".leases WHERE stream_id = $1`, ["check-then-write"])).rows;
        expect(Number(row?.token)).toBe(lease?.token);
        await taker.coordination!.acquire("check-then-write", "a", 60_000);
        const write = client.query(`INSERT INTO "${schema}".events (stream_id, version, type, data, metadata, recorded_at) VALUES ($1, 1, 'Late', '{}', $2, 0)`, [
          "check-then-write",
          JSON.stringify({ token: lease?.token }),
        ]);
        await expect(write).rejects.toThrow("fence violated");
      } finally {
        await client.query("ROLLBACK");
        client.release();
      }
    } finally {
      await broken.close();
      await taker.close();
      await holderPool.end();
      await takerPool.end();
    }
  }, 120_000);

  it("claimers in several processes never get the same stream", async () => {
    const schema = nextSchema();
    const pools = Array.from({ length: 3 }, () => new pg.Pool({ connectionString: url, max: 4 }));
    const stores = await Promise.all(pools.map((pool) => openPostgresStore({ pool, schema })));
    try {
      await Promise.all(Array.from({ length: 90 }, (_, index) => stores[index % 3]!.append(`s-${String(index).padStart(3, "0")}`, [{ type: index % 9 === 0 ? "Other" : "Session", data: {} }])));
      const taken = new Map<string, string>();
      for (let round = 0; round < 20 && taken.size < 80; round++) {
        const claims = await Promise.all(
          stores.flatMap((store, process) =>
            Array.from({ length: 4 }, (_, claimer) => {
              const owner = `p${process}-c${claimer}`;
              return store.coordination!.claim({ owner, ttlMs: 60_000, limit: 7, firstEventType: "Session" }).then((leases) => ({ owner, leases }));
            }),
          ),
        );
        for (const { owner, leases } of claims) {
          for (const lease of leases) {
            expect(taken.get(lease.streamId), `${lease.streamId} claimed by ${taken.get(lease.streamId) ?? ""} and ${owner}`).toBeUndefined();
            expect(lease.owner).toBe(owner);
            taken.set(lease.streamId, owner);
          }
        }
      }
      expect(taken.size).toBe(80);
      expect([...taken.keys()].every((streamId) => Number(streamId.slice(2)) % 9 !== 0)).toBe(true);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await Promise.all(pools.map((pool) => pool.end()));
    }
  }, 60_000);

  it("onChange hears commands issued and leases released by another process (LISTEN/NOTIFY)", async () => {
    const schema = nextSchema();
    const listenerPool = new pg.Pool({ connectionString: url, max: 3 });
    const issuerPool = new pg.Pool({ connectionString: url, max: 3 });
    const listener = await openPostgresStore({ pool: listenerPool, schema });
    const issuer = await openPostgresStore({ pool: issuerPool, schema });
    try {
      const changes: string[] = [];
      let heard: () => void = () => undefined;
      const off = listener.coordination!.onChange((change) => {
        changes.push(change);
        heard();
      });
      // LISTEN starts lazily with the first listener: issue until one arrives, each a new command.
      let attempt = 0;
      while (!changes.includes("command") && attempt < 25) {
        const arrived = new Promise<void>((resolve) => (heard = resolve));
        await issuer.coordination!.issue({ commandId: `c-${attempt++}`, streamId: "s", type: "go", data: {} });
        await Promise.race([arrived, sleep(200)]);
      }
      expect(changes).toContain("command");
      const lease = await issuer.coordination!.acquire("s", "a", 60_000);
      const released = new Promise<void>((resolve) => (heard = () => changes.includes("lease") && resolve()));
      await issuer.coordination!.release([lease!]);
      await Promise.race([released, sleep(5_000)]);
      expect(changes).toContain("lease");
      // A repeated command id is not news.
      const before = changes.length;
      await issuer.coordination!.issue({ commandId: "c-0", streamId: "s", type: "go", data: {} });
      await sleep(200);
      expect(changes).toHaveLength(before);
      off();
    } finally {
      await listener.close();
      await issuer.close();
    }
    // close() gave the LISTEN connection back.
    expect(listenerPool.totalCount).toBe(listenerPool.idleCount);
    await listenerPool.end();
    await issuerPool.end();
  }, 30_000);

  it("a fenced append by the lease holder stays on the one-statement fast path", async () => {
    const schema = nextSchema();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const counts = { transactions: 0 };
    const store = await createSqlEventStore(poolExecutor(pool, undefined, counts), { schema });
    try {
      const lease = await store.coordination!.acquire("s", "a", 60_000);
      counts.transactions = 0;
      for (let version = 0; version < 10; version++) await store.append("s", [{ type: "E", data: {} }], { fence: lease!, expectedVersion: version });
      await Promise.all(Array.from({ length: 10 }, (_, index) => store.append(`u-${index}`, [{ type: "E", data: {} }], { expectedVersion: NO_STREAM })));
      expect(counts.transactions).toBe(0);
      expect((await store.readStream("s")).version).toBe(10);
    } finally {
      await store.close();
      await pool.end();
    }
  });

  it("a claim skips a lapsed lease that a stuck transaction still locks, instead of waiting for it", async () => {
    const schema = nextSchema();
    const store = await openPostgresStore({ pool: admin, schema });
    const stuck = await admin.connect();
    try {
      for (const id of ["s1", "s2", "s3"]) {
        const lease = await store.coordination!.acquire(id, "frozen", 500);
        await store.append(id, [{ type: "Created", data: {} }], { expectedVersion: NO_STREAM, fence: lease! });
      }
      // A frozen owner mid-append: its transaction holds s2's lease row, and it will not commit.
      await stuck.query("BEGIN");
      await stuck.query(`SELECT 1 FROM "${schema}".leases WHERE stream_id = 's2' FOR SHARE`);
      await sleep(600); // every lease has lapsed
      // Resolves while the lock is still held: a claim that waited for it would never get here.
      const claimed = await store.coordination!.claim({ owner: "survivor", ttlMs: 60_000, limit: 10 });
      expect(claimed.map((lease) => lease.streamId)).toEqual(["s1", "s3"]);
      await stuck.query("ROLLBACK");
      expect((await store.coordination!.claim({ owner: "survivor", ttlMs: 60_000, limit: 10 })).map((lease) => lease.streamId)).toEqual(["s2"]);
    } finally {
      stuck.release();
      await store.close();
    }
  });

  it("migrating a version-1 schema adds the coordination tables and keeps the events", async () => {
    const schema = nextSchema();
    const executor = poolExecutor(admin);
    await executor.transaction(async (tx) => {
      await tx.query(`CREATE SCHEMA "${schema}"`);
      await tx.query(`CREATE TABLE "${schema}".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const statement of migrations[0]!.statements(`"${schema}"`)) await tx.query(statement);
      await tx.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (1, 'events and streams')`);
      await tx.query(`INSERT INTO "${schema}".streams (stream_id, version, first_event_type, created_at, updated_at) VALUES ('old', 1, 'Created', 0, 0)`);
      await tx.query(`INSERT INTO "${schema}".events (stream_id, version, type, data, recorded_at) VALUES ('old', 1, 'Created', '{}', 0)`);
    });
    expect(await migrate(executor, schema)).toEqual([2, 3]);
    const store = await openPostgresStore({ pool: admin, schema });
    try {
      const [lease] = await store.coordination!.claim({ owner: "a", ttlMs: 60_000, limit: 1 });
      expect(lease?.streamId).toBe("old");
      await store.append("old", [{ type: "Resumed", data: {} }], { fence: lease!, expectedVersion: 1 });
      expect((await store.readStream("old")).events.map((event) => event.type)).toEqual(["Created", "Resumed"]);
    } finally {
      await store.close();
    }
  });
});
