import { createServer, type Socket } from "node:net";
import {
  createMessageConnection,
  ErrorCodes,
  StreamMessageReader,
  StreamMessageWriter,
  type ResponseMessage,
} from "vscode-jsonrpc/node.js";
import { createDispatcher, type ClientConnection, type RuntimeState } from "./dispatcher.js";
import type { SessionEvent } from "./events.js";
import { defineScenario, type Scenario, type ScenarioInput } from "./scenario.js";
import { createScheduler } from "./scheduler.js";
import { createStats, type SimulatorStats } from "./stats.js";
import { SimulatorError } from "./simulatorError.js";
import { ValidatingMessageReader } from "./validatingReader.js";

/** How to run the simulator, as opposed to what it simulates (that is the {@link Scenario}). */
export interface SimulatorOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** When set, `connect` must carry this token and nothing else is served before it. */
  readonly connectionToken?: string;
  /** Recorded as the caller identity; defaults to `env.GITHUB_COPILOT_INTEGRATION_ID`. */
  readonly integrationId?: string;
  /** Recorded as the caller identity; defaults to `env.COPILOT_MC_BASE_URL`. */
  readonly missionControlBaseUrl?: string;
  /** The runtime's environment; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Wall clock for event timestamps (ms since epoch); defaults to `Date.now`. */
  readonly now?: () => number;
  /** Version reported by `connect`, `status.get` and `session.start.copilotVersion`. */
  readonly version?: string;
}

/** A running simulator. */
export interface Simulator {
  /** `127.0.0.1:PORT`, ready for `RuntimeConnection.forUri`. */
  readonly url: string;
  readonly port: number;
  readonly scenario: Scenario;
  /** Live counters (they change as the simulator runs). */
  readonly stats: SimulatorStats;
  /** Persisted history of a session, as `session.getMessages` returns it. */
  history(sessionId: string): readonly SessionEvent[];
  /** Ids of the sessions the runtime knows, in creation order. */
  sessionIds(): readonly string[];
  /** Connects a session's worker now (e.g. to end a `never-connects` wait from a test). */
  connectAgent(sessionId: string): void;
  /**
   * Destroys client sockets, as a lost connection would: every one, or (with `sessionId`) those
   * attached to that session. The server keeps listening and sessions keep running (turns finish
   * and land in history). Returns how many open sockets were destroyed.
   * @throws SimulatorError `unknown_session` when `sessionId` names no session.
   */
  dropConnections(sessionId?: string): number;
  /** A runtime restart: connections dropped, session state (history, workers) kept; counted in stats. */
  restart(): void;
  /** Stops listening, drops connections and cancels every pending timer. */
  close(): Promise<void>;
}

const DEFAULT_VERSION = "1.0.85-simulator";

/**
 * Starts a loopback Copilot runtime that the real `@github/copilot-sdk` client can connect to.
 *
 * @example
 * ```ts
 * import { CopilotClient, RuntimeConnection } from "@github/copilot-sdk";
 * const sim = await startSimulator({ timeScale: 0.01, seed: 1 });
 * const client = new CopilotClient({ connection: RuntimeConnection.forUri(sim.url) });
 * await client.start();
 * const session = await client.createSession({ cloud: { repository: { owner: "octo", name: "demo" } } });
 * await client.stop();
 * await sim.close();
 * ```
 */
