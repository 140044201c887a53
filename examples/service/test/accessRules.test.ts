import { describe, expect, test } from "vitest";
import { createHostCheck, createOriginPolicy, isLoopbackHost, isServiceError } from "../src/index.js";

describe("loopback binds", () => {
  test.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["::ffff:10.0.0.1", false],
    ["fe80::1%eth0", false],
    ["api.example.com", false],
  ])("%s → %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe("the Host allow-list", () => {
  const allows = createHostCheck(["api.example.com"]);
  test.each([
    ["localhost:3000", true],
    ["127.0.0.1:3000", true],
    ["[::1]:3000", true],
    ["10.0.0.5:3000", true], // an IP literal: no name to rebind
    ["api.example.com", true],
    ["API.Example.com.:443", true],
    ["evil.example:3000", false],
    ["api.example.com.evil.example", false],
    ["localhost.evil.example", false],
    ["user@127.0.0.1", false],
    ["127.0.0.1 evil", false],
    ["", false],
  ])("%s → %s", (host, allowed) => {
    expect(allows(host)).toBe(allowed);
  });
  test("no Host at all is refused; an entry that is not a host name is a configuration error", () => {
    expect(allows(undefined)).toBe(false);
    for (const entry of ["https://api.example.com", "api.example.com:443", "*.example.com", "a/b"]) {
      expect(() => createHostCheck([entry]), entry).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }) as Error);
    }
  });
});

describe("the origin policy", () => {
  const policy = createOriginPolicy(["https://app.example.com", "http://localhost:5173/"]);
  test("CORS only for the configured origins", () => {
    expect(policy.corsAllows("https://app.example.com")).toBe(true);
    expect(policy.corsAllows("http://localhost:5173")).toBe(true);
    expect(policy.corsAllows("https://evil.example")).toBe(false);
    expect(policy.corsAllows("null")).toBe(false);
    expect(createOriginPolicy([]).corsAllows("https://app.example.com")).toBe(false);
  });
  test("state changes from the configured origins and from the service's own origin only", () => {
    expect(policy.mayChangeState("https://app.example.com", "api.example.com")).toBe(true);
    expect(policy.mayChangeState("https://api.example.com", "api.example.com")).toBe(true); // same origin
    expect(policy.mayChangeState("https://api.example.com", "api.example.com:443")).toBe(true);
    expect(policy.mayChangeState("http://127.0.0.1:3000", "127.0.0.1:3000")).toBe(true);
    expect(policy.mayChangeState("http://127.0.0.1:3001", "127.0.0.1:3000")).toBe(false); // another page on this machine
    expect(policy.mayChangeState("https://evil.example", "api.example.com")).toBe(false);
    expect(policy.mayChangeState("null", "api.example.com")).toBe(false);
    expect(policy.mayChangeState("https://api.example.com", undefined)).toBe(false);
  });
  test("entries are origins, never `*` or a URL with a path", () => {
    for (const entry of ["*", "https://app.example.com/path", "app.example.com", "ftp://app.example.com", "https://user@app.example.com"]) {
      let error: unknown;
      try {
        createOriginPolicy([entry]);
      } catch (caught) {
        error = caught;
      }
      expect(isServiceError(error, "INVALID_CONFIG"), entry).toBe(true);
    }
  });
});
