import { CopilotClient, RuntimeConnection, type CopilotClientOptions } from "@github/copilot-sdk";
import { EngineError } from "./engineError.js";
import { fulfilledWithin } from "./fulfilledWithin.js";
import { disableNagle } from "./noDelay.js";

/** How the engine reaches a Copilot runtime. */
export type RuntimeTarget =
  /** A client the caller owns. The engine never stops it, and cannot reconnect it. */
  | { readonly kind: "client"; readonly client: CopilotClient }
  /** A runtime already listening (e.g. the simulator). The engine owns its clients and reconnects. */
  | { readonly kind: "uri"; readonly url: string; readonly connectionToken?: string }
  /** The engine spawns the runtime (live mode) and owns it. */
  | { readonly kind: "spawn"; readonly options: CopilotClientOptions };

export interface RuntimeIdentity {
  /** Becomes the runtime's `GITHUB_COPILOT_INTEGRATION_ID` when the engine spawns it. */
  readonly integrationId?: string;
  /** Becomes the runtime's `COPILOT_MC_BASE_URL` when the engine spawns it. */
  readonly missionControlBaseUrl?: string;
}

/**
 * Holds the current SDK client and replaces it when its connection is lost. Integration id and
 * Mission Control base URL are read by the runtime from its own environment: they are set here
 * only for a runtime the engine spawns; an external runtime must be started with them.
 */
export class RuntimeConnectionManager {
  private current: CopilotClient | undefined;
  private starting: Promise<CopilotClient> | undefined;
  private generation = 0;
  private stopped = false;
  private lastActivityAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly target: RuntimeTarget,
    private readonly identity: RuntimeIdentity,
  ) {}

  /** Whether a lost connection can be replaced by a new client. */
  get canReconnect(): boolean {
    return this.target.kind !== "client";
  }

  /** Increases each time the client is replaced; sessions attached to an older one must re-attach. */
  get clientGeneration(): number {
    return this.generation;
  }

  /** The connected client, started on first use. Refused once the engine stopped. */
  client(): Promise<CopilotClient> {
    if (this.stopped) return Promise.reject(new EngineError("ENGINE_CLOSED", "the engine is closed"));
    if (this.current) return Promise.resolve(this.current);
    this.starting ??= this.connect().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Drops the current client (its connection is gone) so the next `client()` makes a new one. */
  async replace(): Promise<void> {
    const old = this.current;
    if (!old || !this.canReconnect) return;
    this.current = undefined;
    await old.forceStop().catch(() => undefined);
  }

  /** Something arrived over the connection at `at`: no need to ping it for a while. */
  noteActivity(at: number): void {
    this.lastActivityAt = at;
  }

  /** When the connection last showed it was alive (an event arrived). */
  get lastActivity(): number {
    return this.lastActivityAt;
  }

  /**
   * Is the current connection alive? A closed connection fails `ping` at once (`"failed"`); a
   * slow answer (`"timeout"`) may be a dead peer or only a busy event loop, so the caller decides.
   */
  async health(timeoutMs: number): Promise<"ok" | "timeout" | "failed"> {
    const client = this.current;
    if (!client) return "ok";
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([client.ping().then(() => "ok" as const), timedOut]);
    } catch {
      return "failed";
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // A connection still being made would otherwise outlive the engine and keep the process alive.
    const client = this.current ?? (await this.starting?.catch(() => undefined));
    this.current = undefined;
    if (client && this.target.kind !== "client") await stopWithin(client, STOP_GRACE_MS);
  }

  private async connect(): Promise<CopilotClient> {
    const client = this.createClient();
    await client.start();
    // A client handed in is the caller's to configure; ours get Nagle off (see `disableNagle`).
    if (this.target.kind !== "client") disableNagle(client);
    this.current = client;
    this.generation++;
    return client;
  }

  private createClient(): CopilotClient {
    switch (this.target.kind) {
      case "client":
        return this.target.client;
      case "uri": {
        const token = this.target.connectionToken;
        return new CopilotClient({
          connection: RuntimeConnection.forUri(this.target.url, token === undefined ? {} : { connectionToken: token }),
        });
      }
      case "spawn":
        return new CopilotClient({ ...this.target.options, env: runtimeEnvironment(this.target.options.env ?? process.env, this.identity) });
    }
  }
}

/**
 * The environment of a runtime the engine spawns: the runtime, not the SDK client, reads the
 * integration id and the Mission Control base URL.
 */
export function runtimeEnvironment(base: Readonly<Record<string, string | undefined>>, identity: RuntimeIdentity): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base };
  if (identity.integrationId !== undefined) env.GITHUB_COPILOT_INTEGRATION_ID = identity.integrationId;
  if (identity.missionControlBaseUrl !== undefined) env.COPILOT_MC_BASE_URL = identity.missionControlBaseUrl;
  return env;
}

/** How long a graceful client stop may take before the connection is cut instead. */
const STOP_GRACE_MS = 10_000;

/** `client.stop()`, or `forceStop()` when the runtime does not answer in time: closing never hangs on it. */
async function stopWithin(client: CopilotClient, graceMs: number): Promise<void> {
  if (!(await fulfilledWithin(client.stop(), graceMs))) await client.forceStop().catch(() => undefined);
}
