import type { JsonValue } from "./json.js";

/**
 * The right to write one stream, held by one instance at a time. Whoever holds the newest `token`
 * may append (see `AppendOptions.fence`); a holder that was paused past `expiresAt` finds its
 * appends refused with `LEASE_LOST` once the lease lapsed or changed hands.
 */
export interface Lease {
  readonly streamId: string;
  /** The instance holding it. */
  readonly owner: string;
  /** Fencing token: grows on every change of hands, never reused for the stream. */
  readonly token: number;
  /** When it lapses unless renewed, in the store's clock (ms since the epoch; the database's clock for SQL stores). */
  readonly expiresAt: number;
}

/** Options of {@link Coordination.claim}. */
export interface ClaimOptions {
  readonly owner: string;
  readonly ttlMs: number;
  /** At most this many leases (≥ 1). */
  readonly limit: number;
  /** Only streams whose first event has this type (e.g. `"session.requested"`). */
  readonly firstEventType?: string;
  /** Streams not to claim, whatever their lease: e.g. the ones this instance found damaged, so it does not take them up again every round. */
  readonly exclude?: readonly string[];
}

/** A request to whoever owns a stream, e.g. "submit this prompt" or "close". Imperative, not a fact. */
export interface NewCommand {
  /** Idempotency key: issuing the same id twice stores one command. */
  readonly commandId: string;
  readonly streamId: string;
  readonly type: string;
  readonly data: JsonValue;
}

/** A command as stored, waiting for the stream's owner to carry it out and `complete` it. */
export interface Command extends NewCommand {
  /** Store clock (ms) when it was first issued. */
  readonly issuedAt: number;
}

/** What {@link Coordination.announce} reports, for a fair share of the open streams. */
export interface ClusterView {
  /** Instances whose announcement has not lapsed, this one included. */
  readonly liveInstances: number;
  /** Open (non-final) streams, of `firstEventType` when given. */
  readonly openStreams: number;
}

/** Options of {@link Coordination.announce}. */
export interface AnnounceOptions {
  readonly ttlMs: number;
  readonly firstEventType?: string;
}

/** What {@link Coordination.onChange} reports; a hint to look, never the only signal (poll too). */
export type CoordinationChange = "command" | "lease";

/**
 * Ownership and messaging for several engine instances sharing one store: leases with fencing
 * tokens, an instance registry for fair shares, and a command inbox per stream. Domain-agnostic:
 * it knows streams, owners and JSON commands, not sessions.
 *
 * @example
 * ```ts
 * const lease = await store.coordination.acquire("session-1", "instance-a", 15_000);
 * if (lease) await store.append("session-1", events, { expectedVersion: 3, fence: lease });
 * ```
 */
export interface Coordination {
  /**
   * Takes the lease of a stream when it is free, lapsed, or already held by `owner` (a new token
   * either way). The stream need not exist yet: a new stream's lease is taken before its first
   * append. Returns `null` when another owner holds an unexpired lease, or the stream is final.
   */
  acquire(streamId: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /**
   * Takes up to `limit` leases of open streams that have no lease or a lapsed one, oldest stream
   * first. Concurrent claimers never get the same stream.
   */
  claim(options: ClaimOptions): Promise<readonly Lease[]>;
  /**
   * Extends the given leases that are still held as given (same owner and token, not lapsed) to
   * now + `ttlMs`. Returns the renewed leases; any lease not returned is lost.
   */
  renew(leases: readonly Lease[], ttlMs: number): Promise<readonly Lease[]>;
  /** Gives leases up at once (a graceful shutdown) so other instances can claim them. Idempotent. */
  release(leases: readonly Lease[]): Promise<void>;
  /** Registers or refreshes a live instance until now + `ttlMs`; reports the cluster's size. */
  announce(instanceId: string, options: AnnounceOptions): Promise<ClusterView>;
  /** Removes an instance from the registry (graceful shutdown). Idempotent. */
  retire(instanceId: string): Promise<void>;
  /** Stores a command for the stream's owner; a repeated `commandId` is a no-op. */
  issue(command: NewCommand): Promise<void>;
  /** Commands not yet completed for these streams, in the order they were issued. */
  pending(streamIds: readonly string[]): Promise<readonly Command[]>;
  /** Marks commands done (deletes them). Idempotent. */
  complete(commandIds: readonly string[]): Promise<void>;
  /**
   * Hints that commands arrived or leases were given up, from this or (where the store can tell,
   * e.g. PostgreSQL LISTEN/NOTIFY) another process. Returns an unsubscribe function.
   */
  onChange(listener: (change: CoordinationChange) => void): () => void;
}
