import { fc } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { replay } from "../src/index.js";
import { happeningsArb, invariant, numRuns, observable, sameSnapshot, simulate, type Happening } from "./harness.js";

describe("property 6: replay of the log equals the live snapshot", () => {
  test("after any interleaving, replay(log) deep-equals the live value, status, context and output", () => {
    fc.assert(
      fc.property(happeningsArb(), fc.constantFrom<"close" | "wait" | "none">("close", "wait", "none"), (happenings, finish) => {
        const run = simulate(happenings, { finish });
        expect(observable(replay(run.log))).toEqual(observable(run.final));
      }),
      { numRuns },
    );
  });

  test("replaying any prefix of a log gives the snapshot the live actor had at that point", () => {
    fc.assert(
      fc.property(happeningsArb(), fc.nat(), (happenings, cut) => {
        const run = simulate(happenings, { finish: "none" });
        const end = cut % run.log.length;
        expect(observable(replay(run.log.slice(0, end + 1)))).toEqual(observable(run.snapshots[end]!));
      }),
      { numRuns },
    );
  });
});

describe("crashes: a restart from replay(log) is invisible", () => {
  test("a run with restarts at random points ends exactly like the same run without them", () => {
    let crashed = 0;
    fc.assert(
      fc.property(happeningsArb({ crash: 6 }), (happenings) => {
        // simulate() checks replay(log) against the live snapshot at every crash, and every invariant after.
        const withCrashes = simulate(happenings);
        const without = simulate(happenings.filter((happening: Happening) => happening.kind !== "crash"));
        if (withCrashes.crashes > 0) crashed += 1;
        invariant(sameSnapshot(withCrashes.final, without.final), "same final snapshot");
        expect(withCrashes.log).toEqual(without.log);
        expect(observable(replay(withCrashes.log))).toEqual(observable(withCrashes.final));
      }),
      { numRuns },
    );
    expect(crashed).toBeGreaterThan(numRuns / 3);
  });
});
