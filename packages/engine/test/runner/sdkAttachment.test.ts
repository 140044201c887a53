import { describe, expect, test } from "vitest";
import { dispatching, history, reserved, resumesOf, rig, submitted } from "./attachmentRig.js";
import { agentStart, deferred, deliver, FakeOwnership, FakeSdkSession, flush, readyEvents, remoteInfo, T0 } from "./fakes.js";

describe("SdkAttachment.reattach", () => {
  test("resumes the SDK session by id, streaming, without `cloud`, and records session.resumed", async () => {
    const r = rig(readyEvents(T0));
    await r.attachment.reattach();
    expect(resumesOf(r).map((resume) => resume.sessionId)).toEqual(["sdk-1"]);
    const config = resumesOf(r)[0]!.config;
    expect(config).not.toHaveProperty("cloud");
    expect(config.streaming).toBe(true);
    expect(config.onPermissionRequest).toBe(r.env.onPermissionRequest);
    expect(r.steps).toEqual(["attached", "commit:session.resumed"]);
    expect(r.attachment.current?.sessionId).toBe("sdk-1");
    expect(r.env.probed).toEqual(["before:resumeSession", "after:resumeSession"]);
  });

  test("events of the resumed session enter through the intake", async () => {
    const r = rig([reserved]);
    await r.attachment.reattach();
    deliver(resumesOf(r)[0]!.config, agentStart);
    expect(r.log.ofType("agent.started")).toHaveLength(1);
    expect(r.env.fakeRuntime.activity).toEqual([T0]);
  });

  test("a ready session whose URL is known is not settled from history", async () => {
    const r = rig(readyEvents(T0));
    await r.attachment.reattach();
    expect(r.steps).not.toContain("getEvents");
  });

  test("a session waiting for its agent is settled from history: the agent's start is recorded", async () => {
    const r = rig([reserved]);
    history(agentStart, remoteInfo)(r);
    await r.attachment.reattach();
    expect(r.steps).toEqual(["attached", "commit:session.resumed", "getEvents", "commit:agent.started,remote-url.published"]);
  });

  test("a ready session without its URL reads the URL from history", async () => {
    const r = rig([reserved, { type: "agent.started", producer: "copilot-agent", at: T0 }]);
    history(remoteInfo)(r);
    await r.attachment.reattach();
    expect(r.log.snapshot().context.remoteUrl).toBe("https://github.com/octo/demo/tasks/1");
  });

  test("a prompt whose intent is logged but not its send is settled from history: sent if the runtime has it", async () => {
    const r = rig([...readyEvents(T0), submitted, dispatching]);
    history({ type: "user.message", data: { content: "hello", messageId: "u1" } })(r);
    await r.attachment.reattach();
    expect(r.log.ofType("prompt.dispatched")).toEqual([{ type: "prompt.dispatched", promptId: "p1", messageId: "u1", at: T0 }]);
  });

  test("… and requeued if the runtime never got it", async () => {
    const r = rig([...readyEvents(T0), submitted, dispatching]);
    history()(r);
    await r.attachment.reattach();
    expect(r.log.ofType("prompt.dispatch-failed").map((event) => event.requeue)).toEqual([true]);
  });

  test("in a cluster, an unconfirmed send waits the in-doubt grace on the clock before the history is read", async () => {
    const ownership = new FakeOwnership();
    ownership.inDoubtGraceMs = 2_000;
    const r = rig([...readyEvents(T0), submitted, dispatching], { ownership });
    const done = r.attachment.reattach();
    await flush();
    expect(r.steps).toEqual(["attached", "commit:session.resumed", "sleep:2000"]);
    r.env.clock.advance(1_999);
    await flush();
    expect(r.steps).not.toContain("getEvents");
    r.env.clock.advance(1);
    await done;
    expect(r.steps.slice(3)).toEqual(["getEvents", "commit:prompt.dispatch-failed"]);
  });

  test("no grace without an unconfirmed send, nor on a single instance", async () => {
    const ownership = new FakeOwnership();
    ownership.inDoubtGraceMs = 2_000;
    const confirmed = rig([...readyEvents(T0), submitted, dispatching, { type: "prompt.dispatched", promptId: "p1", messageId: "u1", at: T0 }], { ownership });
    await confirmed.attachment.reattach();
    expect(confirmed.steps.slice(0, 3)).toEqual(["attached", "commit:session.resumed", "getEvents"]);
    expect(confirmed.steps.filter((step) => step.startsWith("sleep"))).toEqual([]);
    const single = rig([...readyEvents(T0), submitted, dispatching]);
    await single.attachment.reattach();
    expect(single.steps.filter((step) => step.startsWith("sleep"))).toEqual([]);
  });

  test("a runner that stopped during the grace reads no history", async () => {
    const ownership = new FakeOwnership();
    ownership.inDoubtGraceMs = 2_000;
    const r = rig([...readyEvents(T0), submitted, dispatching], { ownership });
    const done = r.attachment.reattach();
    await flush();
    r.state.stopped = true;
    r.env.clock.advance(2_000);
    await done;
    expect(r.steps).not.toContain("getEvents");
  });

  test("`attaching` is true while a re-attach is under way", async () => {
    const r = rig(readyEvents(T0));
    const resumed = deferred<FakeSdkSession>();
    r.env.fakeRuntime.fakeClient.onResume = () => resumed.promise;
    const done = r.attachment.reattach();
    await flush();
    expect(r.attachment.attaching).toBe(true);
    resumed.resolve(new FakeSdkSession("sdk-1"));
    await done;
    expect(r.attachment.attaching).toBe(false);
  });

  test("a session already attached on the current client is not resumed again", async () => {
    const r = rig(readyEvents(T0));
    r.attachment.use(new FakeSdkSession("sdk-1").asSdk);
    await r.attachment.reattach();
    expect(resumesOf(r)).toEqual([]);
  });

  test("a re-attach that lands after the session ended disconnects what it resumed and attaches nothing", async () => {
    const r = rig(readyEvents(T0));
    const resumed = deferred<FakeSdkSession>();
    r.env.fakeRuntime.fakeClient.onResume = () => resumed.promise;
    const done = r.attachment.reattach();
    await flush();
    r.state.finalized = true;
    const late = new FakeSdkSession("sdk-1");
    resumed.resolve(late);
    await done;
    expect(late.disconnects).toBe(1);
    expect(r.attachment.current).toBeUndefined();
    expect(r.log.ofType("session.resumed")).toEqual([]);
  });

  test("a session without an SDK id is not re-attached", async () => {
    const r = rig([]);
    await r.attachment.reattach();
    expect(resumesOf(r)).toEqual([]);
  });
});

