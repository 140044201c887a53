import { ANY, NO_STREAM, STREAM_EXISTS, StoreError, isExpectedVersion, isStoreError, matchesExpectedVersion } from "@cloudsession/store";
import { describe, expect, it } from "vitest";

describe("StoreError", () => {
  it("carries a stable code, details and the cause", () => {
    const cause = new Error("driver said no");
    const error = new StoreError("VERSION_CONFLICT", "conflict", { cause, details: { streamId: "s", actualVersion: 2 } });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("StoreError");
    expect(error.code).toBe("VERSION_CONFLICT");
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ streamId: "s", actualVersion: 2 });
  });

  it("isStoreError narrows by code and recognizes copies from another module instance", () => {
    const error = new StoreError("STORE_CLOSED", "closed");
    expect(isStoreError(error)).toBe(true);
    expect(isStoreError(error, "STORE_CLOSED")).toBe(true);
    expect(isStoreError(error, "VERSION_CONFLICT")).toBe(false);
    expect(isStoreError(new Error("x"))).toBe(false);
    expect(isStoreError(null)).toBe(false);
    expect(isStoreError({ name: "StoreError", code: "CORRUPTED_EVENT", message: "" }, "CORRUPTED_EVENT")).toBe(true);
  });
});

describe("expected versions", () => {
  it.each([
    [0, NO_STREAM, true],
    [1, NO_STREAM, false],
    [0, STREAM_EXISTS, false],
    [3, STREAM_EXISTS, true],
    [0, ANY, true],
    [7, ANY, true],
    [2, 2, true],
    [2, 1, false],
    [0, 0, true],
  ] as const)("version %s vs %s → %s", (current, expected, result) => {
    expect(matchesExpectedVersion(current, expected)).toBe(result);
  });

  it("validates input", () => {
    for (const good of [NO_STREAM, STREAM_EXISTS, ANY, 0, 5]) expect(isExpectedVersion(good)).toBe(true);
    for (const bad of [-1, 1.5, Number.NaN, "5", null, undefined, 2 ** 60]) expect(isExpectedVersion(bad)).toBe(false);
  });
});
