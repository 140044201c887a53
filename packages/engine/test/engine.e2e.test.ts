import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore, type EventStore } from "@cloudsession/store";
import { afterEach, describe, expect, test } from "vitest";
import { createEngine, type Engine } from "../src/index.js";

const timeScale = 0.01;
let sim: Simulator | undefined;
let engine: Engine | undefined;

afterEach(async () => {
  await engine?.close();
  await sim?.close();
  engine = undefined;
  sim = undefined;
});

describe("engine against the simulator, through the real SDK client", () => {
  test("normal: prompts given at start are delivered once, in order, and the URL is kept", async () => {
    sim = await startSimulator({ seed: 1, timeScale });
    engine = createEngine({ runtimeUrl: sim.url });
    const session = await engine.start({ repository: { owner: "octo", name: "demo" }, prompts: ["first", "second"] });
    expect(session.state).toBe("reserving");
    const states: string[] = [];
    session.state$.subscribe((state) => states.push(state));
    // Wait until both turns completed, then close.
    await waitFor(() => session.snapshot().context.prompts.filter((prompt) => prompt.status === "completed").length === 2);
    const outcome = await session.close();
    expect(outcome.state).toBe("closed");
    expect(outcome.prompts.map((prompt) => prompt.status)).toEqual(["completed", "completed"]);
    expect(outcome.prompts[0]?.reply).toContain("first");
    expect(session.remoteUrl).toBe(`https://github.com/copilot/tasks/${session.sessionId ?? ""}`);
    expect(states.slice(0, 3)).toEqual(["reserving", "awaiting-agent", "ready"]);
    expect(states.at(-1)).toBe("closed");
    const stats = sim.stats.sessions.get(session.sessionId ?? "");
    expect(stats?.promptsReceived).toEqual(["first", "second"]);
    expect(stats?.promptsDropped).toEqual([]);
    expect(stats?.createParams).toMatchObject({ cloudPassed: true, sessionIdPassed: false, streaming: true, repository: "octo/demo" });
  });

  test("a prompt's dispatch intent is written in the same append as the event that made it due", async () => {
    sim = await startSimulator({ seed: 3, timeScale, defaults: { noise: false } });
    const store = createInMemoryStore();
    const appends: string[][] = [];
    const watched: EventStore = {
      ...store,
      append: (streamId, events, options) => {
        appends.push(events.map((event) => event.type));
        return store.append(streamId, events, options);
      },
    };
    engine = createEngine({ runtimeUrl: sim.url, store: watched });
    const session = await engine.start({ repository: { owner: "octo", name: "one-write" }, prompts: ["queued"] });
    await waitFor(() => session.snapshot().context.prompts.filter((prompt) => prompt.status === "completed").length === 1);
    await session.send("while ready");
    await waitFor(() => session.snapshot().context.prompts.filter((prompt) => prompt.status === "completed").length === 2);
    await session.close();
    // The agent's start makes the queued prompt due; a prompt submitted while ready is due at once.
    expect(appends).toContainEqual(["agent.started", "prompt.dispatching"]);
    expect(appends).toContainEqual(["prompt.submitted", "prompt.dispatching"]);
    expect(appends.flat().filter((type) => type === "prompt.dispatching")).toHaveLength(2);
    expect(appends.some((types) => types.length === 1 && types[0] === "prompt.dispatching")).toBe(false);
    expect(sim.stats.sessions.get(session.sessionId ?? "")?.promptsReceived).toEqual(["queued", "while ready"]);
  });

  test("the prompt is sent before subscribers hear of its dispatch intent: a slow subscriber cannot hold it up", async () => {
    sim = await startSimulator({ seed: 3, timeScale, defaults: { noise: false } });
    const sends: string[] = [];
    engine = createEngine({ runtimeUrl: sim.url, probe: (point, key) => point === "before:send" && sends.push(key) });
    const session = await engine.start({ repository: { owner: "octo", name: "slow-subscriber" }, prompts: ["queued"] });
    const sentWhenHeard: number[] = [];
    session.events$.subscribe((event) => {
      if (event.type === "prompt.dispatching") sentWhenHeard.push(sends.filter((key) => key === session.id).length);
    });
    await waitFor(() => session.snapshot().context.prompts.some((prompt) => prompt.status === "completed"));
    await session.send("while ready");
    await waitFor(() => session.snapshot().context.prompts.filter((prompt) => prompt.status === "completed").length === 2);
    await session.close();
    // Both intents (queued before the agent came, and sent while ready) were heard with their send already made.
    expect(sentWhenHeard).toEqual([1, 2]);
  });

  test("policy_blocked: blocked, never retried, prompts undelivered", async () => {
    sim = await startSimulator({ seed: 2, timeScale, defaults: { createFault: { kind: "policy_blocked" } } });
    engine = createEngine({ runtimeUrl: sim.url });
    const session = await engine.start({ repository: { owner: "octo", name: "demo" }, prompts: ["hello"] });
    const outcome = await session.outcome;
    expect(outcome.state).toBe("blocked");
    expect(outcome.failure).toMatchObject({ phase: "reserving", reason: "policy_blocked" });
    expect(outcome.prompts).toEqual([expect.objectContaining({ status: "undelivered", reason: "session-blocked" })]);
    expect(sim.stats.createAttempts).toBe(1);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
