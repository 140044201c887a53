import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findBundledRuntime, missingRuntimeBanner } from "../src/bundledRuntime.js";
import { FAKE_TOKEN } from "../src/capiStub.js";
import { loadFixture, persistedShape, type FixtureName } from "../src/fixture.js";
import { fixturesFromRun } from "../src/fixturesFromRun.js";
import type { RawEvent } from "../src/normalize.js";
import { runLocalScript, SCRIPT_PROMPTS, type LocalRun } from "../src/localScript.js";
import { startRealRuntime, type RealRuntime } from "../src/realRuntime.js";
import { realScriptTarget, STUB_REPLIES } from "../src/realScriptTarget.js";

// The REAL runtime bundled with @github/copilot-sdk, spawned over stdio by the real SDK client, for
// a local session. Its HTTP calls go to a loopback stub that is also its HTTP(S) proxy and refuses
// CONNECT: nothing may leave 127.0.0.1. One runtime at a time (the resume spawns the second).
const launcher = findBundledRuntime();
if (launcher === undefined) console.warn(missingRuntimeBanner("packages/fidelity/test/localSession.runtime.test.ts"));
/** The runtime may persist `assistant.turn_end` before `abort`; put them in the usual order to compare. */
function abortFirst(types: readonly string[]): string[] {
  const out = [...types];
  for (let i = 0; i + 1 < out.length; i++) {
    if (out[i] === "assistant.turn_end" && out[i + 1] === "abort") [out[i], out[i + 1]] = ["abort", "assistant.turn_end"];
  }
  return out;
}

const describeRuntime = launcher === undefined ? describe.skip : describe;

