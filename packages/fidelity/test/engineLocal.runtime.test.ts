import { createEngine } from "@cloudsession/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findBundledRuntime, missingRuntimeBanner } from "../src/bundledRuntime.js";
import { startRealRuntime, type RealRuntime } from "../src/realRuntime.js";

// The engine itself (not only its adapter) on the REAL runtime: a local session has the same
// lifecycle as a cloud one, without Mission Control — its session.start arrives during create.
const launcher = findBundledRuntime();
if (launcher === undefined) console.warn(missingRuntimeBanner("packages/fidelity/test/engineLocal.runtime.test.ts"));
const describeRuntime = launcher === undefined ? describe.skip : describe;

describeRuntime("the engine on the real runtime (local session)", () => {
  let runtime: RealRuntime;

  beforeAll(async () => {
    runtime = await startRealRuntime();
  }, 120_000);

  afterAll(async () => {
    await runtime.stop();
  }, 60_000);

  it("queues, dispatches in order, streams, and closes with every prompt completed", async () => {
    runtime.stub.setChatScript({ text: "Hello from the stub model." });
    const engine = createEngine({ client: await runtime.newClient(), heartbeatMs: 0 });
    try {
      const session = await engine.start({
        repository: { owner: "local", name: "workspace" },
        local: { workingDirectory: runtime.home.workDir },
        prompts: ["Say hello", "Say hello again"],
      });
      const states: string[] = [];
      session.state$.subscribe((state) => states.push(state));
      const answers: string[] = [];
      session.text$.subscribe(({ text, done }) => done && answers.push(text));
      const started = Date.now();
      while (session.snapshot().context.prompts.filter((prompt) => prompt.status === "completed").length < 2) {
        if (Date.now() - started > 60_000) throw new Error(`not done: ${JSON.stringify(session.snapshot().context.prompts)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const outcome = await session.close();
      expect(outcome.state).toBe("closed");
      expect(outcome.prompts.map((prompt) => [prompt.text, prompt.status, prompt.reply])).toEqual([
        ["Say hello", "completed", "Hello from the stub model."],
        ["Say hello again", "completed", "Hello from the stub model."],
      ]);
      expect(answers).toEqual(["Hello from the stub model.", "Hello from the stub model."]);
      expect(states).toEqual(["reserving", "awaiting-agent", "ready", "streaming", "ready", "streaming", "ready", "closed"]);
      // No remote URL for a local session, and each prompt went to the model once.
      expect(session.remoteUrl).toBeNull();
      const userTurns = runtime.stub.requests.filter((request) => request.path.startsWith("/chat/completions"));
      expect(userTurns).toHaveLength(2);
    } finally {
      await engine.close();
    }
  }, 120_000);
});
