import { assertOwner, assertStreamId } from "../appendRequest.js";
import { createChangeListeners } from "../changeListeners.js";
import type { AnnounceOptions, ClaimOptions, ClusterView, Command, Coordination, CoordinationChange, Lease, NewCommand } from "../coordination.js";
import { assertAnnounce, assertClaimOptions, assertTexts, assertTtl, encodeCommand, toLeaseKeys } from "../coordinationArguments.js";
import { toSafeInteger } from "../eventRow.js";
import type { JsonValue } from "../eventStore.js";
import { StoreError } from "../storeError.js";
import type { SqlExecutor, SqlRow } from "./sqlExecutor.js";

/** Options of {@link createSqlCoordination}. */
export interface SqlCoordinationOptions {
  /** The quoted schema, as `quoteSchema` returns it. */
  readonly schema: string;
  /** Clock for `issuedAt` (leases and instances expire on the database's clock instead). */
  readonly now: () => number;
  /** Throws `STORE_CLOSED` once the store is closed. */
  readonly assertOpen: () => void;
  /** NOTIFY channel for changes; undefined when the executor cannot listen (nobody would hear). */
  readonly channel: string | undefined;
  /** Prefix of prepared-statement names, unique per schema. */
  readonly statementPrefix: string;
  /** Label used in error messages, e.g. "PostgreSQL". */
  readonly label: string;
}

/** The SQL coordination plus what the store's `close()` must release. */
export interface SqlCoordination {
  readonly coordination: Coordination;
  /** Waits for calls in flight, stops listening, drops listeners. */
  close(): Promise<void>;
}

/** Deadlock and serialization failures roll a statement back whole: running it again is correct. */
const retryableCodes = new Set(["40P01", "40001"]);
const maxAttempts = 5;

const ttl = (param: string): string => `clock_timestamp() + ${param}::float8 * interval '1 millisecond'`;
/** Epoch milliseconds of a timestamptz, as a float8 every driver returns as a number. */
const epochMs = (column: string): string => `floor(extract(epoch FROM ${column}) * 1000)::float8`;
const leaseColumns = (alias: string): string => `${alias}.stream_id, ${alias}.owner, ${alias}.token::text AS token, ${epochMs(`${alias}.expires_at`)} AS expires_ms`;
/**
 * A CTE that sends one `pg_notify` if the CTE `changed` has rows and `param` is not null. It runs
 * only when the main query reads it from a row of `changed`, so a statement that changed nothing
 * notifies nobody (a pseudo-constant WHERE would run before the scan and notify every time).
 */
const notifyIfAny = (changed: string, param: string, payload: CoordinationChange): string =>
  `notified AS (SELECT pg_notify(${param}::text, '${payload}') FROM (SELECT 1 FROM ${changed} LIMIT 1) AS one WHERE ${param}::text IS NOT NULL)`;

/**
 * Leases, instance registry and command inbox in the store's schema (tables `leases`, `instances`,
 * `commands` of migration 2). Lease and instance expiry use the database's `clock_timestamp()`, so
 * instances on several machines agree on when a lease lapsed whatever their own clocks say.
 *
 * Who may write is decided by row locks on `leases`: a takeover (acquire, claim) updates the row;
 * a fenced append holds it `FOR SHARE` from its check until its commit, so a takeover can never
 * commit between an append's check and its write. Every statement that locks several lease rows
 * locks them in `stream_id` order, so they cannot deadlock one another.
 *
 * @example
 * ```ts
 * const { coordination } = createSqlCoordination(executor, { schema: '"cloudsession"', now: Date.now, assertOpen, channel, statementPrefix, label: "PostgreSQL" });
 * ```
 */
