import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CopilotClient, RuntimeConnection, type SessionEvent } from "@github/copilot-sdk";
import { findBundledRuntime } from "./bundledRuntime.js";
import { FAKE_TOKEN, startCapiStub, type CapiStub } from "./capiStub.js";
import { createIsolatedHome, runtimeEnv, type IsolatedHome } from "./runtimeEnv.js";

/** The real bundled runtime on loopback: a stub for its HTTP calls, a throwaway home, and its SDK clients. */
export interface RealRuntime {
  readonly stub: CapiStub;
  readonly home: IsolatedHome;
  readonly env: Readonly<Record<string, string>>;
  /** Starts a `CopilotClient` that spawns its own runtime process over stdio (same home, same stub). */
  newClient(): Promise<CopilotClient>;
  /** The session's `events.jsonl` as the runtime stored it, or undefined if there is none yet. */
  storedLog(sessionId: string): SessionEvent[] | undefined;
  /** Stops every client (force-stopping any that hang), closes the stub, removes the home. */
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 15_000;

/**
 * Starts the loopback stub and prepares clients for the runtime bundled with `@github/copilot-sdk`.
 * Throws when the platform package is missing (callers check {@link findBundledRuntime} first and skip).
 *
 * @example
 * const runtime = await startRealRuntime();
 * try {
 *   const client = await runtime.newClient();
 *   const session = await client.createSession({ onPermissionRequest: approveAll });
 *   await session.sendAndWait("Say hello");
 * } finally {
 *   await runtime.stop();
 * }
 */
export async function startRealRuntime(options: { readonly keepHome?: boolean } = {}): Promise<RealRuntime> {
  const launcher = findBundledRuntime();
  if (launcher === undefined) throw new Error("the Copilot runtime platform package is not installed");
  const stub = await startCapiStub();
  const home = createIsolatedHome();
  const env = runtimeEnv({ stubUrl: stub.url, home });
  const clients: CopilotClient[] = [];
  return {
    stub,
    home,
    env,
    async newClient() {
      const client = new CopilotClient({
        connection: RuntimeConnection.forStdio({ path: launcher, env }),
        gitHubToken: FAKE_TOKEN,
        useLoggedInUser: false,
        workingDirectory: home.workDir,
      });
      clients.push(client);
      await client.start();
      return client;
    },
    storedLog(sessionId) {
      const file = join(home.copilotHome, "session-state", sessionId, "events.jsonl");
      if (!existsSync(file)) return undefined;
      return readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as SessionEvent);
    },
    async stop() {
      await Promise.allSettled(clients.map((client) => stopClient(client)));
      await stub.close();
      if (options.keepHome !== true) home.remove();
    },
  };
}

/** `client.stop()`, time-boxed; a runtime that does not shut down is killed with `forceStop()`. */
export async function stopClient(client: CopilotClient, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => { resolve("timeout"); }, timeoutMs);
  });
  try {
    const result = await Promise.race([client.stop().then(() => "stopped" as const), timedOut]);
    if (result === "timeout") await client.forceStop();
  } catch {
    await client.forceStop();
  } finally {
    clearTimeout(timer);
  }
}
