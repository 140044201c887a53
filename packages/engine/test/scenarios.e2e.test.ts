import { replay } from "@cloudsession/machine";
import { PRESET_BEHAVIOURS } from "@cloudsession/simulator";
import { describe, expect, test } from "vitest";
import { completed, useHarness, received, waitFor, type Harness } from "./support/harness.js";
import { systemClock, type Clock } from "../src/index.js";

const repository = { owner: "octo", name: "demo" };
const setUp = useHarness();
let h: Harness;

describe("engine scenarios through the real SDK client and the simulator", () => {
  test("slow agent: prompts sent before the agent is there are all delivered, none dropped", async () => {
    h = await setUp({ defaults: { agentConnectLatencyMs: [3000, 3000] } });
    const session = await h.engine.start({ repository });
    const ids = [session.send("one"), session.send("two")];
    await waitFor(() => session.state === "awaiting-agent", "awaiting-agent");
    ids.push(session.send("three"));
    await session.settled();
    expect(session.snapshot().context.prompts.map((prompt) => prompt.status)).toEqual(["queued", "queued", "queued"]);
    await waitFor(() => completed(session) === 3, "three completed turns");
    expect(received(h.sim, session)).toEqual(["one", "two", "three"]);
    expect(h.sim.stats.sessions.get(session.sessionId ?? "")?.promptsDropped).toEqual([]);
    expect(new Set(ids).size).toBe(3);
    await session.close();
  });

  test("agent never connects: failed in phase awaiting-agent, prompts undelivered", async () => {
    h = await setUp({ defaults: PRESET_BEHAVIOURS["never-connects"] }, { timeouts: { agentStartTimeoutMs: 300 } });
    const session = await h.engine.start({ repository, prompts: ["hello"] });
    const outcome = await session.outcome;
    expect(outcome.state).toBe("failed");
    expect(outcome.failure).toMatchObject({ phase: "awaiting-agent", reason: "timeout" });
    expect(outcome.prompts[0]).toMatchObject({ status: "undelivered", reason: "session-failed" });
    expect(h.sim.stats.sendsReceived).toBe(0);
  });

  test("a deadline further out than Node's longest timer (24.8 days) is waited for, not fired at once", async () => {
    const delays: number[] = [];
    const clock: Clock = { ...systemClock, setTimeout: (callback, ms) => (delays.push(ms), systemClock.setTimeout(callback, ms)) };
    const month = 30 * 86_400_000;
    h = await setUp({ defaults: PRESET_BEHAVIOURS["never-connects"] }, { clock, timeouts: { reservationTimeoutMs: month, agentStartTimeoutMs: month } });
    const session = await h.engine.start({ repository, prompts: ["hello"] });
    await waitFor(() => session.state === "awaiting-agent", "the reservation");
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Handed to setTimeout as is, a month becomes 1 ms: the timer would fire and re-arm every millisecond.
    expect(delays.every((ms) => ms <= 2_147_483_647)).toBe(true);
    expect(delays.length).toBeLessThan(10);
    expect(session.state).toBe("awaiting-agent");
    expect((await h.engine.history(session.id)).some((event) => event.type === "deadline.fired")).toBe(false);
  });

  test("flaky create: retried with backoff, then succeeds", async () => {
    h = await setUp({ defaults: PRESET_BEHAVIOURS["flaky-create"] }, { retry: { initialDelayMs: 20, maxDelayMs: 50 } });
    const session = await h.engine.start({ repository, prompts: ["hello"] });
    await waitFor(() => completed(session) === 1, "the turn");
    expect(session.snapshot().context.attempts).toBe(3);
    expect(h.sim.stats.createAttempts).toBe(3);
    const log = await h.engine.history(session.id);
    const failures = log.flatMap((event) => (event.type === "reservation.failed" ? [event.failure] : []));
    expect(failures).toEqual(["transient", "transient"]);
    await session.close();
  });

  test("transient failures beyond the retry budget: failed, retries-exhausted", async () => {
    h = await setUp({ defaults: { createFault: { kind: "transient", failures: 10 } } }, { retry: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 } });
    const outcome = await (await h.engine.start({ repository, prompts: ["x"] })).outcome;
    expect(outcome.failure).toMatchObject({ phase: "reserving", reason: "retries-exhausted" });
    expect(h.sim.stats.createAttempts).toBe(3);
  });

  test("hanging create: failed in phase reserving on the reservation deadline", async () => {
    h = await setUp({ defaults: PRESET_BEHAVIOURS["hanging-create"] }, { timeouts: { reservationTimeoutMs: 300 } });
    const outcome = await (await h.engine.start({ repository, prompts: ["x"] })).outcome;
    expect(outcome.state).toBe("failed");
    expect(outcome.failure).toMatchObject({ phase: "reserving", reason: "timeout" });
  });

  test("early start: a session.start before the create response is recovered from history", async () => {
    h = await setUp({ defaults: PRESET_BEHAVIOURS["early-start"] });
    const session = await h.engine.start({ repository, prompts: ["hello"] });
    await waitFor(() => completed(session) === 1, "the turn");
    expect(received(h.sim, session)).toEqual(["hello"]);
    expect(session.remoteUrl).toContain(session.sessionId ?? "never");
    await session.close();
  });

  test("duplicates and reordering: each prompt once, replies intact", async () => {
    h = await setUp({ defaults: { ...PRESET_BEHAVIOURS.duplicates, reply: (prompt: string) => `reply to ${prompt}` } });
    const session = await h.engine.start({ repository, prompts: ["a", "b", "c"] });
    await waitFor(() => completed(session) === 3, "three turns");
    expect(received(h.sim, session)).toEqual(["a", "b", "c"]);
    expect(session.snapshot().context.prompts.map((prompt) => prompt.reply)).toEqual(["reply to a", "reply to b", "reply to c"]);
    await session.close();
  });

  test("stall: the turn is aborted and reported, the next prompt follows", async () => {
    h = await setUp({ defaults: { turnFault: { kind: "stall", afterChunks: 1, turn: 1 } } }, { timeouts: { turnStallTimeoutMs: 300 } });
    const session = await h.engine.start({ repository, prompts: ["stalls", "works"] });
    await waitFor(() => completed(session) === 1, "the second turn");
    const [first, second] = session.snapshot().context.prompts;
    expect(first).toMatchObject({ status: "interrupted", reason: "stalled" });
    expect(second?.status).toBe("completed");
    expect(received(h.sim, session)).toEqual(["stalls", "works"]);
    await session.close();
  });

  test("session.error mid-turn: failed with the error's message", async () => {
    h = await setUp({ defaults: { turnFault: { kind: "error", afterChunks: 1 } } });
    const outcome = await (await h.engine.start({ repository, prompts: ["boom", "never"] })).outcome;
    expect(outcome.state).toBe("failed");
    expect(outcome.failure).toMatchObject({ phase: "streaming", reason: "session-error" });
    expect(outcome.prompts.map((prompt) => prompt.status)).toEqual(["interrupted", "undelivered"]);
  });

  test("connection dropped mid-turn: the engine reconnects, resumes, and delivers the rest once", async () => {
    h = await setUp({ defaults: { turnFault: { kind: "drop", afterChunks: 1, turn: 1 } } }, { timeouts: { turnStallTimeoutMs: 1_000 } });
    const session = await h.engine.start({ repository, prompts: ["first", "second"] });
    await waitFor(() => session.snapshot().context.prompts.at(1)?.status === "completed", "the second turn");
    expect(received(h.sim, session)).toEqual(["first", "second"]);
    expect(session.snapshot().context.resumes).toBeGreaterThanOrEqual(1);
    expect(h.sim.stats.resumes).toBeGreaterThanOrEqual(1);
    await session.close();
  });

  test("resume in a new engine: no cloud on resume, URL from the log, queue continues", async () => {
    h = await setUp({});
    const session = await h.engine.start({ repository, prompts: ["before"] });
    await waitFor(() => completed(session) === 1, "the first turn");
    const url = session.remoteUrl;
    await h.engine.close(); // detach: the session stays open in the log
    const { createEngine } = await import("../src/index.js");
    const second = createEngine({ runtimeUrl: h.sim.url, store: h.store });
    try {
      const resumed = await second.resume(session.id);
      expect(resumed.remoteUrl).toBe(url);
      await resumed.send("after");
      await waitFor(() => completed(resumed) === 2, "the resumed turn");
      expect(received(h.sim, session)).toEqual(["before", "after"]);
      const resumeParams = h.sim.stats.sessions.get(session.sessionId ?? "")?.resumeParams ?? [];
      expect(resumeParams.length).toBe(1);
      expect(resumeParams[0]?.cloudPassed).toBe(false);
      const outcome = await resumed.close();
      expect(outcome.state).toBe("closed");
      // Replay of the log equals the live snapshot.
      const live = resumed.snapshot();
      const replayed = replay(await second.history(session.id));
      expect(replayed.value).toEqual(live.value);
      expect(replayed.context).toEqual(live.context);
    } finally {
      await second.close();
    }
  });
});
