import type { CopilotSession } from "@github/copilot-sdk";
import { describe, expect, expectTypeOf, test } from "vitest";
import { fromSdkSession, type RawSessionEvent, type SessionEventSource } from "../src/index.js";

function fakeSession() {
  const handlers = new Set<(event: RawSessionEvent) => void>();
  return {
    handlers,
    on(handler: (event: RawSessionEvent) => void) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    emit(event: RawSessionEvent) {
      for (const handler of handlers) handler(event);
    },
  };
}

describe("fromSdkSession", () => {
  test("subscribes on subscription and unsubscribes on teardown", () => {
    const session = fakeSession();
    const events$ = fromSdkSession(session);
    expect(session.handlers.size).toBe(0);
    const seen: string[] = [];
    const subscription = events$.subscribe((event) => seen.push(event.type));
    expect(session.handlers.size).toBe(1);
    session.emit({ type: "session.start", data: { producer: "copilot-agent" } });
    session.emit({ type: "made.up.event" });
    subscription.unsubscribe();
    expect(session.handlers.size).toBe(0);
    session.emit({ type: "session.idle" });
    expect(seen).toEqual(["session.start", "made.up.event"]);
  });

  test("a CopilotSession is an event source", () => {
    expectTypeOf<CopilotSession>().toExtend<SessionEventSource>();
  });
});
