import type { EngineLimits, EngineOptions } from "@cloudsession/engine";
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
  /** The store's SQL schema (several deployments on one database); the store's default, `cloudsession`, when unset. */
  readonly schema: string | undefined;
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
  /** What the engine accepts at most; a limit left out is the engine's default. */
  readonly engineLimits: EngineLimitsInput;
  /** Sessions holding a runtime session at once (the engine's `maxConcurrent`); the engine's default when unset. */
  readonly maxConcurrent: number | undefined;
  /** How long a new session may take to reserve its task, for its agent to start, and a turn to stay silent; unset, the engine's defaults. */
  readonly engineTimeouts: EngineTimeoutsInput;
}

/** The engine's `limits` option: any of `maxQueuedPrompts`, `maxPromptBytes`, `maxWaitingSessions`. */
export type EngineLimitsInput = Partial<EngineLimits>;

/** The engine's `timeouts` option: any of `reservationTimeoutMs`, `agentStartTimeoutMs`, `turnStallTimeoutMs`. */
export type EngineTimeoutsInput = NonNullable<EngineOptions["timeouts"]>;

type Env = Readonly<Record<string, string | undefined>>;

const logLevels: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Reads the configuration: `HOST` (default `127.0.0.1`), `PORT` (default 3000), `DATABASE_URL`
 * (PostgreSQL) else `CLOUDSESSION_DATA_DIR` (PGlite, default `./.cloudsession-service`),
 * `COPILOT_RUNTIME_URL`, `COPILOT_CONNECTION_TOKEN`, `CLOUDSESSION_INSTANCE_ID` (cluster mode;
 * needs `DATABASE_URL`), `CLOUDSESSION_API_TOKENS` (comma-separated) or `CLOUDSESSION_API_TOKENS_FILE`
 * (one token a line, `#` comments), `CLOUDSESSION_ALLOWED_HOSTS` and `CLOUDSESSION_ALLOWED_ORIGINS`
 * (comma-separated), `CLOUDSESSION_TRUST_PROXY` (`true` or the proxies' addresses), `LOG_LEVEL`
 * (default `info`), `CLOUDSESSION_DB_SCHEMA` (the store's schema), and the engine's intake limits
 * `CLOUDSESSION_MAX_QUEUED_PROMPTS`, `CLOUDSESSION_MAX_PROMPT_BYTES`, `CLOUDSESSION_MAX_WAITING_SESSIONS`
 * and `CLOUDSESSION_MAX_CONCURRENT`, and its session timeouts `CLOUDSESSION_RESERVATION_TIMEOUT_MS`,
 * `CLOUDSESSION_AGENT_START_TIMEOUT_MS` and `CLOUDSESSION_TURN_STALL_TIMEOUT_MS` (whole numbers above
 * 0; unset, the engine's defaults).
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
    schema: schemaName(env.CLOUDSESSION_DB_SCHEMA),
    runtimeUrl: nonEmpty(env.COPILOT_RUNTIME_URL),
    connectionToken: nonEmpty(env.COPILOT_CONNECTION_TOKEN),
    instanceId: clusterInstance(env),
    tokens: apiTokens(env),
    allowedHosts: list(env.CLOUDSESSION_ALLOWED_HOSTS),
    allowedOrigins: list(env.CLOUDSESSION_ALLOWED_ORIGINS),
    trustProxy: trustProxy(env.CLOUDSESSION_TRUST_PROXY),
    logLevel,
    engineLimits: withoutUnset({
      maxQueuedPrompts: count(env, "CLOUDSESSION_MAX_QUEUED_PROMPTS"),
      maxPromptBytes: count(env, "CLOUDSESSION_MAX_PROMPT_BYTES"),
      maxWaitingSessions: count(env, "CLOUDSESSION_MAX_WAITING_SESSIONS"),
    }),
    maxConcurrent: count(env, "CLOUDSESSION_MAX_CONCURRENT"),
    engineTimeouts: withoutUnset({
      reservationTimeoutMs: count(env, "CLOUDSESSION_RESERVATION_TIMEOUT_MS"),
      agentStartTimeoutMs: count(env, "CLOUDSESSION_AGENT_START_TIMEOUT_MS"),
      turnStallTimeoutMs: count(env, "CLOUDSESSION_TURN_STALL_TIMEOUT_MS"),
    }),
  };
}

/** A variable holding a whole number above 0; `undefined` when it is unset. */
function count(env: Env, name: string): number | undefined {
  const given = nonEmpty(env[name])?.trim();
  if (given === undefined) return undefined;
  const value = /^\d{1,15}$/.test(given) ? Number(given) : 0;
  if (value < 1) throw new ServiceError("INVALID_CONFIG", `${name} must be a whole number above 0, got ${given}`);
  return value;
}

/** The settings that were set: one left out takes the engine's default. */
function withoutUnset<T extends Record<string, number>>(settings: { readonly [K in keyof T]: number | undefined }): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** A plain SQL identifier: the store would quote anything, but a name that needs quoting is more likely a slip (a stray quote or space) than a choice. */
function schemaName(value: string | undefined): string | undefined {
  const given = nonEmpty(value)?.trim();
  if (given === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(given)) throw new ServiceError("INVALID_CONFIG", `CLOUDSESSION_DB_SCHEMA must be a plain SQL identifier (letters, digits, _; at most 63), got ${given}`);
  return given;
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
