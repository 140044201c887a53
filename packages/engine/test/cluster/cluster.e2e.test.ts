import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore, type EventStore, type Lease } from "@cloudsession/store";
import { afterEach, describe, expect, test } from "vitest";
import { createEngine, isEngineError, type Engine, type EngineOptions, type OwnershipChange, type SessionHandle } from "../../src/index.js";
import { completed, waitFor } from "../support/harness.js";

// Several engines in one process share one in-memory store, as instances share PostgreSQL. The
// store's clock is ours to move: jumping it past the lease TTL is a frozen owner, without a freeze.
const leaseTtlMs = 1_000;
const repository = { owner: "octo", name: "cluster" };

let sim: Simulator;
let store: EventStore;
let storeClockOffset = 0;
const engines: Engine[] = [];
const changes: OwnershipChange[] = [];

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
  await store.close();
  await sim.close();
  changes.length = 0;
  storeClockOffset = 0;
});

async function cluster(size: number, options: Partial<EngineOptions> = {}): Promise<Engine[]> {
  sim = await startSimulator({ seed: 11, timeScale: 0.01, defaults: { noise: false, reply: (prompt: string) => `ack ${prompt}` } });
  store = createInMemoryStore({ now: () => Date.now() + storeClockOffset });
  return Array.from({ length: size }, (_, index) => member(`instance-${index}`, options));
}

function member(instanceId: string, options: Partial<EngineOptions> = {}): Engine {
  const engine = createEngine({
    runtimeUrl: sim.url,
    store,
    heartbeatMs: 0,
    ...options,
    cluster: { instanceId, leaseTtlMs, pollMs: 50, onOwnershipChange: (change) => changes.push(change) },
  });
  engines.push(engine);
  return engine;
}

function received(session: SessionHandle): readonly string[] {
  return sim.stats.sessions.get(session.sessionId ?? "")?.promptsReceived ?? [];
}

