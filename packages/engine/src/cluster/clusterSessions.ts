import type { EventStore, Lease } from "@cloudsession/store";
import type { Clock } from "../clock.js";
import { decodeEvent } from "../eventCodec.js";
import { EngineError } from "../engineError.js";
import { mapWithConcurrency } from "../mapWithConcurrency.js";
import { READ_CONCURRENCY } from "../recovery.js";
import type { RunnerEnvironment } from "../runnerEnvironment.js";
import type { RuntimeConnectionManager } from "../runtimeConnection.js";
import { SessionFollower } from "../sessionFollower.js";
import type { SessionHandle } from "../sessionHandle.js";
import { readSessionLog } from "../sessionLogs.js";
import { SessionRunner } from "../sessionRunner.js";
import type { SessionRegistry } from "../sessionRegistry.js";
import { ClusterMember, type ClusterSettings } from "./clusterMember.js";

/** What a cluster member acts on in its engine. */
export interface ClusterEngine {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly runtime: RuntimeConnectionManager;
  readonly registry: SessionRegistry;
  /** Sessions this instance may own at once. */
  readonly capacity: number;
  /** The runners' environment (made after the member, which it names as `ownership`). */
  environment(): RunnerEnvironment;
  onError(error: unknown, sessionId: string): void;
  onOwnershipChange?: ((change: { sessionId: string; kind: "acquired" | "lost" | "released"; instanceId: string }) => void) | undefined;
}

/**
 * Cluster mode: the engine's part in a cluster. Sessions picked up here get a runner under their
 * lease; a session whose lease is lost keeps a follower here; commands for sessions owned here are
 * carried out by their runners; followers catch up with the log.
 */
export class ClusterSessions {
  readonly member: ClusterMember;
  /** Sessions being picked up here right now (a `resume` of one waits for it). */
  private readonly adoptions = new Map<string, Promise<void>>();

  constructor(
    private readonly engine: ClusterEngine,
    settings: ClusterSettings,
  ) {
    const coordination = engine.store.coordination;
    if (coordination === undefined) throw new EngineError("INVALID_ARGUMENT", "cluster mode needs a store with coordination (the PostgreSQL, PGlite and in-memory stores have it)");
    const { registry, runtime } = engine;
    this.member = new ClusterMember(coordination, settings, engine.clock, {
      capacity: engine.capacity,
      adopt: (lease) => this.adopt(lease.streamId, lease),
      lose(sessionId) {
        const runner = registry.body(sessionId);
        if (runner === undefined || runner.isFollower) return;
        void (async () => {
          await runner.detach();
          const read = await readSessionLog(engine.store, sessionId);
          if (registry.body(sessionId) === runner) registry.replace(SessionFollower.fromLog(engine.environment(), sessionId, read), read.log);
        })().catch((error: unknown) => engine.onError(error, sessionId));
      },
      async apply(sessionId, command) {
        const runner = registry.body(sessionId);
        return runner !== undefined && !runner.isFollower && (await runner.applyCommand(command));
      },
      async refreshFollowers() {
        await mapWithConcurrency(registry.activeFollowers(), READ_CONCURRENCY, async (follower) => {
          const stream = await engine.store.readStream(follower.id, { fromVersion: follower.appliedVersion + 1 });
          if (stream.events.length > 0 && registry.body(follower.id) === follower) follower.applyLogged(stream.events.map((row) => decodeEvent(row, row)), stream.version);
        });
      },
      onPause() {
        if (!runtime.canReconnect) return;
        // Synchronously: the old client's socket is destroyed before queued sends can be written.
        // The engine hears of it (runtime.onLost) and re-attaches the sessions it owns.
        void runtime.replace();
      },
      onError: (error, sessionId) => engine.onError(error, sessionId),
      onOwnershipChange(sessionId, kind) {
        engine.onOwnershipChange?.({ sessionId, kind, instanceId: settings.instanceId });
      },
    });
  }

  /** Own the session when it is free, follow it (and forward commands) when it is not. */
  async resume(id: string): Promise<SessionHandle> {
    const { registry } = this.engine;
    const adoption = this.adoptions.get(id);
    if (adoption !== undefined) {
      await adoption.catch(() => undefined);
      const handle = registry.handle(id);
      if (handle !== undefined) return handle;
    }
    const lease = await this.member.acquire(id);
    if (lease === null) {
      return registry.track(SessionFollower.fromLog(this.engine.environment(), id, await readSessionLog(this.engine.store, id)));
    }
    try {
      const { runner } = await SessionRunner.load(this.engine.environment(), id);
      runner.actUnder(lease);
      const handle = registry.track(runner);
      await runner.attach();
      return handle;
    } catch (error) {
      await this.member.release([id]).catch(() => undefined);
      throw error;
    }
  }

  /** One round of picking up free and orphaned sessions now; their handles. */
  async recover(): Promise<SessionHandle[]> {
    const leases = await this.member.pickUp();
    return leases.map((lease) => this.engine.registry.handle(lease.streamId)).filter((handle): handle is NonNullable<typeof handle> => handle !== undefined);
  }

  /** A session picked up here: a runner under its lease, restored from the log. */
  private async adopt(id: string, lease: Lease): Promise<void> {
    const { registry } = this.engine;
    const adoption = (async () => {
      const previous = registry.body(id);
      // Our own lapsed lease taken back: the old runner must not act beside the new one.
      if (previous && !previous.isFollower) await previous.detach();
      const { runner, log } = await SessionRunner.load(this.engine.environment(), id);
      runner.actUnder(lease);
      registry.replace(runner, log);
      await runner.attach();
    })();
    this.adoptions.set(id, adoption);
    try {
      await adoption;
    } finally {
      this.adoptions.delete(id);
    }
  }
}
