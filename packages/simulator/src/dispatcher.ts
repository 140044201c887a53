import type { ResponseError } from "vscode-jsonrpc/node.js";
import { optionalObject, optionalString, readParams, repositoryKey, requireString, type Params } from "./params.js";
import { createRng, deriveSeed, type Rng } from "./rng.js";
import {
  invalidParams,
  methodNotFound,
  policyBlocked,
  sessionExists,
  sessionIdClaimRejected,
  sessionNotFound,
  transient,
  unauthorized,
  type RpcErrorData,
} from "./rpcErrors.js";
import { behaviourFor, type Scenario } from "./scenario.js";
import type { Scheduler } from "./scheduler.js";
import type { Attachment } from "./sessionDelivery.js";
import { SessionRuntime } from "./sessionRuntime.js";
import { bump, createSessionStats, type StatsRecord } from "./stats.js";

/** The protocol version the 1.0.x SDK insists on. */
export const PROTOCOL_VERSION = 3;

/** A connection as the dispatcher sees it. */
export interface ClientConnection extends Attachment {
  authenticated: boolean;
  readonly sessions: Set<SessionRuntime>;
}

/** The state shared by all connections of one simulator. */
export interface RuntimeState {
  readonly scenario: Scenario;
  readonly scheduler: Scheduler;
  readonly stats: StatsRecord;
  readonly now: () => number;
  readonly sessions: Map<string, SessionRuntime>;
  readonly connections: ReadonlySet<ClientConnection>;
  readonly connectionToken: string | undefined;
  readonly version: string;
  /** Failed attempts so far per repository key, for transient create faults. */
  readonly transientFailures: Map<string, number>;
  /** Incremented per `session.create`; each attempt gets its own seeded random stream. */
  createOrdinal: number;
  lastSessionId: string | undefined;
  restart(): void;
}

type Handler = (connection: ClientConnection, params: Params) => unknown;

const never = new Promise<never>(() => undefined);

const sessionMetadata = (s: SessionRuntime): Record<string, unknown> => ({
  sessionId: s.id,
  startTime: new Date(s.startTime).toISOString(),
  modifiedTime: new Date(s.modifiedTime).toISOString(),
  summary: s.summary,
  isRemote: s.cloud,
  context: { cwd: "/workspace", ...(s.repository === undefined ? {} : { repository: s.repository }) },
});

/**
 * Builds the method table and returns the function the server calls for every request.
 * Errors are thrown as `ResponseError`s with `data.reason`; the SDK keeps code, message and data.
 */
