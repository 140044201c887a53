import { transition } from "xstate";
import { describe, expect, test } from "vitest";
import {
  backoffDelayMs,
  defaultSessionSettings,
  InvalidLogError,
  lifecycleState,
  nextDeadline,
  replay,
  resolveSettings,
  sessionMachine,
  wantsAbort,
  wantsReservation,
  type SessionEvent,
  type SessionLogEvent,
  type SessionSnapshot,
} from "../src/index.js";
import { observable } from "./harness.js";

const repository = { owner: "octo", name: "demo" };
const settings = resolveSettings({
  reservationTimeoutMs: 10_000,
  agentStartTimeoutMs: 5_000,
  turnStallTimeoutMs: 8_000,
  retry: { maxAttempts: 3, initialDelayMs: 1_000, maxDelayMs: 30_000, multiplier: 2, jitter: 0.5 },
});

function log(...events: SessionEvent[]): SessionLogEvent[] {
  return [{ type: "session.requested", repository, settings, at: 0 }, ...events];
}

const reserved: SessionEvent = { type: "reservation.succeeded", sessionId: "s1", at: 10 };
const started: SessionEvent = { type: "agent.started", producer: "copilot-agent", at: 20 };
const submit = (promptId: string, at = 5): SessionEvent => ({ type: "prompt.submitted", promptId, text: promptId, at });
const dispatching = (promptId: string, at = 30): SessionEvent => ({ type: "prompt.dispatching", promptId, at });
const dispatched = (promptId: string, at = 31): SessionEvent => ({ type: "prompt.dispatched", promptId, messageId: `m-${promptId}`, at });
const fire = (deadline: "reservation" | "retry" | "agent-start" | "turn-stall", at: number): SessionEvent => ({ type: "deadline.fired", deadline, at });
const ready = [submit("p1"), reserved, started];

describe("deadline firings", () => {
  test("a firing before its due time is ignored", () => {
    const early = replay(log(fire("reservation", 9_999)));
    expect(lifecycleState(early)).toBe("reserving");
    const onTime = replay(log(fire("reservation", 10_000)));
    expect(onTime.context.failure).toEqual({ phase: "reserving", reason: "timeout", message: "deadline passed" });
  });

  test("a stale firing for a deadline no longer armed is ignored", () => {
    const before = replay(log(...ready));
    const after = replay(log(...ready, fire("reservation", 1_000_000), fire("agent-start", 1_000_000), fire("retry", 1_000_000)));
    expect(observable(after)).toEqual(observable(before));
  });

  test("agent-start timeout fails in awaiting-agent, with the prompt undelivered", () => {
    const snapshot = replay(log(submit("p1"), reserved, fire("agent-start", 10 + 5_000)));
    expect(snapshot.context.failure).toMatchObject({ phase: "awaiting-agent", reason: "timeout" });
    expect(snapshot.context.prompts.at(0)).toMatchObject({ status: "undelivered", reason: "session-failed" });
  });

  test("nextDeadline names the earliest armed deadline", () => {
    const snapshot = replay(log({ type: "reservation.failed", failure: "transient", message: "x", random: 0, at: 100 }));
    expect(nextDeadline(snapshot.context)).toEqual({ name: "retry", at: 100 + 1_000 });
  });
});

describe("prompts", () => {
  test("a duplicate prompt id is ignored, keeping the first text", () => {
    const snapshot = replay(log(submit("p1", 1), { type: "prompt.submitted", promptId: "p1", text: "other", at: 2 }));
    expect(snapshot.context.prompts.toArray()).toEqual([{ id: "p1", text: "p1", status: "queued", submittedAt: 1 }]);
  });

  test("only the queue's head can be dispatched", () => {
    const snapshot = replay(log(submit("p1"), submit("p2"), reserved, started, dispatching("p2")));
    expect(lifecycleState(snapshot)).toBe("ready");
    expect(snapshot.context.prompts.map((prompt) => prompt.status)).toEqual(["queued", "queued"]);
  });

  test("prompt.dispatched after the turn went idle still records the messageId", () => {
    const snapshot = replay(log(...ready, dispatching("p1"), { type: "turn.idle", aborted: false, at: 40 }, dispatched("p1", 41)));
    expect(lifecycleState(snapshot)).toBe("ready");
    expect(snapshot.context.prompts.at(0)).toMatchObject({ status: "completed", messageId: "m-p1" });
  });

  test("a second prompt.dispatched does not replace the first messageId", () => {
    const snapshot = replay(log(...ready, dispatching("p1"), dispatched("p1"), { type: "prompt.dispatched", promptId: "p1", messageId: "other", at: 32 }));
    expect(snapshot.context.prompts.at(0)?.messageId).toBe("m-p1");
  });

  test("a requeued prompt goes back to the head of the queue", () => {
    const snapshot = replay(log(...ready, submit("p2", 25), dispatching("p1"), { type: "prompt.dispatch-failed", promptId: "p1", message: "x", requeue: true, at: 32 }));
    expect(snapshot.context.prompts.map((prompt) => prompt.status)).toEqual(["queued", "queued"]);
    expect(lifecycleState(snapshot)).toBe("ready");
  });

  test("close settles queued prompts as undelivered and the running one as interrupted", () => {
    const snapshot = replay(log(...ready, submit("p2", 25), dispatching("p1"), dispatched("p1"), { type: "close.requested", at: 50 }));
    expect(snapshot.context.prompts.map((prompt) => [prompt.status, prompt.reason])).toEqual([
      ["interrupted", "session-closed"],
      ["undelivered", "session-closed"],
    ]);
    expect(snapshot.output).toMatchObject({ state: "closed", closeReason: "closed by request" });
  });
});

