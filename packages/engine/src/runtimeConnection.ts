import { CopilotClient, RuntimeConnection, type CopilotClientOptions } from "@github/copilot-sdk";

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

  /** The connected client, started on first use. */
  client(): Promise<CopilotClient> {
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

  /**
   * Is the current connection alive? A closed connection fails `ping` at once; a half-dead one
   * may never answer, hence the time limit.
   */
  async healthy(timeoutMs: number): Promise<boolean> {
    const client = this.current;
    if (!client) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([client.ping().then(() => true), timedOut]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    if (client && this.target.kind !== "client") await client.stop().catch(() => undefined);
  }

  private async connect(): Promise<CopilotClient> {
    const client = this.createClient();
    await client.start();
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
      case "spawn": {
        const env: Record<string, string | undefined> = { ...(this.target.options.env ?? process.env) };
        if (this.identity.integrationId !== undefined) env.GITHUB_COPILOT_INTEGRATION_ID = this.identity.integrationId;
        if (this.identity.missionControlBaseUrl !== undefined) env.COPILOT_MC_BASE_URL = this.identity.missionControlBaseUrl;
        return new CopilotClient({ ...this.target.options, env });
      }
    }
  }
}