async function waitForAsync(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Instance "instance-b" on the cluster's store, which refuses to store a close command while `refuses()` says so. */
function followerRefusingCloses(refuses: () => boolean): { b: Engine; errors: unknown[] } {
  const coordination = store.coordination!;
  const flaky: EventStore = {
    ...store,
    coordination: {
      ...coordination,
      issue: async (command) => {
        if (command.type === "session.close" && refuses()) throw new Error("connection terminated unexpectedly");
        await coordination.issue(command);
      },
    },
  };
  const errors: unknown[] = [];
  const b = createEngine({ runtimeUrl: sim.url, store: flaky, heartbeatMs: 0, onError: (error) => errors.push(error), cluster: { instanceId: "instance-b", leaseTtlMs, pollMs: 50 } });
  engines.push(b);
  return { b, errors };
}

function ownersOf(sessionId: string): string[] {
  return changes.filter((change) => change.sessionId === sessionId && change.kind === "acquired").map((change) => change.instanceId);
}

describe("cluster mode: several engines on one store", () => {
  test("an instance shutting down while a prompt is on the wire sees it through: the next owner does not send it again", async () => {
    await cluster(0);
    let sends = 0;
    let closing: Promise<void> | undefined;
    const a: Engine = member("instance-a", {
      // The second send of the session: the shutdown starts just as the prompt goes on the wire.
      probe: (point) => {
        if (point === "before:send" && ++sends === 2) closing = a.close();
      },
    });
    const b = member("instance-b");
    const session = await a.start({ repository, prompts: ["first"] });
    await waitFor(() => completed(session) === 1, "the first turn");
    await session.send("second");
    await waitFor(() => closing !== undefined, "the shutdown mid-send");
    await closing;
    const log = (await store.readStream(session.id)).events.map((event) => event.type);
    expect(log.filter((type) => type === "prompt.dispatched")).toHaveLength(2);
    await waitFor(() => b.get(session.id) !== undefined, "the takeover");
    const handle = b.get(session.id)!;
    await waitFor(() => completed(handle) === 2, "the second turn");
    expect(received(handle)).toEqual(["first", "second"]);
    await handle.close();
  });

  test("a session started on one instance is owned there, and its lease goes back when it ends", async () => {
    const [a] = await cluster(2);
    const session = await a!.start({ repository, prompts: ["one"] });
    await waitFor(() => completed(session) === 1, "the first turn");
    expect(ownersOf(session.id)).toEqual(["instance-0"]);
    const outcome = await session.close();
    expect(outcome.state).toBe("closed");
    expect(received(session)).toEqual(["one"]);
    await waitFor(() => changes.some((change) => change.sessionId === session.id && change.kind === "released"), "the release");
  });

  test("sessions of an instance that shuts down are picked up by the others and finish, each prompt once", async () => {
    const [a, b, c] = await cluster(3);
    const sessions = await Promise.all(Array.from({ length: 9 }, (_, index) => a!.start({ repository: { owner: "octo", name: `handover-${index}` }, prompts: [`p${index}-1`] })));
    await waitFor(() => sessions.every((session) => completed(session) === 1), "the first turns");
    // Sent as the instance detaches: each send resolves once its prompt is in the log.
    const sent = sessions.map((session, index) => session.send(`p${index}-2`));
    await a!.close(); // detach: leases released at once, nothing closed
    await Promise.all(sent);
    await waitFor(() => sessions.every((session) => b!.get(session.id) !== undefined || c!.get(session.id) !== undefined), "the takeover", 10_000);
    const takenByB = sessions.filter((session) => b!.get(session.id) !== undefined).length;
    // Fair shares: nine sessions, two live instances, at most five each.
    expect(takenByB).toBeGreaterThanOrEqual(4);
    expect(takenByB).toBeLessThanOrEqual(5);
    for (const [index, session] of sessions.entries()) {
      const handle = b!.get(session.id) ?? c!.get(session.id);
      await waitFor(() => handle !== undefined && completed(handle) === 2, `session ${index}'s second turn`);
      expect((await handle!.close()).state).toBe("closed");
      expect(received(handle!)).toEqual([`p${index}-1`, `p${index}-2`]);
    }
  });

  test("send and close on an instance that does not own the session travel as commands to the owner", async () => {
    const [a, b] = await cluster(2);
    const owned = await a!.start({ repository, prompts: ["from a"] });
    await waitFor(() => completed(owned) === 1, "the first turn");
    const remote = await b!.resume(owned.id);
    expect(remote.state).toBe("ready");
    expect(ownersOf(owned.id)).toEqual(["instance-0"]);
    const texts: string[] = [];
    remote.text$.subscribe(({ text }) => texts.push(text));
    const promptId = await remote.send("from b");
    await waitFor(() => completed(owned) === 2, "the forwarded prompt's turn");
    expect(owned.snapshot().context.prompts.map((prompt) => prompt.id)).toContain(promptId);
    await waitFor(() => completed(remote) === 2, "the follower to catch up");
    expect(texts.some((text) => text.includes("ack from b"))).toBe(true);
    const outcome = await remote.close("done from b");
    expect(outcome).toMatchObject({ state: "closed" });
    expect((await owned.outcome).state).toBe("closed");
    expect(received(owned)).toEqual(["from a", "from b"]);
  });

  test("a close from a follower that the store refuses at first is tried again, and the session ends", async () => {
    const [a] = await cluster(1);
    const owned = await a!.start({ repository, prompts: ["first"] });
    await waitFor(() => completed(owned) === 1, "the first turn");
    let refusals = 2;
    const { b, errors } = followerRefusingCloses(() => refusals-- > 0);
    const remote = await b.resume(owned.id);
    expect(ownersOf(owned.id)).toEqual(["instance-0"]);
    expect(await remote.close("from b")).toMatchObject({ state: "closed" });
    expect(refusals).toBe(-1); // refused twice, stored on the third try
    expect(errors).toEqual([]);
    expect((await owned.outcome).state).toBe("closed");
  });

  test("a follower's close refused through a longer outage is tried on until stored; the outage is reported once", async () => {
    const [a] = await cluster(1);
    const owned = await a!.start({ repository, prompts: ["first"] });
    await waitFor(() => completed(owned) === 1, "the first turn");
    // Six refusals span ~2.5 s of waits (0.1, 0.2, 0.4, 0.8, 1, 1 s): past the four tries after
    // which a command used to be dropped, leaving the caller's close() waiting for good.
    let refusals = 6;
    const { b, errors } = followerRefusingCloses(() => refusals-- > 0);
    const remote = await b.resume(owned.id);
    expect(await remote.close("from b")).toMatchObject({ state: "closed" });
    expect(refusals).toBe(-1); // refused six times, stored on the seventh try
    expect(errors.map((error) => (error as Error).message)).toEqual(["connection terminated unexpectedly"]);
    expect((await owned.outcome).state).toBe("closed");
  });

  test("a follower's command still unsent when its engine closes stops being tried and is reported as not delivered", async () => {
    const [a] = await cluster(1);
    const owned = await a!.start({ repository, prompts: ["first"] });
    await waitFor(() => completed(owned) === 1, "the first turn");
    let tries = 0;
    const { b, errors } = followerRefusingCloses(() => (tries += 1) > 0);
    const remote = await b.resume(owned.id);
    void remote.close("from b");
    await waitFor(() => errors.length === 1, "the outage to be reported");
    await b.close();
    await waitFor(() => errors.length === 2, "the undelivered close to be reported");
    expect(errors[1]).toMatchObject({ code: "ENGINE_CLOSED" });
    const triesAtClose = tries;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(tries).toBe(triesAtClose);
    // The owner never heard of the close.
    expect(owned.state).toBe("ready");
    await owned.close();
  });

  test("a command read twice (recorded, not yet completed, then a crash) records its prompt once", async () => {
    const [a] = await cluster(1);
    const session = await a!.start({ repository, prompts: ["first"] });
    await waitFor(() => completed(session) === 1, "the first turn");
    const coordination = store.coordination!;
    const command = { streamId: session.id, type: "prompt.submit", data: { promptId: "prompt-once", text: "once" } };
    await coordination.issue({ ...command, commandId: "attempt-1" });
    await waitFor(() => completed(session) === 2, "the command's turn");
    // The same request again, as a new owner would re-read it after a crash before `complete`.
    await coordination.issue({ ...command, commandId: "attempt-2" });
    await waitForAsync(async () => (await coordination.pending([session.id])).length === 0, "the second command to be done with");
    await session.send("last");
    await waitFor(() => completed(session) === 3, "the last turn");
    expect(received(session)).toEqual(["first", "once", "last"]);
    const log = await a!.history(session.id);
    expect(log.filter((event) => event.type === "prompt.submitted" && event.promptId === "prompt-once")).toHaveLength(1);
    await session.close();
  });

  test("a command whose append was refused (the lease had lapsed) stays pending until an owner records it", async () => {
    const [a] = await cluster(1);
    const session = await a!.start({ repository, prompts: ["first"] });
    await waitFor(() => completed(session) === 1, "the first turn");
    // The lease lapses in the store as a close for the session arrives from another instance. The
    // owner's machine takes the close, its append is refused: the command is not done with.
    storeClockOffset = 10 * leaseTtlMs;
    await store.coordination!.issue({ commandId: "close-from-elsewhere", streamId: session.id, type: "session.close", data: { reason: "from elsewhere" } });
    await waitForAsync(async () => (await store.readStream(session.id)).events.some((event) => event.type === "close.requested"), "the close to be recorded under the next lease");
    expect(await store.coordination!.pending([session.id])).toEqual([]);
    expect(await session.outcome).toMatchObject({ state: "closed" });
    const closes = (await a!.history(session.id)).filter((event) => event.type === "close.requested");
    expect(closes).toMatchObject([{ reason: "from elsewhere" }]);
    expect(changes.filter((change) => change.sessionId === session.id).map((change) => change.kind)).toEqual(["acquired", "lost", "acquired", "released"]);
  });

  test("an owner whose lease lapsed has its writes refused; the handle follows the new owner to the end", async () => {
    const [a, b] = await cluster(2);
    const session = await a!.start({ repository, prompts: ["before"] });
    await waitFor(() => completed(session) === 1, "the first turn");
    // A looks frozen: its lease lapses in the store, B takes the session.
    storeClockOffset = 10 * leaseTtlMs;
    await b!.recover();
    expect(b!.get(session.id)).toBeDefined();
    expect(ownersOf(session.id)).toEqual(["instance-0", "instance-1"]);
    // A's next write (this prompt) is refused: A learns it lost the session, and the prompt travels on.
    await session.send("after");
    await waitFor(() => changes.some((change) => change.sessionId === session.id && change.kind === "lost" && change.instanceId === "instance-0"), "A to learn it lost the lease");
    const onB = b!.get(session.id)!;
    await waitFor(() => completed(onB) === 2, "the prompt sent through A's handle, delivered by B");
    expect(received(onB)).toEqual(["before", "after"]);
    await onB.close();
    expect((await session.outcome).state).toBe("closed");
  });

  test("an append after the lease lapsed is refused, even when nobody took the session yet", async () => {
    await cluster(0);
    // What the engine asks of the store, and what the store answers.
    const appends: { types: string[]; token: number | undefined; outcome: string }[] = [];
    const watched: EventStore = {
      ...store,
      append: async (streamId, events, options) => {
        const entry = { types: events.map((event) => event.type), token: options?.fence?.token, outcome: "pending" };
        appends.push(entry);
        try {
          const result = await store.append(streamId, events, options);
          entry.outcome = "ok";
          return result;
        } catch (error) {
          entry.outcome = (error as { code?: string }).code ?? "error";
          throw error;
        }
      },
    };
    const a = createEngine({ runtimeUrl: sim.url, store: watched, heartbeatMs: 0, cluster: { instanceId: "a", leaseTtlMs, pollMs: 50, onOwnershipChange: (change) => changes.push(change) } });
    engines.push(a);
    const session = await a.start({ repository, prompts: ["before"] });
    await waitFor(() => completed(session) === 1, "the first turn");
    storeClockOffset = 10 * leaseTtlMs;
    await session.send("late");
    await waitFor(() => completed(a.get(session.id)!) === 2, "the late prompt's turn");
    const submissions = appends.filter((entry) => entry.types[0] === "prompt.submitted");
    // Refused under the lapsed lease, recorded once under the next one.
    expect(submissions.map((entry) => entry.outcome)).toEqual(["LEASE_LOST", "ok"]);
    const [refused, recorded] = submissions;
    expect(refused?.token).toBeDefined();
    expect(recorded?.token).toBeGreaterThan(refused?.token ?? Number.POSITIVE_INFINITY);
    expect(appends.every((entry) => entry.token !== undefined)).toBe(true);
    expect(changes.filter((change) => change.sessionId === session.id).map((change) => change.kind)).toEqual(["acquired", "lost", "acquired"]);
    expect(received(session)).toEqual(["before", "late"]);
    await session.close();
  });

  test("an owner whose own clock says its lease may have lapsed stops before sending", async () => {
    sim = await startSimulator({ seed: 12, timeScale: 0.01, defaults: { noise: false, reply: (prompt: string) => `ack ${prompt}` } });
    store = createInMemoryStore({ now: () => Date.now() + storeClockOffset });
    let frozenFor = 0;
    const sendsByA: string[] = [];
    const a = member("instance-a", {
      clock: { now: () => Date.now() + frozenFor, setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) },
      probe: (point, key) => {
        if (point === "before:send") sendsByA.push(key);
      },
    });
    const session = await a.start({ repository, prompts: ["first"] });
    await waitFor(() => completed(session) === 1, "the first turn");
    expect(sendsByA).toEqual([session.id]);
    // A wakes from a long pause: by its clock the lease may have lapsed (the store has not noticed).
    frozenFor = 10 * leaseTtlMs;
    await session.send("second");
    await waitFor(() => changes.some((change) => change.kind === "lost" && change.instanceId === "instance-a"), "A to stop");
    const b = member("instance-b");
    storeClockOffset = 10 * leaseTtlMs; // the lease lapses in the store too; B takes over
    await waitFor(() => b.get(session.id) !== undefined && completed(b.get(session.id)!) === 2, "B to deliver the prompt");
    expect(sendsByA).toEqual([session.id]);
    expect(received(session)).toEqual(["first", "second"]);
    await b.get(session.id)!.close();
  });

  test("a lost lease stops the old owner before it touches the runtime again", async () => {
    const [a, b] = await cluster(2);
    const session = await a!.start({ repository, prompts: ["first"] });
    await waitFor(() => completed(session) === 1, "the first turn");
    storeClockOffset = 10 * leaseTtlMs;
    await b!.recover();
    const onB = b!.get(session.id)!;
    await onB.send("second");
    await waitFor(() => completed(onB) === 2, "B's turn");
    // Whatever A does now, the worker saw each prompt once.
    await waitFor(() => changes.some((change) => change.kind === "lost" && change.instanceId === "instance-0"), "A's renewal to fail");
    expect(received(onB)).toEqual(["first", "second"]);
    await onB.close();
  });

  test("fair pick-up: orphaned sessions are shared among the live instances, up to maxConcurrent", async () => {
    const [a] = await cluster(1);
    const sessions = await Promise.all(Array.from({ length: 12 }, (_, index) => a!.start({ repository: { owner: "octo", name: `orphan-${index}` } })));
    await waitFor(() => sessions.every((session) => session.state === "ready"), "all ready");
    await a!.close();
    const b = member("instance-b", { maxConcurrent: 4 });
    const c = member("instance-c");
    const d = member("instance-d");
    await waitFor(() => b.sessions.length + c.sessions.length + d.sessions.length === 12, "all picked up", 10_000);
    expect(b.sessions.length).toBeLessThanOrEqual(4);
    expect(c.sessions.length).toBeLessThanOrEqual(6);
    expect(d.sessions.length).toBeLessThanOrEqual(6);
  });

  test("cluster mode needs coordination in the store, and checks its options", async () => {
    await cluster(0);
    const bare: EventStore = { ...store, coordination: undefined };
    expect(() => createEngine({ runtimeUrl: sim.url, store: bare, cluster: {} })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    for (const bad of [{ leaseTtlMs: 10 }, { pollMs: 0 }, { instanceId: " " }]) {
      let error: unknown;
      try {
        createEngine({ runtimeUrl: sim.url, store, cluster: bad });
      } catch (caught) {
        error = caught;
      }
      expect(isEngineError(error, "INVALID_ARGUMENT")).toBe(true);
    }
  });

  test("resume of a session whose lease another instance holds gives a follower; of a free one, ownership", async () => {
    const [a, b] = await cluster(2);
    const session = await a!.start({ repository, prompts: ["x"] });
    await waitFor(() => completed(session) === 1, "the turn");
    const lease: Lease | null = await store.coordination!.acquire(session.id, "someone-else", leaseTtlMs);
    expect(lease).toBeNull();
    const follower = await b!.resume(session.id);
    expect(ownersOf(session.id)).toEqual(["instance-0"]);
    expect(follower.snapshot().context.prompts).toHaveLength(1);
    await a!.close();
    // A gave the lease back: B's pick-up takes it, and the same handle now belongs to the owner.
    await waitFor(() => ownersOf(session.id).includes("instance-1"), "B to take over");
    await follower.send("y");
    await waitFor(() => completed(follower) === 2, "the turn on B");
    expect(received(follower)).toEqual(["x", "y"]);
    await follower.close();
  });
});
