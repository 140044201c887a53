import { checkRepository, type SessionLogEvent } from "@cloudsession/machine";
import { createInMemoryStore, type JsonObject } from "@cloudsession/store";
import { approveAll } from "@github/copilot-sdk";
import { randomUUID } from "node:crypto";
import { systemClock } from "./clock.js";
import { ClusterSessions } from "./cluster/clusterSessions.js";
import { EngineError, isEngineError } from "./engineError.js";
import { limitsOf } from "./engineLimits.js";
import { clusterSettings, heartbeatMsOf, maxConcurrentOf, runtimeTarget, sessionRequest, settingsOrThrow, type CloseOptions, type EngineOptions, type StartOptions } from "./engineOptions.js";
import { startHeartbeat } from "./heartbeat.js";
import { installPartialMessageTimerGuard } from "./partialMessageTimerGuard.js";
import { checkPrompt } from "./promptChecks.js";
import { recoverOpenSessions } from "./recovery.js";
import { Revival } from "./revival.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import { RuntimeConnectionManager } from "./runtimeConnection.js";
import type { SessionHandle } from "./sessionHandle.js";
import { readSessionLog } from "./sessionLogs.js";
import { SessionRegistry } from "./sessionRegistry.js";
import { SessionRunner } from "./sessionRunner.js";
import { Slots } from "./slots.js";
import { installTransportErrorGuard } from "./transportErrorGuard.js";

export interface Engine {
  /**
   * Starts a cloud session. Resolves with its handle once the request and its first prompts are in
   * the log (a resolved start survives a crash); nothing is run for a rejected one.
   *
   * @throws EngineError `INVALID_REPOSITORY`, `INVALID_ARGUMENT`, `PROMPT_TOO_LARGE`, `QUEUE_FULL`
   *   (more first prompts than `limits.maxQueuedPrompts`), `ENGINE_BUSY` (retry later),
   *   `STORE_UNAVAILABLE`, `SESSION_OWNED_ELSEWHERE`, `ENGINE_CLOSED`
   */
  start(options: StartOptions): Promise<SessionHandle>;
  /** Continues a session from its log, e.g. in a new process; no `cloud` is passed on resume. */
  resume(id: string): Promise<SessionHandle>;
  /** Continues every open (non-final) session in the store. */
  recover(): Promise<SessionHandle[]>;
  get(id: string): SessionHandle | undefined;
  /**
   * The session's whole log, from the store, checked as it is read.
   *
   * @throws EngineError `SESSION_NOT_FOUND`, `CORRUPTED_LOG` (naming what is wrong)
   */
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
 * const session = await engine.start({ repository: { owner: "octo", name: "demo" }, prompts: ["Hello"] });
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
  const limits = limitsOf(options.limits);
  const slots = new Slots(maxConcurrent);
  /** Starts between the call and their acknowledgement: they are about to wait for a slot too. */
  let startsInFlight = 0;
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
    slots,
    limits,
    persistDeltas: options.persistDeltas ?? false,
    onPermissionRequest: options.onPermissionRequest ?? approveAll,
    onBackgroundError,
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    probe: options.probe,
    ...(cluster === undefined ? { onAppendFailed: (id: string) => revival?.revive(id) } : { ownership: cluster.member }),
  };
  // Single instance: a session whose append failed is continued from its log (cluster mode moves it to another owner).
  const revival = cluster === undefined ? new Revival(env, registry, isClosed) : undefined;

  if (runtime.canReconnect) installTransportErrorGuard();
  installPartialMessageTimerGuard();
  const heartbeat = startHeartbeat(heartbeatMs, {
    clock,
    runtime,
    isClosed,
    liveSessions: () => registry.owners().filter((runner) => runner.sessionId !== null && runner.snapshot().status === "active"),
  });

  // A lost connection is an event for every session attached to it: out of contact, then re-attached.
  runtime.onLost(() => {
    if (!closed) for (const runner of registry.owners()) void runner.onConnectionLost();
  });

  function assertOpen(): void {
    if (closed) throw new EngineError("ENGINE_CLOSED", "the engine is closed");
  }

  cluster?.member.start();

  const engine: Engine = {
    async start(request) {
      assertOpen();
      const check = checkRepository(request.repository);
      if (!check.ok) throw new EngineError("INVALID_REPOSITORY", check.message);
      const prompts = request.prompts ?? [];
      if (!Array.isArray(prompts)) throw new EngineError("INVALID_ARGUMENT", "prompts must be an array of strings");
      for (const prompt of prompts) checkPrompt(prompt, limits);
      if (prompts.length > limits.maxQueuedPrompts) throw new EngineError("QUEUE_FULL", `a session starts with at most ${limits.maxQueuedPrompts} prompts (limits.maxQueuedPrompts), got ${prompts.length}`);
      const settings = settingsOrThrow({ ...options.timeouts, ...request.settings, retry: { ...options.retry, ...request.settings?.retry } }, "settings");
      // Every slot taken and the line full: a new session would only wait, so it is refused now.
      if (slots.available === 0 && slots.queued + startsInFlight >= limits.maxWaitingSessions) {
        throw new EngineError("ENGINE_BUSY", `${slots.queued + startsInFlight} sessions already wait for one of ${maxConcurrent} runtime slots (limits.maxWaitingSessions ${limits.maxWaitingSessions}); retry later`, { retryAfterMs: ENGINE_BUSY_RETRY_AFTER_MS });
      }
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
      const runner = SessionRunner.begin(env, id, sessionRequest(check.repository, settings, request.local, clock.now()), prompts, identity, gate);
      startsInFlight++;
      const accepted = await runner.accepted.finally(() => startsInFlight--);
      if (accepted !== "recorded") {
        revival?.withdraw(runner);
        throw startRefusal(runner.failure, id);
      }
      const handle = registry.track(runner);
      // Recorded, but the engine closed meanwhile: the session stays in the log, recoverable.
      if (closed) await runner.detach();
      else if (request.signal) closeOnAbort(handle, request.signal);
      return handle;
    },

    async resume(id) {
      assertOpen();
      const existing = registry.handle(id);
      if (existing) return existing;
      if (cluster !== undefined) return cluster.resume(id);
      const { runner } = await SessionRunner.load(env, id);
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

/** How long a refused start might wait before trying again: sessions take minutes, not milliseconds. */
const ENGINE_BUSY_RETRY_AFTER_MS = 5_000;

/** Why a start's first append did not land, for its caller. */
function startRefusal(failure: unknown, id: string): EngineError {
  if (isEngineError(failure)) return failure;
  return new EngineError("STORE_UNAVAILABLE", `session ${id}: the store did not confirm the session's first append, so it was not started`, { cause: failure, retryAfterMs: 500 });
}

/** Aborting `signal` closes the session (queued prompts are reported undelivered). */
function closeOnAbort(handle: SessionHandle, signal: AbortSignal): void {
  const abort = () => void handle.close("aborted by signal");
  if (signal.aborted) abort();
  else {
    signal.addEventListener("abort", abort, { once: true });
    void handle.outcome.then(() => signal.removeEventListener("abort", abort));
  }
}
