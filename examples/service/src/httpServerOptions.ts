import type { FastifyHttpOptions } from "fastify";
import type { Server } from "node:http";
import { randomUUID } from "node:crypto";
import { clientErrorHandler, frameworkErrorHandler } from "./errorAnswers.js";
import { loggerOptions, type ServiceLoggerOptions } from "./serviceLogger.js";
import type { ServiceLimits, ServiceTimeouts } from "./serviceSettings.js";

export interface HttpServerSettings {
  readonly timeouts: ServiceTimeouts;
  readonly limits: ServiceLimits;
  readonly logger: boolean | ServiceLoggerOptions | undefined;
  /** Fastify's `trustProxy`: whose `X-Forwarded-For` names the client (per-client caps, logs). */
  readonly trustProxy: boolean | string | readonly string[] | undefined;
}

/**
 * Fastify's (and Node's HTTP server's) options for the service: timeouts on headers, whole
 * requests, idle keep-alive connections and idle sockets; the body limit; a random request id per
 * request; types never coerced by the schemas; a path parameter long enough to reach the schema's
 * own bound (a 400, not a 404); codes on the errors Node answers itself.
 */
export function httpServerOptions(settings: HttpServerSettings): FastifyHttpOptions<Server> {
  const { timeouts, limits } = settings;
  return {
    logger: loggerOptions(settings.logger),
    genReqId: () => randomUUID(),
    ...(settings.trustProxy === undefined ? {} : { trustProxy: typeof settings.trustProxy === "object" ? [...settings.trustProxy] : settings.trustProxy }),
    bodyLimit: limits.bodyBytes,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionTimeout: timeouts.idleMs,
    // How often Node looks for requests over their time: often enough that a timeout is not late by much.
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(timeouts.headersMs / 2))) },
    routerOptions: { maxParamLength: 2_048 },
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  };
}
