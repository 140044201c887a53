import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { checkPromptFitsBody, defaultLimits, defaultTimeouts, readConfig, resolveLimits, resolveTimeouts } from "../src/index.js";

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

describe("the engine's limits and timeouts, and the store's schema", () => {
  test("unset: none passed, so the engine's own defaults hold (one source of truth)", () => {
    const config = readConfig({});
    expect(config).toMatchObject({ engineLimits: {}, engineTimeouts: {}, maxConcurrent: undefined, schema: undefined });
  });

  test("each from its variable, a whole number above 0", () => {
    const config = readConfig({
      CLOUDSESSION_MAX_QUEUED_PROMPTS: "5000",
      CLOUDSESSION_MAX_PROMPT_BYTES: " 65536 ",
      CLOUDSESSION_MAX_WAITING_SESSIONS: "10",
      CLOUDSESSION_MAX_CONCURRENT: "8",
      CLOUDSESSION_AGENT_START_TIMEOUT_MS: "600000",
      CLOUDSESSION_DB_SCHEMA: "tenant_a",
    });
    expect(config.engineLimits).toEqual({ maxQueuedPrompts: 5_000, maxPromptBytes: 65_536, maxWaitingSessions: 10 });
    expect(config.engineTimeouts).toEqual({ agentStartTimeoutMs: 600_000 });
    expect(config).toMatchObject({ maxConcurrent: 8, schema: "tenant_a" });
    expect(readConfig({ CLOUDSESSION_MAX_WAITING_SESSIONS: "1" }).engineLimits).toEqual({ maxWaitingSessions: 1 });
  });

  test("refused at start: 0, negative, fractions, words; a schema that is not a plain identifier", () => {
    for (const value of ["0", "-1", "1.5", "1e3", "lots", "0x10"]) {
      expect(() => readConfig({ CLOUDSESSION_MAX_QUEUED_PROMPTS: value }), value).toThrow(expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringContaining("CLOUDSESSION_MAX_QUEUED_PROMPTS") as string }) as Error);
    }
    expect(() => readConfig({ CLOUDSESSION_TURN_STALL_TIMEOUT_MS: "0" })).toThrow(/CLOUDSESSION_TURN_STALL_TIMEOUT_MS/);
    for (const schema of ['a"b', "a b", "1abc", "x".repeat(64)]) expect(() => readConfig({ CLOUDSESSION_DB_SCHEMA: schema }), schema).toThrow(/CLOUDSESSION_DB_SCHEMA/);
  });

  test("a prompt limit the body limit could not carry is refused", () => {
    expect(() => checkPromptFitsBody(defaultLimits, defaultLimits.bodyBytes)).toThrow(/maxPromptBytes/);
    expect(() => checkPromptFitsBody(defaultLimits, defaultLimits.bodyBytes - 1)).not.toThrow();
    expect(() => checkPromptFitsBody(defaultLimits, undefined)).not.toThrow();
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
