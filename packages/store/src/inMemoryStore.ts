import { toAppendRequest } from "./appendRequest.js";
import { START, parseCheckpoint } from "./checkpoint.js";
import { decodeEventRow, toSafeInteger, type EventRow } from "./eventRow.js";
import type {
  AppendOptions,
  AppendResult,
  EventHandler,
  EventStore,
  JsonObject,
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
} from "./eventStore.js";
import { checkStreamRead, checkedRange, decodeRange } from "./checkStreamRead.js";
import { matchesExpectedVersion } from "./expectedVersion.js";
import { createInMemoryCoordination } from "./inMemoryCoordination.js";
import { startPollingSubscription } from "./pollingSubscription.js";
import { readAllLimit, readStreamRange, readStreamsArguments, streamStatusOf } from "./readOptions.js";
import { settle } from "./settle.js";
import { StoreError } from "./storeError.js";
import { createWakeSignal } from "./wakeSignal.js";

/** Options of {@link createInMemoryStore}. */
export interface InMemoryStoreOptions {
  /** Clock for `recordedAt`, `createdAt`, `updatedAt` and lease expiry; defaults to `Date.now`. */
  readonly now?: () => number;
}

/** One stream as the in-memory store keeps it: its "stream row" (version, final…) and its event rows. */
export interface InMemoryStream {
  version: number;
  final: boolean;
  readonly createdAt: number;
  updatedAt: number;
  readonly firstEventType: string;
  metadata: JsonObject;
  readonly rows: EventRow[];
}

/** Each in-memory store's streams, for tests that damage them on purpose (see {@link inMemoryStreamsOf}). */
const internals = new WeakMap<EventStore, Map<string, InMemoryStream>>();

/**
 * The streams behind an in-memory store, for tests that damage a log the way a bug or a careless
 * hand would (the SQL stores are damaged through SQL). Not exported from the package.
 *
 * @example
 * ```ts
 * inMemoryStreamsOf(store)?.get("s-1")?.rows.splice(2, 1); // version 3 is gone
 * ```
 */
export function inMemoryStreamsOf(store: EventStore): Map<string, InMemoryStream> | undefined {
  return internals.get(store);
}

/** The version of a stream's last stored row (rows are appended in version order). */
function lastVersionOf(state: InMemoryStream): number | undefined {
  const last = state.rows.at(-1);
  return last === undefined ? undefined : toSafeInteger(last.version);
}

/** Decodes a stream's rows from `fromVersion` (at most `maxCount`) and checks them as read. */
function readChecked(streamId: string, state: InMemoryStream | undefined, fromVersion: number, maxCount: number | undefined): ReadStreamResult {
  if (state === undefined) return { streamId, exists: false, version: 0, final: false, events: [] };
  const range = checkedRange(fromVersion, maxCount);
  // Rows sit at index version - 1 in a whole log; in a damaged one, the read starts where SQL's
  // `version >= from` would, and the check tells what is wrong.
  let start = range.from - 1;
  const lastVersion = lastVersionOf(state);
  if (state.rows[start]?.version !== range.from && lastVersion !== undefined && lastVersion >= range.from) {
    start = state.rows.findIndex((row) => Number(row.version) >= range.from);
  }
  const { placements, asked } = decodeRange(state.rows.slice(start, range.count === undefined ? undefined : start + range.count), range);
  checkStreamRead({ streamId, rowVersion: state.version, lastVersion, fromVersion: range.from, events: placements });
  return { streamId, exists: true, version: state.version, final: state.final, events: asked };
}

/**
 * An event store in process memory: the reference implementation of the contract, for unit tests,
 * the simulator and `memory:` specs. Events are kept as serialized JSON so readers get fresh copies
 * and the JSON round trip matches the SQL adapters exactly.
 *
 * @example
 * ```ts
 * const store = createInMemoryStore({ now: () => 0 });
 * await store.append("s-1", [{ type: "Created", data: { n: 1 } }], { expectedVersion: NO_STREAM });
 * ```
 */
