/**
 * Manual throughput check (not a test; numbers are noisy, never thresholds):
 *   pnpm exec tsx --conditions=@cloudsession/source test/throughput.manual.ts [postgres-url] [streams=100,200] [eventsPerStream=100] [rounds=3]
 *
 * Side by side, in one run, each engine's ceiling and the store:
 * - insert loop: one single-row INSERT per event, autocommit (what a naive store would do);
 * - unnest ceiling: `INSERT … SELECT FROM unnest(…)` of 1,000 rows per statement, autocommit, into
 *   the store's own `events` table (same columns and indexes), no stream rows, no checks;
 * - store: `streams` sessions append concurrently, each one event per append with an exact
 *   expected version, so throughput comes from group commit coalescing appends across streams.
 * Every measurement runs `rounds` times, interleaved; the medians and their ratio to the same
 * engine's unnest ceiling are printed at the end. PostgreSQL and on-disk PGlite, durable
 * (synchronous_commit stays on).
 */
import { PGlite } from "@electric-sql/pglite";
import { migrate, openPgliteStore, openPostgresStore, type EventStore, type SqlExecutor } from "@cloudsession/store";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { randomSchema } from "./support/postgres.js";

const url = process.argv[2] ?? "postgres://root@127.0.0.1:5432/test";
const streamCounts = (process.argv[3] ?? "100,200").split(",").map(Number);
const perStream = Number(process.argv[4] ?? 100);
const rounds = Number(process.argv[5] ?? 3);
const ceilingRows = 10_000;
const ceilingBatch = 1000;
const loopRows = 2000;
const payload = (stream: number, version: number): { stream: number; version: number; text: string } => ({ stream, version, text: "some payload of a realistic size".repeat(3) });

const results = new Map<string, number[]>();
function record(label: string, eventsPerSecond: number): void {
  results.set(label, [...(results.get(label) ?? []), eventsPerSecond]);
  console.log(`  ${label}: ${Math.round(eventsPerSecond)} events/s`);
}

async function storeRun(store: EventStore, streams: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: streams }, async (_, stream) => {
      for (let version = 0; version < perStream; version++) {
        await store.append(`bench-${stream}`, [{ type: "Ticked", data: payload(stream, version) }], { expectedVersion: version });
      }
    }),
  );
  return (streams * perStream) / ((performance.now() - started) / 1000);
}

type Query = (sql: string, params?: unknown[]) => Promise<unknown>;

/** The ceiling: bare 1,000-row unnest inserts into a fresh copy of the store's events table. */
async function unnestCeiling(query: Query, schema: string): Promise<number> {
  const started = performance.now();
  for (let offset = 0; offset < ceilingRows; offset += ceilingBatch) {
    const ids = Array.from({ length: ceilingBatch }, (_, index) => `s-${(offset + index) % 100}`);
    await query(
      `INSERT INTO "${schema}".events (stream_id, version, type, data, metadata, recorded_at)
       SELECT u.stream_id, u.version, u.type, u.data, u.metadata, $6 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS u(stream_id, version, type, data, metadata)`,
      [ids, ids.map((_, index) => offset + index + 1), ids.map(() => "Ticked"), ids.map((_, index) => JSON.stringify(payload(index % 100, offset + index))), ids.map(() => "{}"), Date.now()],
    );
  }
  return ceilingRows / ((performance.now() - started) / 1000);
}

async function insertLoop(query: Query, schema: string): Promise<number> {
  const started = performance.now();
  for (let index = 0; index < loopRows; index++) {
    await query(`INSERT INTO "${schema}".events (stream_id, version, type, data, recorded_at) VALUES ($1, $2, 'Ticked', $3, $4)`, [`s-${index % 100}`, index + 1, JSON.stringify(payload(index % 100, index)), Date.now()]);
  }
  return loopRows / ((performance.now() - started) / 1000);
}

function pgExecutor(pool: pg.Pool): SqlExecutor {
  return {
    query: async (sql, params = []) => (await pool.query(sql, [...params])).rows as Record<string, unknown>[],
    async transaction(body) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await body({ query: async (sql, params = []) => (await client.query(sql, [...params])).rows as Record<string, unknown>[] });
        await client.query("COMMIT");
        return result;
      } finally {
        client.release();
      }
    },
    close: () => Promise.resolve(),
  };
}

async function postgresRound(): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const schemas: string[] = [];
  try {
    const fresh = async (): Promise<string> => {
      const schema = randomSchema("cs_bench");
      schemas.push(schema);
      await migrate(pgExecutor(pool), schema);
      return schema;
    };
    const query: Query = (sql, params) => pool.query(sql, params);
    record("PostgreSQL insert loop (1 row/statement)", await insertLoop(query, await fresh()));
    record("PostgreSQL unnest ceiling (1,000 rows/statement)", await unnestCeiling(query, await fresh()));
    for (const streams of streamCounts) {
      const store = await openPostgresStore({ connectionString: url, schema: await fresh() });
      try {
        record(`PostgreSQL store, ${streams} streams`, await storeRun(store, streams));
      } finally {
        await store.close();
      }
    }
  } finally {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

async function pgliteRound(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "cloudsession-bench-"));
  const db = await PGlite.create(join(dir, "events"));
  try {
    const executor: SqlExecutor = {
      query: async (sql, params = []) => (await db.query<Record<string, unknown>>(sql, [...params])).rows,
      transaction: (body) => db.transaction((tx) => body({ query: async (sql, params = []) => (await tx.query<Record<string, unknown>>(sql, [...params])).rows })),
      close: () => Promise.resolve(),
    };
    let next = 0;
    const fresh = async (): Promise<string> => {
      const schema = `bench_${next++}`;
      await migrate(executor, schema);
      return schema;
    };
    const query: Query = (sql, params) => db.query(sql, params);
    record("PGlite insert loop (1 row/statement)", await insertLoop(query, await fresh()));
    record("PGlite unnest ceiling (1,000 rows/statement)", await unnestCeiling(query, await fresh()));
    for (const streams of streamCounts) {
      const store = await openPgliteStore({ pglite: db, schema: await fresh() });
      try {
        record(`PGlite store, ${streams} streams`, await storeRun(store, streams));
      } finally {
        await store.close();
      }
    }
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

for (let round = 1; round <= rounds; round++) {
  console.log(`round ${round}/${rounds}`);
  await postgresRound();
  await pgliteRound();
}

console.log(`\nmedians of ${rounds} interleaved rounds (${perStream} single-event appends per stream, exact expected versions):`);
for (const engine of ["PostgreSQL", "PGlite"]) {
  const ceiling = median(results.get(`${engine} unnest ceiling (1,000 rows/statement)`) ?? [Number.NaN]);
  for (const [label, values] of results) {
    if (!label.startsWith(`${engine} `)) continue;
    const value = median(values);
    console.log(`${label.padEnd(52)} ${String(Math.round(value)).padStart(7)} events/s  ${(value / ceiling).toFixed(2)}× ceiling  [${values.map(Math.round).join(", ")}]`);
  }
}