export async function startSimulator(scenario: ScenarioInput = {}, options: SimulatorOptions = {}): Promise<Simulator> {
  const resolved = defineScenario(scenario);
  const env = options.env ?? process.env;
  const stats = createStats({
    integrationId: options.integrationId ?? env["GITHUB_COPILOT_INTEGRATION_ID"],
    missionControlBaseUrl: options.missionControlBaseUrl ?? env["COPILOT_MC_BASE_URL"],
  });
  const scheduler = createScheduler(resolved.timeScale);
  const connections = new Set<ClientConnection>();
  const sockets = new Set<Socket>();

  const destroy = (socket: Socket): number => {
    if (socket.destroyed) return 0;
    stats.connectionsDropped++;
    socket.destroy();
    return 1;
  };
  const dropAll = (): number => {
    let dropped = 0;
    for (const socket of sockets) dropped += destroy(socket);
    return dropped;
  };

  const state: RuntimeState = {
    scenario: resolved,
    scheduler,
    stats,
    now: options.now ?? Date.now,
    sessions: new Map(),
    connections,
    connectionToken: options.connectionToken,
    version: options.version ?? DEFAULT_VERSION,
    transientFailures: new Map(),
    createOrdinal: 0,
    lastSessionId: undefined,
    restart: () => {
      stats.restarts++;
      dropAll();
    },
  };
  const dispatch = createDispatcher(state);
  let nextConnectionId = 1;

  // noDelay: the writer sends header and body as two writes; with Nagle every reply waits ~40 ms.
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    stats.connectionsOpened++;
    // Errors such as ECONNRESET end up as 'close'; without a listener they would crash the process.
    socket.on("error", () => undefined);
    const writer = new StreamMessageWriter(socket);
    const writeError = (id: number | string | null, code: number, message: string, reason: string): void => {
      const response: ResponseMessage = { jsonrpc: "2.0", id, error: { code, message, data: { reason } } };
      writer.write(response).catch(() => undefined);
    };
    const reader = new ValidatingMessageReader(new StreamMessageReader(socket), (frame) => {
      stats.protocolErrors++;
      const id = typeof frame === "object" && frame !== null && "id" in frame ? frame.id : null;
      writeError(typeof id === "number" || typeof id === "string" ? id : null, ErrorCodes.InvalidRequest, "Invalid Request", "invalid_request");
    });
    reader.onError((error) => {
      if (socket.destroyed) return;
      stats.protocolErrors++;
      // JSON-RPC 2.0: a frame that does not parse gets a Parse error with a null id.
      writeError(null, ErrorCodes.ParseError, `Parse error: ${error.message}`, "parse_error");
    });
    const rpc = createMessageConnection(reader, writer);
    const connection: ClientConnection = {
      id: nextConnectionId++,
      authenticated: false,
      sessions: new Set(),
      notify: (method, params) => {
        if (!socket.destroyed) rpc.sendNotification(method, params).catch(() => undefined);
      },
      get open() {
        return !socket.destroyed;
      },
      drop: () => {
        destroy(socket);
      },
    };
    connections.add(connection);
    rpc.onRequest((method, params) => dispatch(connection, method, params));
    rpc.onNotification(() => undefined);
    socket.on("close", () => {
      sockets.delete(socket);
      connections.delete(connection);
      stats.connectionsClosed++;
      for (const session of connection.sessions) session.detach(connection);
      connection.sessions.clear();
      rpc.dispose();
    });
    rpc.listen();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // Loopback only: the simulator must never be reachable from another machine.
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new SimulatorError("bad_argument", "server has no TCP address");
  const port = address.port;

  const sessionOrThrow = (sessionId: string) => {
    const session = state.sessions.get(sessionId);
    if (session === undefined) throw new SimulatorError("unknown_session", `no session ${sessionId}`);
    return session;
  };

  return {
    url: `127.0.0.1:${port}`,
    port,
    scenario: resolved,
    stats,
    history: (sessionId) => sessionOrThrow(sessionId).log.persisted,
    sessionIds: () => [...state.sessions.keys()],
    connectAgent: (sessionId) => {
      sessionOrThrow(sessionId).startAgent();
    },
    dropConnections: (sessionId) => (sessionId === undefined ? dropAll() : sessionOrThrow(sessionId).dropAttached()),
    restart: () => {
      state.restart();
    },
    close: async () => {
      scheduler.dispose();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => {
        resolve();
      }));
    },
  };
}
