import { checkRepository, checkSettings, resolveSettings, type SessionRequested, type SessionSettings, type Repository, type SessionLogEvent, type SessionSettingsInput } from "@cloudsession/machine";
import { createInMemoryStore, type EventStore, type JsonObject } from "@cloudsession/store";
import { approveAll, type CopilotClient, type CopilotClientOptions, type PermissionHandler } from "@github/copilot-sdk";
import { randomUUID } from "node:crypto";
import type { InspectionEvent } from "xstate";
import { MAX_TIMER_DELAY_MS, systemClock, type Clock } from "./clock.js";
import { EngineError, isEngineError } from "./engineError.js";
import { decodeEvent } from "./eventCodec.js";
import { mapInOrder } from "./mapInOrder.js";
import { RuntimeConnectionManager, type RuntimeTarget } from "./runtimeConnection.js";
import { ClusterMember, type ClusterSettings } from "./cluster/clusterMember.js";
import { SwitchableSessionHandle } from "./switchableSessionHandle.js";
import type { ProbePoint, RunnerEnvironment } from "./runnerEnvironment.js";
import type { SessionHandle } from "./sessionHandle.js";
import { SessionFollower } from "./sessionFollower.js";
import { SessionRunner } from "./sessionRunner.js";
import { Slots } from "./slots.js";
import { observeSession } from "./telemetry.js";
import { installPartialMessageTimerGuard } from "./partialMessageTimerGuard.js";
import { installTransportErrorGuard } from "./transportErrorGuard.js";

export interface EngineOptions {
  /** A started or startable SDK client you own. The engine never stops it. Over TCP, see `disableNagle`. */
  readonly client?: CopilotClient;
  /** A runtime already listening, e.g. `"127.0.0.1:4321"` (the simulator). The engine owns the client. */
  readonly runtimeUrl?: string;
  readonly connectionToken?: string;
  /** Spawn the runtime with these client options (live mode). The engine owns it. */
  readonly clientOptions?: CopilotClientOptions;
  /** Where the log goes. Defaults to an in-memory store (nothing survives the process). */
  readonly store?: EventStore;
  readonly clock?: Clock;
  /** Time limits and retry policy for new sessions (a session can override them). */
  readonly timeouts?: Omit<SessionSettingsInput, "retry">;
  readonly retry?: SessionSettingsInput["retry"];
  /** Sessions holding a runtime session at once; the rest wait in a fair line. Default 64. */
  readonly maxConcurrent?: number;
  /**
   * Set as the runtime's `GITHUB_COPILOT_INTEGRATION_ID` when the engine spawns it, and recorded in
   * each session's log. With an external runtime it belongs to that runtime's environment.
   */
  readonly integrationId?: string;
  /** Set as the runtime's `COPILOT_MC_BASE_URL` when the engine spawns it; recorded likewise. */
  readonly missionControlBaseUrl?: string;
  /** Record every `assistant.message_delta` in the log (default: no, deltas are live only). */
  readonly persistDeltas?: boolean;
  /** Answers the runtime's permission prompts. Default: approve (cloud sessions run on GitHub's compute). */
  readonly onPermissionRequest?: PermissionHandler;
  /** How often a live connection is checked, in ms (0 turns it off). Default 5,000. */
  readonly heartbeatMs?: number;
  /** Ids for sessions and prompts; random UUIDs by default. */
  readonly newId?: (kind: "session" | "prompt") => string;
  /** Randomness for retry jitter; `Math.random` by default. */
  readonly random?: () => number;
  /** Errors that no session can report (the store failing under a running session). Default: console.error. */
  readonly onError?: (error: unknown, sessionKey: string) => void;
  /**
   * XState inspection of every session actor (`createActor(…, { inspect })`), e.g. the Stately
   * inspector's `inspector.inspect`. Events and snapshots carry prompt texts: sanitize before sending.
   */
  readonly inspect?: (event: InspectionEvent) => void;
  /** Fault injection for crash tests: called at each labelled point of the write-ahead protocol. */
  readonly probe?: (point: ProbePoint, sessionKey: string) => void;
  /**
   * Run as one of several instances sharing the store (PostgreSQL): each session is owned through a
   * lease, free and orphaned sessions are picked up automatically, and commands for sessions owned
   * elsewhere travel through the store. Needs a store with `coordination`.
   */
  readonly cluster?: ClusterOptions;
}

