import type { SessionOutcome } from "@cloudsession/machine";
import { describe, expect, test } from "vitest";
import { ExitCode, exitCodeForOutcome } from "../src/exitCodes.js";

const prompt = (status: "completed" | "undelivered" | "interrupted") => ({ id: "p", text: "t", status, submittedAt: 0 });
const outcome = (partial: Partial<SessionOutcome>): SessionOutcome => ({ state: "closed", failure: null, closeReason: null, prompts: [], ...partial });

describe("exitCodeForOutcome", () => {
  test("closed with every prompt completed is success", () => {
    expect(exitCodeForOutcome(outcome({ prompts: [prompt("completed")] }))).toBe(ExitCode.success);
  });
  test("closed with a prompt lost is failed", () => {
    expect(exitCodeForOutcome(outcome({ prompts: [prompt("completed"), prompt("interrupted")] }))).toBe(ExitCode.failed);
  });
  test("blocked, timed out and other failures each have their code", () => {
    expect(exitCodeForOutcome(outcome({ state: "blocked", failure: { phase: "reserving", reason: "policy_blocked", message: "" } }))).toBe(3);
    expect(exitCodeForOutcome(outcome({ state: "failed", failure: { phase: "awaiting-agent", reason: "timeout", message: "" } }))).toBe(4);
    expect(exitCodeForOutcome(outcome({ state: "failed", failure: { phase: "streaming", reason: "turn-stalled", message: "" } }))).toBe(4);
    expect(exitCodeForOutcome(outcome({ state: "failed", failure: { phase: "ready", reason: "session-error", message: "" } }))).toBe(5);
    // Out of contact past the limit is no time-out of the session's own: the runtime was away.
    expect(exitCodeForOutcome(outcome({ state: "failed", failure: { phase: "streaming", reason: "runtime-unreachable", message: "" } }))).toBe(5);
    expect(exitCodeForOutcome(outcome({ state: "failed", failure: { phase: "reserving", reason: "retries-exhausted", message: "" } }))).toBe(5);
  });
});