export function createInMemoryStore(options: InMemoryStoreOptions = {}): EventStore {
  const now = options.now ?? Date.now;
  const streams = new Map<string, InMemoryStream>();
  const log: EventRow[] = [];
  const wake = createWakeSignal();
  const subscriptions = new Set<Subscription>();
  let lastPosition = 0;
  // One "transaction" per append keeps checkpoints shaped like the SQL adapters' (transaction, position).
  let lastTransaction = 0n;
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new StoreError("STORE_CLOSED", "the in-memory store is closed");
  }
  const coordinated = createInMemoryCoordination({ now, streams, assertOpen });

  const readAll = (readOptions: ReadAllOptions = {}): Promise<ReadAllResult> =>
    settle(() => {
    assertOpen();
    const after = readOptions.after ?? START;
    const { transactionId, position } = parseCheckpoint(after);
    const limit = readAllLimit(readOptions.limit);
    // The log is in (transaction, position) order, so the first unread event is found by bisection.
    let low = 0;
    let high = log.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const row = log[middle];
      if (row === undefined) break;
      const rowTransaction = row.transaction_id as bigint;
      const isAfter = rowTransaction > transactionId || (rowTransaction === transactionId && (row.position as number) > position);
      if (isAfter) high = middle;
      else low = middle + 1;
    }
    const events = log.slice(low, low + limit).map(decodeEventRow);
    const last = events.at(-1);
    return { events, checkpoint: last?.checkpoint ?? after, hasMore: events.length === limit };
    });

  const store: EventStore = {
    append(streamId: string, events: readonly NewEvent[], appendOptions?: AppendOptions): Promise<AppendResult> {
      return settle(() => {
        assertOpen();
        const request = toAppendRequest(streamId, events, appendOptions);
        const existing = streams.get(streamId);
        const current = existing?.version ?? 0;
        // The fence is checked first: a writer that lost its lease learns that, not a symptom of it.
        if (request.fence !== undefined && !coordinated.holds(streamId, request.fence)) {
          throw new StoreError("LEASE_LOST", `stream ${streamId} is no longer leased to ${request.fence.owner} with token ${request.fence.token}`, { details: { streamId } });
        }
        if (existing?.final === true) {
          throw new StoreError("STREAM_FINAL", `stream ${streamId} is final and accepts no more events`, { details: { streamId, actualVersion: current } });
        }
        if (!matchesExpectedVersion(current, request.expectedVersion)) {
          throw new StoreError("VERSION_CONFLICT", `stream ${streamId} is at version ${current}, expected ${String(request.expectedVersion)}`, {
            details: { streamId, expectedVersion: request.expectedVersion, actualVersion: current },
          });
        }
        // What a SQL store's unique (stream, version) key refuses: versions already taken by events
        // the stream row does not count. The check throws CORRUPTED_LOG naming that damage.
        const lastVersion = existing === undefined ? undefined : lastVersionOf(existing);
        if (lastVersion !== undefined && lastVersion > current) checkStreamRead({ streamId, rowVersion: current, lastVersion, fromVersion: lastVersion + 1, events: [] });
        const time = now();
        lastTransaction += 1n;
        const rows: EventRow[] = request.events.map((event, index) => ({
          stream_id: streamId,
          version: current + index + 1,
          position: ++lastPosition,
          transaction_id: lastTransaction,
          type: event.type,
          data: event.data,
          metadata: event.metadata,
          recorded_at: time,
        }));
        const state: InMemoryStream = existing ?? {
          version: 0,
          final: false,
          createdAt: time,
          updatedAt: time,
          firstEventType: request.events[0]?.type ?? "",
          metadata: {},
          rows: [],
        };
        state.version = current + rows.length;
        state.final = request.markFinal;
        state.updatedAt = time;
        if (request.streamMetadata !== undefined) state.metadata = { ...state.metadata, ...(JSON.parse(request.streamMetadata) as JsonObject) };
        state.rows.push(...rows);
        streams.set(streamId, state);
        log.push(...rows);
        wake.notify();
        // Decoded on first read: the engine only takes nextExpectedVersion.
        let decoded: StoredEvent[] | undefined;
        return {
          streamId,
          nextExpectedVersion: state.version,
          createdStream: existing === undefined,
          get events(): StoredEvent[] {
            return (decoded ??= rows.map(decodeEventRow));
          },
        };
      });
    },

    readStream(streamId: string, readOptions?: ReadStreamOptions): Promise<ReadStreamResult> {
      return settle(() => {
      assertOpen();
      const { fromVersion, maxCount } = readStreamRange(readOptions);
      return readChecked(streamId, streams.get(streamId), fromVersion, maxCount);
      });
    },

    readStreams(streamIds: readonly string[], readOptions?: ReadStreamsOptions): Promise<readonly ReadStreamResult[]> {
      return settle(() => {
        assertOpen();
        const { maxCount } = readStreamsArguments(streamIds, readOptions);
        // Checked in the order given, so the first damaged stream asked for is the one reported.
        return streamIds.map((streamId) => readChecked(streamId, streams.get(streamId), 1, maxCount));
      });
    },

    readAll,

    listStreams(listOptions: ListStreamsOptions = {}): Promise<readonly StreamSummary[]> {
      return settle(() => {
      assertOpen();
      const status = streamStatusOf(listOptions.status);
      const summaries: StreamSummary[] = [];
      for (const [streamId, state] of streams) {
        if ((status === "open" && state.final) || (status === "final" && !state.final)) continue;
        summaries.push({
          streamId,
          version: state.version,
          final: state.final,
          createdAt: state.createdAt,
          updatedAt: state.updatedAt,
          firstEventType: state.firstEventType,
          metadata: { ...state.metadata },
        });
      }
      // Map order is creation order already; the sort only makes ties by clock explicit like SQL's.
      summaries.sort((a, b) => a.createdAt - b.createdAt);
      return listOptions.limit === undefined ? summaries : summaries.slice(0, readAllLimit(listOptions.limit));
      });
    },

    subscribe(handler: EventHandler, subscribeOptions?: SubscribeOptions): Subscription {
      assertOpen();
      const subscription = startPollingSubscription({ readAll, wake }, handler, subscribeOptions);
      subscriptions.add(subscription);
      void subscription.done.finally(() => subscriptions.delete(subscription)).catch(() => undefined);
      return subscription;
    },

    coordination: coordinated.coordination,

    async close(): Promise<void> {
      closed = true;
      coordinated.close();
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
    },
  };
  internals.set(store, streams);
  return store;
}
