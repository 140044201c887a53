import { PGlite } from "@electric-sql/pglite";
import type { EventStore } from "./eventStore.js";
import { createSqlEventStore, type SqlEventStoreOptions } from "./sql/sqlEventStore.js";
import type { SqlExecutor, SqlRow } from "./sql/sqlExecutor.js";

/** Options of {@link openPgliteStore}: a data directory, or an instance you own. */
export type PgliteStoreOptions = Omit<SqlEventStoreOptions, "label"> &
  (
    | {
        /** Directory on disk (created if missing), or `memory://` for a throwaway database. */
        readonly dataDir: string;
        readonly pglite?: undefined;
      }
    | {
        /** An open PGlite instance: shared, e.g. one per test file; `close()` leaves it open. */
        readonly pglite: PGlite;
        readonly dataDir?: undefined;
      }
  );

/**
 * Opens the embedded default store: PostgreSQL compiled to WebAssembly, one directory on disk, no
 * server. Startup takes a few seconds (WASM boot), so open once per process.
 *
 * @example
 * ```ts
 * const store = await openPgliteStore({ dataDir: "./.cloudsession/events" });
 * await store.append("s-1", [{ type: "SessionCreated", data: {} }]);
 * await store.close();
 * ```
 */
export async function openPgliteStore(options: PgliteStoreOptions): Promise<EventStore> {
  const owned = options.pglite === undefined;
  const db = options.pglite ?? (await PGlite.create(options.dataDir));
  try {
    return await createSqlEventStore(pgliteExecutor(db, owned), { ...options, label: "PGlite" });
  } catch (error) {
    if (owned) await db.close();
    throw error;
  }
}

/**
 * PGlite is one connection in-process: its `transaction()` holds the instance's lock for the whole
 * body, so concurrent queries queue rather than interleave into our transaction. There is no other
 * process to NOTIFY, so `listen` is left out and in-process wake-ups do the job.
 */
function pgliteExecutor(db: PGlite, owned: boolean): SqlExecutor {
  return {
    async query(sql, params = []) {
      return (await db.query<SqlRow>(sql, [...params])).rows;
    },
    transaction(body) {
      return db.transaction((tx) => body({ query: async (sql, params = []) => (await tx.query<SqlRow>(sql, [...params])).rows }));
    },
    async close() {
      if (owned) await db.close();
    },
  };
}
