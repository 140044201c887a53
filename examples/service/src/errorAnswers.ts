import { isEngineError } from "@cloudsession/engine";
import { isStoreError } from "@cloudsession/store";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { HttpError } from "./httpError.js";

/** What the client is told about a failure. */
export interface ErrorAnswer {
  readonly statusCode: number;
  /** Stable: clients branch on it, never on the message. */
  readonly code: string;
  /** Safe to show: a 5xx says what kind of failure, never its details. */
  readonly message: string;
  readonly retryAfterSeconds?: number;
  /** A failure of the service (5xx): logged with the request id and the details. */
  readonly internal: boolean;
}

/** The body of every error answer. */
export interface ErrorBody {
  readonly statusCode: number;
  readonly code: string;
  readonly error: string;
  readonly message: string;
  /** The `x-request-id` of the answer, which the service's log lines carry as `reqId`. */
  readonly requestId?: string;
}

const internalMessages: Record<string, string> = {
  CORRUPTED_LOG: "the session's stored log is damaged; the service does not act on it",
  STORE_UNAVAILABLE: "the event store is unavailable; retry later",
  ENGINE_CLOSED: "the service is shutting down",
  INTERNAL: "internal error",
};

// Fastify's own refusals, by their code, as this API's codes.
const fastifyCodes: Readonly<Record<string, string>> = {
  FST_ERR_VALIDATION: "INVALID_REQUEST",
  FST_ERR_CTP_BODY_TOO_LARGE: "BODY_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "INVALID_REQUEST",
  FST_ERR_CTP_EMPTY_JSON_BODY: "INVALID_JSON",
  FST_ERR_CTP_INVALID_JSON_BODY: "INVALID_JSON",
  FST_ERR_BAD_URL: "INVALID_URL",
  FST_ERR_MAX_PARAM_LENGTH: "URL_TOO_LONG",
};

/**
 * Classifies anything a handler threw: the service's own refusals, the engine's and the store's
 * typed errors, Fastify's 4xx; anything else is a 500 `INTERNAL`.
 *
 * @example
 * errorAnswer(new EngineError("QUEUE_FULL", "…", { retryAfterMs: 1500 })); // 429, retryAfterSeconds 2
 */
export function errorAnswer(error: unknown): ErrorAnswer {
  // The service's own refusals (a 503 over a cap included) are decisions, not failures: not logged as errors.
  if (error instanceof HttpError) return { statusCode: error.statusCode, code: error.code, message: error.message, ...retryAfter(error.retryAfterSeconds), internal: false };
  if (isEngineError(error)) {
    switch (error.code) {
      case "INVALID_REPOSITORY":
      case "INVALID_ARGUMENT":
        return refusal(400, error.code, error.message);
      case "SESSION_NOT_FOUND":
        return refusal(404, error.code, error.message);
      case "SESSION_ENDED":
      case "SESSION_OWNED_ELSEWHERE":
        return refusal(409, error.code, error.message);
      case "PROMPT_TOO_LARGE":
        return refusal(413, error.code, error.message);
      case "QUEUE_FULL":
      case "ENGINE_BUSY":
        // A 429 always says when to come back; a second unless the engine knows better.
        return { ...refusal(429, error.code, error.message), retryAfterSeconds: seconds(error.retryAfterMs ?? 1_000) };
      case "STORE_UNAVAILABLE":
      case "ENGINE_CLOSED":
        return { ...failure(503, error.code), ...retryAfter(error.retryAfterMs === undefined ? undefined : seconds(error.retryAfterMs)) };
      case "CORRUPTED_LOG":
        return failure(500, error.code);
    }
  }
  if (isStoreError(error)) {
    switch (error.code) {
      case "CORRUPTED_EVENT":
      case "CORRUPTED_LOG":
        return failure(500, "CORRUPTED_LOG");
      case "STORE_CLOSED":
        return failure(503, "STORE_UNAVAILABLE");
      case "INVALID_ARGUMENT":
        return refusal(400, "INVALID_REQUEST", "the request names something the store cannot hold");
      default:
        return failure(500, "INTERNAL");
    }
  }
  const statusCode = error instanceof Error && "statusCode" in error && typeof error.statusCode === "number" ? error.statusCode : 500;
  if (statusCode >= 400 && statusCode < 500 && error instanceof Error) {
    const fastifyCode = "code" in error && typeof error.code === "string" ? fastifyCodes[error.code] : undefined;
    return refusal(statusCode, fastifyCode ?? (error instanceof SyntaxError ? "INVALID_JSON" : "BAD_REQUEST"), error.message);
  }
  return failure(500, "INTERNAL");
}

/** The body sent for an answer. */
export function errorBody(answer: ErrorAnswer, requestId?: string): ErrorBody {
  return { statusCode: answer.statusCode, code: answer.code, error: STATUS_CODES[answer.statusCode] ?? "Error", message: answer.message, ...(requestId === undefined ? {} : { requestId }) };
}

/** Sends an error answer, with `Retry-After` when it has one. */
export function sendError(request: FastifyRequest, reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  if (answer.retryAfterSeconds !== undefined) void reply.header("retry-after", String(answer.retryAfterSeconds));
  return reply.code(answer.statusCode).send(errorBody(answer, request.id));
}

/** Fastify's error handler: every error answer gets a code; a 5xx is logged, with the request id, and its details kept back. */
export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = errorAnswer(error);
  if (answer.internal) request.log.error({ err: error, code: answer.code }, "request failed");
  return sendError(request, reply, answer);
}

/**
 * Fastify's `frameworkErrors`: a path that does not decode, or a parameter longer than the router
 * takes, is refused before any hook runs; answered with a code and a request id like the rest.
 */
export function frameworkErrorHandler(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  reply.raw.setHeader("x-request-id", request.id);
  void errorHandler(error, request, reply);
}

/** Fastify's not-found handler: a 404 with a code too. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(request, reply, refusal(404, "ROUTE_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0] ?? ""}`));
}

/**
 * Node's refusals before a request exists (the headers or the whole request took too long, headers
 * too large, bytes that are not HTTP), answered with a code like every other error.
 */
export function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const answer =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? refusal(408, "REQUEST_TIMEOUT", "the request did not arrive in time")
      : error.code === "HPE_HEADER_OVERFLOW"
        ? refusal(431, "HEADERS_TOO_LARGE", "the request's headers are too large")
        : refusal(400, "BAD_REQUEST", "the request is not valid HTTP");
  this.log.debug({ err: error, code: answer.code }, "client error");
  const body = JSON.stringify(errorBody(answer));
  if (!socket.writable) return void socket.destroy();
  const head = `HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode] ?? ""}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  socket.end(head + body, () => socket.destroy()); // gone once written, whatever the client does
}

function refusal(statusCode: number, code: string, message: string): ErrorAnswer {
  return { statusCode, code, message, internal: false };
}

function failure(statusCode: number, code: string): ErrorAnswer {
  return { statusCode, code, message: internalMessages[code] ?? "internal error", internal: true };
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function retryAfter(value: number | undefined): { retryAfterSeconds?: number } {
  return value === undefined ? {} : { retryAfterSeconds: value };
}
