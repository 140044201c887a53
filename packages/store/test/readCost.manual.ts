/**
 * Manual read-cost check (not a test; numbers are noisy, never thresholds):
 *   pnpm exec tsx --conditions=@cloudsession/source test/readCost.manual.ts [postgres-url] [rounds=7]
 *
 * What reading costs, per adapter, on the shapes the engine reads: `readStream` of every one of
 * 250 streams of 40 events (history, one session), the same with `fromVersion: 31, maxCount: 5`
 * (a partial read), `readStreams` of the 250 (recovery's batch) and `readStream` of one stream of
 * 5,000 events. Rounds are interleaved; the medians are printed at the end. Run it on two commits
 * to compare (e.g. before and after the log checks).
 */
import { PGlite } from "@electric-sql/pglite";
import { createInMemoryStore, openPgliteStore, openPostgresStore, type EventStore } from "@cloudsession/store";
import pg from "pg";
import { randomSchema } from "./support/postgres.js";

const url = process.argv[2] ?? "postgres://postgres@127.0.0.1:5432/test";
const rounds = Number(process.argv[3] ?? 7);
const streamCount = 250;
const perStream = 40;
const longStream = 5000;
const payload = (version: number): { version: number; text: string } => ({ version, text: "some payload of a realistic size".repeat(3) });
const ids = Array.from({ length: streamCount }, (_, index) => `read-${index}`);

async function fill(store: EventStore): Promise<void> {
  await Promise.all(ids.map((id) => store.append(id, Array.from({ length: perStream }, (_, version) => ({ type: "Ticked", data: payload(version) })))));
  for (let offset = 0; offset < longStream; offset += 1000) {
    await store.append("long", Array.from({ length: 1000 }, (_, version) => ({ type: "Ticked", data: payload(offset + version) })));
  }
}

const measures: Record<string, (store: EventStore) => Promise<unknown>> = {
  "readStream x250 (40 events)": async (store) => {
    for (const id of ids) await store.readStream(id);
  },
  "readStream x250 partial (5 of 40)": async (store) => {
    for (const id of ids) await store.readStream(id, { fromVersion: 31, maxCount: 5 });
  },
  "readStreams(250 ids)": (store) => store.readStreams(ids),
  "readStream (5,000 events)": (store) => store.readStream("long"),
};

const results = new Map<string, number[]>();
async function measure(engine: string, store: EventStore): Promise<void> {
  for (const [name, run] of Object.entries(measures)) {
    const started = performance.now();
    await run(store);
    const label = `${engine}: ${name}`;
    results.set(label, [...(results.get(label) ?? []), performance.now() - started]);
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const memory = createInMemoryStore();
const pglite = await PGlite.create("memory://");
const pgliteStore = await openPgliteStore({ pglite, schema: "read_cost" });
const pool = new pg.Pool({ connectionString: url, max: 4 });
const schema = randomSchema("cs_readcost");
const postgresStore = await openPostgresStore({ pool, schema });
try {
  const stores: [string, EventStore][] = [
    ["in-memory", memory],
    ["PGlite", pgliteStore],
    ["PostgreSQL", postgresStore],
  ];
  for (const [, store] of stores) await fill(store);
  // One warm-up round (prepared statements, JIT), then the measured ones.
  for (const [engine, store] of stores) await measure(engine, store);
  results.clear();
  for (let round = 0; round < rounds; round++) {
    for (const [engine, store] of stores) await measure(engine, store);
  }
  for (const [label, values] of results) console.log(`${label}: median ${median(values).toFixed(1)} ms (min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)})`);
} finally {
  await Promise.all([memory.close(), pgliteStore.close(), postgresStore.close()]);
  await pglite.close();
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
}
