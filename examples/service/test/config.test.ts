import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { defaultLimits, defaultTimeouts, readConfig, resolveLimits, resolveTimeouts } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "service-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("readConfig", () => {
  test("API tokens from CLOUDSESSION_API_TOKENS, comma-separated", () => {
    expect(readConfig({}).tokens).toEqual([]);
    expect(readConfig({ CLOUDSESSION_API_TOKENS: " tok_aaaaaaaaaaaaaaaa , tok_bbbbbbbbbbbbbbbb" }).tokens).toEqual(["tok_aaaaaaaaaaaaaaaa", "tok_bbbbbbbbbbbbbbbb"]);
  });

  test("or from a file, one a line, with comments; not both", () => {
    const file = join(dir, "tokens");
    writeFileSync(file, "# rotated 2025-01\ntok_aaaaaaaaaaaaaaaa\n\n  tok_bbbbbbbbbbbbbbbb  \n");
    expect(readConfig({ CLOUDSESSION_API_TOKENS_FILE: file }).tokens).toEqual(["tok_aaaaaaaaaaaaaaaa", "tok_bbbbbbbbbbbbbbbb"]);
    expect(() => readConfig({ CLOUDSESSION_API_TOKENS_FILE: file, CLOUDSESSION_API_TOKENS: "tok_aaaaaaaaaaaaaaaa" })).toThrow(/not both/);
    writeFileSync(join(dir, "empty"), "# nothing yet\n");
    expect(() => readConfig({ CLOUDSESSION_API_TOKENS_FILE: join(dir, "empty") })).toThrow(/holds no token/);
    expect(() => readConfig({ CLOUDSESSION_API_TOKENS_FILE: join(dir, "missing") })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }) as Error);
  });

  test("allowed hosts and origins, trust proxy, log level", () => {
    const config = readConfig({ CLOUDSESSION_ALLOWED_HOSTS: "api.example.com, api2.example.com", CLOUDSESSION_ALLOWED_ORIGINS: "https://app.example.com", CLOUDSESSION_TRUST_PROXY: "true", LOG_LEVEL: "warn" });
    expect(config).toMatchObject({ allowedHosts: ["api.example.com", "api2.example.com"], allowedOrigins: ["https://app.example.com"], trustProxy: true, logLevel: "warn" });
    expect(readConfig({ CLOUDSESSION_TRUST_PROXY: "10.0.0.0/8" }).trustProxy).toBe("10.0.0.0/8");
    expect(readConfig({}).trustProxy).toBeUndefined();
    expect(readConfig({}).logLevel).toBe("info");
    expect(() => readConfig({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
  });
});

describe("timeouts and limits", () => {
  test("defaults, and partial options over them", () => {
    expect(resolveTimeouts()).toEqual(defaultTimeouts);
    expect(resolveLimits({ connections: 10 })).toEqual({ ...defaultLimits, connections: 10 });
    expect(resolveLimits({ eventStreams: 4 })).toMatchObject({ eventStreams: 4, eventStreamsPerClient: 4 });
  });
  test("refused: not a whole positive number, headers after the request's end, heartbeats no more often than the idle cut", () => {
    expect(() => resolveTimeouts({ requestMs: 0 })).toThrow(/timeouts.requestMs/);
    expect(() => resolveLimits({ connections: 1.5 })).toThrow(/limits.connections/);
    expect(() => resolveTimeouts({ headersMs: 5_000, requestMs: 1_000 })).toThrow(/may not exceed/);
    expect(() => resolveTimeouts({ heartbeatMs: 60_000, idleMs: 60_000 })).toThrow(/below timeouts.idleMs/);
    expect(() => resolveLimits({ eventStreams: 4, eventStreamsPerClient: 5 })).toThrow(/may not exceed/);
  });
});
