import { createEngine, type Engine, type SessionHandle } from "@cloudsession/engine";
import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore, type EventStore } from "@cloudsession/store";
import { serveDashboard, type ServedDashboard } from "../../src/index.js";

/** A simulator, a store, an engine on both, and the dashboard served on 127.0.0.1 with that engine. */
export interface Scene {
  readonly sim: Simulator;
  readonly store: EventStore;
  readonly engine: Engine;
  readonly served: ServedDashboard;
  close(): Promise<void>;
}

/**
 * Repositories that behave like the CLI demo's (a slow agent, a blocked organisation) plus one
 * whose agent comes only when a test calls `sim.connectAgent`.
 */
export const sceneRepositories = {
  "demo/slow-agent": { agentConnectLatencyMs: [6000, 8000] as [number, number] },
  "demo/blocked-org": { createFault: { kind: "policy_blocked" as const } },
  "octo/held": { agentNeverConnects: true },
  "octo/thinker": { thinkLatencyMs: [60_000, 60_000] as [number, number] },
};

export async function startScene(options: { timeScale?: number; seed?: number } = {}): Promise<Scene> {
  const sim = await startSimulator({ seed: options.seed ?? 7, timeScale: options.timeScale ?? 0.02, repositories: sceneRepositories });
  const store = createInMemoryStore();
  const engine = createEngine({ runtimeUrl: sim.url, store, heartbeatMs: 0 });
  const served = await serveDashboard({ store, engine, feedIntervalMs: 50 });
  return {
    sim,
    store,
    engine,
    served,
    async close() {
      await served.close();
      await engine.close();
      await sim.close();
      await store.close();
    },
  };
}

/** Resolves once `check` passes on the handle's snapshot (checked on every state change and every 20 ms). */
export async function until(handle: SessionHandle, check: (handle: SessionHandle) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!check(handle)) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what} (session ${handle.id} is ${handle.state})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every prompt of the session completed. */
export const allCompleted = (count: number) => (handle: SessionHandle): boolean => {
  const prompts = handle.snapshot().context.prompts;
  return prompts.length === count && prompts.every((prompt) => prompt.status === "completed");
};
