/**
 * Manual throughput check (not a test; numbers are noisy, never thresholds):
 *   pnpm exec tsx --conditions=@cloudsession/source test/throughput.manual.ts [postgres-url] [streams=100] [eventsPerStream=100]
 * Streams append concurrently, one event per append with an exact expected version, so
 * throughput comes from group commit coalescing appends across streams.
 */
import { openPgliteStore, openPostgresStore, type EventStore } from "@cloudsession/store";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { randomSchema } from "./support/postgres.js";

const url = process.argv[2] ?? "postgres://root@127.0.0.1:5432/test";
const streams = Number(process.argv[3] ?? 100);
const perStream = Number(process.argv[4] ?? 100);

async function run(label: string, store: EventStore, concurrentFlushes: string): Promise<void> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: streams }, async (_, stream) => {
      for (let version = 0; version < perStream; version++) {
        await store.append(`bench-${stream}`, [{ type: "Ticked", data: { stream, version, text: "some payload of a realistic size".repeat(3) } }], { expectedVersion: version });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label} (flushes in flight: ${concurrentFlushes}): ${streams * perStream} events in ${seconds.toFixed(2)} s = ${Math.round((streams * perStream) / seconds)} events/s`);
}

async function unnestCeiling(): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const schema = randomSchema("cs_ceiling");
  try {
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await pool.query(`CREATE TABLE "${schema}".t (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, stream_id text, version bigint, type text, data text, UNIQUE (stream_id, version))`);
    const rows = 10_000;
    const batch = 5000;
    const started = performance.now();
    for (let offset = 0; offset < rows; offset += batch) {
      const ids = Array.from({ length: batch }, (_, index) => `s-${(offset + index) % 100}`);
      const versions = Array.from({ length: batch }, (_, index) => offset + index);
      await pool.query(`INSERT INTO "${schema}".t (stream_id, version, type, data) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])`, [
        ids,
        versions,
        ids.map(() => "Ticked"),
        ids.map(() => JSON.stringify({ text: "some payload of a realistic size".repeat(3) })),
      ]);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`PostgreSQL unnest ceiling (${batch}-row statements, autocommit): ${Math.round(rows / seconds)} rows/s`);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

await unnestCeiling();
for (const flushes of [1, 2]) {
  const schema = randomSchema("cs_bench");
  const store = await openPostgresStore({ connectionString: url, schema, maxConcurrentFlushes: flushes });
  await run("PostgreSQL", store, String(flushes));
  await store.close();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  await admin.end();
}
const pglite = await openPgliteStore({ dataDir: "memory://" });
await run("PGlite memory://", pglite, "1");
await pglite.close();
const dir = await mkdtemp(join(tmpdir(), "cloudsession-bench-"));
try {
  const onDisk = await openPgliteStore({ dataDir: join(dir, "events") });
  await run("PGlite on disk", onDisk, "1");
  await onDisk.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
