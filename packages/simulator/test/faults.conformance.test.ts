import { approveAll } from "@github/copilot-sdk";
import { describe, expect, it } from "vitest";
import { presetScenario } from "../src/index.js";
import { useSimulators, isAgentStart, isIdle, pause, record, repo, settledWithin } from "./helpers.js";

const FAST = { timeScale: 0.01, seed: 21 } as const;

const { sim, client } = useSimulators(FAST);

interface RpcLikeError {
  code?: unknown;
  message?: unknown;
  data?: { reason?: unknown };
  reason?: unknown;
}
const rejectionOf = async (promise: Promise<unknown>): Promise<RpcLikeError> => {
  try {
    await promise;
  } catch (error) {
    return error as RpcLikeError;
  }
  throw new Error("expected a rejection");
};

describe("create faults", () => {
  it("policy_blocked: code -32000, message and data.reason; no top-level reason through the SDK", async () => {
    const s = await sim(presetScenario("policy-blocked", FAST));
    const c = await client(s);
    const err = await rejectionOf(c.createSession({ ...repo("octo", "blocked") }));
    expect(err.code).toBe(-32000);
    expect(err.message).toMatch(/policy_blocked/);
    expect(err.data?.reason).toBe("policy_blocked");
    expect(err.reason).toBeUndefined();
    expect(s.stats.createAttempts).toBe(1);
    expect(s.stats.createFailures).toEqual({ policy_blocked: 1 });
    expect(s.stats.sessionsCreated).toBe(0);
    // The client survives a failed create.
    expect((await c.ping()).protocolVersion).toBe(3);
  });

  it("a caller-supplied id on a cloud create is rejected with session_id_claim_rejected", async () => {
    const s = await sim(FAST);
    const c = await client(s);
    const err = await rejectionOf(c.createSession({ sessionId: "mine", ...repo("octo", "demo") }));
    expect(err.data?.reason).toBe("session_id_claim_rejected");
    expect(err.message).toMatch(/session_id_claim_rejected/);
    expect(s.stats.createFailures).toEqual({ session_id_claim_rejected: 1 });
  });

  it("transient faults fail the first N tries with data.reason transient, then succeed", async () => {
    const s = await sim(presetScenario("flaky-create", FAST));
    const c = await client(s);
    const first = await rejectionOf(c.createSession({ ...repo("octo", "flaky") }));
    const second = await rejectionOf(c.createSession({ ...repo("octo", "flaky") }));
    expect([first.message, second.message]).toEqual(["ECONNRESET", "503 Service Unavailable"]);
    expect([first.code, second.code]).toEqual([-32603, -32603]);
    expect(first.data?.reason).toBe("transient");
    const session = await c.createSession({ ...repo("octo", "flaky") });
    await record(session).waitFor(isAgentStart);
    expect(s.stats.createAttempts).toBe(3);
    expect(s.stats.createAttemptsByRepository).toEqual({ "octo/flaky": 3 });
    expect(s.stats.createFailures).toEqual({ transient: 2 });
  });

  it("a hanging create never answers", async () => {
    const s = await sim(presetScenario("hanging-create", FAST));
    const c = await client(s);
    expect(await settledWithin(c.createSession({ ...repo("octo", "hang") }), 300)).toBe("pending");
    expect(s.stats.createAttempts).toBe(1);
    expect(s.stats.sessionsCreated).toBe(0);
  });

  it("a never-connecting agent: no session.start, every send dropped, until the test connects it", async () => {
    const s = await sim(presetScenario("never-connects", FAST));
    const c = await client(s);
    const session = await c.createSession({ ...repo("octo", "ghost") });
    const rec = record(session);
    await pause(100);
    await session.send("anyone?");
    await pause(50);
    expect(rec.events).toEqual([]);
    expect(s.stats.sessions.get(session.sessionId)?.promptsDropped).toEqual(["anyone?"]);
    s.connectAgent(session.sessionId);
    await rec.waitFor(isAgentStart);
    expect((await session.sendAndWait("now?"))?.data.content).toBe("Simulated reply to: now?");
  });

  it("early start: session.start precedes the create answer, the SDK drops it, history keeps it", async () => {
    const s = await sim(presetScenario("early-start", FAST));
    const c = await client(s);
    const session = await c.createSession({ onEvent: () => undefined, ...repo("octo", "early") });
    const rec = record(session);
    await pause(50);
    expect(rec.events).toEqual([]);
    const history = await session.getEvents();
    expect(history.map((e) => e.type)).toEqual(["session.start", "session.info"]);
    expect(history[0]?.data).toMatchObject({ producer: "copilot-agent" });
    // The agent is up, so a send now reaches the worker.
    await session.sendAndWait("hi");
    expect(s.stats.timesReceived("hi")).toBe(1);
  });
});

