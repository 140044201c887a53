import { readFileSync } from "node:fs";
import { ServiceError } from "./serviceError.js";
import type { LogLevel } from "./serviceLogger.js";

/** What the service reads from its environment. */
export interface ServiceConfig {
  /** Interface to bind. Loopback unless told otherwise; anything else needs `tokens`. */
  readonly host: string;
  /** `0` picks a free port (printed on start). */
  readonly port: number;
  /** A `postgres://` URL, or a PGlite data directory. */
  readonly store: string;
  /** A runtime already listening (e.g. the simulator); otherwise the engine spawns the bundled one. */
  readonly runtimeUrl: string | undefined;
  readonly connectionToken: string | undefined;
  /**
   * Set to run as one of several instances on one PostgreSQL (the engine's cluster mode): each
   * instance needs its own id; sessions fail over between them.
   */
  readonly instanceId: string | undefined;
  /** API tokens a request must bear (`Authorization: Bearer …`); empty: none needed (loopback only). */
  readonly tokens: readonly string[];
  /** The service's public host names, for the `Host` allow-list. */
  readonly allowedHosts: readonly string[];
  /** Origins whose pages may call the API (CORS). */
  readonly allowedOrigins: readonly string[];
  /** Fastify's `trustProxy`: `true`, or the proxies' addresses / CIDRs. */
  readonly trustProxy: boolean | string | undefined;
  readonly logLevel: LogLevel;
}

type Env = Readonly<Record<string, string | undefined>>;

const logLevels: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Reads the configuration: `HOST` (default `127.0.0.1`), `PORT` (default 3000), `DATABASE_URL`
 * (PostgreSQL) else `CLOUDSESSION_DATA_DIR` (PGlite, default `./.cloudsession-service`),
 * `COPILOT_RUNTIME_URL`, `COPILOT_CONNECTION_TOKEN`, `CLOUDSESSION_INSTANCE_ID` (cluster mode;
 * needs `DATABASE_URL`), `CLOUDSESSION_API_TOKENS` (comma-separated) or `CLOUDSESSION_API_TOKENS_FILE`
 * (one token a line, `#` comments), `CLOUDSESSION_ALLOWED_HOSTS` and `CLOUDSESSION_ALLOWED_ORIGINS`
 * (comma-separated), `CLOUDSESSION_TRUST_PROXY` (`true` or the proxies' addresses) and `LOG_LEVEL`
 * (default `info`).
 *
 * @example
 * const config = readConfig({ PORT: "0", COPILOT_RUNTIME_URL: "127.0.0.1:4321" });
 * @throws ServiceError `INVALID_CONFIG`
 */
export function readConfig(env: Env): ServiceConfig {
  const port = Number(env.PORT ?? "3000");
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ServiceError("INVALID_CONFIG", `PORT must be a port number, got ${env.PORT ?? ""}`);
  const logLevel = (nonEmpty(env.LOG_LEVEL) ?? "info") as LogLevel;
  if (!logLevels.includes(logLevel)) throw new ServiceError("INVALID_CONFIG", `LOG_LEVEL must be one of ${logLevels.join(", ")}`);
  return {
    host: nonEmpty(env.HOST) ?? "127.0.0.1",
    port,
    store: nonEmpty(env.DATABASE_URL) ?? nonEmpty(env.CLOUDSESSION_DATA_DIR) ?? "./.cloudsession-service",
    runtimeUrl: nonEmpty(env.COPILOT_RUNTIME_URL),
    connectionToken: nonEmpty(env.COPILOT_CONNECTION_TOKEN),
    instanceId: clusterInstance(env),
    tokens: apiTokens(env),
    allowedHosts: list(env.CLOUDSESSION_ALLOWED_HOSTS),
    allowedOrigins: list(env.CLOUDSESSION_ALLOWED_ORIGINS),
    trustProxy: trustProxy(env.CLOUDSESSION_TRUST_PROXY),
    logLevel,
  };
}

function clusterInstance(env: Env): string | undefined {
  const instanceId = nonEmpty(env.CLOUDSESSION_INSTANCE_ID);
  // Instances on separate embedded stores would each think they own every session.
  if (instanceId !== undefined && nonEmpty(env.DATABASE_URL) === undefined) throw new ServiceError("INVALID_CONFIG", "CLOUDSESSION_INSTANCE_ID needs DATABASE_URL: several instances share one PostgreSQL");
  return instanceId;
}

/** Tokens from the environment, or from a file (a secret mounted by the orchestrator) — one of them. */
function apiTokens(env: Env): readonly string[] {
  const inline = nonEmpty(env.CLOUDSESSION_API_TOKENS);
  const file = nonEmpty(env.CLOUDSESSION_API_TOKENS_FILE);
  if (inline !== undefined && file !== undefined) throw new ServiceError("INVALID_CONFIG", "set CLOUDSESSION_API_TOKENS or CLOUDSESSION_API_TOKENS_FILE, not both");
  if (file === undefined) return list(inline);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ServiceError("INVALID_CONFIG", `cannot read CLOUDSESSION_API_TOKENS_FILE ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const tokens = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  if (tokens.length === 0) throw new ServiceError("INVALID_CONFIG", `CLOUDSESSION_API_TOKENS_FILE ${file} holds no token`);
  return tokens;
}

function trustProxy(value: string | undefined): boolean | string | undefined {
  const given = nonEmpty(value);
  if (given === undefined || given === "false") return undefined;
  return given === "true" ? true : given;
}

function list(value: string | undefined): readonly string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
