import { CopilotClient, RuntimeConnection, type CopilotClientOptions } from "@github/copilot-sdk";
import { EngineError } from "./engineError.js";
import { fulfilledWithin } from "./fulfilledWithin.js";
import { watchConnection } from "./connectionWatch.js";
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
 * Holds the current SDK client and replaces it when its connection is lost: the transport's close
 * is reported at once to whoever listens ({@link onLost}), and the next `client()` connects anew.
 * Integration id and
 * Mission Control base URL are read by the runtime from its own environment: they are set here
 * only for a runtime the engine spawns; an external runtime must be started with them.
 */
export class RuntimeConnectionManager {
  private current: CopilotClient | undefined;
  private starting: Promise<CopilotClient> | undefined;
  private generation = 0;
  private stopped = false;
  private lastActivityAt = Number.NEGATIVE_INFINITY;
  /** The generation whose connection was lost; a client handed in stays current, but not in contact. */
  private lostGeneration = -1;
  private readonly lostListeners = new Set<() => void>();
  private unwatch: (() => void) | undefined;

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

  /** Whether a session attached under `generation` is attached to the live connection. */
  isCurrent(generation: number): boolean {
    return this.current !== undefined && generation === this.generation && generation !== this.lostGeneration;
  }

  /**
   * Calls `listener` each time the connection is found lost (the transport closed, a heartbeat or a
   * call found it gone): the sessions attached to it are out of contact until they re-attach.
   */
  onLost(listener: () => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /**
   * Drops the current client (its connection is gone, or not answering) so the next `client()`
   * makes a new one, and tells the listeners. A client handed in is not stopped: it is only marked
   * lost.
   */
  async replace(): Promise<void> {
    const old = this.current;
    if (!old || this.lostGeneration === this.generation) return;
    this.lostGeneration = this.generation;
    this.unwatch?.();
    this.unwatch = undefined;
    if (!this.canReconnect) {
      this.emitLost();
      return;
    }
    this.current = undefined;
    // Stopped before anyone hears of the loss: a send queued on the old connection is not written.
    const stopping = old.forceStop().catch(() => undefined);
    this.emitLost();
    await stopping;
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
    this.unwatch?.();
    this.unwatch = undefined;
    // A connection still being made would otherwise outlive the engine and keep the process alive.
    const client = this.current ?? (await this.starting?.catch(() => undefined));
    this.current = undefined;
    if (client && this.target.kind !== "client") await stopWithin(client, STOP_GRACE_MS);
  }

  private async connect(): Promise<CopilotClient> {
    const client = this.createClient();
    // A connection cut during the SDK's handshake leaves its request pending for good (the SDK does
    // not reject it on close): without a bound, every later client() would wait on this one.
    const started = client.start().then(() => true);
    if (!(await Promise.race([started, settledAfter(CONNECT_TIMEOUT_MS, false)]))) {
      if (this.target.kind !== "client") await client.forceStop().catch(() => undefined);
      throw new Error(`the connection to the runtime was lost: no handshake within ${CONNECT_TIMEOUT_MS} ms`);
    }
    // A client handed in is the caller's to configure; ours get Nagle off (see `disableNagle`).
    if (this.target.kind !== "client") disableNagle(client);
    this.current = client;
    this.generation++;
    // The transport's close is news at once; waiting for the heartbeat left sessions blind for seconds.
    this.unwatch = watchConnection(client, () => {
      if (this.current === client && !this.stopped) void this.replace();
    });
    return client;
  }

  private emitLost(): void {
    for (const listener of this.lostListeners) listener();
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

/** How long the SDK's handshake with the runtime may take before the attempt counts as lost. */
const CONNECT_TIMEOUT_MS = 10_000;

/** How long a graceful client stop may take before the connection is cut instead. */
const STOP_GRACE_MS = 10_000;

/** `client.stop()`, or `forceStop()` when the runtime does not answer in time: closing never hangs on it. */
async function stopWithin(client: CopilotClient, graceMs: number): Promise<void> {
  if (!(await fulfilledWithin(client.stop(), graceMs))) await client.forceStop().catch(() => undefined);
}

/** `value` after `ms` of real time, on a timer that does not hold the process open. */
function settledAfter<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}
