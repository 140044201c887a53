import { toAppendRequest } from "./appendRequest.js";
import { START, parseCheckpoint } from "./checkpoint.js";
import { decodeEventRow, type EventRow } from "./eventRow.js";
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

interface StreamState {
  version: number;
  final: boolean;
  readonly createdAt: number;
  updatedAt: number;
  readonly firstEventType: string;
  metadata: JsonObject;
  readonly rows: EventRow[];
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
  const streams = new Map<string, StreamState>();
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

  return {
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
        const state: StreamState = existing ?? {
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
      const state = streams.get(streamId);
      const rows = state?.rows.slice(fromVersion - 1, maxCount === undefined ? undefined : fromVersion - 1 + maxCount) ?? [];
      return { streamId, exists: state !== undefined, version: state?.version ?? 0, final: state?.final ?? false, events: rows.map(decodeEventRow) };
      });
    },

    readStreams(streamIds: readonly string[], readOptions?: ReadStreamsOptions): Promise<readonly ReadStreamResult[]> {
      return settle(() => {
        assertOpen();
        const { maxCount } = readStreamsArguments(streamIds, readOptions);
        return streamIds.map((streamId): ReadStreamResult => {
          const state = streams.get(streamId);
          const rows = state?.rows.slice(0, maxCount) ?? [];
          return { streamId, exists: state !== undefined, version: state?.version ?? 0, final: state?.final ?? false, events: rows.map(decodeEventRow) };
        });
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
}
