import { resolveSettings, createSessionActor } from "@cloudsession/machine";
import { trace } from "@opentelemetry/api";
import { NEVER, type Observable } from "rxjs";
import { expect, test } from "vitest";
import type { SessionHandle } from "../src/index.js";
import { observeSession } from "../src/telemetry.js";

// No tracer or meter provider is registered in this file (vitest runs each file apart).

test("with no OpenTelemetry SDK registered, observing a session subscribes to nothing and keeps nothing", () => {
  expect(trace.getTracer("probe").startSpan("probe").isRecording()).toBe(false);
  const actor = createSessionActor({ repository: { owner: "octo", name: "demo" }, settings: resolveSettings(), requestedAt: 0 });
  const touched: string[] = [];
  const watched = <T>(name: string): Observable<T> => {
    touched.push(name);
    return NEVER;
  };
  const handle = {
    id: "s-1",
    sessionId: null,
    remoteUrl: null,
    state: "reserving",
    snapshot: () => actor.getSnapshot(),
    get state$() {
      return watched("state$");
    },
    get events$() {
      return watched("events$");
    },
    get text$() {
      return watched("text$");
    },
    get remoteUrl$() {
      return watched("remoteUrl$");
    },
    outcome: new Promise(() => undefined),
  } as unknown as SessionHandle;
  observeSession(handle);
  expect(touched).toEqual([]);
});