describe("remote URL", () => {
  test("a duplicate remote URL keeps the first", () => {
    const snapshot = replay(
      log(...ready, { type: "remote-url.published", url: "https://github.com/copilot/tasks/s1", at: 21 }, { type: "remote-url.published", url: "https://github.com/copilot/tasks/s2", at: 22 }),
    );
    expect(snapshot.context.remoteUrl).toBe("https://github.com/copilot/tasks/s1");
  });
});

describe("stalls", () => {
  const turn = [...ready, dispatching("p1", 30), dispatched("p1", 31)];

  test("stall → aborting → idle → ready, the prompt interrupted as stalled", () => {
    const aborting = replay(log(...turn, fire("turn-stall", 31 + 8_000)));
    expect(wantsAbort(aborting)).toBe(true);
    expect(aborting.context.deadlines["turn-stall"]).toBe(31 + 8_000 + 8_000);
    const snapshot = replay(log(...turn, fire("turn-stall", 31 + 8_000), { type: "turn.idle", aborted: true, at: 9_000 }));
    expect(lifecycleState(snapshot)).toBe("ready");
    expect(snapshot.context.prompts.at(0)).toMatchObject({ status: "interrupted", reason: "stalled" });
    expect(snapshot.context.abortReason).toBeNull();
  });

  test("activity pushes the stall deadline back", () => {
    const snapshot = replay(log(...turn, { type: "turn.progressed", at: 5_000 }, fire("turn-stall", 31 + 8_000)));
    expect(wantsAbort(snapshot)).toBe(false);
    expect(snapshot.context.deadlines["turn-stall"]).toBe(5_000 + 8_000);
  });

  test("stall twice → failed in streaming, reason turn-stalled", () => {
    const snapshot = replay(log(...turn, fire("turn-stall", 31 + 8_000), fire("turn-stall", 31 + 16_000)));
    expect(snapshot.context.failure).toEqual({ phase: "streaming", reason: "turn-stalled", message: "the turn stalled and did not acknowledge its abort" });
    expect(snapshot.context.prompts.at(0)).toMatchObject({ status: "interrupted", reason: "session-failed" });
  });

  test("a send that fails while its turn is aborted leaves no abort reason behind (regression)", () => {
    const snapshot = replay(
      log(...ready, dispatching("p1"), fire("turn-stall", 30 + 8_000), { type: "prompt.dispatch-failed", promptId: "p1", message: "x", requeue: true, at: 8_100 }),
    );
    expect(lifecycleState(snapshot)).toBe("ready");
    expect(snapshot.context.abortReason).toBeNull();
  });
});

describe("reservation retries", () => {
  const transient = (at: number, random = 0): SessionEvent => ({ type: "reservation.failed", failure: "transient", message: "503", random, at });

  test("transient failures back off, retry, then succeed", () => {
    const events = [transient(100), fire("retry", 1_100), transient(1_200), fire("retry", 1_200 + 2_000), reserved];
    const snapshot = replay(log(...events.slice(0, 1)));
    expect(wantsReservation(snapshot)).toBe(false);
    expect(snapshot.context.deadlines.retry).toBe(100 + 1_000);
    expect(replay(log(...events.slice(0, 3))).context.deadlines.retry).toBe(1_200 + 2_000);
    const done = replay(log(...events.slice(0, 4), { ...reserved, at: 3_300 }));
    expect(done.context.attempts).toBe(3);
    expect(lifecycleState(done)).toBe("awaiting-agent");
  });

  test("a transient failure logged without a random draw backs off by the middle of the jitter range", () => {
    const snapshot = replay(log({ type: "reservation.failed", failure: "transient", message: "503", at: 100 }));
    expect(snapshot.context.deadlines.retry).toBe(100 + 1_000 * (1 - 0.5 * 0.5));
  });

  test("an early retry firing does not start an attempt", () => {
    const snapshot = replay(log(transient(100), fire("retry", 1_099)));
    expect(snapshot.context.attempts).toBe(1);
    expect(wantsReservation(snapshot)).toBe(false);
  });

  test("retries exhausted after maxAttempts", () => {
    const snapshot = replay(log(transient(100), fire("retry", 1_100), transient(1_200), fire("retry", 3_200), transient(3_300)));
    expect(snapshot.context.failure).toMatchObject({ phase: "reserving", reason: "retries-exhausted", message: "503" });
  });

  test("policy_blocked is never retried; fatal fails at once", () => {
    const blocked = replay(log({ type: "reservation.failed", failure: "policy_blocked", message: "policy", at: 100 }, fire("retry", 1_000_000)));
    expect(blocked.value).toBe("blocked");
    expect(blocked.context.attempts).toBe(1);
    expect(blocked.output?.state).toBe("blocked");
    expect(replay(log({ type: "reservation.failed", failure: "fatal", message: "bad", at: 100 })).context.failure).toMatchObject({ reason: "create-failed" });
  });

  test("backoffDelayMs: exponential, capped, jittered by the event's random", () => {
    const retry = { maxAttempts: 10, initialDelayMs: 1_000, maxDelayMs: 30_000, multiplier: 2, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 6, 7].map((failed) => backoffDelayMs(retry, failed, 0))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(backoffDelayMs(retry, 1, 0.5)).toBe(750);
    expect(backoffDelayMs(retry, 1, 0.999)).toBe(500);
    expect(backoffDelayMs({ ...retry, jitter: 0 }, 3, 0.9)).toBe(4_000);
    expect(backoffDelayMs({ ...retry, jitter: 1 }, 3, 1)).toBe(0);
    expect(backoffDelayMs(defaultSessionSettings.retry, 0, 0)).toBe(1_000);
  });
});

