import pg from "pg";
import type { EventStore } from "./eventStore.js";
import { StoreError } from "./storeError.js";
import { createSqlEventStore, type SqlEventStoreOptions } from "./sql/sqlEventStore.js";
import type { SqlExecutor, SqlQueryable, SqlRow } from "./sql/sqlExecutor.js";

/** Options of {@link openPostgresStore}: a connection string, or a pool you own. */
export type PostgresStoreOptions = Omit<SqlEventStoreOptions, "label"> &
  (
    | {
        /** `postgres://user@host:5432/db`; the store owns the pool it creates and ends it on close. */
        readonly connectionString: string;
        /** Pool size when the store creates the pool; default 10. */
        readonly poolSize?: number;
        /**
         * The server ends a transaction left idle this long (`idle_in_transaction_session_timeout`),
         * so a writer frozen mid-transaction (a GC pause, SIGSTOP, a partition) cannot hold its
         * locks for good and block other instances. Default 10,000 ms; keep it below a cluster's
         * lease TTL. 0 turns it off.
         */
        readonly idleInTransactionTimeoutMs?: number;
        readonly pool?: undefined;
      }
    | {
        /** A pool you own: `close()` leaves it open. */
        readonly pool: pg.Pool;
        readonly connectionString?: undefined;
        readonly poolSize?: undefined;
        readonly idleInTransactionTimeoutMs?: undefined;
      }
  );

/**
 * Opens the store on a PostgreSQL server (13+; uses `xid8`). Migrates the schema on open.
 * Subscribers are woken across processes by LISTEN/NOTIFY, with polling as the fallback.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore({ connectionString: "postgres://127.0.0.1/test", schema: "cloudsession" });
 * ```
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<EventStore> {
  const owned = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      idle_in_transaction_session_timeout: idleInTransactionTimeout(options.idleInTransactionTimeoutMs),
    });
  // An idle pooled client that loses its connection emits 'error'; unhandled, that kills the process.
  const onIdleError = (): void => undefined;
  if (owned) pool.on("error", onIdleError);
  try {
    // Several transactions in flight overlap one batch's execution with the others' round trips and
    // with Node's work on their results. Three beat two in durableAppends (5 interleaved A/B runs:
    // 0.60-0.84x of the bulk ceiling against 0.54-0.66x); four were no better on two cores.
    return await createSqlEventStore(postgresExecutor(pool, owned), { maxConcurrentFlushes: 3, ...options, label: "PostgreSQL" });
  } catch (error) {
    if (owned) await pool.end();
    throw error;
  }
}

function idleInTransactionTimeout(ms: number | undefined): number {
  const value = ms ?? 10_000;
  if (!Number.isInteger(value) || value < 0) throw new StoreError("INVALID_ARGUMENT", `idleInTransactionTimeoutMs must be a non-negative integer, got ${String(ms)}`);
  return value;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function postgresExecutor(pool: pg.Pool, owned: boolean): SqlExecutor {
  const queryOn =
    (client: pg.Pool | pg.PoolClient): SqlQueryable["query"] =>
    async (sql, params = [], name) =>
      (await client.query<SqlRow>(name === undefined ? { text: sql, values: [...params] } : { name, text: sql, values: [...params] })).rows;
  return {
    query: queryOn(pool),
    async transaction(body, options = {}) {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client's 'error' (the server ended the connection, e.g. after
      // idle_in_transaction_session_timeout) is ours to handle: unhandled it kills the process.
      // The statement in flight rejects on its own; the client must not go back to the pool.
      const onError = (error: Error): void => {
        broken = error;
      };
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await body({ query: queryOn(client) });
        // NOTIFY rides on the COMMIT round trip and is delivered only if the commit succeeds.
        await client.query(options.notify === undefined ? "COMMIT" : `NOTIFY ${quoteIdentifier(options.notify)}; COMMIT`);
        return result;
      } catch (error) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackError) {
          // The connection is unusable: make the pool discard it rather than hand it out again.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw error;
      } finally {
        client.off("error", onError);
        client.release(broken);
      }
    },
    async listen(channel, onNotify) {
      const client = await pool.connect();
      const onNotification = (message: pg.Notification): void => {
        if (message.channel === channel) onNotify(message.payload);
      };
      let failed: Error | undefined;
      // A checked-out client's 'error' is ours to handle; polling carries on without NOTIFY.
      const onError = (error: Error): void => {
        failed = error;
      };
      client.on("notification", onNotification);
      client.on("error", onError);
      try {
        await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      } catch (error) {
        client.release(error instanceof Error ? error : true);
        throw error;
      }
      return async () => {
        client.off("notification", onNotification);
        try {
          if (failed === undefined) await client.query(`UNLISTEN ${quoteIdentifier(channel)}`);
        } catch (error) {
          failed = error instanceof Error ? error : new Error(String(error));
        } finally {
          client.off("error", onError);
          client.release(failed);
        }
      };
    },
    async close() {
      if (owned) await pool.end();
    },
  };
}
