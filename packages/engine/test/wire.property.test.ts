import { startSimulator } from "@cloudsession/simulator";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createEngine } from "../src/index.js";
import { completed, received, startAndSend, waitFor } from "./support/harness.js";

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
            const { session, all } = await startAndSend(engine, { owner: "octo", name: "prop" }, atStart, sendDelays);
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
