import { toAppendRequest, type AppendRequest, type Fence } from "../appendRequest.js";
import { START, parseCheckpoint, type Checkpoint } from "../checkpoint.js";
import { decodeEventRow, toSafeInteger, type EventRow } from "../eventRow.js";
import type {
  AppendOptions,
  AppendResult,
  EventHandler,
  EventStore,
  JsonObject,
  JsonValue,
  ListStreamsOptions,
  NewEvent,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  ReadStreamResult,
  ReadStreamsOptions,
  StoredEvent,
  StreamSummary,
  SubscribeOptions,
  Subscription,
} from "../eventStore.js";
import { matchesExpectedVersion } from "../expectedVersion.js";
import { createGroupCommitter, type BatchOutcome } from "../groupCommit.js";
import { startPollingSubscription } from "../pollingSubscription.js";
import { readAllLimit, streamStatusOf } from "../readOptions.js";
import { StoreError } from "../storeError.js";
import { createWakeSignal } from "../wakeSignal.js";
import { migrate, quoteSchema } from "./migrations.js";
import { createSqlCoordination } from "./sqlCoordination.js";
import type { SqlExecutor, SqlQueryable, SqlRow } from "./sqlExecutor.js";
import { createSqlStreamReads, eventColumns } from "./sqlStreamReads.js";

/** Options of {@link createSqlEventStore}. */
export interface SqlEventStoreOptions {
  /** Schema holding the tables; default `"cloudsession"`. Lowercase identifier. */
  readonly schema?: string;
  /** Clock for `recordedAt`, `createdAt`, `updatedAt`; defaults to `Date.now`. */
  readonly now?: () => number;
  /** Run migrations on open; default true. */
  readonly migrate?: boolean;
  /** Group commit: appends per flush stop growing at this many events; default 5000. */
  readonly maxBatchEvents?: number;
  /**
   * Group commit: transactions in flight at once; default 1. Appends to one stream never ride in two
   * concurrent flushes, so a process's appends to a stream commit in call order either way.
   */
  readonly maxConcurrentFlushes?: number;
  /** Label used in error messages, e.g. "PGlite" or "PostgreSQL". */
  readonly label?: string;
}

/** Default schema of the SQL adapters. */
export const DEFAULT_SCHEMA = "cloudsession";

/** PostgreSQL errors after which re-running the whole batch is correct: deadlock, serialization, unique race. */
const uniqueViolation = "23505";
const retryableCodes = new Set(["40P01", "40001", uniqueViolation]);
const maxAttempts = 5;

/** Streams kept in the version cache of the fast path; beyond this the oldest are forgotten. */
const maxKnownStreams = 100_000;

class BatchRaced extends Error {}

/** What the fast path did: outcomes for the appends it settled, and the indexes it left over. */
interface FastOutcome {
  /** Indexed like the batch; entries listed in `losers` are placeholders. */
  readonly outcomes: readonly BatchOutcome<AppendResult>[];
  readonly losers: readonly number[];
  readonly wrote: boolean;
}

/** Marks an append the fast path leaves to the locking path; never returned to a caller. */
const deferredDecision = new StoreError("VERSION_CONFLICT", "decided by the locking path");

/** What a process last knew of a stream; only ever an assumption the database verifies. */
interface KnownStream {
  readonly version: number;
  readonly final: boolean;
}

interface StreamState {
  version: number;
  final: boolean;
  metadata: Record<string, unknown>;
  readonly isNew: boolean;
  firstEventType: string;
  touched: boolean;
  metadataChanged: boolean;
}

type Decision = StoreError | { readonly request: AppendRequest; readonly fromVersion: number; readonly created: boolean };

interface BatchPlan {
  readonly decisions: readonly Decision[];
  readonly newStreams: readonly (readonly [string, StreamState])[];
  readonly updatedStreams: readonly (readonly [string, StreamState])[];
  readonly events: { readonly streamIds: string[]; readonly versions: number[]; readonly types: string[]; readonly data: string[]; readonly metadata: string[] };
}

/**
 * Decides every append of a batch in order against `states` (mutated to the batch's end state):
 * several appends to one stream behave exactly as if they ran one after another. `fenceHolds`
 * answers for fenced appends when the caller checked the leases (the locking path); the fast path
 * leaves it out because its statement checks them itself.
 */
