import type { EventStore } from "@cloudsession/store";
import type { FastifyInstance } from "fastify";
import { HttpError } from "./httpError.js";

export interface HealthRoutesOptions {
  readonly store: EventStore;
}

/** Open to anyone who passes the `Host` check, without a token: they tell nothing about sessions. */
export const healthRoutePaths: ReadonlySet<string> = new Set(["/healthz", "/readyz"]);

/**
 * `GET /healthz`: the process answers (liveness). `GET /readyz`: its store answers too (readiness);
 * 503 `NOT_READY` otherwise. While shutting down both answer 503 `SHUTTING_DOWN`, like every route.
 *
 * @example
 * app.register(healthRoutes, { store });
 */
export function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  app.get("/healthz", () => ({ status: "ok" }));
  app.get("/readyz", async (request) => {
    try {
      await options.store.listStreams({ limit: 1 });
    } catch (error) {
      request.log.warn({ err: error }, "readiness: the store does not answer");
      throw new HttpError(503, "NOT_READY", "the event store does not answer", { retryAfterSeconds: 5 });
    }
    return { status: "ready" };
  });
  return Promise.resolve();
}
