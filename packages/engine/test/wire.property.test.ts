import { startSimulator } from "@cloudsession/simulator";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createEngine } from "../src/index.js";
import { completed, received, sleep, waitFor } from "./support/harness.js";

describe("over the real wire", () => {
  // Each case starts a simulator and drives real JSON-RPC, so cases are few but each is a whole
  // session: fast-check picks the runtime's latencies and when the user sends.
  test("the worker never loses a prompt and no send reaches the runtime before the agent start", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          reservationMs: fc.integer({ min: 0, max: 3_000 }),
          agentMs: fc.integer({ min: 0, max: 6_000 }),
          sendDelays: fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 4 }),
          atStart: fc.integer({ min: 0, max: 2 }),
          seed: fc.integer({ min: 1, max: 1_000_000 }),
        }),
        async ({ reservationMs, agentMs, sendDelays, atStart, seed }) => {
          const sim = await startSimulator({
            seed,
            timeScale: 0.01,
            defaults: { reservationLatencyMs: [reservationMs, reservationMs], agentConnectLatencyMs: [agentMs, agentMs], noise: false },
          });
          const engine = createEngine({ runtimeUrl: sim.url, heartbeatMs: 0 });
          try {
            const initial = Array.from({ length: atStart }, (_, index) => `initial ${index}`);
            const session = await engine.start({ repository: { owner: "octo", name: "prop" }, prompts: initial });
            const later: string[] = [];
            for (const [index, delay] of sendDelays.entries()) {
              await sleep(delay);
              const text = `later ${index}`;
              await session.send(text);
              later.push(text);
            }
            const all = [...initial, ...later];
            await waitFor(() => completed(session) === all.length, "every turn");
            expect(received(sim, session)).toEqual(all);
            expect(sim.stats.dropped).toEqual([]);
            expect(sim.stats.sendsReceived).toBe(all.length);
            await session.close();
          } finally {
            await engine.close();
            await sim.close();
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});
