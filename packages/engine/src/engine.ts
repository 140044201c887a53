import { checkRepository, type SessionLogEvent } from "@cloudsession/machine";
import { createInMemoryStore, type JsonObject } from "@cloudsession/store";
import { approveAll } from "@github/copilot-sdk";
import { randomUUID } from "node:crypto";
import { systemClock } from "./clock.js";
import { ClusterSessions } from "./cluster/clusterSessions.js";
import { EngineError } from "./engineError.js";
import { clusterSettings, heartbeatMsOf, maxConcurrentOf, runtimeTarget, sessionRequest, settingsOrThrow, type CloseOptions, type EngineOptions, type StartOptions } from "./engineOptions.js";
import { startHeartbeat } from "./heartbeat.js";
import { installPartialMessageTimerGuard } from "./partialMessageTimerGuard.js";
import { recoverOpenSessions } from "./recovery.js";
import { Revival } from "./revival.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import { RuntimeConnectionManager } from "./runtimeConnection.js";
import type { SessionHandle } from "./sessionHandle.js";
import { loadRunner, readSessionLog } from "./sessionLogs.js";
import { SessionRegistry } from "./sessionRegistry.js";
import { SessionRunner } from "./sessionRunner.js";
import { Slots } from "./slots.js";
import { installTransportErrorGuard } from "./transportErrorGuard.js";

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
  const maxConcurrent = maxConcurrentOf(options);
  const heartbeatMs = heartbeatMsOf(options);
  // The engine-wide defaults are checked here, so a bad one fails at construction, not at the first start().
  settingsOrThrow({ ...options.timeouts, retry: { ...options.retry } }, "timeouts and retry");
  let closed = false;
  // A function, so a check after an await reads the current value.
  const isClosed = () => closed;
  const onBackgroundError = options.onError ?? ((error: unknown, key: string) => console.error(`cloudsession: session ${key}:`, error));
  const identity: JsonObject = {
    ...(options.integrationId === undefined ? {} : { integrationId: options.integrationId }),
    ...(options.missionControlBaseUrl === undefined ? {} : { missionControlBaseUrl: options.missionControlBaseUrl }),
  };
  const registry = new SessionRegistry(
    (id) => revival?.forget(id),
    (body) => {
      // Cluster mode: an owner that finishes gives its lease back.
      if (cluster === undefined || body.isFollower) return;
      const member = cluster.member;
      void body.outcome.then(() => member.release([body.id]).catch((error: unknown) => onBackgroundError(error, body.id)));
    },
  );
  const cluster =
    options.cluster === undefined
      ? undefined
      : new ClusterSessions(
          { store, clock, runtime, registry, capacity: maxConcurrent, environment: () => env, onError: onBackgroundError, onOwnershipChange: options.cluster.onOwnershipChange },
          clusterSettings(options.cluster),
        );
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
    ...(cluster === undefined ? { onAppendFailed: (id: string) => revival?.revive(id) } : { ownership: cluster.member }),
  };
  // Single instance: a session whose append failed is continued from its log (cluster mode moves it to another owner).
  const revival = cluster === undefined ? new Revival(env, registry, identity, isClosed) : undefined;

  if (runtime.canReconnect) installTransportErrorGuard();
  installPartialMessageTimerGuard();
  const heartbeat = startHeartbeat(heartbeatMs, {
    clock,
    runtime,
    isClosed,
    liveSessions: () => registry.owners().filter((runner) => runner.sessionId !== null && runner.snapshot().status === "active"),
  });

  function assertOpen(): void {
    if (closed) throw new EngineError("ENGINE_CLOSED", "the engine is closed");
  }

  cluster?.member.start();

  const engine: Engine = {
    start(request) {
      assertOpen();
      const check = checkRepository(request.repository);
      if (!check.ok) throw new EngineError("INVALID_REPOSITORY", check.message);
      const prompts = request.prompts ?? [];
      if (prompts.some((prompt) => typeof prompt !== "string" || prompt.trim() === "")) {
        throw new EngineError("INVALID_ARGUMENT", "prompts must be non-empty strings");
      }
      const settings = settingsOrThrow({ ...options.timeouts, ...request.settings, retry: { ...options.retry, ...request.settings?.retry } }, "settings");
      const id = newId("session");
      // Cluster mode: the new session is owned here; its lease is taken before its first append.
      const member = cluster?.member;
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
      const handle = registry.track(runner);
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
      const existing = registry.handle(id);
      if (existing) return existing;
      if (cluster !== undefined) return cluster.resume(id);
      const { runner } = await loadRunner(env, id);
      const handle = registry.track(runner);
      await runner.attach();
      return handle;
    },

    async recover() {
      assertOpen();
      // Cluster mode picks sessions up by itself; this runs one round now.
      if (cluster !== undefined) return cluster.recover();
      return recoverOpenSessions(env, registry, isClosed);
    },

    get(id) {
      return registry.handle(id);
    },

    async history(id) {
      return (await readSessionLog(store, id)).log;
    },

    get sessions() {
      return registry.allHandles();
    },

    async settled() {
      await Promise.all(registry.all().map((body) => body.settled()));
    },

    async close(closeOptions = {}) {
      if (closed) return;
      const all = registry.all();
      if (closeOptions.sessions === "close") await Promise.all(registry.owners().map((runner) => runner.closeForShutdown("engine closed")));
      closed = true;
      heartbeat.stop();
      await cluster?.member.halt();
      await Promise.all(all.map((body) => body.detach()));
      // Leases go back only after the last append: other instances take over at once.
      await cluster?.member.leave();
      await runtime.stop();
    },
  };
  return engine;
}
