import type { SessionRequested } from "@cloudsession/machine";
import type { CopilotSession } from "@github/copilot-sdk";
import { describe, expect, test } from "vitest";
import { Reservation, type ReservationPort } from "../../src/reservation.js";
import { SdkEventIntake } from "../../src/sdkEventIntake.js";
import { agentStart, deferred, deliver, fakeEnvironment, FakeSdkSession, flush, MachineLog, remoteInfo, requestAt, T0, type FakeEnvironment } from "./fakes.js";

interface Rig {
  readonly env: FakeEnvironment;
  readonly log: MachineLog;
  readonly reservation: Reservation;
  /** Steps in order: commits, the session handed over, the history catch-up. */
  readonly steps: string[];
  readonly state: { stopped: boolean; acting: boolean; reconciles: number; slot: Promise<void>; created: CopilotSession[] };
}

function rig(request: SessionRequested = requestAt(T0), random = 0.25): Rig {
  const env = fakeEnvironment({ random });
  const log = new MachineLog(request);
  const steps: string[] = [];
  log.trace = (step) => steps.push(step);
  const state = { stopped: false, acting: true, reconciles: 0, slot: Promise.resolve(), created: [] as CopilotSession[] };
  const intake = new SdkEventIntake(env, {
    finalized: false,
    isStopped: () => state.stopped,
    record: (event) => void log.commit([event]),
    showLive: () => undefined,
    turnStallTimeoutMs: () => log.snapshot().context.settings.turnStallTimeoutMs,
  });
  const port: ReservationPort = {
    id: "s1",
    snapshot: () => log.snapshot(),
    isStopped: () => state.stopped,
    mayAct: () => state.acting,
    acquireSlot: () => state.slot,
    commit: (events) => log.commit(events),
    useCreated: (session) => {
      steps.push(`useCreated:${session.sessionId}`);
      state.created.push(session);
    },
    catchUpFromHistory: (session) => {
      steps.push(`catchUp:${session.sessionId}`);
      return Promise.resolve();
    },
    reconcile: () => {
      state.reconciles++;
    },
  };
  return { env, log, reservation: new Reservation(env, request, intake, port), steps, state };
}

const createsOf = (r: Rig) => r.env.fakeRuntime.fakeClient.creates;

