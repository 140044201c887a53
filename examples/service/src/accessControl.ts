import type { FastifyReply, FastifyRequest } from "fastify";
import { bearerToken, type TokenCheck } from "./apiTokens.js";
import { sendError, type ErrorAnswer } from "./errorAnswers.js";
import { createHostCheck } from "./hostAllowList.js";
import { createOriginPolicy } from "./originPolicy.js";

export interface AccessControlOptions {
  /** Bearer tokens' check; without one, requests need no token (loopback only, see `startService`). */
  readonly tokens: TokenCheck | undefined;
  /** The service's public host names, besides `localhost` and IP literals. */
  readonly allowedHosts: readonly string[];
  /** Origins whose pages may call the API from a browser (CORS); none by default. */
  readonly allowedOrigins: readonly string[];
  /** Routes open to anyone who passes the `Host` check (health and readiness). */
  readonly publicRoutes: ReadonlySet<string>;
}

const stateChanging = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const corsMethods = "GET, POST, DELETE";
const corsHeaders = "authorization, content-type, last-event-id";
const exposedHeaders = "location, retry-after, x-request-id";

/**
 * Who may talk to the service, checked on every request before anything else runs, in this order:
 *
 * 1. `Host` on the allow-list, else 421 `HOST_NOT_ALLOWED` (DNS rebinding);
 * 2. CORS: an allowed `Origin` gets the CORS headers; a preflight from any other is 403;
 * 3. a state-changing request (`POST`, `DELETE`) from a browser page (it has an `Origin`) of
 *    another origin than the service's own or an allowed one: 403 `ORIGIN_NOT_ALLOWED`;
 * 4. with tokens configured, `Authorization: Bearer <token>`, else 401 `UNAUTHORIZED`; health and
 *    readiness stay open.
 *
 * Returns the `onRequest` hook; building it checks the options, so a bad one fails before anything starts.
 *
 * @example
 * app.addHook("onRequest", accessControl({ tokens: createTokenCheck(["…"]), allowedHosts: [], allowedOrigins: [], publicRoutes: new Set(["/healthz"]) }));
 * @throws ServiceError `INVALID_CONFIG` for an allowed host or origin that is not one.
 */
export function accessControl(options: AccessControlOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const hostAllowed = createHostCheck(options.allowedHosts);
  const origins = createOriginPolicy(options.allowedOrigins);

  return async (request, reply) => {
    const { host, origin } = request.headers;
    if (!hostAllowed(host)) return refuse(request, reply, 421, "HOST_NOT_ALLOWED", "this service does not answer for that Host");

    const cors = origin !== undefined && origins.corsAllows(origin);
    if (cors) {
      // Raw headers: they reach hijacked answers (event streams) too.
      reply.raw.setHeader("access-control-allow-origin", origin);
      reply.raw.setHeader("access-control-expose-headers", exposedHeaders);
    }
    if (origin !== undefined) reply.raw.setHeader("vary", "origin");
    if (request.method === "OPTIONS" && origin !== undefined && request.headers["access-control-request-method"] !== undefined) {
      if (!cors) return refuse(request, reply, 403, "ORIGIN_NOT_ALLOWED", "cross-origin requests from this origin are not allowed");
      return reply.code(204).headers({ "access-control-allow-methods": corsMethods, "access-control-allow-headers": corsHeaders, "access-control-max-age": "600" }).send();
    }

    if (stateChanging.has(request.method) && origin !== undefined && !origins.mayChangeState(origin, host)) {
      return refuse(request, reply, 403, "ORIGIN_NOT_ALLOWED", "requests that change state are not allowed from this origin");
    }

    if (options.tokens === undefined || options.publicRoutes.has(request.routeOptions.url ?? "")) return;
    const token = bearerToken(request.headers.authorization);
    if (!options.tokens(token)) {
      void reply.header("www-authenticate", token === undefined ? 'Bearer realm="cloudsession"' : 'Bearer realm="cloudsession", error="invalid_token"');
      return refuse(request, reply, 401, "UNAUTHORIZED", token === undefined ? "an API token is required: Authorization: Bearer <token>" : "the API token is not valid");
    }
    return undefined;
  };
}

function refuse(request: FastifyRequest, reply: FastifyReply, statusCode: number, code: string, message: string): FastifyReply {
  const answer: ErrorAnswer = { statusCode, code, message, internal: false };
  return sendError(request, reply, answer);
}
