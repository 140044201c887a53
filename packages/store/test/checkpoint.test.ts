import { START, checkpointOf, compareCheckpoints, isCheckpoint, parseCheckpoint } from "@cloudsession/store";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";

describe("checkpoints", () => {
  it("round-trips its parts, including xid8 values beyond 2^53", () => {
    const big = 2n ** 60n + 7n;
    expect(parseCheckpoint(checkpointOf({ transactionId: big, position: 12 }))).toEqual({ transactionId: big, position: 12 });
    expect(parseCheckpoint(START)).toEqual({ transactionId: 0n, position: 0 });
  });

  it("orders by transaction first, then position", () => {
    const a = checkpointOf({ transactionId: 10n, position: 99 });
    const b = checkpointOf({ transactionId: 11n, position: 1 });
    expect(compareCheckpoints(a, b)).toBeLessThan(0);
    expect(compareCheckpoints(b, a)).toBeGreaterThan(0);
    expect(compareCheckpoints(a, a)).toBe(0);
    expect(compareCheckpoints(START, a)).toBeLessThan(0);
  });

  it("rejects malformed checkpoints with INVALID_ARGUMENT", () => {
    for (const bad of ["", "1", "1/", "/1", "a/b", "1/2/3", "-1/2", "1/99999999999999999"]) {
      expect(isCheckpoint(bad)).toBe(false);
      expect(() => parseCheckpoint(bad)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }) as Error);
    }
  });

  test.prop([fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.nat()])(
    "compare agrees with lexicographic order of the parts",
    (t1, p1, t2, p2) => {
      const sign = Math.sign(compareCheckpoints(checkpointOf({ transactionId: t1, position: p1 }), checkpointOf({ transactionId: t2, position: p2 })));
      const expected = t1 !== t2 ? (t1 < t2 ? -1 : 1) : Math.sign(p1 - p2);
      expect(sign).toBe(expected);
    },
  );
});
