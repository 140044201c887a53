/** What the service reads from its environment. */
export interface ServiceConfig {
  /** Interface to bind. Loopback unless told otherwise: the API has no authentication of its own. */
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
}

/**
 * Reads the configuration: `HOST` (default `127.0.0.1`), `PORT` (default 3000), `DATABASE_URL`
 * (PostgreSQL) else `CLOUDSESSION_DATA_DIR` (PGlite, default `./.cloudsession-service`),
 * `COPILOT_RUNTIME_URL`, `COPILOT_CONNECTION_TOKEN`, and `CLOUDSESSION_INSTANCE_ID` (cluster mode;
 * needs `DATABASE_URL`).
 *
 * @example
 * const config = readConfig({ PORT: "0", COPILOT_RUNTIME_URL: "127.0.0.1:4321" });
 */
export function readConfig(env: Readonly<Record<string, string | undefined>>): ServiceConfig {
  const port = Number(env.PORT ?? "3000");
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got ${env.PORT ?? ""}`);
  return {
    host: nonEmpty(env.HOST) ?? "127.0.0.1",
    port,
    store: nonEmpty(env.DATABASE_URL) ?? nonEmpty(env.CLOUDSESSION_DATA_DIR) ?? "./.cloudsession-service",
    runtimeUrl: nonEmpty(env.COPILOT_RUNTIME_URL),
    connectionToken: nonEmpty(env.COPILOT_CONNECTION_TOKEN),
    instanceId: clusterInstance(env),
  };
}

function clusterInstance(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const instanceId = nonEmpty(env.CLOUDSESSION_INSTANCE_ID);
  // Instances on separate embedded stores would each think they own every session.
  if (instanceId !== undefined && nonEmpty(env.DATABASE_URL) === undefined) throw new Error("CLOUDSESSION_INSTANCE_ID needs DATABASE_URL: several instances share one PostgreSQL");
  return instanceId;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
