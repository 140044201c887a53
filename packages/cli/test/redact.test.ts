import { PromptList } from "@cloudsession/machine";
import { describe, expect, test } from "vitest";
import { redact, REDACTED } from "../src/inspector/redact.js";

describe("redact", () => {
  test("prompt bodies, replies and secrets go; ids, states and times stay", () => {
    const value = {
      type: "prompt.submitted",
      promptId: "p1",
      text: "deploy with ghp_abcdefghijklmnopqrstuvwxyz0123",
      at: 5,
      context: { prompts: [{ id: "p1", text: "secret plan", reply: "the answer", status: "completed" }], connectionToken: "t0k" },
      message: "failed: Bearer abc.def.ghi and github_pat_ABCDEFGHIJKLMNOPQRSTUVWX_1234",
    };
    const result = redact(value);
    expect(result).toEqual({
      type: "prompt.submitted",
      promptId: "p1",
      text: REDACTED,
      at: 5,
      context: { prompts: [{ id: "p1", text: REDACTED, reply: REDACTED, status: "completed" }], connectionToken: REDACTED },
      message: `failed: ${REDACTED} and ${REDACTED}`,
    });
  });
  test("a session's prompt list is redacted as the array of prompts it holds, not as its inner nodes", () => {
    const prompts = PromptList.from(Array.from({ length: 40 }, (_, index) => ({ id: `p${index}`, text: `secret ${index}`, status: "completed" as const, submittedAt: index, reply: "the answer" })));
    const result = redact({ context: { prompts } }) as { context: { prompts: unknown } };
    expect(result.context.prompts).toEqual(Array.from({ length: 40 }, (_, index) => ({ id: `p${index}`, text: REDACTED, status: "completed", submittedAt: index, reply: REDACTED })));
  });
  test("cycles are cut instead of recursing forever", () => {
    const cyclic: Record<string, unknown> = { id: "a" };
    cyclic["self"] = cyclic;
    expect(redact(cyclic)).toEqual({ id: "a", self: REDACTED });
  });
});
