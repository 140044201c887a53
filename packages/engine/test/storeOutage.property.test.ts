import { startSimulator } from "@cloudsession/simulator";
import { createInMemoryStore, type EventStore } from "@cloudsession/store";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createEngine } from "../src/index.js";
import { completed, received, sendUntilAccepted, sleep, waitFor } from "./support/harness.js";

describe("store outages", () => {
  // The database goes away and comes back at random moments of a real session (real JSON-RPC to
  // the simulator): at its creation, the agent's start, a dispatch, a turn's end, the close. Every
  // prompt sent through the handle must reach the worker exactly once and in order, the log must
  // say the same, and the session must end closed.
  test("every prompt reaches the worker once, in order, and the session ends closed, whenever the store is away", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          agentMs: fc.integer({ min: 0, max: 3_000 }),
          atStart: fc.integer({ min: 0, max: 2 }),
          sendDelays: fc.array(fc.integer({ min: 0, max: 150 }), { minLength: 0, maxLength: 3 }),
          outages: fc.array(fc.record({ afterMs: fc.integer({ min: 0, max: 400 }), forMs: fc.integer({ min: 20, max: 700 }) }), { minLength: 1, maxLength: 3 }),
          outageAtClose: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1_000_000 }),
        }),
        async ({ agentMs, atStart, sendDelays, outages, outageAtClose, seed }) => {
          const sim = await startSimulator({
            seed,
            timeScale: 0.01,
            defaults: { reservationLatencyMs: [100, 300], agentConnectLatencyMs: [agentMs, agentMs], noise: false },
          });
          const memory = createInMemoryStore();
          let down = 0; // outages overlapping now
          const unavailable = () => new Error("database unavailable");
          const store: EventStore = {
            ...memory,
            append: async (streamId, events, options) => {
              if (down > 0) throw unavailable();
              return memory.append(streamId, events, options);
            },
            readStream: async (streamId, options) => {
              if (down > 0) throw unavailable();
              return memory.readStream(streamId, options);
            },
          };
          const outage = async (forMs: number) => {
            down += 1;
            await sleep(forMs);
            down -= 1;
          };
          const engine = createEngine({ runtimeUrl: sim.url, store, heartbeatMs: 0, onError: () => undefined });
          try {
            const initial = Array.from({ length: atStart }, (_, index) => `initial ${index}`);
            const session = await engine.start({ repository: { owner: "octo", name: "outage" }, prompts: initial });
            const away = Promise.all(outages.map(async ({ afterMs, forMs }) => {
              await sleep(afterMs);
              await outage(forMs);
            }));
            const later: string[] = [];
            for (const [index, delay] of sendDelays.entries()) {
              await sleep(delay);
              const text = `later ${index}`;
              // A careful caller: refused while the store is away, tried again under its id until accepted.
              await sendUntilAccepted(session, text, `later-${index}`);
              later.push(text);
            }
            const all = [...initial, ...later];
            await waitFor(() => completed(session) === all.length, "every turn", 20_000);
            await away;
            // Away as the close is recorded: the close is carried out once the store is back.
            if (outageAtClose) void outage(300);
            expect((await session.close()).state).toBe("closed");
            expect(received(sim, session)).toEqual(all);
            expect(sim.stats.dropped).toEqual([]);
            const log = await engine.history(session.id);
            expect(log.filter((event) => event.type === "prompt.submitted").map((event) => event.text)).toEqual(all);
          } finally {
            await engine.close();
            await sim.close();
          }
        },
      ),
      { numRuns: Number(process.env.OUTAGE_PROPERTY_RUNS ?? 10) },
    );
  }, 600_000);
});
