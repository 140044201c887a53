import { lifecycleState, replay, resolveSettings, type SessionEvent as MachineEvent, type SessionLogEvent } from "@cloudsession/machine";
import { toMachineEvents, type RawSessionEvent } from "@cloudsession/rx";
import { from, lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { loadFixture, type FixtureName } from "../src/fixture.js";

// The engine's adapter (`toMachineEvents`) fed with what the REAL runtime emitted (committed
// fixtures), not with the simulator's idea of it, and the machine folded over the result.
const at = (): number => 1_000;
const mapped = (name: FixtureName): Promise<MachineEvent[]> =>
  lastValueFrom(from(loadFixture(name).events as readonly RawSessionEvent[]).pipe(toMachineEvents({ now: at }), toArray()));

// A local session has no reservation: the engine would record the create's answer as the
// reservation (see the report's proposed engine change).
const opening: SessionLogEvent[] = [
  { type: "session.requested", repository: { owner: "local", name: "workspace" }, settings: resolveSettings(), at: 0 },
  { type: "reservation.succeeded", sessionId: "local-session", at: 1 },
];
const dispatch = (promptId: string, text: string): SessionLogEvent[] => [
  { type: "prompt.submitted", promptId, text, at: 2 },
  { type: "prompt.dispatching", promptId, at: 3 },
  { type: "prompt.dispatched", promptId, messageId: `m-${promptId}`, at: 4 },
];

describe("toMachineEvents on the real runtime's streams (local session)", () => {
  it("maps the real session.start (producer copilot-agent) to agent.started: the session becomes ready", async () => {
    const events = await mapped("local-create");
    expect(events).toEqual([{ type: "agent.started", producer: "copilot-agent", at: 1_000 }]);
    expect(lifecycleState(replay([...opening, ...events]))).toBe("ready");
  });

  it("a real turn: deltas concatenate to the assistant.message, then turn.idle (not aborted); the prompt completes", async () => {
    const start = await mapped("local-create");
    const turn = await mapped("local-turn");
    expect(turn.map((e) => e.type)).toEqual([
      "assistant.delta", "assistant.delta", "assistant.delta", "assistant.delta", "assistant.delta",
      "assistant.message", "turn.idle",
    ]);
    const deltas = turn.flatMap((e) => (e.type === "assistant.delta" ? [e.text] : []));
    const message = turn.find((e) => e.type === "assistant.message");
    expect(message).toMatchObject({ text: "Hello from the stub model." });
    expect(deltas.join("")).toBe("Hello from the stub model.");
    expect(turn.at(-1)).toEqual({ type: "turn.idle", aborted: false, at: 1_000 });
    // Everything else the runtime streams (model.*, usage, mcp, skills, streaming_delta…) maps to nothing.
    const snapshot = replay([...opening, ...start, ...dispatch("p1", "Say hello"), ...turn]);
    expect(lifecycleState(snapshot)).toBe("ready");
    expect(snapshot.context.prompts.at(0)).toMatchObject({ status: "completed", reply: "Hello from the stub model." });
  });

  it("a real abort: no assistant.message, turn.idle aborted; the prompt ends interrupted and the session stays usable", async () => {
    const start = await mapped("local-create");
    const abort = await mapped("local-abort");
    expect(abort.map((e) => e.type)).toEqual(["assistant.delta", "assistant.delta", "assistant.delta", "turn.idle"]);
    expect(abort.at(-1)).toMatchObject({ aborted: true });
    const snapshot = replay([
      ...opening, ...start, ...dispatch("p3", "Tell me a long story"),
      ...abort.filter((e) => e.type !== "turn.idle"),
      { type: "turn.abort-requested", at: 5 },
      ...abort.filter((e) => e.type === "turn.idle"),
    ]);
    expect(lifecycleState(snapshot)).toBe("ready");
    expect(snapshot.context.prompts.at(0)?.status).toBe("interrupted");
  });

  it("the whole recorded session folds to ready with three prompts: completed, completed, interrupted", async () => {
    const log: SessionLogEvent[] = [...opening, ...(await mapped("local-create"))];
    log.push(...dispatch("p1", "Say hello"), ...(await mapped("local-turn")));
    log.push(...dispatch("p2", "Say hello again"), ...(await mapped("local-second-turn")));
    const abort = await mapped("local-abort");
    log.push(...dispatch("p3", "Tell me a long story"), ...abort.slice(0, -1), { type: "turn.abort-requested", at: 5 }, ...abort.slice(-1));
    const snapshot = replay(log);
    expect(lifecycleState(snapshot)).toBe("ready");
    expect(snapshot.context.prompts.map((p) => p.status)).toEqual(["completed", "completed", "interrupted"]);
  });

  it("a resumed local session: session.resume maps to nothing (no second agent.started), the next turn completes", async () => {
    const resume = await mapped("local-resume");
    expect(resume.some((e) => e.type === "agent.started")).toBe(false);
    expect(resume.map((e) => e.type).slice(-2)).toEqual(["assistant.message", "turn.idle"]);
  });

  it("history (getEvents) carries no ephemeral events, so replaying it gives the messages but no idle", async () => {
    const history = await mapped("local-history");
    expect(history.map((e) => e.type)).toEqual(["agent.started", "assistant.message", "assistant.message"]);
  });
});