describe("Reservation", () => {
  test("one createSession per attempt: reconciling again while it runs starts no second one", async () => {
    const r = rig();
    const created = deferred<FakeSdkSession>();
    r.env.fakeRuntime.fakeClient.onCreate = () => created.promise;
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    r.reservation.reconcile(r.log.snapshot());
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(createsOf(r)).toHaveLength(1);
    created.resolve(new FakeSdkSession("sdk-1"));
    await flush();
    expect(r.log.ofType("reservation.succeeded")).toHaveLength(1);
  });

  test("a cloud session is created streaming, with the repository as `cloud` and the engine's permission handler", async () => {
    const r = rig(requestAt(T0, undefined, { repository: { owner: "octo", name: "demo", branch: "main" } }));
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    const [config] = createsOf(r);
    expect(config?.streaming).toBe(true);
    expect(config?.cloud).toEqual({ repository: { owner: "octo", name: "demo", branch: "main" } });
    expect(config?.onPermissionRequest).toBe(r.env.onPermissionRequest);
    expect(config).not.toHaveProperty("workingDirectory");
  });

  test("a local session is created in its working directory, without `cloud`", async () => {
    const r = rig(requestAt(T0, undefined, { mode: "local", workingDirectory: "/work/demo" }));
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    const [config] = createsOf(r);
    expect(config).not.toHaveProperty("cloud");
    expect(config?.workingDirectory).toBe("/work/demo");
  });

  test("a success hands the session over, then records reservation.succeeded with its id, then catches up from history", async () => {
    const r = rig();
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(r.steps).toEqual(["useCreated:sdk-1", "commit:reservation.succeeded", "catchUp:sdk-1"]);
    expect(r.log.ofType("reservation.succeeded")).toEqual([{ type: "reservation.succeeded", sessionId: "sdk-1", at: T0 }]);
    expect(r.env.probed).toEqual(["before:createSession", "after:createSession"]);
    expect(r.state.reconciles).toBe(1);
  });

  test("events the SDK delivers during createSession are buffered, then replayed after reservation.succeeded is recorded", async () => {
    const r = rig();
    r.env.fakeRuntime.fakeClient.onCreate = (config) => {
      deliver(config, agentStart);
      deliver(config, remoteInfo);
      return Promise.resolve(new FakeSdkSession("sdk-1"));
    };
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(r.steps).toEqual(["useCreated:sdk-1", "commit:reservation.succeeded", "commit:agent.started", "commit:remote-url.published", "catchUp:sdk-1"]);
  });

  test("a failed create is classified and recorded as reservation.failed with the injected random jitter", async () => {
    const r = rig(requestAt(T0), 0.42);
    r.env.fakeRuntime.fakeClient.onCreate = () => Promise.reject(new Error("read ECONNRESET"));
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(r.log.ofType("reservation.failed")).toEqual([{ type: "reservation.failed", failure: "transient", message: "read ECONNRESET", random: 0.42, at: T0 }]);
    expect(r.state.created).toEqual([]);
  });

  test("after a transient failure the machine's next attempt makes one more create", async () => {
    const r = rig();
    let calls = 0;
    r.env.fakeRuntime.fakeClient.onCreate = () => (++calls === 1 ? Promise.reject(new Error("503 service unavailable")) : Promise.resolve(new FakeSdkSession("sdk-2")));
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    r.reservation.reconcile(r.log.snapshot()); // backing off: nothing to do
    await flush();
    expect(createsOf(r)).toHaveLength(1);
    const retryAt = r.log.snapshot().context.deadlines.retry!;
    r.log.given({ type: "deadline.fired", deadline: "retry", at: retryAt });
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(createsOf(r)).toHaveLength(2);
    expect(r.log.ofType("reservation.succeeded").map((event) => event.sessionId)).toEqual(["sdk-2"]);
  });

  test("a policy-blocked create is recorded as policy_blocked and the session ends blocked, with no retry", async () => {
    const r = rig();
    r.env.fakeRuntime.fakeClient.onCreate = () => Promise.reject(Object.assign(new Error("denied"), { data: { reason: "policy_blocked" } }));
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(r.log.ofType("reservation.failed").map((event) => event.failure)).toEqual(["policy_blocked"]);
    expect(r.log.snapshot().value).toBe("blocked");
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(createsOf(r)).toHaveLength(1);
  });

  test("a client that cannot be had is recorded as a failed attempt", async () => {
    const r = rig();
    r.env.fakeRuntime.onClient = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1"));
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(r.log.ofType("reservation.failed").map((event) => event.failure)).toEqual(["transient"]);
  });

  test("a session created after its attempt was over (the session closed meanwhile) is disconnected, and nothing is recorded", async () => {
    const r = rig();
    const created = deferred<FakeSdkSession>();
    r.env.fakeRuntime.fakeClient.onCreate = () => created.promise;
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    r.log.given({ type: "close.requested", at: T0 });
    const late = new FakeSdkSession("sdk-late");
    created.resolve(late);
    await flush();
    expect(late.disconnects).toBe(1);
    expect(r.state.created).toEqual([]);
    expect(r.log.ofType("reservation.succeeded")).toEqual([]);
  });

  test("a session created after the machine moved to a later attempt is disconnected too", async () => {
    const r = rig();
    const created = deferred<FakeSdkSession>();
    r.env.fakeRuntime.fakeClient.onCreate = () => created.promise;
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    // Attempt 1 failed by another path and the retry started: attempt 1's session is not the one.
    r.log.given({ type: "reservation.failed", failure: "transient", message: "x", random: 0, at: T0 });
    r.log.given({ type: "deadline.fired", deadline: "retry", at: r.log.snapshot().context.deadlines.retry! });
    const stale = new FakeSdkSession("sdk-stale");
    created.resolve(stale);
    await flush();
    expect(stale.disconnects).toBe(1);
    expect(r.log.ofType("reservation.succeeded")).toEqual([]);
  });

  test("a create that fails after its attempt was over records nothing", async () => {
    const r = rig();
    const created = deferred<FakeSdkSession>();
    r.env.fakeRuntime.fakeClient.onCreate = () => created.promise;
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    r.log.given({ type: "close.requested", at: T0 });
    created.reject(new Error("503"));
    await flush();
    expect(r.log.ofType("reservation.failed")).toEqual([]);
  });

  test("nothing is created before a slot is held", async () => {
    const r = rig();
    const slot = deferred();
    r.state.slot = slot.promise;
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(createsOf(r)).toHaveLength(0);
    slot.resolve();
    await flush();
    expect(createsOf(r)).toHaveLength(1);
  });

  test("when the lease may have lapsed (mayAct false) nothing is created and nothing recorded", async () => {
    const r = rig();
    r.state.acting = false;
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(createsOf(r)).toHaveLength(0);
    expect(r.log.events).toHaveLength(1);
  });

  test("once the runner stopped nothing is created", async () => {
    const r = rig();
    r.state.stopped = true;
    r.reservation.reconcile(r.log.snapshot());
    await flush();
    expect(createsOf(r)).toHaveLength(0);
  });
});
