import { afterEach } from "vitest";
import { startSimulator, type ScenarioInput, type Simulator, type SimulatorOptions } from "@cloudsession/simulator";
import { createInMemoryStore, type EventStore } from "@cloudsession/store";
import { createEngine, isEngineError, type Engine, type EngineOptions, type SessionHandle } from "../../src/index.js";

/** A simulator and an engine wired through the real SDK client; `dispose()` stops both. */
export interface Harness {
  readonly sim: Simulator;
  readonly engine: Engine;
  readonly store: EventStore;
  dispose(): Promise<void>;
}

/**
 * A request the engine had on the wire when it closed (each new session's one history read) fails
 * as the client is cut off, and the engine reports it: expected at shutdown, not worth a stack trace.
 */
export function isCutConnection(error: unknown): boolean {
  return error instanceof Error && /connection/i.test(error.message);
}

export async function harness(scenario: ScenarioInput, engineOptions: Omit<EngineOptions, "runtimeUrl"> = {}, simOptions: SimulatorOptions = {}): Promise<Harness> {
  const sim = await startSimulator({ seed: 1, timeScale: 0.01, ...scenario }, simOptions);
  const store = engineOptions.store ?? createInMemoryStore();
  let closing = false;
  // Anything else the engine reports is printed, as its default does: a test that expects it passes its own onError.
  const onError = (error: unknown, key: string): void => {
    if (!(closing && isCutConnection(error))) console.error(`cloudsession: session ${key}:`, error);
  };
  const engine = createEngine({ runtimeUrl: sim.url, store, heartbeatMs: 50, onError, ...engineOptions });
  return {
    sim,
    engine,
    store,
    async dispose() {
      closing = true;
      await engine.close();
      await sim.close();
    },
  };
}

/**
 * `harness()` for a test file: each call replaces the previous harness, and the last one is
 * disposed after each test.
 */
export function useHarness(): typeof harness {
  let current: Harness | undefined;
  afterEach(async () => {
    await current?.dispose();
    current = undefined;
  });
  return async (...args) => {
    await current?.dispose();
    current = await harness(...args);
    return current;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls a condition on real time (the simulator runs on scaled real time). */
export async function waitFor(condition: () => boolean, what = "condition", timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function completed(session: SessionHandle): number {
  return session.snapshot().context.prompts.filter((prompt) => prompt.status === "completed").length;
}

/** What the simulated worker really received for this session, in order. */
export function received(sim: Simulator, session: SessionHandle): readonly string[] {
  return sim.stats.sessions.get(session.sessionId ?? "")?.promptsReceived ?? [];
}

/**
 * A careful caller: a send refused because the store was away is tried again under the same
 * promptId (so it is recorded once, whatever the failed try left behind) until it is accepted.
 */
export async function sendUntilAccepted(session: SessionHandle, text: string, promptId: string): Promise<string> {
  for (;;) {
    try {
      return await session.send(text, { promptId });
    } catch (error) {
      if (!isEngineError(error, "STORE_UNAVAILABLE")) throw error;
      await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs ?? 100));
    }
  }
}

/**
 * A session started with `atStart` prompts, then sent one more after each delay (real time), as a
 * user would type them: the session and every prompt, in the order given.
 */
export async function startAndSend(engine: Engine, repository: { owner: string; name: string }, atStart: number, sendDelays: readonly number[]): Promise<{ session: SessionHandle; all: string[] }> {
  const initial = Array.from({ length: atStart }, (_, index) => `initial ${index}`);
  const session = await engine.start({ repository, prompts: initial });
  const all = [...initial];
  for (const [index, delay] of sendDelays.entries()) {
    await sleep(delay);
    const text = `later ${index}`;
    await session.send(text);
    all.push(text);
  }
  return { session, all };
}
