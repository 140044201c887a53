import { describe, expect, test } from "vitest";
import { checkSettings, defaultSessionSettings, resolveSettings } from "../src/index.js";

describe("checkSettings", () => {
  test("the defaults and ordinary limits pass", () => {
    expect(checkSettings(defaultSessionSettings)).toEqual({ ok: true });
    expect(checkSettings(resolveSettings({ turnStallTimeoutMs: 0.5, retry: { maxAttempts: 1, initialDelayMs: 0, jitter: 1 } }))).toEqual({ ok: true });
  });

  test("the edges that pass: no jitter, jitter 1, a multiplier of 1, one attempt, no delay", () => {
    expect(checkSettings(resolveSettings({ retry: { jitter: 0 } }))).toEqual({ ok: true });
    expect(checkSettings(resolveSettings({ retry: { jitter: 1, multiplier: 1, maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } }))).toEqual({ ok: true });
  });

  // A deadline of 0 ms would be due the moment it is armed: every time limit must be > 0.
  test.each(["reservationTimeoutMs", "agentStartTimeoutMs", "turnStallTimeoutMs", "unreachableTimeoutMs"] as const)("a %s of 0 ms is refused", (setting) => {
    expect(checkSettings(resolveSettings({ [setting]: 0 }))).toMatchObject({ ok: false, setting });
  });

  test.each([
    [resolveSettings({ reservationTimeoutMs: -1 }), "reservationTimeoutMs"],
    [resolveSettings({ unreachableTimeoutMs: Number.NaN }), "unreachableTimeoutMs"],
    [resolveSettings({ retry: { maxAttempts: 0 } }), "retry.maxAttempts"],
    [resolveSettings({ retry: { jitter: -0.1 } }), "retry.jitter"],
    [resolveSettings({ retry: { jitter: 1.1 } }), "retry.jitter"],
    [resolveSettings({ retry: { multiplier: 0.99 } }), "retry.multiplier"],
    [resolveSettings({ agentStartTimeoutMs: Number.POSITIVE_INFINITY }), "agentStartTimeoutMs"],
    [resolveSettings({ turnStallTimeoutMs: Number.NaN }), "turnStallTimeoutMs"],
    [resolveSettings({ retry: { maxAttempts: 1.5 } }), "retry.maxAttempts"],
    [resolveSettings({ retry: { initialDelayMs: -5 } }), "retry.initialDelayMs"],
    [resolveSettings({ retry: { maxDelayMs: Number.POSITIVE_INFINITY } }), "retry.maxDelayMs"],
    [resolveSettings({ retry: { multiplier: 0.5 } }), "retry.multiplier"],
    [resolveSettings({ retry: { jitter: Number.NaN } }), "retry.jitter"],
  ])("%j is refused, naming %s", (settings, setting) => {
    const check = checkSettings(settings);
    expect(check).toMatchObject({ ok: false, setting });
    if (!check.ok) expect(check.message).toMatch(new RegExp(`^${setting.replace(".", "\\.")} must be`));
  });
});