describe("SdkAttachment retries", () => {
  test("a failed re-attach is retried with doubling backoff on the clock and reported once, on the third failure", async () => {
    const r = rig(readyEvents(T0));
    const refused = new Error("resume refused");
    let refusals = 3;
    r.env.fakeRuntime.fakeClient.onResume = (sessionId) => (refusals-- > 0 ? Promise.reject(refused) : Promise.resolve(new FakeSdkSession(sessionId)));
    await r.attachment.reattach();
    expect(r.env.clock.pending.map((timer) => timer.delay)).toEqual([200]);
    r.env.clock.advance(200);
    await flush();
    expect(r.env.clock.pending.map((timer) => timer.delay)).toEqual([400]);
    expect(r.env.backgroundErrors).toEqual([]);
    r.env.clock.advance(400);
    await flush();
    expect(r.env.backgroundErrors).toEqual([refused]);
    expect(r.env.clock.pending.map((timer) => timer.delay)).toEqual([800]);
    r.env.clock.advance(800);
    await flush();
    expect(resumesOf(r)).toHaveLength(4);
    expect(r.attachment.current?.sessionId).toBe("sdk-1");
    expect(r.env.clock.pending).toEqual([]);
    expect(r.state.reconciles).toBe(3);
    expect(r.env.fakeRuntime.replaces).toBe(0);
  });

  test("after a success the backoff starts over", async () => {
    const r = rig(readyEvents(T0));
    let answers = [false, true, false];
    r.env.fakeRuntime.fakeClient.onResume = (sessionId) => {
      const [ok, ...rest] = answers;
      answers = rest;
      return ok === true ? Promise.resolve(new FakeSdkSession(sessionId)) : Promise.reject(new Error("refused"));
    };
    await r.attachment.reattach();
    r.env.clock.advance(200);
    await flush();
    r.env.fakeRuntime.replaces = 0;
    await r.env.fakeRuntime.replace(); // the connection was lost: the next re-attach resumes anew
    await r.attachment.reattach();
    expect(r.env.clock.pending.map((timer) => timer.delay)).toEqual([200]);
  });

  test("a re-attach that failed because the connection is gone replaces the client before retrying", async () => {
    const r = rig(readyEvents(T0));
    r.env.fakeRuntime.fakeClient.onResume = () => Promise.reject(new Error("Connection is closed."));
    await r.attachment.reattach();
    expect(r.env.fakeRuntime.replaces).toBe(1);
    expect(r.env.clock.pending).toHaveLength(1);
  });

  test("clearRetry() stops a pending retry", async () => {
    const r = rig(readyEvents(T0));
    r.env.fakeRuntime.fakeClient.onResume = () => Promise.reject(new Error("refused"));
    await r.attachment.reattach();
    r.attachment.clearRetry();
    r.env.clock.advance(60_000);
    await flush();
    expect(resumesOf(r)).toHaveLength(1);
  });

  test("a failure after the runner stopped schedules no retry", async () => {
    const r = rig(readyEvents(T0));
    const resumed = deferred<FakeSdkSession>();
    r.env.fakeRuntime.fakeClient.onResume = () => resumed.promise;
    const done = r.attachment.reattach();
    await flush();
    r.state.stopped = true;
    resumed.reject(new Error("refused"));
    await done;
    expect(r.env.clock.pending).toEqual([]);
  });
});