function decide(batch: readonly AppendRequest[], states: Map<string, StreamState>, fenceHolds?: (request: AppendRequest) => boolean): BatchPlan {
  const decisions = batch.map((request): Decision => {
    const state = states.get(request.streamId);
    const current = state?.version ?? 0;
    if (request.fence !== undefined && fenceHolds !== undefined && !fenceHolds(request)) return leaseLost(request.streamId, request.fence);
    if (state?.final === true) {
      return new StoreError("STREAM_FINAL", `stream ${request.streamId} is final and accepts no more events`, { details: { streamId: request.streamId, actualVersion: current } });
    }
    if (!matchesExpectedVersion(current, request.expectedVersion)) {
      return new StoreError("VERSION_CONFLICT", `stream ${request.streamId} is at version ${current}, expected ${String(request.expectedVersion)}`, {
        details: { streamId: request.streamId, expectedVersion: request.expectedVersion, actualVersion: current },
      });
    }
    const next: StreamState = state ?? { version: 0, final: false, metadata: {}, isNew: true, firstEventType: "", touched: false, metadataChanged: false };
    if (next.isNew && !next.touched) next.firstEventType = request.events[0]?.type ?? "";
    next.version = current + request.events.length;
    next.final = request.markFinal;
    next.touched = true;
    if (request.streamMetadata !== undefined) {
      next.metadata = { ...next.metadata, ...(JSON.parse(request.streamMetadata) as Record<string, unknown>) };
      next.metadataChanged = true;
    }
    states.set(request.streamId, next);
    return { request, fromVersion: current + 1, created: current === 0 };
  });
  const touched = [...states].filter(([, state]) => state.touched).sort(([a], [b]) => compareText(a, b));
  const events: BatchPlan["events"] = { streamIds: [], versions: [], types: [], data: [], metadata: [] };
  for (const decision of decisions) {
    if (decision instanceof StoreError) continue;
    decision.request.events.forEach((event, index) => {
      events.streamIds.push(decision.request.streamId);
      events.versions.push(decision.fromVersion + index);
      events.types.push(event.type);
      events.data.push(event.data);
      events.metadata.push(event.metadata);
    });
  }
  return { decisions, newStreams: touched.filter(([, state]) => state.isNew), updatedStreams: touched.filter(([, state]) => !state.isNew), events };
}

function leaseLost(streamId: string, fence: Fence): StoreError {
  return new StoreError("LEASE_LOST", `stream ${streamId} is no longer leased to ${fence.owner} with token ${fence.token}`, { details: { streamId } });
}

/** Key of a fence, for grouping a batch's appends by the lease they carry. */
const fenceKey = (fence: Fence | undefined): string => (fence === undefined ? "" : `${fence.token}\u0000${fence.owner}`);

function newStreamParams(plan: BatchPlan): unknown[] {
  return [
    plan.newStreams.map(([id]) => id),
    plan.newStreams.map(([, state]) => state.version),
    plan.newStreams.map(([, state]) => state.final),
    plan.newStreams.map(([, state]) => state.firstEventType),
    plan.newStreams.map(([, state]) => JSON.stringify(state.metadata)),
  ];
}

function eventParams(plan: BatchPlan): unknown[] {
  return [plan.events.streamIds, plan.events.versions, plan.events.types, plan.events.data, plan.events.metadata];
}

/** Turns a plan and the rows its insert returned into one outcome per append. */
function toOutcomes(plan: BatchPlan, inserted: readonly SqlRow[], time: number, settled?: ReadonlySet<string>): BatchOutcome<AppendResult>[] {
  const byKey = new Map<string, SqlRow>();
  for (const row of inserted) byKey.set(`${String(row.version)}\u0000${String(row.stream_id)}`, row);
  return plan.decisions.map((decision): BatchOutcome<AppendResult> => {
    if (decision instanceof StoreError) return { ok: false, error: decision };
    const { request, fromVersion, created } = decision;
    if (settled !== undefined && !settled.has(request.streamId)) return { ok: false, error: deferredDecision };
    const stored = request.events.map((event, index) => {
      const version = fromVersion + index;
      const row = byKey.get(`${version}\u0000${request.streamId}`);
      return decodeEventRow({ stream_id: request.streamId, version, position: row?.position, transaction_id: row?.transaction_id, type: event.type, data: event.data, metadata: event.metadata, recorded_at: time });
    });
    return { ok: true, value: { streamId: request.streamId, nextExpectedVersion: fromVersion - 1 + request.events.length, createdStream: created, events: stored } };
  });
}

/**
 * The fast statement's rows, from the one row it returns: the inserted events' stream ids, versions
 * and positions as three JSON arrays in insertion order. One row instead of one per event: on PGlite
 * shipping and decoding a row per event was a quarter of the statement's time (400 events: 6.3 ms
 * against 4.8). Positions and versions arrive as JSON numbers; {@link fastOutcomes} checks each is a
 * safe integer and matches what was written, and falls back to matching by key when one does not.
 */