export function createSqlCoordination(executor: SqlExecutor, options: SqlCoordinationOptions): SqlCoordination {
  const { schema: s, now, assertOpen, channel, statementPrefix, label } = options;
  const listeners = createChangeListeners();
  const inFlight = new Set<Promise<unknown>>();
  let listening: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let closed = false;

  /** Runs one call: refuses after close, retries a statement the database rolled back for a deadlock, and is waited for by close. */
  function run<T>(body: () => Promise<T>): Promise<T> {
    try {
      assertOpen();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const call = (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await body();
        } catch (error) {
          if (attempt < maxAttempts && retryableCodes.has(sqlStateOf(error))) continue;
          throw error;
        }
      }
    })();
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call)).catch(() => undefined);
    return call;
  }

  function toLease(row: SqlRow): Lease {
    const token = toSafeInteger(row.token);
    const expiresAt = typeof row.expires_ms === "number" ? row.expires_ms : Number(row.expires_ms);
    if (token === undefined || !Number.isFinite(expiresAt)) throw new StoreError("CORRUPTED_EVENT", `corrupted lease row of ${String(row.stream_id)} in the ${label} store`, { details: { streamId: String(row.stream_id) } });
    return { streamId: String(row.stream_id), owner: String(row.owner), token, expiresAt };
  }

  function emitNotification(payload: string | undefined): void {
    if (payload === "command" || payload === "lease") listeners.emit(payload);
    else {
      // An executor that cannot tell the payload: say both, a change is only a hint to look.
      listeners.emit("command");
      listeners.emit("lease");
    }
  }

  function ensureListening(): void {
    const listen = executor.listen?.bind(executor);
    if (listen === undefined || channel === undefined || listening !== undefined) return;
    listening = listen(channel, emitNotification).then(
      (stop) => {
        if (closed) void stop().catch(() => undefined);
        else unlisten = stop;
      },
      () => {
        // Polling still finds everything; a later onChange tries to listen again.
        listening = undefined;
      },
    );
  }

  const coordination: Coordination = {
    acquire(streamId: string, owner: string, ttlMs: number): Promise<Lease | null> {
      return run(async () => {
        assertStreamId(streamId);
        assertOwner(owner, streamId);
        assertTtl(ttlMs);
        // The upsert's WHERE is the arbiter: of concurrent takers only one finds the row free (or
        // its own), the others wait on the row lock, re-check it and update nothing.
        const rows = await executor.query(
          `INSERT INTO ${s}.leases AS l (stream_id, owner, token, expires_at)
           SELECT $1::text, $2::text, 1, ${ttl("$3")}
           WHERE NOT EXISTS (SELECT 1 FROM ${s}.streams WHERE stream_id = $1::text AND final)
           ON CONFLICT (stream_id) DO UPDATE SET owner = EXCLUDED.owner, token = l.token + 1, expires_at = ${ttl("$3")}
           WHERE l.owner = EXCLUDED.owner OR l.expires_at <= clock_timestamp()
           RETURNING ${leaseColumns("l")}`,
          [streamId, owner, ttlMs],
          `${statementPrefix}_acquire`,
        );
        const row = rows[0];
        return row === undefined ? null : toLease(row);
      });
    },

    claim(claimOptions: ClaimOptions): Promise<readonly Lease[]> {
      return run(async () => {
        assertClaimOptions(claimOptions);
        // SKIP LOCKED spreads concurrent claimers over different streams (and skips a stream in
        // the middle of an append); the upsert's WHERE still decides, so a claimer whose snapshot
        // is older than another's commit takes nothing that is held. A lapsed lease row that is
        // locked (an append of a frozen owner, mid-transaction) is skipped too rather than waited
        // for, so one stuck writer cannot stall the claim of every other stream.
        const rows = await executor.query(
          `WITH candidates AS (
             SELECT st.stream_id, st.created_at FROM ${s}.streams AS st
             WHERE NOT st.final AND ($2::text IS NULL OR st.first_event_type = $2::text)
               AND NOT (st.stream_id = ANY($5::text[]))
               AND NOT EXISTS (SELECT 1 FROM ${s}.leases AS held WHERE held.stream_id = st.stream_id AND held.expires_at > clock_timestamp())
               AND (NOT EXISTS (SELECT 1 FROM ${s}.leases AS any_lease WHERE any_lease.stream_id = st.stream_id)
                    OR EXISTS (SELECT 1 FROM ${s}.leases AS free WHERE free.stream_id = st.stream_id FOR UPDATE SKIP LOCKED))
             ORDER BY st.created_at, st.stream_id
             LIMIT $3
             FOR NO KEY UPDATE OF st SKIP LOCKED
           ), claimed AS (
             INSERT INTO ${s}.leases AS l (stream_id, owner, token, expires_at)
             SELECT c.stream_id, $1::text, 1, ${ttl("$4")} FROM candidates AS c ORDER BY c.stream_id
             ON CONFLICT (stream_id) DO UPDATE SET owner = EXCLUDED.owner, token = l.token + 1, expires_at = ${ttl("$4")}
             WHERE l.expires_at <= clock_timestamp()
             RETURNING ${leaseColumns("l")}
           )
           SELECT claimed.* FROM claimed JOIN candidates USING (stream_id) ORDER BY candidates.created_at, candidates.stream_id`,
          [claimOptions.owner, claimOptions.firstEventType ?? null, claimOptions.limit, claimOptions.ttlMs, [...(claimOptions.exclude ?? [])]],
          `${statementPrefix}_claim`,
        );
        return rows.map(toLease);
      });
    },

    renew(held: readonly Lease[], ttlMs: number): Promise<readonly Lease[]> {
      return run(async () => {
        const keys = toLeaseKeys(held);
        assertTtl(ttlMs);
        if (keys.length === 0) return [];
        const rows = await executor.query(
          `WITH held AS (
             SELECT l.stream_id FROM ${s}.leases AS l
             JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS k(stream_id, owner, token) ON l.stream_id = k.stream_id
             WHERE l.owner = k.owner AND l.token = k.token AND l.expires_at > clock_timestamp()
             ORDER BY l.stream_id
             FOR NO KEY UPDATE OF l
           )
           UPDATE ${s}.leases AS l SET expires_at = ${ttl("$4")}
           FROM (SELECT DISTINCT stream_id FROM held) AS h
           WHERE l.stream_id = h.stream_id
           RETURNING ${leaseColumns("l")}`,
          [keys.map((key) => key.streamId), keys.map((key) => key.owner), keys.map((key) => key.token), ttlMs],
          `${statementPrefix}_renew`,
        );
        return rows.map(toLease);
      });
    },

    release(held: readonly Lease[]): Promise<void> {
      return run(async () => {
        const keys = toLeaseKeys(held);
        if (keys.length === 0) return;
        // The row stays, with its token: the next holder's token must be larger than every old one.
        const rows = await executor.query(
          `WITH held AS (
             SELECT l.stream_id FROM ${s}.leases AS l
             JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS k(stream_id, owner, token) ON l.stream_id = k.stream_id
             WHERE l.owner = k.owner AND l.token = k.token AND l.expires_at <> '-infinity'
             ORDER BY l.stream_id
             FOR NO KEY UPDATE OF l
           ), released AS (
             UPDATE ${s}.leases AS l SET expires_at = '-infinity'
             FROM (SELECT DISTINCT stream_id FROM held) AS h
             WHERE l.stream_id = h.stream_id
             RETURNING l.stream_id
           ), ${notifyIfAny("released", "$4", "lease")}
           SELECT stream_id, (SELECT count(*) FROM notified) AS notified FROM released`,
          [keys.map((key) => key.streamId), keys.map((key) => key.owner), keys.map((key) => key.token), channel ?? null],
          `${statementPrefix}_release`,
        );
        if (rows.length > 0) listeners.emit("lease");
      });
    },

    announce(instanceId: string, announceOptions: AnnounceOptions): Promise<ClusterView> {
      return run(async () => {
        assertAnnounce(instanceId, announceOptions);
        // The counting subqueries see the snapshot from before this statement's upsert: count the
        // others, then this one.
        const rows = await executor.query(
          `WITH announced AS (
             INSERT INTO ${s}.instances AS i (instance_id, expires_at) VALUES ($1::text, ${ttl("$2")})
             ON CONFLICT (instance_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
             RETURNING i.instance_id
           ), pruned AS (
             DELETE FROM ${s}.instances WHERE instance_id IN (
               SELECT instance_id FROM ${s}.instances WHERE expires_at <= clock_timestamp() AND instance_id <> $1::text FOR UPDATE SKIP LOCKED
             )
           )
           SELECT (SELECT count(*) FROM ${s}.instances WHERE expires_at > clock_timestamp() AND instance_id <> $1::text) + (SELECT count(*) FROM announced) AS live_instances,
                  (SELECT count(*) FROM ${s}.streams WHERE NOT final AND ($3::text IS NULL OR first_event_type = $3::text)) AS open_streams`,
          [instanceId, announceOptions.ttlMs, announceOptions.firstEventType ?? null],
          `${statementPrefix}_announce`,
        );
        const row = rows[0];
        return { liveInstances: toSafeInteger(row?.live_instances) ?? 1, openStreams: toSafeInteger(row?.open_streams) ?? 0 };
      });
    },

    retire(instanceId: string): Promise<void> {
      return run(async () => {
        assertOwner(instanceId);
        await executor.query(`DELETE FROM ${s}.instances WHERE instance_id = $1`, [instanceId]);
      });
    },

    issue(command: NewCommand): Promise<void> {
      return run(async () => {
        const encoded = encodeCommand(command);
        const rows = await executor.query(
          `WITH issued AS (
             INSERT INTO ${s}.commands (command_id, stream_id, type, data, issued_at) VALUES ($1, $2, $3, $4, $5::bigint)
             ON CONFLICT (command_id) DO NOTHING
             RETURNING command_id
           ), ${notifyIfAny("issued", "$6", "command")}
           SELECT command_id, (SELECT count(*) FROM notified) AS notified FROM issued`,
          [encoded.commandId, encoded.streamId, encoded.type, encoded.data, now(), channel ?? null],
          `${statementPrefix}_issue`,
        );
        if (rows.length > 0) listeners.emit("command");
      });
    },

    pending(streamIds: readonly string[]): Promise<readonly Command[]> {
      return run(async () => {
        assertTexts(streamIds, "streamIds");
        if (streamIds.length === 0) return [];
        const rows = await executor.query(
          `SELECT command_id, stream_id, type, data, issued_at FROM ${s}.commands WHERE stream_id = ANY($1::text[]) ORDER BY seq`,
          [[...new Set(streamIds)]],
          `${statementPrefix}_pending`,
        );
        return rows.map((row): Command => {
          let data: JsonValue;
          try {
            data = JSON.parse(String(row.data)) as JsonValue;
          } catch (cause) {
            throw new StoreError("CORRUPTED_EVENT", `corrupted command ${String(row.command_id)} of ${String(row.stream_id)}: data is not valid JSON`, { cause, details: { streamId: String(row.stream_id) } });
          }
          return { commandId: String(row.command_id), streamId: String(row.stream_id), type: String(row.type), data, issuedAt: toSafeInteger(row.issued_at) ?? 0 };
        });
      });
    },

    complete(commandIds: readonly string[]): Promise<void> {
      return run(async () => {
        assertTexts(commandIds, "commandIds");
        if (commandIds.length === 0) return;
        await executor.query(`DELETE FROM ${s}.commands WHERE command_id = ANY($1::text[])`, [[...new Set(commandIds)]], `${statementPrefix}_complete`);
      });
    },

    onChange(listener: (change: CoordinationChange) => void): () => void {
      if (closed) return () => undefined;
      const unsubscribe = listeners.add(listener);
      ensureListening();
      return unsubscribe;
    },
  };

  return {
    coordination,
    async close() {
      closed = true;
      listeners.clear();
      await Promise.allSettled([...inFlight]);
      await listening;
      await unlisten?.().catch(() => undefined);
      unlisten = undefined;
    },
  };
}

function sqlStateOf(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : "";
}
