import { assertOwner, assertStreamId, type Fence } from "./appendRequest.js";
import { createChangeListeners } from "./changeListeners.js";
import type { AnnounceOptions, ClaimOptions, ClusterView, Command, Coordination, CoordinationChange, Lease, NewCommand } from "./coordination.js";
import { assertAnnounce, assertClaimOptions, assertTexts, assertTtl, encodeCommand, toLeaseKeys, type EncodedCommand, type LeaseKey } from "./coordinationArguments.js";
import type { JsonValue } from "./eventStore.js";
import { settle } from "./settle.js";

/** What the coordination needs to know of a stream of the in-memory store. */
export interface CoordinatedStream {
  readonly final: boolean;
  readonly createdAt: number;
  readonly firstEventType: string;
}

/** Options of {@link createInMemoryCoordination}. */
export interface InMemoryCoordinationOptions {
  /** The store's clock: lease and instance expiry are measured on it. */
  readonly now: () => number;
  /** The store's streams, read live (never copied). */
  readonly streams: ReadonlyMap<string, CoordinatedStream>;
  /** Throws `STORE_CLOSED` once the store is closed. */
  readonly assertOpen: () => void;
}

/** The in-memory coordination plus the one question the store's `append` asks it. */
export interface InMemoryCoordination {
  readonly coordination: Coordination;
  /** True while `fence` holds `streamId`: same owner and token, not lapsed. */
  holds(streamId: string, fence: Fence): boolean;
  /** Drops every `onChange` listener (the store closed). */
  close(): void;
}

interface LeaseState {
  owner: string;
  token: number;
  /** `-Infinity` once released: free at once, while the token stays for the next holder to exceed. */
  expiresAt: number;
}

interface StoredCommand extends EncodedCommand {
  readonly issuedAt: number;
}

/**
 * Leases, instance registry and command inbox over the in-memory store's streams, on its injected
 * clock. Everything runs synchronously, so each call is atomic by construction: that is what makes
 * this the reference for the SQL version's locking.
 *
 * @example
 * ```ts
 * const { coordination, holds } = createInMemoryCoordination({ now: Date.now, streams, assertOpen });
 * const lease = await coordination.acquire("s-1", "instance-a", 15_000);
 * holds("s-1", lease!); // true until it lapses or changes hands
 * ```
 */
