import { describe, expect, test } from "vitest";
import { lifecycleState, nextDeadline, promptToDispatch, replay, resolveSettings, type SessionEvent, type SessionLogEvent, type SessionSettings } from "../src/index.js";

/** Contact with the runtime, by example: what a loss and a return record (the property is in contact.property.test.ts). */
const settings = resolveSettings({ agentStartTimeoutMs: 5_000, turnStallTimeoutMs: 8_000, unreachableTimeoutMs: 15_000 });
const log = (...events: SessionEvent[]): SessionLogEvent[] => [{ type: "session.requested", repository: { owner: "octo", name: "demo" }, settings, at: 0 }, ...events];
const reserved: SessionEvent = { type: "reservation.succeeded", sessionId: "s1", at: 10 };
const ready: SessionEvent[] = [{ type: "prompt.submitted", promptId: "p1", text: "hi", at: 1 }, reserved, { type: "agent.started", producer: "copilot-agent", at: 20 }];
const lost = (at: number): SessionEvent => ({ type: "runtime.disconnected", at });
const back = (at: number): SessionEvent => ({ type: "runtime.reconnected", at });

describe("out of contact with the runtime", () => {
  test("a loss records when it began and arms the limit: that time plus unreachableTimeoutMs", () => {
    const snapshot = replay(log(...ready, lost(100)));
    expect(snapshot.context.contactLostAt).toBe(100);
    expect(snapshot.context.deadlines.unreachable).toBe(100 + 15_000);
    expect(nextDeadline(snapshot.context)).toEqual({ name: "unreachable", at: 100 + 15_000 });
  });

  test("a log written before the limit existed gets the default limit (300 s)", () => {
    const { unreachableTimeoutMs: _dropped, ...older } = settings;
    const oldLog: SessionLogEvent[] = [{ type: "session.requested", repository: { owner: "octo", name: "demo" }, settings: older as SessionSettings, at: 0 }, ...ready, lost(100)];
    expect(replay(oldLog).context.deadlines.unreachable).toBe(100 + 300_000);
  });

  test("past the limit the session fails `runtime-unreachable` in the phase it waited in; a second loss does not restart the limit", () => {
    const failed = replay(log(...ready, lost(100), lost(5_000), { type: "deadline.fired", deadline: "unreachable", at: 100 + 15_000 }));
    expect(failed.context.failure).toEqual({ phase: "ready", reason: "runtime-unreachable", message: "the runtime stayed out of contact past the limit (unreachableTimeoutMs)" });
    const waiting = replay(log(reserved, lost(100), { type: "deadline.fired", deadline: "unreachable", at: 100 + 15_000 }));
    expect(waiting.context.failure).toMatchObject({ phase: "awaiting-agent", reason: "runtime-unreachable" });
    const early = replay(log(...ready, lost(100), { type: "deadline.fired", deadline: "unreachable", at: 100 + 14_999 }));
    expect(lifecycleState(early)).toBe("ready");
  });

  test("the deadlines that wait on the runtime are not judged while out of contact, and nothing is dispatched", () => {
    const snapshot = replay(log(reserved, lost(100), { type: "deadline.fired", deadline: "agent-start", at: 10 + 5_000 }));
    expect(lifecycleState(snapshot)).toBe("awaiting-agent");
    expect(nextDeadline(snapshot.context)?.name).toBe("unreachable");
    const readyAway = replay(log(...ready, lost(100)));
    expect(promptToDispatch(readyAway)).toBeUndefined();
    const refused = replay(log(...ready, lost(100), { type: "prompt.dispatching", promptId: "p1", at: 200 }));
    expect(lifecycleState(refused)).toBe("ready");
  });

  test("contact back resumes those deadlines pushed back by the time away, and turns the limit off", () => {
    const awaiting = replay(log(reserved, lost(1_000), back(4_000)));
    expect(awaiting.context.deadlines["agent-start"]).toBe(10 + 5_000 + 3_000);
    expect(awaiting.context.deadlines.unreachable).toBeNull();
    expect(awaiting.context.contactLostAt).toBeNull();
    const turn = replay(log(...ready, { type: "prompt.dispatching", promptId: "p1", at: 100 }, lost(1_000), back(1_500)));
    expect(turn.context.deadlines["turn-stall"]).toBe(100 + 8_000 + 500);
    expect(promptToDispatch(replay(log(...ready, lost(100), back(200))))?.id).toBe("p1");
  });

  test("a return without a loss changes nothing", () => {
    const before = replay(log(reserved));
    const after = replay(log(reserved, back(4_000)));
    expect(after.context.deadlines).toEqual(before.context.deadlines);
    expect(after.context.contactLostAt).toBeNull();
  });
});
