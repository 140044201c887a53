import { EngineError } from "@cloudsession/engine";
import { StoreError } from "@cloudsession/store";
import { describe, expect, test } from "vitest";
import { errorAnswer, HttpError } from "../src/index.js";

// The mapping of every code, one by one; the refusals themselves are provoked over real HTTP in
// intakeLimits.e2e (413, 429), storeRefusal.e2e (503) and failures.e2e (500).
describe("errorAnswer", () => {
  test("QUEUE_FULL and ENGINE_BUSY are 429 with Retry-After from retryAfterMs, rounded up to seconds (1 s without one)", () => {
    expect(errorAnswer(new EngineError("QUEUE_FULL", "full", { retryAfterMs: 1_500 }))).toMatchObject({ statusCode: 429, code: "QUEUE_FULL", retryAfterSeconds: 2 });
    expect(errorAnswer(new EngineError("QUEUE_FULL", "full", { retryAfterMs: 10 }))).toMatchObject({ retryAfterSeconds: 1 });
    expect(errorAnswer(new EngineError("ENGINE_BUSY", "busy"))).toMatchObject({ statusCode: 429, code: "ENGINE_BUSY", retryAfterSeconds: 1 });
  });

  test("PROMPT_TOO_LARGE is 413; STORE_UNAVAILABLE 503 with Retry-After when the engine gives one", () => {
    expect(errorAnswer(new EngineError("PROMPT_TOO_LARGE", "too large"))).toMatchObject({ statusCode: 413, code: "PROMPT_TOO_LARGE", internal: false });
    expect(errorAnswer(new EngineError("STORE_UNAVAILABLE", "pg said ECONNREFUSED at 10.0.0.3", { retryAfterMs: 2_000 }))).toEqual({ statusCode: 503, code: "STORE_UNAVAILABLE", message: "the event store is unavailable; retry later", retryAfterSeconds: 2, internal: true });
    expect(errorAnswer(new EngineError("STORE_UNAVAILABLE", "down"))).not.toHaveProperty("retryAfterSeconds");
  });

  test("a 5xx tells what kind of failure, never the details", () => {
    const damaged = errorAnswer(new EngineError("CORRUPTED_LOG", "session s: versions 5 and 7 missing in schema app_prod"));
    expect(damaged).toMatchObject({ statusCode: 500, code: "CORRUPTED_LOG", internal: true });
    expect(damaged.message).not.toContain("app_prod");
    expect(errorAnswer(new StoreError("CORRUPTED_EVENT", "corrupted event s@3: data is not valid JSON"))).toMatchObject({ statusCode: 500, code: "CORRUPTED_LOG" });
    expect(errorAnswer(new StoreError("STORE_CLOSED", "closed"))).toMatchObject({ statusCode: 503, code: "STORE_UNAVAILABLE" });
    expect(errorAnswer(new Error('invalid byte sequence for encoding "UTF8": 0x00'))).toEqual({ statusCode: 500, code: "INTERNAL", message: "internal error", internal: true });
    expect(errorAnswer("a string")).toMatchObject({ statusCode: 500, code: "INTERNAL" });
  });

  test("the service's own refusals keep their code and Retry-After", () => {
    expect(errorAnswer(new HttpError(429, "TOO_MANY_EVENT_STREAMS", "…", { retryAfterSeconds: 5 }))).toMatchObject({ statusCode: 429, code: "TOO_MANY_EVENT_STREAMS", retryAfterSeconds: 5, internal: false });
  });
});
