import { isStoreError } from "@cloudsession/store";
import { describe, expect, test } from "vitest";
import { SessionLease } from "../../src/sessionLease.js";
import { FakeOwnership } from "./fakes.js";

describe("SessionLease on a single instance (no ownership)", () => {
  test("always holds, fences nothing, and losing it tells no one", () => {
    const lease = new SessionLease(undefined, "s1");
    expect(lease.holds()).toBe(true);
    expect(lease.fence()).toBeUndefined();
    expect(() => lease.lost()).not.toThrow();
  });
});

describe("SessionLease in a cluster", () => {
  test("without a lease it does not hold, and does not ask the cluster", () => {
    const ownership = new FakeOwnership();
    const lease = new SessionLease(ownership, "s1");
    expect(lease.holds()).toBe(false);
    expect(ownership.mayActAsked).toEqual([]);
  });

  test("fence() without a lease throws StoreError LEASE_LOST naming the stream: nothing is written without one", () => {
    const lease = new SessionLease(new FakeOwnership(), "s1");
    let thrown: unknown;
    try {
      lease.fence();
    } catch (error) {
      thrown = error;
    }
    expect(isStoreError(thrown, "LEASE_LOST")).toBe(true);
    expect((thrown as { details?: unknown }).details).toEqual({ streamId: "s1" });
  });

  test("with a lease, holds() asks the cluster with the session's key and the lease's token", () => {
    const ownership = new FakeOwnership();
    const lease = new SessionLease(ownership, "s1");
    lease.actUnder({ owner: "instance-a", token: 7 });
    expect(lease.holds()).toBe(true);
    ownership.acting = false; // lapsed by the local clock, or replaced
    expect(lease.holds()).toBe(false);
    expect(ownership.mayActAsked).toEqual([
      { sessionKey: "s1", token: 7 },
      { sessionKey: "s1", token: 7 },
    ]);
  });

  test("fence() carries only the lease's owner and token", () => {
    const lease = new SessionLease(new FakeOwnership(), "s1");
    const granted = { owner: "instance-a", token: 7, expiresAt: 123 };
    lease.actUnder(granted);
    granted.token = 8; // the caller's object is not shared
    expect(lease.fence()).toStrictEqual({ owner: "instance-a", token: 7 });
  });

  test("lost() passes the lease's token, so a stale report changes nothing for a newer lease", () => {
    const ownership = new FakeOwnership();
    const lease = new SessionLease(ownership, "s1");
    lease.actUnder({ owner: "instance-a", token: 7 });
    lease.lost();
    expect(ownership.lostCalls).toEqual([{ sessionKey: "s1", token: 7 }]);
  });

  test("lost() without a lease passes no token", () => {
    const ownership = new FakeOwnership();
    new SessionLease(ownership, "s1").lost();
    expect(ownership.lostCalls).toEqual([{ sessionKey: "s1", token: undefined }]);
  });
});