describe("final states absorb, also through the pure transition()", () => {
  test.each<[string, SessionEvent[]]>([
    ["closed", [{ type: "close.requested", reason: "bye", at: 1 }]],
    ["blocked", [{ type: "reservation.failed", failure: "policy_blocked", message: "policy", at: 1 }]],
    ["failed", [fire("reservation", 10_000)]],
  ])("%s (regression: root handlers used to fire in final states)", (_name, events) => {
    const done: SessionSnapshot = replay(log(submit("p1"), ...events));
    expect(done.status).toBe("done");
    for (const event of [submit("p9"), { type: "close.requested", reason: "again", at: 2 } as const, { type: "remote-url.published", url: "u", at: 3 } as const, dispatched("p1")]) {
      const [next] = transition(sessionMachine, done, event);
      expect(observable(next)).toEqual(observable(done));
    }
  });
});

describe("replay skips superseded signs of life", () => {
  test("a run of deltas and progress events folds to the same snapshot as sending each", async () => {
    const { createActor } = await import("xstate");
    const { replay: fold, resolveSettings: settingsOf, sessionMachine: machine } = await import("../src/index.js");
    const settings = settingsOf({ turnStallTimeoutMs: 1_000 });
    const repository = { owner: "o", name: "r" };
    const log = [
      { type: "session.requested", repository, settings, at: 0 },
      { type: "reservation.succeeded", sessionId: "s", at: 1 },
      { type: "agent.started", producer: "copilot-agent", at: 2 },
      { type: "prompt.submitted", promptId: "p", text: "t", at: 3 },
      { type: "prompt.dispatching", promptId: "p", at: 4 },
      ...Array.from({ length: 50 }, (_, i) => ({ type: "assistant.delta", messageId: "m", text: "x", at: 10 + i }) as const),
      { type: "turn.progressed", at: 70 },
      { type: "assistant.message", messageId: "m", text: "x".repeat(50), at: 71 },
      ...Array.from({ length: 5 }, (_, i) => ({ type: "turn.progressed", at: 80 + i }) as const),
    ] as const;
    const actor = createActor(machine, { input: { repository, settings, requestedAt: 0 } }).start();
    for (const event of log.slice(1)) if (event.type !== "session.requested") actor.send(event);
    const live = actor.getSnapshot();
    const replayed = fold(log);
    expect(replayed.context).toEqual(live.context);
    expect(replayed.value).toEqual(live.value);
    expect(replayed.context.deadlines["turn-stall"]).toBe(84 + 1_000);
  });
});

describe("replay refuses a log that is not a session's", () => {
  test("a log must start with session.requested: an empty log, or one starting elsewhere, is an InvalidLogError", () => {
    expect(() => replay([])).toThrow(new InvalidLogError("a session log must start with session.requested, got nothing"));
    expect(() => replay([reserved])).toThrow(new InvalidLogError("a session log must start with session.requested, got reservation.succeeded"));
    const thrown = ((): unknown => {
      try {
        replay([reserved]);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(InvalidLogError);
    expect(thrown).toMatchObject({ code: "INVALID_LOG", name: "InvalidLogError" });
  });

  test("a second session.requested inside a live session's log is refused; after the end the rest is absorbed", () => {
    const [requested] = log();
    expect(() => replay([...log(reserved), requested!])).toThrow(new InvalidLogError("session.requested may only be the first event of a log"));
    expect(lifecycleState(replay([...log({ type: "close.requested", at: 1 }), requested!]))).toBe("closed");
  });
});