function insertedRows(summary: SqlRow | undefined): SqlRow[] {
  // Never seen: the statement has committed by now, so its appends may be in the log after all.
  if (typeof summary?.inserted !== "string") throw new StoreError("CORRUPTED_EVENT", "the append statement returned no summary row; its appends may have been written");
  const parsed = JSON.parse(summary.inserted) as { s: unknown; v: unknown; p: unknown };
  // No event inserted: array_agg over no rows is NULL.
  if (parsed.s === null) return [];
  if (!Array.isArray(parsed.s) || !Array.isArray(parsed.v) || !Array.isArray(parsed.p) || parsed.s.length !== parsed.v.length || parsed.s.length !== parsed.p.length) {
    throw new StoreError("CORRUPTED_EVENT", "the append statement returned a malformed summary; its appends may have been written");
  }
  const { s: streamIds, v: versions, p: positions } = parsed as { s: unknown[]; v: unknown[]; p: unknown[] };
  return streamIds.map((streamId, index) => ({ stream_id: streamId, version: versions[index], position: positions[index], transaction_id: summary.transaction_id }));
}

/**
 * {@link toOutcomes} for the fast path's own rows: they come back in insertion order (checked; a
 * surprise falls back to matching by key) and need none of the decoder's defences, since every
 * value but the position and transaction id is what this process just wrote. The stored events of
 * a result are built when first read: most callers only take `nextExpectedVersion`, and decoding
 * every event's JSON again was a tenth of the client's work per flush.
 */
function fastOutcomes(plan: BatchPlan, inserted: readonly SqlRow[], time: number, settled: ReadonlySet<string>): BatchOutcome<AppendResult>[] {
  const transactionId = inserted[0]?.transaction_id;
  if (typeof transactionId !== "string" || !/^\d+$/.test(transactionId)) return toOutcomes(plan, inserted, time, settled);
  let at = 0;
  const outcomes: BatchOutcome<AppendResult>[] = [];
  for (const decision of plan.decisions) {
    if (decision instanceof StoreError) {
      outcomes.push({ ok: false, error: decision });
      continue;
    }
    const { request, fromVersion, created } = decision;
    if (!settled.has(request.streamId)) {
      outcomes.push({ ok: false, error: deferredDecision });
      continue;
    }
    const positions: number[] = [];
    for (let index = 0; index < request.events.length; index++) {
      const row = inserted[at++];
      const position = Number(row?.position);
      if (row?.stream_id !== request.streamId || Number(row.version) !== fromVersion + index || !Number.isSafeInteger(position)) return toOutcomes(plan, inserted, time, settled);
      positions.push(position);
    }
    outcomes.push({ ok: true, value: lazyResult(request, fromVersion, created, positions, transactionId, time) });
  }
  return at === inserted.length ? outcomes : toOutcomes(plan, inserted, time, settled);
}

/** An append's result whose `events` are decoded from the request on first access (once). */
function lazyResult(request: AppendRequest, fromVersion: number, created: boolean, positions: readonly number[], transactionId: string, time: number): AppendResult {
  let events: StoredEvent[] | undefined;
  return {
    streamId: request.streamId,
    nextExpectedVersion: fromVersion - 1 + request.events.length,
    createdStream: created,
    get events(): StoredEvent[] {
      events ??= request.events.map((event, index) => ({
        streamId: request.streamId,
        version: fromVersion + index,
        position: positions[index] ?? 0,
        checkpoint: `${transactionId}/${positions[index] ?? 0}` as Checkpoint,
        type: event.type,
        data: JSON.parse(event.data) as JsonValue,
        metadata: (event.metadata === "{}" ? {} : JSON.parse(event.metadata)) as JsonObject,
        recordedAt: time,
      }));
      return events;
    },
  };
}

/** Code-unit order, the same on every machine (unlike localeCompare): lock order must agree. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The event store over any {@link SqlExecutor}: schema, migrations, group commit, watermark reads.
 * PGlite and PostgreSQL adapters are thin wrappers that build an executor and call this.
 *
 * @example
 * ```ts
 * const store = await createSqlEventStore(executor, { schema: "cloudsession" });
 * ```
 */
