/** One result row, keyed by column name; values are whatever the driver decoded (decode them). */
export type SqlRow = Readonly<Record<string, unknown>>;

/** Runs one parameterized statement. */
export interface SqlQueryable {
  /**
   * @param name optional prepared-statement name for hot statements: a backend may parse and plan
   *   the text once per connection and reuse it (node-postgres does; PGlite ignores it).
   */
  query(sql: string, params?: readonly unknown[], name?: string): Promise<readonly SqlRow[]>;
}

/** Options of {@link SqlExecutor.transaction}. */
export interface SqlTransactionOptions {
  /**
   * Channel to `NOTIFY` with the commit (same round trip). Backends without cross-process
   * listeners ignore it.
   */
  readonly notify?: string;
}

/**
 * The whole surface the shared SQL store needs from a PostgreSQL-speaking backend. PGlite and
 * node-postgres each implement it in a few lines, so the schema, migrations, queries and group
 * commit exist once.
 *
 * @example
 * ```ts
 * const rows = await executor.query("select 1 as one");
 * await executor.transaction(async (tx) => tx.query("insert into t values ($1)", [1]));
 * ```
 */
export interface SqlExecutor extends SqlQueryable {
  /** Runs `body` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(body: (tx: SqlQueryable) => Promise<T>, options?: SqlTransactionOptions): Promise<T>;
  /**
   * Listens on a channel for notifications from other processes; resolves to an unlisten function.
   * `onNotify` gets the notification's payload when the backend reports it. Optional: without it
   * subscribers rely on polling (and in-process wake-ups).
   */
  listen?(channel: string, onNotify: (payload?: string) => void): Promise<() => Promise<void>>;
  /** Releases what the executor owns (not what the caller passed in). */
  close(): Promise<void>;
}
