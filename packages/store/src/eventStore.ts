import type { Checkpoint } from "./checkpoint.js";
import type { Coordination, Lease } from "./coordination.js";
import type { ExpectedVersion } from "./expectedVersion.js";
import type { JsonObject, JsonValue } from "./json.js";

// The JSON types live in their own module so coordination can use them without importing the contract.
export type { JsonObject, JsonPrimitive, JsonValue } from "./json.js";

/** An event to append: a past-tense fact with JSON data. */
export interface NewEvent<Type extends string = string, Data extends JsonValue = JsonValue> {
  readonly type: Type;
  readonly data: Data;
  /** Correlation ids, causation, actor… Stored as given; `{}` when omitted. */
  readonly metadata?: JsonObject;
}

/** An event as recorded by the store. */
export interface StoredEvent<Type extends string = string, Data extends JsonValue = JsonValue> {
  readonly streamId: string;
  /** 1-based, contiguous within the stream. */
  readonly version: number;
  /**
   * Global sequence number, unique across the store. Increasing in commit order only *within* one
   * transaction: order events globally by {@link StoredEvent.checkpoint}, not by position.
   */
  readonly position: number;
  /** Where a reader resumes after this event; see {@link Checkpoint}. */
  readonly checkpoint: Checkpoint;
  readonly type: Type;
  readonly data: Data;
  readonly metadata: JsonObject;
  /** Milliseconds since the epoch, from the store's injected clock. */
  readonly recordedAt: number;
}

/** Options of {@link EventStore.append}. */
export interface AppendOptions {
  /** Optimistic concurrency check; defaults to `ANY`. */
  readonly expectedVersion?: ExpectedVersion;
  /** Mark the stream final (e.g. a finished session): later appends fail with `STREAM_FINAL`. */
  readonly markFinal?: boolean;
  /** Stream-level metadata, shallow-merged into the stream's summary (e.g. a title for `ls`). */
  readonly streamMetadata?: JsonObject;
  /**
   * Fencing: the append commits only while this lease (owner and token) still holds the stream and
   * has not lapsed; otherwise it fails with `LEASE_LOST` and writes nothing. See {@link Coordination}.
   */
  readonly fence?: Pick<Lease, "owner" | "token">;
}

/** What a successful append recorded. */
export interface AppendResult {
  readonly streamId: string;
  /** The stream's version after the append: pass it as the next `expectedVersion`. */
  readonly nextExpectedVersion: number;
  /** True when this append created the stream. */
  readonly createdStream: boolean;
  /** The events as stored, with versions, positions and checkpoints. */
  readonly events: readonly StoredEvent[];
}

/** Options of {@link EventStore.readStream}. */
export interface ReadStreamOptions {
  /** First version to return (inclusive); defaults to 1. */
  readonly fromVersion?: number;
  /** At most this many events; defaults to all. */
  readonly maxCount?: number;
}

/** A stream read. `exists` is false (and `version` 0) for a stream that has no events. */
export interface ReadStreamResult {
  readonly streamId: string;
  readonly exists: boolean;
  /** The stream's current version, whatever range was read. */
  readonly version: number;
  readonly final: boolean;
  readonly events: readonly StoredEvent[];
}

/** Options of {@link EventStore.readStreams}. */
export interface ReadStreamsOptions {
  /** At most this many events per stream, from version 1; defaults to all. */
  readonly maxCount?: number;
}

/** Options of {@link EventStore.readAll}. */
export interface ReadAllOptions {
  /** Return events strictly after this checkpoint; defaults to `START`. */
  readonly after?: Checkpoint;
  /** Page size; defaults to 1000. */
  readonly limit?: number;
}

/** One page of the global order. */
export interface ReadAllResult {
  readonly events: readonly StoredEvent[];
  /** Resume here: the last event's checkpoint, or the `after` you passed when the page is empty. */
  readonly checkpoint: Checkpoint;
  /** True when the page was full, so more events are probably ready. */
  readonly hasMore: boolean;
}

/** Which streams {@link EventStore.listStreams} returns. */
export type StreamStatus = "open" | "final" | "all";

/** Options of {@link EventStore.listStreams}. */
export interface ListStreamsOptions {
  /** Defaults to `"open"`: the non-final streams (live sessions). */
  readonly status?: StreamStatus;
  /** At most this many summaries; defaults to all. */
  readonly limit?: number;
}

/** A stream as listed by {@link EventStore.listStreams}, oldest first. */
export interface StreamSummary {
  readonly streamId: string;
  readonly version: number;
  readonly final: boolean;
  /** Clock time (ms) of the first append. */
  readonly createdAt: number;
  /** Clock time (ms) of the last append. */
  readonly updatedAt: number;
  /** Type of the stream's first event: tells a CLI what kind of stream it is. */
  readonly firstEventType: string;
  /** Merged {@link AppendOptions.streamMetadata}; `{}` when none was given. */
  readonly metadata: JsonObject;
}

/** Receives events in global order; the next event waits until the returned promise settles. */
export type EventHandler = (event: StoredEvent) => void | Promise<void>;