describe("SdkAttachment lost connections", () => {
  test("concurrent reports of a lost connection replace the client once, then re-attach on the new one", async () => {
    const r = rig(readyEvents(T0));
    r.attachment.use(new FakeSdkSession("sdk-1").asSdk);
    const replaced = deferred();
    r.env.fakeRuntime.onReplace = () => replaced.promise;
    const first = r.attachment.reportLostConnection();
    const second = r.attachment.reportLostConnection();
    await flush();
    expect(r.env.fakeRuntime.replaces).toBe(1);
    replaced.resolve();
    await Promise.all([first, second]);
    await flush();
    expect(resumesOf(r)).toHaveLength(1);
    expect(r.state.reconciles).toBe(1);
    // Once handled, a later loss is reported anew.
    r.env.fakeRuntime.onReplace = () => Promise.resolve();
    await r.attachment.reportLostConnection();
    expect(r.env.fakeRuntime.replaces).toBe(2);
  });

  test("onClientReplaced does nothing for a stopped runner, an unreserved session or an ended one", async () => {
    const stopped = rig(readyEvents(T0));
    stopped.state.stopped = true;
    await stopped.attachment.onClientReplaced();
    const unreserved = rig([]);
    await unreserved.attachment.onClientReplaced();
    const ended = rig([...readyEvents(T0), { type: "close.requested", at: T0 }]);
    await ended.attachment.onClientReplaced();
    expect([stopped, unreserved, ended].map((r) => resumesOf(r).length + r.state.reconciles)).toEqual([0, 0, 0]);
  });

  test("drop(true) disconnects the attached session; drop(false) only forgets it", () => {
    const r = rig(readyEvents(T0));
    const kept = new FakeSdkSession("sdk-1");
    r.attachment.use(kept.asSdk);
    r.attachment.drop(false);
    expect(r.attachment.current).toBeUndefined();
    const ended = new FakeSdkSession("sdk-1");
    r.attachment.use(ended.asSdk);
    r.attachment.drop(true);
    expect([kept.disconnects, ended.disconnects]).toEqual([0, 1]);
  });
});

/** Regressions: two defects found by these unit tests when the runner was reshaped, now fixed. */
describe("SdkAttachment regressions", () => {
  test("two re-attaches at once (the heartbeat's, and a send rejected by the client it force-stopped) resume the SDK session once", async () => {
    // Both used to resume: the log got two session.resumed, the first resumed SDK session was
    // replaced without a disconnect (its onEvent stayed subscribed), and `attaching` turned false
    // while the second was still settling from an older history read.
    const r = rig(readyEvents(T0));
    r.attachment.use(new FakeSdkSession("sdk-1").asSdk);
    const answers = [deferred<FakeSdkSession>(), deferred<FakeSdkSession>()];
    let resumes = 0;
    r.env.fakeRuntime.fakeClient.onResume = () => answers[resumes++]!.promise;
    await r.env.fakeRuntime.replace(); // the heartbeat replaced the client
    const fromHeartbeat = r.attachment.onClientReplaced();
    const fromFailedSend = r.attachment.reportLostConnection();
    await flush();
    for (const answer of answers) answer.resolve(new FakeSdkSession("sdk-1"));
    await Promise.all([fromHeartbeat, fromFailedSend]);
    expect(resumesOf(r)).toHaveLength(1);
  });

  test("the waits between failed history reads after a create are on the injected clock", async () => {
    // It used to wait with the global `setTimeout`, out of reach of `env.clock`.
    const r = rig([reserved]);
    const sdk = new FakeSdkSession("sdk-1");
    sdk.histories = [new Error("read failed"), [agentStart]];
    const done = r.attachment.catchUpFromHistory(sdk.asSdk);
    await flush();
    expect(r.env.clock.pending.map((timer) => timer.delay)).toEqual([100]);
    r.env.clock.advance(100);
    await done;
    expect(sdk.getEventsCalls).toBe(2);
  });
});
