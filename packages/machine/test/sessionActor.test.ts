import { afterEach, describe, expect, test, vi } from "vitest";
import type { InspectionEvent } from "xstate";
import { createSessionActor, lifecycleState, type SessionEvent, type SessionSnapshot } from "../src/index.js";
import { input } from "./harness.js";

describe("createSessionActor", () => {
  test("tells observers every processed event, then completes them at the final state and ignores what follows", () => {
    const actor = createSessionActor(input);
    const states: string[] = [];
    let completed = 0;
    actor.subscribe({ next: (snapshot) => states.push(lifecycleState(snapshot)), complete: () => (completed += 1) });
    actor.send({ type: "prompt.submitted", promptId: "p1", text: "hi", at: 1 });
    actor.send({ type: "prompt.submitted", promptId: "p1", text: "hi", at: 2 }); // a duplicate changes nothing, and is still told
    actor.send({ type: "close.requested", at: 3 });
    actor.send({ type: "prompt.submitted", promptId: "p2", text: "late", at: 4 });
    expect(states).toEqual(["reserving", "reserving", "closed"]);
    expect(completed).toBe(1);
    expect(actor.getSnapshot().status).toBe("done");
    expect(actor.getSnapshot().context.prompts.map((prompt) => prompt.id)).toEqual(["p1"]);
    expect(actor.getSnapshot().output?.state).toBe("closed");
  });

  test("a subscriber after the end is completed at once; an unsubscribed one hears nothing more", () => {
    const actor = createSessionActor(input);
    const heard: string[] = [];
    const subscription = actor.subscribe({ next: (snapshot) => heard.push(lifecycleState(snapshot)) });
    actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 1 });
    subscription.unsubscribe();
    actor.send({ type: "close.requested", at: 2 });
    expect(heard).toEqual(["awaiting-agent"]);
    let completed = false;
    actor.subscribe({ complete: () => (completed = true) });
    expect(completed).toBe(true);
  });

  test("an event sent from inside an observer waits until the current one is done, as in an XState actor", () => {
    const actor = createSessionActor(input);
    const order: string[] = [];
    actor.subscribe({
      next: (snapshot: SessionSnapshot) => {
        order.push(lifecycleState(snapshot));
        if (lifecycleState(snapshot) === "awaiting-agent") actor.send({ type: "agent.started", producer: "copilot-agent", at: 2 });
      },
    });
    actor.subscribe({ next: (snapshot) => order.push(`second:${lifecycleState(snapshot)}`) });
    actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 1 });
    expect(order).toEqual(["awaiting-agent", "second:awaiting-agent", "ready", "second:ready"]);
  });

  test("with `inspect` it is a full XState actor, so the inspector sees it", () => {
    const inspected: InspectionEvent[] = [];
    const actor = createSessionActor(input, { inspect: (event) => inspected.push(event) });
    actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 1 });
    expect(lifecycleState(actor.getSnapshot())).toBe("awaiting-agent");
    expect(inspected.some((event) => event.type === "@xstate.event" && event.event.type === "reservation.succeeded")).toBe(true);
  });

  describe("a transition that throws (here: an event whose field cannot be read)", () => {
    const problem = new Error("unreadable reason");
    const throwing = { type: "close.requested", at: 5, get reason(): string { throw problem; } } as SessionEvent;

    /**
     * Catches what the actor rethrows apart (on a microtask, as XState does) instead of letting it
     * reach the test runner as an uncaught error; the returned function runs those tasks and gives
     * what they threw.
     */
    function catchRethrown(): () => unknown[] {
      const tasks: (() => void)[] = [];
      vi.spyOn(globalThis, "queueMicrotask").mockImplementation((task) => void tasks.push(task));
      return () =>
        tasks.splice(0).flatMap((task) => {
          try {
            task();
            return [];
          } catch (error) {
            return [error];
          }
        });
    }
    afterEach(() => {
      vi.restoreAllMocks();
    });

    test("leaves the actor stopped in an error snapshot, tells the observers' error callbacks, and ignores later events", () => {
      const rethrown = catchRethrown();
      const actor = createSessionActor(input);
      const told: unknown[] = [];
      const nexts: string[] = [];
      actor.subscribe({ next: (snapshot) => nexts.push(lifecycleState(snapshot)), error: (error) => told.push(error) });
      actor.send(throwing);
      expect(actor.getSnapshot()).toMatchObject({ status: "error", error: problem });
      expect(told).toEqual([problem]);
      expect(nexts).toEqual([]);
      actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 6 });
      expect(lifecycleState(actor.getSnapshot())).toBe("reserving");
      const late: unknown[] = [];
      actor.subscribe({ error: (error) => late.push(error), complete: () => late.push("complete") });
      expect(late).toEqual([problem]);
      expect(rethrown()).toEqual([]);
    });

    test("an error no observer takes is rethrown apart, once", () => {
      const rethrown = catchRethrown();
      createSessionActor(input).send(throwing);
      expect(rethrown()).toEqual([problem]);

      const actor = createSessionActor(input);
      const told: unknown[] = [];
      actor.subscribe({ error: (error) => told.push(error) });
      actor.subscribe({ next: () => undefined });
      actor.send(throwing);
      expect(told).toEqual([problem]);
      expect(rethrown()).toEqual([problem]);
    });

    test("an observer that throws does not keep the others from being told; its error is rethrown apart", () => {
      const rethrown = catchRethrown();
      const actor = createSessionActor(input);
      const observerFault = new Error("observer fault");
      const heard: string[] = [];
      actor.subscribe({
        next: () => {
          throw observerFault;
        },
      });
      actor.subscribe({ next: (snapshot) => heard.push(lifecycleState(snapshot)), complete: () => heard.push("complete") });
      actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 1 });
      actor.send({ type: "close.requested", at: 2 });
      expect(heard).toEqual(["awaiting-agent", "closed", "complete"]);
      expect(rethrown()).toEqual([observerFault, observerFault]);
    });
  });
});