/** Options of {@link EngineOptions.cluster}. */
export interface ClusterOptions {
  /** This instance's name in leases; unique among running instances. Default: a random UUID. */
  readonly instanceId?: string;
  /** Lease time to live in ms: a stopped instance's sessions are taken over within it. Default 15,000. */
  readonly leaseTtlMs?: number;
  /** How often to look for free sessions and commands when no notification came, in ms. Default 1,000. */
  readonly pollMs?: number;
  /** Told when this instance takes, loses or gives up a session. */
  readonly onOwnershipChange?: (change: OwnershipChange) => void;
}

/** A change of a session's owner, as seen by this instance. */
export interface OwnershipChange {
  readonly sessionId: string;
  /** `acquired`: started or picked up here; `lost`: the lease lapsed or was taken (writes refused); `released`: given up on close. */
  readonly kind: "acquired" | "lost" | "released";
  readonly instanceId: string;
}

export interface StartOptions {
  readonly repository: Repository;
  /** Prompts queued at once, in order. */
  readonly prompts?: readonly string[];
  /** Per-session overrides of the engine's time limits. */
  readonly settings?: SessionSettingsInput;
  /** Aborting it closes the session (queued prompts are reported undelivered). */
  readonly signal?: AbortSignal;
  /**
   * Run a local session in the runtime's own process instead of a cloud one (no `cloud` option on
   * create). `repository` still names the session.
   */
  readonly local?: { readonly workingDirectory?: string };
}

export interface CloseOptions {
  /**
   * `detach` (default): stop acting and leave every open session recoverable from the log;
   * `close`: end every open session first (queued prompts reported undelivered).
   */
  readonly sessions?: "detach" | "close";
}

