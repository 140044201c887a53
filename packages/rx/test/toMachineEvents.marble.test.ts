import type { SessionEvent } from "@cloudsession/machine";
import { TestScheduler } from "rxjs/testing";
import { describe, expect, test } from "vitest";
import { distinctEvents, toMachineEvents, type RawSessionEvent } from "../src/index.js";

function scheduler() {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const now = () => 7;

const sdk = {
  s: { id: "e1", type: "session.start", data: { producer: "copilot-agent" } },
  l: { id: "e2", type: "session.start", data: { producer: "local" } },
  i: { id: "e3", type: "session.info", data: { infoType: "remote", url: "https://github.com/copilot/tasks/s1", message: "remote" } },
  n: { id: "e4", type: "session.info", data: { infoType: "notification", message: "hi" } },
  d: { id: "e5", type: "assistant.message_delta", ephemeral: true, data: { messageId: "m1", deltaContent: "He" } },
  m: { id: "e6", type: "assistant.message", data: { messageId: "m1", content: "Hello" } },
  x: { id: "e7", type: "some.future_event", data: { anything: true } },
  y: { id: "e8", type: "session.title_changed", ephemeral: true, data: { title: "t" } },
  z: { id: "e9", type: "session.idle", ephemeral: true, data: { aborted: true } },
  w: { id: "e10", type: "session.idle", ephemeral: true, data: {} },
  e: { id: "e11", type: "session.error", data: { errorType: "model", message: "boom" } },
  b: { id: "e12", type: "session.info", data: { infoType: "remote" } },
  q: { type: "assistant.message" },
} satisfies Record<string, RawSessionEvent>;

const machine = {
  S: { type: "agent.started", producer: "copilot-agent", at: 7 },
  L: { type: "agent.started", producer: "local", at: 7 },
  I: { type: "remote-url.published", url: "https://github.com/copilot/tasks/s1", at: 7 },
  D: { type: "assistant.delta", messageId: "m1", text: "He", at: 7 },
  M: { type: "assistant.message", messageId: "m1", text: "Hello", at: 7 },
  Z: { type: "turn.idle", aborted: true, at: 7 },
  W: { type: "turn.idle", aborted: false, at: 7 },
  E: { type: "session.errored", message: "boom", errorType: "model", at: 7 },
} satisfies Record<string, SessionEvent>;

describe("toMachineEvents", () => {
  test("maps the lifecycle events of a turn", () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold("-s-i-d-m-w-|", sdk);
      expectObservable(source.pipe(toMachineEvents({ now }))).toBe("-S-I-D-M-W-|", machine);
    });
  });

  test("skips unknown, ephemeral noise and non-remote info events", () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold("-x-y-n-b-q-|", sdk);
      expectObservable(source.pipe(toMachineEvents({ now }))).toBe("-----------|", machine);
    });
  });

  test("keeps the producer of every session.start: the machine decides which counts", () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-l-s-|", sdk).pipe(toMachineEvents({ now }))).toBe("-L-S-|", machine);
    });
  });

  test("drops duplicate deliveries of the same event id", () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-s-s-i-s-i-m-m-|", sdk).pipe(toMachineEvents({ now }))).toBe("-S---I-----M---|", machine);
    });
  });

  test("maps aborted idles and session errors", () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-z-e-|", sdk).pipe(toMachineEvents({ now }))).toBe("-Z-E-|", machine);
    });
  });

  test("passes errors through", () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-s-#", sdk, new Error("lost")).pipe(toMachineEvents({ now }))).toBe("-S-#", machine, new Error("lost"));
    });
  });
});

describe("distinctEvents", () => {
  test("forgets the oldest ids beyond its capacity", () => {
    scheduler().run(({ cold, expectObservable }) => {
      const events = { a: { id: "a", type: "t" }, b: { id: "b", type: "t" }, c: { id: "c", type: "t" }, n: { type: "t" } };
      expectObservable(cold("-a-b-a-c-a-n-n-|", events).pipe(distinctEvents(2))).toBe("-a-b---c-a-n-n-|", events);
    });
  });

  test("each subscriber has its own memory", () => {
    scheduler().run(({ cold, expectObservable }) => {
      const events = { a: { id: "a", type: "t" } };
      const deduped = cold("-a-a-|", events).pipe(distinctEvents());
      expectObservable(deduped).toBe("-a---|", events);
      expectObservable(deduped).toBe("-a---|", events);
    });
  });
});
