import { createSessionActor, lifecycleState, resolveSettings, type SessionSnapshot } from "@cloudsession/machine";
import { Subject } from "rxjs";
import { describe, expect, test } from "vitest";
import { snapshots, type SnapshotSource } from "../src/index.js";

const input = { repository: { owner: "octo", name: "demo" }, settings: resolveSettings(), requestedAt: 0 } as const;

/** Everything an observable told, in order. */
function record(source: SnapshotSource) {
  const seen = { values: [] as string[], completed: false, error: undefined as unknown };
  const subscription = snapshots(source).subscribe({
    next: (snapshot) => seen.values.push(`${lifecycleState(snapshot)}:${snapshot.status}`),
    error: (error: unknown) => (seen.error = error),
    complete: () => (seen.completed = true),
  });
  return { seen, subscription };
}

/** A source that counts what is asked of it, around a real session actor. */
function counted(actor: SnapshotSource) {
  const counts = { subscribed: 0, unsubscribed: 0 };
  const source: SnapshotSource = {
    getSnapshot: () => actor.getSnapshot(),
    subscribe: (observer) => {
      counts.subscribed++;
      const subscription = actor.subscribe(observer);
      return { unsubscribe: () => (counts.unsubscribed++, subscription.unsubscribe()) };
    },
  };
  return { source, counts };
}

describe("snapshots: a session actor's snapshots as an observable", () => {
  test("the current snapshot at once, then every change; completes when the session reaches a final state", () => {
    const actor = createSessionActor(input);
    const { seen } = record(actor);
    expect(seen.values).toEqual(["reserving:active"]);
    actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 1 });
    expect(seen.completed).toBe(false);
    actor.send({ type: "close.requested", at: 2 });
    expect(seen.values).toEqual(["reserving:active", "awaiting-agent:active", "closed:done"]);
    expect(seen.completed).toBe(true);
  });

  test("a session already final: its snapshot, then complete, without subscribing to the stopped actor", () => {
    const actor = createSessionActor(input);
    actor.send({ type: "close.requested", at: 1 });
    const { source, counts } = counted(actor);
    const { seen } = record(source);
    expect(seen).toEqual({ values: ["closed:done"], completed: true, error: undefined });
    expect(counts.subscribed).toBe(0);
  });

  test("completes on a final snapshot even from a source that does not complete by itself", () => {
    const actor = createSessionActor(input);
    const changes = new Subject<SessionSnapshot>();
    const { seen } = record({ getSnapshot: () => actor.getSnapshot(), subscribe: (observer) => changes.subscribe({ next: observer.next }) });
    actor.send({ type: "close.requested", at: 1 });
    changes.next(actor.getSnapshot());
    expect(seen).toEqual({ values: ["reserving:active", "closed:done"], completed: true, error: undefined });
  });

  test("passes the source's error and completion through", () => {
    const actor = createSessionActor(input);
    const failing = new Subject<SessionSnapshot>();
    const failed = record({ getSnapshot: () => actor.getSnapshot(), subscribe: (observer) => failing.subscribe(observer) });
    const problem = new Error("actor failed");
    failing.error(problem);
    expect(failed.seen).toEqual({ values: ["reserving:active"], completed: false, error: problem });

    const ending = new Subject<SessionSnapshot>();
    const ended = record({ getSnapshot: () => actor.getSnapshot(), subscribe: (observer) => ending.subscribe(observer) });
    ending.complete();
    expect(ended.seen).toEqual({ values: ["reserving:active"], completed: true, error: undefined });
  });

  test("unsubscribing lets go of the actor: its later changes are not delivered and its observer is removed", () => {
    const actor = createSessionActor(input);
    const { source, counts } = counted(actor);
    const { seen, subscription } = record(source);
    subscription.unsubscribe();
    actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 1 });
    expect(seen.values).toEqual(["reserving:active"]);
    expect(counts).toEqual({ subscribed: 1, unsubscribed: 1 });
  });
});
