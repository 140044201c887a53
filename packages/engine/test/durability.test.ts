import { StoreError, createInMemoryStore, type EventStore, type NewEvent } from "@cloudsession/store";
import { describe, expect, test } from "vitest";
import { createEngine, isEngineError, type Engine } from "../src/index.js";
import { UNACKNOWLEDGED_START } from "../src/revival.js";
import { completed, received, sendUntilAccepted, useHarness, waitFor, type Harness } from "./support/harness.js";

const repository = { owner: "octo", name: "demo" };
const setUp = useHarness();
let h: Harness;

describe("durability", () => {
  test("a deadline that passed while no engine ran fires at once after recovery", async () => {
    h = await setUp({ defaults: { agentNeverConnects: true } });
    const store = createInMemoryStore();
    const first = createEngine({ runtimeUrl: h.sim.url, store, heartbeatMs: 0, timeouts: { agentStartTimeoutMs: 300 } });
    const session = await first.start({ repository, prompts: ["waiting"] });
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
    const good = await first.start({ repository, prompts: ["one"] });
    const bad = await first.start({ repository, prompts: ["two"] });
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
    await recovered[0]?.send("three");
    await waitFor(() => completed(recovered[0]!) === 2, "the recovered session's next turn");
    await second.close({ sessions: "close" });
  });

  test("recovery reads the logs in one batch, in the store's order", async () => {
    h = await setUp({});
    const inner = createInMemoryStore();
    const first = createEngine({ runtimeUrl: h.sim.url, store: inner, heartbeatMs: 0 });
    const sessions = await Promise.all([0, 1, 2].map((n) => first.start({ repository, prompts: [`p${n}`] })));
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
    const [a, bad, c] = await Promise.all([0, 1, 2].map((n) => first.start({ repository, prompts: [`p${n}`] })));
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
    // The store's CORRUPTED_EVENT, as the engine's CORRUPTED_LOG naming the session.
    expect(errors[0]?.[0]).toMatchObject({ code: "CORRUPTED_LOG", cause: { code: "CORRUPTED_EVENT" } });
    expect((errors[0]?.[0] as Error).message).toContain(bad!.id);
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
    const session = await first.start({ repository, prompts: ["kept"] });
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

  test("a store outage under a running session: a send is refused with STORE_UNAVAILABLE, nothing half-written; retried under its id once the store answers, it is answered once", async () => {
    h = await setUp({ defaults: { noise: false } });
    const store = createInMemoryStore();
    let down = false;
    const { engine, errors } = engineOn(refusingStore(store, () => down, { reads: true }));
    try {
      const session = await engine.start({ repository, prompts: ["before"] });
      await waitFor(() => completed(session) === 1, "the first turn");
      down = true;
      await expect(session.send("during the outage", { promptId: "p-outage" })).rejects.toMatchObject({ code: "STORE_UNAVAILABLE", retryAfterMs: 500 });
      await waitFor(() => errors.length === 1, "the failed append to be reported");
      // While the runner waits for the store, a send is refused at once (not queued behind the failure).
      await expect(session.send("during the outage", { promptId: "p-outage" })).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      // Longer than the first wait before a revival (0.5 s): that try finds the store still away.
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect((await store.readStream(session.id)).events.map((event) => event.type)).not.toContain("close.requested");
      down = false;
      expect(await sendUntilAccepted(session, "during the outage", "p-outage")).toBe("p-outage");
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
      const session = await engine.start({ repository, prompts: ["before"] });
      await waitFor(() => completed(session) === 1, "the first turn");
      refuse = true;
      await expect(session.send("one", { promptId: "one" })).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      // The store takes appends again, but the runner that failed writes nothing more: "two" is
      // refused too, so it can never land before "one".
      await expect(session.send("two", { promptId: "two" })).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      await sendUntilAccepted(session, "one", "one");
      await sendUntilAccepted(session, "two", "two");
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
      const session = await engine.start({ repository, prompts: ["long"] });
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
    const healthy = await engine.start({ repository, prompts: ["fine"] });
    const failing = await engine.start({ repository, prompts: ["first"] });
    await waitFor(() => completed(healthy) === 1 && completed(failing) === 1, "both first turns");
    refuse = true;
    await expect(failing.send("refused")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
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
      const session = await engine.start({ repository, prompts: ["only"] });
      await waitFor(() => completed(session) === 1, "the turn");
      await session.close();
      const states: string[] = [];
      await new Promise<void>((resolve) => session.state$.subscribe({ next: (state) => states.push(state), complete: resolve }));
      expect(states).toEqual(["closed"]);
    } finally {
      await engine.close();
    }
  });

  test("a start whose first append is refused is rejected with STORE_UNAVAILABLE and never runs: nothing in the log, no create at the runtime", async () => {
    h = await setUp({ defaults: { noise: false } });
    const store = createInMemoryStore();
    let refusals = 1;
    const { engine, errors } = engineOn(refusingStore(store, () => refusals-- > 0));
    try {
      await expect(engine.start({ repository, prompts: ["first"] })).rejects.toMatchObject({ code: "STORE_UNAVAILABLE", cause: { message: "database unavailable" } });
      expect(engine.sessions).toEqual([]);
      // Past the first wait of the check for an append that landed after all (0.5 s).
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(await store.listStreams({ status: "all" })).toEqual([]);
      expect(h.sim.stats.sessionsCreated).toBe(0);
      expect(errors).toHaveLength(1);
      // The store answers again: the next start goes through.
      const session = await engine.start({ repository, prompts: ["second"] });
      await waitFor(() => completed(session) === 1, "the next session's turn");
      expect(received(h.sim, session)).toEqual(["second"]);
      await session.close();
    } finally {
      await engine.close();
    }
  });

  test("a start whose first append landed although the store reported a failure is rejected, and the session is ended unrun once the store answers", async () => {
    h = await setUp({ defaults: { noise: false } });
    const store = createInMemoryStore();
    let lieOnce = true;
    const lying: EventStore = {
      ...store,
      // The write lands, then the connection drops before the store's answer arrives.
      append: async (streamId, events, options) => {
        const result = await store.append(streamId, events, options);
        if (lieOnce) {
          lieOnce = false;
          throw new Error("connection terminated unexpectedly");
        }
        return result;
      },
    };
    const { engine } = engineOn(lying);
    try {
      await expect(engine.start({ repository, prompts: ["never run"] })).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      const [stream] = await store.listStreams({ status: "all" });
      for (let tries = 0; !(await store.readStream(stream!.streamId)).final; tries++) {
        if (tries > 100) throw new Error("the unacknowledged session was not ended");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const log = await engine.history(stream!.streamId);
      expect(log.map((event) => event.type)).toEqual(["session.requested", "prompt.submitted", "close.requested"]);
      expect(log.at(-1)).toMatchObject({ reason: UNACKNOWLEDGED_START });
      expect(h.sim.stats.sessionsCreated).toBe(0);
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
      const a = await liveOnly.start({ repository, prompts: ["x"] });
      a.text$.subscribe(({ text }) => texts.push(text));
      const b = await durable.start({ repository, prompts: ["y"] });
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
