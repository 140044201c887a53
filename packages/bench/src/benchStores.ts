import { PGlite } from "@electric-sql/pglite";
import { createInMemoryStore, openPgliteStore, openPostgresStore, type EventStore } from "@cloudsession/store";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { postgresUrl } from "./durableAppends.js";
import { settleDatabase } from "./settleDatabase.js";

/** A store a benchmark writes to, with what it takes to quiet it between runs and to clean it up. */
export interface BenchStore {
  readonly label: string;
  readonly store: EventStore;
  /** Vacuum and checkpoint (SQL stores), so the work one timed run leaves behind does not land on the next. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export type BenchStoreKind = "memory" | "PGlite" | "PostgreSQL";

/**
 * Opens a fresh store of each kind: the in-memory store, PGlite on a temporary directory (the
 * embedded store as the CLI uses it) and PostgreSQL (`CLOUDSESSION_BENCH_PG`) in a random schema
 * that `close()` drops.
 */
export async function openBenchStore(kind: BenchStoreKind): Promise<BenchStore> {
  if (kind === "memory") return { label: kind, store: createInMemoryStore(), settle: () => Promise.resolve(), close: () => Promise.resolve() };
  if (kind === "PGlite") {
    const dataDir = mkdtempSync(join(tmpdir(), "cloudsession-bench-"));
    const db = await PGlite.create(dataDir);
    const store = await openPgliteStore({ pglite: db, schema: "cloudsession" });
    return {
      label: kind,
      store,
      settle: () => settleDatabase(db, ['"cloudsession".events', '"cloudsession".streams']),
      async close() {
        await store.close();
        await db.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const schema = `bench_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
  const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
  const store = await openPostgresStore({ connectionString: postgresUrl, schema });
  return {
    label: kind,
    store,
    settle: () => settleDatabase(admin, [`"${schema}".events`, `"${schema}".streams`]),
    async close() {
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.end();
    },
  };
}