export interface Engine {
  /** Starts a cloud session; the handle is returned at once, in state `reserving`. */
  start(options: StartOptions): SessionHandle;
  /** Continues a session from its log, e.g. in a new process; no `cloud` is passed on resume. */
  resume(id: string): Promise<SessionHandle>;
  /** Continues every open (non-final) session in the store. */
  recover(): Promise<SessionHandle[]>;
  get(id: string): SessionHandle | undefined;
  /** The session's whole log, from the store. */
  history(id: string): Promise<SessionLogEvent[]>;
  readonly sessions: readonly SessionHandle[];
  /** Waits until every recorded event is in the store. */
  settled(): Promise<void>;
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Creates an engine: the lifecycle machine around a real Copilot SDK client, with every fact in an
 * event log.
 *
 * @example
 * const engine = createEngine({ runtimeUrl: simulator.url });
 * const session = engine.start({ repository: { owner: "octo", name: "demo" }, prompts: ["Hello"] });
 * const outcome = await session.outcome;
 */
export function createEngine(options: EngineOptions = {}): Engine {
  const clock = options.clock ?? systemClock;
  const newId = options.newId ?? (() => randomUUID());
  const store = options.store ?? createInMemoryStore();
  const runtime = new RuntimeConnectionManager(runtimeTarget(options), {
    ...(options.integrationId === undefined ? {} : { integrationId: options.integrationId }),
    ...(options.missionControlBaseUrl === undefined ? {} : { missionControlBaseUrl: options.missionControlBaseUrl }),
  });
  const maxConcurrent = options.maxConcurrent ?? 64;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new EngineError("INVALID_ARGUMENT", "maxConcurrent must be a positive integer");
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  if (typeof heartbeatMs !== "number" || !Number.isFinite(heartbeatMs) || heartbeatMs < 0 || heartbeatMs > MAX_TIMER_DELAY_MS) {
    throw new EngineError("INVALID_ARGUMENT", `heartbeatMs must be a number of milliseconds from 0 (off) to ${MAX_TIMER_DELAY_MS}, got ${String(heartbeatMs)}`);
  }
  // The engine-wide defaults are checked here, so a bad one fails at construction, not at the first start().
  settingsOrThrow({ ...options.timeouts, retry: { ...options.retry } }, "timeouts and retry");
  /** The runners acting (or, in cluster mode, following) here. */
  const runners = new Map<string, SessionRunner | SessionFollower>();
  /** What users hold: a handle that survives a change of runner (of owner, or a revival after a failed append). */
  const handles = new Map<string, SwitchableSessionHandle>();
  let closed = false;
  const onBackgroundError = options.onError ?? ((error: unknown, key: string) => console.error(`cloudsession: session ${key}:`, error));
  /** Single instance: per session, the log version at its last revival and how many came since without progress. */
  const revivals = new Map<string, { version: number; round: number }>();
  /** Cluster mode: sessions being picked up here right now (a `resume` of one waits for it). */
  const adoptions = new Map<string, Promise<void>>();
  const member = options.cluster === undefined ? undefined : joinCluster(options.cluster);

  const env: RunnerEnvironment = {
    store,
    clock,
    random: options.random ?? Math.random,
    newPromptId: () => newId("prompt"),
    runtime,
    slots: new Slots(maxConcurrent),
    persistDeltas: options.persistDeltas ?? false,
    onPermissionRequest: options.onPermissionRequest ?? approveAll,
    onBackgroundError,
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    probe: options.probe,
    ...(member === undefined ? { onAppendFailed: (id: string) => reviveFromLog(id) } : { ownership: member }),
  };
  const identity: JsonObject = {
    ...(options.integrationId === undefined ? {} : { integrationId: options.integrationId }),
    ...(options.missionControlBaseUrl === undefined ? {} : { missionControlBaseUrl: options.missionControlBaseUrl }),
  };

  if (runtime.canReconnect) installTransportErrorGuard();
  installPartialMessageTimerGuard();
  const heartbeat = startHeartbeat(heartbeatMs);

  function startHeartbeat(periodMs: number): { stop(): void } {
    if (periodMs <= 0 || !runtime.canReconnect) return { stop: () => undefined };
    let handle: unknown;
    let beating = false;
    let slowAnswers = 0;
    const beat = async () => {
      if (closed || beating) return;
      beating = true;
      try {
        const live = [...runners.values()].filter((runner): runner is SessionRunner => !runner.isFollower && runner.sessionId !== null && runner.snapshot().status === "active");
        // Events flowing prove the connection alive; a ping queued behind thousands of requests
        // would only measure the load, so ping a quiet connection only.
        const quiet = clock.now() - runtime.lastActivity >= periodMs;
        const health = live.length === 0 || !quiet ? "ok" : await runtime.health(Math.max(5_000, 2 * periodMs));
        slowAnswers = health === "timeout" ? slowAnswers + 1 : 0;
        // A refused ping means the connection is gone; one slow answer may be a busy event loop.
        if (health === "failed" || slowAnswers >= 2) {
          slowAnswers = 0;
          await runtime.replace();
          await Promise.all(live.map((runner) => runner.onClientReplaced()));
        }
      } finally {
        beating = false;
        if (!isClosed()) handle = clock.setTimeout(() => void beat(), periodMs);
      }
    };
    handle = clock.setTimeout(() => void beat(), periodMs);
    return { stop: () => clock.clearTimeout(handle) };
  }

  // A function, so a check after an await reads the current value.
  function isClosed(): boolean {
    return closed;
  }

  function assertOpen(): void {
    if (closed) throw new EngineError("ENGINE_CLOSED", "the engine is closed");
  }

  function track(runner: SessionRunner | SessionFollower): SessionHandle {
    runners.set(runner.id, runner);
    const handle = new SwitchableSessionHandle(runner);
    handles.set(runner.id, handle);
    observeSession(handle); // OpenTelemetry through the public handle; a no-op unless the host set it up
    void handle.outcome.then(() => {
      handles.delete(runner.id);
      runners.delete(runner.id);
      revivals.delete(runner.id);
    });
    whenDone(runner);
    return handle;
  }

  /** Cluster mode: an owner that finishes gives its lease back. */
  function whenDone(runner: SessionRunner | SessionFollower): void {
    if (member === undefined) return;
    void runner.outcome.then(() => {
      if (!runner.isFollower) void member.release([runner.id]).catch((error: unknown) => onBackgroundError(error, runner.id));
    });
  }

  /**
   * Single instance: a session whose runner stopped on a failed append (its machine is ahead of the
   * log) is continued by a new runner restored from the log, once the store answers again: the
   * handle re-submits the prompts it sent that the log lacks, and a close; the session's history
   * on the runtime settles the rest. Waits double from 0.5 s to 10 s while the store stays away and
   * while a revived session keeps failing without getting any further in its log.
   */
  function reviveFromLog(id: string): void {
    const failed = runners.get(id);
    if (failed === undefined || failed.isFollower || closed) return;
    const previous = revivals.get(id);
    const progressed = previous === undefined || failed.appliedVersion > previous.version;
    const round = progressed ? 0 : previous.round + 1;
    revivals.set(id, { version: failed.appliedVersion, round });
    void (async () => {
      await failed.detach();
      for (let attempt = round; ; attempt++) {
        await new Promise<void>((resolve) => clock.setTimeout(resolve, Math.min(REVIVE_MAX_WAIT_MS, REVIVE_FIRST_WAIT_MS * 2 ** attempt)));
        if (isClosed() || runners.get(id) !== failed) return;
        let loaded: Awaited<ReturnType<typeof load>> | undefined;
        try {
          loaded = await load(id);
        } catch (error) {
          // Never written (its first append failed): the session begins again. Otherwise the
          // store is still away (its failure was reported when the append failed): wait on.
          if (!isEngineError(error, "SESSION_NOT_FOUND") || failed.appliedVersion > 0) continue;
        }
        if (isClosed() || runners.get(id) !== failed) return;
        if (loaded === undefined) {
          replaceRunner(SessionRunner.beginAgain(env, failed, identity), []);
          return;
        }
        replaceRunner(loaded.runner, loaded.log);
        await loaded.runner.attach();
        return;
      }
    })().catch((error: unknown) => onBackgroundError(error, id));
  }

  /** `runner` now stands for its session here, after `previous` (if any): a change of owner, or a revival. */
  function replaceRunner(runner: SessionRunner | SessionFollower, log: readonly SessionLogEvent[]): SessionHandle {
    const handle = handles.get(runner.id);
    const previous = runners.get(runner.id);
    if (handle === undefined || previous === undefined) return track(runner);
    runners.set(runner.id, runner);
    // An owner's runner was detached before this; a follower only stops forwarding (the handle
    // passes its unconfirmed prompts and a close on to the new runner).
    if (previous.isFollower) previous.retire();
    handle.switchTo(runner, log.slice(previous.appliedVersion));
    whenDone(runner);
    return handle;
  }

  function joinCluster(cluster: NonNullable<EngineOptions["cluster"]>): ClusterMember {
    const coordination = store.coordination;
    if (coordination === undefined) throw new EngineError("INVALID_ARGUMENT", "cluster mode needs a store with coordination (the PostgreSQL, PGlite and in-memory stores have it)");
    const settings = clusterSettings(cluster);
    const notify = cluster.onOwnershipChange;
    return new ClusterMember(coordination, settings, clock, {
      capacity: maxConcurrent,
      async adopt(lease) {
        const adoption = (async () => {
          const previous = runners.get(lease.streamId);
          // Our own lapsed lease taken back: the old runner must not act beside the new one.
          if (previous && !previous.isFollower) await previous.detach();
          const { runner, log } = await load(lease.streamId);
          runner.actUnder(lease);
          replaceRunner(runner, log);
          await runner.attach();
        })();
        adoptions.set(lease.streamId, adoption);
        try {
          await adoption;
        } finally {
          adoptions.delete(lease.streamId);
        }
      },
      lose(sessionId) {
        const runner = runners.get(sessionId);
        if (runner === undefined || runner.isFollower) return;
        void (async () => {
          await runner.detach();
          const { log, version } = await readLog(sessionId);
          if (runners.get(sessionId) === runner) replaceRunner(SessionFollower.fromLog(env, sessionId, log, version), log);
        })().catch((error: unknown) => onBackgroundError(error, sessionId));
      },
      async apply(sessionId, command) {
        const runner = runners.get(sessionId);
        return runner !== undefined && !runner.isFollower && (await runner.applyCommand(command));
      },
      async refreshFollowers() {
        const followers = [...runners.values()].filter((runner): runner is SessionFollower => runner.isFollower && runner.snapshot().status === "active");
        await mapWithConcurrency(followers, RECOVERY_READ_CONCURRENCY, async (runner) => {
          const stream = await store.readStream(runner.id, { fromVersion: runner.appliedVersion + 1 });
          if (stream.events.length > 0 && runners.get(runner.id) === runner) runner.applyLogged(stream.events.map((row) => decodeEvent(row, row)), stream.version);
        });
      },
      onPause() {
        if (!runtime.canReconnect) return;
        // Synchronously: the old client's socket is destroyed before queued sends can be written.
        const replaced = runtime.replace();
        void replaced.then(() => Promise.all([...runners.values()].filter((runner) => !runner.isFollower).map((runner) => runner.onClientReplaced())));
      },
      onError: onBackgroundError,
      onOwnershipChange(sessionId, kind) {
        notify?.({ sessionId, kind, instanceId: settings.instanceId });
      },
    });
  }

  async function readLog(id: string): Promise<{ log: SessionLogEvent[]; version: number }> {
    const stream = await store.readStream(id);
    if (!stream.exists) throw new EngineError("SESSION_NOT_FOUND", `no session ${id} in the store`);
    return { log: stream.events.map((row) => decodeEvent(row, row)), version: stream.version };
  }

  async function load(id: string): Promise<{ runner: SessionRunner; log: SessionLogEvent[] }> {
    const { log, version } = await readLog(id);
    return { runner: SessionRunner.restore(env, id, log, version), log };
  }

  /** Cluster mode: own the session when it is free, follow it (and forward commands) when it is not. */
  async function resumeInCluster(cluster: ClusterMember, id: string): Promise<SessionHandle> {
    const adoption = adoptions.get(id);
    if (adoption !== undefined) {
      await adoption.catch(() => undefined);
      const handle = handles.get(id);
      if (handle !== undefined) return handle;
    }
    const lease = await cluster.acquire(id);
    if (lease === null) {
      const { log, version } = await readLog(id);
      return track(SessionFollower.fromLog(env, id, log, version));
    }
    try {
      const { runner } = await load(id);
      runner.actUnder(lease);
      const handle = track(runner);
      await runner.attach();
      return handle;
    } catch (error) {
      await cluster.release([id]).catch(() => undefined);
      throw error;
    }
  }

  member?.start();

  const engine: Engine = {
    start(request) {
      assertOpen();
      const check = checkRepository(request.repository);
      if (!check.ok) throw new EngineError("INVALID_REPOSITORY", check.message);
      const prompts = request.prompts ?? [];
      if (prompts.some((prompt) => typeof prompt !== "string" || prompt.trim() === "")) {
        throw new EngineError("INVALID_ARGUMENT", "prompts must be non-empty strings");
      }
      const settings = settingsOrThrow(
        {
          ...options.timeouts,
          ...request.settings,
          retry: { ...options.retry, ...request.settings?.retry },
        },
        "settings",
      );
      const id = newId("session");
      // Cluster mode: the new session is owned here; its lease is taken before its first append.
      const gate =
        member === undefined
          ? undefined
          : async (runner: SessionRunner) => {
              const lease = await member.acquire(id);
              if (lease === null) throw new EngineError("SESSION_OWNED_ELSEWHERE", `session ${id} is already leased by another instance`);
              runner.actUnder(lease);
            };
      // The runner exists synchronously so the handle is usable at once; its first commit is queued.
      const runner = SessionRunner.begin(env, id, sessionRequest(check.repository, settings, request.local, clock.now()), prompts, identity, gate);
      const handle = track(runner);
      if (request.signal) {
        const signal = request.signal;
        const abort = () => void handle.close("aborted by signal");
        if (signal.aborted) abort();
        else {
          signal.addEventListener("abort", abort, { once: true });
          void handle.outcome.then(() => signal.removeEventListener("abort", abort));
        }
      }
      return handle;
    },

    async resume(id) {
      assertOpen();
      const existing = handles.get(id);
      if (existing) return existing;
      if (member !== undefined) return resumeInCluster(member, id);
      const { runner } = await load(id);
      const handle = track(runner);
      await runner.attach();
      return handle;
    },

    async recover() {
      assertOpen();
      if (member !== undefined) {
        // Cluster mode picks sessions up by itself; this runs one round now.
        const leases = await member.pickUp();
        return leases.map((lease) => handles.get(lease.streamId)).filter((handle): handle is SwitchableSessionHandle => handle !== undefined);
      }
      const open = await store.listStreams({ status: "open" });
      const candidates = open.filter((summary) => summary.firstEventType === "session.requested" && !runners.has(summary.streamId));
      const recoveredHandles: SessionHandle[] = [];
      const attaching: Promise<void>[] = [];
      // Logs are read `batchSize` streams per store call (one query on SQL stores, instead of one
      // per session), `batchesInFlight` calls at a time so decoding one batch overlaps reading the next.
      const batchSize = 250;
      const batchesInFlight = 2;
      const batches: string[][] = [];
      for (let start = 0; start < candidates.length; start += batchSize) batches.push(candidates.slice(start, start + batchSize).map((summary) => summary.streamId));
      const restore = (stream: Awaited<ReturnType<EventStore["readStreams"]>>[number]): SessionRunner | undefined => {
        try {
          if (!stream.exists) throw new EngineError("SESSION_NOT_FOUND", `no session ${stream.streamId} in the store`);
          return SessionRunner.restore(env, stream.streamId, stream.events.map((row) => decodeEvent(row, row)), stream.version);
        } catch (error) {
          // One unreadable log stops its own session, not the recovery of the others.
          env.onBackgroundError(error, stream.streamId);
          return undefined;
        }
      };
      const loadBatch = async (ids: readonly string[]): Promise<(SessionRunner | undefined)[]> => {
        if (isClosed()) return [];
        try {
          return (await store.readStreams(ids)).map(restore);
        } catch {
          // One bad log (e.g. a corrupted event) fails the whole batch read: read its streams one by
          // one, so only the bad ones are reported and skipped.
          return mapWithConcurrency(ids, RECOVERY_READ_CONCURRENCY, async (id) => {
            try {
              return restore(await store.readStream(id));
            } catch (error) {
              env.onBackgroundError(error, id);
              return undefined;
            }
          });
        }
      };
      // Each session is attached as soon as its log and every earlier one are in: reading overlaps
      // re-attaching, and sessions are tracked and line up for a slot in the store's order (oldest
      // first), so the concurrency line stays first come, first served.
      await mapInOrder(batches, batchesInFlight, loadBatch, (restored) => {
        for (const runner of restored) {
          // Resumed by hand while its log was read, or the engine closed meanwhile: not ours to start.
          if (runner === undefined || isClosed() || runners.has(runner.id)) continue;
          recoveredHandles.push(track(runner));
          attaching.push(runner.attach());
        }
      });
      await Promise.all(attaching);
      return recoveredHandles;
    },

    get(id) {
      return handles.get(id);
    },

    async history(id) {
      const stream = await store.readStream(id);
      if (!stream.exists) throw new EngineError("SESSION_NOT_FOUND", `no session ${id} in the store`);
      return stream.events.map((row) => decodeEvent(row, row));
    },

    get sessions() {
      return [...handles.values()];
    },

    async settled() {
      await Promise.all([...runners.values()].map((runner) => runner.settled()));
    },

    async close(closeOptions = {}) {
      if (closed) return;
      const all = [...runners.values()];
      const owned = all.filter((runner) => !runner.isFollower);
      if (closeOptions.sessions === "close") await Promise.all(owned.map((runner) => runner.closeForShutdown("engine closed")));
      closed = true;
      heartbeat.stop();
      await member?.halt();
      await Promise.all(all.map((runner) => runner.detach()));
      // Leases go back only after the last append: other instances take over at once.
      await member?.leave();
      await runtime.stop();
    },
  };
  return engine;
}

/** The first wait before a session whose append failed is continued from its log (single instance). */
const REVIVE_FIRST_WAIT_MS = 500;
/** The longest wait between two tries at continuing it. */
const REVIVE_MAX_WAIT_MS = 10_000;

/** Logs read at once during recovery: enough to hide the store's round trips, few enough for a pool. */
const RECOVERY_READ_CONCURRENCY = 16;

/** `Promise.all` over `items` with at most `limit` calls in flight; results keep the input order. */
async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Resolved settings, or `INVALID_ARGUMENT` naming the bad one (`where` says which option it came from). */
function settingsOrThrow(input: SessionSettingsInput, where: string): SessionSettings {
  const settings = resolveSettings(input);
  const check = checkSettings(settings);
  if (!check.ok) throw new EngineError("INVALID_ARGUMENT", `${where}: ${check.message}`);
  return settings;
}

function sessionRequest(repository: Repository, settings: SessionSettings, local: StartOptions["local"], at: number): SessionRequested {
  if (local === undefined) return { type: "session.requested", repository, settings, at };
  const { workingDirectory } = local;
  return workingDirectory === undefined
    ? { type: "session.requested", repository, settings, mode: "local", at }
    : { type: "session.requested", repository, settings, mode: "local", workingDirectory, at };
}

function runtimeTarget(options: EngineOptions): RuntimeTarget {
  const given = [options.client, options.runtimeUrl, options.clientOptions].filter((value) => value !== undefined).length;
  if (given > 1) throw new EngineError("INVALID_ARGUMENT", "give one of client, runtimeUrl and clientOptions");
  if (options.client) return { kind: "client", client: options.client };
  if (options.runtimeUrl !== undefined) {
    return options.connectionToken === undefined ? { kind: "uri", url: options.runtimeUrl } : { kind: "uri", url: options.runtimeUrl, connectionToken: options.connectionToken };
  }
  return { kind: "spawn", options: options.clientOptions ?? {} };
}

const DEFAULT_LEASE_TTL_MS = 15_000;
const DEFAULT_POLL_MS = 1_000;

function clusterSettings(cluster: NonNullable<EngineOptions["cluster"]>): ClusterSettings {
  const leaseTtlMs = cluster.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const pollMs = cluster.pollMs ?? DEFAULT_POLL_MS;
  const instanceId = cluster.instanceId ?? randomUUID();
  if (!Number.isInteger(leaseTtlMs) || leaseTtlMs < 500) throw new EngineError("INVALID_ARGUMENT", "cluster.leaseTtlMs must be an integer of at least 500 ms");
  if (!Number.isInteger(pollMs) || pollMs < 10) throw new EngineError("INVALID_ARGUMENT", "cluster.pollMs must be an integer of at least 10 ms");
  if (typeof instanceId !== "string" || instanceId.trim() === "") throw new EngineError("INVALID_ARGUMENT", "cluster.instanceId must be a non-empty string");
  return { instanceId, leaseTtlMs, pollMs };
}
