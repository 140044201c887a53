import { StoreError } from "../storeError.js";
import type { SqlExecutor } from "./sqlExecutor.js";

/** One schema change; `statements` get the quoted schema name so tests can isolate in their own. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (schema: string) => readonly string[];
}

/**
 * The schema, shared verbatim by PGlite and PostgreSQL. Append new migrations; never edit one that
 * has shipped.
 *
 * Event JSON is stored as `text`, not `jsonb`: it round-trips exactly what the writer serialized
 * (key order, `\u0000` inside strings, which `jsonb` rejects) and costs no parse on insert; the
 * decoder turns text that is not JSON into a `CORRUPTED_EVENT` error.
 *
 * `transaction_id` is the global-order watermark: see docs/adr/0003-global-order-watermark.md.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "events and streams",
    statements: (s) => [
      `CREATE TABLE ${s}.streams (
        stream_id text PRIMARY KEY,
        version bigint NOT NULL CHECK (version > 0),
        final boolean NOT NULL DEFAULT false,
        first_event_type text NOT NULL,
        metadata text NOT NULL DEFAULT '{}',
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
      )`,
      `CREATE INDEX streams_open_idx ON ${s}.streams (created_at, stream_id) WHERE NOT final`,
      `CREATE INDEX streams_created_idx ON ${s}.streams (created_at, stream_id)`,
      `CREATE TABLE ${s}.events (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id text NOT NULL,
        version bigint NOT NULL CHECK (version > 0),
        type text NOT NULL,
        data text NOT NULL,
        metadata text NOT NULL DEFAULT '{}',
        recorded_at bigint NOT NULL,
        UNIQUE (stream_id, version)
      )`,
      `CREATE INDEX events_global_order_idx ON ${s}.events (transaction_id, position)`,
    ],
  },
  {
    version: 2,
    name: "leases, instances and commands",
    // No foreign keys to streams: a new stream's lease is taken (and commands may be issued)
    // before its first event. A lease row is never deleted, so its token only ever grows; a
    // released lease has expires_at = '-infinity'. Expiry is on the database's clock.
    statements: (s) => [
      `CREATE TABLE ${s}.leases (
        stream_id text PRIMARY KEY,
        owner text NOT NULL,
        token bigint NOT NULL CHECK (token > 0),
        expires_at timestamptz NOT NULL
      )`,
      `CREATE TABLE ${s}.instances (
        instance_id text PRIMARY KEY,
        expires_at timestamptz NOT NULL
      )`,
      `CREATE TABLE ${s}.commands (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        command_id text NOT NULL UNIQUE,
        stream_id text NOT NULL,
        type text NOT NULL,
        data text NOT NULL,
        issued_at bigint NOT NULL
      )`,
      `CREATE INDEX commands_stream_idx ON ${s}.commands (stream_id, seq)`,
    ],
  },
  {
    version: 3,
    name: "room on stream pages for in-place version updates",
    // Every append rewrites its stream's row (version, updated_at; no indexed column). Free room on
    // the page lets PostgreSQL update it there (a HOT update: no new index entries). With full
    // pages a third of these updates wrote three index entries each; with half-full ones, 2 %.
    statements: (s) => [`ALTER TABLE ${s}.streams SET (fillfactor = 50)`],
  },
];

const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Validates a schema name and returns it quoted for SQL. Only lowercase identifiers are allowed so
 * the name is safe to interpolate and the same in `NOTIFY` channels.
 *
 * @throws StoreError `INVALID_ARGUMENT`
 * @example
 * ```ts
 * quoteSchema("cloudsession"); // '"cloudsession"'
 * ```
 */
export function quoteSchema(schema: string): string {
  if (!schemaPattern.test(schema)) {
    throw new StoreError("INVALID_ARGUMENT", `schema must match ${schemaPattern.source}, got ${JSON.stringify(schema)}`);
  }
  return `"${schema}"`;
}

/**
 * Brings `schema` up to the latest migration. Idempotent and safe to run from several processes at
 * once: a transaction-scoped advisory lock per schema serializes migrators, and each applied
 * version is recorded in `<schema>.schema_migrations`.
 *
 * @returns the versions applied by this call (empty when already up to date).
 * @example
 * ```ts
 * await migrate(executor, "cloudsession");
 * ```
 */
export async function migrate(executor: SqlExecutor, schema: string): Promise<readonly number[]> {
  const s = quoteSchema(schema);
  return executor.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`cloudsession.store.migrate:${schema}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const rows = await tx.query(`SELECT version FROM ${s}.schema_migrations`);
    const applied = new Set(rows.map((row) => Number(row.version)));
    const newlyApplied: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements(s)) await tx.query(statement);
      await tx.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      newlyApplied.push(migration.version);
    }
    return newlyApplied;
  });
}
