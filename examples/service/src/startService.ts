import { createEngine, type Engine, type EngineOptions } from "@cloudsession/engine";
import { maskConnectionString, openStore, type EventStore } from "@cloudsession/store";
import Fastify, { type FastifyInstance } from "fastify";
import { accessControl } from "./accessControl.js";
import { tokenCheckFor } from "./apiTokens.js";
import { dashboardRoutes } from "./dashboardRoutes.js";
import { errorHandler, notFoundHandler, sendError } from "./errorAnswers.js";
import type { EventStream } from "./eventStream.js";
import { createEventStreamSlots } from "./eventStreamSlots.js";
import { healthRoutePaths, healthRoutes } from "./healthRoutes.js";
import { httpServerOptions } from "./httpServerOptions.js";
import { ServiceError } from "./serviceError.js";
import type { ServiceLoggerOptions } from "./serviceLogger.js";
import { checkPromptFitsBody, resolveLimits, resolveTimeouts, type ServiceLimits, type ServiceTimeouts } from "./serviceSettings.js";
import { sessionRoutes } from "./sessionRoutes.js";

export interface StartServiceOptions {
  /** Default `127.0.0.1`. Any other address needs `tokens`: the service refuses to start without. */
  readonly host?: string;
  /** Default 3000; `0` picks a free port. */
  readonly port?: number;
  /** A store spec for `openStore` (PGlite directory, `postgres://…`), or a store you own. */
  readonly store: string | EventStore;
  /** The SQL schema of a store opened from a spec; default `cloudsession`. */
  readonly schema?: string;
  /**
   * Where the engine finds the runtime, and anything else it takes (timeouts, `maxConcurrent`,
   * `limits`: the queued prompts per session, a prompt's bytes and the sessions waiting for a slot
   * that the service accepts, enforced by the engine alone).
   */
  readonly engine?: Omit<EngineOptions, "store">;
  /** API tokens (at least 16 characters); every request but health and readiness must bear one. */
  readonly tokens?: readonly string[];
  /** The service's public host names (`api.example.com`); `localhost` and IP literals are always allowed. */
  readonly allowedHosts?: readonly string[];
  /** Origins whose pages may call the API from a browser (CORS, and state-changing requests). None by default. */
  readonly allowedOrigins?: readonly string[];
  /** Behind a proxy: whose `X-Forwarded-For` to believe (Fastify's `trustProxy`). */
  readonly trustProxy?: boolean | string | readonly string[];
  readonly timeouts?: Partial<ServiceTimeouts>;
  readonly limits?: Partial<ServiceLimits>;
  /** The structured log: `warn` level on stdout by default, `true` for `info`, `false` for none. */
  readonly logger?: boolean | ServiceLoggerOptions;
}

export interface RunningService {
  /** `http://host:port` */
  readonly url: string;
  readonly engine: Engine;
  readonly app: FastifyInstance;
  /** Graceful shutdown: every session stays recoverable from the log. Idempotent. */
  close(): Promise<void>;
}

/**
 * Checks its options, opens the store, starts the engine, continues every open session, and serves
 * the session API.
 *
 * @example
 * const service = await startService({ store: "./.cloudsession-service", engine: { runtimeUrl: "127.0.0.1:4321" } });
 * process.once("SIGTERM", () => void service.close());
 * @throws ServiceError `AUTH_REQUIRED` (a non-loopback `host` without `tokens`), `INVALID_CONFIG`, `STORE_UNAVAILABLE`.
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  // #region start-service
  const host = options.host ?? "127.0.0.1";
  const tokens = tokenCheckFor(host, options.tokens); // refuses to start beyond loopback without one
  const guard = accessControl({ tokens, allowedHosts: options.allowedHosts ?? [], allowedOrigins: options.allowedOrigins ?? [], publicRoutes: healthRoutePaths });
  const timeouts = resolveTimeouts(options.timeouts);
  const limits = resolveLimits(options.limits);
  checkPromptFitsBody(limits, options.engine?.limits?.maxPromptBytes);
  const ownsStore = typeof options.store === "string";
  const store = typeof options.store === "string" ? await openServiceStore(options.store, options.schema) : options.store;
  const engine = createEngine({ ...options.engine, store });
  await engine.recover(); // sessions a previous process left open continue here

  const streams = new Set<EventStream>();
  let closing = false;
  const app = Fastify(httpServerOptions({ timeouts, limits, logger: options.logger, trustProxy: options.trustProxy }));
  app.server.maxConnections = limits.connections; // more are dropped at once
  app.addHook("onRequest", async (request, reply) => {
    reply.raw.setHeader("x-request-id", request.id);
    if (closing) return sendError(request, reply.header("connection", "close"), { statusCode: 503, code: "SHUTTING_DOWN", message: "the service is shutting down", internal: false });
  });
  app.addHook("onRequest", guard); // Host, Origin, CORS, API token
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  await app.register(healthRoutes, { store });
  const streamSlots = createEventStreamSlots(limits.eventStreams, limits.eventStreamsPerClient);
  await app.register(sessionRoutes, { engine, store, streams, streamSlots, heartbeatMs: timeouts.heartbeatMs });
  await app.register(dashboardRoutes, { prefix: "/dashboard", engine, store }); // the sessions dashboard at /dashboard/
  await app.listen({ host, port: options.port ?? 3000 });
  // #endregion start-service

  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  let closed: Promise<void> | undefined;

  // #region shutdown
  async function shutdown(): Promise<void> {
    closing = true; // new requests get 503
    for (const stream of streams) stream.close(); // clients reconnect with Last-Event-ID
    await engine.close({ sessions: "detach" }); // stop acting; every open session stays recoverable
    await app.close(); // waits for requests in flight
    if (ownsStore) await store.close(); // finishes appends already issued
  }
  // #endregion shutdown

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    engine,
    app,
    close: () => (closed ??= shutdown()),
  };
}

/** Opens the store from its spec; a failure names it with its secrets masked. */
async function openServiceStore(spec: string, schema: string | undefined): Promise<EventStore> {
  try {
    return await openStore(spec, schema === undefined ? {} : { schema });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ServiceError("STORE_UNAVAILABLE", `cannot open the store at ${maskConnectionString(spec)}: ${maskConnectionString(reason)}`, { cause: error });
  }
}
