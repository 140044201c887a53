import { CopilotClient, RuntimeConnection, type CopilotSession, type SessionEvent } from "@github/copilot-sdk";
import { afterEach } from "vitest";
import { startSimulator, type ScenarioInput, type Simulator, type SimulatorOptions } from "../src/index.js";

/** A real SDK client connected to the simulator. */
export async function connectClient(sim: Simulator, connectionToken?: string): Promise<CopilotClient> {
  const client = new CopilotClient({
    connection: RuntimeConnection.forUri(sim.url, connectionToken === undefined ? {} : { connectionToken }),
  });
  await client.start();
  return client;
}

/**
 * Simulators and clients for one test file, all stopped after each test.
 *
 * @example
 * const { sim, client } = useSimulators({ timeScale: 0.01, seed: 1 });
 */
export function useSimulators(defaultScenario: ScenarioInput): {
  sim: (scenario?: ScenarioInput, options?: SimulatorOptions) => Promise<Simulator>;
  client: (sim: Simulator, connectionToken?: string) => Promise<CopilotClient>;
} {
  let sims: Simulator[] = [];
  let clients: CopilotClient[] = [];
  afterEach(async () => {
    await Promise.allSettled(clients.map((c) => c.stop()));
    await Promise.all(sims.map((s) => s.close()));
    sims = [];
    clients = [];
  });
  return {
    async sim(scenario = defaultScenario, options = {}) {
      const s = await startSimulator(scenario, options);
      sims.push(s);
      return s;
    },
    async client(s, connectionToken) {
      const c = await connectClient(s, connectionToken);
      clients.push(c);
      return c;
    },
  };
}

/** Records every event a session delivers, and lets a test wait for one. */
export interface Recorder {
  readonly events: SessionEvent[];
  readonly types: () => string[];
  waitFor(predicate: (event: SessionEvent) => boolean, timeoutMs?: number): Promise<SessionEvent>;
}

export function record(session: CopilotSession): Recorder {
  const events: SessionEvent[] = [];
  const waiters: { predicate: (e: SessionEvent) => boolean; resolve: (e: SessionEvent) => void }[] = [];
  session.on((event) => {
    events.push(event);
    for (const w of [...waiters]) {
      if (w.predicate(event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  });
  return {
    events,
    types: () => events.map((e) => e.type),
    waitFor: (predicate, timeoutMs = 5_000) => {
      const found = events.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<SessionEvent>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`timed out after ${timeoutMs} ms; saw ${events.map((e) => e.type).join(", ")}`));
        }, timeoutMs);
        waiters.push({
          predicate,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
  };
}

export const isAgentStart = (e: SessionEvent): boolean => e.type === "session.start" && e.data.producer === "copilot-agent";
export const isIdle = (e: SessionEvent): boolean => e.type === "session.idle";

/** Real-time pause, for asserting that something does NOT happen within a window. */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const repo = (owner: string, name: string) => ({ cloud: { repository: { owner, name } } });

/** Resolves to "pending" if `promise` has not settled within `ms`. */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<"pending" | { value: T } | { error: unknown }> {
  return Promise.race([
    promise.then((value) => ({ value }), (error: unknown) => ({ error })),
    pause(ms).then(() => "pending" as const),
  ]);
}
