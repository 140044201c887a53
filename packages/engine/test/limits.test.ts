import { createInMemoryStore, type EventStore } from "@cloudsession/store";
import { describe, expect, test } from "vitest";
import { createEngine } from "../src/index.js";
import { completed, received, useHarness, waitFor, type Harness } from "./support/harness.js";

const repository = { owner: "octo", name: "demo" };
const setUp = useHarness();
let h: Harness;

/** The types of everything in the store, stream by stream: what a refusal must leave untouched. */
async function written(harness: Harness): Promise<string[][]> {
  const streams = await harness.store.listStreams({ status: "all" });
  return Promise.all(streams.map(async (stream) => (await harness.store.readStream(stream.streamId)).events.map((event) => event.type)));
}

describe("limits: each at, just below and just above its value, refused whole with a typed error", () => {
  test("limits are checked when the engine is made", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createEngine({ runtimeUrl: "127.0.0.1:1", heartbeatMs: 0, limits: { maxQueuedPrompts: bad } })).toThrow(/limits.maxQueuedPrompts must be a positive integer/);
    }
    expect(() => createEngine({ runtimeUrl: "127.0.0.1:1", heartbeatMs: 0, limits: { maxPromptBytes: 0 } })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => createEngine({ runtimeUrl: "127.0.0.1:1", heartbeatMs: 0, limits: { maxWaitingSessions: -3 } })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  test("maxPromptBytes counts UTF-8 bytes: a prompt at the limit is accepted, one byte over is PROMPT_TOO_LARGE, at start and at send", async () => {
    h = await setUp({ defaults: { agentNeverConnects: true } }, { limits: { maxPromptBytes: 12 } });
    // "é" is 2 bytes in UTF-8: 5 × "é" + "ab" = 12 bytes in 7 UTF-16 units.
    const atLimit = "ééééé" + "ab";
    const belowLimit = "ééééé" + "a";
    const overLimit = "ééééé" + "abc";
    await expect(h.engine.start({ repository, prompts: [overLimit] })).rejects.toMatchObject({ code: "PROMPT_TOO_LARGE",  });
    await expect(h.engine.start({ repository, prompts: [overLimit] })).rejects.toThrow(/a prompt of 13 bytes is over the limit of 12 bytes/);
    expect(await written(h)).toEqual([]);
    const session = await h.engine.start({ repository, prompts: [atLimit] });
    await expect(session.send(belowLimit)).resolves.toEqual(expect.any(String));
    await expect(session.send(atLimit)).resolves.toEqual(expect.any(String));
    await expect(session.send(overLimit)).rejects.toMatchObject({ code: "PROMPT_TOO_LARGE" });
    expect(await written(h)).toEqual([["session.requested", "prompt.submitted", "prompt.submitted", "prompt.submitted"]]);
    // A 4-byte character is not split: 3 × "😀" = 12 bytes fits, 4 do not.
    await expect(session.send("😀😀😀")).resolves.toEqual(expect.any(String));
    await expect(session.send("😀😀😀😀")).rejects.toMatchObject({ code: "PROMPT_TOO_LARGE" });
  });

  test("maxQueuedPrompts: a start with more first prompts is QUEUE_FULL and writes nothing; sends up to the limit are accepted, the next is QUEUE_FULL with a retry hint", async () => {
    h = await setUp({ defaults: { agentNeverConnects: true } }, { limits: { maxQueuedPrompts: 3 } });
    await expect(h.engine.start({ repository, prompts: ["a", "b", "c", "d"] })).rejects.toMatchObject({ code: "QUEUE_FULL" });
    expect(await written(h)).toEqual([]);
    const session = await h.engine.start({ repository, prompts: ["a"] });
    await session.send("b"); // just below: 2 queued
    await session.send("c", { promptId: "c-id" }); // at the limit: 3 queued
    await expect(session.send("d")).rejects.toMatchObject({ code: "QUEUE_FULL", retryAfterMs: 1_000 });
    // An idempotent retry of a prompt the log has is no new prompt: it resolves even when full.
    await expect(session.send("c", { promptId: "c-id" })).resolves.toBe("c-id");
    const log = await h.engine.history(session.id);
    expect(log.filter((event) => event.type === "prompt.submitted").map((event) => event.text)).toEqual(["a", "b", "c"]);
  });

  test("maxQueuedPrompts holds for a burst: of many sends issued at once exactly the limit is accepted, in order, in few appends", async () => {
    const inner = createInMemoryStore();
    let appends = 0;
    const store: EventStore = { ...inner, append: (...args) => (appends++, inner.append(...args)) };
    h = await setUp({ defaults: { agentNeverConnects: true } }, { store, limits: { maxQueuedPrompts: 50 } });
    const session = await h.engine.start({ repository });
    const appendsBefore = appends;
    const outcomes = await Promise.allSettled(Array.from({ length: 80 }, (_, index) => session.send(`p${index}`)));
    const accepted = outcomes.filter((outcome) => outcome.status === "fulfilled").length;
    const refused = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
    expect(accepted).toBe(50);
    expect(new Set(refused.map((outcome) => (outcome.reason as { code: string }).code))).toEqual(new Set(["QUEUE_FULL"]));
    // The accepted ones are the first 50 sent, in the order sent.
    const log = await h.engine.history(session.id);
    expect(log.filter((event) => event.type === "prompt.submitted").map((event) => event.text)).toEqual(Array.from({ length: 50 }, (_, index) => `p${index}`));
    // Sent while the first was being written, the other 49 went into one more append.
    expect(appends - appendsBefore).toBeLessThanOrEqual(2);
  });

  test("a queue that drains makes room again: the prompt refused at the limit is accepted once one is delivered, and all are answered once, in order", async () => {
    h = await setUp({ defaults: { reply: "ok" } }, { limits: { maxQueuedPrompts: 2 } });
    const session = await h.engine.start({ repository, prompts: ["a", "b"] });
    await expect(session.send("c")).rejects.toMatchObject({ code: "QUEUE_FULL" });
    await waitFor(() => session.snapshot().context.prompts.queueLength < 2, "a prompt to leave the queue");
    await session.send("c");
    await waitFor(() => completed(session) === 3, "every turn");
    expect(received(h.sim, session)).toEqual(["a", "b", "c"]);
    await session.close();
  });

  test("maxWaitingSessions: with every slot taken, starts up to the limit wait in line; the next is ENGINE_BUSY and writes nothing", async () => {
    h = await setUp({ defaults: { agentNeverConnects: true } }, { maxConcurrent: 1, limits: { maxWaitingSessions: 2 } });
    const holding = await h.engine.start({ repository, prompts: ["holds the slot"] });
    await waitFor(() => holding.state === "awaiting-agent", "the first session to hold the only slot");
    const waiting = [await h.engine.start({ repository }), await h.engine.start({ repository })];
    expect(waiting.map((session) => session.state)).toEqual(["reserving", "reserving"]);
    await expect(h.engine.start({ repository })).rejects.toMatchObject({ code: "ENGINE_BUSY", retryAfterMs: 5_000 });
    expect((await written(h)).length).toBe(3);
    // One leaves the line: there is room for one more.
    await waiting[1]!.close();
    await expect(h.engine.start({ repository })).resolves.toMatchObject({ state: "reserving" });
  });

  test("a prompt id of the caller's own is checked", async () => {
    h = await setUp({ defaults: { agentNeverConnects: true } });
    const session = await h.engine.start({ repository });
    for (const bad of ["", " ", "x".repeat(201)]) await expect(session.send("hello", { promptId: bad })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(session.send("hello", { promptId: "x".repeat(200) })).resolves.toBe("x".repeat(200));
  });
});
