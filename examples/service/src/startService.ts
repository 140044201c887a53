import { createEngine, isEngineError, type Engine, type EngineOptions } from "@cloudsession/engine";
import { openStore, type EventStore } from "@cloudsession/store";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { dashboardRoutes } from "./dashboardRoutes.js";
import type { EventStream } from "./eventStream.js";
import { HttpError, sessionRoutes } from "./sessionRoutes.js";

export interface StartServiceOptions {
  /** Default `127.0.0.1`: the API has no authentication of its own. */
  readonly host?: string;
  /** Default 3000; `0` picks a free port. */
  readonly port?: number;
  /** A store spec for `openStore` (PGlite directory, `postgres://…`), or a store you own. */
  readonly store: string | EventStore;
  /** Where the engine finds the runtime, and anything else it takes (timeouts, `maxConcurrent`, …). */
  readonly engine?: Omit<EngineOptions, "store">;
  /** Fastify's logger (pino) options; off by default. */
  readonly logger?: boolean;
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
 * Opens the store, starts the engine, continues every open session, and serves the session API.
 *
 * @example
 * const service = await startService({ store: "./.cloudsession-service", engine: { runtimeUrl: "127.0.0.1:4321" } });
 * process.once("SIGTERM", () => void service.close());
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  // #region start-service
  const ownsStore = typeof options.store === "string";
  const store = typeof options.store === "string" ? await openStore(options.store) : options.store;
  const engine = createEngine({ ...options.engine, store });
  await engine.recover(); // sessions a previous process left open continue here

  const streams = new Set<EventStream>();
  let closing = false;
  const app = Fastify({ logger: options.logger ?? false, ajv: { customOptions: { removeAdditional: false } } });
  app.addHook("onRequest", async (_request, reply) => {
    if (closing) await reply.code(503).header("connection", "close").send({ statusCode: 503, code: "SHUTTING_DOWN", error: "Service Unavailable", message: "the service is shutting down" });
  });
  app.setErrorHandler(errorHandler);
  await app.register(sessionRoutes, { engine, store, streams });
  await app.register(dashboardRoutes, { prefix: "/dashboard", engine, store }); // the sessions dashboard at /dashboard/
  await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 3000 });
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
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    engine,
    app,
    close: () => (closed ??= shutdown()),
  };
}

function errorHandler(error: FastifyError | HttpError | Error, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const [statusCode, code] = classify(error);
  if (statusCode >= 500) reply.log.error(error);
  return reply.code(statusCode).send({ statusCode, code, error: statusText(statusCode), message: error.message });
}

function classify(error: FastifyError | HttpError | Error): [number, string] {
  if (error instanceof HttpError) return [error.statusCode, error.code];
  if (isEngineError(error)) {
    switch (error.code) {
      case "INVALID_REPOSITORY":
      case "INVALID_ARGUMENT":
        return [400, error.code];
      case "SESSION_NOT_FOUND":
        return [404, error.code];
      case "SESSION_ENDED":
      case "SESSION_OWNED_ELSEWHERE":
        return [409, error.code];
      case "ENGINE_CLOSED":
        return [503, error.code];
      case "CORRUPTED_LOG":
        return [500, error.code];
      case "QUEUE_FULL":
      case "ENGINE_BUSY":
        return [429, error.code];
      case "PROMPT_TOO_LARGE":
        return [413, error.code];
      case "STORE_UNAVAILABLE":
        return [503, error.code];
    }
  }
  if ("validation" in error && error.validation !== undefined) return [400, "INVALID_REQUEST"];
  if ("statusCode" in error && typeof error.statusCode === "number" && error.statusCode < 500) return [error.statusCode, error.code];
  return [500, "INTERNAL"];
}

function statusText(statusCode: number): string {
  const texts: Record<number, string> = { 400: "Bad Request", 404: "Not Found", 409: "Conflict", 415: "Unsupported Media Type", 503: "Service Unavailable" };
  return texts[statusCode] ?? (statusCode >= 500 ? "Internal Server Error" : "Error");
}
