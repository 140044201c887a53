import { inputFromRequest, sessionMachine, type SessionLogEvent } from "@cloudsession/machine";
import { startSimulator } from "@cloudsession/simulator";
import { createInMemoryStore, type JsonObject } from "@cloudsession/store";
import { describe, expect, test } from "vitest";
import { createActor } from "xstate";
import { createEngine } from "../src/index.js";
import { completed, useHarness, waitFor } from "./support/harness.js";

const repository = { owner: "octo", name: "demo" };
const setUp = useHarness();

/** Every event sent to a fresh actor, none skipped: what restoring must equal. */
function foldEveryEvent(log: readonly SessionLogEvent[]) {
  const [request, ...rest] = log;
  if (request?.type !== "session.requested") throw new Error("no session.requested");
  const actor = createActor(sessionMachine, { input: inputFromRequest(request) });
  actor.start();
  for (const event of rest) if (event.type !== "session.requested") actor.send(event);
  return actor.getSnapshot();
}

describe("restore", () => {
  test("a mid-turn log full of durable deltas restores to the snapshot of every event folded in", async () => {
    const h = await setUp({ defaults: { chunkSizeChars: [1, 1], reply: "streamed one character at a time" } }, { persistDeltas: true, heartbeatMs: 0 });
    const session = await h.engine.start({ repository, prompts: ["x"] });
    await waitFor(() => completed(session) === 1, "the turn");
    await h.engine.settled();
    const rows = (await h.store.readStream(session.id)).events;
    // Cut right after the last delta: the turn is in flight and the stall deadline hangs on that delta.
    const lastDelta = rows.findLastIndex((row) => row.type === "assistant.delta");
    const midTurn = rows.slice(0, lastDelta + 1);
    expect(midTurn.filter((row) => row.type === "assistant.delta").length).toBeGreaterThan(10);

    const store = createInMemoryStore();
    await store.append(
      session.id,
      midTurn.map((row) => ({ type: row.type, data: row.data as JsonObject })),
    );
    // A runtime that does not know the session: the re-attach fails and is retried later, so the
    // handle shows the restored snapshot with only that recorded (out of contact).
    const elsewhere = await startSimulator({ seed: 2, timeScale: 0.01 });
    const engine = createEngine({ runtimeUrl: elsewhere.url, store, heartbeatMs: 0, onError: () => undefined });
    try {
      const restored = await engine.resume(session.id);
      await restored.settled();
      const log = await engine.history(session.id);
      expect(log.slice(midTurn.length).map((event) => event.type)).toEqual(["runtime.disconnected"]);
      const expected = foldEveryEvent(log);
      expect(restored.state).toBe("streaming");
      expect(restored.snapshot().value).toEqual(expected.value);
      expect(restored.snapshot().context).toEqual(expected.context);
    } finally {
      await engine.close();
      await elsewhere.close();
    }
  });

  test("a restored session with a deadline keeps retrying a failed re-attach (arming the deadline does not cancel the retry)", async () => {
    const h = await setUp({ defaults: { reply: "hello" } }, { heartbeatMs: 0 });
    const session = await h.engine.start({ repository, prompts: ["x"] });
    await waitFor(() => completed(session) === 1, "the turn");
    await h.engine.settled();
    const rows = (await h.store.readStream(session.id)).events;
    // Cut after the dispatch: the turn is running, so the restored session has its stall deadline armed.
    const midTurn = rows.slice(0, rows.findIndex((row) => row.type === "prompt.dispatched") + 1);
    const store = createInMemoryStore();
    await store.append(
      session.id,
      midTurn.map((row) => ({ type: row.type, data: row.data as JsonObject })),
    );
    // A runtime that does not know the session: every re-attach fails; the third failure is reported.
    const elsewhere = await startSimulator({ seed: 2, timeScale: 0.01 });
    const errors: unknown[] = [];
    const engine = createEngine({ runtimeUrl: elsewhere.url, store, heartbeatMs: 0, onError: (error) => errors.push(error) });
    try {
      const restored = await engine.resume(session.id);
      expect(restored.state).toBe("streaming");
      await waitFor(() => errors.length > 0, "the third failed re-attach to be reported", 5_000);
    } finally {
      await engine.close();
      await elsewhere.close();
    }
  });

  test("a session closed while it re-attaches lets its runtime session go once the re-attach lands", async () => {
    const h = await setUp({}, { heartbeatMs: 0 });
    const session = await h.engine.start({ repository, prompts: ["x"] });
    await waitFor(() => completed(session) === 1, "the turn");
    const sessionId = session.sessionId ?? "";
    await h.engine.close(); // detach #1
    const detaches = () => h.sim.stats.sessions.get(sessionId)?.detaches ?? 0;
    expect(detaches()).toBe(1);

    let closing: Promise<unknown> | undefined;
    const engine = createEngine({
      runtimeUrl: h.sim.url,
      store: h.store,
      heartbeatMs: 0,
      // Closed as its resumeSession goes out: the close lands before the re-attach does.
      probe: (point) => {
        if (point === "before:resumeSession") closing = engine.get(session.id)?.close();
      },
    });
    try {
      const resumed = await engine.resume(session.id);
      expect(closing).toBeDefined();
      await closing;
      expect((await resumed.outcome).state).toBe("closed");
      // The re-attach's runtime session is let go (detach #2), not left attached until the engine closes.
      await waitFor(() => detaches() === 2, "the re-attached runtime session to be let go");
    } finally {
      await engine.close();
    }
  });
});
