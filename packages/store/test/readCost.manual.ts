/**
 * Manual read-cost check (not a test; numbers are noisy, never thresholds):
 *   pnpm exec tsx --conditions=@cloudsession/source test/readCost.manual.ts [postgres-url] [rounds=7] [other-src-index.ts]
 *
 * What reading costs, per adapter, on the shapes the engine reads: `readStream` of every one of
 * 250 streams of 40 events (history, one session at a time), the same with `fromVersion: 31,
 * maxCount: 5` (a partial read), `readStreams` of the 250 (recovery's batch) and `readStream` of
 * one stream of 5,000 events. Rounds are interleaved; medians are printed at the end, of wall time
 * and of this process's CPU time (steadier on a busy machine; it includes PGlite's database work,
 * not the PostgreSQL server's).
 *
 * To compare with another commit in the same run, extract its sources inside this package (so
 * they resolve `pg` and PGlite from here) and pass their index as the third argument:
 *   git archive <commit> src | tar -x -C .cloudsession-before   # from packages/store; gitignored
 *   pnpm exec tsx --conditions=@cloudsession/source test/readCost.manual.ts "" 9 ./.cloudsession-before/src/index.ts
 */
import { PGlite } from "@electric-sql/pglite";
import * as current from "@cloudsession/store";
import type { EventStore } from "@cloudsession/store";
import { resolve } from "node:path";
import pg from "pg";
import { randomSchema } from "./support/postgres.js";

type StoreModule = Pick<typeof current, "createInMemoryStore" | "openPgliteStore" | "openPostgresStore">;

const url = process.argv[2] === undefined || process.argv[2] === "" ? "postgres://postgres@127.0.0.1:5432/test" : process.argv[2];
const rounds = Number(process.argv[3] ?? 7);
const otherPath = process.argv[4];
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

const results = new Map<string, { wall: number[]; cpu: number[] }>();
async function measure(label: string, store: EventStore): Promise<void> {
  for (const [name, run] of Object.entries(measures)) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    await run(store);
    const cpu = process.cpuUsage(cpuStarted);
    const key = `${name} | ${label}`;
    const entry = results.get(key) ?? { wall: [], cpu: [] };
    entry.wall.push(performance.now() - started);
    entry.cpu.push((cpu.user + cpu.system) / 1000);
    results.set(key, entry);
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const implementations: [string, StoreModule][] = [["this", current]];
if (otherPath !== undefined) implementations.push(["other", (await import(resolve(otherPath))) as StoreModule]);

const pglite = await PGlite.create("memory://");
const pool = new pg.Pool({ connectionString: url, max: 4 });
const schemas: string[] = [];
const stores: [string, EventStore][] = [];
try {
  for (const [name, implementation] of implementations) {
    const schema = randomSchema("cs_readcost");
    schemas.push(schema);
    stores.push([`in-memory ${name}`, implementation.createInMemoryStore()]);
    stores.push([`PGlite ${name}`, await implementation.openPgliteStore({ pglite, schema })]);
    stores.push([`PostgreSQL ${name}`, await implementation.openPostgresStore({ pool, schema })]);
  }
  for (const [, store] of stores) await fill(store);
  // One warm-up round (prepared statements, JIT), then the measured ones.
  for (const [label, store] of stores) await measure(label, store);
  results.clear();
  for (let round = 0; round < rounds; round++) {
    for (const [label, store] of stores) await measure(label, store);
  }
  for (const [key, { wall, cpu }] of [...results].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${key}: wall median ${median(wall).toFixed(1)} ms (min ${Math.min(...wall).toFixed(1)}), CPU median ${median(cpu).toFixed(1)} ms`);
  }
} finally {
  await Promise.all(stores.map(([, store]) => store.close()));
  await pglite.close();
  for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
}