export function createInMemoryCoordination(options: InMemoryCoordinationOptions): InMemoryCoordination {
  const { now, streams, assertOpen } = options;
  const leases = new Map<string, LeaseState>();
  const instances = new Map<string, number>();
  // Map order is issue order: `pending` lists commands as issued without a sequence column.
  const commands = new Map<string, StoredCommand>();
  const listeners = createChangeListeners();

  const live = (state: LeaseState | undefined, at: number): state is LeaseState => state !== undefined && state.expiresAt > at;
  const toLease = (streamId: string, state: LeaseState): Lease => ({ streamId, owner: state.owner, token: state.token, expiresAt: state.expiresAt });

  /** Hands the lease to `owner` with a new, larger token. */
  function take(streamId: string, owner: string, expiresAt: number): Lease {
    const state = leases.get(streamId);
    const next: LeaseState = { owner, token: (state?.token ?? 0) + 1, expiresAt };
    leases.set(streamId, next);
    return toLease(streamId, next);
  }

  const coordination: Coordination = {
    acquire(streamId: string, owner: string, ttlMs: number): Promise<Lease | null> {
      return settle(() => {
        assertOpen();
        assertStreamId(streamId);
        assertOwner(owner, streamId);
        assertTtl(ttlMs);
        const at = now();
        if (streams.get(streamId)?.final === true) return null;
        const state = leases.get(streamId);
        if (live(state, at) && state.owner !== owner) return null;
        return take(streamId, owner, at + ttlMs);
      });
    },

    claim(claimOptions: ClaimOptions): Promise<readonly Lease[]> {
      return settle(() => {
        assertOpen();
        assertClaimOptions(claimOptions);
        const at = now();
        const { firstEventType } = claimOptions;
        const excluded = new Set(claimOptions.exclude);
        const candidates: { streamId: string; createdAt: number }[] = [];
        for (const [streamId, stream] of streams) {
          if (stream.final || (firstEventType !== undefined && stream.firstEventType !== firstEventType) || excluded.has(streamId) || live(leases.get(streamId), at)) continue;
          candidates.push({ streamId, createdAt: stream.createdAt });
        }
        // The SQL stores' order exactly: creation time, then stream id.
        candidates.sort((a, b) => a.createdAt - b.createdAt || (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0));
        return candidates.slice(0, claimOptions.limit).map(({ streamId }) => take(streamId, claimOptions.owner, at + claimOptions.ttlMs));
      });
    },

    renew(held: readonly Lease[], ttlMs: number): Promise<readonly Lease[]> {
      return settle(() => {
        assertOpen();
        const keys = toLeaseKeys(held);
        assertTtl(ttlMs);
        const at = now();
        const renewed = new Map<string, Lease>();
        for (const key of keys) {
          const state = leases.get(key.streamId);
          if (!matches(state, key) || !live(state, at)) continue;
          state.expiresAt = at + ttlMs;
          renewed.set(key.streamId, toLease(key.streamId, state));
        }
        return [...renewed.values()];
      });
    },

    release(held: readonly Lease[]): Promise<void> {
      return settle(() => {
        assertOpen();
        let released = false;
        for (const key of toLeaseKeys(held)) {
          const state = leases.get(key.streamId);
          if (!matches(state, key) || state.expiresAt === Number.NEGATIVE_INFINITY) continue;
          state.expiresAt = Number.NEGATIVE_INFINITY;
          released = true;
        }
        if (released) listeners.emit("lease");
      });
    },

    announce(instanceId: string, announceOptions: AnnounceOptions): Promise<ClusterView> {
      return settle(() => {
        assertOpen();
        assertAnnounce(instanceId, announceOptions);
        const at = now();
        instances.set(instanceId, at + announceOptions.ttlMs);
        let liveInstances = 0;
        for (const [id, expiresAt] of instances) {
          if (expiresAt > at) liveInstances += 1;
          else instances.delete(id); // Lapsed registrations count for nothing; keep the map small.
        }
        let openStreams = 0;
        for (const stream of streams.values()) {
          if (!stream.final && (announceOptions.firstEventType === undefined || stream.firstEventType === announceOptions.firstEventType)) openStreams += 1;
        }
        return { liveInstances, openStreams };
      });
    },

    retire(instanceId: string): Promise<void> {
      return settle(() => {
        assertOpen();
        assertOwner(instanceId);
        instances.delete(instanceId);
      });
    },

    issue(command: NewCommand): Promise<void> {
      return settle(() => {
        assertOpen();
        const encoded = encodeCommand(command);
        if (commands.has(encoded.commandId)) return;
        commands.set(encoded.commandId, { ...encoded, issuedAt: now() });
        listeners.emit("command");
      });
    },

    pending(streamIds: readonly string[]): Promise<readonly Command[]> {
      return settle(() => {
        assertOpen();
        assertTexts(streamIds, "streamIds");
        const wanted = new Set(streamIds);
        const found: Command[] = [];
        for (const command of commands.values()) {
          if (!wanted.has(command.streamId)) continue;
          // Parsed per read, like events: every caller gets its own copy of the data.
          found.push({ commandId: command.commandId, streamId: command.streamId, type: command.type, data: JSON.parse(command.data) as JsonValue, issuedAt: command.issuedAt });
        }
        return found;
      });
    },

    complete(commandIds: readonly string[]): Promise<void> {
      return settle(() => {
        assertOpen();
        assertTexts(commandIds, "commandIds");
        for (const commandId of commandIds) commands.delete(commandId);
      });
    },

    onChange(listener: (change: CoordinationChange) => void): () => void {
      try {
        assertOpen();
      } catch {
        return () => undefined; // A closed store has no changes to report.
      }
      return listeners.add(listener);
    },
  };

  return {
    coordination,
    holds(streamId, fence) {
      const state = leases.get(streamId);
      return state !== undefined && state.owner === fence.owner && state.token === fence.token && live(state, now());
    },
    close() {
      listeners.clear();
    },
  };
}

function matches(state: LeaseState | undefined, key: LeaseKey): state is LeaseState {
  return state !== undefined && state.owner === key.owner && state.token === key.token;
}
