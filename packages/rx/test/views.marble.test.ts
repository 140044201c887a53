import { replay, resolveSettings, type SessionEvent, type SessionLogEvent, type SessionSnapshot } from "@cloudsession/machine";
import { TestScheduler } from "rxjs/testing";
import { describe, expect, test } from "vitest";
import { assembleText, selectLifecycleState, selectRemoteUrl } from "../src/index.js";

function scheduler() {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const requested: SessionLogEvent = { type: "session.requested", repository: { owner: "o", name: "r" }, settings: resolveSettings(), at: 0 };
const steps: SessionEvent[] = [
  { type: "reservation.succeeded", sessionId: "s1", at: 1 },
  { type: "agent.started", producer: "copilot-agent", at: 2 },
  { type: "remote-url.published", url: "https://github.com/copilot/tasks/s1", at: 3 },
  { type: "prompt.submitted", promptId: "p1", text: "hi", at: 4 },
  { type: "prompt.dispatching", promptId: "p1", at: 5 },
  { type: "turn.idle", aborted: false, at: 6 },
  { type: "close.requested", at: 7 },
];
// Snapshot after the first n steps.
const snap = (n: number): SessionSnapshot => replay([requested, ...steps.slice(0, n)]);

describe("selectLifecycleState", () => {
  test("emits each state once, in order", () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: snap(0), b: snap(1), c: snap(2), d: snap(3), e: snap(4), f: snap(5), g: snap(6), h: snap(7) };
      expectObservable(cold("-a-b-c-d-e-f-g-h-|", values).pipe(selectLifecycleState())).toBe("-r-a-R-----S-R-c-|", {
        r: "reserving",
        a: "awaiting-agent",
        R: "ready",
        S: "streaming",
        c: "closed",
      });
    });
  });
});

describe("selectRemoteUrl", () => {
  test("emits the URL once, when it becomes known", () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: snap(0), b: snap(2), c: snap(3), d: snap(5), e: snap(7) };
      expectObservable(cold("-a-b-c-d-e-|", values).pipe(selectRemoteUrl())).toBe("-----u-----|", { u: "https://github.com/copilot/tasks/s1" });
    });
  });
});

describe("assembleText", () => {
  const events = {
    h: { type: "assistant.delta", messageId: "m1", text: "He", at: 1 },
    l: { type: "assistant.delta", messageId: "m1", text: "llo", at: 2 },
    m: { type: "assistant.message", messageId: "m1", text: "Hello", at: 3 },
    n: { type: "assistant.message", messageId: "m2", text: "Done.", at: 4 },
    i: { type: "turn.idle", aborted: false, at: 5 },
    b: { type: "assistant.delta", messageId: "m3", text: "Bye", at: 6 },
    x: { type: "agent.started", producer: "copilot-agent", at: 0 },
  } satisfies Record<string, SessionEvent>;

  test("deltas append, the whole message settles, idle closes the turn", () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-x-h-l-m-i-b-|", events).pipe(assembleText())).toBe("---a-b-c-d-e-|", {
        a: { turn: 1, text: "He", done: false },
        b: { turn: 1, text: "Hello", done: false },
        c: { turn: 1, text: "Hello", done: false },
        d: { turn: 1, text: "Hello", done: true },
        e: { turn: 2, text: "Bye", done: false },
      });
    });
  });

  test("several messages in one turn read as paragraphs; a second idle is ignored", () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-m-n-i-i-|", events).pipe(assembleText())).toBe("-a-b-c---|", {
        a: { turn: 1, text: "Hello", done: false },
        b: { turn: 1, text: "Hello\n\nDone.", done: false },
        c: { turn: 1, text: "Hello\n\nDone.", done: true },
      });
    });
  });

  test("an idle with no text produces nothing", () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-i-|", events).pipe(assembleText())).toBe("---|");
    });
  });
});
