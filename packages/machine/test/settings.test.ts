import { describe, expect, test } from "vitest";
import { checkSettings, defaultSessionSettings, resolveSettings } from "../src/index.js";

describe("checkSettings", () => {
  test("the defaults and ordinary limits pass", () => {
    expect(checkSettings(defaultSessionSettings)).toEqual({ ok: true });
    expect(checkSettings(resolveSettings({ turnStallTimeoutMs: 0.5, retry: { maxAttempts: 1, initialDelayMs: 0, jitter: 1 } }))).toEqual({ ok: true });
  });

  test.each([
    [resolveSettings({ reservationTimeoutMs: -1 }), "reservationTimeoutMs"],
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
