import { maskConnectionString } from "@cloudsession/store";
import type { FastifyServerOptions } from "fastify";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** The service's structured (JSON, pino) log. */
export interface ServiceLoggerOptions {
  /** Default `warn`: failures only (a 5xx, with its request id and details); `info` adds every request. */
  readonly level?: LogLevel;
  /** Where the JSON lines go; default stdout. */
  readonly stream?: { write(line: string): void };
}

/**
 * Fastify's logger options: each line carries the request's id (`reqId`, also sent to the client as
 * `x-request-id`), and an error's message, stack and causes have connection-string secrets masked.
 * `false` turns logging off.
 */
export function loggerOptions(logger: boolean | ServiceLoggerOptions | undefined): FastifyServerOptions["logger"] {
  if (logger === false) return false;
  const given = logger === true ? { level: "info" as const } : (logger ?? {});
  return {
    level: given.level ?? "warn",
    ...(given.stream === undefined ? {} : { stream: given.stream }),
    serializers: { err: (error: unknown) => serializeError(error, 0) },
  };
}

interface SerializedError {
  readonly [key: string]: unknown;
  readonly type: string;
  readonly message: string;
  readonly stack: string;
}

function serializeError(error: unknown, depth: number): SerializedError {
  if (!(error instanceof Error)) return { type: typeof error, message: maskConnectionString(String(error)), stack: "" };
  const code = "code" in error && typeof error.code === "string" ? { code: error.code } : {};
  const cause = error.cause !== undefined && depth < 4 ? { cause: serializeError(error.cause, depth + 1) } : {};
  return { type: error.name, message: maskConnectionString(error.message), ...code, stack: maskConnectionString(error.stack ?? ""), ...cause };
}