describe("delivery faults", () => {
  it("duplicates and reorders delivery, never history", async () => {
    const s = await sim({ ...FAST, defaults: { duplicateRate: 0.4, reorderRate: 0.4 } });
    const c = await client(s);
    const session = await c.createSession({ streaming: true, ...repo("octo", "dup") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await session.send("dups please");
    await rec.waitFor(isIdle);
    await pause(20);
    const ids = rec.events.map((e) => e.id);
    expect(new Set(ids).size).toBeLessThan(ids.length);
    const history = await session.getEvents();
    // History is a clean parent chain, whatever the delivery order.
    history.forEach((e, i) => {
      expect(e.parentId).toBe(i === 0 ? null : history[i - 1]?.id);
    });
    const deliveredPersisted = [...new Set(rec.events.filter((e) => e.ephemeral !== true).map((e) => e.id))];
    expect(new Set(deliveredPersisted)).toEqual(new Set(history.map((e) => e.id)));
    expect(deliveredPersisted).not.toEqual(history.map((e) => e.id));
  });

  it("session.error mid-turn: sendAndWait rejects, the turn ends, the next turn works", async () => {
    const s = await sim({ ...FAST, defaults: { turnFault: { kind: "error", afterChunks: 1 } } });
    const c = await client(s);
    const session = await c.createSession({ streaming: true, ...repo("octo", "err") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await expect(session.sendAndWait("boom")).rejects.toThrow(/Simulated model failure/);
    const error = await rec.waitFor((e) => e.type === "session.error");
    expect(error.data).toMatchObject({ errorType: "model_call", statusCode: 500 });
    await rec.waitFor(isIdle);
    expect((await session.sendAndWait("again"))?.data.content).toBe("Simulated reply to: again");
  });

  it("a stalled turn stops its deltas and never goes idle until aborted", async () => {
    const s = await sim(presetScenario("stall", FAST));
    const c = await client(s);
    const session = await c.createSession({ streaming: true, ...repo("octo", "stall") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await session.send("stall");
    await rec.waitFor((e) => e.type === "assistant.message_delta");
    await pause(150);
    expect(rec.types().filter((t) => t === "assistant.message_delta")).toHaveLength(2);
    expect(rec.types()).not.toContain("session.idle");
    await session.abort();
    expect((await rec.waitFor(isIdle)).data).toMatchObject({ aborted: true });
  });
});

describe("connection faults", () => {
  it("the connection drops mid-turn; the worker finishes; a new client resumes and sees it in history", async () => {
    const s = await sim(presetScenario("drop", FAST));
    const c1 = await client(s);
    const session = await c1.createSession({ streaming: true, ...repo("octo", "drop") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await session.send("survive the drop");
    await pause(150);
    expect(rec.types()).not.toContain("session.idle");
    expect(s.stats.connectionsClosed).toBe(1);
    const c2 = await client(s);
    const resumed = await c2.resumeSession(session.sessionId, { onPermissionRequest: approveAll });
    const history = await resumed.getEvents();
    expect(history.map((e) => e.type)).toEqual(expect.arrayContaining(["assistant.message", "assistant.turn_end"]));
    expect(s.stats.timesReceived("survive the drop")).toBe(1);
  });

  it("restart keeps sessions and drops connections; resumeSession works on a new connection", async () => {
    const s = await sim(FAST);
    const c1 = await client(s);
    const session = await c1.createSession({ streaming: true, ...repo("octo", "restart") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await session.sendAndWait("before restart");
    s.restart();
    await pause(30);
    expect(s.stats.restarts).toBe(1);
    await expect(session.send("dead connection")).rejects.toThrow();

    const c2 = await client(s);
    const seen: string[] = [];
    const resumed = await c2.resumeSession(session.sessionId, { onPermissionRequest: approveAll, streaming: true, onEvent: (e) => seen.push(e.type) });
    const reply = await resumed.sendAndWait("after restart");
    expect(reply?.data.content).toBe("Simulated reply to: after restart");
    expect(seen[0]).toBe("session.resume");
    expect(seen).not.toContain("session.info");
    const history = (await resumed.getEvents()).map((e) => e.type);
    expect(history.filter((t) => t === "user.message")).toHaveLength(2);
    expect(s.stats.sessions.get(session.sessionId)?.promptsReceived).toEqual(["before restart", "after restart"]);
  });

  it("the restart preset restarts the runtime mid-turn", async () => {
    const s = await sim(presetScenario("restart", FAST));
    const c1 = await client(s);
    const session = await c1.createSession({ streaming: true, ...repo("octo", "r") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await session.send("mid-turn restart");
    await pause(150);
    expect(s.stats.restarts).toBe(1);
    expect(s.history(session.sessionId).map((e) => e.type)).toContain("assistant.message");
  });
});
