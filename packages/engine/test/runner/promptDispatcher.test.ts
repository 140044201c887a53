import type { CopilotSession } from "@github/copilot-sdk";
import { describe, expect, test } from "vitest";
import { PromptDispatcher, type DispatchPort, type DispatchTarget } from "../../src/promptDispatcher.js";
import { deferred, fakeEnvironment, FakeSdkSession, flush, MachineLog, readyEvents, requestAt, T0, type FakeEnvironment } from "./fakes.js";

/** The SDK session the dispatcher sends through, as the attachment shows it. */
class Target implements DispatchTarget {
  current: CopilotSession | undefined;
  attaching = false;
  lostConnectionReports = 0;

  constructor(readonly sdk: FakeSdkSession) {
    this.current = sdk.asSdk;
  }

  reportLostConnection(): Promise<void> {
    this.lostConnectionReports++;
    return Promise.resolve();
  }
}

interface Rig {
  readonly env: FakeEnvironment;
  readonly log: MachineLog;
  readonly sdk: FakeSdkSession;
  readonly target: Target;
  readonly dispatcher: PromptDispatcher;
  /** Steps in order: commits to the log and calls on the SDK session. */
  readonly steps: string[];
  readonly state: { stopped: boolean; acting: boolean; reconciles: number };
}

/** A ready session with prompt `p1` ("hello") queued, an SDK session attached. */
function rig(): Rig {
  const env = fakeEnvironment();
  const log = new MachineLog(requestAt(T0)).given(...readyEvents(T0), { type: "prompt.submitted", promptId: "p1", text: "hello", at: T0 });
  const sdk = new FakeSdkSession("sdk-1");
  const target = new Target(sdk);
  const steps: string[] = [];
  log.trace = (step) => steps.push(step);
  sdk.trace = (step) => steps.push(step);
  const state = { stopped: false, acting: true, reconciles: 0 };
  const port: DispatchPort = {
    id: "s1",
    snapshot: () => log.snapshot(),
    isStopped: () => state.stopped,
    mayAct: () => state.acting,
    commit: (events) => log.commit(events),
    reconcile: () => {
      state.reconciles++;
    },
  };
  return { env, log, sdk, target, dispatcher: new PromptDispatcher(env, target, port), steps, state };
}

describe("PromptDispatcher.claim", () => {
  test("claims the queue's head once: nothing more is claimed until it is unclaimed", () => {
    const { dispatcher } = rig();
    expect(dispatcher.claim()?.id).toBe("p1");
    expect(dispatcher.claim()).toBeUndefined();
    dispatcher.unclaim();
    expect(dispatcher.claim()?.id).toBe("p1");
  });

  test("claims nothing without an attached SDK session, while re-attaching, or once the runner stopped", () => {
    const none = rig();
    none.target.current = undefined;
    expect(none.dispatcher.claim()).toBeUndefined();
    const attaching = rig();
    attaching.target.attaching = true;
    expect(attaching.dispatcher.claim()).toBeUndefined();
    const stopped = rig();
    stopped.state.stopped = true;
    expect(stopped.dispatcher.claim()).toBeUndefined();
  });

  test("claims nothing before the agent is there, or once the session ended", () => {
    const waiting = rig();
    const early = new MachineLog(requestAt(T0)).given({ type: "reservation.succeeded", sessionId: "sdk-1", at: T0 }, { type: "prompt.submitted", promptId: "p1", text: "hello", at: T0 });
    const dispatcher = new PromptDispatcher(waiting.env, waiting.target, { id: "s1", snapshot: () => early.snapshot(), isStopped: () => false, mayAct: () => true, commit: (events) => early.commit(events), reconcile: () => undefined });
    expect(dispatcher.claim()).toBeUndefined();
    const ended = rig();
    ended.log.given({ type: "close.requested", at: T0 });
    expect(ended.dispatcher.claim()).toBeUndefined();
  });
});