describeRuntime("the real runtime, local session (create, start, send, stream, idle, abort, resume, history)", () => {
  let runtime: RealRuntime;
  let run: LocalRun;

  beforeAll(async () => {
    runtime = await startRealRuntime();
    run = await runLocalScript(realScriptTarget(runtime), 30_000);
  }, 180_000);

  afterAll(async () => {
    await runtime.stop();
  }, 60_000);

  const persisted = (events: LocalRun["history"]) => events.filter((e) => e.ephemeral !== true);

  it("nothing left 127.0.0.1: no CONNECT or proxied request, every call answered by the stub with the fake token", () => {
    expect(runtime.stub.outbound.attempts).toEqual([]);
    expect(runtime.stub.outbound.forwarded).toBe(0);
    expect(runtime.stub.requests.length).toBeGreaterThan(0);
    for (const request of runtime.stub.requests) expect(request.headers["host"]).toBe(`127.0.0.1:${runtime.stub.port}`);
    const user = runtime.stub.requests.find((r) => r.path === "/copilot_internal/user");
    expect(user?.headers["authorization"]).toBe(`Bearer ${FAKE_TOKEN}`);
    expect(runtime.env["HTTPS_PROXY"]).toBe(runtime.stub.url);
    expect(runtime.env["NO_PROXY"]).toBe("127.0.0.1,localhost");
  });

  it("create: session.start (producer copilot-agent, local context) reaches onEvent during createSession; no session.info", () => {
    expect(run.segments.create.map((e) => e.type)).toEqual(["session.start"]);
    const start = run.segments.create[0]!;
    expect(start.parentId).toBeNull();
    expect(start.data).toMatchObject({ sessionId: run.sessionId, producer: "copilot-agent", remoteSteerable: false, alreadyInUse: false, contextTier: null });
    expect(run.lifecycle).toContain("session.created");
    const all = [...run.segments.create, ...run.segments.turn, ...run.segments.secondTurn, ...run.segments.abort];
    expect(all.some((e) => e.type === "session.info")).toBe(false);
  });

  it("send + stream + idle: deltas add up to assistant.message, which answers the sent messageId", () => {
    const turn = run.segments.turn;
    expect(persisted(turn).map((e) => e.type)).toEqual(["user.message", "system.message", "assistant.turn_start", "assistant.message", "assistant.turn_end"]);
    const user = turn.find((e) => e.type === "user.message");
    expect(user?.data).toMatchObject({ content: SCRIPT_PROMPTS.first, messageId: run.firstMessageId, turnId: "0" });
    const message = turn.find((e) => e.type === "assistant.message");
    if (message?.type !== "assistant.message") throw new Error("no assistant.message");
    expect(message.data.content).toBe(STUB_REPLIES.short.text);
    expect(message.data.originatingMessageId).toBe(run.firstMessageId);
    const deltas = turn.flatMap((e) => (e.type === "assistant.message_delta" ? [e.data.deltaContent] : []));
    expect(deltas.join("")).toBe(message.data.content);
    expect(turn.at(-1)).toMatchObject({ type: "session.idle", ephemeral: true, data: { mode: "interactive" } });
    expect(turn.filter((e) => e.type === "session.title_changed")).toHaveLength(1);
    expect(run.segments.secondTurn.some((e) => e.type === "session.title_changed")).toBe(false);
  });

  // Persisted events chain strictly. An ephemeral event hangs off the latest persisted event *when it
  // was created*, but may be delivered after a later persisted one (seen: model.turn_started after
  // assistant.turn_start, model.telemetry after assistant.turn_end), so only "some earlier persisted
  // event" holds for it.
  it("envelope: persisted events have no ephemeral key and chain by parentId; ephemeral ones hang off an earlier persisted event", () => {
    let last: string | null = null;
    const seenPersisted = new Set<string>();
    const all = [...run.segments.create, ...run.segments.turn, ...run.segments.secondTurn, ...run.segments.abort];
    for (const [index, event] of all.entries()) {
      expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
      expect("agentId" in event).toBe(false);
      if (event.ephemeral === true) {
        expect({ index, type: event.type, parentKnown: event.parentId !== null && seenPersisted.has(event.parentId) }).toEqual({ index, type: event.type, parentKnown: true });
        continue;
      }
      expect("ephemeral" in event).toBe(false);
      expect({ index, type: event.type, parentId: event.parentId }).toEqual({ index, type: event.type, parentId: last });
      last = event.id;
      seenPersisted.add(event.id);
    }
  });

  it("sendAndWait resolves with the assistant.message", () => {
    expect(run.sendAndWaitResult?.type).toBe("assistant.message");
  });

  it("abort mid-stream: abort is persisted, no assistant.message, idle aborted; the stub saw the stream closed", () => {
    const abort = run.segments.abort;
    // abort and assistant.turn_end arrive in either order (turn_end first seen once in ~25 runs).
    expect(abortFirst(persisted(abort).map((e) => e.type))).toEqual(["user.message", "system.message", "assistant.turn_start", "abort", "assistant.turn_end"]);
    expect(abort.find((e) => e.type === "abort")?.data).toEqual({ reason: "user_initiated" });
    // agent.interrupted is not in the SDK's generated event union: read it untyped.
    expect((abort as readonly RawEvent[]).find((e) => e.type === "agent.interrupted")?.data).toMatchObject({ activity: "model_call", cancelPhase: "mid_stream" });
    expect(abort.at(-1)).toMatchObject({ type: "session.idle", data: { aborted: true, mode: "interactive" } });
    expect(runtime.stub.requests.filter((r) => r.path === "/chat/completions").map((r) => r.closedEarly === true)).toEqual([false, false, true, false]);
  });

  it("history: getEvents is the persisted events, as delivered live (system.message every turn)", () => {
    const live = persisted([...run.segments.create, ...run.segments.turn, ...run.segments.secondTurn, ...run.segments.abort]);
    expect(run.history.map((e) => e.id)).toEqual(live.map((e) => e.id));
  });

  it("the stored log, after disconnect: session.shutdown appended, system.message only for the first turn", () => {
    const stored = run.storedAfterDisconnect ?? [];
    expect(stored.at(-1)?.type).toBe("session.shutdown");
    expect(stored.at(-1)?.data).toMatchObject({ shutdownType: "routine" });
    expect(stored.filter((e) => e.type === "system.message")).toHaveLength(1);
    expect(run.storedAfterStop?.map((e) => e.id)).toEqual(stored.map((e) => e.id));
  });

  it("resume from a second runtime: session.resume first, no replay of old events, a new turn, full history", () => {
    const resume = run.segments.resume;
    expect(resume[0]).toMatchObject({ type: "session.resume", parentId: run.storedAfterDisconnect?.at(-1)?.id, data: { eventCount: 15, sessionWasActive: false, alreadyInUse: false } });
    expect(resume.some((e) => e.type === "session.start" || e.type === "session.info")).toBe(false);
    expect(resume.filter((e) => e.type === "user.message")).toHaveLength(1);
    expect(resume.at(-1)).toMatchObject({ type: "session.idle" });
    const history = run.historyAfterResume.map((e) => e.type);
    expect(history).toEqual([
      ...(run.storedAfterDisconnect ?? []).map((e) => e.type),
      "session.resume", "user.message", "system.message", "assistant.turn_start", "assistant.message", "assistant.turn_end",
    ]);
  });

  const names: FixtureName[] = ["local-create", "local-turn", "local-second-turn", "local-abort", "local-history", "local-stored-log", "local-resume", "local-history-after-resume"];
  it.each(names)("today's run still matches the committed fixture %s (persisted types, order, data keys)", (name) => {
    const today = fixturesFromRun(run, { sdk: "", platform: "", paths: [runtime.home.root] }).find((f) => f.name === name);
    const canonical = (shape: ReturnType<typeof persistedShape>) => {
      const types = abortFirst(shape.map((e) => e.type));
      return types.map((type) => ({ type, dataKeys: shape.find((e) => e.type === type)?.dataKeys }));
    };
    expect(canonical(persistedShape(today?.events ?? []))).toEqual(canonical(persistedShape(loadFixture(name).events)));
  });
});