export function createDispatcher(state: RuntimeState): (connection: ClientConnection, method: string, rawParams: unknown) => Promise<unknown> {
  const { stats, scheduler } = state;

  const sessionFor = (params: Params): SessionRuntime => {
    const sessionId = requireString(params, "sessionId");
    const session = state.sessions.get(sessionId);
    if (session === undefined) throw sessionNotFound(sessionId);
    return session;
  };

  const lifecycle = (type: string, session: SessionRuntime): void => {
    const params = {
      type,
      sessionId: session.id,
      metadata: { startTime: new Date(session.startTime).toISOString(), modifiedTime: new Date(session.modifiedTime).toISOString() },
    };
    for (const connection of state.connections) {
      if (connection.authenticated) connection.notify("session.lifecycle", params);
    }
  };

  const fail = (error: ResponseError<RpcErrorData>): never => {
    bump(stats.createFailures, error.data?.reason ?? "unknown");
    throw error;
  };

  const create = async (connection: ClientConnection, params: Params): Promise<unknown> => {
    stats.createAttempts++;
    const cloudOption = optionalObject(params, "cloud");
    const cloud = cloudOption !== undefined;
    const repository = repositoryKey(cloudOption);
    const repoBranch = cloudOption === undefined ? undefined : optionalObject(cloudOption, "repository");
    const branch = repoBranch === undefined ? undefined : optionalString(repoBranch, "branch");
    const key = repository ?? (cloud ? "(cloud)" : "(local)");
    bump(stats.createAttemptsByRepository, key);
    const requestedId = optionalString(params, "sessionId");
    const ordinal = state.createOrdinal++;
    const rng: Rng = createRng(deriveSeed(state.scenario.seed, ordinal));
    const behaviour = behaviourFor(state.scenario, repository);

    if (cloud && requestedId !== undefined) fail(sessionIdClaimRejected(requestedId));
    if (cloud) {
      await scheduler.sleep(rng.between(...behaviour.reservationLatencyMs));
      const fault = behaviour.createFault;
      if (fault.kind === "policy_blocked") fail(policyBlocked(repository));
      if (fault.kind === "transient") {
        const failed = state.transientFailures.get(key) ?? 0;
        if (failed < fault.failures) {
          state.transientFailures.set(key, failed + 1);
          const message = fault.message ?? (failed % 2 === 0 ? "ECONNRESET" : "503 Service Unavailable");
          fail(transient(message, failed + 1));
        }
      }
      if (fault.kind === "hang") return never;
    }

    // Cloud ids come from the attempt's seeded stream, so a seed reproduces them.
    const sessionId = cloud ? rng.uuid() : (requestedId ?? rng.uuid());
    if (state.sessions.has(sessionId)) throw sessionExists(sessionId);
    const streaming = params["streaming"] === true;
    const requestPermission = params["requestPermission"] === true;
    const sessionStats = createSessionStats(sessionId, cloud, {
      cloudPassed: cloud,
      repository,
      sessionIdPassed: requestedId !== undefined,
      streaming,
      requestPermission,
    });
    const session = new SessionRuntime({
      id: sessionId,
      cloud,
      repository,
      branch,
      behaviour,
      rng,
      scheduler,
      now: state.now,
      stats: sessionStats,
      globalStats: stats,
      streaming,
      requestPermission,
      copilotVersion: state.version,
      restartRuntime: () => {
        state.restart();
      },
      lifecycle: (type) => {
        lifecycle(type, session);
      },
      // Its own stream, so that the untidy behaviour's draws never shift ids or chunking.
      disorderRng: createRng(deriveSeed(deriveSeed(state.scenario.seed, ordinal), 1)),
    });
    state.sessions.set(sessionId, session);
    stats.sessions.set(sessionId, sessionStats);
    stats.sessionsCreated++;
    state.lastSessionId = sessionId;
    session.attach(connection);
    connection.sessions.add(session);

    if (!cloud || behaviour.earlyStart) {
      // Local sessions start at once, like the real runtime. `earlyStart` does the same for a cloud
      // session: the SDK has not registered the id yet and drops these events; history keeps them.
      session.startAgent();
    } else if (!behaviour.agentNeverConnects) {
      session.scheduleAgent(rng.between(...behaviour.agentConnectLatencyMs));
    }
    session.announceCreated();
    return { sessionId, workspacePath: null, capabilities: null };
  };

  const resume: Handler = (connection, params) => {
    const session = sessionFor(params);
    session.resume(connection, { streaming: params["streaming"] === true, requestPermission: params["requestPermission"] === true });
    connection.sessions.add(session);
    stats.resumes++;
    const sessionStats = stats.sessions.get(session.id);
    if (sessionStats !== undefined) {
      sessionStats.resumes++;
      sessionStats.resumeParams.push({ cloudPassed: "cloud" in params, streaming: session.streaming, connectionId: connection.id });
    }
    return { workspacePath: null, capabilities: null };
  };

  const detach: Handler = (connection, params) => {
    const session = sessionFor(params);
    const sessionStats = stats.sessions.get(session.id);
    if (sessionStats !== undefined) sessionStats.detaches++;
    session.release(connection);
    connection.sessions.delete(session);
    return { success: true };
  };

  const methods: Readonly<Record<string, Handler>> = {
    connect: (connection, params) => {
      if (state.connectionToken !== undefined && params["token"] !== state.connectionToken) {
        stats.handshakesRejected++;
        throw unauthorized();
      }
      connection.authenticated = true;
      stats.handshakes++;
      return { ok: true, protocolVersion: PROTOCOL_VERSION, version: state.version, taskKinds: ["agent", "client", "shell"] };
    },
    ping: (_connection, params) => ({
      message: optionalString(params, "message") ?? "pong",
      timestamp: new Date(state.now()).toISOString(),
      protocolVersion: PROTOCOL_VERSION,
    }),
    "status.get": () => ({ version: state.version, protocolVersion: PROTOCOL_VERSION }),
    "auth.getStatus": () => ({
      isAuthenticated: true,
      authType: "token",
      host: "https://github.com",
      login: "simulator",
      statusMessage: "simulated runtime (no GitHub involved)",
    }),
    "models.list": () => ({
      models: [
        {
          id: "claude-sonnet-4.5",
          name: "Claude Sonnet 4.5",
          capabilities: { supports: { vision: false, reasoningEffort: false }, limits: { max_context_window_tokens: 200_000 } },
          policy: { state: "enabled", terms: "" },
        },
      ],
    }),
    "session.create": create,
    "session.resume": resume,
    "session.send": (_connection, params) => {
      const session = sessionFor(params);
      const prompt = params["prompt"];
      if (typeof prompt !== "string") throw invalidParams("prompt must be a string");
      return { messageId: session.send(prompt) };
    },
    "session.abort": (_connection, params) => {
      sessionFor(params).abort();
      return { success: true };
    },
    "session.getMessages": (_connection, params) => ({ events: [...sessionFor(params).log.persisted] }),
    "session.permissions.handlePendingPermissionRequest": (_connection, params) => {
      const session = sessionFor(params);
      const requestId = requireString(params, "requestId");
      const result = optionalObject(params, "result");
      const kind = result === undefined ? "user-not-available" : (optionalString(result, "kind") ?? "user-not-available");
      return { success: session.answerPermission(requestId, kind) };
    },
    "session.detach": detach,
    "session.destroy": detach,
    "session.delete": (_connection, params) => {
      const session = sessionFor(params);
      lifecycle("session.deleted", session);
      session.delete();
      state.sessions.delete(session.id);
      for (const c of state.connections) c.sessions.delete(session);
      return { success: true };
    },
    "session.list": () => ({ sessions: [...state.sessions.values()].map(sessionMetadata) }),
    "session.getMetadata": (_connection, params) => {
      const session = state.sessions.get(requireString(params, "sessionId"));
      return session === undefined ? {} : { session: sessionMetadata(session) };
    },
    "session.getLastId": () => (state.lastSessionId === undefined ? {} : { sessionId: state.lastSessionId }),
    "session.options.update": (_connection, params) => {
      sessionFor(params);
      return { success: true };
    },
    "session.eventLog.registerInterest": (_connection, params) => {
      sessionFor(params);
      return { success: true };
    },
    "runtime.shutdown": () => null,
  };

  return async (connection, method, rawParams) => {
    const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (handler === undefined) {
      stats.unknownMethods++;
      throw methodNotFound(method);
    }
    if (method !== "connect" && state.connectionToken !== undefined && !connection.authenticated) throw unauthorized();
    return await Promise.resolve(handler(connection, readParams(rawParams)));
  };
}