/** Options of {@link EventStore.subscribe}. */
export interface SubscribeOptions {
  /** Deliver events strictly after this checkpoint; defaults to `START` (everything). */
  readonly after?: Checkpoint;
  /** Fallback poll period for events written by other processes; defaults to 250 ms. */
  readonly pollIntervalMs?: number;
  /** Page size of each catch-up read; defaults to 500. */
  readonly batchSize?: number;
  /** Told about failed reads that will be retried, and the error that ended the subscription. */
  readonly onError?: (error: unknown) => void;
}

/** A live subscription. */
export interface Subscription {
  /**
   * Stops delivery: no handler call starts after this. Resolves once the loop has exited (so do
   * not await it from inside the handler). Idempotent.
   */
  close(): Promise<void>;
  /**
   * Settles when the subscription ends: resolves after `close()` or the store's `close()`, rejects
   * with the error when a handler throws or a read fails for good (e.g. `CORRUPTED_EVENT`).
   */
  readonly done: Promise<void>;
}

/**
 * The event store contract: one stream per session, optimistic concurrency per stream, one global
 * order for projections and subscribers. Domain-agnostic: the store knows streams and JSON, not
 * sessions.
 *
 * @example
 * ```ts
 * const store = createInMemoryStore();
 * const { nextExpectedVersion } = await store.append(
 *   "session-1",
 *   [{ type: "SessionCreated", data: { repo: "octo/app" } }],
 *   { expectedVersion: NO_STREAM },
 * );
 * const { events } = await store.readStream("session-1");
 * const sub = store.subscribe((event) => console.log(event.type));
 * await sub.close();
 * await store.close();
 * ```
 */
export interface EventStore {
  /**
   * Appends events atomically to one stream. It checks the stream row (its version is the
   * concurrency token), never the events before it, and only adds rows after that version: it never
   * changes or removes a stored event, so damage that reads report stays reported.
   *
   * @throws StoreError `VERSION_CONFLICT`, `STREAM_FINAL`, `LEASE_LOST` (with `fence`), `INVALID_ARGUMENT`, `STORE_CLOSED`;
   *   `CORRUPTED_LOG` when the versions it would write are already taken by events the stream row
   *   does not count (a stream row behind its events, or events without a stream row): it fails
   *   alone, writing nothing.
   */
  append(streamId: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /**
   * Reads one stream in version order, checked as it is read: versions contiguous (no gap, no
   * repeat), positions increasing with version, the stream row's version equal to the last event's,
   * no stream row without events and no events without a stream row. A partial read checks its
   * range, one event on each side of it and the stream row; a gap elsewhere is the concern of the
   * read that covers it. Accidental damage is caught, not forgery: a tail cut together with its
   * stream row reads as a shorter log.
   *
   * @throws StoreError `CORRUPTED_LOG` naming the stream and what is wrong (`details.streamId`,
   *   `details.version`: the first version where it shows), `CORRUPTED_EVENT` (a row that does not
   *   decode), `INVALID_ARGUMENT`, `STORE_CLOSED`.
   */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<ReadStreamResult>;
  /**
   * Reads many streams at once (e.g. every open session on recovery): one result per id, in the
   * order given, each what `readStream(id, options)` returns; a missing stream comes back with
   * `exists: false`, and a repeated id is answered each time. SQL adapters read up to 500 streams
   * per statement, so each such chunk is one consistent snapshot (the whole call is not). Each
   * stream is checked as `readStream` checks it; one damaged stream fails the whole call with its
   * own error (of several, the one asked for first) and no partial result: read the streams one by
   * one to have the others.
   *
   * @throws StoreError `INVALID_ARGUMENT` (ids not an array of strings, an id with NUL or an unpaired surrogate, a bad `maxCount`), `CORRUPTED_LOG`, `CORRUPTED_EVENT`, `STORE_CLOSED`.
   * @example
   * ```ts
   * const open = await store.listStreams({ status: "open" });
   * for (const { streamId, version, events } of await store.readStreams(open.map((s) => s.streamId))) {
   *   console.log(streamId, version, events.length);
   * }
   * ```
   */
  readStreams(streamIds: readonly string[], options?: ReadStreamsOptions): Promise<readonly ReadStreamResult[]>;
  /**
   * Reads the global order after a checkpoint. Never skips: an event that is not returned yet will
   * come after the returned checkpoint, even when its transaction started earlier.
   */
  readAll(options?: ReadAllOptions): Promise<ReadAllResult>;
  /** Lists stream summaries, oldest first; by default only the open (non-final) ones. */
  listStreams(options?: ListStreamsOptions): Promise<readonly StreamSummary[]>;
  /** Delivers every event after `options.after` in global order, exactly once, then follows new ones. */
  subscribe(handler: EventHandler, options?: SubscribeOptions): Subscription;
  /** Finishes queued appends, ends subscriptions, releases resources. Idempotent. */
  close(): Promise<void>;
  /**
   * Leases, instance registry and command inbox for several engine instances on one store. Every
   * adapter shipped here has it; a custom store without it can serve one instance only.
   */
  readonly coordination?: Coordination;
}
