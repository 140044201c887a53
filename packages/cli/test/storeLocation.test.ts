import { describe, expect, test } from "vitest";
import { openStoreAt, resolveStoreLocation } from "../src/storeLocation.js";

describe("resolveStoreLocation", () => {
  test("the default is the embedded store in the XDG data directory", () => {
    const saved = process.env["XDG_DATA_HOME"];
    process.env["XDG_DATA_HOME"] = "/tmp/xdg-data";
    try {
      expect(resolveStoreLocation(undefined, {})).toEqual({ spec: "/tmp/xdg-data/cloudsession/store", label: "/tmp/xdg-data/cloudsession/store", kind: "pglite", isDefault: true });
    } finally {
      if (saved === undefined) delete process.env["XDG_DATA_HOME"];
      else process.env["XDG_DATA_HOME"] = saved;
    }
  });
  test("--store wins over CLOUDSESSION_STORE; postgres URLs hide their password", () => {
    expect(resolveStoreLocation("memory:", { CLOUDSESSION_STORE: "/x" }).kind).toBe("memory");
    expect(resolveStoreLocation(undefined, { CLOUDSESSION_STORE: "/x" })).toMatchObject({ spec: "/x", kind: "pglite", isDefault: false });
    const pg = resolveStoreLocation("postgres://me:secret@db:5432/app", {});
    expect(pg).toMatchObject({ kind: "postgres", spec: "postgres://me:secret@db:5432/app" });
    expect(pg.label).not.toContain("secret");
  });
  test("a secret in the query is masked too, in the label and in the error that cannot open it", async () => {
    const location = resolveStoreLocation("postgres://u@127.0.0.1:1/x?sslmode=disable&password=SECRET", {});
    expect(location.label).toBe("postgres://u@127.0.0.1:1/x?sslmode=disable&password=***");
    const error = await openStoreAt(location).then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );
    expect(error?.message).toMatch(/^cannot open the store at postgres:\/\/u@127\.0\.0\.1:1\/x\?sslmode=disable&password=\*\*\*: /);
    expect(error?.message).not.toContain("SECRET");
  });
});