export async function createSqlEventStore(executor: SqlExecutor, options: SqlEventStoreOptions = {}): Promise<EventStore> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const s = quoteSchema(schema);
  const now = options.now ?? Date.now;
  const label = options.label ?? "SQL";
  if (options.migrate !== false) await migrate(executor, schema);

  const channel = channelName("cloudsession_events_", schema);
  const coordinationChannel = channelName("cloudsession_coordination_", schema);
  // Prepared-statement names are per connection and the schema is part of the text, so it must be
  // part of the name; hashed because PostgreSQL truncates names to 63 bytes.
  const statementPrefix = `cloudsession_${fnv1a(schema)}`;
  const wake = createWakeSignal();
  const subscriptions = new Set<Subscription>();
  let unlisten: (() => Promise<void>) | undefined;
  let listening: Promise<void> | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  const knownStreams = new Map<string, KnownStream>();
  const fastStatement = fastWriteSql(false);
  const fencedFastStatement = fastWriteSql(true);

  const committer = createGroupCommitter<AppendRequest, AppendResult>(flushWithRetry, {
    weight: (request) => request.events.length,
    maxBatchWeight: options.maxBatchEvents ?? 5000,
    maxConcurrentFlushes: options.maxConcurrentFlushes ?? 1,
    key: (request) => request.streamId,
  });

  function assertOpen(): void {
    if (closed) throw new StoreError("STORE_CLOSED", `the ${label} event store is closed`);
  }
  const coordinated = createSqlCoordination(executor, {
    schema: s,
    now,
    assertOpen,
    channel: executor.listen === undefined ? undefined : coordinationChannel,
    statementPrefix,
    label,
  });

  const reads = createSqlStreamReads({ executor, schema: s, statementPrefix, observe: remember });

  async function flushWithRetry(batch: readonly AppendRequest[]): Promise<readonly BatchOutcome<AppendResult>[]> {
    // Fast path: one autocommit statement decides every stream against its cached version and
    // writes the streams whose row still matches; the rest ("losers": stale cache, creation race,
    // a conflict to classify, a metadata merge) go through the locking transaction below.
    let fast: FastOutcome;
    try {
      fast = await optimisticWrite(batch);
    } catch (error) {
      if (!retryableCodes.has(sqlStateOf(error))) throw error;
      // The statement rolled back whole (deadlock with another process, unique race): redo it all.
      for (const request of batch) knownStreams.delete(request.streamId);
      fast = { outcomes: [], losers: batch.map((_, index) => index), wrote: false };
    }
    if (fast.wrote) wake.notify();
    if (fast.losers.length === 0) return fast.outcomes;
    const outcomes = [...fast.outcomes];
    const loserIndexes = new Set(fast.losers); // ascending, like the batch
    const losers = batch.filter((_, index) => loserIndexes.has(index));
    try {
      const settled = await lockingWriteWithRetry(losers);
      fast.losers.forEach((index, at) => {
        const outcome = settled[at];
        if (outcome !== undefined) outcomes[index] = outcome;
      });
    } catch (error) {
      // The fast statement's winners are committed: only the losers fail.
      const reason = error instanceof Error ? error : new Error(String(error));
      for (const index of fast.losers) outcomes[index] = { ok: false, error: reason };
    }
    return outcomes;
  }

  async function lockingWriteWithRetry(batch: readonly AppendRequest[]): Promise<readonly BatchOutcome<AppendResult>[]> {
    const outcomes: BatchOutcome<AppendResult>[] = [];
    let pending = batch.map((_, index) => index);
    for (let attempt = 1; ; attempt++) {
      const requests = pending.flatMap((index) => batch[index] ?? []);
      try {
        const written = await executor.transaction((tx) => lockingWrite(tx, requests), executor.listen ? { notify: channel } : {});
        wake.notify();
        pending.forEach((index, at) => {
          const outcome = written[at];
          if (outcome !== undefined) outcomes[index] = outcome;
        });
        return outcomes;
      } catch (error) {
        if (sqlStateOf(error) === uniqueViolation) {
          // A version already taken under a stream row that was locked and read: either a race that
          // is over now (a concurrent creation), or events the stream row does not count (damage).
          // Damaged streams' appends fail alone, with what is wrong; the others are decided again.
          const damaged = await reads.collisions(executor, requests.map((request) => request.streamId));
          if (damaged.size > 0) {
            pending = pending.filter((index) => {
              const streamId = batch[index]?.streamId ?? "";
              const damage = damaged.get(streamId);
              if (damage === undefined) return true;
              knownStreams.delete(streamId);
              outcomes[index] = { ok: false, error: damage };
              return false;
            });
            if (pending.length === 0) return outcomes;
            continue;
          }
        }
        // Another process created one of our new streams, or lock order crossed: the batch rolled
        // back whole, so re-reading the streams and re-deciding every append is correct.
        if (attempt < maxAttempts && (error instanceof BatchRaced || retryableCodes.has(sqlStateOf(error)))) continue;
        throw error;
      }
    }
  }

  function remember(streamId: string, state: KnownStream): void {
    knownStreams.delete(streamId);
    knownStreams.set(streamId, state);
    // Oldest first in Map order: evicting it costs at most one fallback if that stream comes back.
    if (knownStreams.size > maxKnownStreams) {
      const oldest = knownStreams.keys().next();
      if (oldest.done !== true) knownStreams.delete(oldest.value);
    }
  }

  /**
   * Writes, in one autocommit statement, every stream of the batch whose cached version still holds:
   * `INSERT … ON CONFLICT DO NOTHING` creates the streams believed new, `UPDATE … WHERE version =
   * assumed` advances the others (its row lock is the only lock taken), and the events of exactly
   * the streams that won are inserted from `unnest` arrays. A stream whose row moved, or was
   * created meanwhile, simply writes nothing and is handed back as a loser; so is a stream with an
   * append the cache would reject (the locking path decides conflicts against the real row) or a
   * metadata merge (which needs the stored value).
   *
   * Fenced streams are written only if their lease row, locked `FOR SHARE` before any stream row,
   * still has the fence's owner and token and has not lapsed; the lock lasts until the statement
   * commits, so no takeover commits in between. A fenced stream that fails the check writes
   * nothing and goes to the locking path, which tells `LEASE_LOST` from a stale cache. A batch
   * without fences runs the statement without any of this.
   */
  async function optimisticWrite(batch: readonly AppendRequest[]): Promise<FastOutcome> {
    const deferred = new Set<string>();
    // Unfenced batches (the single-instance case) skip every step of fencing.
    const fences = batch.some((request) => request.fence !== undefined) ? new Map<string, Fence | undefined>() : undefined;
    for (const request of batch) {
      // Merging stream metadata needs the stored value: leave that rare case to the locking path.
      if (request.streamMetadata !== undefined && (knownStreams.get(request.streamId)?.version ?? 0) > 0) deferred.add(request.streamId);
      if (fences === undefined) continue;
      // One stream, one lease check per statement: appends carrying different fences go the slow way.
      if (!fences.has(request.streamId)) fences.set(request.streamId, request.fence);
      else if (fenceKey(fences.get(request.streamId)) !== fenceKey(request.fence)) deferred.add(request.streamId);
    }
    let plan = planFast(batch, deferred);
    const rejected = batch.filter((request, index) => plan.decisions[index] instanceof StoreError && !deferred.has(request.streamId));
    if (rejected.length > 0) {
      // A rejection decided on a cached version is only a guess: classify it under lock instead.
      batch.forEach((request, index) => {
        if (plan.decisions[index] instanceof StoreError) deferred.add(request.streamId);
      });
      plan = planFast(batch, deferred);
    }
    const losers: number[] = [];
    if (plan.events.streamIds.length === 0) {
      batch.forEach((_, index) => losers.push(index));
      return { outcomes: [], losers, wrote: false };
    }
    const time = now();
    const fenced: [string, Fence][] = [];
    if (fences !== undefined) {
      for (const [id] of [...plan.newStreams, ...plan.updatedStreams]) {
        const fence = fences.get(id);
        if (fence !== undefined) fenced.push([id, fence]);
      }
    }
    const [summary] = await executor.query(
      fenced.length === 0 ? fastStatement : fencedFastStatement,
      [
        time,
        ...newStreamParams(plan),
        plan.updatedStreams.map(([id]) => id),
        plan.updatedStreams.map(([id]) => plan.assumed.get(id) ?? 0),
        plan.updatedStreams.map(([, state]) => state.version),
        plan.updatedStreams.map(([, state]) => state.final),
        ...eventParams(plan),
        executor.listen === undefined ? null : channel,
        ...(fenced.length === 0 ? [] : [fenced.map(([id]) => id), fenced.map(([, fence]) => fence.owner), fenced.map(([, fence]) => fence.token)]),
      ],
      fenced.length === 0 ? `${statementPrefix}_write_fast` : `${statementPrefix}_write_fast_fenced`,
    );
    const rows = insertedRows(summary);
    const won = new Set<string>();
    for (const row of rows) won.add(String(row.stream_id));
    for (const [id, state] of [...plan.newStreams, ...plan.updatedStreams]) {
      if (won.has(id)) remember(id, { version: state.version, final: state.final });
      else knownStreams.delete(id); // Stale (or fenced out): the locking path reads and remembers the real row.
    }
    const outcomes = fastOutcomes(plan, rows, time, won);
    batch.forEach((request, index) => {
      if (deferred.has(request.streamId) || !won.has(request.streamId)) losers.push(index);
    });
    return { outcomes, losers, wrote: rows.length > 0 };
  }

  /**
   * The fast path's statement. With `fenced`, the fence CTE locks the lease rows of the fenced
   * streams that still hold (in stream order) and `blocked` lists the ones that do not; the stream
   * writes exclude `blocked`, and since that hashed subplan is read whole before the first stream
   * row is written, every lease lock is taken before any stream lock (the locking path's order).
   */
  function fastWriteSql(fenced: boolean): string {
    const fenceCtes = fenced
      ? `fenced AS (
        SELECT l.stream_id FROM ${s}.leases AS l
        JOIN unnest($17::text[], $18::text[], $19::bigint[]) AS f(stream_id, owner, token) ON l.stream_id = f.stream_id
        WHERE l.owner = f.owner AND l.token = f.token AND l.expires_at > clock_timestamp()
        ORDER BY l.stream_id
        FOR SHARE OF l
      ), blocked AS (
        SELECT f.stream_id FROM unnest($17::text[]) AS f(stream_id) WHERE f.stream_id NOT IN (SELECT stream_id FROM fenced)
      ), `
      : "";
    const unblocked = fenced ? "u.stream_id NOT IN (SELECT stream_id FROM blocked)" : "";
    return `WITH ${fenceCtes}created AS (
        INSERT INTO ${s}.streams (stream_id, version, final, first_event_type, metadata, created_at, updated_at)
        SELECT u.stream_id, u.version, u.final, u.first_event_type, u.metadata, $1::bigint, $1::bigint
        FROM unnest($2::text[], $3::bigint[], $4::boolean[], $5::text[], $6::text[]) AS u(stream_id, version, final, first_event_type, metadata)
        ${fenced ? `WHERE ${unblocked}` : ""}
        ON CONFLICT (stream_id) DO NOTHING
        RETURNING stream_id
      ), advanced AS (
        UPDATE ${s}.streams AS target
        SET version = u.version, final = u.final, updated_at = $1::bigint
        FROM unnest($7::text[], $8::bigint[], $9::bigint[], $10::boolean[]) AS u(stream_id, assumed, version, final)
        WHERE target.stream_id = u.stream_id AND target.version = u.assumed AND NOT target.final ${fenced ? `AND ${unblocked}` : ""}
        RETURNING target.stream_id
      ), won AS (
        SELECT stream_id FROM created UNION ALL SELECT stream_id FROM advanced
      ), inserted AS (
        INSERT INTO ${s}.events (stream_id, version, type, data, metadata, recorded_at)
        SELECT u.stream_id, u.version, u.type, u.data, u.metadata, $1::bigint
        FROM unnest($11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[]) WITH ORDINALITY AS u(stream_id, version, type, data, metadata, n)
        WHERE u.stream_id IN (SELECT stream_id FROM won)
        ORDER BY u.n
        RETURNING stream_id, version, position
      )
      SELECT json_build_object('s', array_agg(stream_id), 'v', array_agg(version), 'p', array_agg(position))::text AS inserted,
        pg_current_xact_id()::text AS transaction_id
      FROM inserted
      WHERE (SELECT count(*) FROM (SELECT pg_notify($16, '') WHERE $16 IS NOT NULL) AS notified) >= 0`;
  }

  /** Decides the batch against cached versions, leaving out the `deferred` streams entirely. */
  function planFast(batch: readonly AppendRequest[], deferred: ReadonlySet<string>): BatchPlan & { readonly assumed: ReadonlyMap<string, number> } {
    const states = new Map<string, StreamState>();
    const assumed = new Map<string, number>();
    const included: AppendRequest[] = [];
    for (const request of batch) {
      if (deferred.has(request.streamId)) continue;
      included.push(request);
      if (states.has(request.streamId)) continue;
      const known = knownStreams.get(request.streamId);
      const version = known?.version ?? 0;
      assumed.set(request.streamId, version);
      states.set(request.streamId, { version, final: known?.final ?? false, metadata: {}, isNew: version === 0, firstEventType: "", touched: false, metadataChanged: false });
    }
    const plan = decide(included, states);
    // Re-align decisions with the whole batch; deferred requests get a placeholder never used.
    let at = 0;
    const decisions = batch.map((request): Decision => (deferred.has(request.streamId) ? deferredDecision : (plan.decisions[at++] ?? deferredDecision)));
    return { ...plan, decisions, assumed };
  }

  async function lockingWrite(tx: SqlQueryable, batch: readonly AppendRequest[]): Promise<readonly BatchOutcome<AppendResult>[]> {
    const fenceHolds = await lockFences(tx, batch);
    const ids = [...new Set(batch.map((request) => request.streamId))].sort(compareText);
    // Locking in a fixed order keeps two batches that share streams from deadlocking in the common case.
    const existing = await tx.query(`SELECT stream_id, version, final, metadata FROM ${s}.streams WHERE stream_id = ANY($1::text[]) ORDER BY stream_id FOR UPDATE`, [ids], `${statementPrefix}_lock`);
    const states = new Map<string, StreamState>();
    for (const row of existing) {
      const streamId = String(row.stream_id);
      const version = toSafeInteger(row.version) ?? 0;
      states.set(streamId, { version, final: row.final === true, metadata: parseStreamMetadata(row.metadata), isNew: false, firstEventType: "", touched: false, metadataChanged: false });
    }
    const plan = decide(batch, states, fenceHolds);
    const time = now();
    if (plan.events.streamIds.length === 0) {
      for (const [id, state] of states) remember(id, { version: state.version, final: state.final });
      return toOutcomes(plan, [], time);
    }
    // One statement writes the whole batch: unnest() turns column arrays into rows, which is the
    // cheapest bulk insert PostgreSQL offers short of COPY, and costs one round trip.
    const inserted = await tx.query(
      `WITH new_streams AS (
        INSERT INTO ${s}.streams (stream_id, version, final, first_event_type, metadata, created_at, updated_at)
        SELECT u.stream_id, u.version, u.final, u.first_event_type, u.metadata, $1::bigint, $1::bigint
        FROM unnest($2::text[], $3::bigint[], $4::boolean[], $5::text[], $6::text[]) AS u(stream_id, version, final, first_event_type, metadata)
        ON CONFLICT (stream_id) DO NOTHING
        RETURNING stream_id
      ), updated_streams AS (
        UPDATE ${s}.streams AS target
        SET version = u.version, final = u.final, updated_at = $1::bigint, metadata = COALESCE(u.metadata, target.metadata)
        FROM unnest($7::text[], $8::bigint[], $9::boolean[], $10::text[]) AS u(stream_id, version, final, metadata)
        WHERE target.stream_id = u.stream_id
        RETURNING target.stream_id
      ), inserted AS (
        INSERT INTO ${s}.events (stream_id, version, type, data, metadata, recorded_at)
        SELECT u.stream_id, u.version, u.type, u.data, u.metadata, $1::bigint
        FROM unnest($11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[]) AS u(stream_id, version, type, data, metadata)
        RETURNING stream_id, version, position, transaction_id::text AS transaction_id
      )
      SELECT inserted.*, (SELECT count(*) FROM new_streams) AS created_count, (SELECT count(*) FROM updated_streams) AS updated_count FROM inserted`,
      [
        time,
        ...newStreamParams(plan),
        plan.updatedStreams.map(([id]) => id),
        plan.updatedStreams.map(([, state]) => state.version),
        plan.updatedStreams.map(([, state]) => state.final),
        plan.updatedStreams.map(([, state]) => (state.metadataChanged ? JSON.stringify(state.metadata) : null)),
        ...eventParams(plan),
      ],
      `${statementPrefix}_write`,
    );
    const first = inserted[0];
    if (inserted.length !== plan.events.streamIds.length || Number(first?.created_count) !== plan.newStreams.length || Number(first?.updated_count) !== plan.updatedStreams.length) {
      // A stream we saw as new was created by a concurrent transaction after our locking read.
      throw new BatchRaced(`batch raced on stream creation`);
    }
    // Remembered before COMMIT; if the commit fails the entries are merely stale, and a stale
    // entry only ever costs a fallback (the fast path verifies every assumption).
    for (const [id, state] of states) remember(id, { version: state.version, final: state.final });
    return toOutcomes(plan, inserted, time);
  }

  /**
   * Locks, `FOR SHARE` until this transaction ends, the lease rows that the batch's fences still
   * hold (same owner and token, not lapsed), in stream order and before any stream row. A takeover
   * has to update that row, so it waits for our commit; one that committed first changed the token
   * and fails the check. Returns whether a request's fence holds.
   */
  async function lockFences(tx: SqlQueryable, batch: readonly AppendRequest[]): Promise<((request: AppendRequest) => boolean) | undefined> {
    const fences = new Map<string, readonly [string, Fence]>();
    for (const request of batch) if (request.fence !== undefined) fences.set(`${request.streamId}\u0000${fenceKey(request.fence)}`, [request.streamId, request.fence]);
    if (fences.size === 0) return undefined;
    const entries = [...fences.values()];
    const rows = await tx.query(
      `SELECT l.stream_id, l.owner, l.token::text AS token FROM ${s}.leases AS l
       JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS f(stream_id, owner, token) ON l.stream_id = f.stream_id
       WHERE l.owner = f.owner AND l.token = f.token AND l.expires_at > clock_timestamp()
       ORDER BY l.stream_id
       FOR SHARE OF l`,
      [entries.map(([id]) => id), entries.map(([, fence]) => fence.owner), entries.map(([, fence]) => fence.token)],
      `${statementPrefix}_lock_fences`,
    );
    const held = new Set(rows.map((row) => `${String(row.stream_id)}\u0000${fenceKey({ owner: String(row.owner), token: toSafeInteger(row.token) ?? 0 })}`));
    return (request) => request.fence !== undefined && held.has(`${request.streamId}\u0000${fenceKey(request.fence)}`);
  }

  async function readAll(readOptions: ReadAllOptions = {}): Promise<ReadAllResult> {
    assertOpen();
    const after = readOptions.after ?? START;
    const { transactionId, position } = parseCheckpoint(after);
    const limit = readAllLimit(readOptions.limit);
    // The watermark: only rows of transactions older than every transaction still running. A row
    // of a running transaction can have a lower position than rows already visible; holding back
    // everything at or above the oldest running transaction means nothing can appear behind the
    // checkpoint later. See docs/adr/0003-global-order-watermark.md.
    // Qualified: a bare `transaction_id` in ORDER BY would name the *output* column, the text
    // alias, and "1000" sorts before "999": past a power of ten pages repeated or skipped events.
    const rows = await executor.query(
      `SELECT ${eventColumns} FROM ${s}.events AS e
       WHERE (e.transaction_id, e.position) > ($1::text::xid8, $2::bigint)
         AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY e.transaction_id, e.position
       LIMIT $3`,
      [transactionId.toString(), position, limit],
      `${statementPrefix}_read_all`,
    );
    const events = rows.map((row) => decodeEventRow(row as unknown as EventRow));
    return { events, checkpoint: events.at(-1)?.checkpoint ?? after, hasMore: events.length === limit };
  }

  function ensureListening(): void {
    const listen = executor.listen?.bind(executor);
    if (listen === undefined || listening !== undefined) return;
    listening = listen(channel, () => wake.notify()).then(
      (stop) => {
        if (closed) void stop();
        else unlisten = stop;
      },
      // Polling still delivers everything; NOTIFY only shortens the wait.
      () => undefined,
    );
  }

  return {
    append(streamId: string, events: readonly NewEvent[], appendOptions?: AppendOptions): Promise<AppendResult> {
      try {
        assertOpen();
        return committer.submit(toAppendRequest(streamId, events, appendOptions));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    async readStream(streamId: string, readOptions?: ReadStreamOptions): Promise<ReadStreamResult> {
      assertOpen();
      return reads.readStream(streamId, readOptions);
    },

    async readStreams(streamIds: readonly string[], readOptions?: ReadStreamsOptions): Promise<readonly ReadStreamResult[]> {
      assertOpen();
      return reads.readStreams(streamIds, readOptions);
    },

    readAll,

    async listStreams(listOptions: ListStreamsOptions = {}): Promise<readonly StreamSummary[]> {
      assertOpen();
      const status = streamStatusOf(listOptions.status);
      const limit = listOptions.limit === undefined ? null : readAllLimit(listOptions.limit);
      const where = status === "all" ? "" : status === "open" ? "WHERE NOT final" : "WHERE final";
      const rows = await executor.query(
        `SELECT stream_id, version, final, created_at, updated_at, first_event_type, metadata FROM ${s}.streams ${where} ORDER BY created_at, stream_id LIMIT $1`,
        [limit],
      );
      return rows.map((row) => ({
        streamId: String(row.stream_id),
        version: toSafeInteger(row.version) ?? 0,
        final: row.final === true,
        createdAt: toSafeInteger(row.created_at) ?? 0,
        updatedAt: toSafeInteger(row.updated_at) ?? 0,
        firstEventType: String(row.first_event_type),
        metadata: parseStreamMetadata(row.metadata) as JsonObject,
      }));
    },

    subscribe(handler: EventHandler, subscribeOptions?: SubscribeOptions): Subscription {
      assertOpen();
      ensureListening();
      const subscription = startPollingSubscription({ readAll, wake }, handler, subscribeOptions);
      subscriptions.add(subscription);
      void subscription.done.finally(() => subscriptions.delete(subscription)).catch(() => undefined);
      return subscription;
    },

    coordination: coordinated.coordination,

    close(): Promise<void> {
      closed = true;
      closing ??= (async () => {
        // Appends accepted before close() still commit; only new calls see STORE_CLOSED.
        await committer.drain();
        await coordinated.close();
        await Promise.all([...subscriptions].map((subscription) => subscription.close()));
        await listening;
        await unlisten?.();
        await executor.close();
      })();
      return closing;
    },
  };
}

function parseStreamMetadata(value: unknown): Record<string, unknown> {
  if (typeof value !== "string") return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function sqlStateOf(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : "";
}

/**
 * A NOTIFY channel per schema. PostgreSQL refuses channel names of 64 bytes or more, so a long
 * schema name is replaced by its hash.
 */
function channelName(prefix: string, schema: string): string {
  const name = `${prefix}${schema}`;
  return name.length < 64 ? name : `${prefix}${fnv1a(schema)}`;
}

/** 32-bit FNV-1a as 8 hex digits: a short, stable tag for prepared-statement names. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}
