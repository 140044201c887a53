import { describe, expect, test } from "vitest";
import { lifecycleState, replay, resolveSettings, type SessionEvent, type SessionLogEvent } from "../src/index.js";

/** What a turn records in the context: replies, the stall deadline, aborts and resumes. */
const settings = resolveSettings({ turnStallTimeoutMs: 8_000 });
const log = (...events: SessionEvent[]): SessionLogEvent[] => [{ type: "session.requested", repository: { owner: "octo", name: "demo" }, settings, at: 0 }, ...events];
const ready: SessionEvent[] = [
  { type: "prompt.submitted", promptId: "p1", text: "hi", at: 1 },
  { type: "reservation.succeeded", sessionId: "s1", at: 10 },
  { type: "agent.started", producer: "copilot-agent", at: 20 },
];
const dispatching: SessionEvent = { type: "prompt.dispatching", promptId: "p1", at: 1_000 };
const message = (text: string, at: number): SessionEvent => ({ type: "assistant.message", messageId: `a${at}`, text, at });

describe("a turn's reply", () => {
  test("several assistant messages in one turn are kept as paragraphs, in order; an empty one adds nothing", () => {
    const snapshot = replay(log(...ready, dispatching, message("first", 1_001), message("", 1_002), message("second", 1_003), { type: "turn.idle", aborted: false, at: 1_004 }));
    expect(snapshot.context.prompts.at(0)).toMatchObject({ status: "completed", reply: "first\n\nsecond" });
  });

  test("an empty first message leaves room for the next to be the whole reply", () => {
    const snapshot = replay(log(...ready, dispatching, message("", 1_001), message("only", 1_002)));
    expect(snapshot.context.prompts.at(0)?.reply).toBe("only");
  });

  test("a message outside a turn is nobody's reply", () => {
    const snapshot = replay(log(...ready, message("stray", 500)));
    expect(snapshot.context.prompts.at(0)).toEqual({ id: "p1", text: "hi", status: "queued", submittedAt: 1 });
  });
});

describe("the stall deadline", () => {
  test("a turn's stall deadline is its start plus turnStallTimeoutMs, and each sign of life moves it to that time plus the limit", () => {
    const started = replay(log(...ready, dispatching));
    expect(started.context.deadlines["turn-stall"]).toBe(1_000 + 8_000);
    const later = replay(log(...ready, dispatching, { type: "prompt.dispatched", promptId: "p1", messageId: "m1", at: 2_000 }));
    expect(later.context.deadlines["turn-stall"]).toBe(2_000 + 8_000);
    const resumed = replay(log(...ready, dispatching, { type: "session.resumed", at: 3_000 }));
    expect(resumed.context.deadlines["turn-stall"]).toBe(3_000 + 8_000);
  });
});

describe("aborts and resumes", () => {
  test("a turn the runtime reports aborted without anyone asking is interrupted with reason `aborted`", () => {
    const snapshot = replay(log(...ready, dispatching, { type: "turn.idle", aborted: true, at: 1_500 }));
    expect(lifecycleState(snapshot)).toBe("ready");
    expect(snapshot.context.prompts.at(0)).toMatchObject({ status: "interrupted", reason: "aborted" });
  });

  test("an abort the user requests is recorded as `aborted`, and gives the turn one more stall window from the request", () => {
    const snapshot = replay(log(...ready, dispatching, { type: "turn.abort-requested", at: 1_200 }));
    expect(snapshot.context.abortReason).toBe("aborted");
    expect(snapshot.context.deadlines["turn-stall"]).toBe(1_200 + 8_000);
  });

  test("every session.resumed counts, in any live state", () => {
    const resumed: SessionEvent = { type: "session.resumed", at: 30 };
    expect(replay(log(...ready)).context.resumes).toBe(0);
    expect(replay(log(...ready, resumed)).context.resumes).toBe(1);
    expect(replay(log(...ready, resumed, dispatching, resumed)).context.resumes).toBe(2);
    expect(replay(log({ type: "reservation.succeeded", sessionId: "s1", at: 10 }, resumed, resumed, resumed)).context.resumes).toBe(3);
  });
});
