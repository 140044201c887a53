import type { EventStore } from "./eventStore.js";
import { createInMemoryStore } from "./inMemoryStore.js";
import { openPgliteStore } from "./pgliteStore.js";
import { openPostgresStore } from "./postgresStore.js";

/** Options of {@link openStore} that apply to every backend they make sense for. */
export interface OpenStoreOptions {
  /** Schema of the SQL backends; default `"cloudsession"`. */
  readonly schema?: string;
  /** Clock for timestamps. */
  readonly now?: () => number;
}

/**
 * Opens a store from one string, as a CLI flag or an environment variable would give it:
 *
 * - `postgres://…` or `postgresql://…` → PostgreSQL ({@link openPostgresStore});
 * - `memory:` → in process memory ({@link createInMemoryStore}), gone at exit;
 * - anything else → a PGlite data directory ({@link openPgliteStore}); `memory://` is PGlite's own
 *   throwaway in-memory database (full SQL behaviour, nothing on disk).
 *
 * @example
 * ```ts
 * const store = await openStore(process.env.CLOUDSESSION_STORE ?? "./.cloudsession/events");
 * ```
 */
export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  if (/^postgres(ql)?:\/\//i.test(spec)) return openPostgresStore({ ...options, connectionString: spec });
  if (spec.startsWith("memory:") && !spec.startsWith("memory://")) return createInMemoryStore(options.now === undefined ? {} : { now: options.now });
  return openPgliteStore({ ...options, dataDir: spec });
}
