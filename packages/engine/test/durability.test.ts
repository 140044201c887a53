import { StoreError, createInMemoryStore, type EventStore, type NewEvent } from "@cloudsession/store";
import { describe, expect, test } from "vitest";
import { createEngine, isEngineError, type Engine, type SessionHandle } from "../src/index.js";
import { completed, received, useHarness, waitFor, type Harness } from "./support/harness.js";

const repository = { owner: "octo", name: "demo" };
const setUp = useHarness();
let h: Harness;

describe("durability", () => {
  test("a deadline that passed while no engine ran fires at once after recovery", async () => {
    h = await setUp({ defaults: { agentNeverConnects: true } });
    const store = createInMemoryStore();
    const first = createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0, timeouts: { agentStartTimeoutMs: 300 } });
    const session = first.start({ repository, prompts: ["waiting"] });
    await waitFor(() => session.state === "awaiting-agent", "awaiting-agent");
    await first.close(); // the process "stops" with the deadline armed
    await new Promise((resolve) => setTimeout(resolve, 400));

    const second = createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0 });
    const started = Date.now();
    const [recovered] = await second.recover();
    const outcome = await recovered?.outcome;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(outcome?.failure).toMatchObject({ phase: "awaiting-agent", reason: "timeout" });
    expect(outcome?.prompts[0]).toMatchObject({ status: "undelivered", reason: "session-failed" });
    await second.close();
  });

  test("a corrupted log stops its own session with a typed error naming it; the others recover", async () => {
    h = await setUp({});
    const store = createInMemoryStore();
    const first = createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0 });
    const good = first.start({ repository, prompts: ["one"] });
    const bad = first.start({ repository, prompts: ["two"] });
    await waitFor(() => completed(good) === 1 && completed(bad) === 1, "both turns");
    await first.close();
    const { nextExpectedVersion: badVersion } = await store.append(bad.id, [{ type: "mystery.happened", data: { at: 1 } }]);

    const errors: unknown[] = [];
    const second = createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0, onError: (error) => errors.push(error) });
    const recovered = await second.recover();
    expect(recovered.map((session) => session.id)).toEqual([good.id]);
    expect(errors).toHaveLength(1);
    expect(isEngineError(errors[0], "CORRUPTED_LOG")).toBe(true);
    expect((errors[0] as Error).message).toContain(bad.id);
    expect((errors[0] as Error).message).toContain(`event ${badVersion}`);
    await expect(second.resume(bad.id)).rejects.toMatchObject({ code: "CORRUPTED_LOG" });
    recovered[0]?.send("three");
    await waitFor(() => completed(recovered[0]!) === 2, "the recovered session's next turn");
    await second.close({ sessions: "close" });
  });

  test("recovery reads the logs in one batch, in the store's order", async () => {
    h = await setUp({});
    const inner = createInMemoryStore();
    const first = createEngine({ runtimeUrl: h.sim.url, store: inner, heartbeatMs: 0 });
    const sessions = [0, 1, 2].map((n) => first.start({ repository, prompts: [`p${n}`] }));
    await waitFor(() => sessions.every((session) => completed(session) === 1), "three turns");
    await first.close();

    const batches: string[][] = [];
    let singleReads = 0;
    const store: EventStore = {
      ...inner,
      readStreams: (ids, options) => {
        batches.push([...ids]);
        return inner.readStreams(ids, options);
      },
      readStream: (id, options) => {
        singleReads++;
        return inner.readStream(id, options);
      },
    };
    const second = createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0 });
    const recovered = await second.recover();
    expect(recovered.map((session) => session.id)).toEqual(sessions.map((session) => session.id));
    expect(batches).toEqual([sessions.map((session) => session.id)]);
    expect(singleReads).toBe(0);
    await second.close({ sessions: "close" });
  });

  test("a failed batch read falls back to one read per log: only the unreadable one is reported", async () => {
    h = await setUp({});
    const inner = createInMemoryStore();
    const first = createEngine({ runtimeUrl: h.sim.url, store: inner, heartbeatMs: 0 });
    const [a, bad, c] = [0, 1, 2].map((n) => first.start({ repository, prompts: [`p${n}`] }));
    await waitFor(() => [a, bad, c].every((session) => completed(session!) === 1), "three turns");
    await first.close();

    const broken = (): StoreError => new StoreError("CORRUPTED_EVENT", `event 2 of stream ${bad!.id} is not JSON`, { details: { streamId: bad!.id, version: 2 } });
    const store: EventStore = {
      ...inner,
      readStreams: () => Promise.reject(broken()),
      readStream: (id, options) => (id === bad!.id ? Promise.reject(broken()) : inner.readStream(id, options)),
    };
    const errors: [unknown, string][] = [];
    const second = createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0, onError: (error, key) => errors.push([error, key]) });
    const recovered = await second.recover();
    expect(recovered.map((session) => session.id)).toEqual([a!.id, c!.id]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[1]).toBe(bad!.id);
    expect(errors[0]?.[0]).toMatchObject({ code: "CORRUPTED_EVENT" });
    await second.close({ sessions: "close" });
  });

  test("a session ends only when its final event is in the log: a refused close leaves it open and recoverable", async () => {
    h = await setUp({ defaults: { agentNeverConnects: true } });
    const store = createInMemoryStore();
    let refuseClose: (() => void) | undefined;
    const failing: EventStore = {
      ...store,
      // The close's append hangs a while (a stalled database), then fails.
      append: async (streamId, events, options) => {
        if (!events.some((event) => event.type === "close.requested")) return store.append(streamId, events, options);
        await new Promise<void>((resolve) => (refuseClose = resolve));
        throw new Error("database unavailable");
      },
    };
    const errors: unknown[] = [];
    const first = createEngine({
      runtimeUrl: h.sim.url,
      store: failing,
      heartbeatMs: 0,
      onError: (error) => errors.push(error),
      // Closed as its reservation lands: the create call is still reading the session's history,
      // and looks at the machine (already closed, the log not yet) when it is done.
      probe: (point) => {
        if (point === "recorded:reservation.succeeded") void session.close();
      },
    });
    const session = first.start({ repository, prompts: ["kept"] });
    let ended = false;
    void session.outcome.then(() => (ended = true));
    await waitFor(() => refuseClose !== undefined, "the close's append");
    // Long enough for the create call to finish and look at the machine.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ended).toBe(false);
    refuseClose!();
    await waitFor(() => errors.length > 0, "the append failure to be reported");
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    expect((await store.listStreams({ status: "open" })).map((stream) => stream.streamId)).toEqual([session.id]);
    await first.close();

    const second = createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0 });
    const [recovered] = await second.recover();
    expect(recovered?.snapshot().context.prompts.map((prompt) => prompt.text)).toEqual(["kept"]);
    expect((await recovered!.close()).state).toBe("closed");
    await second.close();
  });

  test("a store outage under a running session: it carries on from its log once the store answers, a prompt sent meanwhile is answered once", async () => {
    h = await setUp({ defaults: { noise: false } });
    const store = createInMemoryStore();
    let down = false;
    const { engine, errors } = engineOn(refusingStore(store, () => down, { reads: true }));
    try {
      const session = engine.start({ repository, prompts: ["before"] });
      await waitFor(() => completed(session) === 1, "the first turn");
      down = true;
      session.send("during the outage");
      await waitFor(() => errors.length === 1, "the failed append to be reported");
      // Longer than the first wait before a revival (0.5 s): that try finds the store still away.
      await new Promise((resolve) => setTimeout(resolve, 800));
      down = false;
      await waitFor(() => completed(session) === 2, "the prompt sent during the outage to be answered");
      expect(received(h.sim, session)).toEqual(["before", "during the outage"]);
      expect((await session.close()).state).toBe("closed");
      const log = await engine.history(session.id);
      expect(log.filter((event) => event.type === "prompt.submitted").map((event) => event.text)).toEqual(["before", "during the outage"]);
      expect(errors.map((error) => (error as Error).message)).toEqual(["database unavailable"]);
    } finally {
      await engine.close();
    }
  });

  test("after a failed append nothing more is written from the stopped runner: prompts sent behind the failed one keep their order", async () => {
    h = await setUp({ defaults: { noise: false } });
    const store = createInMemoryStore();
    let refuse = false;
    const refuseOnce = (events?: readonly NewEvent[]) => {
      if (!refuse || events?.some((event) => event.type === "prompt.submitted") !== true) return false;
      refuse = false;
      return true;
    };
    const { engine, errors } = engineOn(refusingStore(store, refuseOnce));
    try {
      const session = engine.start({ repository, prompts: ["before"] });
      await waitFor(() => completed(session) === 1, "the first turn");
      refuse = true;
      session.send("one"); // refused
      session.send("two"); // the store takes appends again: it must not land before "one"
      await waitFor(() => completed(session) === 3, "both prompts answered after the revival");
      expect(received(h.sim, session)).toEqual(["before", "one", "two"]);
      const log = await engine.history(session.id);
      expect(log.filter((event) => event.type === "prompt.submitted").map((event) => event.text)).toEqual(["before", "one", "two"]);
      expect(errors).toHaveLength(1);
      await session.close();
    } finally {
      await engine.close();
    }
  });

  test("an abort requested while the store is away is carried out once it is back", async () => {
    h = await setUp({ defaults: { noise: false, chunkLatencyMs: [2_000, 2_000], chunkSizeChars: [1, 1], reply: "a long answer ".repeat(20) } });
    const store = createInMemoryStore();
    let down = false;
    const { engine, errors } = engineOn(refusingStore(store, () => down, { reads: true }));
    try {
      const session = engine.start({ repository, prompts: ["long"] });
      await waitFor(() => session.state === "streaming" && session.snapshot().context.prompts.at(0)?.status === "sent", "streaming");
      down = true;
      await session.abortTurn();
      await waitFor(() => errors.length === 1, "the refused abort to be reported");
      await new Promise((resolve) => setTimeout(resolve, 300));
      down = false;
      await waitFor(() => session.snapshot().context.prompts.at(0)?.status === "interrupted", "the turn to be interrupted");
      expect(session.snapshot().context.prompts.at(0)?.reason).toBe("aborted");
      expect((await session.close()).state).toBe("closed");
    } finally {
      await engine.close();
    }
  });

  test("engine.close({ sessions: 'close' }) is not held by a session whose append failed: it stays open in the log", async () => {
    h = await setUp({ defaults: { noise: false } });
    const store = createInMemoryStore();
    let refuse = false;
    const { engine, errors } = engineOn(refusingStore(store, () => refuse));
    const healthy = engine.start({ repository, prompts: ["fine"] });
    const failing = engine.start({ repository, prompts: ["first"] });
    await waitFor(() => completed(healthy) === 1 && completed(failing) === 1, "both first turns");
    refuse = true;
    failing.send("refused");
    await waitFor(() => errors.length === 1, "the refused append to be reported");
    refuse = false;
    await engine.close({ sessions: "close" });
    expect((await healthy.outcome).state).toBe("closed");
    expect((await store.listStreams({ status: "open" })).map((stream) => stream.streamId)).toEqual([failing.id]);
  });

  test("a handle's observables still tell the end after it: state$ replays the final state and completes", async () => {
    h = await setUp({ defaults: { noise: false } });
    const engine = createEngine({ runtimeUrl: h.sim.url, heartbeatMs: 0 });
    try {
      const session = engine.start({ repository, prompts: ["only"] });
      await waitFor(() => completed(session) === 1, "the turn");
      await session.close();
      const states: string[] = [];
      await new Promise<void>((resolve) => session.state$.subscribe({ next: (state) => states.push(state), complete: resolve }));
      expect(states).toEqual(["closed"]);
    } finally {
      await engine.close();
    }
  });

  test("a session whose first append failed begins again once the store answers, its prompts under the same ids", async () => {
    h = await setUp({ defaults: { noise: false } });
    const store = createInMemoryStore();
    let refusals = 1;
    const flaky = refusingStore(store, () => refusals-- > 0);
    const errors: unknown[] = [];
    let idsAtFailure: string[] = [];
    let session: SessionHandle | undefined;
    const engine = createEngine({
      runtimeUrl: h.sim.url,
      store: flaky,
      heartbeatMs: 0,
      onError: (error) => {
        errors.push(error);
        idsAtFailure = session?.snapshot().context.prompts.map((prompt) => prompt.id) ?? [];
      },
    });
    try {
      session = engine.start({ repository, prompts: ["first"] });
      await waitFor(() => completed(session!) === 1, "the first turn");
      expect(received(h.sim, session)).toEqual(["first"]);
      expect(idsAtFailure).toHaveLength(1);
      expect(session.snapshot().context.prompts.map((prompt) => prompt.id)).toEqual(idsAtFailure);
      expect((await session.close()).state).toBe("closed");
      expect(errors).toHaveLength(1);
    } finally {
      await engine.close();
    }
  });

  test("deltas are live only by default, and durable when asked", async () => {
    h = await setUp({ defaults: { chunkSizeChars: [2, 2], reply: "streamed reply" } });
    const store = createInMemoryStore();
    const liveOnly = createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0 });
    const durable = createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0, persistDeltas: true });
    try {
      const texts: string[] = [];
      const a = liveOnly.start({ repository, prompts: ["x"] });
      a.text$.subscribe(({ text }) => texts.push(text));
      const b = durable.start({ repository, prompts: ["y"] });
      await waitFor(() => completed(a) === 1 && completed(b) === 1, "both turns");
      const typesOf = async (id: string) => (await store.readStream(id)).events.map((event) => event.type);
      expect(await typesOf(a.id)).not.toContain("assistant.delta");
      expect((await typesOf(b.id)).filter((type) => type === "assistant.delta").length).toBeGreaterThan(3);
      expect(texts.length).toBeGreaterThan(3); // the live view still saw the deltas
      expect(texts.at(-1)).toBe("streamed reply");
      expect(a.snapshot().context.prompts.at(0)?.reply).toBe("streamed reply");
    } finally {
      await liveOnly.close({ sessions: "close" });
      await durable.close({ sessions: "close" });
    }
  });
});

/** `store` with its appends refused ("database unavailable") while `refuses` says so; with `reads`, its stream reads too. */
function refusingStore(store: EventStore, refuses: (events?: readonly NewEvent[]) => boolean, options: { reads?: boolean } = {}): EventStore {
  const unavailable = () => new Error("database unavailable");
  return {
    ...store,
    append: async (streamId, events, appendOptions) => {
      if (refuses(events)) throw unavailable();
      return store.append(streamId, events, appendOptions);
    },
    ...(options.reads === true
      ? {
          readStream: async (streamId: string, readOptions?: Parameters<EventStore["readStream"]>[1]) => {
            if (refuses()) throw unavailable();
            return store.readStream(streamId, readOptions);
          },
        }
      : {}),
  };
}

/** An engine on `store` and the simulator of this test, its background errors collected. */
function engineOn(store: EventStore): { engine: Engine; errors: unknown[] } {
  const errors: unknown[] = [];
  return { engine: createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0, onError: (error) => errors.push(error) }), errors };
}