describe("PromptDispatcher write-ahead dispatch", () => {
  test("the prompt.dispatching intent is committed before the send, and prompt.dispatched with the send's messageId after", async () => {
    const { dispatcher, log, steps, env, state } = rig();
    dispatcher.reconcile(log.snapshot());
    await flush();
    expect(steps).toEqual(["commit:prompt.dispatching", "send:hello", "commit:prompt.dispatched"]);
    expect(log.ofType("prompt.dispatched")).toEqual([{ type: "prompt.dispatched", promptId: "p1", messageId: "msg-hello", at: T0 }]);
    expect(env.probed).toEqual(["before:send", "after:send"]);
    expect(state.reconciles).toBe(1);
  });

  test("nothing is sent until the intent's commit has resolved", async () => {
    const { dispatcher, log, sdk } = rig();
    const intentStored = deferred();
    log.onCommit = () => intentStored.promise;
    dispatcher.reconcile(log.snapshot());
    await flush();
    expect(sdk.sends).toEqual([]);
    log.onCommit = () => Promise.resolve();
    intentStored.resolve();
    await flush();
    expect(sdk.sends).toEqual(["hello"]);
  });

  test("one prompt at a time: reconciling again while a send is on the wire sends nothing more", async () => {
    const { dispatcher, log, sdk } = rig();
    const answer = deferred<string>();
    sdk.onSend = () => answer.promise;
    dispatcher.reconcile(log.snapshot());
    await flush();
    dispatcher.reconcile(log.snapshot());
    await flush();
    expect(sdk.sends).toEqual(["hello"]);
    expect(log.ofType("prompt.dispatching")).toHaveLength(1);
    answer.resolve("m-1");
    await flush();
  });

  test("the send on the wire is inFlightSend until its outcome is recorded", async () => {
    const { dispatcher, log, sdk } = rig();
    const answer = deferred<string>();
    sdk.onSend = () => answer.promise;
    dispatcher.reconcile(log.snapshot());
    await flush();
    expect(dispatcher.inFlightSend).toBeDefined();
    answer.resolve("m-1");
    await flush();
    expect(dispatcher.inFlightSend).toBeUndefined();
    expect(log.ofType("prompt.dispatched")).toHaveLength(1);
  });

  test("a send whose connection dropped leaves the intent open and reports the lost connection", async () => {
    const { dispatcher, log, sdk, target } = rig();
    sdk.onSend = () => Promise.reject(new Error("Connection is closed."));
    dispatcher.reconcile(log.snapshot());
    await flush();
    expect(target.lostConnectionReports).toBe(1);
    expect(log.events.map((event) => event.type).slice(-1)).toEqual(["prompt.dispatching"]);
    expect(log.snapshot().context.prompts.at(0)?.status).toBe("dispatching");
  });

  test("a connection error on a client the engine cannot reconnect is recorded as dispatch-failed", async () => {
    const { dispatcher, log, sdk, target, env } = rig();
    env.fakeRuntime.canReconnect = false;
    sdk.onSend = () => Promise.reject(new Error("Connection is closed."));
    dispatcher.reconcile(log.snapshot());
    await flush();
    expect(target.lostConnectionReports).toBe(0);
    expect(log.ofType("prompt.dispatch-failed")).toEqual([{ type: "prompt.dispatch-failed", promptId: "p1", message: "Connection is closed.", requeue: false, at: T0 }]);
  });

  test("any other send error is recorded as prompt.dispatch-failed, not requeued, with its message", async () => {
    const { dispatcher, log, sdk, target } = rig();
    sdk.onSend = () => Promise.reject(new Error("prompt too large"));
    dispatcher.reconcile(log.snapshot());
    await flush();
    expect(target.lostConnectionReports).toBe(0);
    expect(log.ofType("prompt.dispatch-failed")).toEqual([{ type: "prompt.dispatch-failed", promptId: "p1", message: "prompt too large", requeue: false, at: T0 }]);
    expect(log.snapshot().context.prompts.at(0)?.status).toBe("undelivered");
  });

  test("a send error after the runner stopped records nothing", async () => {
    const { dispatcher, log, sdk, state } = rig();
    const answer = deferred<string>();
    sdk.onSend = () => answer.promise;
    dispatcher.reconcile(log.snapshot());
    await flush();
    state.stopped = true;
    answer.reject(new Error("prompt too large"));
    await flush();
    expect(log.events.at(-1)?.type).toBe("prompt.dispatching");
  });

  test("when the lease may have lapsed (mayAct false) the intent stays logged and nothing is sent", async () => {
    const { dispatcher, log, sdk, state } = rig();
    state.acting = false;
    dispatcher.reconcile(log.snapshot());
    await flush();
    expect(log.events.at(-1)?.type).toBe("prompt.dispatching");
    expect(sdk.sends).toEqual([]);
  });

  test("sendDispatched sends only the prompt in flight, and only with a session attached", async () => {
    const { dispatcher, log, sdk, target } = rig();
    await log.commit([{ type: "prompt.dispatching", promptId: "p1", at: T0 }]);
    await dispatcher.sendDispatched("p-other", "elsewhere");
    target.current = undefined;
    await dispatcher.sendDispatched("p1", "hello");
    expect(sdk.sends).toEqual([]);
    target.current = sdk.asSdk;
    await dispatcher.sendDispatched("p1", "hello");
    expect(sdk.sends).toEqual(["hello"]);
  });

  test("after a turn ends the next prompt is dispatched in its turn", async () => {
    const { dispatcher, log, sdk } = rig();
    log.given({ type: "prompt.submitted", promptId: "p2", text: "again", at: T0 });
    dispatcher.reconcile(log.snapshot());
    await flush();
    log.given({ type: "turn.idle", aborted: false, at: T0 });
    dispatcher.reconcile(log.snapshot());
    await flush();
    expect(sdk.sends).toEqual(["hello", "again"]);
  });
});

describe("PromptDispatcher aborts", () => {
  /** A rig whose turn for p1 is running and being aborted. */
  async function aborting(): Promise<Rig> {
    const r = rig();
    r.dispatcher.reconcile(r.log.snapshot());
    await flush();
    r.log.given({ type: "turn.abort-requested", at: T0 });
    return r;
  }

  test("an abort is sent once per turn, however often the snapshot is reconciled", async () => {
    const { dispatcher, log, sdk } = await aborting();
    dispatcher.reconcile(log.snapshot());
    dispatcher.reconcile(log.snapshot());
    expect(sdk.aborts).toBe(1);
  });

  test("after a new SDK session is attached the abort goes out again, on it", async () => {
    const { dispatcher, log, sdk } = await aborting();
    dispatcher.reconcile(log.snapshot());
    dispatcher.attached();
    dispatcher.reconcile(log.snapshot());
    expect(sdk.aborts).toBe(2);
  });

  test("no abort is sent when the lease may have lapsed", async () => {
    const { dispatcher, log, sdk, state } = await aborting();
    state.acting = false;
    dispatcher.reconcile(log.snapshot());
    expect(sdk.aborts).toBe(0);
  });

  test("no abort is sent while the turn is not being aborted", async () => {
    const r = rig();
    r.dispatcher.reconcile(r.log.snapshot());
    await flush();
    r.dispatcher.reconcile(r.log.snapshot());
    expect(r.sdk.aborts).toBe(0);
  });
});
