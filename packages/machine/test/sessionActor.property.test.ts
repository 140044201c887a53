import { fc } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { createActor } from "xstate";
import { createSessionActor, sessionMachine, type SessionSnapshot } from "../src/index.js";
import { happeningsArb, input, numRuns, observable, simulate } from "./harness.js";

interface Seen {
  readonly snapshots: SessionSnapshot[];
  completed: number;
}

function watch(actor: { subscribe(observer: { next: (snapshot: SessionSnapshot) => void; complete: () => void }): unknown }): Seen {
  const seen: Seen = { snapshots: [], completed: 0 };
  actor.subscribe({ next: (snapshot) => seen.snapshots.push(snapshot), complete: () => (seen.completed += 1) });
  return seen;
}

describe("createSessionActor: the light actor is an XState actor, minus the memory", () => {
  test("after every event of any run (events after the end included) it has the XState actor's snapshot, and tells observers the same", () => {
    fc.assert(
      fc.property(happeningsArb({ crash: 0 }), fc.constantFrom<"close" | "wait" | "none">("close", "wait", "none"), (happenings, finish) => {
        const run = simulate(happenings, { finish });
        const light = createSessionActor(input);
        const reference = createActor(sessionMachine, { input }).start();
        const lightSeen = watch(light);
        const referenceSeen = watch(reference);
        expect(observable(light.getSnapshot())).toEqual(observable(reference.getSnapshot()));
        for (const event of [...run.log.slice(1), ...run.trailing]) {
          if (event.type === "session.requested") continue;
          light.send(event);
          // A stopped XState actor ignores the event too (with a warning, so it is not sent one).
          if (reference.getSnapshot().status === "active") reference.send(event);
          expect(observable(light.getSnapshot())).toEqual(observable(reference.getSnapshot()));
        }
        expect(lightSeen.snapshots.map(observable)).toEqual(referenceSeen.snapshots.map(observable));
        expect(lightSeen.completed).toBe(referenceSeen.completed);
      }),
      { numRuns },
    );
  });
});
